"""A contact sheet of reading errors: each wrong image beside its label and what was read, the wrong characters
marked, as one PNG (``digitseq evaluate DATA --error-sheet errors.png``).

Looking at the images a model misreads says more than a list of strings: whether the label is wrong, the crop
cut a character off, or the font is one it has never seen. Pillow only (part of the light runtime): notebook 3
draws the same with matplotlib (:func:`digitseq.plots.error_gallery`).

Each row: the image as read from its file (its height scaled to :data:`ROW_HEIGHT`, at most :data:`MAX_WIDTH`
wide) and, given the recogniser's ``prepare``, what the network saw under it; then two lines, the truth and the prediction, aligned character by character
(:func:`digitseq.metrics.alignment`): a character the prediction got wrong or added is red, one it dropped is
shown in the truth's line in red with ``·`` under it; then the confidence.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from .errors import DataError
from .image import open_image
from .metrics import alignment

ROW_HEIGHT = 48         # the image in each row is this many pixels high
MAX_WIDTH = 480         # ... and at most this wide
TEXT_SIZE = 15
PAD = 6
RED, BLACK, GREY = (200, 30, 30), (20, 20, 20), (110, 110, 110)


def _font(size: int = TEXT_SIZE):
    try:
        return ImageFont.load_default(size=size)     # Pillow's own scalable font (FreeType)
    except (OSError, TypeError, ValueError):         # a Pillow without FreeType: its small bitmap font
        return ImageFont.load_default()


def _thumb(path) -> Image.Image:
    try:
        img = open_image(path).convert("RGB")
    except Exception:                                # noqa: BLE001 - a file gone since it was read: a grey box
        return Image.new("RGB", (ROW_HEIGHT * 3, ROW_HEIGHT), (160, 160, 160))
    w, h = img.size
    new_w = max(1, min(MAX_WIDTH, round(w * ROW_HEIGHT / max(h, 1))))
    return img.resize((new_w, ROW_HEIGHT), Image.BILINEAR)


def _aligned(truth: str, pred: str) -> tuple[list[tuple[str, bool]], list[tuple[str, bool]]]:
    """The truth's and the prediction's characters, one column each, with a flag for the ones to mark red."""
    top, bottom = [], []
    for t, p in alignment(truth, pred):
        wrong = t != p
        top.append((t or "·", wrong and not p))        # dropped: red in the truth's line
        bottom.append((p or "·", wrong and bool(p)))   # wrong or added: red in the prediction's line
    return top, bottom


def _input(prepare: Callable | None, path) -> Image.Image | None:
    """The model's input array for the file (``prepare``: :meth:`digitseq.Recognizer.prepare`), at most
    :data:`MAX_WIDTH` wide; None without ``prepare`` or where it fails."""
    if prepare is None:
        return None
    try:
        arr = prepare(path)
    except Exception:                                # noqa: BLE001 - the file gone since it was read
        return None
    img = Image.fromarray(arr).convert("RGB")
    if img.width > MAX_WIDTH:
        img = img.resize((MAX_WIDTH, max(1, round(img.height * MAX_WIDTH / img.width))), Image.BILINEAR)
    return img


def sheet_format(out: str | Path) -> str:
    """The image format Pillow writes for ``out``'s suffix (``.png``, ``.jpg``, ``.webp``, ...); a
    :class:`DataError` for a suffix it does not know or cannot write."""
    suffix = Path(out).suffix.lower()
    fmt = Image.registered_extensions().get(suffix)
    if fmt is None or fmt not in Image.SAVE:
        raise DataError(f"{out}: the error sheet is an image; give a file name ending in .png (or another image "
                        f"suffix Pillow writes, such as .jpg or .webp)")
    return fmt


def error_sheet(errors: Sequence[dict], out: str | Path, title: str | None = None,
                prepare: Callable | None = None) -> Path:
    """Write a PNG of ``errors`` (dicts with ``path``, ``truth``, ``prediction`` and optionally ``confidence``, as
    ``digitseq evaluate`` reports them) to ``out``; returns its path. No errors: a sheet saying so. ``prepare``
    (a recogniser's :meth:`~digitseq.Recognizer.prepare`): each file's input array, what the network saw after the
    text-line crop and resizing, is drawn under it (a crop that cut a character off, or kept a frame, shows)."""
    font, small = _font(), _font(TEXT_SIZE - 3)
    probe = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    cell = max(probe.textlength(c, font=font) for c in "0123456789WM@·") + 1   # one column per character
    rows = []
    thumbs = [_thumb(e["path"]) for e in errors]
    inputs = [_input(prepare, e["path"]) for e in errors]
    x0 = max((max(t.width, i.width if i else 0) for t, i in zip(thumbs, inputs)), default=0) + PAD * 3
    line = TEXT_SIZE + 4                                                         # the text column
    for e, thumb, seen in zip(errors, thumbs, inputs):
        top, bottom = _aligned(e["truth"], e["prediction"])
        text_w = int(max(cell * len(top), 170) + PAD * 2)
        row = Image.new("RGB", (x0 + text_w, ROW_HEIGHT + PAD * 2 + 4 + (seen.height + PAD if seen else 0)), "white")
        row.paste(thumb, (PAD, PAD))
        if seen:
            row.paste(seen, (PAD, PAD + ROW_HEIGHT + PAD))
        d = ImageDraw.Draw(row)
        for y, chars in ((PAD, top), (PAD + line, bottom)):
            for k, (ch, red) in enumerate(chars):
                d.text((x0 + k * cell, y), ch, fill=RED if red else BLACK, font=font)
        conf = e.get("confidence")
        label = "truth / read" + (f"   confidence {conf:.3f}" if conf is not None else "")
        d.text((x0, PAD + 2 * line + 2), label, fill=GREY, font=small)
        rows.append(row)
    if title or not rows:
        text = (title or "") + ("" if rows else (": " if title else "") + "no errors")
        head = Image.new("RGB", (int(probe.textlength(text, font=font)) + PAD * 2, TEXT_SIZE + PAD * 2), "white")
        ImageDraw.Draw(head).text((PAD, PAD), text, fill=BLACK, font=font)
        rows.insert(0, head)
    sheet = Image.new("RGB", (max(r.width for r in rows), sum(r.height for r in rows)), "white")
    y = 0
    for r in rows:
        sheet.paste(r, (0, y))
        y += r.height
    out = Path(out)
    sheet.save(out, format=sheet_format(out))
    return out
