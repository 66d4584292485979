"""Shape effects on a text mask (white ink on black, mode "L"), used by :mod:`digitseq.render`.

Each function takes the mask, the font size in pixels and a NumPy generator and returns a new mask;
none of them changes the mask's size. They use PIL transforms and NumPy only (no per-pixel loops).
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageFilter


def _dilate(arr: np.ndarray, k: int, op=np.maximum) -> np.ndarray:
    """Square (2k+1) grey dilation (``op=np.maximum``) or erosion (``np.minimum``), separable."""
    out = arr.copy()
    for axis in (0, 1):
        src = out.copy()
        for s in range(1, k + 1):
            a = np.roll(src, s, axis=axis)
            b = np.roll(src, -s, axis=axis)
            out = op(out, op(a, b))
    return out


def change_stroke(mask: Image.Image, pixels: float) -> Image.Image:
    """Thicken (``pixels`` > 0) or thin (< 0) every stroke by that many pixels on each side.

    Fractions of a pixel blend with the next step. Thinning that would erase more than 70 % of the
    ink is halved until it does not.
    """
    arr = np.asarray(mask).astype(np.float32)
    op = np.maximum if pixels > 0 else np.minimum
    total = float(arr.sum())
    amount = abs(pixels)
    while amount >= 0.25:
        whole, frac = int(amount), amount - int(amount)
        out = _dilate(arr, whole, op) if whole else arr
        if frac:
            out = out * (1 - frac) + _dilate(out, 1, op) * frac
        if pixels > 0 or float(out.sum()) >= 0.3 * total:
            return Image.fromarray((out + 0.5).astype(np.uint8))
        amount /= 2
    return mask


def hollow(mask: Image.Image, pixels: int) -> Image.Image:
    """Outline glyphs: a ring ``pixels`` wide around each stroke, empty inside."""
    arr = np.asarray(mask).astype(np.int16)
    ring = _dilate(arr, pixels) - arr
    return Image.fromarray(np.clip(ring, 0, 255).astype(np.uint8))


def drop_shadow(mask: Image.Image, dx: int, dy: int, strength: float, soft: float) -> Image.Image:
    """The mask over a copy of itself shifted by (dx, dy) at ``strength`` (0..1), blurred by ``soft`` px."""
    shadow = mask.transform(mask.size, Image.AFFINE, (1, 0, -dx, 0, 1, -dy), resample=Image.NEAREST)
    if soft > 0:
        shadow = shadow.filter(ImageFilter.GaussianBlur(soft))
    arr = np.maximum(np.asarray(mask, np.float32), np.asarray(shadow, np.float32) * strength)
    return Image.fromarray(arr.astype(np.uint8))


def perspective(mask: Image.Image, strength: float, rng: np.random.Generator) -> Image.Image:
    """Move each corner of the canvas inward by up to ``strength`` x the canvas height (a random keystone)."""
    w, h = mask.size
    src = np.array([(0, 0), (w, 0), (w, h), (0, h)], np.float64)
    inward = np.array([(1, 1), (-1, 1), (-1, -1), (1, -1)], np.float64)
    dst = src + inward * rng.uniform(0, strength * h, size=(4, 2))
    # Coefficients of the map output (dst) -> input (src), as PIL's PERSPECTIVE wants.
    a = np.zeros((8, 8))
    b = np.zeros(8)
    for i, ((x, y), (u, v)) in enumerate(zip(dst, src)):
        a[2 * i] = (x, y, 1, 0, 0, 0, -u * x, -u * y)
        a[2 * i + 1] = (0, 0, 0, x, y, 1, -v * x, -v * y)
        b[2 * i], b[2 * i + 1] = u, v
    coeffs = np.linalg.solve(a, b)
    return mask.transform((w, h), Image.PERSPECTIVE, tuple(coeffs), resample=Image.BILINEAR)


def mesh_warp(mask: Image.Image, size: int, rng: np.random.Generator, elastic: float = 0.0,
              wave_amplitude: float = 0.0, wave_length: float = 1.0) -> Image.Image:
    """Smooth random displacement (``elastic``: std in em) plus a vertical sine wave along x
    (``wave_amplitude`` em, period ``wave_length`` em), sampled bilinearly in NumPy."""
    w, h = mask.size
    dx = np.zeros((h, w), np.float32)
    dy = np.zeros((h, w), np.float32)
    if elastic:
        # Random offsets on a coarse grid (one node per ~0.6 em), bicubically upsampled: smooth, thin-plate-like.
        cells = max(1.0, 0.6 * size)
        cw, ch = max(2, int(w / cells) + 2), max(2, int(h / cells) + 2)
        for d in (dx, dy):
            coarse = rng.normal(0.0, elastic * size, size=(ch, cw)).astype(np.float32)
            d += np.asarray(Image.fromarray(coarse, "F").resize((w, h), Image.BICUBIC))
    if wave_amplitude:
        phase = rng.uniform(0, 2 * np.pi)
        xs = np.arange(w, dtype=np.float32)
        dy += (wave_amplitude * size * np.sin(2 * np.pi * xs / (wave_length * size) + phase))[None, :]
    return Image.fromarray(remap(np.asarray(mask), dx, dy))


def remap(arr: np.ndarray, dx: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """out[y, x] = arr[y + dy, x + dx], bilinear, zero outside (uint8 in, uint8 out)."""
    h, w = arr.shape
    src = np.pad(arr.astype(np.float32), 1)          # a zero border to sample from outside
    sx = np.clip(np.arange(w, dtype=np.float32)[None, :] + dx + 1, 0, w + 0.999)
    sy = np.clip(np.arange(h, dtype=np.float32)[:, None] + dy + 1, 0, h + 0.999)
    x0, y0 = sx.astype(np.int32), sy.astype(np.int32)
    fx, fy = sx - x0, sy - y0
    top = src[y0, x0] * (1 - fx) + src[y0, x0 + 1] * fx
    bottom = src[y0 + 1, x0] * (1 - fx) + src[y0 + 1, x0 + 1] * fx
    return (top * (1 - fy) + bottom * fy + 0.5).astype(np.uint8)


def motion_blur(img: Image.Image, length: float, angle: float) -> Image.Image:
    """Blur along a line ``length`` px long (up to 5 per pass) at ``angle`` radians."""
    yy, xx = np.mgrid[-2:3, -2:3].astype(np.float64)
    c, s = np.cos(angle), np.sin(angle)
    across = np.abs(-s * xx + c * yy)
    along = np.abs(c * xx + s * yy)
    passes = max(1, int(np.ceil(length / 5)))
    half = length / passes / 2
    k = np.clip(1 - across, 0, 1) * np.clip(half + 0.5 - along, 0, 1)
    k[2, 2] = max(k[2, 2], 1e-3)
    kernel = ImageFilter.Kernel((5, 5), k.ravel().tolist(), scale=float(k.sum()))
    for _ in range(passes):
        img = img.filter(kernel)
    return img
