"""The legibility audit's arithmetic, worked by hand."""

import sys

import pytest

from digitseq import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))
import legibility_audit  # noqa: E402


def test_estimate_from_a_sample_of_errors():
    # 1,000 images, 300 model errors; the reader reads 20 of 40 sampled errors right: half the errors are
    # beyond them, so they would miss ~150 images (85 %), and the model's 70 % is 70/85 of what they read.
    est = legibility_audit.estimate(1000, 300, 20, 40)
    assert est["reader_accuracy_estimate"] == pytest.approx(0.85)
    se = (0.5 * 0.5 / 40) ** 0.5
    assert est["reader_accuracy_95ci"] == pytest.approx([1 - 0.3 * (0.5 + 1.96 * se), 1 - 0.3 * (0.5 - 1.96 * se)])
    assert est["model_accuracy_on_legible_estimate"] == pytest.approx(0.70 / 0.85)
    assert legibility_audit.estimate(100, 10, 10, 10)["reader_accuracy_estimate"] == 1.0   # every error legible
    with pytest.raises(ValueError):
        legibility_audit.estimate(100, 10, 11, 10)                                       # more read than sampled
