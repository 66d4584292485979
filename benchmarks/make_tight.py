"""Copies of labelled sets with every image cut tight to its text: no margin at all, the ink touching all four edges.

    python benchmarks/make_tight.py [--sets foreign_clean5,skia_clean5,...] [--limit 500]
    python benchmarks/eval_sets.py --sets tight_foreign_clean5,... --out results/eval_tta/auto

Images people bring are often cut like this: a field cropped from a form or a screenshot, a detector's box, a
captcha saved without its border. None of our renderers draws them (each leaves some background around the text),
so each set here is a copy, ``img/<set>`` -> ``img/tight_<set>`` (``img/ascii/test_ascii`` ->
``img/tight_test_ascii``, but ``img/ascii/val`` -> ``img/tight_ascii_val``, apart from the digits' ``img/val``):
the same images and labels, each cut to the box of the pixels that differ from the background (the median of its
border) by more than a quarter of the image's largest difference from it. The cut is made as PNG, so nothing else
changes. It is written apart from ``digitseq.data.cut_tight`` (the training augmentation, which cuts the cropped
input array at a random level) on purpose: the test's cut must not be the training code's.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT  # noqa: E402

SETS = ["test_five_digits", "test_12_digits", "foreign_clean5", "foreign_aug12", "skia_clean5", "skia_aug12",
        "ascii/test_ascii", "foreign_ascii"]


def ink_box(img: Image.Image) -> tuple[int, int, int, int] | None:
    """The box (left, top, right, bottom) of the pixels that differ from the border's median grey by more than a
    quarter of the largest difference; None for an image without such pixels."""
    g = np.asarray(img.convert("L"), dtype=np.int16)
    paper = np.median(np.concatenate([g[0], g[-1], g[:, 0], g[:, -1]]))
    diff = np.abs(g - paper)
    if diff.max() == 0:
        return None
    ys, xs = np.nonzero(diff > diff.max() / 4)
    return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1


def tight_name(name: str) -> str:
    """``foreign_clean5`` -> ``tight_foreign_clean5``; a nested set keeps its folder's name unless its own has it:
    ``ascii/test_ascii`` -> ``tight_test_ascii``, ``ascii/val`` -> ``tight_ascii_val``."""
    p = Path(name)
    parent = p.parent.name
    return f"tight_{p.name}" if not parent or parent in p.name else f"tight_{parent}_{p.name}"


def make_tight(name: str, limit: int = 500, root: Path = ROOT / "img") -> Path:
    src = root / name
    out = root / tight_name(name)
    made_from = out / "source.txt"
    source = made_from.read_text().strip() if made_from.exists() else name
    if source != name:
        raise SystemExit(f"{out} was cut from {source}, not {name}: move it away first")
    with open(src / "labels.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    header, rows = rows[0][:2], rows[1:][: limit or None]
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for file, label, *_ in rows:
        img = Image.open(src / file).convert("RGB")
        box = ink_box(img)
        target = Path(file).with_suffix(".png").name
        (img.crop(box) if box else img).save(out / target)
        written.append((target, label))
    with open(out / "labels.csv", "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([header, *written])
    made_from.write_text(name + "\n")
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sets", default=",".join(SETS), help="comma-separated labelled folders under img/")
    ap.add_argument("--limit", type=int, default=500, help="first N images of each set (0: all)")
    a = ap.parse_args(argv)
    for name in a.sets.split(","):
        if not (ROOT / "img" / name / "labels.csv").exists():
            print(f"{name}: missing, skipped (see benchmarks/eval_sets.py for what draws it)")
            continue
        print(f"{name} -> {make_tight(name, a.limit).relative_to(ROOT)}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
