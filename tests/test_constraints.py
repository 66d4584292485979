"""Reading texts of a known shape (digitseq.constraints): hand-worked decodings, the recogniser, the command line."""

import numpy as np
import pytest

from digitseq.cli import main
from digitseq.codec import Codec, Prediction, _one_log_likelihood
from digitseq.constraints import ConstrainedCodec, constrained_search, parse_length
from digitseq.errors import DataError
from digitseq.image import read_labels
from digitseq.tta import choose


def scores(rows, t=None, c=11):
    """T×C log-probabilities: each row a {class: probability} dict, the rest of the mass spread thinly."""
    p = np.full((len(rows), c), 1e-4)
    for i, row in enumerate(rows):
        for k, v in row.items():
            p[i, k] = v
    return np.log(p / p.sum(1, keepdims=True))


# Greedy reads "1234" (classes 2 3 4 5: each digit's class is itself + 1); at step 4 the blank (0.7) hides a '5'
# (class 6, 0.3), and at step 1 a '1' (0.4) that would only repeat step 0's and collapse into it.
DROPPED = scores([{2: 1}, {0: 0.6, 2: 0.4}, {3: 1}, {4: 1}, {0: 0.7, 6: 0.3}, {5: 1}, {0: 1}])


def test_parse_length():
    assert parse_length(None) is None
    assert parse_length(5) == parse_length("5") == (5, 5)
    assert parse_length("4-6") == parse_length((4, 6)) == (4, 6)
    assert parse_length("-5") == parse_length((None, 5)) == (0, 5) and parse_length((4, None)) == (4, None)
    assert parse_length("8-") == (8, None) and parse_length("-3") == (0, 3)
    for bad in ["x", "", "-", " - ", "6-4", "0", "-0", "1-2-3", "2-x", 2.5, True, (3, 1)]:
        with pytest.raises(DataError):
            parse_length(bad)


def test_a_reading_of_the_wrong_length_becomes_the_likeliest_text_that_fits():
    assert Codec("0123456789").decode(DROPPED[None])[0].text == "1234"
    five = ConstrainedCodec("0123456789", length=5).decode(DROPPED[None])[0]
    # the only likely fifth character is the hidden '5'; the hidden '1' cannot be a second '1' without a blank
    assert five.text == "12354"
    assert five.confidence == pytest.approx(np.exp(_one_log_likelihood(DROPPED, np.array([2, 3, 4, 6, 5]))))
    # a text that already fits is left as it is, whatever else is likely
    assert ConstrainedCodec("0123456789", length="3-4").decode(DROPPED[None])[0].text == "1234"
    assert ConstrainedCodec("0123456789", length="2-3").decode(DROPPED[None])[0].text in {"123", "124", "134", "234"}
    # more labels than the network has steps: no text fits, the plain reading stays
    assert ConstrainedCodec("0123456789", length=9).decode(DROPPED[None])[0].text == "1234"
    assert constrained_search(DROPPED, 9, 9) is None


def test_the_search_keeps_each_length_so_an_unlikely_length_is_still_found():
    # two steps: blank almost certain in both; "7" and "77" are both unlikely, "77" needs 7 at both steps... and a
    # blank between them, which two steps cannot hold: "77" is impossible, "78" is not.
    lp = scores([{0: 0.98, 8: 0.02}, {0: 0.97, 9: 0.03}])
    assert constrained_search(lp, 2, 2, beam=1) == (8, 9)
    assert constrained_search(lp, 1, 1) == (9,)


def test_chars_leave_out_the_others_and_spread_their_probability():
    lp = scores([{8: 0.6, 2: 0.4}, {0: 1}, {3: 1}])            # greedy "72"; without '7': "12"
    c = ConstrainedCodec("0123456789", chars="0123456")
    assert Codec("0123456789").decode(lp[None])[0].text == "72"
    assert c.decode(lp[None])[0].text == "12"
    assert c.chars == "0123456" and c.allows("0123") and not c.allows("9")
    assert ConstrainedCodec("0123456789", chars="9876543210").chars is None    # all of them: no constraint
    with pytest.raises(DataError, match="not in the model's alphabet"):
        ConstrainedCodec("0123456789", chars="12a")
    with pytest.raises(DataError):
        ConstrainedCodec("0123456789", chars="")


def test_a_search_never_uses_a_character_chars_leaves_out():
    # only '1' (class 2) allowed: '111' needs five steps (a blank between repeats) and there are four; the masked
    # classes, which the scores favour, must not fill the length, and the plain reading (of '1's) stays
    rng = np.random.default_rng(0)
    for n in (2, 3, 4):
        c = ConstrainedCodec("0123456789", chars="1", length=n)
        for _ in range(20):
            p = c.decode(rng.normal(size=(1, 4, 11)).astype("f4"))[0]
            assert set(p.text) <= {"1"} and (len(p.text) == n or n > 2)
    found = constrained_search(DROPPED, 3, 3, classes=[2, 3])
    assert found is not None and len(found) == 3 and set(found) <= {2, 3}


def test_misfits_flags_greedy_readings_of_another_length():
    c = ConstrainedCodec("0123456789", length=5)
    batch = np.stack([DROPPED, scores([{2: 1}, {0: 1}, {3: 1}, {4: 1}, {6: 1}, {5: 1}, {0: 1}])])
    assert c.misfits(batch, [7, 7]).tolist() == [True, False]
    assert c.misfits(batch, [3, 7]).tolist() == [True, False]
    assert Codec("0123456789").misfits(batch, [7, 7]).tolist() == [False, False]


def test_pooling_prefers_the_texts_that_fit():
    c = ConstrainedCodec("0123456789", length=5)
    preds = [Prediction("1234", 0.7), Prediction("12354", 0.3)]     # two readings of DROPPED, as it were
    assert choose(preds, [DROPPED, DROPPED], Codec("0123456789")).text == "1234"    # likelier on average
    best = choose(preds, [DROPPED, DROPPED], c)
    assert best.text == "12354" and best.confidence == pytest.approx(np.exp(_one_log_likelihood(DROPPED, [2, 3, 4, 6, 5])))


def test_the_recogniser_reads_every_image_at_the_length_it_is_given(digits_dir, shipped_model):
    from digitseq import Recognizer

    rec = Recognizer.load(shipped_model)
    ls = read_labels(digits_dir)
    plain = [p.text for p in rec.predict(ls.paths)]
    for n in (1, 4, 6):     # (the narrowest images, a lone digit, have too few time steps for many more)
        assert all(len(p.text) == n for p in rec.constrain(n).predict(ls.paths))
    once = Recognizer.load(shipped_model, tta="off", length="2-3")
    assert all(len(p.text) in (2, 3) for p in once.predict(ls.paths))
    rec.constrain(None)
    assert [p.text for p in rec.predict(ls.paths)] == plain
    # each label's own length: as many images right at least
    after = [rec.constrain(len(label)).predict(path).text for path, label in zip(ls.paths, ls.labels)]
    assert [len(t) for t in after] == [len(t) for t in ls.labels]
    assert sum(a == y for a, y in zip(after, ls.labels)) >= sum(p == y for p, y in zip(plain, ls.labels))
    assert rec.constrain(chars="0").predict(ls.paths[0]).text.strip("0") == ""


def test_the_command_line_takes_length_and_chars(digits_dir, shipped_model, capsys):
    assert main(["recognize", str(digits_dir), "--model", str(shipped_model), "--length", "3", "--format", "csv"]) == 0
    rows = capsys.readouterr().out.strip().splitlines()[1:]
    assert rows and all(len(r.split(",")[1]) == 3 for r in rows)
    for args, needle in ([["--length", "4-2"]], "length"), ([["--chars", "xyz"]], "not in the model's alphabet"):
        code = main(["recognize", str(digits_dir), "--model", str(shipped_model), *args[0]])
        err = capsys.readouterr().err
        assert code == 2 and err.startswith("digitseq: error:") and err.count("\n") == 1 and needle in err
    assert main(["evaluate", str(digits_dir), "--model", str(shipped_model), "--length", "1-8", "--chars", "0123456789"]) == 0
    assert "read only texts of length 1-8" in capsys.readouterr().out      # all ten digits: no character constraint
