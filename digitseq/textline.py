"""Text-line normalisation: find the text in an image and crop to it (with a little margin).

A model that reads 32-pixel-high lines fails when the digits fill only a fraction of the image
height: resizing the whole image leaves them a few pixels tall. :func:`crop_to_text` finds the
ink and crops to it before resizing, so that wide margins, a small number in a large picture or a
slightly rotated long string all reach the network at the same scale. Training applies the same
function to its rendered images, so the network sees identical statistics in both places.

How the ink is found (numpy and PIL only, no torch; ~0.6–0.8 CPU-ms on realistic files, one core, most of it
per-call overhead of small numpy steps: ``python benchmarks/bench_crop.py``):

1. Work on a copy reduced by an integer factor to about ``DETECT_HEIGHT`` pixels high.
2. Model the background as a plane fitted robustly to the outer ring of pixels (handles dark on
   light, light on dark, coloured text after grey conversion, and linear gradients); the ink is
   the absolute difference from it, box-blurred to quiet pixel noise.
   A ring made two-toned by a border line along the edge would put the plane between the tones (nearly every
   pixel "ink"): a mask more than half full is taken again against the image's median level.
3. Threshold with Otsu's method (never below a floor, so a blank image finds nothing); then drop the rows and
   columns at the image's edge inked along most of their length (a border, which touching text would join).
4. Rows: the band of rows with the most ink edges (text has several per character and row, a rule or
   frame line one), merged with nearby bands (accents, colons,
   underlines); far-away bands (a border line, a second text line, stray marks) are dropped.
5. Columns inside that band: the runs of inked columns grown outwards from the heaviest run while
   the gaps stay below ``max_gap`` band heights — isolated marks further out are dropped.
6. A frame drawn around the text makes the band the frame's (its sides run through every row): the ink
   connected to the band's top rows that reaches its bottom rows and leaves its middle empty is the frame,
   and steps 4-5 run again on the ink inside it (:func:`_inside_frame`).
7. Pad by a fixed fraction of the band height and crop the original (full-resolution) image.

Before step 4, a line rotated by more than ``DESKEW_MIN`` degrees is levelled (:func:`skew_angle`): the ink's
principal axis says whether it may be rotated at all (most lines are level, and a character or two has no
direction), then the angle whose projection profile is sharpest is searched within ±``DESKEW_MAX`` degrees;
the full-resolution image is rotated by it and the ink found again.

Whatever it cannot find (a blank or nearly blank image) leaves the image as it was.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from PIL import Image

DETECT_HEIGHT = 48          # detection runs on a copy at most this high
MIN_CONTRAST = 18.0         # grey levels: weaker differences from the background are never ink
PAD_Y = 0.12                # margin kept above and below the band, in band heights
PAD_X = 0.25                # margin kept left and right, in band heights
MAX_GAP = 1.2               # column runs further apart than this (in band heights) are not the same text
MERGE_GAP = 0.35            # row bands closer than this (in heights of the main band) are merged into it
DESKEW_MAX = 40.0           # degrees: the text line's rotation is searched within ±this
DESKEW_STEP = 2.5           # degrees between the angles tried (then refined to a quarter of it)
DESKEW_MIN = 5.0            # lines rotated less than this are left as they are
DESKEW_GAIN = 1.3           # the best angle's profile must be this much sharper than the unrotated one's
DESKEW_ELONGATION = 2.0     # ... and the ink at least this many times longer along the line than across it
FRAME_LINE = 0.6            # a frame's top and bottom lines each span at least this fraction of the box's width
FRAME_INK = 0.2             # ... and the text inside it has at least this fraction of the band's ink
FRAME_SHRINK = 0.85         # the text inside a frame must be at most this fraction of the frame's height
INK_MAX = 0.5               # a mask fuller than this misread the background (see ink_mask)
EDGE = 0.05                 # band heights: a side of the line this close to the image's edge touches it
EDGE_LINE = 0.8             # rows / columns at the image's edge inked along this much of their length are a border


def _median(v: np.ndarray):
    """``np.median`` of a 1-D float32 array (the same value and type) without its generic overhead."""
    n = len(v)
    k = n // 2
    if n % 2:
        return np.partition(v, k)[k]
    p = np.partition(v, (k - 1, k))
    return (p[k - 1] + p[k]) / 2


_RIDGE = np.eye(3, dtype=np.float32) * 1e-6


def _ends(n: int, k: int) -> np.ndarray:
    """The first ``k`` and the last ``k`` of ``n`` indices."""
    return np.concatenate([np.arange(k), np.arange(n - k, n)])


@lru_cache(maxsize=512)
def _ring(h: int, w: int, ring: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """An h×w image's border ring (``ring`` pixels deep): its flat indices, the plane fit's design matrix
    transposed (rows 1, x / w, y / h; 3 × n) and that matrix's normal matrix. Cached: image sizes repeat.

    Order: the top and bottom rows whole, then each left and right column between them."""
    r = max(1, min(ring, h // 4, w // 4))
    m, n_tb = h - 2 * r, 2 * r * w
    rows, cols = _ends(h, r), _ends(w, r)
    index = np.empty(n_tb + 2 * r * m, np.intp)
    index[:n_tb].reshape(2 * r, w)[:] = rows[:, None] * w + np.arange(w)
    index[n_tb:].reshape(2 * r, m)[:] = np.arange(r, h - r) * w + cols[:, None]
    design = np.empty((3, len(index)), np.float32)
    design[0] = 1.0
    design[1, :n_tb].reshape(2 * r, w)[:] = np.arange(w, dtype=np.float32)
    design[1, n_tb:].reshape(2 * r, m)[:] = cols[:, None]
    design[1] /= w
    design[2, :n_tb].reshape(2 * r, w)[:] = rows[:, None]
    design[2, n_tb:].reshape(2 * r, m)[:] = np.arange(r, h - r, dtype=np.float32)
    design[2] /= h
    normal = design @ design.T + _RIDGE
    for arr in (index, design, normal):
        arr.flags.writeable = False
    return index, design, normal


def _solve3(m: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``np.linalg.solve`` for one 3×3 system (Cramer's rule, in float64): a tenth of its per-call overhead."""
    (a0, a1, a2), (b0, b1, b2), (c0, c1, c2) = m.tolist()
    r0, r1, r2 = b.tolist()
    k0, k1, k2 = b1 * c2 - b2 * c1, b2 * c0 - b0 * c2, b0 * c1 - b1 * c0
    det = a0 * k0 + a1 * k1 + a2 * k2
    if abs(det) < 1e-12:
        return np.linalg.lstsq(m.astype(np.float64), b.astype(np.float64), rcond=None)[0].astype(np.float32)
    x0 = r0 * k0 + a1 * (r2 * b2 - r1 * c2) + a2 * (r1 * c1 - r2 * b1)
    x1 = a0 * (r1 * c2 - r2 * b2) + r0 * (b2 * c0 - b0 * c2) + a2 * (b0 * r2 - r1 * c0)
    x2 = a0 * (b1 * r2 - r1 * c1) + a1 * (r1 * c0 - b0 * r2) + r0 * (b0 * c1 - b1 * c0)
    return np.array([x0 / det, x1 / det, x2 / det], np.float32)


def _plane(a: np.ndarray, ring: int = 2) -> np.ndarray:
    """Coefficients (c, b, d) of the plane c + b·x/w + d·y/h fitted by least squares to the border ring, twice:
    the second fit without the first one's outliers (text touching the edges)."""
    index, design, normal = _ring(*a.shape, ring)
    vals = a.ravel().take(index)
    if len(vals) < 6:
        return np.array([_median(vals), 0.0, 0.0], np.float32)
    coef = _solve3(normal, design @ vals)
    res = np.abs(coef @ design - vals)
    keep = res < 3.0 * float(_median(res)) + 7.0        # 3 × (median residual + 1) + 4
    if np.count_nonzero(keep) >= 6:
        d = np.compress(keep, design, axis=1)
        coef = _solve3(d @ d.T + _RIDGE, d @ np.compress(keep, vals))
    return coef


def _otsu(hist: np.ndarray, cum: np.ndarray) -> int:
    """Otsu's threshold of a 256-bin histogram (the first level counted as foreground), given its cumulative sum."""
    levels = _LEVELS[: len(hist)]
    w0 = cum.astype(np.float64)
    w1 = w0[-1] - w0
    m0 = np.cumsum(hist * levels)
    mu0 = m0 / np.maximum(w0, 1e-9)
    mu1 = (m0[-1] - m0) / np.maximum(w1, 1e-9)
    between = w0 * w1 * (mu0 - mu1) ** 2
    return int(np.argmax(between[:-1])) + 1


_LEVELS = np.arange(256, dtype=np.float64)


def _runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """[start, stop) of each run of True."""
    f = np.zeros(len(flags) + 2, bool)
    f[1:-1] = flags
    ends = np.flatnonzero(f[1:] != f[:-1]).tolist()     # start, stop, start, stop, ...
    return list(zip(ends[::2], ends[1::2]))


def _count(mask: np.ndarray, axis: int) -> np.ndarray:
    """``mask.sum(axis)`` of a boolean array (as int32), at about two thirds of its cost."""
    return np.add.reduce(mask.view(np.uint8), axis, dtype=np.int32)


def _run_sums(v: np.ndarray, starts: np.ndarray, stops: np.ndarray) -> np.ndarray:
    """``[v[a:b].sum() for a, b in zip(starts, stops)]`` of an integer array, as an array, in three numpy calls."""
    total = np.zeros(len(v) + 1, np.int64)
    np.cumsum(v, out=total[1:])
    return total[stops] - total[starts]


def ink_mask(grey: np.ndarray) -> np.ndarray:
    """Boolean mask of the pixels that differ from the (planar) background like text does.

    The background is the plane fitted to the border ring. A line drawn along the image's edge (a border a pixel
    or two in) makes that ring two-toned, the plane lands between the two tones and nearly every pixel looks like
    ink; a mask more than ``INK_MAX`` full is taken again against the whole image's median level instead, if
    that finds less ink.
    """
    a = grey.astype(np.float32)
    mask = _mask_against(a, *_plane(a).tolist())
    if np.count_nonzero(mask) > INK_MAX * mask.size:
        a = grey.astype(np.float32)
        level = float(_median(a.ravel()))
        flat = _mask_against(a, level, 0.0, 0.0)
        if np.count_nonzero(flat) < np.count_nonzero(mask):
            return flat
    return mask


def _box_blur(u: np.ndarray) -> np.ndarray:
    """``PIL.ImageFilter.BoxBlur(1)`` of a uint16 array of grey levels (0-255), exactly (uint16 out), in numpy.

    PIL blurs the rows, then the columns, each a 3-wide mean with the edge pixel repeated, rounded to an integer
    by ``(sum * 5592405 + 2**23) >> 24``, which equals ``(sum + 1) // 3`` for every sum of three levels. Kept
    exact (a test compares it with PIL) because the shipped models were trained on the crops it gives; in numpy
    it skips the conversions to and from a PIL image, which cost more than the blur.
    """
    h, w = u.shape
    u = np.ascontiguousarray(u)
    s = np.empty_like(u)
    if w > 1:
        f, sf = u.ravel(), s.ravel()            # along the flat array (contiguous, faster than row slices) ...
        sf[1:-1] = f[:-2]
        sf[1:-1] += f[1:-1]
        sf[1:-1] += f[2:]
        s[:, 0] = u[:, 0] * 2 + u[:, 1]          # ... then each row's ends, which that wrapped to the next row
        s[:, -1] = u[:, -2] + u[:, -1] * 2
    else:
        s[:] = u * 3
    s += 1
    s //= 3
    out = np.empty_like(u)
    if h > 1:
        out[1:-1] = s[:-2]
        out[1:-1] += s[1:-1]
        out[1:-1] += s[2:]
        out[0] = s[0] * 2 + s[1]
        out[-1] = s[-2] + s[-1] * 2
    else:
        out[:] = s * 3
    out += 1
    out //= 3
    return out


def _mask_against(a: np.ndarray, c: float, bx: float, by: float) -> np.ndarray:
    """The ink mask of ``a`` (float32, overwritten) against the background plane c + bx·x/w + by·y/h."""
    h, w = a.shape
    a -= (c + bx * np.arange(w, dtype=np.float32) / w)[None, :]
    a -= (by * np.arange(h, dtype=np.float32) / h)[:, None]
    np.abs(a, out=a)
    # Rounded, not truncated: on a flat background the plane is the level up to float noise, and truncation
    # would make that noise move every pixel by a grey level (and the threshold's decisions with it).
    np.rint(a, out=a)
    diff = _box_blur(np.minimum(a, 255, out=a).astype(np.uint16))
    hist = np.bincount(diff.ravel(), minlength=256)
    cum = np.cumsum(hist)
    top = int(np.searchsorted(cum, cum[-1]))            # the highest level present
    if top < MIN_CONTRAST:
        return np.zeros(diff.shape, bool)
    p995 = int(np.searchsorted(cum, 0.995 * cum[-1]))
    t = max(_otsu(hist[: top + 1], cum[: top + 1]), MIN_CONTRAST, 0.25 * p995)
    return diff >= t


def _drop_edge_lines(ink: np.ndarray) -> np.ndarray:
    """``ink`` without the rows and columns next to the image's edge (the outer twentieth, at least 3 pixels) that
    are inked along at least ``EDGE_LINE`` of their length: a border drawn around the image, which text touching
    it would otherwise join into one block (the frame check needs the text clear of the frame)."""
    h, w = ink.shape
    k = max(3, h // 20)
    if h < 4 * k or w < 4 * k:
        return ink
    lines_y = np.concatenate([_count(ink[:k], 1), _count(ink[h - k:], 1)]) >= EDGE_LINE * w
    lines_x = np.concatenate([_count(ink[:, :k], 0), _count(ink[:, w - k:], 0)]) >= EDGE_LINE * h
    if not (lines_y.any() or lines_x.any()):
        return ink
    ink = ink.copy()
    ink[_ends(h, k)[lines_y]] = False
    ink[:, _ends(w, k)[lines_x]] = False
    return ink


def _detect(grey: np.ndarray) -> tuple[np.ndarray, float, float]:
    """The ink mask of ``grey`` on a copy reduced to about ``DETECT_HEIGHT`` rows, and the reduction (y, x)."""
    h, w = grey.shape
    small = grey
    factor = h // DETECT_HEIGHT
    if factor >= 2 and w >= 2 * factor:
        small = np.asarray(Image.fromarray(grey).reduce(factor))   # box average: fast, keeps thin strokes
    ink = _drop_edge_lines(ink_mask(small))
    return ink, h / ink.shape[0], w / ink.shape[1]


_ANGLES = np.deg2rad(np.arange(-DESKEW_MAX, DESKEW_MAX + 1e-6, DESKEW_STEP))
_JITTER = np.random.default_rng(0).uniform(-0.5, 0.5, (2, 400))


def skew_angle(ink: np.ndarray) -> float:
    """Degrees (counter-clockwise, as ``PIL.Image.rotate`` takes them) that level the text line in ``ink``; 0.0
    when it is level already (within ``DESKEW_MIN``) or no angle is clearly better.

    The ink pixels are projected onto the vertical axis of each candidate rotation: the text line's own angle
    gives the sharpest profile (the largest sum of squared row counts), as a line's rows then hold all its ink.
    """
    # The detection mask at full resolution (at most 2 × DETECT_HEIGHT rows): halving it, as this did at first,
    # doubled the angle's error on rotated lines of 20-48 px text (mean 3.1 -> 2.2 degrees over 160 such lines).
    flat = np.flatnonzero(ink)                          # (a quarter of np.nonzero's time on a 2-D mask)
    if len(flat) < 30:
        return 0.0
    if len(flat) > _JITTER.shape[1]:                    # an even sample is plenty for the profile's shape
        flat = flat[:: -(-len(flat) // _JITTER.shape[1])]
    ys, xs = np.divmod(flat, ink.shape[1])
    # Jitter within each pixel, so that the pixel grid itself does not make 0° (and 90°) look sharpest.
    jitter = _JITTER[:, : len(xs)]
    ys = ys - ys.mean() + jitter[0]
    xs = xs - xs.mean() + jitter[1]
    # Most lines are level: the ink's principal axis (second moments, cheap) says so, and the search is skipped;
    # so it is when the ink has no direction at all (a character or two): its two principal variances, the
    # eigenvalues (trace ± gap) / 2, differ by less than a factor of 2.
    cxx, cyy, cxy = float(xs @ xs), float(ys @ ys), float(xs @ ys)
    axis = 0.5 * np.degrees(np.arctan2(2 * cxy, cxx - cyy))
    gap = np.sqrt(max(0.0, (cxx - cyy) ** 2 + 4 * cxy * cxy))
    major, minor = cxx + cyy + gap, cxx + cyy - gap
    if abs(axis) < 0.8 * DESKEW_MIN or minor <= 0 or major < 2.0 * minor:
        return 0.0

    def sharpness(angles):
        rows = np.rint(np.outer(np.cos(angles), ys) + np.outer(np.sin(angles), xs)).astype(np.int64)
        rows -= rows.min(1, keepdims=True)
        span = int(rows.max()) + 1
        hist = np.bincount((rows + np.arange(len(angles))[:, None] * span).ravel(), minlength=len(angles) * span)
        return (hist.reshape(len(angles), span).astype(np.float64) ** 2).sum(1)

    coarse = sharpness(_ANGLES)
    best = _ANGLES[int(np.argmax(coarse))]
    fine = best + np.deg2rad(DESKEW_STEP) * np.array([-0.5, -0.25, 0.25, 0.5])
    candidates = np.r_[best, fine]
    scores = np.r_[coarse.max(), sharpness(fine)]
    angle = candidates[int(np.argmax(scores))]
    level = coarse[len(_ANGLES) // 2]                   # the unrotated profile (the middle angle is 0)
    if abs(np.rad2deg(angle)) < DESKEW_MIN or scores.max() < DESKEW_GAIN * level:
        return 0.0
    # Only a line is levelled: a character or two have no direction of their own (a lone 7 "leans" 40°).
    along = np.cos(angle) * xs - np.sin(angle) * ys
    across = np.cos(angle) * ys + np.sin(angle) * xs
    spread = np.percentile(np.stack([along, across]), [5, 95], axis=1)
    if spread[1, 0] - spread[0, 0] < DESKEW_ELONGATION * (spread[1, 1] - spread[0, 1]):
        return 0.0
    return float(-np.rad2deg(angle))


def text_box(grey: np.ndarray) -> tuple[int, int, int, int] | None:
    """(left, top, right, bottom) of the text line in ``grey`` (uint8 H×W), without margins; None if none."""
    return _box_from_ink(*_detect(grey))


def _fill_runs(seed: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The pixels of ``mask`` whose run along a row (a maximal stretch of True) holds a pixel of ``seed``."""
    h, w = mask.shape
    m = np.zeros((h, w + 1), bool)              # a False column ends every row's last run
    m[:, :w] = mask
    m = m.ravel()
    starts = m.copy()
    starts[1:] &= ~m[:-1]
    run = np.cumsum(starts)                     # each ink pixel's run, numbered from 1
    hit = np.zeros(int(run[-1]) + 1, bool)
    hit[run.reshape(h, w + 1)[:, :w][seed & mask]] = True
    return (hit[run] & m).reshape(h, w + 1)[:, :w]


def _inside_frame(ink: np.ndarray, box: tuple[int, int, int, int]) -> tuple[int, int, int, int] | None:
    """The text box inside a frame drawn around the text, or None if ``box`` (left, top, right, bottom, in
    ``ink``'s pixels) is not a framed line.

    A frame's sides run through every row of the band, so the band found is the frame's and the text fills only
    part of it: the network then sees small digits in a box. A frame is the ink connected to the band's top rows
    that also reaches its bottom rows and leaves the band's middle empty (a wavy or slightly tilted frame too;
    glyphs touching the top row fill the middle, and an underline alone does not reach the top). Without it,
    the line is looked for again.
    """
    left, top, right, bottom = box
    sub = ink[top:bottom, left:right]
    bh, bw = sub.shape
    if bh < 6 or bw < bh:
        return None
    edge, near = max(1, bh // 10), max(2, bh // 5)    # the seed rows; the rows a (wavy) frame line spans
    if (np.count_nonzero(sub[:near].any(0)) < FRAME_LINE * bw
            or np.count_nonzero(sub[-near:].any(0)) < FRAME_LINE * bw):
        return None
    y0, y1, x0, x1 = bh // 4, bh - bh // 4, bw // 8, bw - bw // 8     # the middle a frame leaves empty
    frame = np.zeros_like(sub)
    frame[:edge] = sub[:edge]
    while True:                                 # the ink connected to the top rows (8-neighbours)
        grown = frame.copy()
        grown[1:] |= frame[:-1]
        grown[:-1] |= frame[1:]
        grown[:, 1:] |= grown[:, :-1]
        grown[:, :-1] |= grown[:, 1:]
        grown &= sub
        # then along the rows and columns of ink it reached: a frame in a few rounds, not one per pixel
        grown = _fill_runs(_fill_runs(grown, sub).T, sub.T).T
        if grown[y0:y1, x0:x1].any():           # it only grows: once in the middle, this is no frame
            return None
        if np.array_equal(grown, frame):
            break
        frame = grown
    if not frame[-edge:].any():
        return None
    rest = sub & ~frame
    if np.count_nonzero(rest) < FRAME_INK * np.count_nonzero(sub):
        return None
    inner = _box_from_ink(rest, 1.0, 1.0, frames=False)
    if inner is None or inner[3] - inner[1] > FRAME_SHRINK * bh:
        return None
    return left + inner[0], top + inner[1], left + inner[2], top + inner[3]


def _box_from_ink(ink: np.ndarray, scale_y: float, scale_x: float,
                  frames: bool = True) -> tuple[int, int, int, int] | None:
    rows = _count(ink, 1)
    if rows.max(initial=0) == 0:
        return None
    row_runs = [r for r in _runs(rows >= max(1, 0.03 * rows.max())) if r[1] > r[0]]
    # The main band is the one with the most ink *edges*, not the most ink: a rule, underline or frame edge
    # spanning the whole width has much ink but one edge per row, text has several per character.
    edges = _count(ink[:, 1:] > ink[:, :-1], 1) + ink[:, 0]
    starts, stops = np.array(row_runs).T
    score = _run_sums(edges, starts, stops) + 1e-3 * _run_sums(rows, starts, stops)
    main = int(np.argmax(score))
    top, bottom = row_runs[main]
    # Grow the band by neighbouring bands that are close (parts of the same line: colons, accents, underlines).
    changed = True
    while changed:
        changed = False
        gap = MERGE_GAP * (bottom - top)
        for a, b in row_runs:
            if b <= top and top - b <= gap and a < top:
                top, changed = a, True
            elif a >= bottom and a - bottom <= gap and b > bottom:
                bottom, changed = b, True
    band = ink[top:bottom]
    band_h = bottom - top
    cols = _count(band, 0)
    col_runs = _runs(cols > 0)
    if not col_runs:
        return None
    k = int(np.argmax(_run_sums(cols, *np.array(col_runs).T)))
    left, right = col_runs[k]
    max_gap = MAX_GAP * band_h + 1
    for a, b in reversed(col_runs[:k]):
        if left - b > max_gap:
            break
        left = a
    for a, b in col_runs[k + 1:]:
        if a - right > max_gap:
            break
        right = b
    if band_h < 2 or right - left < 1:
        return None
    if frames and (framed := _inside_frame(ink, (left, top, right, bottom))) is not None:
        left, top, right, bottom = framed
    return (int(np.floor(left * scale_x)), int(np.floor(top * scale_y)), int(np.ceil(right * scale_x)),
            int(np.ceil(bottom * scale_y)))


def crop_to_text(grey: np.ndarray, pad_y: float = PAD_Y, pad_x: float = PAD_X, deskew: bool = True,
                 pad_edges: bool = False) -> np.ndarray:
    """Crop a grey uint8 image to its text line plus a margin; unchanged if no text is found.

    ``deskew``: a line rotated by more than ``DESKEW_MIN`` degrees is first turned level (:func:`skew_angle`).
    ``pad_edges``: an image cut out at its text (three or four sides of the line within ``EDGE`` band heights of
    the image's edge) gets its whole margin, the part outside the image in the background's grey (off by default,
    ``--pad-edges`` / ``Recognizer.load(pad_edges=True)`` for images known to be cut at their text; captchas, whose
    text fills the image, read worse with it: docs/READING.md#pad-edges).
    """
    if grey.ndim != 2 or min(grey.shape) < 4:
        return grey
    found = _detect(grey)
    angle = skew_angle(found[0]) if deskew else 0.0
    if angle:
        fill = int(np.median(np.r_[grey[0], grey[-1], grey[:, 0], grey[:, -1]]))
        grey = np.asarray(Image.fromarray(grey).rotate(angle, resample=Image.BILINEAR, expand=True, fillcolor=fill))
        found = _detect(grey)
    box = _box_from_ink(*found)
    if box is None:
        return grey
    left, top, right, bottom = box
    band = bottom - top
    h, w = grey.shape
    py, px = pad_y * band, pad_x * band
    t, b = max(0, int(round(top - py))), min(h, int(round(bottom + py)))
    le, r = max(0, int(round(left - px))), min(w, int(round(right + px)))
    if b - t < 2 or r - le < 2:
        return grey
    edge = EDGE * band
    if pad_edges and (top <= edge) + (h - bottom <= edge) + (left <= edge) + (w - right <= edge) >= 3:
        return _padded(grey, found[0], (top - py, bottom + py, left - px, right + px))
    return grey[t:b, le:r]


def _padded(grey: np.ndarray, ink: np.ndarray, want: tuple[float, float, float, float]) -> np.ndarray:
    """``grey`` cut to rows ``want[0]:want[1]`` and columns ``want[2]:want[3]``, what lies outside the image filled
    with the background's grey: the median of the pixels of the detection copy (:func:`_detect`, whose mask
    ``ink`` is) that are not ink."""
    h, w = grey.shape
    t, b, le, r = (int(round(v)) for v in want)
    small = grey if ink.shape == grey.shape else np.asarray(Image.fromarray(grey).reduce(h // DETECT_HEIGHT))
    rest = small[~ink]
    fill = int(np.median(rest)) if rest.size else int(np.median(grey))
    out = np.full((b - t, r - le), fill, dtype=np.uint8)
    y0, x0 = max(0, t), max(0, le)
    y1, x1 = min(h, b), min(w, r)
    out[y0 - t:y1 - t, x0 - le:x1 - le] = grey[y0:y1, x0:x1]
    return out
