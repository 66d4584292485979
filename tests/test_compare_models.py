"""Paired comparison of models on the same strings (benchmarks/compare_models.py)."""

import json
import sys

import pytest

from digitseq import ROOT, WEIGHTS_DIR

sys.path.insert(0, str(ROOT / "benchmarks"))
import compare_models  # noqa: E402


def test_mcnemar_exact_one_sided_by_hand():
    assert compare_models.mcnemar_p(0, 0) == 1.0
    assert compare_models.mcnemar_p(0, 3) == 1 / 8                 # three of three disagreements its way
    assert compare_models.mcnemar_p(1, 4) == (5 + 1) / 32          # C(5,4) + C(5,5) of 2^5
    assert compare_models.mcnemar_p(4, 1) == (32 - 1) / 32         # at least one of five: all but none
    assert compare_models.mcnemar_p(25, 65) < 0.001 < compare_models.mcnemar_p(40, 50) < 0.5


def test_paired_counts_the_strings_each_reads_alone():
    r = compare_models.paired([True, True, False, False, True], [True, False, True, True, True])
    assert (r["n"], r["base_right_only"], r["right_only"]) == (5, 1, 2)
    assert r["gain"] == pytest.approx(0.2) and r["p_one_sided"] == pytest.approx(0.5)
    with pytest.raises(ValueError, match="not the same set"):
        compare_models.paired([True], [True, False])


def test_a_model_against_itself_gains_nothing(digits_dir, tmp_path):
    (tmp_path / "img").mkdir()
    (tmp_path / "img" / "set").symlink_to(digits_dir)
    out = tmp_path / "compare.json"
    model = str(WEIGHTS_DIR / "digits.onnx")
    assert compare_models.main(["--models", f"digits,{model}", "--sets", "set", "--img", str(tmp_path / "img"),
                                "--tta", "off", "--out", str(out)]) == 0
    r = json.loads(out.read_text())
    assert r["accuracy"]["digits"]["set"] == r["accuracy"][model]["set"] > 0.5
    assert r["paired"][model]["all"] == {"n": 24, "base_right_only": 0, "right_only": 0, "gain": 0.0,
                                         "p_one_sided": 1.0}
