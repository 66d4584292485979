"""Accuracy broken down by font style and font family, for folders made by :func:`digitseq.generate.generate`.

A generated folder's ``sources.csv`` says which font family drew each image; ``font/fonts.csv`` gives
each family's style (serif, sans, handwriting, pixel, ...). Joined with the predictions this shows
*which kinds* of unseen fonts the model reads badly, which a single accuracy number hides.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from .errors import DataError


def read_sources(folder: str | Path) -> dict[str, str]:
    """filename -> font family, from a generated folder's ``sources.csv``."""
    path = Path(folder) / "sources.csv"
    if not path.is_file():
        raise DataError(f"{folder}: no sources.csv (only folders made by `digitseq generate` have one)")
    with open(path, newline="", encoding="utf-8") as fh:
        return {row["filename"]: row["family"] for row in csv.DictReader(fh)}


def family_styles(font_dir: str | Path | None = None) -> dict[str, str]:
    """font family -> style (the ``category`` column of fonts.csv; empty when unknown)."""
    from .fonts import load_fonts

    return {f.family: f.category or "other" for f in load_fonts(font_dir)}


def group_accuracy(truths: Sequence[str], preds: Sequence[str], groups: Sequence[str]) -> dict[str, dict]:
    """{group: {"n", "correct", "sequence_accuracy"}}, sorted from the worst group to the best."""
    if not len(truths) == len(preds) == len(groups):
        raise ValueError("truths, predictions and groups differ in length")
    acc: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for t, p, g in zip(truths, preds, groups):
        acc[g][0] += 1
        acc[g][1] += t == p
    rows = {g: {"n": n, "correct": c, "sequence_accuracy": c / n} for g, (n, c) in acc.items()}
    return dict(sorted(rows.items(), key=lambda kv: (kv[1]["sequence_accuracy"], kv[0])))


def by_font(folder: str | Path, recognizer, font_dir: str | Path | None = None) -> dict:
    """Read every image of a generated folder; accuracy by font style and by font family."""
    from .data import read_labels

    ls = read_labels(folder)
    fams = read_sources(folder)
    styles = family_styles(font_dir)
    family = [fams.get(p.name, "?") for p in ls.paths]
    preds = [p.text for p in recognizer.predict(list(ls.paths))]
    return {"by_style": group_accuracy(ls.labels, preds, [styles.get(f, "other") for f in family]),
            "by_family": group_accuracy(ls.labels, preds, family)}
