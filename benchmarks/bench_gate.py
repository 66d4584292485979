"""Which images the default reading looks at again: gates tried on the development sets.

    python benchmarks/bench_gate.py                     # the digit model on its development sets
    python benchmarks/bench_gate.py --model ascii --sets ascii/dev/val,ascii/dev/foreign_dev_ascii \\
        --out results/bench_gate_ascii.json

``--tta auto`` reads an image again, three or more ways and by the partner, only where a gate says the model is
unsure of it (:func:`digitseq.tta.unsure`). Here every image is read once (as ``--tta off`` reads it) and every
way (as ``--tta all`` reads it), so any gate's result follows from the two: the every-way text where the gate
opens, the single reading elsewhere. For each gate: sequence accuracy on each set and the share of images read
again (what the gate costs), then the mean over the sets. The gates: the character peak alone
(:func:`digitseq.tta.least_peaks` below a threshold; :data:`digitseq.tta.GATE` shipped before the second cue), and
that or a dropped character (:func:`digitseq.tta.hidden_peaks` above a threshold, :data:`digitseq.tta.HIDDEN`).

The default sets are development sets no reported set includes, all in the training font families: notebook 3's
validation images (``val``, drawn by ``make release``), ``bench_tta.py``'s wild and captcha sets, and 1,000
strings each of the matplotlib sets in the training families (``bench_foreign.py --fonts train``). Missing ones
are drawn, but ``val``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import RESULTS, ROOT, machine  # noqa: E402

FOREIGN_DEV = ["clean5", "aug5", "aug12", "aug1_20"]
DEV_SETS = ["val", "tta_dev_wild5", "tta_dev_captcha5", *(f"foreign_dev_{n}" for n in FOREIGN_DEV)]
FOREIGN_DEV_COUNT = 1000
PEAKS_TRIED = (0.9, 0.95, 0.98, 0.99)
HIDDEN_TRIED = (0.02, 0.05, 0.1, 0.2, 0.3)


def draw_missing(sets: list[str], alphabet: str) -> None:
    """Draw the development sets this script knows how to draw (not ``val``: ``make release`` does)."""
    import bench_foreign
    from bench_tta import DEV_DRAWN

    from digitseq.generate import generate

    for s in sets:
        folder = ROOT / "img" / s
        if (folder / "labels.csv").is_file():
            continue
        if s in DEV_DRAWN:
            generate(folder, font_dir=ROOT / "font", alphabet=alphabet, overwrite=True, **DEV_DRAWN[s])
        elif s.startswith("foreign_dev_") and s[len("foreign_dev_"):] in bench_foreign.SETS:
            bench_foreign.make_set(s[len("foreign_dev_"):], FOREIGN_DEV_COUNT, fonts="train")


def readings(once, every, folder: Path, batch: int = 32) -> list[dict]:
    """Per image: its label, the single reading (Recognizer ``once``, ``tta="off"``), the every-way reading
    (``every``, ``tta="all"``) and the gate's two cues."""
    from digitseq.image import read_labels
    from digitseq.recognize import _read
    from digitseq.tta import hidden_peaks, least_peaks, steps_of

    data = read_labels(folder)
    arrays = [once.prepare(p) for p in data.paths]
    all_ways = every.predict(list(data.paths))
    rows = []
    for start in range(0, len(arrays), batch):
        preds, scores, lengths = _read(once.runner, once.codec, arrays[start:start + batch], once.normalisation,
                                       once.margin, 1, False)
        steps = steps_of(scores)
        peaks, hidden = least_peaks(steps, lengths), hidden_peaks(steps, lengths)
        for k, p in enumerate(preds):
            i = start + k
            rows.append({"label": data.labels[i], "once": p.text, "all": all_ways[i].text,
                         "peak": float(peaks[k]), "hidden": float(hidden[k])})
    return rows


def gates() -> dict:
    """name -> (peak threshold, hidden threshold or None): the image is read again where its peak is below the
    first or its hidden character above the second."""
    out = {"off": (0.0, None), "all": (2.0, None)}
    out.update({f"peak < {g}": (g, None) for g in PEAKS_TRIED})
    out.update({f"peak < 0.9 or hidden > {h}": (0.9, h) for h in HIDDEN_TRIED})
    return out


def score(rows: list[dict], peak: float, hidden: float | None) -> tuple[float, float]:
    """(sequence accuracy, share read again) of ``rows`` under one gate."""
    again = np.array([r["peak"] < peak or (hidden is not None and r["hidden"] > hidden) for r in rows])
    right = [(r["all"] if a else r["once"]) == r["label"] for r, a in zip(rows, again)]
    return float(np.mean(right)), float(again.mean())


def main(argv=None) -> dict:
    from digitseq.tta import GATE, HIDDEN

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="digits", help="shipped model name or a .pt/.onnx path")
    ap.add_argument("--sets", default=",".join(DEV_SETS), help="comma-separated folders under img/")
    ap.add_argument("--out", default=str(RESULTS / "bench_gate_digits.json"))
    a = ap.parse_args(argv)
    from digitseq.recognize import Recognizer

    sets = a.sets.split(",")
    once = Recognizer.load(a.model, backend="onnx", tta="off")
    every = Recognizer.load(a.model, backend="onnx", tta="all")
    draw_missing(sets, once.alphabet)
    per_set = {}
    for s in sets:
        folder = ROOT / "img" / s
        if not (folder / "labels.csv").is_file():
            print(f"{s}: missing ({folder}), skipped", flush=True)
            continue
        per_set[s] = readings(once, every, folder)
        print(f"{s}: {len(per_set[s])} images read", flush=True)
    shipped = f"peak < {GATE} or hidden > {HIDDEN}"
    table = {}
    print("| gate | " + " | ".join(per_set) + " | mean | read again |\n|---|" + "---|" * (len(per_set) + 2))
    for name, (peak, hidden) in gates().items():
        results = {s: score(rows, peak, hidden) for s, rows in per_set.items()}
        mean_acc = float(np.mean([acc for acc, _ in results.values()]))
        mean_again = float(np.mean([again for _, again in results.values()]))
        table[name] = {"sets": {s: {"accuracy": acc, "read_again": again} for s, (acc, again) in results.items()},
                       "mean_accuracy": mean_acc, "mean_read_again": mean_again}
        cells = " | ".join(f"{100 * acc:.1f} ({100 * again:.0f} %)" for acc, again in results.values())
        mark = " (shipped)" if name == shipped else ""
        print(f"| {name}{mark} | {cells} | {100 * mean_acc:.2f} | {100 * mean_again:.1f} % |", flush=True)
    report = {"model": a.model, "machine": machine(), "gate": GATE, "hidden": HIDDEN, "shipped": shipped,
              "sets": {s: len(r) for s, r in per_set.items()}, "gates": table}
    if a.out:
        Path(a.out).write_text(json.dumps(report, indent=1))
    return report


if __name__ == "__main__":
    main()
