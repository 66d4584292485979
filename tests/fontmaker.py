"""Build tiny seven-segment TrueType fonts for the font-check tests (fontTools ships with matplotlib)."""

from __future__ import annotations

from pathlib import Path

from fontTools.fontBuilder import FontBuilder
from fontTools.pens.ttGlyphPen import TTGlyphPen

# Segments a..g of a seven-segment display as rectangles (x0, y0, x1, y1) in font units.
SEGMENTS = {"a": (100, 620, 500, 700), "b": (420, 360, 500, 700), "c": (420, 0, 500, 340),
            "d": (100, 0, 500, 80), "e": (100, 0, 180, 340), "f": (100, 360, 180, 700),
            "g": (100, 310, 500, 390)}
DIGIT_SEGMENTS = {"0": "abcdef", "1": "bc", "2": "abged", "3": "abgcd", "4": "fgbc", "5": "afgcd",
                  "6": "afgedc", "7": "abc", "8": "abcdefg", "9": "abcdfg"}


def _glyph(segments: str):
    pen = TTGlyphPen(None)
    for s in segments:
        x0, y0, x1, y1 = SEGMENTS[s]
        pen.moveTo((x0, y0))
        pen.lineTo((x0, y1))
        pen.lineTo((x1, y1))
        pen.lineTo((x1, y0))
        pen.closePath()
    return pen.glyph()


def make_font(path: Path, digits: dict[str, str] | None = None) -> Path:
    """A font whose digit ``d`` lights the segments ``digits[d]``; digits left out are not in the cmap."""
    digits = DIGIT_SEGMENTS if digits is None else digits
    names = [".notdef", "space"] + [f"d{d}" for d in digits]
    fb = FontBuilder(1000, isTTF=True)
    fb.setupGlyphOrder(names)
    fb.setupCharacterMap({32: "space", **{ord(d): f"d{d}" for d in digits}})
    glyphs = {".notdef": _glyph("adef"), "space": TTGlyphPen(None).glyph()}
    glyphs.update({f"d{d}": _glyph(segs) for d, segs in digits.items()})
    fb.setupGlyf(glyphs)
    fb.setupHorizontalMetrics({n: (600, 0) for n in names})
    fb.setupHorizontalHeader(ascent=800, descent=-200)
    fb.setupNameTable({"familyName": "Test Segments", "styleName": "Regular"})
    fb.setupOS2(sTypoAscender=800, usWinAscent=800, usWinDescent=200)
    fb.setupPost()
    fb.save(str(path))
    return path
