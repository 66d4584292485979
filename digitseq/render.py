"""Render one text image from (text, font, style, rng).

Every source of variation is a field of :class:`RenderStyle`, with a default, and each can be
turned off; ``RenderStyle.clean()`` turns them all off. The same ``rng`` seed gives byte-identical
images. Pipeline (each stage can be shown with ``steps=``)::

    glyphs on a mask (size, spacing, baseline jitter, weight; mixed fonts, per-character turn / scale /
    offset, boxes; or seven-segment digits) -> strokes (thinner / thicker, dot matrix, hollow, shadow,
    frame, underline) -> geometry (shear, stretch, elastic warp, wave, perspective, rotation)
    -> crop with margins (or layout stress) -> clutter (neighbours, specks, captcha lines, dot noise)
    -> colours on a background (plain / gradient / noisy, minimum contrast) -> motion blur -> blur
    -> low resolution -> pixel noise -> JPEG artefacts

Character layout lives in :mod:`digitseq.glyphs`, shape effects in :mod:`digitseq.effects`, display
lettering in :mod:`digitseq.displays`, layout stress and clutter in :mod:`digitseq.clutter`.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace

import numpy as np
from PIL import Image, ImageFilter

from .clutter import captcha_lines, dot_noise, frame_and_underline, neighbours, specks, stress_margins
from .displays import dot_matrix, draw_segments, segment_chars
from .effects import change_stroke, drop_shadow, hollow, mesh_warp, motion_blur, perspective
from .fonts import get_font
from .glyphs import draw_glyphs

# Layout-stressed images larger than this (pixels) are scaled down: the model sees them 32 px high anyway.
STRESS_AREA = 20_000
# Rec. 601 luma weights: the same ones PIL's convert("L") uses.
LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)


@dataclass(frozen=True)
class RenderStyle:
    """Knobs of the renderer. Ranges are (low, high); probabilities are in [0, 1]."""

    font_size: tuple[int, int] = (24, 44)          # pixels
    spacing: tuple[float, float] = (-0.08, 0.3)     # extra gap between characters, in em (<0 overlaps)
    baseline_jitter: float = 0.04                   # std of each character's vertical offset, in em
    weight: float = 0.3                             # probability of bolder or thinner strokes than the font's
    margin: tuple[float, float] = (0.03, 0.5)       # each side, in em (top/bottom use half)
    rotation: float = 3.0                           # max |degrees|
    shear: float = 0.25                             # max |horizontal shear| (italic-like slant)
    light_on_dark: float = 0.25                     # probability of inverted polarity
    colour: float = 0.3                             # probability of coloured text / background
    min_contrast: float = 0.35                      # min luminance difference text vs background, 0..1
    black_on_white: bool = False                    # True: pure black text on white, no colour draws
    gradient: float = 0.25                          # probability of a gradient background
    noisy_background: float = 0.2                   # probability of a blotchy background
    blur: float = 0.3                               # probability of Gaussian blur
    blur_radius: tuple[float, float] = (0.3, 1.3)
    low_res: float = 0.2                            # probability of down- then up-sampling
    low_res_scale: tuple[float, float] = (0.35, 0.75)
    noise: float = 0.4                              # probability of pixel noise
    noise_std: tuple[float, float] = (2.0, 14.0)    # on the 0..255 scale
    jpeg: float = 0.3                               # probability of JPEG compression
    jpeg_quality: tuple[int, int] = (20, 90)
    # --- glyph shapes (issue 9) ---
    mixed_fonts: float = 0.1                        # probability that some characters use another font (alt_fonts)
    mixed_share: tuple[float, float] = (0.2, 0.5)   # share of the characters switched to the other font
    char_transform: float = 0.15                    # probability of per-character rotation / scale / offset
    char_rotation: float = 10.0                     # max |degrees| of each character's own rotation
    char_scale: tuple[float, float] = (0.8, 1.2)    # each character's size factor
    char_offset: float = 0.1                        # max |extra baseline offset| of each character, in em
    stroke: float = 0.15                            # probability of morphological thinning / thickening (*)
    stroke_change: tuple[float, float] = (-0.06, 0.05)  # stroke change per side, in em (<0 thinner)
    outline: float = 0.05                           # probability of hollow (outlined) glyphs (*)
    shadow: float = 0.05                            # probability of a drop shadow
    dot_matrix: float = 0.05                        # probability of dot-matrix lettering (*)
    # (*) at most one of these three per image: they are tried in turn on one uniform draw.
    segment: float = 0.05                           # probability of seven-segment digits (digit-only text)
    char_box: float = 0.08                          # probability of each character in its own box
    char_box_filled: float = 0.5                    # share of boxes filled (text light on a dark box)
    frame: float = 0.05                             # probability of a frame around the text
    underline: float = 0.05                         # probability of an underline
    overlap: float = 0.05                           # probability of tightly overlapping characters
    zero_mark: float = 0.05                         # probability that the zeros carry a slash, dot or bar
    # --- geometry ---
    stretch: float = 0.15                           # probability of a condensed or wide cut (horizontal scale)
    stretch_range: tuple[float, float] = (0.65, 1.5)  # horizontal scale factor (drawn log-uniformly)
    perspective: float = 0.1                        # probability of a perspective (keystone) transform
    perspective_strength: float = 0.2               # max corner shift, as a fraction of the canvas height
    warp: float = 0.1                               # probability of a smooth random (elastic) warp
    warp_strength: tuple[float, float] = (0.02, 0.06)   # displacement std, in em
    wave: float = 0.08                              # probability of a sinusoidal wave
    wave_amplitude: tuple[float, float] = (0.04, 0.12)  # in em
    wave_length: tuple[float, float] = (1.5, 4.0)   # period, in em
    big_rotation: float = 0.05                      # probability of a large rotation (the box grows)
    big_rotation_range: float = 25.0                # max |degrees| of a large rotation
    # --- layout and clutter ---
    layout: float = 0.2                             # probability of layout stress (uneven, large margins)
    ink_height: tuple[float, float] = (0.15, 1.0)   # under layout stress: share of the image height the ink fills
    side_margin: tuple[float, float] = (0.0, 2.5)   # under layout stress: each side, in ink heights
    specks: float = 0.08                            # probability of dust specks and stray marks
    neighbours: float = 0.08                        # probability of bits of other text / lines at the edges
    captcha_lines: float = 0.05                     # probability of 1-3 lines or arcs across the text
    dot_noise: float = 0.05                         # probability of scattered ink dots
    dot_density: tuple[float, float] = (0.003, 0.02)  # share of pixels hit by dot noise
    motion_blur: float = 0.05                       # probability of motion blur
    motion_length: tuple[float, float] = (2.0, 6.0)  # in px

    @classmethod
    def clean(cls) -> RenderStyle:
        """Black text on white, fixed size and spacing, no distortion or degradation."""
        return cls(font_size=(32, 32), spacing=(0.05, 0.05), baseline_jitter=0.0, weight=0.0, margin=(0.2, 0.2),
                   black_on_white=True,
                   rotation=0.0, shear=0.0, light_on_dark=0.0, colour=0.0, gradient=0.0,
                   noisy_background=0.0, blur=0.0, low_res=0.0, noise=0.0, jpeg=0.0,
                   **{name: 0.0 for name in EXTRA_EFFECTS})

    @classmethod
    def augmented(cls) -> RenderStyle:
        """The training default: every effect on with a modest probability, most samples stay plain."""
        return cls()

    @classmethod
    def classic(cls) -> RenderStyle:
        """The augmented style as it was before the issue-9 effects: the regular test sets keep using it, so
        their numbers stay comparable across releases."""
        return cls(**{name: 0.0 for name in EXTRA_EFFECTS})

    @classmethod
    def wild(cls) -> RenderStyle:
        """Heavy layout stress and distortion: for drawing a hard test set (with unseen fonts). The marked zero came
        after the wild test sets were drawn and stays off here, so that they stay the images every release was
        measured on (with it off the renderer draws nothing more from the generator)."""
        return cls(mixed_fonts=0.2, char_transform=0.3, stroke=0.3, outline=0.1, shadow=0.1, dot_matrix=0.1,
                   segment=0.1, char_box=0.15, frame=0.15, underline=0.1, overlap=0.1, stretch=0.3, perspective=0.3,
                   perspective_strength=0.25, warp=0.3, wave=0.2, big_rotation=0.2, big_rotation_range=35.0,
                   layout=0.7, specks=0.3, neighbours=0.3, captcha_lines=0.1, dot_noise=0.1, motion_blur=0.15,
                   zero_mark=0.0)

    @classmethod
    def captcha(cls) -> RenderStyle:
        """Captcha-like: lines and arcs through the text, dot noise, overlapping, rotated and waved characters.

        Characters turn by up to ±30° each, as captcha generators commonly turn them: at ±12° (as first drawn)
        the shipped model read a third of third-party captchas, mostly confusing a turned 7 with 1 (it read 70 %
        of this style in training fonts at ±12° and 44 % at ±30°; docs/HISTORY.md#captcha30, bench_captcha)."""
        return cls(mixed_fonts=0.5, char_transform=0.9, char_rotation=30.0, overlap=0.25, warp=0.4, wave=0.5,
                   captcha_lines=0.8, dot_noise=0.6, specks=0.3, outline=0.05, stroke=0.15, stroke_change=(-0.05, 0.02), char_scale=(0.85, 1.15),
                   shadow=0.0, frame=0.0, char_box=0.0,
                   segment=0.0, dot_matrix=0.0, layout=0.1, colour=0.6, noisy_background=0.4, blur=0.2, low_res=0.1)

    @classmethod
    def dots(cls) -> RenderStyle:
        """The augmented style with dot-matrix lettering on every image drawn in plain font glyphs (boxed
        characters and seven-segment digits are not gridded): the wild style's costliest single effect. Alone on every image
        it cost the shipped digit model 27 points in the held-out test fonts and 36 in its own training fonts,
        where no other effect cost more than 3 (``benchmarks/bench_effects.py``, docs/ERRORS.md#effects)."""
        return cls(dot_matrix=1.0)

    @classmethod
    def zeros(cls) -> RenderStyle:
        """The augmented style with every zero marked (a slash, dot or bar, one kind per string): such zeros cost
        the digit model 6-7 points on 8-digit strings in its training fonts and the wild families, where 1 in
        the ordinary test ones (``benchmarks/bench_effects.py --effects zero_mark``), and a pixel font with a
        slashed zero was read 0 -> 8 in 9 of its 11 matplotlib images (``foreign_clean5``)."""
        return cls(zero_mark=1.0)

    @classmethod
    def named(cls, name: str) -> RenderStyle:
        if name not in STYLES:
            raise ValueError(f"style must be one of {', '.join(STYLES)}; got {name!r}")
        return getattr(cls, name)()

    def with_(self, **changes) -> RenderStyle:
        return replace(self, **changes)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> RenderStyle:
        """The style ``to_dict`` gave, also after a JSON round trip (``meta.json``), which turns ranges into lists.
        An effect missing from ``d`` (a folder drawn before it existed) was off."""
        off = {name: 0.0 for name in EXTRA_EFFECTS if name not in d}
        return cls(**off, **{k: tuple(v) if isinstance(v, list) else v for k, v in d.items()})


STYLES = ("clean", "classic", "augmented", "wild", "captcha", "dots", "zeros")
# The probabilities added for issue 9 (all 0 in the clean style).
EXTRA_EFFECTS = ("mixed_fonts", "char_transform", "stroke", "outline", "shadow", "dot_matrix", "segment", "char_box",
                "frame", "underline", "overlap", "stretch", "perspective", "warp", "wave", "big_rotation", "layout", "specks",
                "neighbours", "captcha_lines", "dot_noise", "motion_blur", "zero_mark")


def render(text: str, font_path: str, style: RenderStyle | None = None,
           rng: np.random.Generator | int | None = None, steps: dict | None = None,
           alt_fonts: Sequence[str] | None = None) -> Image.Image:
    """Render ``text`` in the font at ``font_path``; returns an RGB image of natural size.

    ``rng`` is a NumPy Generator or a seed. ``alt_fonts`` are the fonts that mixed-font samples may
    borrow characters from (they must draw every character of ``text``). Pass a dict as ``steps`` to
    receive the image after each stage (``"glyphs"``, ``"strokes"``, ``"geometry"``, ``"clutter"``,
    ``"colour"``, ``"motion_blur"``, ``"blur"``, ``"low_res"``, ``"noise"``, ``"jpeg"``) and the text
    mask (``"mask"``, float in 0..1, same size as the output), and the final font size in px (``"size"``,
    after any shrinking).
    """
    if not text:
        raise ValueError("cannot render an empty string")
    style = style or RenderStyle()
    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)

    size = int(rng.integers(style.font_size[0], style.font_size[1] + 1))
    if rng.random() < style.segment and set(text) <= set(segment_chars()):
        mask, plain = draw_segments(text, size, rng, pad=size), False
    else:
        mask, boxed = draw_glyphs(text, font_path, size, style, rng, alt_fonts or ())
        plain = not boxed
    if steps is not None:
        steps["glyphs"] = _crop_to_ink(mask, 0.2 * size, 0.1 * size)
    mask, size, fragile = _strokes(mask, size, style, rng, plain)
    _record(steps, "strokes", mask)
    mask = _geometry(mask, size, style, rng, fragile)
    stressed = rng.random() < style.layout
    box = mask.getbbox()
    if stressed and box is not None:
        mx, my = stress_margins(box[3] - box[1], style.ink_height, style.side_margin, rng)
    else:
        mx = rng.uniform(*style.margin, size=2) * size
        my = rng.uniform(*style.margin, size=2) * size * 0.5
    mask = _crop_to_ink(mask, mx, my)
    if stressed and mask.width * mask.height > STRESS_AREA:   # huge margins: shrink rather than colour many pixels
        # ... but keep the ink at least 32 px high (or as it is), so that it stays legible.
        s = max((STRESS_AREA / (mask.width * mask.height)) ** 0.5, min(1.0, 32 / max(1, box[3] - box[1])))
        mask = mask.resize((max(1, round(mask.width * s)), max(1, round(mask.height * s))), Image.BILINEAR)
        size = max(1, round(size * s))
    if steps is not None:
        steps["geometry"] = mask
        steps["size"] = size
    mask = _clutter(mask, text, font_path, size, style, rng)
    m = np.asarray(mask, dtype=np.float32) / 255.0
    if rng.random() < style.dot_noise:
        m = dot_noise(m, rng, rng.uniform(*style.dot_density))
    if steps is not None:
        steps["clutter"] = Image.fromarray((m * 255).astype(np.uint8))
        steps["mask"] = m

    img = _colourise(m, style, rng)
    if steps is not None:
        steps["colour"] = img
    if rng.random() < style.motion_blur:
        img = motion_blur(img, rng.uniform(*style.motion_length), rng.uniform(0, np.pi))
        _record(steps, "motion_blur", img)
    # Fragile lettering (dots, thin or hollow strokes) skips blur and low resolution; small far-away
    # text (layout stress) skips low resolution.
    if rng.random() < style.blur and not fragile:
        img = img.filter(ImageFilter.GaussianBlur(float(rng.uniform(*style.blur_radius))))
        _record(steps, "blur", img)
    if rng.random() < style.low_res and not (fragile or stressed):
        scale = rng.uniform(*style.low_res_scale)
        w, h = img.size
        small = img.resize((max(1, round(w * scale)), max(1, round(h * scale))), Image.BILINEAR)
        img = small.resize((w, h), Image.BILINEAR)
        _record(steps, "low_res", img)
    if rng.random() < style.noise:
        arr = np.asarray(img, dtype=np.float32)
        arr = arr + rng.normal(0.0, rng.uniform(*style.noise_std), size=arr.shape).astype(np.float32)
        img = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))
        _record(steps, "noise", img)
    if rng.random() < style.jpeg:
        buf = io.BytesIO()
        img.save(buf, format="JPEG", quality=int(rng.integers(style.jpeg_quality[0], style.jpeg_quality[1] + 1)))
        img = Image.open(io.BytesIO(buf.getvalue())).convert("RGB")
        _record(steps, "jpeg", img)
    return img


def _record(steps: dict | None, name: str, img: Image.Image) -> None:
    if steps is not None:
        steps[name] = img


def _strokes(mask: Image.Image, size: int, style: RenderStyle, rng: np.random.Generator,
             plain: bool) -> tuple[Image.Image, int, bool]:
    """Stroke width, dot matrix, hollow glyphs, drop shadow, frame and underline, on the unrotated mask.

    Returns (mask, font size, fragile): dot matrix doubles small text first (so that a glyph spans
    enough dots), and fragile says the lettering would not survive blur. ``plain``: font glyphs without
    boxes, the only lettering that gets dot matrix or a frame.
    """
    # At most one of dot matrix, stroke change and outline: together they make text illegible.
    u = rng.random()
    fragile = False
    if plain and u < style.dot_matrix:
        if size < 40:
            mask, size = mask.resize((mask.width * 2, mask.height * 2), Image.BILINEAR), size * 2
        mask, fragile = dot_matrix(mask, size, rng), True
    elif u < style.dot_matrix + style.stroke:
        k = rng.uniform(*style.stroke_change) * size
        k = float(np.copysign(max(0.5, abs(k)), k))       # at least half a pixel: a visible change
        mask, fragile = change_stroke(mask, k), k < 0
    elif u < style.dot_matrix + style.stroke + style.outline:
        mask, fragile = hollow(mask, max(1, round(size * rng.uniform(0.03, 0.06)))), True
    if rng.random() < style.shadow:
        a = rng.uniform(0, 2 * np.pi) if rng.random() < 0.3 else rng.uniform(0.2, 1.3)
        d = size * rng.uniform(0.04, 0.12)
        mask = drop_shadow(mask, round(d * np.cos(a)), round(d * np.sin(a)), rng.uniform(0.35, 0.7),
                           rng.uniform(0, 2) if rng.random() < 0.5 else 0.0)
    frame, underline = rng.random() < style.frame and plain, rng.random() < style.underline
    if frame or underline:
        mask = frame_and_underline(mask, size, rng, frame, underline)
    return mask, size, fragile


def _geometry(mask: Image.Image, size: int, style: RenderStyle, rng: np.random.Generator,
              fragile: bool = False) -> Image.Image:
    mask = _crop_to_ink(mask, 0.5 * size, 0.5 * size)    # less area to transform; room enough for shear and warp
    shear = rng.uniform(-style.shear, style.shear) if style.shear else 0.0
    if shear:
        w, h = mask.size
        # x_src = x_dst + shear * (y_dst - h/2): slants around the vertical centre, size unchanged.
        mask = mask.transform((w, h), Image.AFFINE, (1, shear, -shear * h / 2, 0, 1, 0), resample=Image.BILINEAR)
    if rng.random() < style.stretch:
        f = float(np.exp(rng.uniform(*np.log(style.stretch_range))))
        mask = mask.resize((max(1, round(mask.width * f)), mask.height), Image.BILINEAR)
    warp, wave = rng.random() < style.warp, rng.random() < style.wave
    if (warp or wave) and not fragile:     # warping dots or hairlines makes a mess
        mask = mesh_warp(mask, size, rng, elastic=rng.uniform(*style.warp_strength) if warp else 0.0,
                         wave_amplitude=rng.uniform(*style.wave_amplitude) if wave else 0.0,
                         wave_length=rng.uniform(*style.wave_length))
    if rng.random() < style.perspective:
        mask = perspective(_crop_to_ink(mask, 0.3 * size, 0.3 * size), style.perspective_strength, rng)
    if rng.random() < style.big_rotation:
        angle = rng.uniform(-style.big_rotation_range, style.big_rotation_range)
    else:
        angle = rng.uniform(-style.rotation, style.rotation) if style.rotation else 0.0
    if angle:
        mask = mask.rotate(angle, resample=Image.BILINEAR, expand=True)
    return mask


def _clutter(mask: Image.Image, text: str, font_path: str, size: int, style: RenderStyle,
             rng: np.random.Generator) -> Image.Image:
    if rng.random() < style.neighbours:
        mask = neighbours(mask, size, get_font(font_path, size), text, rng)
    if rng.random() < style.specks:
        mask = specks(mask, size, rng)
    if rng.random() < style.captcha_lines:
        mask = captcha_lines(mask, size, rng)
    return mask


def _crop_to_ink(mask: Image.Image, mx, my) -> Image.Image:
    """Crop to the inked box plus margins (scalars, or (left, right) / (top, bottom) pairs)."""
    box = mask.getbbox()
    if box is None:  # nothing drawn (e.g. a space-only string): keep a small blank canvas
        return Image.new("L", (max(8, mask.width // 4), max(8, mask.height // 3)), 0)
    mx = np.broadcast_to(np.asarray(mx, dtype=float), (2,))
    my = np.broadcast_to(np.asarray(my, dtype=float), (2,))
    left, top, right, bottom = box
    return mask.crop((int(left - mx[0]), int(top - my[0]), int(np.ceil(right + mx[1])), int(np.ceil(bottom + my[1]))))


def _pick_colours(style: RenderStyle, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(foreground, background) RGB in 0..1 whose luminances differ by at least min_contrast."""
    if style.black_on_white:
        return np.zeros(3, np.float32), np.ones(3, np.float32)
    need = style.min_contrast
    if rng.random() < style.colour:
        for _ in range(50):
            fg, bg = rng.random(3).astype(np.float32), rng.random(3).astype(np.float32)
            if abs(float(LUMA @ fg) - float(LUMA @ bg)) >= need + 0.05:
                return fg, bg
    # Grey levels: a light background and a dark enough text, or the other way round.
    bg = rng.uniform(min(1.0, need + 0.3), 1.0)
    fg = rng.uniform(0.0, bg - need - 0.05)
    if rng.random() < style.light_on_dark:
        fg, bg = 1.0 - fg, 1.0 - bg
    return np.full(3, fg, np.float32), np.full(3, bg, np.float32)


def _colourise(m: np.ndarray, style: RenderStyle, rng: np.random.Generator) -> Image.Image:
    h, w = m.shape
    fg, bg = _pick_colours(style, rng)
    # Background variation may eat into the contrast only down to min_contrast.
    slack = max(0.0, abs(float(LUMA @ fg) - float(LUMA @ bg)) - style.min_contrast)
    away = np.sign(float(LUMA @ bg) - float(LUMA @ fg)) or 1.0   # move the background away from the text
    field = None
    u = rng.random()
    if u < style.gradient:
        angle = rng.uniform(0, 2 * np.pi)
        xx = np.arange(w, dtype=np.float32)[None, :] / max(w, 1)
        yy = np.arange(h, dtype=np.float32)[:, None] / max(h, 1)
        g = np.cos(angle) * xx + np.sin(angle) * yy
        field = (g - g.min()) / (np.ptp(g) + 1e-6)
    elif u < style.gradient + style.noisy_background:
        small = rng.random((max(2, h // 8), max(2, w // 8))).astype(np.float32)
        field = np.asarray(Image.fromarray(small).resize((w, h), Image.BICUBIC), dtype=np.float32)
        field = np.clip(field, 0, 1)
    amplitude = min(slack, 0.35)
    # The background, its variation where there is no text, the text colour where there is.
    shade = (away * amplitude * field) * (1.0 - m) if field is not None and amplitude else np.float32(0)
    if (fg == fg[0]).all() and (bg == bg[0]).all():   # grey: one channel is enough
        img = (bg[0] + shade + (fg[0] - bg[0]) * m) * 255.0 + 0.5
        return Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).convert("RGB")
    img = bg + (fg - bg) * m[..., None] + np.asarray(shade, np.float32)[..., None]
    return Image.fromarray(np.clip(img * 255.0 + 0.5, 0, 255).astype(np.uint8))
