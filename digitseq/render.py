"""Render one text image from (text, font, style, rng).

Every source of variation is a field of :class:`RenderStyle`, with a default, and each can be
turned off; ``RenderStyle.clean()`` turns them all off. The same ``rng`` seed gives byte-identical
images. Pipeline (each stage can be shown with ``steps=``)::

    glyphs on a mask (size, spacing, baseline jitter, stroke weight) -> rotate + shear -> crop with margins
    -> colours on a background (plain / gradient / noisy, minimum contrast) -> blur
    -> low resolution -> pixel noise -> JPEG artefacts
"""

from __future__ import annotations

import io
from dataclasses import asdict, dataclass, replace

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from .fonts import get_font

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

    @classmethod
    def clean(cls) -> RenderStyle:
        """Black text on white, fixed size and spacing, no distortion or degradation."""
        return cls(font_size=(32, 32), spacing=(0.05, 0.05), baseline_jitter=0.0, weight=0.0, margin=(0.2, 0.2),
                   black_on_white=True,
                   rotation=0.0, shear=0.0, light_on_dark=0.0, colour=0.0, gradient=0.0,
                   noisy_background=0.0, blur=0.0, low_res=0.0, noise=0.0, jpeg=0.0)

    @classmethod
    def augmented(cls) -> RenderStyle:
        return cls()

    @classmethod
    def named(cls, name: str) -> RenderStyle:
        if name not in ("clean", "augmented"):
            raise ValueError(f"style must be 'clean' or 'augmented', got {name!r}")
        return getattr(cls, name)()

    def with_(self, **changes) -> RenderStyle:
        return replace(self, **changes)

    def to_dict(self) -> dict:
        return asdict(self)


def render(text: str, font_path: str, style: RenderStyle | None = None,
           rng: np.random.Generator | int | None = None, steps: dict | None = None) -> Image.Image:
    """Render ``text`` in the font at ``font_path``; returns an RGB image of natural size.

    ``rng`` is a NumPy Generator or a seed. Pass a dict as ``steps`` to receive the image after each
    stage (``"glyphs"``, ``"geometry"``, ``"colour"``, ``"blur"``, ``"low_res"``, ``"noise"``,
    ``"jpeg"``) and the text mask (``"mask"``, float in 0..1, same size as the output).
    """
    if not text:
        raise ValueError("cannot render an empty string")
    style = style or RenderStyle()
    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)

    size = int(rng.integers(style.font_size[0], style.font_size[1] + 1))
    mask = _draw_glyphs(text, font_path, size, style, rng)
    if steps is not None:
        steps["glyphs"] = _crop_to_ink(mask, 0.2 * size, 0.1 * size)
    mask = _geometry(mask, style, rng)
    mx = rng.uniform(*style.margin, size=2) * size
    my = rng.uniform(*style.margin, size=2) * size * 0.5
    mask = _crop_to_ink(mask, mx, my)
    m = np.asarray(mask, dtype=np.float32) / 255.0
    if steps is not None:
        steps["geometry"] = mask
        steps["mask"] = m

    img = _colourise(m, style, rng)
    if steps is not None:
        steps["colour"] = img
    if rng.random() < style.blur:
        img = img.filter(ImageFilter.GaussianBlur(float(rng.uniform(*style.blur_radius))))
        _record(steps, "blur", img)
    if rng.random() < style.low_res:
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


_THIN_LUT = [round(255 * (v / 255) ** 2) for v in range(256)]


def _record(steps: dict | None, name: str, img: Image.Image) -> None:
    if steps is not None:
        steps[name] = img


def _draw_glyphs(text: str, font_path: str, size: int, style: RenderStyle,
                 rng: np.random.Generator) -> Image.Image:
    """White glyphs on a black mask with room to spare around them for rotation and shear."""
    font = get_font(font_path, size)
    ascent, descent = font.getmetrics()
    advances = [font.getlength(ch) for ch in text]
    # Overlap at most 30% of the narrowest character so glyphs never swap order.
    gap = max(rng.uniform(*style.spacing) * size, -0.3 * min(a for a in advances if a > 0) if any(advances) else 0)
    pad = size
    stroke = 0
    thin = False
    if rng.random() < style.weight:
        if rng.random() < 0.5:
            stroke = max(1, round(size / 40))   # bolder: outline the glyphs in their own colour
        else:
            thin = True                         # thinner: square the anti-aliased coverage (soft erosion)
    width = int(sum(advances) + gap * max(0, len(text) - 1) + 2 * pad) + 1
    height = int(ascent + descent + 2 * pad) + 1
    mask = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(mask)
    x = float(pad)
    jitter = rng.normal(0.0, style.baseline_jitter * size, size=len(text)) if style.baseline_jitter else np.zeros(len(text))
    for ch, adv, dy in zip(text, advances, jitter):
        draw.text((x, pad + ascent + float(dy)), ch, font=font, fill=255, anchor="ls", stroke_width=stroke,
                  stroke_fill=255)
        x += adv + gap
    if thin:
        mask = mask.point(_THIN_LUT)
    return mask


def _geometry(mask: Image.Image, style: RenderStyle, rng: np.random.Generator) -> Image.Image:
    shear = rng.uniform(-style.shear, style.shear) if style.shear else 0.0
    if shear:
        w, h = mask.size
        # x_src = x_dst + shear * (y_dst - h/2): slants around the vertical centre, size unchanged.
        mask = mask.transform((w, h), Image.AFFINE, (1, shear, -shear * h / 2, 0, 1, 0), resample=Image.BILINEAR)
    angle = rng.uniform(-style.rotation, style.rotation) if style.rotation else 0.0
    if angle:
        mask = mask.rotate(angle, resample=Image.BILINEAR, expand=True)
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
    field = np.zeros((h, w), np.float32)
    u = rng.random()
    if u < style.gradient:
        angle = rng.uniform(0, 2 * np.pi)
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        g = np.cos(angle) * xx / max(w, 1) + np.sin(angle) * yy / max(h, 1)
        field = (g - g.min()) / (np.ptp(g) + 1e-6)
    elif u < style.gradient + style.noisy_background:
        small = rng.random((max(2, h // 8), max(2, w // 8))).astype(np.float32)
        field = np.asarray(Image.fromarray(small).resize((w, h), Image.BICUBIC), dtype=np.float32)
        field = np.clip(field, 0, 1)
    amplitude = min(slack, 0.35)
    bg_img = bg[None, None, :] + (away * amplitude * field)[..., None]
    img = bg_img * (1.0 - m[..., None]) + fg[None, None, :] * m[..., None]
    return Image.fromarray(np.clip(img * 255.0 + 0.5, 0, 255).astype(np.uint8))
