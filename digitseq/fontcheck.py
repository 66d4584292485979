"""Decide which font files are usable for the digit alphabet (and for printable ASCII).

The checks run once, at build time (``python -m digitseq.fontcheck build``), and their verdicts are
written to ``font/fonts.csv``; ``digitseq.fonts.load_fonts`` only reads that table. A file is usable
for digits when

* each of 0-9 has a real glyph (in the cmap, not drawn as the ``.notdef`` box, not empty),
* it is readable at 24 px (enough ink, a sensible bounding box, not a hairline),
* no two digits are drawn alike (ink-cropped 32x32 renders compared by correlation), and
* its digits look like Latin digits: most of them are nearest to the same digit of a bank of
  known-good fonts (this keeps out dingbat and symbol fonts that put pictures on 0-9).

``ascii`` is ``yes`` when all 94 printable ASCII characters have real glyphs, no two of them render
pixel-identically, the letters have a lower case of their own (not small capitals, unicase or uncial
lettering, where the case of a letter cannot be read: ``case_likeness``), and the cmap does not put Greek
glyphs on the Latin keys (a symbol-encoded font: ``greek_letters``). A font that fails is still used for
digits; trained on for ASCII, it would teach labels its images do not show.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageDraw, ImageFont

DIGITS = "0123456789"
PRINTABLE = "".join(chr(c) for c in range(33, 127))
NORM = 32                 # side of the normalised digit bitmaps
ALIKE = 0.96              # correlation above which two digits count as "drawn alike"
READ_SIZE = 24            # readability is judged at this pixel size
MIN_INK_PX = 10           # a digit needs at least this many pixels >= 50% ink at 24 px
MIN_HEIGHT = 0.25         # ... a bounding box at least this fraction of the size tall
MAX_HEIGHT = 2.0          # ... and at most this many times the size
MIN_RECOGNISED = 5        # of the 10 digits, at least this many must be nearest to their own class
# Letters whose lower case is not a smaller upper case in ordinary Latin type (unlike c/C, o/O, s/S, v/V, ...).
CASE_PAIRS = "abdeghnqrt"
# Mean correlation of those pairs' size-free shapes above which a font has no lower case of its own. Over the
# 431 files of the pool that drew all 94 characters: Latin fonts with a lower case 0.0-0.66 (the highest a
# display face, Withstand BRK), small capitals, unicase and uncial faces 0.74-0.90 (Irianis and Romande ADF
# Style, Unifur, Solothurn, Mishmash 4x4i BRK).
CASE_ALIKE = 0.7
# Glyph names of Greek letters: a symbol-encoded font (Standard Symbols PS) maps a-z and A-Z to them.
GREEK = {"alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa", "lambda", "mu", "nu",
         "xi", "omicron", "pi", "rho", "sigma", "tau", "upsilon", "phi", "chi", "psi", "omega"}
LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


@dataclass
class Verdict:
    ok: bool
    reason: str = ""
    vectors: np.ndarray | None = field(default=None, repr=False)   # (10, NORM*NORM), unit length


# --------------------------------------------------------------------------- rendering
def render(font: ImageFont.FreeTypeFont, ch: str) -> np.ndarray:
    """The glyph of ``ch`` as a uint8 ink image cropped to its drawn box (empty array: no ink)."""
    left, top, right, bottom = font.getbbox(ch)
    w, h = max(right - left, 1) + 4, max(bottom - top, 1) + 4
    img = Image.new("L", (w, h), 0)
    ImageDraw.Draw(img).text((2 - left, 2 - top), ch, font=font, fill=255)
    a = np.asarray(img)
    ys, xs = np.nonzero(a >= 32)
    if not len(ys):
        return np.zeros((0, 0), np.uint8)
    return a[ys.min():ys.max() + 1, xs.min():xs.max() + 1]


def normalise(ink: np.ndarray, n: int = NORM) -> np.ndarray:
    """Pad the cropped glyph to a square (aspect kept), scale to n x n, return it as a unit vector."""
    if ink.size == 0:
        return np.zeros(n * n, np.float32)
    h, w = ink.shape
    side = max(h, w)
    sq = np.zeros((side, side), np.uint8)
    sq[(side - h) // 2:(side - h) // 2 + h, (side - w) // 2:(side - w) // 2 + w] = ink
    v = np.asarray(Image.fromarray(sq).resize((n, n), Image.Resampling.BILINEAR), np.float32).ravel()
    v -= v.mean()
    norm = np.linalg.norm(v)
    return v / norm if norm > 0 else v


# --------------------------------------------------------------------------- judgements on bitmaps
def alike_pairs(vectors: np.ndarray, chars: str = DIGITS, threshold: float = ALIKE) -> list[tuple[str, str]]:
    """Pairs of characters whose normalised renders correlate above ``threshold``."""
    sim = vectors @ vectors.T
    out = []
    for i in range(len(chars)):
        for j in range(i + 1, len(chars)):
            if sim[i, j] > threshold:
                out.append((chars[i], chars[j]))
    return out


def readable(inks: dict[str, np.ndarray], size: int = READ_SIZE) -> str:
    """'' when every glyph of ``inks`` (rendered at ``size`` px) is readable, else the reason."""
    for ch, ink in inks.items():
        if ink.size == 0 or int((ink >= 128).sum()) < MIN_INK_PX:
            return f"not readable at {size} px (digit {ch} too faint or thin)"
        h = ink.shape[0]
        if h < MIN_HEIGHT * size or h > MAX_HEIGHT * size:
            return f"not readable at {size} px (digit {ch} is {h} px tall)"
    return ""


def recognised(vectors: np.ndarray, bank: np.ndarray, bank_labels: np.ndarray) -> int:
    """How many of the 10 digit vectors have a bank vector of their own digit as nearest neighbour."""
    nearest = np.argmax(vectors @ bank.T, axis=1)
    return int((bank_labels[nearest] == np.arange(10)).sum())


def judge_digits(inks64: dict[str, np.ndarray], inks24: dict[str, np.ndarray],
                 bank: tuple[np.ndarray, np.ndarray] | None = None) -> Verdict:
    """The digit verdict from renders at 64 px (shape) and 24 px (readability)."""
    for ch in DIGITS:
        if inks64[ch].size == 0:
            return Verdict(False, f"glyph {ch} empty")
    why = readable(inks24)
    if why:
        return Verdict(False, why)
    return judge_vectors(np.stack([normalise(inks64[ch]) for ch in DIGITS]), bank)


def judge_vectors(vectors: np.ndarray, bank: tuple[np.ndarray, np.ndarray] | None = None) -> Verdict:
    """The shape part of the verdict, from the 10 normalised digit vectors."""
    pairs = alike_pairs(vectors)
    if pairs:
        return Verdict(False, "; ".join(f"digit {a} and {b} drawn alike" for a, b in pairs[:3]), vectors)
    if bank is not None:
        k = recognised(vectors, *bank)
        if k < MIN_RECOGNISED:
            return Verdict(False, f"digits do not look like 0-9 ({k}/10 match known fonts)", vectors)
    return Verdict(True, "", vectors)


# --------------------------------------------------------------------------- judgements on font files
def _notdef_checker(font: ImageFont.FreeTypeFont) -> Callable[[str], bool]:
    def ink(ch: str) -> bytes:
        img = Image.new("L", (96, 96), 0)
        ImageDraw.Draw(img).text((16, 16), ch, font=font, fill=255)
        return img.tobytes()
    notdef = ink("\U0010fffd")
    return lambda ch: ink(ch) == notdef


def _best_cmap(path: str) -> dict[int, str] | None:
    """The font's best cmap, code point -> glyph name (fontTools), or None when it cannot be read."""
    try:
        from fontTools.ttLib import TTFont
        with TTFont(path, lazy=True, fontNumber=0) as tt:
            return tt.getBestCmap() or {}
    except Exception:
        return None


def cmap_of(path: str) -> set[int] | None:
    """Code points in the font's cmap (fontTools), or None when it cannot be read."""
    cmap = _best_cmap(path)
    return None if cmap is None else set(cmap)


def has_outlines(path: str) -> bool:
    try:
        from fontTools.ttLib import TTFont
        with TTFont(path, lazy=True, fontNumber=0) as tt:
            return any(t in tt for t in ("glyf", "CFF ", "CFF2"))
    except Exception:
        return True   # let PIL decide


def missing(font: ImageFont.FreeTypeFont, chars: Iterable[str], cmap: set[int] | None) -> list[tuple[str, str]]:
    """(char, why) for every char without a real glyph."""
    is_notdef = _notdef_checker(font)
    out = []
    for ch in chars:
        if cmap is not None and ord(ch) not in cmap:
            out.append((ch, "not in cmap"))
        elif is_notdef(ch):
            out.append((ch, ".notdef"))
    return out


def check_file(path: str, bank: tuple[np.ndarray, np.ndarray] | None = None) -> Verdict:
    """The digit verdict for one font file (face 0 of a collection)."""
    try:
        f64 = ImageFont.truetype(path, 64, layout_engine=ImageFont.Layout.BASIC)
        f24 = ImageFont.truetype(path, READ_SIZE, layout_engine=ImageFont.Layout.BASIC)
    except OSError as exc:
        return Verdict(False, f"PIL cannot load it ({exc})")
    if not has_outlines(path):
        return Verdict(False, "bitmap-only (no outlines)")
    gone = missing(f64, DIGITS, cmap_of(path))
    if gone:
        ch, why = gone[0]
        more = f" (and {len(gone) - 1} more)" if len(gone) > 1 else ""
        return Verdict(False, f"glyph {ch} missing ({why}){more}")
    inks64 = {c: render(f64, c) for c in DIGITS}
    if all(ink.size for ink in inks64.values()) and runtime_missing(path):
        return Verdict(False, runtime_missing(path))
    return judge_digits(inks64, {c: render(f24, c) for c in DIGITS}, bank)


def runtime_missing(path: str) -> str:
    """'' when ``digitseq.fonts.missing_glyphs`` (what training uses) also finds all digits, else the reason."""
    from .fonts import missing_glyphs
    gone = missing_glyphs(path, DIGITS)
    return f"digits {gone} drawn off their box (PIL offsets)" if gone else ""


def case_likeness(font: ImageFont.FreeTypeFont) -> float:
    """Mean correlation of the size-free shapes (``normalise``) of a/A, b/B, ... (``CASE_PAIRS``): low where the lower
    case is drawn as such, high where it is a smaller (or the same) capital."""
    return float(np.mean([normalise(render(font, c)) @ normalise(render(font, c.upper())) for c in CASE_PAIRS]))


def greek_letters(path: str) -> int:
    """How many of the 52 Latin letters the font's cmap maps to glyphs named as Greek letters (``alpha``,
    ``Gamma``, ``uni03B1``...)."""
    cmap = _best_cmap(path) or {}
    names = [cmap.get(ord(ch), "") for ch in LETTERS]
    return sum(n.lower() in GREEK or n.lower().startswith("uni03") for n in names)


def ascii_verdict(path: str) -> str:
    """'' when the file is usable for printable ASCII, else why not (see the module's docstring)."""
    try:
        font = ImageFont.truetype(path, 32, layout_engine=ImageFont.Layout.BASIC)
    except OSError as exc:
        return f"PIL cannot load it ({exc})"
    gone = missing(font, PRINTABLE, cmap_of(path))
    if gone:
        return f"glyph {gone[0][0]!r} missing ({gone[0][1]})" + (f" (and {len(gone) - 1} more)" if len(gone) > 1 else "")
    seen = {}
    for ch in PRINTABLE:
        ink = render(font, ch)
        if ink.size == 0:
            return f"glyph {ch!r} empty"
        key = (ink.shape, ink.tobytes())
        if key in seen:
            return f"{seen[key]!r} and {ch!r} render identically"
        seen[key] = ch
    greek = greek_letters(path)
    if greek >= 10:
        return f"symbol-encoded: {greek} of the 52 Latin letters are Greek glyphs"
    alike = case_likeness(ImageFont.truetype(path, 64, layout_engine=ImageFont.Layout.BASIC))
    if alike > CASE_ALIKE:
        return f"no lower case of its own (a/A, b/B ... alike: {alike:.2f} > {CASE_ALIKE})"
    return ""


def ascii_ok(path: str) -> bool:
    """All 94 printable ASCII characters have real glyphs, distinct, with a lower case of their own, not Greek."""
    return not ascii_verdict(path)


def digit_bank(paths: Iterable[str]) -> tuple[np.ndarray, np.ndarray]:
    """Normalised digit vectors of known-good fonts, and their labels, for the look-alike test."""
    vecs, labels = [], []
    for p in paths:
        font = ImageFont.truetype(p, 64, layout_engine=ImageFont.Layout.BASIC)
        for i, ch in enumerate(DIGITS):
            vecs.append(normalise(render(font, ch)))
            labels.append(i)
    return np.stack(vecs), np.array(labels)

