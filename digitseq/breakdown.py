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
EMPTY, MISSING = "(empty)", "(missing)"     # a cell left empty; an image the table has no row for


def _columns(path: Path, labels: bool = False) -> dict[str, dict[str, list[str]]]:
    """{column (lower case): {filename: [its values, row by row]}} of a CSV with a ``filename`` column, leaving out
    ``filename`` and, for a labels CSV (``labels``), its label column (the first of
    :data:`digitseq.image.LABEL_COLUMNS` its header has); {} where it has no ``filename`` column."""
    from .image import LABEL_COLUMNS

    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            rows = list(csv.reader(fh))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise DataError(f"{path}: cannot read its columns ({exc})") from None
    header = [h.strip().lower() for h in rows[0]] if rows else []
    if "filename" not in header:
        return {}
    fi = header.index("filename")
    label = next((c for c in LABEL_COLUMNS if c in header), None) if labels else None
    wanted = {i: h for i, h in enumerate(header) if h and h not in ("filename", label)}
    out: dict[str, dict[str, list[str]]] = {h: {} for h in wanted.values()}
    for row in rows[1:]:
        if fi < len(row) and row[fi].strip():
            for i, h in wanted.items():
                out[h].setdefault(row[fi].strip(), []).append(row[i].strip() if i < len(row) else "")
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


def columns_values(data: str | Path, columns: Sequence[str], images: str | Path | None = None,
                   paths: Sequence[Path] | None = None, font_dir: str | Path | None = None) -> dict[str, list[str]]:
    """{column: each image's value} for each of ``columns`` (case-insensitive, surrounding spaces ignored, each
    once), for the images at ``paths`` in the labels CSV's order (as :func:`digitseq.image.read_labels` gives them;
    default: every row of the labels CSV), the CSVs read once for all of them. A column's values come from the labels
    CSV itself (any column besides filename and the label), else from a ``sources.csv`` beside it or in the images
    folder (a generated folder's ``font`` and ``family``); ``style`` is the font's style category in ``font_dir``'s
    fonts.csv (default: the project's), found from a ``family`` or ``font`` column. An empty cell gives
    :data:`EMPTY`, an image without a row :data:`MISSING`, a font of no known style ``"?"``. The same file listed
    twice gets each row's value in turn. A column found nowhere is a :class:`DataError` naming the ones there are."""
    from .image import read_labels, resolve_source

    csv_path, root = resolve_source(data, images)
    tables = [_columns(csv_path, labels=True)]
    for folder in dict.fromkeys((csv_path.parent, root)):     # a generated folder's sources.csv, once
        sources = folder / "sources.csv"
        if sources.is_file() and sources.resolve() != csv_path.resolve():
            tables.append(_columns(sources))
    merged: dict[str, dict[str, list[str]]] = {}      # column -> {image path: values, row by row}
    for table in tables:
        for name, values in table.items():
            if name not in merged:
                merged[name] = {str(root / f): v for f, v in values.items()}
    if paths is None:
        paths = read_labels(data, images, on_error="skip", check_files=False).paths
    keys = [str(p) for p in paths]

    def cells(table: dict[str, list[str]]) -> list[str | None]:
        taken: dict[str, int] = {}
        out: list[str | None] = []
        for k in keys:
            vs, i = table.get(k), taken.get(k, 0)
            taken[k] = i + 1
            out.append(None if not vs else vs[min(i, len(vs) - 1)])
        return out

    fonts = [c for c in ("family", "font") if c in merged]
    out: dict[str, list[str]] = {}
    for column in columns:
        col = column.strip().lower()
        if col in out:
            continue
        if col in merged:
            out[col] = [MISSING if v is None else v or EMPTY for v in cells(merged[col])]
        elif col == STYLE and fonts:
            styles, names = _font_styles(font_dir), [cells(merged[c]) for c in fonts]
            out[col] = [next((styles[f[i]] for f in names if f[i] in styles), "?") for i in range(len(keys))]
        else:
            there = sorted(merged) + ([STYLE] if fonts else [])
            raise DataError(f"{csv_path}: no column {column!r} to group by (" + (
                f"columns: {', '.join(there)}" if there else "it has only filename and the label; add one, e.g. "
                "filename,label,source") + ")")
    return out


def column_values(data: str | Path, column: str, images: str | Path | None = None, paths: Sequence[Path] | None = None,
                  font_dir: str | Path | None = None) -> list[str]:
    """Each image's value of one ``column``: :func:`columns_values` for that column alone."""
    return next(iter(columns_values(data, [column], images, paths, font_dir).values()))


def by_font(folder: str | Path, recognizer, font_dir: str | Path | None = None) -> dict:
    """Read every image of a generated folder; accuracy by font style and by font family."""
    from .data import read_labels

    read_sources(folder)      # a folder generate did not make: say so before reading anything
    ls = read_labels(folder)
    groups = columns_values(folder, [STYLE, "family"], paths=ls.paths, font_dir=font_dir)
    preds = [p.text for p in recognizer.predict(list(ls.paths))]
    return {f"by_{c}": group_accuracy(ls.labels, preds, values) for c, values in groups.items()}
