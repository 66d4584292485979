"""Procedural display lettering: seven-segment digits and dot-matrix text, as masks (white ink on black)."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from .effects import change_stroke

#   a
# f   b
#   g
# e   c
#   d
SEGMENTS = {"0": "abcdef", "1": "bc", "2": "abged", "3": "abgcd", "4": "fgbc", "5": "afgcd", "6": "afgedc",
            "7": "abc", "8": "abcdefg", "9": "abcdfg", "-": "g", " ": ""}
# Shapes that differ between real displays: 6 and 9 with or without their tail, 7 with a hook.
VARIANTS = {"6": "fgedc", "7": "abcf", "9": "abcfg"}


def segment_chars() -> str:
    """The characters seven-segment rendering can draw."""
    return "".join(SEGMENTS)


def draw_segments(text: str, size: int, rng: np.random.Generator, pad: int) -> Image.Image:
    """``text`` (only :func:`segment_chars`) as seven-segment digits about ``size`` px tall, ``pad`` px around."""
    h = size * rng.uniform(0.7, 0.95)
    w = h * rng.uniform(0.4, 0.65)
    t = max(2.0, h * rng.uniform(0.08, 0.16))       # segment thickness
    gap = t * rng.uniform(0.05, 0.3)                 # between segments
    pitch = w + t + h * rng.uniform(0.1, 0.4)
    slant = rng.uniform(0.0, 0.2) if rng.random() < 0.5 else 0.0
    variants = {ch: rng.random() < 0.5 for ch in VARIANTS}
    pointed = rng.random() < 0.7
    width = int(pitch * len(text) + slant * h + 2 * pad) + 1
    height = int(h + t + 2 * pad) + 1
    mask = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(mask)
    y0, y1, ym = pad + t / 2, pad + t / 2 + h, pad + t / 2 + h / 2

    def poly(pts, x0):
        # Slant leans the top to the right, around the bottom line.
        draw.polygon([(x0 + x + slant * (y1 - y), y) for x, y in pts], fill=255)

    def horizontal(y, xa, xb):
        xa, xb, e = xa + gap, xb - gap, t / 2 if pointed else 0
        return [(xa, y), (xa + e, y - t / 2), (xb - e, y - t / 2), (xb, y), (xb - e, y + t / 2), (xa + e, y + t / 2)]

    def vertical(x, ya, yb):
        ya, yb, e = ya + gap, yb - gap, t / 2 if pointed else 0
        return [(x, ya), (x + t / 2, ya + e), (x + t / 2, yb - e), (x, yb), (x - t / 2, yb - e), (x - t / 2, ya + e)]

    shapes = {"a": horizontal(y0, 0, w), "g": horizontal(ym, 0, w), "d": horizontal(y1, 0, w),
              "f": vertical(0, y0, ym), "b": vertical(w, y0, ym), "e": vertical(0, ym, y1), "c": vertical(w, ym, y1)}
    for k, ch in enumerate(text):
        lit = VARIANTS[ch] if ch in VARIANTS and variants[ch] else SEGMENTS[ch]
        for seg in lit:
            poly(shapes[seg], pad + t / 2 + k * pitch)
    return mask


def dot_matrix(mask: Image.Image, size: int, rng: np.random.Generator) -> Image.Image:
    """Resample the glyphs onto a grid of cells (9-13 per em) and draw each inked cell as a round dot."""
    c = max(3, int(round(size / rng.uniform(9, 13))))
    w, h = mask.size
    gw, gh = w // c, h // c
    if gw < 1 or gh < 1:
        return mask
    # Bring strokes to about one cell wide first: thin ones still light a cell in every row they cross,
    # bold ones do not fill their counters.
    thick = change_stroke(mask, (c - stroke_width(mask)) / 2) if mask.getbbox() else mask
    small = np.asarray(thick.crop((0, 0, gw * c, gh * c)).resize((gw, gh), Image.BOX), np.float32)
    grid = (small > 255 * rng.uniform(0.35, 0.5)).astype(np.float32)
    r = c * rng.uniform(0.3, 0.45)
    yy, xx = np.mgrid[0:c, 0:c].astype(np.float32) + 0.5 - c / 2
    dot = np.clip(r + 0.5 - np.hypot(xx, yy), 0, 1) if rng.random() < 0.75 else \
        np.clip(r + 0.5 - np.maximum(np.abs(xx), np.abs(yy)), 0, 1)      # square pixels
    out = np.zeros((h, w), np.float32)
    out[:gh * c, :gw * c] = np.kron(grid, dot)
    return Image.fromarray((out * 255).astype(np.uint8))


def stroke_width(mask: Image.Image) -> float:
    """Typical stroke width in pixels: twice the ink area over its outline length."""
    b = np.asarray(mask) > 127
    edges = np.count_nonzero(b[:, 1:] != b[:, :-1]) + np.count_nonzero(b[1:] != b[:-1])
    return 2.0 * np.count_nonzero(b) / max(1, edges)
