"""How well does the second look choose among its readings? Other pooling rules, and the oracle, on the same readings.

    python benchmarks/bench_pooling.py --model ascii --sets ascii/dev/val,ascii/dev/foreign_dev_ascii \
        --out results/bench_pooling_ascii.json

Each image is read as ``Recognizer.predict`` reads it by default; for each image that gets a second look, the
candidate texts (every reading's greedy text) and each reading's CTC log-likelihood of each candidate are kept
(``tta.choose`` and ``recognize._read_groups`` are wrapped to record them; the predictions are unchanged). Then
the same candidates are chosen again by other rules, offline:

- ``shipped``: the mean probability over all readings (``tta.choose``);
- ``partner xW``: the partner's readings weighted W against the model's;
- ``geometric``: the mean log-likelihood (the product of the probabilities);
- ``power A``: the power mean of the probabilities, exponent A;
- ``length L``: the shipped score plus L per character longer than the readings' median length;
- ``model only`` / ``partner only``: the mean over one network's readings;
- ``learned``: a conditional logit over ten features of each candidate (the means and maxima of each network's
  likelihoods, its greedy votes from each, whether the plain reading gave it, its length against the median),
  fitted on one half of the images and scored on the other, both ways (two-fold; fixed split, seed 0);
- ``oracle``: right if any candidate is the truth: the most any rule could get.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT  # noqa: E402


def _lse(x: np.ndarray, axis: int = 0) -> np.ndarray:
    m = x.max(axis)
    return m + np.log(np.exp(x - m).sum(axis))


def collect(model: str, sets: list[str], img: Path) -> list[dict]:
    """Read every image of ``sets`` one at a time; for each, its label, prediction and (if it got a second look)
    the candidates, the readings' log-likelihoods of them, the readings' greedy texts and the model's count."""
    import digitseq.recognize as recognize
    from digitseq import Recognizer
    from digitseq.codec import log_softmax
    from digitseq.image import read_labels
    from digitseq.tta import ctc_log_likelihoods

    looked, groups = [], []
    choose, read_groups = recognize.choose, recognize._read_groups

    def recording_choose(predictions, scores, codec):
        texts = list(dict.fromkeys(p.text for p in predictions))
        ll = ctc_log_likelihoods([log_softmax(s) for s in scores], [codec.encode(t) for t in texts])
        looked.append((texts, ll, [p.text for p in predictions]))
        return choose(predictions, scores, codec)

    def recording_read_groups(runner, codec, gs, *args, **kwargs):
        groups.append([len(g) for g in gs])
        return read_groups(runner, codec, gs, *args, **kwargs)

    recognize.choose, recognize._read_groups = recording_choose, recording_read_groups
    try:
        rec = Recognizer.load(model)
        rows = []
        for s in sets:
            labelled = read_labels(img / s, alphabet=rec.alphabet)
            for path, label in zip(labelled.paths, labelled.labels):
                looked.clear()
                groups.clear()
                pred = rec.predict(path).text
                row = {"set": s, "label": label, "pred": pred}
                if looked:
                    texts, ll, greedy = looked[0]
                    row.update(texts=texts, ll=ll, greedy=greedy, n_model=1 + groups[0][0])
                rows.append(row)
    finally:
        recognize.choose, recognize._read_groups = choose, read_groups
    return rows


def features(row: dict) -> np.ndarray:
    """Ten features of each candidate (rows), see the module's doc."""
    texts, ll, greedy, nm = row["texts"], np.maximum(row["ll"], -50.0), row["greedy"], row["n_model"]
    m, p = ll[:nm], ll[nm:] if len(ll) > nm else ll[:nm]
    gm, gp = greedy[:nm], greedy[nm:] or greedy[:nm]
    median = float(np.median([len(g) for g in greedy]))
    return np.stack([_lse(m) - np.log(len(m)), _lse(p) - np.log(len(p)), m.max(0), p.max(0), m.mean(0), p.mean(0),
                     [sum(g == t for g in gm) / len(gm) for t in texts],
                     [sum(g == t for g in gp) / len(gp) for t in texts],
                     [float(t == greedy[0]) for t in texts], [len(t) - median for t in texts]], 1)


def rule_score(row: dict, rule: str, x: float = 1.0) -> np.ndarray:
    ll, nm = row["ll"], row["n_model"]
    m, p = ll[:nm], ll[nm:]
    has_p = len(p) > 0
    if rule == "shipped":
        return _lse(ll)
    if rule == "partner":
        return np.logaddexp(_lse(m), np.log(x) + _lse(p)) if has_p else _lse(m)
    if rule == "geometric":
        return ll.mean(0)
    if rule == "power":
        return _lse(x * ll) / x
    if rule == "length":
        median = float(np.median([len(g) for g in row["greedy"]]))
        return _lse(ll) - np.log(len(ll)) + x * np.array([len(t) - median for t in row["texts"]])
    if rule == "model only":
        return _lse(m)
    if rule == "partner only":
        return _lse(p) if has_p else _lse(m)
    raise ValueError(rule)


def fit_logit(feats: list[np.ndarray], truth: list[int], steps: int = 400, lr: float = 0.5,
              l2: float = 1e-3) -> np.ndarray:
    """Weights of a conditional logit (softmax over each image's candidates) by gradient descent."""
    w = np.zeros(feats[0].shape[1]) if feats else np.zeros(10)
    w[:2] = 1.0
    for _ in range(steps):
        g = l2 * w
        for f, y in zip(feats, truth):
            z = f @ w
            q = np.exp(z - z.max())
            q /= q.sum()
            g -= (f[y] - q @ f) / len(feats)
        w -= lr * g
    return w


def accuracy(rows: list[dict], pick) -> dict:
    """Per set and overall, % right when ``pick(row)`` gives the chosen text of each looked-at row."""
    right: dict[str, list[bool]] = {}
    for r in rows:
        text = pick(r) if "texts" in r else r["pred"]
        right.setdefault(r["set"], []).append(text == r["label"])
    out = {s: round(100 * float(np.mean(v)), 2) for s, v in right.items()}
    out["all"] = round(100 * float(np.mean([x for v in right.values() for x in v])), 2)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="ascii")
    ap.add_argument("--sets", default="ascii/dev/val,ascii/dev/foreign_dev_ascii")
    ap.add_argument("--img", type=Path, default=ROOT / "img")
    ap.add_argument("--out", type=Path, default=None)
    a = ap.parse_args(argv)
    sets = [s for s in a.sets.split(",") if s]
    rows = collect(a.model, sets, a.img)
    results = {}
    choices = [("shipped", 1.0), ("partner", 0.5), ("partner", 2.0), ("geometric", 1.0), ("power", 0.5),
               ("power", 2.0), ("length", 0.5), ("length", 1.0), ("model only", 1.0), ("partner only", 1.0)]
    for rule, x in choices:
        name = {"partner": f"partner x{x:g}", "power": f"power {x:g}", "length": f"length {x:g}"}.get(rule, rule)
        results[name] = accuracy(rows, lambda r, rule=rule, x=x: r["texts"][int(np.argmax(rule_score(r, rule, x)))])
    looked = [r for r in rows if "texts" in r]
    for r in looked:
        r["features"] = features(r)
    order = np.random.default_rng(0).permutation(len(looked))
    folds = [[looked[i] for i in order[: len(order) // 2]], [looked[i] for i in order[len(order) // 2:]]]
    weights = []
    for k in (0, 1):
        train = [r for r in folds[k] if r["label"] in r["texts"]]
        w = fit_logit([r["features"] for r in train], [r["texts"].index(r["label"]) for r in train])
        weights.append(np.round(w, 3).tolist())
        for r in folds[1 - k]:
            r["learned"] = r["texts"][int(np.argmax(r["features"] @ w))]
    results["learned (two-fold)"] = accuracy(rows, lambda r: r["learned"])
    results["oracle"] = accuracy(rows, lambda r: r["label"] if r["label"] in r["texts"] else r["texts"][0])
    report = {"model": a.model, "sets": sets, "images": len(rows), "looked_at": len(looked),
              "with_several_candidates": sum(len(r["texts"]) > 1 for r in looked),
              "results": results, "learned_weights": weights}
    width = max(map(len, results))
    print(f"{len(rows)} images, {len(looked)} looked at again, "
          f"{report['with_several_candidates']} with more than one candidate")
    for name, acc in results.items():
        print(f"  {name:<{width}}  " + "  ".join(f"{s.split('/')[-1]} {v:.2f}" for s, v in acc.items()))
    if a.out:
        a.out.parent.mkdir(parents=True, exist_ok=True)
        a.out.write_text(json.dumps(report, indent=1))
        print(f"-> {a.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
