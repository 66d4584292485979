"""How many of the model's errors could a person read? A blind audit, to bound what a test set allows.

    python benchmarks/legibility_audit.py sheets [--set wild_five_digits] [--count 50] [--seed 42] [--model digits]
    python benchmarks/legibility_audit.py sheets --set ascii/test_ascii --model ascii
    python benchmarks/legibility_audit.py score READINGS.csv [--set ...] [--model digits]

``sheets`` picks ``count`` images the model reads wrong (a seeded sample of its errors) and draws them, enlarged
and numbered, with no label and no prediction, into ``results/legibility_<set>/sheet_*.png``; the sample's file
names go to ``sample.csv`` there. A person reads each image and writes ``readings.csv`` beside it
(``index,filename,reading``; ``?`` where they cannot read every character with confidence). ``score`` compares the
readings with the labels and writes ``legibility.json``: how many errors the reader read right, misread, or could
not read, and from that the accuracy a reader of that skill would reach on the whole set, taking the images the
model reads right as legible (it is an estimate: the reader is one person, the sample a few dozen images).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import random
import sys
from pathlib import Path

from PIL import Image, ImageDraw

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, machine  # noqa: E402

import digitseq  # noqa: E402
from digitseq.image import read_labels  # noqa: E402

PER_SHEET = 10


def model_errors(folder: Path, model: str) -> tuple[list[tuple[str, str, str]], int]:
    """(file name, label, prediction) of every image the model reads wrong, and the set's size."""
    ls = read_labels(folder / "labels.csv")
    preds = [p.text for _, p, _ in digitseq.Recognizer.load(model).predict_files(ls.paths)]
    return [(p.name, t, q) for p, t, q in zip(ls.paths, ls.labels, preds) if q != t], len(ls.paths)


def sheets(folder: Path, out: Path, count: int, seed: int, model: str) -> None:
    errors, n = model_errors(folder, model)
    random.Random(seed).shuffle(errors)
    sample = errors[:count]
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "sample.csv", "w", newline="") as fh:
        csv.writer(fh).writerows([("index", "filename"), *((i, f) for i, (f, _, _) in enumerate(sample))])
    w, h = 700, 150
    for s in range(0, len(sample), PER_SHEET):
        chunk = sample[s:s + PER_SHEET]
        sheet = Image.new("RGB", (w, h * len(chunk)), "white")
        for i, (name, _, _) in enumerate(chunk):
            im = Image.open(folder / name).convert("RGB")
            scale = min((w - 60) / im.width, (h - 10) / im.height, 4.0)
            im = im.resize((max(1, round(im.width * scale)), max(1, round(im.height * scale))), Image.LANCZOS)
            sheet.paste(im, (50, i * h + 5))
            ImageDraw.Draw(sheet).text((5, i * h + 60), f"#{s + i}", fill="red")
        sheet.save(out / f"sheet_{s // PER_SHEET}.png")
    print(f"{len(errors)} errors of {n}; {len(sample)} drawn into {out}/sheet_*.png (read them, then write "
          f"{out}/readings.csv: index,filename,reading)")


def estimate(images: int, model_errors: int, read: int, audited: int) -> dict:
    """What a reader who reads ``read`` of ``audited`` sampled model errors right would reach on the whole set
    (images the model reads right counted as legible), with a 95 % interval from the sample's size."""
    if not 0 < audited <= model_errors <= images or not 0 <= read <= audited:
        raise ValueError("need 0 <= read <= audited <= model_errors <= images, audited > 0")
    share = 1 - read / audited                          # errors the reader could not read right
    se = math.sqrt(share * (1 - share) / audited)
    reader = [1 - model_errors * s / images for s in (share, min(1.0, share + 1.96 * se), max(0.0, share - 1.96 * se))]
    model = 1 - model_errors / images
    return {"reader_accuracy_estimate": reader[0], "reader_accuracy_95ci": reader[1:],
            "model_accuracy_on_legible_estimate": model / reader[0]}


def score(folder: Path, readings: Path, model: str, name: str) -> dict:
    errors, n = model_errors(folder, model)
    truth = {f: t for f, t, _ in errors}
    rows = list(csv.DictReader(open(readings, newline="")))
    missing = [r["filename"] for r in rows if r["filename"] not in truth]
    if missing:
        raise SystemExit(f"{readings}: {len(missing)} files the model does not read wrong (another model or set?): "
                         f"{missing[:3]}")
    read = sum(r["reading"] == truth[r["filename"]] for r in rows)
    unsure = sum(r["reading"] == "?" for r in rows)
    est = estimate(n, len(errors), read, len(rows))
    result = {"set": name, "model": model, "images": n, "model_errors": len(errors), "model_accuracy": 1 - len(errors) / n,
              "audited": len(rows), "reader_right": read, "reader_misread": len(rows) - read - unsure,
              "reader_unsure": unsure, **est}
    lo, hi = est["reader_accuracy_95ci"]
    print(f"{name}: the model reads {result['model_accuracy']:.1%}; of {len(rows)} of its {len(errors)} errors the "
          f"reader read {read} right, misread {result['reader_misread']}, could not read {unsure}. A reader like "
          f"this one: about {est['reader_accuracy_estimate']:.1%} ({lo:.1%}-{hi:.1%}); the model reads "
          f"~{est['model_accuracy_on_legible_estimate']:.0%} of what such a reader reads.")
    return result


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("mode", choices=["sheets", "score"])
    ap.add_argument("readings", nargs="?", help="score: the readings CSV (default: results/legibility_<set>/readings.csv)")
    ap.add_argument("--set", default="wild_five_digits", help="a folder under img/ with labels.csv (e.g. ascii/test_ascii)")
    ap.add_argument("--count", type=int, default=50)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--model", default="digits")
    a = ap.parse_args(argv)
    folder, out = ROOT / "img" / a.set, ROOT / "results" / f"legibility_{a.set.replace('/', '_')}"
    if not (folder / "labels.csv").is_file():
        raise SystemExit(f"{folder}: no labels.csv (notebook 1 draws the held-out sets)")
    if a.mode == "sheets":
        sheets(folder, out, a.count, a.seed, a.model)
    else:
        result = score(folder, Path(a.readings) if a.readings else out / "readings.csv", a.model, a.set)
        (out / "legibility.json").write_text(json.dumps({"machine": machine(), **result}, indent=1))


if __name__ == "__main__":
    main()
