"""Sequence and character metrics of predicted strings against the truth.

Definitions (sums run over the whole set, so long labels weigh more than short ones):

- ``sequence_accuracy``: share of predictions equal to their label.
- ``cer`` (character error rate): Σ edit distance(truth, prediction) / Σ len(truth), the
  edit distance being Levenshtein's (insertions, deletions, substitutions, each costing 1).
- ``char_accuracy``: max(0, 1 − cer).
- ``char_precision`` / ``char_recall`` / ``char_f1``: from an alignment of minimum edit distance
  (among those, the one with the most matches; see :func:`alignment`): matches = aligned equal characters;
  precision = Σ matches / Σ len(prediction), recall = Σ matches / Σ len(truth).
- ``by_length``: for each truth length, the count and the sequence accuracy.

From the same alignment, character by character (the label is the truth: no two characters are ever
merged, ``l`` read as ``1`` is an error even where the two look alike):

- ``confusions``: the most frequent substitutions, ``{"truth": "l", "pred": "1", "count": 7}``, most
  frequent first (ties: by truth, then prediction character).
- ``deletions``: truth characters the prediction dropped, ``{"truth": "l", "pred": "", "count": 3}``;
  ``insertions``: predicted characters with no truth character, ``{"truth": "", "pred": "l", "count": 2}``.
  The empty string marks the missing side; both lists are ordered like ``confusions``.
- ``edit_ops``: the totals ``{"substitutions": S, "deletions": D, "insertions": I}`` (S + D + I = Σ edit
  distance).
- ``per_char``: for every character found in the labels or the predictions, ``support`` (times in the
  labels), ``predicted`` (times in the predictions), ``precision`` = matches / predicted,
  ``recall`` = matches / support and ``f1``; a ratio whose denominator is 0 is 0.0.
- ``by_class``: the same numbers summed over the classes ``digits`` (0-9), ``upper`` (A-Z), ``lower``
  (a-z), ``punctuation`` (the 32 ASCII punctuation characters) and ``other`` (anything else, a space for
  one); only classes that occur in the labels or the predictions are listed. A class's recall is the
  share of its truth characters read right.

How far the confidences can be trusted (:func:`confidence_report`, ``digitseq evaluate``'s ``confidence``):

- ``auroc``: the chance that a right reading has a higher confidence than a wrong one (ties count half):
  0.5 is no better than chance, 1.0 puts every error below every right reading.
- ``coverage``: for the surest 50 / 80 / 90 % of the images, the ``threshold`` (the lowest confidence kept)
  and the sequence ``accuracy`` of what is kept: keep readings at or above a threshold, send the rest to a person.
- ``curve``: the same for the surest 5, 10, ..., 100 % (``[share, accuracy, threshold]`` rows), to plot.

The lists hold at most ``top_confusions`` rows each (default 20); ``edit_ops`` counts all of them.
"""

from __future__ import annotations

import string
from collections import Counter, defaultdict
from collections.abc import Sequence

import numpy as np

CLASSES = {"digits": set(string.digits), "upper": set(string.ascii_uppercase),
           "lower": set(string.ascii_lowercase), "punctuation": set(string.punctuation)}
CLASS_NAMES = (*CLASSES, "other")


def char_class(ch: str) -> str:
    """``digits``, ``upper``, ``lower``, ``punctuation`` or ``other``."""
    for name, chars in CLASSES.items():
        if ch in chars:
            return name
    return "other"


def _table(truth: str, pred: str) -> list[list[int]]:
    """Full edit-distance table; each cell is distance * big - matches, so that min() prefers the least
    distance and, among equal distances, the most matches."""
    n, m = len(truth), len(pred)
    big = n + m + 1
    rows = [[j * big for j in range(m + 1)]]
    for i in range(1, n + 1):
        prev = rows[-1]
        cur = [i * big] + [0] * m
        ti = truth[i - 1]
        for j in range(1, m + 1):
            diag = prev[j - 1] - 1 if ti == pred[j - 1] else prev[j - 1] + big
            up = prev[j] + big
            left = cur[j - 1] + big
            cur[j] = min(diag, up, left)
        rows.append(cur)
    return rows


def _split(cell: int, big: int) -> tuple[int, int]:
    negd, matches = divmod(-cell, big)  # -cell = matches - d*big with 0 <= matches < big
    return -negd, matches


def _trim(truth: str, pred: str) -> tuple[int, int]:
    """Lengths of the common prefix and (of what is left) the common suffix. Matching them first keeps
    the alignment optimal (an exchange argument: any optimal alignment can be rearranged to match them
    without more edits or fewer matches) and leaves the table only the differing middle."""
    k, lim = 0, min(len(truth), len(pred))
    while k < lim and truth[k] == pred[k]:
        k += 1
    e = 0
    while e < lim - k and truth[-1 - e] == pred[-1 - e]:
        e += 1
    return k, e


def align(truth: str, pred: str) -> tuple[int, int]:
    """(edit distance, matches) of a minimum-distance alignment with the most matching characters."""
    k, e = _trim(truth, pred)
    t, p = truth[k:len(truth) - e], pred[k:len(pred) - e]
    d, m = _split(_table(t, p)[-1][-1], len(t) + len(p) + 1)
    return d, m + k + e


def alignment(truth: str, pred: str) -> list[tuple[str, str]]:
    """The alignment :func:`align` scores, as (truth char, predicted char) pairs in order: equal chars
    are matches, unequal ones substitutions, ``(c, "")`` a deletion and ``("", c)`` an insertion.
    The common prefix and suffix are matched; in between, among alignments of equal distance and
    matches, the backtrace prefers a match or substitution, then a deletion, then an insertion."""
    k, e = _trim(truth, pred)
    t, p = truth[k:len(truth) - e], pred[k:len(pred) - e]
    rows = _table(t, p)
    big = len(t) + len(p) + 1
    i, j = len(t), len(p)
    middle = []
    while i or j:
        cell = rows[i][j]
        if i and j and cell == rows[i - 1][j - 1] + (-1 if t[i - 1] == p[j - 1] else big):
            i, j = i - 1, j - 1
            middle.append((t[i], p[j]))
        elif i and cell == rows[i - 1][j] + big:
            i -= 1
            middle.append((t[i], ""))
        else:
            j -= 1
            middle.append(("", p[j]))
    middle.reverse()
    return [(c, c) for c in truth[:k]] + middle + [(c, c) for c in truth[len(truth) - e:]]


def edit_distance(truth: str, pred: str) -> int:
    return align(truth, pred)[0]


def _prf(matches: int, support: int, predicted: int) -> dict:
    precision = matches / predicted if predicted else 0.0
    recall = matches / support if support else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"support": support, "predicted": predicted, "precision": precision, "recall": recall, "f1": f1}


def _top(counter: Counter, k: int) -> list[dict]:
    rows = sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[:k]
    return [{"truth": t, "pred": p, "count": c} for (t, p), c in rows]


def evaluate(truths: Sequence[str], preds: Sequence[str], top_confusions: int = 20) -> dict:
    """All metrics of the module docstring, as a plain dict (JSON-ready)."""
    if len(truths) != len(preds):
        raise ValueError(f"{len(truths)} labels but {len(preds)} predictions")
    n = len(truths)
    correct = dist = 0
    lengths: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    hits: Counter = Counter()          # per character: aligned matches
    errors: Counter = Counter()        # (truth char, predicted char) of every non-matching aligned pair
    support = Counter("".join(truths))
    predicted = Counter("".join(preds))
    for t, p in zip(truths, preds):
        ok = t == p
        correct += ok
        lengths[len(t)][0] += 1
        lengths[len(t)][1] += ok
        if ok:                          # an exact match aligns every character with itself
            hits.update(t)
            continue
        for a, b in alignment(t, p):
            if a == b:
                hits[a] += 1
            else:
                errors[a, b] += 1
                dist += 1
    matches = sum(hits.values())
    truth_chars, pred_chars = sum(support.values()), sum(predicted.values())
    overall = _prf(matches, truth_chars, pred_chars)
    cer = dist / truth_chars if truth_chars else 0.0
    subs = Counter({k: c for k, c in errors.items() if k[0] and k[1]})
    dels = Counter({k: c for k, c in errors.items() if not k[1]})
    ins = Counter({k: c for k, c in errors.items() if not k[0]})
    per_char = {c: _prf(hits[c], support[c], predicted[c]) for c in sorted(support | predicted)}
    by_class = {}
    for name in CLASS_NAMES:
        chars = [c for c in per_char if char_class(c) == name]
        if chars:
            by_class[name] = _prf(sum(hits[c] for c in chars), sum(support[c] for c in chars),
                                  sum(predicted[c] for c in chars))
    return {
        "n": n,
        "sequence_accuracy": correct / n if n else 0.0,
        "char_accuracy": max(0.0, 1.0 - cer),
        "cer": cer,
        "char_precision": overall["precision"],
        "char_recall": overall["recall"],
        "char_f1": overall["f1"],
        "by_length": {str(k): {"n": v[0], "sequence_accuracy": v[1] / v[0]} for k, v in sorted(lengths.items())},
        "confusions": _top(subs, top_confusions),
        "deletions": _top(dels, top_confusions),
        "insertions": _top(ins, top_confusions),
        "edit_ops": {"substitutions": sum(subs.values()), "deletions": sum(dels.values()),
                     "insertions": sum(ins.values())},
        "per_char": per_char,
        "by_class": by_class,
    }


def merge_confusions(reports: Sequence[dict], top: int = 20) -> list[dict]:
    """The ``confusions`` of several reports added up: the ``top`` pairs, most frequent first.

    Only pairs that made a report's own top list are counted, so a rare pair may be missing."""
    total: Counter = Counter()
    for r in reports:
        for c in r.get("confusions", []):
            total[c["truth"], c["pred"]] += c["count"]
    return _top(total, top)


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


COVERAGES = (0.5, 0.8, 0.9)


def auroc(confidences: Sequence[float], right: Sequence[bool]) -> float:
    """Area under the ROC curve of the confidences as a score for being right (Mann-Whitney, ties count half);
    NaN where all readings are right or all wrong."""
    conf, right = np.asarray(confidences, dtype=np.float64), np.asarray(right, dtype=bool)
    n_pos, n_neg = int(right.sum()), int((~right).sum())
    if not n_pos or not n_neg:
        return float("nan")
    order = np.argsort(conf, kind="stable")
    _, first, counts = np.unique(conf[order], return_index=True, return_counts=True)
    ranks = np.empty(len(conf))
    ranks[order] = np.repeat(first + (counts + 1) / 2.0, counts)       # 1-based ranks, ties averaged
    return float((ranks[right].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def accuracy_at(confidences: Sequence[float], right: Sequence[bool], coverage: float) -> tuple[float, float]:
    """(accuracy, threshold) of the ``coverage`` share of readings with the highest confidence (ties in input
    order): the sequence accuracy of those kept, and the lowest confidence among them."""
    conf, right = np.asarray(confidences, dtype=np.float64), np.asarray(right, dtype=bool)
    keep = np.argsort(-conf, kind="stable")[: max(1, int(round(coverage * len(conf))))]
    return float(right[keep].mean()), float(conf[keep].min())


def confidence_report(confidences: Sequence[float], right: Sequence[bool],
                      coverages: Sequence[float] = COVERAGES) -> dict:
    """``auroc`` (None where all readings are right or all wrong), ``mean_confidence`` and, per coverage, the
    threshold and the accuracy of what it keeps; ``curve``: that for every 5 % of coverage."""
    conf = np.asarray(confidences, dtype=np.float64)
    if not len(conf):
        return {"auroc": None, "mean_confidence": None, "coverage": [], "curve": []}
    rows = []
    for c in coverages:
        acc, threshold = accuracy_at(conf, right, c)
        rows.append({"share": c, "threshold": threshold, "accuracy": acc})
    curve = [[round(c, 2), *accuracy_at(conf, right, c)] for c in np.arange(1, 21) / 20]
    area = auroc(conf, right)
    return {"auroc": None if np.isnan(area) else area, "mean_confidence": float(conf.mean()), "coverage": rows,
            "curve": curve}
