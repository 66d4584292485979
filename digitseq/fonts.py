"""Find the fonts in ``font/``, split them by family into train / test, and check glyph coverage.

``font/fonts.csv`` is the machine-readable list (``file,family,style,category,package,licence,
split,ascii``); families marked ``test`` never reach training and form the font-disjoint test set.
A folder without ``fonts.csv`` is read as plain font files, every one of them ``train``.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from . import DEFAULT_FONT_DIR
from .errors import DataError

FONT_SUFFIXES = (".ttf", ".otf", ".ttc")
SPLITS = ("train", "test")


@dataclass(frozen=True)
class FontInfo:
    path: str
    family: str
    style: str = "Regular"
    category: str = ""
    split: str = "train"

    @property
    def name(self) -> str:
        return f"{self.family} {self.style}".strip()


def load_fonts(font_dir: str | Path | None = None, split: str | None = None,
               alphabet: str | None = None) -> list[FontInfo]:
    """The fonts of ``font_dir`` (default: the project's ``font/``), optionally one split only.

    With ``alphabet``, fonts lacking a glyph for any of its characters are left out.
    """
    font_dir = Path(font_dir) if font_dir is not None else DEFAULT_FONT_DIR
    if split not in (None, *SPLITS):
        raise DataError(f"split must be one of {SPLITS}, got {split!r}")
    if not font_dir.is_dir():
        raise DataError(f"{font_dir}: font folder not found")
    table = font_dir / "fonts.csv"
    if table.is_file():
        fonts = _read_table(table)
    else:
        fonts = [FontInfo(str(p), p.stem) for p in sorted(font_dir.rglob("*"))
                 if p.suffix.lower() in FONT_SUFFIXES]
    if split is not None:
        fonts = [f for f in fonts if f.split == split]
    if alphabet is not None:
        fonts = [f for f in fonts if not missing_glyphs(f.path, alphabet)]
    if not fonts:
        what = f" for split {split!r}" if split else ""
        cover = f" covering {alphabet!r}" if alphabet else ""
        raise DataError(f"{font_dir}: no fonts{what}{cover}")
    return fonts


def _read_table(table: Path) -> list[FontInfo]:
    fonts = []
    with open(table, newline="", encoding="utf-8-sig") as fh:
        for row_no, row in enumerate(csv.DictReader(fh), start=2):
            path = table.parent / row["file"]
            if not path.is_file():
                raise DataError(f"{table}, row {row_no}: font file {row['file']!r} not found")
            split = row.get("split", "train").strip() or "train"
            if split not in SPLITS:
                raise DataError(f"{table}, row {row_no}: split must be train or test, got {split!r}")
            fonts.append(FontInfo(str(path), row["family"], row.get("style", ""),
                                  row.get("category", ""), split))
    return fonts


def families(fonts: list[FontInfo]) -> dict[str, list[FontInfo]]:
    """Fonts grouped by family, in first-seen order."""
    out: dict[str, list[FontInfo]] = {}
    for f in fonts:
        out.setdefault(f.family, []).append(f)
    return out


@lru_cache(maxsize=512)
def get_font(path: str, size: int) -> ImageFont.FreeTypeFont:
    """A cached PIL font object (rendering asks for the same few sizes again and again)."""
    try:
        # BASIC layout: no ligatures ("fi", "->" in coding fonts), one glyph per character.
        return ImageFont.truetype(path, size, layout_engine=ImageFont.Layout.BASIC)
    except OSError as exc:
        raise DataError(f"{path}: cannot load font ({exc})") from None


def _glyph(font: ImageFont.FreeTypeFont, ch: str) -> bytes:
    img = Image.new("L", (64, 64), 0)
    ImageDraw.Draw(img).text((8, 8), ch, font=font, fill=255)
    return img.tobytes()


@lru_cache(maxsize=256)
def missing_glyphs(path: str, alphabet: str) -> str:
    """The characters of ``alphabet`` that the font draws as its 'missing glyph' box or not at all.

    PIL has no cmap API, so a glyph counts as missing when it renders exactly like a code point
    no font maps (U+10FFFD, private use) or renders nothing at all (space is exempt).
    """
    font = get_font(path, 32)
    notdef = _glyph(font, "\U0010fffd")
    missing = []
    for ch in dict.fromkeys(alphabet):
        if ch.isspace():
            continue
        g = _glyph(font, ch)
        if g == notdef or not np.frombuffer(g, np.uint8).any():
            missing.append(ch)
    return "".join(missing)
