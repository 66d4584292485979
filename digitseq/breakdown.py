"""Accuracy broken down by group: by font style and font family for folders made by
:func:`digitseq.generate.generate`, by any column of a labelled set (``digitseq evaluate --by COLUMN``).

A generated folder's ``sources.csv`` says which font family drew each image; ``font/fonts.csv`` gives
each family's style (serif, sans, handwriting, pixel, ...). Joined with the predictions this shows
*which kinds* of unseen fonts the model reads badly, which a single accuracy number hides. A user's own
``labels.csv`` may carry other columns (``filename,label,source``): the same breakdown works on them.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from .errors import DataError
from .metrics import edit_distance


def read_sources(folder: str | Path) -> dict[str, str]:
    """filename -> font family, from a generated folder's ``sources.csv``."""
    path = Path(folder) / "sources.csv"
    if not path.is_file():
        raise DataError(f"{folder}: no sources.csv (only folders made by `digitseq generate` have one)")
    with open(path, newline="", encoding="utf-8") as fh:
        return {row["filename"]: row["family"] for row in csv.DictReader(fh)}


def group_accuracy(truths: Sequence[str], preds: Sequence[str], groups: Sequence[str],
                   cer: bool = False) -> dict[str, dict]:
    """{group: {"n", "correct", "sequence_accuracy"[, "cer"]}}, sorted from the worst group to the best (then by
    name). ``cer``: also each group's character error rate (edit distances over the truths' characters)."""
    if not len(truths) == len(preds) == len(groups):
        raise ValueError("truths, predictions and groups differ in length")
    acc: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for t, p, g in zip(truths, preds, groups):
        row = acc[g]
        row[0] += 1
        row[1] += t == p
        if cer:
            row[2] += edit_distance(t, p)
            row[3] += len(t)
    rows = {g: {"n": n, "correct": c, "sequence_accuracy": c / n, **({"cer": d / max(chars, 1)} if cer else {})}
            for g, (n, c, d, chars) in acc.items()}
    return dict(sorted(rows.items(), key=lambda kv: (kv[1]["sequence_accuracy"], kv[0])))


STYLE = "style"     # the pseudo-column: a font's style category in fonts.csv, from a family or font column


def _columns(path: Path) -> dict[str, dict[str, str]]:
    """{column (lower case): {filename: value}} of a CSV with a ``filename`` column; {} where it has none."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            rows = list(csv.reader(fh))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise DataError(f"{path}: cannot read its columns ({exc})") from None
    if not rows:
        return {}
    header = [h.strip().lower() for h in rows[0]]
    if "filename" not in header:
        return {}
    fi = header.index("filename")
    out: dict[str, dict[str, str]] = {h: {} for h in header if h and h != "filename"}
    for row in rows[1:]:
        if fi < len(row) and row[fi].strip():
            for i, h in enumerate(header):
                if h in out:
                    out[h][row[fi].strip()] = row[i].strip() if i < len(row) else ""
    return out


def _font_styles(font_dir: str | Path | None) -> dict[str, str]:
    """A font's style category by every name a CSV may give it: family, file name, or the folder under font/."""
    from .fonts import load_fonts

    out: dict[str, str] = {}
    for f in load_fonts(font_dir):
        style = f.category or "other"
        path = Path(f.path)
        for name in (f.family, path.name, path.parent.name):
            out.setdefault(name, style)
    return out


def column_values(data: str | Path, column: str, images: str | Path | None = None, paths: Sequence[Path] | None = None,
                  font_dir: str | Path | None = None) -> list[str]:
    """Each image's value of ``column`` (case-insensitive), for the images at ``paths`` (as
    :func:`digitseq.image.read_labels` gives them; default: every row of the labels CSV): from the labels CSV itself
    (any column besides filename and label), else from the ``sources.csv`` beside it (a generated folder's ``font``
    and ``family``); ``style`` is the font's style category in fonts.csv, found from a ``family`` or ``font`` column.
    An image without a value gets ``"?"``. A column found nowhere is a :class:`DataError` naming the ones there are."""
    from .image import LABEL_COLUMNS, resolve_source

    csv_path, root = resolve_source(data, images)
    tables = [_columns(csv_path)]
    sources = csv_path.parent / "sources.csv"
    if sources.is_file() and sources.resolve() != csv_path.resolve():
        tables.append(_columns(sources))
    merged: dict[str, dict[str, str]] = {}      # column -> {image path: value}
    for table in tables:
        for name, values in table.items():
            if name not in LABEL_COLUMNS and name not in merged:
                merged[name] = {str(root / f): v for f, v in values.items()}
    keys = [str(p) for p in paths] if paths is not None else [str(root / f) for f in next(iter(tables[0].values()), {})]
    col = column.strip().lower()
    if col in merged:
        return [merged[col].get(k, "") or "?" for k in keys]
    fonts = [merged[c] for c in ("family", "font") if c in merged]
    if col == STYLE and fonts:
        styles = _font_styles(font_dir)
        return [next((styles[f[k]] for f in fonts if f.get(k) in styles), "?") for k in keys]
    there = sorted(merged) + ([STYLE] if fonts else [])
    raise DataError(f"{csv_path}: no column {column!r} to group by (" + (
        f"columns: {', '.join(there)}" if there else "it has only filename and label; add one, e.g. "
        "filename,label,source") + ")")


def by_font(folder: str | Path, recognizer, font_dir: str | Path | None = None) -> dict:
    """Read every image of a generated folder; accuracy by font style and by font family."""
    from .data import read_labels

    read_sources(folder)      # a folder generate did not make: say so before reading anything
    ls = read_labels(folder)
    style, family = (column_values(folder, c, paths=ls.paths, font_dir=font_dir) for c in (STYLE, "family"))
    preds = [p.text for p in recognizer.predict(list(ls.paths))]
    return {"by_style": group_accuracy(ls.labels, preds, style), "by_family": group_accuracy(ls.labels, preds, family)}
