"""Other ways to choose among the second look's readings (benchmarks/bench_pooling.py), on hand-worked cases."""

import sys

import numpy as np

from digitseq import ROOT
from digitseq.codec import Codec, log_softmax
from digitseq.tta import Prediction, choose, ctc_log_likelihoods

sys.path.insert(0, str(ROOT / "benchmarks"))
import bench_pooling  # noqa: E402


def _row(ll, texts=("12", "17"), n_model=2, greedy=None):
    ll = np.log(np.asarray(ll, float))
    return {"set": "s", "label": "12", "pred": texts[0], "texts": list(texts), "ll": ll, "n_model": n_model,
            "greedy": greedy or [texts[int(np.argmax(r))] for r in ll]}


def pick(row, rule, x=1.0):
    return row["texts"][int(np.argmax(bench_pooling.rule_score(row, rule, x)))]


def test_rules_by_hand():
    # two model readings, two partner readings; probabilities of "12" and "17" in each
    row = _row([[0.9, 0.1], [0.2, 0.3], [0.1, 0.4], [0.1, 0.4]])
    # means: "12" (0.9+0.2+0.1+0.1)/4 = 0.325, "17" 1.2/4 = 0.3 -> "12"
    assert pick(row, "shipped") == "12"
    # geometric: "12" 0.9*0.2*0.1*0.1 = 0.0018 < "17" 0.1*0.3*0.4*0.4 = 0.0048 -> "17"
    assert pick(row, "geometric") == "17"
    # model only: 1.1 against 0.4; partner only: 0.2 against 0.8
    assert pick(row, "model only") == "12" and pick(row, "partner only") == "17"
    # partner weighted x2: "12" 1.1 + 2*0.2 = 1.5 < "17" 0.4 + 2*0.8 = 2.0
    assert pick(row, "partner", 2.0) == "17" and pick(row, "partner", 0.5) == "12"
    # power 4 favours the one sure reading: 0.9^4 + 0.2^4 + 2 * 0.1^4 = 0.658 against 0.1^4 + 0.3^4 + 2 * 0.4^4 = 0.059
    assert pick(row, "power", 4.0) == "12"


def test_shipped_rule_is_tta_choose():
    codec = Codec("0123456789")
    rng = np.random.default_rng(1)
    preds = [Prediction(t, 0.5, None) for t in ["12", "17", "12", "7"]]
    texts = ["12", "17", "7"]
    for _ in range(20):
        scores = [rng.normal(size=(6, 11)) * 3 for _ in range(4)]
        ll = ctc_log_likelihoods([log_softmax(s) for s in scores], [codec.encode(t) for t in texts])
        row = {"texts": texts, "ll": ll, "n_model": 2, "greedy": [p.text for p in preds]}
        assert pick(row, "shipped") == choose(preds, scores, codec).text


def test_length_bonus_prefers_the_longer_candidate():
    row = _row([[0.30, 0.31]] * 4, texts=("123", "12"), greedy=["12", "12", "123", "12"])
    assert pick(row, "shipped") == "12"
    assert pick(row, "length", 0.5) == "123"     # one character over the median length (2): +0.5 in log


def test_learned_chooser_finds_the_feature_that_marks_the_truth():
    rng = np.random.default_rng(0)
    feats, truth = [], []
    for _ in range(200):
        f = rng.normal(size=(3, 10))
        y = int(rng.integers(3))
        f[:, 0] = f[:, 1] = 0.0
        f[y, 6] += 3.0                               # the truth gets the most model votes
        feats.append(f)
        truth.append(y)
    w = bench_pooling.fit_logit(feats, truth)
    assert w[6] == max(w)
    assert np.mean([int(np.argmax(f @ w)) == y for f, y in zip(feats, truth)]) > 0.9


def test_accuracy_per_set_and_oracle():
    rows = [_row([[0.9, 0.1]] * 4), {"set": "t", "label": "5", "pred": "5"}, {"set": "t", "label": "5", "pred": "6"}]
    assert bench_pooling.accuracy(rows, lambda r: "17") == {"s": 0.0, "t": 50.0, "all": 33.33}
    assert bench_pooling.accuracy(rows, lambda r: "12") == {"s": 100.0, "t": 50.0, "all": 66.67}
