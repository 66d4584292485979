"""Text drawn by Skia (skia-python), for a benchmark whose images neither our renderer nor matplotlib made.

Skia is the rasteriser of Chrome and Android: its own font scaler settings (aliased, anti-aliased or subpixel
edges, four hinting levels, synthetic bold and italic, horizontal scaling), its own glyph placement (here: letter
spacing, a wavering baseline, text set along an arc), its own paint (solid, gradient-filled or outlined glyphs),
and its own filters (blur mask, drop shadow, erode / dilate, a displacement map driven by fractal noise), on
flat, gradient or noise-textured backgrounds, under a rotation or a slight perspective. None of it is code or
statistics from ``digitseq.render``. Only the colour pairs (contrast rule) and the final pixel noise and JPEG come
from ``bench_foreign``, so the two benchmarks share their end of the pipeline and differ in everything that draws.

Optional extra (``requirements-peers.txt``): ``pip install skia-python``.
"""

from __future__ import annotations

import math

import numpy as np
from bench_foreign import _colours, noise_and_jpeg
from PIL import Image

try:
    import skia
except ImportError:   # the optional extra is missing: draw() says so
    skia = None


def _colour(rgb) -> int:
    return skia.Color(*(int(v) for v in rgb))


def _font(path: str, px: float, rng: np.random.Generator):
    font = skia.Font(skia.Typeface.MakeFromFile(path), px)
    font.setEdging([skia.Font.Edging.kAlias, skia.Font.Edging.kAntiAlias,
                    skia.Font.Edging.kSubpixelAntiAlias][int(rng.choice(3, p=[0.1, 0.6, 0.3]))])
    font.setHinting([skia.FontHinting.kNone, skia.FontHinting.kSlight, skia.FontHinting.kNormal,
                     skia.FontHinting.kFull][int(rng.integers(4))])
    font.setSubpixel(bool(rng.random() < 0.5))
    if rng.random() < 0.15:
        font.setEmbolden(True)
    if rng.random() < 0.2:
        font.setSkewX(float(rng.uniform(-0.25, 0.05)))
    if rng.random() < 0.3:
        font.setScaleX(float(rng.uniform(0.75, 1.3)))
    return font


def _blob(text: str, font, px: float, rng: np.random.Generator):
    """The text as a blob of positioned glyphs (letter spacing; sometimes a wavering baseline or an arc),
    and its advance width."""
    widths = font.getWidths(font.textToGlyphs(text))
    spacing = float(rng.uniform(-0.06, 0.2)) * px
    x = np.concatenate([[0.0], np.cumsum(np.asarray(widths) + spacing)])
    layout = rng.choice(3, p=[0.6, 0.25, 0.15])
    if layout == 1:    # each glyph on its own baseline
        dy = rng.uniform(-0.08, 0.08, len(text)) * px
        return skia.TextBlob.MakeFromPosText(text, [skia.Point(float(a), float(b)) for a, b in zip(x, dy)], font), x[-1]
    if layout == 2:    # along an arc, each glyph turned to follow it
        radius = x[-1] / float(rng.uniform(0.3, 0.9))       # the text spans 0.3-0.9 radians
        sign = 1 if rng.random() < 0.5 else -1
        xforms = []
        for a, w in zip(x[:-1], widths):
            t = (a + w / 2 - x[-1] / 2) / radius               # angle of the glyph's centre
            c, s = math.cos(t), math.sin(t) * sign
            cx, cy = radius * math.sin(t), sign * radius * (1 - math.cos(t))
            xforms.append(skia.RSXform(c, s, cx - c * w / 2, cy - s * w / 2))
        return skia.TextBlob.MakeFromRSXform(text, xforms, font), x[-1]
    return skia.TextBlob.MakeFromPosTextH(text, [float(a) for a in x[:-1]], 0.0, font), x[-1]


def _paint(fg, bg, rng: np.random.Generator, px: float, width: float):
    paint = skia.Paint(AntiAlias=True, Color=_colour(fg))
    kind = rng.choice(3, p=[0.7, 0.2, 0.1])
    if kind == 1:      # gradient fill across the text: fg to a colour between fg and the background
        mid = tuple(int(round(f + 0.35 * (b - f))) for f, b in zip(fg, bg))
        paint.setShader(skia.GradientShader.MakeLinear(
            [skia.Point(0, 0), skia.Point(width, px * float(rng.uniform(-0.5, 0.5)))], [_colour(fg), _colour(mid)]))
    elif kind == 2:    # outlined glyphs
        paint.setStyle(skia.Paint.kStroke_Style)
        paint.setStrokeWidth(max(1.0, px / float(rng.uniform(14, 24))))
    filters = []
    if rng.random() < 0.2:
        paint.setMaskFilter(skia.MaskFilter.MakeBlur(skia.kNormal_BlurStyle, float(rng.uniform(0.3, 1.0)) * px / 32))
    if rng.random() < 0.1:
        r = max(1, round(px / 40))
        filters.append(skia.ImageFilters.Erode(r, r) if rng.random() < 0.5 else skia.ImageFilters.Dilate(r, r))
    if rng.random() < 0.15:
        d = float(rng.uniform(0.04, 0.1)) * px
        filters.append(skia.ImageFilters.DropShadow(d, d, d / 3, d / 3, _colour(tuple((f + b) // 2 for f, b in zip(fg, bg))),
                                                    filters.pop() if filters else None))
    if filters:
        paint.setImageFilter(filters[-1])
    return paint


def _background(canvas, w: int, h: int, bg, bg2, rng: np.random.Generator) -> None:
    canvas.clear(_colour(bg))
    kind = rng.choice(3, p=[0.5, 0.25, 0.25])
    if kind == 1:
        angle = float(rng.uniform(0, math.pi))
        canvas.drawPaint(skia.Paint(Shader=skia.GradientShader.MakeLinear(
            [skia.Point(0, 0), skia.Point(w * math.cos(angle), h * math.sin(angle))], [_colour(bg), _colour(bg2)])))
    elif kind == 2:    # a faint noise texture
        noise = skia.PerlinNoiseShader.MakeFractalNoise(float(rng.uniform(0.02, 0.2)), float(rng.uniform(0.02, 0.2)),
                                                        3, float(rng.integers(1000)))
        canvas.drawPaint(skia.Paint(Shader=noise, Alphaf=float(rng.uniform(0.08, 0.25))))


def _displace(image, px: float, rng: np.random.Generator):
    """``image`` with each pixel moved by up to ``px / 20`` along a fractal noise field (Skia's displacement map)."""
    w, h = image.width(), image.height()
    noise = skia.Surface(w, h)
    noise.getCanvas().drawPaint(skia.Paint(Shader=skia.PerlinNoiseShader.MakeFractalNoise(
        float(rng.uniform(0.03, 0.08)), float(rng.uniform(0.03, 0.08)), 2, float(rng.integers(1000)))))
    whole = skia.Rect.MakeWH(w, h)
    out = skia.Surface(w, h)
    out.getCanvas().drawPaint(skia.Paint(ImageFilter=skia.ImageFilters.DisplacementMap(
        skia.ColorChannel.kR, skia.ColorChannel.kG, px / 10,
        skia.ImageFilters.Image(noise.makeImageSnapshot(), whole, whole), skia.ImageFilters.Image(image, whole, whole))))
    return out.makeImageSnapshot()


def draw(text: str, font_path: str, rng: np.random.Generator, degraded: bool) -> Image.Image:
    """One RGB image of ``text`` in the font at ``font_path``, drawn by Skia.

    The canvas is sized from the blob's bounds, which Skia computes before the rotation, perspective, skew and
    horizontal scale have had their say; where the drawn text would still leave the canvas, the same draw (the same
    random choices) is made again on a canvas grown by what was cut off, so every glyph of the label is in the image."""
    if skia is None:
        raise RuntimeError("this benchmark draws with Skia: pip install -r requirements-peers.txt (skia-python)")
    state = rng.bit_generator.state
    grow = (0, 0)
    for _ in range(4):
        img, cut = _draw(text, font_path, rng, degraded, grow)
        if cut == (0, 0):
            break
        grow = (grow[0] + cut[0], grow[1] + cut[1])
        rng.bit_generator.state = state
    return img


def _cut_off(blob, paint, place, x: float, y: float, w: int, h: int) -> tuple[int, int]:
    """Columns and rows to add (each split half a side) for the text drawn by ``place`` to fit the w x h canvas."""
    e = 2 * max(w, h)
    surface = skia.Surface(w + 2 * e, h + 2 * e)
    canvas = surface.getCanvas()
    canvas.clear(skia.Color(0, 0, 0))
    canvas.translate(e, e)
    place(canvas)
    ink = skia.Paint(AntiAlias=True, Color=skia.Color(255, 255, 255), Style=paint.getStyle(),
                     StrokeWidth=paint.getStrokeWidth())
    canvas.drawTextBlob(blob, x, y, ink)
    a = surface.makeImageSnapshot().toarray(colorType=skia.kRGBA_8888_ColorType)[..., 0] > 64
    cols, rows = np.flatnonzero(a.any(0)), np.flatnonzero(a.any(1))
    if len(cols) == 0:
        return 0, 0
    over_x = max(e - int(cols[0]), int(cols[-1]) + 1 - (e + w), 0)
    over_y = max(e - int(rows[0]), int(rows[-1]) + 1 - (e + h), 0)
    return 2 * (over_x + 1) if over_x else 0, 2 * (over_y + 1) if over_y else 0


def _draw(text: str, font_path: str, rng: np.random.Generator, degraded: bool,
          grow: tuple[int, int]) -> tuple[Image.Image, tuple[int, int]]:
    """:func:`draw` on a canvas ``grow`` pixels wider and higher; also what of the text it cut off."""
    fg, bg, bg2 = _colours(rng, degraded)
    px = float(rng.uniform(16, 56)) if degraded else float(rng.uniform(20, 48))
    font = _font(font_path, px, rng) if degraded else skia.Font(skia.Typeface.MakeFromFile(font_path), px)
    if degraded:
        blob, width = _blob(text, font, px, rng)
        paint = _paint(fg, bg, rng, px, width)
    else:
        blob, width = skia.TextBlob.MakeFromString(text, font), font.measureText(text)
        paint = skia.Paint(AntiAlias=True, Color=_colour(fg))
    if blob is None:
        raise ValueError(f"{font_path} drew nothing for {text!r}")
    bounds = blob.bounds()   # conservative: the font's box around every glyph, before any transform
    fill = float(rng.uniform(0.25, 0.9)) if degraded else float(rng.uniform(0.55, 0.85))
    h0 = int(math.ceil(bounds.height() / fill)) + 2
    pad = int(rng.integers(2, max(3, h0 // 2)))
    w = min(2400, int(math.ceil(bounds.width())) + 2 * pad + grow[0])
    h = h0 + grow[1]
    surface = skia.Surface(w, h)
    canvas = surface.getCanvas()
    _background(canvas, w, h, bg, bg2, rng)
    cx, cy = w / 2, h / 2
    turn = float(rng.uniform(-5, 5)) if degraded else 0.0
    tilt = float(rng.uniform(-0.6, 0.6)) / w if degraded and rng.random() < 0.15 else 0.0

    def place(c) -> None:   # a slight rotation, and sometimes one end of the line nearer than the other
        if degraded:
            c.translate(cx, cy)
            c.rotate(turn)
            if tilt:
                m = skia.Matrix()
                m.setPerspX(tilt)
                c.concat(m)
            c.translate(-cx, -cy)

    x = cx - bounds.centerX() + float(rng.uniform(-0.3, 0.3)) * pad
    y = cy - bounds.centerY() + float(rng.uniform(-0.5, 0.5)) * (h0 - bounds.height()) / 2
    cut = _cut_off(blob, paint, place, x, y, w, h) if w < 2400 else (0, 0)
    canvas.save()
    place(canvas)
    canvas.drawTextBlob(blob, x, y, paint)
    canvas.restore()
    image = surface.makeImageSnapshot()
    if degraded and rng.random() < 0.12:   # the whole picture pushed about by fractal noise
        image = _displace(image, px, rng)
    rgba = image.toarray(colorType=skia.kRGBA_8888_ColorType)
    img = Image.fromarray(np.ascontiguousarray(rgba[..., :3]))
    return (noise_and_jpeg(img, rng, noise=(0.4, 15), jpeg=(0.5, 35)) if degraded else img), cut
