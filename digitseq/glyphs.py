"""Lay out the characters of one string on a mask (white ink on black), used by :mod:`digitseq.render`:
font size, spacing, baseline jitter and weight; characters from a second font; each character's own
turn, scale and offset; each character in its own box; zeros marked with a slash, a dot or a bar."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image, ImageChops, ImageDraw

from .fonts import get_font

if TYPE_CHECKING:
    from .render import RenderStyle

_THIN_LUT = [round(255 * (v / 255) ** 2) for v in range(256)]


def draw_glyphs(text: str, font_path: str, size: int, style: RenderStyle, rng: np.random.Generator,
                alt_fonts: Sequence[str]) -> tuple[Image.Image, bool]:
    """White glyphs on a black mask with room to spare around them for rotation and shear; and
    whether each character was put in a box."""
    n = len(text)
    font = get_font(font_path, size)
    paths = [font_path] * n
    if alt_fonts and rng.random() < style.mixed_fonts:
        other = alt_fonts[int(rng.integers(len(alt_fonts)))]
        switch = rng.random(n) < rng.uniform(*style.mixed_share)
        switch[int(rng.integers(n))] = True
        paths = [other if s else font_path for s in switch]
    scales = np.ones(n)
    angles = np.zeros(n)
    offsets = np.zeros(n)
    if rng.random() < style.char_transform:
        scales = rng.uniform(*style.char_scale, size=n)
        angles = rng.uniform(-style.char_rotation, style.char_rotation, size=n)
        offsets = rng.uniform(-style.char_offset, style.char_offset, size=n) * size
    fonts = [get_font(p, size) for p in paths]
    ascent, descent = (max(v) * float(scales.max()) for v in zip(*(f.getmetrics() for f in fonts)))
    advances = [f.getlength(ch) * s for f, ch, s in zip(fonts, text, scales)]
    boxed = rng.random() < style.char_box
    overlap = rng.random() < style.overlap
    spacing = (-0.15, -0.03) if overlap else style.spacing
    # Overlap at most 30% (tight overlap: 20%, the characters also turn) of the narrowest character
    # so glyphs never swap order.
    most = 0.2 if overlap else 0.3
    gap = max(rng.uniform(*spacing) * size, -most * min(a for a in advances if a > 0) if any(advances) else 0)
    pad = size
    if boxed:
        bpad = size * rng.uniform(0.08, 0.3)
        cell = max(advances) + 2 * bpad
        gap = size * rng.uniform(0.0, 0.4) if rng.random() < 0.7 else 0.0
        advances = [cell] * n
    stroke = 0
    thin = False
    if rng.random() < style.weight:
        if rng.random() < 0.5:
            stroke = max(1, round(size / 40))   # bolder: outline the glyphs in their own colour
        else:
            thin = True                         # thinner: square the anti-aliased coverage (soft erosion)
    # A marked zero (the slashed, dotted or barred 0 of terminal, pixel and code fonts), one kind per string as a
    # font has one. Off in the styles that drew the test sets, and then it draws nothing from ``rng``.
    mark = None
    if style.zero_mark and "0" in text and rng.random() < style.zero_mark:
        mark = (ZERO_MARKS[int(rng.integers(len(ZERO_MARKS)))], max(1, round(size * rng.uniform(0.05, 0.11))))
    width = int(sum(advances) + gap * max(0, n - 1) + 2 * pad) + 1
    height = int(ascent + descent + 2 * pad) + 1
    mask = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(mask)
    x = float(pad)
    jitter = rng.normal(0.0, style.baseline_jitter * size, size=n) if style.baseline_jitter else np.zeros(n)
    for ch, f, adv, dy, angle, scale in zip(text, fonts, advances, jitter + offsets, angles, scales):
        # A scaled character keeps its (scaled) advance: shift its unscaled anchor by half the difference.
        at = (x + adv / 2 if boxed else x + (adv - adv / scale) / 2, pad + ascent + float(dy))
        anchor = "ms" if boxed else "ls"
        zero_mark = mark if ch == "0" else None
        if angle or scale != 1:
            _draw_transformed(mask, ch, f, at, anchor, angle, scale, stroke, zero_mark)
        else:
            draw.text(at, ch, font=f, fill=255, anchor=anchor, stroke_width=stroke, stroke_fill=255)
            if zero_mark:
                mark_zero(draw, draw.textbbox(at, ch, font=f, anchor=anchor), *zero_mark)
        x += adv + gap
    if thin:
        mask = mask.point(_THIN_LUT)
    if boxed:
        mask = _boxes(mask, font, text, pad + ascent, pad, advances[0], gap, bpad, size, style, rng)
    return mask, boxed


ZERO_MARKS = ("slash", "dot", "bar")


def mark_zero(draw: ImageDraw.ImageDraw, box, kind: str, width: int) -> None:
    """Draw a zero's mark inside the glyph box ``box`` (left, top, right, bottom): a slash across its counter
    (lower left to upper right), a dot in its middle, or a short vertical bar."""
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    if kind == "slash":
        draw.line([(x0 + 0.22 * w, y0 + 0.8 * h), (x1 - 0.22 * w, y0 + 0.2 * h)], fill=255, width=width)
    elif kind == "dot":
        r = max(1.0, 0.6 * width, 0.08 * min(w, h))
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=255)
    elif kind == "bar":
        draw.line([(cx, cy - 0.22 * h), (cx, cy + 0.22 * h)], fill=255, width=width)
    else:
        raise ValueError(f"zero mark must be one of {', '.join(ZERO_MARKS)}; got {kind!r}")


def _draw_transformed(mask: Image.Image, ch: str, font, at, anchor: str, angle: float, scale: float,
                      stroke: int, zero_mark: tuple[str, int] | None = None) -> None:
    """Draw one character turned by ``angle`` degrees and scaled by ``scale`` about the middle of its
    baseline (``at`` is where an unscaled character would be anchored), max-combined into ``mask``."""
    box = ImageDraw.Draw(mask).textbbox(at, ch, font=font, anchor=anchor, stroke_width=stroke)
    m = int(max(box[2] - box[0], box[3] - box[1]) * max(0.3, scale - 0.7)) + 2
    region = (int(box[0]) - m, int(box[1]) - m, int(np.ceil(box[2])) + m, int(np.ceil(box[3])) + m)
    tile = Image.new("L", (region[2] - region[0], region[3] - region[1]), 0)
    tile_draw = ImageDraw.Draw(tile)
    tile_draw.text((at[0] - region[0], at[1] - region[1]), ch, font=font, fill=255, anchor=anchor,
                   stroke_width=stroke, stroke_fill=255)
    if zero_mark:
        mark_zero(tile_draw, (box[0] - region[0], box[1] - region[1], box[2] - region[0], box[3] - region[1]),
                  *zero_mark)
    # Output -> input map: rotate by -angle and shrink by 1/scale about the pivot.
    cx, cy = (box[0] + box[2]) / 2 - region[0], at[1] - region[1]
    t = np.deg2rad(angle)
    a, b = np.cos(t) / scale, np.sin(t) / scale
    matrix = (a, b, cx - a * cx - b * cy, -b, a, cy + b * cx - a * cy)
    tile = tile.transform(tile.size, Image.AFFINE, matrix, resample=Image.BILINEAR)
    mask.paste(ImageChops.lighter(mask.crop(region), tile), region[:2])


def _boxes(mask: Image.Image, font, text: str, baseline: float, pad: float, cell: float, gap: float, bpad: float,
           size: int, style: RenderStyle, rng: np.random.Generator) -> Image.Image:
    """Each character in its own box: filled (the glyph cut out of it) or outlined."""
    _, top, _, bottom = font.getbbox(text, anchor="ls")
    y0, y1 = baseline + top - bpad, baseline + bottom + bpad
    filled = rng.random() < style.char_box_filled
    radius = size * rng.uniform(0.05, 0.25) if rng.random() < 0.3 else 0
    lw = max(1, round(size * rng.uniform(0.03, 0.08)))
    boxes = Image.new("L", mask.size, 0)
    draw = ImageDraw.Draw(boxes)
    x = pad
    for _ in text:
        rect = [x, y0, x + cell, y1]
        if filled:
            draw.rounded_rectangle(rect, radius=radius, fill=255) if radius else draw.rectangle(rect, fill=255)
        elif radius:
            draw.rounded_rectangle(rect, radius=radius, outline=255, width=lw)
        else:
            draw.rectangle(rect, outline=255, width=lw)
        x += cell + gap
    return ImageChops.subtract(boxes, mask) if filled else ImageChops.lighter(boxes, mask)
