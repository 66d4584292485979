"""bench_confidence's two numbers, against hand-worked cases."""

import sys

import numpy as np
import pytest

from digitseq import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))
from bench_confidence import accuracy_at, auroc  # noqa: E402


def test_auroc_counts_right_over_wrong_pairs_and_ties_half():
    right = np.array([True, True, False, False])
    assert auroc(np.array([0.9, 0.8, 0.2, 0.1]), right) == 1.0
    assert auroc(np.array([0.1, 0.2, 0.8, 0.9]), right) == 0.0
    # pairs (right, wrong): (.9,.5) win, (.9,.1) win, (.5,.5) tie, (.5,.1) win -> 3.5 / 4
    assert auroc(np.array([0.9, 0.5, 0.5, 0.1]), right) == pytest.approx(0.875)
    assert np.isnan(auroc(np.array([0.3, 0.4]), np.array([True, True])))


def test_accuracy_at_keeps_the_surest_share():
    conf = np.array([0.9, 0.1, 0.8, 0.7, 0.2])
    right = np.array([True, False, True, False, True])
    assert accuracy_at(conf, right, 0.4) == 1.0          # .9 and .8
    assert accuracy_at(conf, right, 0.6) == pytest.approx(2 / 3)
    assert accuracy_at(conf, right, 1.0) == pytest.approx(0.6)
