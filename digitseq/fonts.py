"""Find the fonts in ``font/``, split them by family into train / test / wild, and check glyph coverage.

``font/fonts.csv`` is the machine-readable list (``file,family,style,category,package,licence,
split,ascii,status,reason``). It lists every font file examined when the pool was built
(``tools/build_fonts.py``); only rows with ``status=ok`` are fonts, ``rejected`` rows say why a file
was left out and are skipped here. Families marked ``test`` never reach training and form the
font-disjoint test set; ``wild`` families (hard, unusual styles) are never trained on either.
A folder without ``fonts.csv`` is read as plain font files, every one of them ``train``.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from . import DEFAULT_FONT_DIR, DIGITS
from .errors import DataError

FONT_SUFFIXES = (".ttf", ".otf", ".ttc")
SPLITS = ("train", "test", "wild")


@dataclass(frozen=True)
class FontInfo:
    path: str
    family: str
    style: str = "Regular"
    category: str = ""
    split: str = "train"
    #: From ``fonts.csv``'s ``ascii`` column: True when the build checked all 94 printable ASCII characters,
    #: False when only the digits may be drawn with it, None when unknown (a folder without fonts.csv).
    ascii: bool | None = None

    @property
    def name(self) -> str:
        return f"{self.family} {self.style}".strip()


def load_fonts(font_dir: str | Path | None = None, split: str | None = None,
               alphabet: str | None = None) -> list[FontInfo]:
    """The fonts of ``font_dir`` (default: the project's ``font/``), optionally one split only.

    With ``alphabet``, fonts lacking a glyph for any of its characters are left out. Fonts from
    ``fonts.csv`` were checked when the pool was built: digits always, printable ASCII where
    ``ascii=yes`` (``ascii=no`` fonts are left out of any alphabet beyond the digits); only other
    characters, and fonts of a folder without ``fonts.csv``, are checked here by rendering.
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
        fonts = [f for f in fonts if _covers(f, alphabet)]
    if not fonts:
        what = f" for split {split!r}" if split else ""
        cover = f" covering {alphabet!r}" if alphabet else ""
        raise DataError(f"{font_dir}: no fonts{what}{cover}")
    return fonts


def _covers(font: FontInfo, alphabet: str) -> bool:
    chars = set(alphabet) - set(" ")
    if font.ascii is not None:
        if chars <= set(DIGITS):
            return True
        if not font.ascii:
            return False
        if chars <= _PRINTABLE:
            return True
    return not missing_glyphs(font.path, alphabet)


_PRINTABLE = {chr(c) for c in range(33, 127)}


def _read_table(table: Path) -> list[FontInfo]:
    fonts = []
    with open(table, newline="", encoding="utf-8-sig") as fh:
        for row_no, row in enumerate(csv.DictReader(fh), start=2):
            status = (row.get("status") or "ok").strip()
            if status == "rejected":
                continue
            if status != "ok":
                raise DataError(f"{table}, row {row_no}: status must be ok or rejected, got {status!r}")
            path = table.parent / row["file"]
            if not path.is_file():
                raise DataError(f"{table}, row {row_no}: font file {row['file']!r} not found")
            split = row.get("split", "train").strip() or "train"
            if split not in SPLITS:
                raise DataError(f"{table}, row {row_no}: split must be one of {SPLITS}, got {split!r}")
            ascii_ok = {"yes": True, "no": False}.get((row.get("ascii") or "").strip())
            fonts.append(FontInfo(str(path), row["family"], row.get("style", ""),
                                  row.get("category", ""), split, ascii_ok))
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
