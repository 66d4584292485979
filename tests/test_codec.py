import numpy as np
import pytest
import torch

from digitseq.codec import PRINTABLE_ASCII, Codec, ctc_log_likelihood
from digitseq.errors import DataError

C = Codec("0123456789")


def one_hot_path(path, num_classes=11, p=0.9):
    """Log-probabilities whose argmax follows `path` (class indices), each step with probability p."""
    lp = np.full((len(path), num_classes), np.log((1 - p) / (num_classes - 1)))
    lp[np.arange(len(path)), path] = np.log(p)
    return lp


@pytest.mark.parametrize("path,text", [
    ([0, 1, 1, 0, 2, 0], "01"),             # repeats merge
    ([1, 1, 0, 1, 0], "00"),                # a blank between repeats keeps both
    ([0, 0, 0], ""),                        # only blanks
    ([5, 5, 5, 6, 6, 0, 6, 10], "4559"),     # 4 4 4 5 5 · 5 9
    ([1, 2, 3, 4], "0123"),
])
def test_greedy_decoding_hand_made(path, text):
    assert C.greedy(one_hot_path(path)).text == text
    assert C.collapse(path) == text


def test_greedy_confidence_is_the_texts_probability_over_every_alignment():
    # Steps put 0.5 on blank, '0', blank and 0.05 on each other class. "0" collapses from six paths:
    # ·0· .125, 00· and ·00 .0125 each, 0··, ··0 and 000 .00125 each: .15375 (the best path alone: .125).
    pred = C.greedy(one_hot_path([0, 1, 0], p=0.5))
    assert pred.text == "0" and pred.confidence == pytest.approx(0.15375)
    assert C.greedy(one_hot_path([0, 0], p=0.5)).confidence == pytest.approx(0.25)   # "": only ··


def test_ctc_log_likelihood_pairs_each_sequence_with_its_own_label_and_length():
    lp = np.stack([one_hot_path([0, 1, 0], p=0.5), one_hot_path([1, 0, 2], p=0.5)])
    got = np.exp(ctc_log_likelihood(lp, [[1], [1]], lengths=[3, 1]))
    # the second: one step, '0' at 0.5; "0" needs one step
    assert got == pytest.approx([0.15375, 0.5])
    assert ctc_log_likelihood(lp, [[1, 1, 1], [2]], lengths=[3, 3])[0] < -1e30   # "000" needs 5 steps


def test_a_lone_pair_takes_the_fast_path_and_agrees_with_the_batched_one():
    lp = one_hot_path([0, 1, 0], p=0.5)[None]
    assert np.exp(ctc_log_likelihood(lp, [[1]])) == pytest.approx([0.15375])     # the hand-worked case above
    assert ctc_log_likelihood(lp, [[1, 1, 1]])[0] < -1e30                        # "000" cannot fit in 3 steps
    assert np.exp(ctc_log_likelihood(lp, [[]])) == pytest.approx([0.0125])       # "": blanks, .5 × .05 × .5
    rng = np.random.default_rng(0)
    for t, label in [(40, [3, 3, 1, 5]), (9, [2, 2, 2, 2]), (120, list(rng.integers(1, 11, 20))), (7, [])]:
        x = np.log(rng.dirichlet(np.full(11, 0.3), size=t)).astype(np.float32)
        alone = ctc_log_likelihood(x[None], [label])[0]
        batched = ctc_log_likelihood(np.stack([x, x]), [label, [1]])[0]     # two pairs: the batched loop
        assert alone == pytest.approx(batched, rel=1e-9)


def test_batch_decode_uses_each_sequence_length():
    lp = torch.tensor(np.stack([one_hot_path([1, 0, 2, 3]), one_hot_path([4, 0, 9, 9])]))
    preds = C.decode(lp, torch.tensor([2, 4]))
    assert [p.text for p in preds] == ["0", "38"]


def test_beam_search_sums_paths_where_greedy_does_not():
    # Two steps, classes (blank, 'a'): greedy picks blank,blank (p=.36) -> "",
    # but "a" collects .4*.6 + .6*.4 + .4*.4 = .64 over its three paths.
    codec = Codec("a")
    lp = np.log(np.array([[0.6, 0.4], [0.6, 0.4]]))
    assert codec.greedy(lp).text == ""
    best = codec.beam_search(lp, beam_width=4)
    assert best.text == "a" and best.confidence == pytest.approx(0.64)


def test_beam_search_agrees_with_greedy_on_confident_output():
    rng = np.random.default_rng(0)
    for _ in range(20):
        path = rng.integers(0, 11, size=15)
        lp = one_hot_path(path, p=0.99)
        assert C.beam_search(lp, 5).text == C.greedy(lp).text


def test_raw_path_blank_symbol_is_never_an_alphabet_character():
    assert C.raw([0, 1, 1, 0, 2]) == "·00·1"
    ascii_codec = Codec(PRINTABLE_ASCII + "·")
    assert ascii_codec.blank_symbol not in ascii_codec.alphabet


def test_encode_and_errors():
    assert C.encode("00427") == [1, 1, 5, 3, 8]
    targets, lengths = C.encode_batch(["01", "9"])
    assert targets.tolist() == [1, 2, 10] and lengths.tolist() == [2, 1]
    with pytest.raises(DataError, match="'a'"):
        C.encode("12a")
    with pytest.raises(DataError):
        Codec("1123")
    with pytest.raises(DataError):
        Codec("")
    assert Codec.from_labels(["b1", "a1"]).alphabet == "1ab"


def test_numpy_batch_decoding_matches_torch_and_per_sequence_decoding():
    rng = np.random.default_rng(1)
    scores = rng.normal(0, 3, size=(3, 12, 11)).astype(np.float32)
    from digitseq.codec import log_softmax

    lp = log_softmax(scores)
    assert np.allclose(lp, torch.log_softmax(torch.from_numpy(scores), -1).numpy(), atol=1e-5)
    lengths = np.array([12, 5, 0])
    batch = C.decode(lp, lengths, with_raw=True)
    for i, n in enumerate(lengths):
        one = C.greedy(lp[i, :n], with_raw=True)
        assert (batch[i].text, batch[i].raw) == (one.text, one.raw)
        assert batch[i].confidence == pytest.approx(one.confidence if n else 0.0, rel=1e-5)
    beams = C.decode(lp, lengths, beam_width=4)
    assert [b.text for b in beams] == [C.beam_search(lp[i, :n], 4).text for i, n in enumerate(lengths)]
    from_scores = C.decode_scores(scores, lengths, with_raw=True)
    assert [(p.text, p.raw) for p in from_scores] == [(p.text, p.raw) for p in batch]
    assert [p.confidence for p in from_scores] == pytest.approx([p.confidence for p in batch], rel=1e-5)
    assert [p.text for p in C.decode_scores(scores, lengths, beam_width=4)] == [b.text for b in beams]
