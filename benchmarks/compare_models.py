"""Two or more models on the same images, paired: which strings each reads that the first does not.

    python benchmarks/compare_models.py --models ascii,results/cand/dev/crnn.onnx --sets ascii/dev/val \
        --partner digitseq/weights/ascii-h48.onnx --out results/cand/compare.json

Two models' accuracies on the same 1,000 strings differ by less than either's own noise (about ±1.6 points at
60 %): most strings both read right or both wrong, and only the strings where they disagree say which is better.
So each model after the first is compared with the first on every string: ``b`` strings the first reads right and
it wrong, ``c`` the other way round, the gain ``(c - b) / n``, and McNemar's exact one-sided p-value, the chance
of ``c`` or more of the ``b + c`` disagreements going its way if neither model were better (binomial, one half).
Per set and over all the sets together. Each set is read as ``digitseq evaluate`` reads it (the models' own
reading settings; ``--partner`` gives every model the same partner, as ``eval_sets.py --partner`` does).
"""

from __future__ import annotations

import argparse
import json
import sys
from math import comb
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT  # noqa: E402


def mcnemar_p(b: int, c: int) -> float:
    """P(at least ``c`` of ``b + c`` fair coin flips come up heads): the one-sided exact McNemar test that the
    second model reads more strings right than the first."""
    n = b + c
    return sum(comb(n, k) for k in range(c, n + 1)) / 2 ** n if n else 1.0


def paired(base: list[bool], other: list[bool]) -> dict:
    """The comparison of ``other`` with ``base``, string by string (both lists of right / wrong, same strings)."""
    if len(base) != len(other):
        raise ValueError(f"{len(base)} against {len(other)} strings: not the same set")
    b = sum(x and not y for x, y in zip(base, other))
    c = sum(y and not x for x, y in zip(base, other))
    n = len(base)
    return {"n": n, "base_right_only": b, "right_only": c, "gain": (c - b) / n if n else 0.0,
            "p_one_sided": mcnemar_p(b, c)}


def read_set(model, folder: Path) -> list[bool]:
    from digitseq.errors import DataError
    from digitseq.image import read_labels

    ls = read_labels(folder, alphabet=model.alphabet)
    right = []
    for (_, pred, err), label in zip(model.predict_files(ls.paths), ls.labels):
        if err is not None:
            raise DataError(err)
        right.append(pred.text == label)
    return right


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", required=True, help="comma-separated names or .pt/.onnx paths; the first is the base")
    ap.add_argument("--sets", required=True, help="comma-separated folders under --img")
    ap.add_argument("--img", default=str(ROOT / "img"))
    ap.add_argument("--partner", default=None, help="every model's partner (default: each model's own)")
    ap.add_argument("--tta", default="auto", help="auto / all / off, as digitseq evaluate --tta")
    ap.add_argument("--out", help="JSON file for the results")
    a = ap.parse_args(argv)
    from digitseq.recognize import Recognizer

    names, sets = a.models.split(","), a.sets.split(",")
    if len(names) < 2:
        ap.error("--models needs at least two models")
    right: dict[str, dict[str, list[bool]]] = {}
    for name in names:
        model = Recognizer.load(name, tta=a.tta, partner=a.partner)
        right[name] = {s: read_set(model, Path(a.img) / s) for s in sets}
        print(f"{name}: " + ", ".join(f"{s} {100 * sum(r) / len(r):.1f} %" for s, r in right[name].items()), flush=True)
    result = {"models": names, "sets": sets, "partner": a.partner, "tta": a.tta,
              "accuracy": {m: {s: sum(r) / len(r) for s, r in right[m].items()} for m in names}, "paired": {}}
    base = names[0]
    for name in names[1:]:
        rows = {s: paired(right[base][s], right[name][s]) for s in sets}
        rows["all"] = paired([x for s in sets for x in right[base][s]], [x for s in sets for x in right[name][s]])
        result["paired"][name] = rows
        for s, r in rows.items():
            print(f"  {name} against {base}, {s}: {100 * r['gain']:+.2f} points ({r['right_only']} strings it alone "
                  f"reads, {r['base_right_only']} the base alone; one-sided p {r['p_one_sided']:.3g}, n {r['n']})")
    if a.out:
        Path(a.out).parent.mkdir(parents=True, exist_ok=True)
        Path(a.out).write_text(json.dumps(result, indent=1))
        print(f"-> {a.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
