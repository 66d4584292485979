import pytest

from digitseq.metrics import align, evaluate, worst_errors


@pytest.mark.parametrize("truth,pred,dist,matches", [
    ("abc", "abc", 0, 3),
    ("abc", "abd", 1, 2),        # one substitution
    ("abc", "ac", 1, 2),         # one deletion
    ("ac", "abc", 1, 2),         # one insertion
    ("", "ab", 2, 0),
    ("12345", "54321", 4, 1),    # only the middle '3' can stay aligned
    ("1111", "111", 1, 3),
])
def test_alignment_hand_worked(truth, pred, dist, matches):
    assert align(truth, pred) == (dist, matches)


def test_evaluate_hand_worked():
    r = evaluate(["00427", "12", "999"], ["00427", "1", "989"])
    # distances 0, 1, 1 over 10 truth characters; matches 5 + 1 + 2 = 8 over 9 predicted characters
    assert r["n"] == 3
    assert r["sequence_accuracy"] == pytest.approx(1 / 3)
    assert r["cer"] == pytest.approx(0.2)
    assert r["char_accuracy"] == pytest.approx(0.8)
    assert r["char_precision"] == pytest.approx(8 / 9)
    assert r["char_recall"] == pytest.approx(0.8)
    assert r["char_f1"] == pytest.approx(2 * (8 / 9) * 0.8 / (8 / 9 + 0.8))
    assert r["by_length"] == {"2": {"n": 1, "sequence_accuracy": 0.0}, "3": {"n": 1, "sequence_accuracy": 0.0},
                              "5": {"n": 1, "sequence_accuracy": 1.0}}


def test_char_accuracy_is_floored_at_zero():
    assert evaluate(["1"], ["2345"])["char_accuracy"] == 0.0


def test_worst_errors_order():
    rows = worst_errors(["11", "22", "33"], ["11", "2", "44"], [0.9, 0.8, 0.7], n=5)
    assert [r["index"] for r in rows] == [2, 1]


def test_length_mismatch():
    with pytest.raises(ValueError):
        evaluate(["1"], [])
