"""Layout stress and clutter on a text mask (white ink on black): margins, frames, underlines, specks,
bits of neighbouring text, captcha lines and dot noise. Nothing here may look like an extra character
of the label: marks stay small or far from the text, neighbouring glyphs show only a sliver at an edge."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw


def stress_margins(ink_height: float, frac: tuple[float, float], side: tuple[float, float],
                   rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(left, right), (top, bottom) margins in px so that the ink fills a random ``frac`` of the height,
    split unevenly between top and bottom; each side margin is ``side`` x the ink height."""
    f = rng.uniform(*frac)
    extra = ink_height * (1.0 / f - 1.0)
    u = rng.random()
    return rng.uniform(*side, size=2) * ink_height, np.array([extra * u, extra * (1 - u)])


def _canvas(mask: Image.Image):
    """(a copy of the mask, a drawing context on it, the ink's bounding box), or None for an empty mask."""
    box = mask.getbbox()
    if box is None:
        return None
    mask = mask.copy()
    return mask, ImageDraw.Draw(mask), box


def frame_and_underline(mask: Image.Image, size: int, rng: np.random.Generator, frame: bool,
                        underline: bool) -> Image.Image:
    """A rectangle around all the ink and/or a line under it (drawn before geometry, so they tilt with it)."""
    if (canvas := _canvas(mask)) is None:
        return mask
    mask, draw, (left, top, right, bottom) = canvas
    if underline:
        lw = max(1, round(size * rng.uniform(0.03, 0.08)))
        y = bottom + size * rng.uniform(0.06, 0.25)
        draw.line([(left - size * rng.uniform(0, 0.3), y), (right + size * rng.uniform(0, 0.3), y)], fill=255, width=lw)
        bottom = y + lw
    if frame:
        lw = max(1, round(size * rng.uniform(0.03, 0.1)))
        px, py = size * rng.uniform(0.15, 0.6, size=2)
        rect = [left - px, top - py, right + px, bottom + py]
        if rng.random() < 0.3:
            draw.rounded_rectangle(rect, radius=size * rng.uniform(0.1, 0.4), outline=255, width=lw)
        else:
            draw.rectangle(rect, outline=255, width=lw)
    return mask


def specks(mask: Image.Image, size: int, rng: np.random.Generator) -> Image.Image:
    """Dust: a few tiny dots anywhere, and short stray strokes well away from the text."""
    mask = mask.copy()
    draw = ImageDraw.Draw(mask)
    w, h = mask.size
    box = mask.getbbox() or (0, 0, 0, 0)
    for _ in range(int(rng.integers(1, 10))):
        x, y = rng.uniform(0, w), rng.uniform(0, h)
        r = max(0.6, size * rng.uniform(0.008, 0.025))    # well below a full stop (~0.05 em)
        draw.ellipse([x - r, y - r, x + r, y + r], fill=int(rng.integers(128, 256)))
    keep_out = (box[0] - 0.4 * size, box[1] - 0.4 * size, box[2] + 0.4 * size, box[3] + 0.4 * size)
    for _ in range(int(rng.integers(0, 4))):
        x, y = rng.uniform(0, w), rng.uniform(0, h)
        if keep_out[0] < x < keep_out[2] and keep_out[1] < y < keep_out[3]:
            continue
        a, n = rng.uniform(0, np.pi), size * rng.uniform(0.05, 0.25)
        draw.line([(x, y), (x + n * np.cos(a), y + n * np.sin(a))], fill=255, width=max(1, round(size * 0.04)))
    return mask


def neighbours(mask: Image.Image, size: int, font, chars: str, rng: np.random.Generator) -> Image.Image:
    """Bits of neighbouring text or ruled lines at the image edges, never touching the text.

    A row of other glyphs shows at most a quarter of its height at the top or bottom edge, and only
    where that margin has room for it; lines run the full length of an edge.
    """
    if (canvas := _canvas(mask)) is None:
        return mask
    mask, draw, box = canvas
    w, h = mask.size
    clear = 0.15 * size
    top_room, bottom_room = box[1] - clear, h - box[3] - clear
    kind = rng.random()
    if kind < 0.6 and max(top_room, bottom_room) >= 0.1 * size:
        at_top = top_room >= bottom_room if rng.random() < 0.8 else top_room < bottom_room
        room = top_room if at_top else bottom_room
        if room < 0.1 * size:
            return mask
        show = min(room, size * rng.uniform(0.05, 0.18))
        cap = -font.getbbox("0", anchor="ls")[1]
        row = "".join(rng.choice(list(chars), size=max(1, int(w / (0.5 * size)) + 2)))
        layer = Image.new("L", (w, h), 0)
        # Baseline such that only `show` px of the row are visible; then clip to that sliver.
        y = show if at_top else h - show + cap
        ImageDraw.Draw(layer).text((-rng.uniform(0, size), y), row, font=font, fill=255, anchor="ls")
        arr = np.asarray(layer).copy()
        if at_top:
            arr[int(np.ceil(show)):] = 0
        else:
            arr[:int(h - show)] = 0
        return Image.fromarray(np.maximum(np.asarray(mask), arr))
    lw = max(1, round(size * rng.uniform(0.03, 0.08)))
    if rng.random() < 0.5 and max(top_room, bottom_room) >= lw:
        y = rng.uniform(0, max(top_room - lw, 0)) if top_room >= bottom_room else h - rng.uniform(0, bottom_room - lw)
        draw.line([(0, y), (w, y)], fill=255, width=lw)
    else:
        left_room, right_room = box[0] - 0.5 * size, w - box[2] - 0.5 * size
        if max(left_room, right_room) < lw:
            return mask
        x = rng.uniform(0, left_room - lw) if left_room >= right_room else w - rng.uniform(0, right_room - lw)
        draw.line([(x, 0), (x, h)], fill=255, width=lw)
    return mask


def captcha_lines(mask: Image.Image, size: int, rng: np.random.Generator) -> Image.Image:
    """One to three thin lines or arcs across the text, in the text colour."""
    if (canvas := _canvas(mask)) is None:
        return mask
    mask, draw, (left, top, right, bottom) = canvas
    for _ in range(int(rng.integers(1, 4))):
        lw = max(1, round(size * rng.uniform(0.02, 0.06)))
        ya, yb = rng.uniform(top, bottom, size=2)
        if rng.random() < 0.5:
            draw.line([(left - rng.uniform(0, size), ya), (right + rng.uniform(0, size), yb)], fill=255, width=lw)
        else:
            cx, cy = rng.uniform(left, right), rng.uniform(top, bottom)
            rx, ry = rng.uniform(0.5, 1.2) * (right - left), rng.uniform(0.5, 3) * (bottom - top)
            start = rng.uniform(180, 300)
            draw.arc([cx - rx, cy - ry, cx + rx, cy + ry], start, start + rng.uniform(40, 120), fill=255, width=lw)
    return mask


def dot_noise(m: np.ndarray, rng: np.random.Generator, density: float) -> np.ndarray:
    """Scatter single ink pixels of random strength over a float mask (0..1)."""
    hits = rng.random(m.shape) < density
    return np.maximum(m, hits * rng.uniform(0.5, 1.0, size=m.shape).astype(np.float32))
