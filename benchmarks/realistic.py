"""A cached folder of image files like the ones users have, for whole-process speed measurements.

Digit strings of 1-20 characters drawn by our renderer (held-out fonts, augmented style, varied margins),
each scaled so the text fills 50-95 % of a random height of 40-120 px and padded with its own background
to a width of 60-600 px; half PNG (default compression), half JPEG (quality 75-95). Image ``i`` depends
only on ``(seed, i)``. The folder gets labels.csv and meta.json; a folder whose meta.json matches is reused.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image

from digitseq import DIGITS
from digitseq.fonts import load_fonts
from digitseq.generate import draw_sample
from digitseq.render import RenderStyle

VERSION = 1
HEIGHT = (40, 120)
WIDTH = (60, 600)
LENGTH = (1, 20)


def fit(img: Image.Image, rng: np.random.Generator) -> Image.Image:
    """``img`` scaled and padded onto a canvas of a random realistic size (within HEIGHT x WIDTH)."""
    h = int(rng.integers(HEIGHT[0], HEIGHT[1] + 1))
    th = max(8, round(h * rng.uniform(0.5, 0.95)))
    tw = max(1, round(img.width * th / img.height))
    pad = int(rng.integers(0, h // 2 + 1))
    if tw + pad > WIDTH[1]:  # too long for the widest canvas: shrink the text, keep the aspect ratio
        tw = WIDTH[1] - pad
        th = max(8, round(img.height * tw / img.width))
    w = min(WIDTH[1], max(WIDTH[0], tw + pad))
    arr = np.asarray(img.convert("RGB"))
    border = np.concatenate([arr[0], arr[-1], arr[:, 0], arr[:, -1]])
    canvas = Image.new("RGB", (w, h), tuple(int(v) for v in np.median(border, axis=0)))
    canvas.paste(img.convert("RGB").resize((tw, th), Image.Resampling.BILINEAR),
                 (int(rng.integers(0, w - tw + 1)), int(rng.integers(0, h - th + 1))))
    return canvas


def _work(args) -> list[tuple[str, str, int, int]]:
    start, stop, out, seed, fonts = args
    style = RenderStyle.augmented()
    rows = []
    for i in range(start, stop):
        label, _font, img = draw_sample(i, seed, fonts, DIGITS, LENGTH[0], LENGTH[1], style)
        rng = np.random.default_rng([seed, i, 1])
        img = fit(img, rng)
        if rng.random() < 0.5:
            name = f"{i:06d}.jpg"
            img.save(os.path.join(out, name), quality=int(rng.integers(75, 96)))
        else:
            name = f"{i:06d}.png"
            img.save(os.path.join(out, name))
        rows.append((name, label, img.width, img.height))
    return rows


def build(folder: str | Path, count: int, seed: int = 11, workers: int | None = None) -> Path:
    """Make (or reuse) the folder; returns it."""
    folder = Path(folder)
    want = {"version": VERSION, "count": count, "seed": seed}
    meta_path = folder / "meta.json"
    if meta_path.is_file():
        meta = json.loads(meta_path.read_text())
        if {k: meta.get(k) for k in want} == want:
            return folder
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    fonts = load_fonts(split="test", alphabet=DIGITS)
    chunk = 100
    jobs = [(s, min(s + chunk, count), str(folder), seed, fonts) for s in range(0, count, chunk)]
    with ProcessPoolExecutor(workers or os.cpu_count() or 1) as pool:
        rows = [r for part in pool.map(_work, jobs) for r in part]
    with open(folder / "labels.csv", "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([("filename", "label"), *((n, lab) for n, lab, _, _ in rows)])
    widths = [r[2] for r in rows]
    heights = [r[3] for r in rows]
    meta = {**want, "png": sum(r[0].endswith(".png") for r in rows), "jpeg": sum(r[0].endswith(".jpg") for r in rows),
            "width": [min(widths), int(np.median(widths)), max(widths)],
            "height": [min(heights), int(np.median(heights)), max(heights)],
            "length": list(LENGTH), "style": "augmented, held-out fonts"}
    meta_path.write_text(json.dumps(meta, indent=1))
    return folder
