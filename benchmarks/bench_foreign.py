"""Accuracy on images our renderer did not make: text drawn by matplotlib, in fonts never trained on.

    python benchmarks/bench_foreign.py [--count 500] [--model digits|ascii|PATH] [--sets NAME,...] [--renderer skia]

Our own test and wild sets are drawn by ``digitseq.render``, the code that drew the training images, so they
share its layout, rasterisation and augmentation statistics. These sets share none of that code: matplotlib
lays the string out and rasterises it with its own FreeType build and Agg (its own hinting, kerning and
anti-aliasing); the page geometry, colours and degradations below are written here, separately, and are
deliberately not the renderer's. Fonts: the held-out ``test`` and ``wild`` families of ``font/fonts.csv``
(never used in training). Sets, after the categories of the independent benchmark in issue 9:

  clean5     5 digits, black on white, small random margins
  aug5       5 digits, layout and degradations below
  aug12      12 digits, the same
  aug1_20    1-20 digits, the same
  ascii      6-12 printable ASCII characters, the same (with --model ascii; fonts that draw all 94)

"Layout and degradations": the text fills 20-90 % of a 32-140 px high canvas, rotated up to ±6°, dark on
light, light on dark or coloured, flat or two-colour gradient backgrounds, sometimes a rectangle border or
a line under the text, Gaussian blur, pixel noise, JPEG at quality 30-95. Image ``i`` of a set depends only
on ``(seed, set, i)``. The images go to ``img/foreign_<set>/`` (labels.csv), are evaluated with the given
model (``digitseq.evaluate``), and the results go to ``results/bench_foreign[_<model>].json``.

``--renderer skia`` draws the same kinds of sets with Skia instead (``benchmarks/skia_text.py``: another
rasteriser, its own glyph placement, paint and filters) into ``img/skia_<set>/``, results in
``results/bench_skia[_<model>].json``.
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, model_tag, write  # noqa: E402

from digitseq import ASCII, DIGITS  # noqa: E402
from digitseq.fonts import load_fonts  # noqa: E402
from digitseq.render import LUMA  # noqa: E402

SETS = {  # name: (alphabet, min length, max length, degraded)
    "clean5": (DIGITS, 5, 5, False),
    "aug5": (DIGITS, 5, 5, True),
    "aug12": (DIGITS, 12, 12, True),
    "aug1_20": (DIGITS, 1, 20, True),
    "ascii": (ASCII, 6, 12, True),
}


def held_out_fonts(alphabet: str) -> list[str]:
    return [f.path for split in ("test", "wild") for f in load_fonts(split=split, alphabet=alphabet)]


def _colours(rng: np.random.Generator, degraded: bool) -> tuple[tuple, tuple, tuple]:
    """(text, background, second background) colours, with at least 90 grey levels of contrast."""
    if not degraded:
        return (0, 0, 0), (255, 255, 255), (255, 255, 255)
    while True:
        fg, bg = rng.integers(0, 256, 3), rng.integers(0, 256, 3)
        if rng.random() < 0.6:   # mostly dark on light or light on dark greys
            g = rng.integers(0, 80)
            fg, bg = np.array([g] * 3), np.array([rng.integers(170, 256)] * 3)
            if rng.random() < 0.3:
                fg, bg = 255 - fg, 255 - bg
        if abs(float(LUMA @ (fg - bg))) >= 90:
            bg2 = np.clip(bg + rng.integers(-40, 41, 3), 0, 255) if rng.random() < 0.4 else bg
            return tuple(int(v) for v in fg), tuple(int(v) for v in bg), tuple(int(v) for v in bg2)


def draw(text: str, font_path: str, rng: np.random.Generator, degraded: bool) -> Image.Image:
    """One image: matplotlib lays out and rasterises the text; the rest is plain numpy/PIL here."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.font_manager import FontProperties

    fg, bg, bg2 = _colours(rng, degraded)
    dpi = 100
    size_pt = float(rng.uniform(18, 40))
    angle = float(rng.uniform(-6, 6)) if degraded else 0.0
    # Draw large on a generous canvas, crop to the ink, then place that on the final canvas.
    fig = Figure(figsize=(max(2.0, 0.9 * len(text) * size_pt / 72) + 1, 2 * size_pt / 72 + 1), dpi=dpi)
    fig.patch.set_facecolor("white")
    fig.text(0.5, 0.5, text, fontproperties=FontProperties(fname=font_path, size=size_pt), color="black",
             ha="center", va="center", rotation=angle, rotation_mode="anchor", parse_math=False)
    agg = FigureCanvasAgg(fig)
    agg.draw()
    ink = 255 - np.asarray(agg.buffer_rgba())[..., 0]
    ys, xs = np.nonzero(ink > 20)
    if len(xs) == 0:
        raise ValueError(f"{font_path} drew nothing for {text!r}")
    ink = ink[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
    h = int(rng.integers(32, 141))
    fill = rng.uniform(0.2, 0.9) if degraded else rng.uniform(0.6, 0.85)
    th = max(12, round(h * fill))
    tw = max(1, round(ink.shape[1] * th / ink.shape[0]))
    margin_x = int(rng.integers(2, max(3, h // 2)))
    w = tw + 2 * margin_x
    if w > 1200:   # very long: cap the width, keep the aspect ratio
        tw = 1200 - 2 * margin_x
        th = max(8, round(ink.shape[0] * tw / ink.shape[1]))
        w = 1200
    alpha = np.asarray(Image.fromarray(ink).resize((tw, th), Image.Resampling.LANCZOS), np.float32) / 255
    ramp = np.linspace(0, 1, w, dtype=np.float32)[None, :, None]
    canvas = (np.array(bg, np.float32) * (1 - ramp) + np.array(bg2, np.float32) * ramp) * np.ones((h, 1, 1), np.float32)
    y0, x0 = int(rng.integers(0, h - th + 1)), margin_x
    region = canvas[y0:y0 + th, x0:x0 + tw]
    canvas[y0:y0 + th, x0:x0 + tw] = region * (1 - alpha[..., None]) + np.array(fg, np.float32) * alpha[..., None]
    img = Image.fromarray(np.clip(canvas, 0, 255).astype(np.uint8))
    if degraded:
        d = ImageDraw.Draw(img)
        lw = max(1, round(th * 0.05))
        if rng.random() < 0.15:
            d.rectangle([1, 1, w - 2, h - 2], outline=fg, width=lw)
        elif rng.random() < 0.15 and y0 + th + 2 * lw < h:
            y = int(rng.integers(y0 + th + lw, h - lw))
            d.line([(x0, y), (x0 + tw, y)], fill=fg, width=lw)
        if rng.random() < 0.5:
            img = img.filter(ImageFilter.GaussianBlur(float(rng.uniform(0.3, 1.2)) * th / 32))
        img = noise_and_jpeg(img, rng, noise=(0.5, 18), jpeg=(0.6, 30))
    return img


def noise_and_jpeg(img: Image.Image, rng: np.random.Generator, noise: tuple[float, float],
                   jpeg: tuple[float, int]) -> Image.Image:
    """The end of a degraded draw (this benchmark's and ``skia_text``'s): with probability ``noise[0]`` Gaussian
    pixel noise of sigma 3 to ``noise[1]``, then with probability ``jpeg[0]`` a JPEG round trip at quality
    ``jpeg[1]`` to 95."""
    if rng.random() < noise[0]:
        w, h = img.size
        arr = np.asarray(img, np.float32) + rng.normal(0, rng.uniform(3, noise[1]), (h, w, 1))
        img = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))
    if rng.random() < jpeg[0]:
        buf = io.BytesIO()
        img.save(buf, "JPEG", quality=int(rng.integers(jpeg[1], 96)))
        img = Image.open(io.BytesIO(buf.getvalue())).convert("RGB")
    return img


PREFIX = {"matplotlib": "foreign", "skia": "skia"}   # who draws the text -> img/<prefix>_<set>, results/bench_<prefix>
# a renderer's sets drawn by older code are drawn again: Skia's version 2 grows the canvas where version 1 cut glyphs off
VERSION = {"matplotlib": 1, "skia": 2}
FONTS = ("held-out", "train")   # the families a set is drawn in: reported sets, or development sets (make_set)
RENDERERS = tuple(PREFIX)


def make_set(name: str, count: int, seed: int = 0, root: Path = ROOT / "img", renderer: str = "matplotlib",
             fonts: str = "held-out") -> Path:
    """``count`` images of set ``name`` in ``root/<prefix>_<name>``. ``fonts="train"``: a development set drawn in
    the training families instead (``<prefix>_dev_<name>``, other strings), for choosing things without reading a
    reported set."""
    if fonts not in FONTS:
        raise ValueError(f"fonts must be one of {', '.join(FONTS)}, not {fonts!r}")
    alphabet, lo, hi, degraded = SETS[name]
    dev = fonts == "train"
    if renderer == "skia":
        from skia_text import draw as draw_text
    else:
        draw_text = draw
    out = root / f"{PREFIX[renderer]}_{'dev_' if dev else ''}{name}"
    labels, version = out / "labels.csv", out / "version.txt"
    drawn_by = version.read_text().strip() if version.exists() else "1"
    if labels.exists() and labels.read_text(encoding="utf-8").count("\n") == count + 1 \
            and drawn_by == str(VERSION[renderer]):
        return out
    out.mkdir(parents=True, exist_ok=True)
    paths = [f.path for f in load_fonts(split="train", alphabet=alphabet)] if dev else held_out_fonts(alphabet)
    rows = []
    for i in range(count):
        rng = np.random.default_rng([seed, list(SETS).index(name), i, *([1] if renderer == "skia" else []),
                                     *([2] if dev else [])])
        text = "".join(rng.choice(list(alphabet), size=int(rng.integers(lo, hi + 1))))
        font = paths[int(rng.integers(len(paths)))]
        file = f"{i:05d}.png"
        draw_text(text, font, rng, degraded).save(out / file)
        rows.append((file, text, Path(font).parent.name))
    with open(labels, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([("filename", "label", "font"), *rows])
    version.write_text(f"{VERSION[renderer]}\n")
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=500, help="images per set")
    ap.add_argument("--model", default="digits", help="shipped model name or a .pt/.onnx path")
    ap.add_argument("--sets", help="comma-separated (default: the digit sets, or 'ascii' for --model ascii)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--renderer", choices=RENDERERS, default=RENDERERS[0],
                    help="who draws the text: matplotlib (img/foreign_*), or Skia (img/skia_*; pip install skia-python)")
    ap.add_argument("--fonts", choices=FONTS, default=FONTS[0],
                    help="held-out (the reported sets) or train (development sets, img/<prefix>_dev_*)")
    a = ap.parse_args(argv)
    from digitseq.evaluate import evaluate_folder
    from digitseq.recognize import Recognizer

    names = a.sets.split(",") if a.sets else (["ascii"] if a.model == "ascii" else [n for n in SETS if n != "ascii"])
    rec = Recognizer.load(a.model)
    results = {}
    print("| set | images | sequence accuracy | character accuracy | CER |\n|---|---|---|---|---|")
    for name in names:
        t0 = time.time()
        folder = make_set(name, a.count, a.seed, renderer=a.renderer, fonts=a.fonts)
        r = evaluate_folder(folder, rec, errors=10)
        results[name] = {"folder": str(folder.relative_to(ROOT)), "draw_and_eval_s": round(time.time() - t0, 1),
                         **{k: r[k] for k in ("n", "sequence_accuracy", "char_accuracy", "cer", "by_length",
                                              "confusions", "errors")}}
        print(f"| {name} | {r['n']} | {100 * r['sequence_accuracy']:.1f} % | {100 * r['char_accuracy']:.2f} % "
              f"| {r['cer']:.4f} |", flush=True)
    path = write(f"bench_{PREFIX[a.renderer]}{'_dev' if a.fonts == 'train' else ''}{model_tag(a.model)}",
                 {"model": a.model, "renderer": a.renderer, "count": a.count, "seed": a.seed, "sets": results})
    print(f"-> {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
