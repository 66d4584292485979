import math

import pytest

from digitseq.evaluate import format_report
from digitseq.metrics import align, alignment, char_class, evaluate, worst_errors


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


@pytest.mark.parametrize("truth,pred,pairs", [
    ("Il1O0", "ll1OO", [("I", "l"), ("l", "l"), ("1", "1"), ("O", "O"), ("0", "O")]),
    ("abc", "ac", [("a", "a"), ("b", ""), ("c", "c")]),                  # a deletion
    ("ab", "abx", [("a", "a"), ("b", "b"), ("", "x")]),                 # an insertion
    ("", "ab", [("", "a"), ("", "b")]),
    ("ab", "", [("a", ""), ("b", "")]),
    # distance 2, one match either way: the backtrace from the end prefers the deletion of the last 'b'
    ("ab", "ba", [("", "b"), ("a", "a"), ("b", "")]),
    ("x12345y", "x1245y", [("x", "x"), ("1", "1"), ("2", "2"), ("3", ""), ("4", "4"), ("5", "5"), ("y", "y")]),
])
def test_alignment_pairs_hand_worked(truth, pred, pairs):
    assert alignment(truth, pred) == pairs


def test_alignment_scores_what_align_scores():
    for t, p in [("12345", "54321"), ("1111", "111"), ("password", "pasword1"), ("aXbXc", "abc"), ("", "")]:
        pairs = alignment(t, p)
        assert "".join(a for a, _ in pairs) == t and "".join(b for _, b in pairs) == p
        assert align(t, p) == (sum(a != b for a, b in pairs), sum(a == b for a, b in pairs))


def test_character_breakdown_hand_worked():
    truths = ["Il1O0", "abc", "ab", "A1!"]
    preds = ["ll1OO", "ac", "abx", "A1!"]
    r = evaluate(truths, preds)
    # two substitutions (I->l, 0->O), one deletion (b), one insertion (x): 4 edits over 13 truth characters
    assert r["cer"] == pytest.approx(4 / 13)
    assert r["confusions"] == [{"truth": "0", "pred": "O", "count": 1}, {"truth": "I", "pred": "l", "count": 1}]
    assert r["deletions"] == [{"truth": "b", "pred": "", "count": 1}]
    assert r["insertions"] == [{"truth": "", "pred": "x", "count": 1}]
    assert r["edit_ops"] == {"substitutions": 2, "deletions": 1, "insertions": 1}
    # 10 matches, 13 truth and 13 predicted characters
    assert r["char_precision"] == pytest.approx(10 / 13) and r["char_recall"] == pytest.approx(10 / 13)
    pc = r["per_char"]
    assert set(pc) == set("Il1O0abcxA!")
    assert pc["l"] == {"support": 1, "predicted": 2, "precision": 0.5, "recall": 1.0, "f1": pytest.approx(2 / 3)}
    assert pc["I"] == {"support": 1, "predicted": 0, "precision": 0.0, "recall": 0.0, "f1": 0.0}
    assert pc["1"] == {"support": 2, "predicted": 2, "precision": 1.0, "recall": 1.0, "f1": 1.0}
    assert pc["b"] == {"support": 2, "predicted": 1, "precision": 1.0, "recall": 0.5, "f1": pytest.approx(2 / 3)}
    assert pc["x"] == {"support": 0, "predicted": 1, "precision": 0.0, "recall": 0.0, "f1": 0.0}
    bc = r["by_class"]
    assert list(bc) == ["digits", "upper", "lower", "punctuation"]          # no 'other' character anywhere
    # digits: truth 1, 0, 1 -> 3; predicted 1, 1 -> 2; both 1s read right
    assert bc["digits"] == {"support": 3, "predicted": 2, "precision": 1.0, "recall": pytest.approx(2 / 3),
                            "f1": pytest.approx(0.8)}
    # upper: truth I, O, A; predicted O, O, A; O and A right
    assert bc["upper"]["recall"] == pytest.approx(2 / 3) and bc["upper"]["precision"] == pytest.approx(2 / 3)
    # lower: truth l a b c a b (6); predicted l l a c a b x (7); l a c a b right (5)
    assert bc["lower"]["support"] == 6 and bc["lower"]["predicted"] == 7
    assert bc["lower"]["recall"] == pytest.approx(5 / 6) and bc["lower"]["precision"] == pytest.approx(5 / 7)
    assert bc["lower"]["f1"] == pytest.approx(10 / 13)
    assert bc["punctuation"] == {"support": 1, "predicted": 1, "precision": 1.0, "recall": 1.0, "f1": 1.0}


def test_confusable_characters_are_never_merged():
    r = evaluate(["l0O", "Il"], ["10O", "Il"])
    assert r["sequence_accuracy"] == 0.5
    assert r["confusions"] == [{"truth": "l", "pred": "1", "count": 1}]
    assert r["per_char"]["l"]["recall"] == 0.5


def test_confusions_are_counted_sorted_and_cut():
    truths = ["ab"] * 3 + ["cd"] * 2 + ["ef"]
    preds = ["xb"] * 3 + ["cy"] * 2 + ["ez"]
    r = evaluate(truths, preds, top_confusions=2)
    assert r["confusions"] == [{"truth": "a", "pred": "x", "count": 3}, {"truth": "d", "pred": "y", "count": 2}]
    assert r["edit_ops"]["substitutions"] == 6                      # the totals count beyond the cut


def test_classes_and_other():
    assert [char_class(c) for c in "7Qq~ é"] == ["digits", "upper", "lower", "punctuation", "other", "other"]
    r = evaluate(["a b"], ["ab"])
    assert r["by_class"]["other"] == {"support": 1, "predicted": 0, "precision": 0.0, "recall": 0.0, "f1": 0.0}
    assert r["deletions"] == [{"truth": " ", "pred": "", "count": 1}]


def test_empty_set():
    r = evaluate([], [])
    assert r["n"] == 0 and r["confusions"] == [] and r["per_char"] == {} and r["by_class"] == {}


def test_exact_matches_count_like_aligned_ones():
    """The shortcut for exact matches gives the numbers the alignment would."""
    truths, preds = ["Pa$$w0rd", "Pa$$w0rd"], ["Pa$$w0rd", "Pa$$w0rD"]
    r = evaluate(truths, preds)
    assert r["per_char"]["$"] == {"support": 4, "predicted": 4, "precision": 1.0, "recall": 1.0, "f1": 1.0}
    assert r["per_char"]["d"]["recall"] == 0.5 and r["per_char"]["D"]["precision"] == 0.0
    assert r["by_class"]["punctuation"]["support"] == 4


def test_evaluate_2000_strings_is_fast():
    import random
    import string
    import time

    rng = random.Random(0)
    chars = string.digits + string.ascii_letters + string.punctuation
    truths = ["".join(rng.choices(chars, k=rng.randint(6, 16))) for _ in range(2000)]
    preds = ["".join(rng.choices(chars, k=rng.randint(6, 16))) for _ in range(2000)]   # every one wrong
    t0 = time.process_time()            # CPU time: other processes on a busy machine don't count
    evaluate(truths, preds)
    assert time.process_time() - t0 < 2.0


def test_format_report_shows_confusions_and_classes():
    r = evaluate(["Il1O0", "abc"], ["ll1OO", "ac"])
    r.update(data="set", model="m.pt")
    text = format_report(r)
    assert "'I'->'l':1" in text and "'0'->'O':1" in text and "'b'->'':1" in text
    assert "2 substituted, 1 dropped, 0 inserted" in text
    lines = text.splitlines()
    row = next(line for line in lines if line.split()[:1] == ["upper"])
    # upper: truth I, O; predicted O, O; only O right -> support 2, recall 1/2, precision 1/2, F1 1/2
    assert row.split()[1:] == ["2", "0.5000", "0.5000", "0.5000"]
    plain = format_report({k: v for k, v in r.items() if k not in ("confusions", "deletions", "insertions",
                                                                   "by_class")})
    assert "->" not in plain and "by class" not in plain
    digits = evaluate(["123"], ["128"])
    digits.update(data="set", model="m.pt")
    assert "'3'->'8':1" in format_report(digits) and "by class" not in format_report(digits)


def test_merge_confusions_adds_counts_across_reports():
    from digitseq.metrics import evaluate, merge_confusions

    a = evaluate(["l1", "O0"], ["11", "00"])        # l->1 once, O->0 once
    b = evaluate(["ll", "O"], ["11", "0"])          # l->1 twice, O->0 once
    merged = merge_confusions([a, b])
    assert merged == [{"truth": "l", "pred": "1", "count": 3}, {"truth": "O", "pred": "0", "count": 2}]
    assert merge_confusions([a, b], top=1) == merged[:1] and merge_confusions([]) == []


def test_auroc_counts_right_over_wrong_pairs_and_ties_half():
    from digitseq.metrics import auroc

    right = [True, True, False, False]
    assert auroc([0.9, 0.8, 0.2, 0.1], right) == 1.0
    assert auroc([0.1, 0.2, 0.8, 0.9], right) == 0.0
    # pairs (right, wrong): (.9,.5) win, (.9,.1) win, (.5,.5) tie, (.5,.1) win -> 3.5 / 4
    assert auroc([0.9, 0.5, 0.5, 0.1], right) == pytest.approx(0.875)
    assert math.isnan(auroc([0.3, 0.4], [True, True]))


def test_confidence_report_keeps_the_surest_share_and_says_the_threshold():
    from digitseq.metrics import confidence_report

    conf = [0.9, 0.1, 0.8, 0.7, 0.2]
    right = [True, False, True, False, True]
    r = confidence_report(conf, right, coverages=(0.4, 0.6, 1.0))
    assert [(c["threshold"], c["accuracy"]) for c in r["coverage"]] == [
        (0.8, 1.0), (0.7, pytest.approx(2 / 3)), (0.1, pytest.approx(0.6))]
    assert r["mean_confidence"] == pytest.approx(0.54) and r["auroc"] == pytest.approx(5 / 6)   # of 6 pairs only (.2, .7) is out of order


def test_format_report_says_which_threshold_keeps_how_much():
    from digitseq.metrics import confidence_report

    r = evaluate(["1", "2", "3", "4"], ["1", "2", "0", "4"])
    r["confidence"] = confidence_report([0.9, 0.8, 0.7, 0.3], [True, True, False, True], coverages=(0.5,))
    text = format_report({**r, "data": "d", "model": "m"})
    assert "AUROC 0.667" in text and "the surest 50 % (confidence >= 0.800): 100.0 % right" in text
    r["confidence"] = confidence_report([0.9, 0.8], [True, True])       # nothing wrong: no AUROC to show
    assert "AUROC" not in format_report({**r, "data": "d", "model": "m"})
