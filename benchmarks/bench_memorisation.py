"""Has a model learnt its training images rather than its task? Its own images against new ones drawn the same way.

    python benchmarks/bench_memorisation.py --model ascii --sets img/ascii/train_ascii,img/ascii/train_ascii_wild

For each training folder (written by notebook 1 / ``digitseq generate``, so with a ``meta.json``), reads the first
``count`` of its images and ``count`` new ones drawn from the same recipe (the folder's lengths, font split, style
and alphabet) with another seed: the same fonts and the same kinds of image, only never seen. Both are read once
(``--tta off``), as validation reads. A model that reads its own images much better than the new ones has learnt
those images, and more epochs on them will not help it; new draws may (docs/HISTORY.md#ascii-redraw). The new
images go to a temporary folder; results to ``results/bench_memorisation[_<model>].json``.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, model_tag, write  # noqa: E402


def first_rows(folder: Path, count: int, out: Path) -> Path:
    """A labels CSV of ``folder``'s first ``count`` images (read with ``images=folder``)."""
    with open(folder / "labels.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    if len(rows) < 2:
        raise SystemExit(f"{folder / 'labels.csv'} has no images")
    with open(out, "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows[:count + 1])
    return out


def redraw(folder: Path, count: int, seed: int, out: Path, workers: int = 1, alphabet: str | None = None) -> Path:
    """``count`` new images drawn from ``folder``'s recipe (its meta.json) with ``seed``, into ``out``; refused before
    drawing when the folder's alphabet is not ``alphabet`` (the model's)."""
    from digitseq.generate import generate
    from digitseq.render import RenderStyle

    meta_path = folder / "meta.json"
    if not meta_path.is_file():
        raise SystemExit(f"{folder}: no meta.json (not a folder notebook 1 or digitseq generate wrote)")
    meta = json.loads(meta_path.read_text())
    if alphabet is not None and meta["alphabet"] != alphabet:
        raise SystemExit(f"{folder}: its alphabet is not the model's")
    if seed == meta["seed"]:
        raise SystemExit(f"{folder} was drawn with seed {seed}: choose another")
    return generate(out, count, min_length=meta["min_length"], max_length=meta["max_length"], font_dir=ROOT / "font",
                    split=meta["split"], style=RenderStyle.from_dict(meta["style"]), seed=seed,
                    alphabet=meta["alphabet"], workers=workers, progress=False).parent


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="digits", help="shipped model name or a .pt/.onnx path")
    ap.add_argument("--sets", required=True, help="comma-separated training folders (each with meta.json)")
    ap.add_argument("--count", type=int, default=1000, help="images of each kind")
    ap.add_argument("--seed", type=int, default=424242, help="the new draw's seed (no notebook set uses it)")
    ap.add_argument("--workers", type=int, default=2, help="rendering processes")
    a = ap.parse_args(argv)
    from digitseq.evaluate import evaluate_folder
    from digitseq.recognize import Recognizer

    rec = Recognizer.load(a.model, tta="off")
    rows = {}
    print("| training set | its own images | new draw | gap |\n|---|---|---|---|")
    with tempfile.TemporaryDirectory(prefix="digitseq-memorisation-") as tmp:
        for name in (s for s in a.sets.split(",") if s):
            folder = ROOT / name
            fresh = redraw(folder, a.count, a.seed, Path(tmp) / f"{folder.name}_new", a.workers, rec.alphabet)
            own = evaluate_folder(first_rows(folder, a.count, Path(tmp) / f"{folder.name}.csv"), rec, images=folder)
            new = evaluate_folder(fresh, rec)
            rows[name] = {"own": {k: own[k] for k in ("n", "sequence_accuracy", "cer")},
                          "new": {k: new[k] for k in ("n", "sequence_accuracy", "cer")},
                          "gap": own["sequence_accuracy"] - new["sequence_accuracy"]}
            print(f"| {name} | {100 * own['sequence_accuracy']:.1f} % | {100 * new['sequence_accuracy']:.1f} % "
                  f"| {100 * rows[name]['gap']:+.1f} pt |", flush=True)
    path = write(f"bench_memorisation{model_tag(a.model)}", {"model": a.model, "count": a.count, "seed": a.seed,
                                                             "tta": "off", "sets": rows})
    print(f"-> {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
