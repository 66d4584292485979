"""Sequence and character metrics of predicted strings against the truth.

Definitions (sums run over the whole set, so long labels weigh more than short ones):

- ``sequence_accuracy``: share of predictions equal to their label.
- ``cer`` (character error rate): Σ edit distance(truth, prediction) / Σ len(truth), the
  edit distance being Levenshtein's (insertions, deletions, substitutions, each costing 1).
- ``char_accuracy``: max(0, 1 − cer).
- ``char_precision`` / ``char_recall`` / ``char_f1``: from an alignment of minimum edit distance
  (among those, the one with the most matches): matches = aligned equal characters;
  precision = Σ matches / Σ len(prediction), recall = Σ matches / Σ len(truth).
- ``by_length``: for each truth length, the count and the sequence accuracy.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence


def align(truth: str, pred: str) -> tuple[int, int]:
    """(edit distance, matches) of a minimum-distance alignment with the most matching characters."""
    n, m = len(truth), len(pred)
    # Each cell holds (distance, -matches); tuples compare lexicographically.
    prev = [(j, 0) for j in range(m + 1)]
    for i in range(1, n + 1):
        cur = [(i, 0)] + [(0, 0)] * m
        ti = truth[i - 1]
        for j in range(1, m + 1):
            d, negm = prev[j - 1]
            diag = (d, negm - 1) if ti == pred[j - 1] else (d + 1, negm)
            up = (prev[j][0] + 1, prev[j][1])
            left = (cur[j - 1][0] + 1, cur[j - 1][1])
            cur[j] = min(diag, up, left)
        prev = cur
    d, negm = prev[m]
    return d, -negm


def edit_distance(truth: str, pred: str) -> int:
    return align(truth, pred)[0]


def evaluate(truths: Sequence[str], preds: Sequence[str]) -> dict:
    """All metrics of the module docstring, as a plain dict (JSON-ready)."""
    if len(truths) != len(preds):
        raise ValueError(f"{len(truths)} labels but {len(preds)} predictions")
    n = len(truths)
    correct = dist = matches = truth_chars = pred_chars = 0
    lengths: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for t, p in zip(truths, preds):
        ok = t == p
        d, m = (0, len(t)) if ok else align(t, p)
        correct += ok
        dist += d
        matches += m
        truth_chars += len(t)
        pred_chars += len(p)
        lengths[len(t)][0] += 1
        lengths[len(t)][1] += ok
    cer = dist / truth_chars if truth_chars else 0.0
    precision = matches / pred_chars if pred_chars else 0.0
    recall = matches / truth_chars if truth_chars else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "n": n,
        "sequence_accuracy": correct / n if n else 0.0,
        "char_accuracy": max(0.0, 1.0 - cer),
        "cer": cer,
        "char_precision": precision,
        "char_recall": recall,
        "char_f1": f1,
        "by_length": {str(k): {"n": v[0], "sequence_accuracy": v[1] / v[0]} for k, v in sorted(lengths.items())},
    }


def worst_errors(truths: Sequence[str], preds: Sequence[str], confidences: Sequence[float] | None = None,
                 n: int = 10) -> list[dict]:
    """The ``n`` wrong predictions with the largest edit distance (ties: most confident first)."""
    rows = []
    for i, (t, p) in enumerate(zip(truths, preds)):
        if t != p:
            conf = confidences[i] if confidences is not None else 0.0
            rows.append({"index": i, "truth": t, "prediction": p, "distance": edit_distance(t, p),
                         "confidence": conf})
    rows.sort(key=lambda r: (-r["distance"], -r["confidence"]))
    return rows[:n]
