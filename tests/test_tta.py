"""Test-time augmentation: the variants drawn, the gate and the vote worked by hand, every reading path agreeing."""

import json

import numpy as np
import pytest
from PIL import Image, ImageFilter

from digitseq.cli import main
from digitseq.codec import Prediction
from digitseq.errors import CheckpointError, DataError
from digitseq.image import fit_height, list_images, preprocess, text_region
from digitseq.recognize import Partner, Recognizer, predict_batch
from digitseq.tta import (
    READINGS,
    check_mode,
    check_readings,
    choose,
    combine,
    ctc_log_likelihoods,
    hidden_peaks,
    least_peaks,
    recrop,
    reframe,
    second_look,
    stretch,
    thin_strokes,
    unsure,
    variants,
)


def test_combine_sums_confidences_by_text():
    # "12" is read twice (0.3 + 0.3 = 0.6), "17" once more surely (0.5): the sum wins, not the single best
    preds = [Prediction("17", 0.5, "1-7"), Prediction("12", 0.3, "1-2"), Prediction("12", 0.3, "11-2")]
    assert combine(preds) == Prediction("12", pytest.approx(0.6 / 3), "1-2")
    # the surest reading of the winner gives its raw path
    assert combine([Prediction("5", 0.2, "a"), Prediction("5", 0.7, "b")]).raw == "b"
    # a tie goes to the reading that came first (the plain image's)
    assert combine([Prediction("3", 0.4), Prediction("8", 0.4)]).text == "3"
    assert combine([Prediction("", 0.9), Prediction("0", 0.1)]) == Prediction("", 0.45)
    assert combine([Prediction("7", 0.8)]) == Prediction("7", 0.8)
    with pytest.raises(ValueError):
        combine([])


def test_ctc_likelihoods_against_hand_worked_paths():
    # two steps over (blank, '1'): "1" is emitted by 1-, -1 and 11: 0.4·0.3 + 0.6·0.7 + 0.4·0.7 = 0.82; "" by --: 0.18;
    # "11" needs three steps (1, blank, 1): impossible. A second reading of one step: "1" 0.5, "" 0.5.
    two = np.log(np.array([[0.6, 0.4], [0.3, 0.7]]))
    one = np.log(np.array([[0.5, 0.5]]))
    ll = ctc_log_likelihoods([two, one], [[1], [], [1, 1]])
    assert ll.shape == (2, 3)
    np.testing.assert_allclose(np.exp(ll[:, :2]), [[0.82, 0.18], [0.5, 0.5]], rtol=1e-6)
    assert ll[0, 2] < -1e30 and ll[1, 2] < -1e30
    # a repeated label needs the blank between: "11" in three steps is 1-1 only (0.5 · 0.5 · 0.5 = 0.125)
    three = np.log(np.full((3, 2), 0.5))
    np.testing.assert_allclose(np.exp(ctc_log_likelihoods([three], [[1, 1]])), [[0.125]], rtol=1e-6)


def test_choose_takes_the_text_the_readings_find_likeliest_on_average():
    from digitseq.codec import Codec

    codec = Codec("12")
    # one step each over (blank, '1', '2'): the first reading is sure of "1", two others lean to "2"
    steps = [[1e-9, 0.9, 0.1], [1e-9, 0.45, 0.55], [1e-9, 0.45, 0.55]]
    lps = [np.log(np.array([s])) for s in steps]
    preds = [Prediction("1", 0.9, "1"), Prediction("2", 0.55, "2"), Prediction("2", 0.55, "2")]
    assert combine(preds).text == "2"                      # summed confidence: 1.1 against 0.9
    # mean likelihood: "1" (0.9 + 0.45 + 0.45) / 3 = 0.6 against "2" (0.1 + 0.55 + 0.55) / 3 = 0.4
    assert choose(preds, lps, codec) == Prediction("1", pytest.approx(0.6), "1")   # its confidence: that mean
    assert choose(preds[1:], lps[1:], codec) == Prediction("2", pytest.approx(1.1 / 2), "2")   # one text: as combine
    # a tie goes to the text read first
    even = [np.log(np.array([[1e-9, 0.5, 0.5]]))] * 2
    assert choose([Prediction("2", 0.5), Prediction("1", 0.5)], even, codec).text == "2"


def _logits(steps):
    """B=1 logits over 3 classes (blank, '1', '2') whose softmax gives each step's probabilities exactly."""
    return np.log(np.array([steps], dtype=np.float64)).astype(np.float32)


def test_least_peaks_takes_each_characters_best_step_then_the_worst_character():
    # path: blank, 1, 1, blank, 2, blank -> "12"; '1' peaks at 0.8 over its run (0.6, 0.8), '2' at 0.95
    steps = [[0.9, 0.05, 0.05], [0.3, 0.6, 0.1], [0.1, 0.8, 0.1], [0.7, 0.2, 0.1], [0.03, 0.02, 0.95],
             [0.98, 0.01, 0.01]]
    assert least_peaks(_logits(steps), [6]) == pytest.approx([0.8])
    # only the first 3 steps count: '1' alone, peak 0.8; nothing read at all -> 0.0 (unsure)
    assert least_peaks(_logits(steps), [3]) == pytest.approx([0.8])
    assert least_peaks(_logits([[0.99, 0.005, 0.005]] * 4), [4]) == pytest.approx([0.0])
    # a blank step between two runs of the same class makes two characters ("11"), each with its own peak
    steps = [[0.1, 0.9, 0.0], [0.9, 0.1, 0.0], [0.4, 0.6, 0.0]]
    assert least_peaks(_logits(np.clip(steps, 1e-6, 1)), [3]) == pytest.approx([0.6], abs=1e-4)


def test_hidden_peaks_finds_a_character_the_blank_outvoted_but_not_a_kept_ones_shoulders():
    # path: blank, blank, blank, 2, blank -> "2"; at step 1 the blank wins (0.6) but '1' has 0.35 and neither
    # neighbour reads '1': a dropped character. Elsewhere the best other character is 0.05 or less.
    steps = [[0.9, 0.05, 0.05], [0.6, 0.35, 0.05], [0.9, 0.05, 0.05], [0.05, 0.05, 0.9], [0.95, 0.03, 0.02]]
    assert hidden_peaks(_logits(steps), [5]) == pytest.approx([0.35])
    # the steps either side of a kept '2' lean to '2' (0.35, 0.25): its shoulders, not another character
    steps = [[0.6, 0.05, 0.35], [0.05, 0.05, 0.9], [0.7, 0.05, 0.25]]
    assert hidden_peaks(_logits(steps), [3]) == pytest.approx([0.0])
    # only an image's own steps count: past its length nothing is read, so a '2' there is no neighbour
    steps = [[0.9, 0.05, 0.05], [0.6, 0.05, 0.35], [0.05, 0.05, 0.9]]
    assert hidden_peaks(_logits(steps), [2]) == pytest.approx([0.35])
    assert hidden_peaks(_logits(steps), [3]) == pytest.approx([0.05])     # step 2 reads '2': step 1 is its shoulder
    # batched: each image on its own steps
    two = np.concatenate([_logits(steps), _logits(steps)])
    assert hidden_peaks(two, [2, 3]) == pytest.approx([0.35, 0.05])


def test_unsure_is_a_low_peak_or_a_dropped_character():
    from digitseq.tta import GATE, HIDDEN

    sure = [[0.98, 0.01, 0.01], [0.01, 0.98, 0.01], [0.98, 0.01, 0.01]]           # "1", peak 0.98, nothing hidden
    low = [[0.98, 0.01, 0.01], [0.2, 0.7, 0.1], [0.98, 0.01, 0.01]]               # "1" at 0.7 < GATE
    dropped = [[0.98, 0.01, 0.01], [0.01, 0.98, 0.01], [0.98, 0.01, 0.01], [0.7, 0.01, 0.29]]   # '2' at 0.29
    batch = np.concatenate([_logits(sure + [sure[0]]), _logits(low + [low[0]]), _logits(dropped)])
    assert 0.7 < GATE and 0.29 > HIDDEN > 0.01
    assert unsure(batch, [4, 4, 4]).tolist() == [False, True, True]
    assert unsure(batch, [4, 4, 3]).tolist() == [False, True, False]         # the dropped '2' is past the end


def test_seven_readings_add_a_narrower_one_and_tighter_and_looser_margins():
    a = _tight_line()                                     # 32 × 60: text 26 rows high, margins 3 rows and ~6.5 columns
    seven = variants(a, "seven")
    assert len(seven) == 6
    for got, want in zip(seven, variants(a)):
        np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(seven[3], stretch(a, 0.87))
    tight, loose = seven[4:]
    np.testing.assert_array_equal(tight, reframe(a, 0.5))
    np.testing.assert_array_equal(loose, reframe(a, 2.0))
    # band = 32 / 1.24 = 25.8 rows; half the margins cut: 1.55 rows and 3.2 columns a side -> 28.9 × 53.5,
    # resized to 32 rows: 59 columns. Doubled: 3 more rows and 6 more columns a side (38 × 72), resized: 61.
    assert tight.shape == (32, 59) and loose.shape == (32, 61)
    ink = lambda x: (x < 128).any(axis=1).sum()          # noqa: E731  (rows with ink)
    assert ink(tight) > ink(a) > ink(loose)              # the text fills more of the height, then less
    assert loose[0, 0] == 255 and tight.dtype == loose.dtype == np.uint8
    for narrow in (np.full((48, 8), 255, np.uint8), np.full((32, 2), 0, np.uint8)):    # margins wider than it
        assert reframe(narrow, 0.5).shape[0] == narrow.shape[0] and reframe(narrow, 2.0).shape[0] == narrow.shape[0]
    assert [check_readings(r) for r in (None, "four", "seven")] == ["four", "four", "seven"] == [READINGS[0],
                                                                                                 *READINGS]
    with pytest.raises(DataError, match="readings must be one of"):
        check_readings("eight")


def test_each_shipped_model_reads_as_it_says(shipped_model):
    assert Recognizer.load("digits").readings == "four"
    assert Recognizer.load("ascii").readings == "seven"                   # its validation set chose seven
    assert Recognizer.load("ascii", backend="torch").readings == "seven"
    assert Recognizer.load("ascii", readings="four").readings == "four"
    with pytest.raises(DataError):
        Recognizer.load("digits", readings="many")


def test_the_command_line_offers_the_modes_the_library_has():
    from digitseq.cli import build_parser
    from digitseq.tta import MODES

    for command in ("recognize", "evaluate"):
        args = build_parser().parse_args([command, "x"])
        assert args.tta == MODES[0] == "auto"
        action = next(a for a in build_parser()._subparsers._group_actions[0].choices[command]._actions
                      if a.dest == "tta")
        assert tuple(action.choices) == MODES
        readings = next(a for a in build_parser()._subparsers._group_actions[0].choices[command]._actions
                        if a.dest == "readings")
        assert tuple(readings.choices) == READINGS and args.readings is None     # None: the model's own


def test_check_mode():
    assert [check_mode(m) for m in ("auto", "all", "off", True, False, None)] == ["auto", "all", "off", "all",
                                                                                  "off", "off"]
    with pytest.raises(DataError, match="tta must be one of"):
        check_mode("sometimes")


def _strip(dark_ink: bool) -> np.ndarray:
    """A 32 × 60 image with one vertical stroke 6 px wide, dark on light or light on dark."""
    ink, paper = (0, 255) if dark_ink else (255, 0)
    a = np.full((32, 60), paper, np.uint8)
    a[4:28, 27:33] = ink
    return a


@pytest.mark.parametrize("dark_ink", [True, False])
def test_thin_strokes_thins_the_ink_whichever_its_polarity(dark_ink):
    a = _strip(dark_ink)
    t = thin_strokes(a)
    assert t.shape == a.shape and t.dtype == np.uint8
    ink = (lambda x: (x < 128).sum()) if dark_ink else (lambda x: (x > 127).sum())
    assert ink(t) < ink(a)                    # thinner
    assert ink(t) > 0.5 * ink(a)              # by about a pixel, not erased
    assert t[16, 30] == a[16, 30] and t[0, 0] == a[0, 0]   # the stroke's core and the background stay
    # the same as PIL's rank filter at twice the size
    big = Image.fromarray(a).resize((120, 64), Image.BILINEAR)
    big = big.filter(ImageFilter.MaxFilter(3) if dark_ink else ImageFilter.MinFilter(3))
    np.testing.assert_array_equal(t, np.asarray(big.resize((60, 32), Image.BILINEAR)))


def test_variants_are_the_input_stretched_and_thinned():
    a = _strip(True)
    v = variants(a)
    assert [x.shape for x in v] == [(32, 69), (32, 80), (32, 60)]       # 60 × 1.15, × 1.33; thin keeps the size
    np.testing.assert_array_equal(v[0], stretch(a, 1.15))
    np.testing.assert_array_equal(v[2], thin_strokes(a))
    assert stretch(a, 1.0).shape == a.shape


def test_fit_height_stretch_and_clamps():
    img = Image.new("L", (100, 50), 255)
    assert fit_height(img, 32).shape == (32, 64)
    assert fit_height(img, 32, stretch=1.5).shape == (32, 96)
    assert fit_height(img, 32, max_width=70, stretch=1.5).shape == (32, 70)
    assert fit_height(Image.new("L", (2, 50)), 32).shape == (32, 8)               # MIN_WIDTH
    np.testing.assert_array_equal(preprocess(img, 32), fit_height(text_region(img), 32))


def _small_stroke() -> np.ndarray:
    """A 32 × 120 input array whose only ink is a stroke 4 px wide and 8 high in its middle: a line the first crop
    left small (in a frame, beside a stray mark) that a second crop finds."""
    a = np.full((32, 120), 255, np.uint8)
    a[12:20, 58:62] = 0
    return a


def _tight_line() -> np.ndarray:
    """A 32 × 60 input array as the text-line crop leaves it: strokes 26 rows high across the width, margins
    of about an eighth of that height above and below and a quarter left and right."""
    a = np.full((32, 60), 255, np.uint8)
    for x in range(7, 53, 8):
        a[3:29, x:x + 3] = 0
    return a


def test_recrop_finds_a_smaller_line_inside_the_input_and_leaves_a_tight_one():
    tight = _tight_line()
    assert recrop(tight) is None
    assert [x.shape for x in second_look(tight, textline=True)] == [x.shape for x in variants(tight)]
    small = _small_stroke()
    r = recrop(small)
    assert r is not None and r.shape[0] == 32 and r.dtype == np.uint8
    assert (r < 128).any(axis=0).sum() >= 3 * 4              # the stroke, now ~3× as large (8 of ~10 rows → 32)
    looks = second_look(small, textline=True)
    assert len(looks) == 4
    np.testing.assert_array_equal(looks[0], r)
    for got, want in zip(looks[1:], variants(r)):
        np.testing.assert_array_equal(got, want)
    # a model that does not read cropped lines gets the plain variants only
    assert [x.shape for x in second_look(small, textline=False)] == [x.shape for x in variants(small)]


class _Scripted:
    """A runner that reads each image by its ink: no ink reads "1" surely; a stroke 7 or more columns wide
    (the plain 6-column stroke stretched) reads "7" surely; any other stroke reads "1" unsurely (peak 0.6)."""
    backend = "test"

    def run(self, x):
        out = np.full((x.shape[0], 4, 11), -20.0, np.float32)
        out[:, :, 0] = 5.0                                          # blank everywhere, but for step 1
        for i in range(x.shape[0]):
            ink = int((x[i, 0] < 0).any(axis=0).sum())             # dark columns (pixels below mid-grey)
            cls = 8 if ink >= 7 else 2                              # class k reads digit k-1
            out[i, 1, cls] = 5.0 + (np.log(1.5) if 0 < ink < 7 else 10.0)   # p = 1.5 / 2.5 = 0.6: unsure
        return out

    def output_lengths(self, widths):
        return np.full(len(widths), 4)


def test_auto_looks_again_only_where_unsure_and_pools_the_readings():
    from digitseq.codec import Codec

    codec = Codec("0123456789")
    assert [int((v < 128).any(axis=0).sum()) for v in variants(_strip(True))][:2] >= [7, 7]
    sure, unsure = np.full((32, 50), 255, np.uint8), _strip(True)
    off = predict_batch(_Scripted(), codec, [sure, unsure], tta="off")
    assert [p.text for p in off] == ["1", "1"] and off[1].confidence == pytest.approx(0.6, abs=1e-3)
    auto = predict_batch(_Scripted(), codec, [sure, unsure], tta="auto")
    assert auto[0] == off[0]                                 # sure: one reading, unchanged
    # unsure: plain and thin read "1" (0.6 each), 1.15x and 1.33x read "7" (1.0 each): 2.0 > 1.2, "7" wins
    assert auto[1].text == "7" and auto[1].confidence == pytest.approx(2.0 / 4, abs=1e-3)
    every = predict_batch(_Scripted(), codec, [sure, unsure], tta="all")
    assert every[0] == Prediction("1", pytest.approx(1.0, abs=1e-3)) and every[1] == auto[1]


class _Dropping:
    """A runner that reads "1" surely in every image; at step 3 the blank wins over a '2' at 0.3 (a dropped
    character) unless the stroke is 7 or more columns wide (stretched), where it reads "12" surely."""
    backend = "test"

    def run(self, x):
        out = np.full((x.shape[0], 4, 11), -20.0, np.float32)
        out[:, :, 0] = 5.0
        out[:, 1, 2] = 15.0                                          # '1', surely
        for i in range(x.shape[0]):
            wide = int((x[i, 0] < 0).any(axis=0).sum()) >= 7
            out[i, 3, 3] = 15.0 if wide else 5.0 + np.log(0.3 / 0.7)   # '2': sure, or 0.3 against the blank's 0.7
        return out

    def output_lengths(self, widths):
        return np.full(len(widths), 4)


def test_auto_looks_again_where_a_sure_reading_dropped_a_character():
    from digitseq.codec import Codec

    codec = Codec("0123456789")
    off = predict_batch(_Dropping(), codec, [_strip(True)], tta="off")[0]
    assert off.text == "1"                                   # every kept character sure: the old gate passed it
    assert predict_batch(_Dropping(), codec, [_strip(True)], tta="auto")[0].text == "12"


class _SurelyOne:
    """A partner's runner that reads every image as "1", surely."""
    backend = "test"

    def run(self, x):
        out = np.full((x.shape[0], 4, 11), -20.0, np.float32)
        out[:, :, 0] = 5.0
        out[:, 1, 2] = 15.0
        return out

    def output_lengths(self, widths):
        return np.full(len(widths), 4)


def test_a_partner_reads_each_unsure_image_once_more_into_the_pool():
    from digitseq.codec import Codec

    codec = Codec("0123456789")
    asked = []

    def fetch(i):
        asked.append(i)
        return np.full((48, 60), 255, np.uint8)

    sure, unsure = np.full((32, 50), 255, np.uint8), _strip(True)
    partner = Partner(_SurelyOne(), {"mean": 0.5, "std": 0.5}, 0, fetch)
    got = predict_batch(_Scripted(), codec, [sure, unsure], tta="auto", partner=partner)
    assert asked == [1]                                   # the sure image is read once, by the model alone
    # the pool: plain and thin read "1" (0.6 each), 1.15x and 1.33x "7" (1.0 each), the partner "1" (1.0): by
    # likelihood "1" 2.2 / 5 against "7" 2.0 / 5 (without the partner "7" wins, 2.0 / 4 against 1.2 / 4)
    assert got[1].text == "1" and got[1].confidence == pytest.approx(2.2 / 5, abs=1e-3)
    assert predict_batch(_Scripted(), codec, [sure, unsure], tta="auto")[1].text == "7"
    # a partner with nothing to read for an image (fetch gives None) leaves that image's pool as it was
    nothing = partner._replace(fetch=lambda i: None)
    assert predict_batch(_Scripted(), codec, [sure, unsure], tta="auto", partner=nothing)[1].text == "7"
    assert predict_batch(_Scripted(), codec, [sure, unsure], tta="off", partner=partner)[1].text == "1"
    assert asked == [1]                                   # tta off: no second look, no partner
    # every way: the partner's array and its three variants read "1" four times: 5.2 / 8 against "7" 2.0 / 8
    shown = []
    wide = partner._replace(runner=_Counting(_SurelyOne(), shown), every_way=True)
    got = predict_batch(_Scripted(), codec, [sure, unsure], tta="auto", partner=wide)[1]
    assert got.text == "1" and got.confidence == pytest.approx(5.2 / 8, abs=1e-3) and sum(shown) == 4


class _Counting:
    """A runner that counts the images it is shown."""
    backend = "test"

    def __init__(self, inner, shown):
        self.inner, self.shown = inner, shown

    def run(self, x):
        self.shown.append(x.shape[0])
        return self.inner.run(x)

    def output_lengths(self, widths):
        return self.inner.output_lengths(widths)


def test_the_shipped_digit_model_has_a_partner_that_can_be_turned_off(tmp_path, shipped_model):
    rec = Recognizer.load("digits")
    assert rec.partner is not None and rec.partner.input_height == 48 and rec.partner.partner is None
    assert rec.partner.alphabet == rec.alphabet and rec.partner.tta == "off"
    assert Recognizer.load("digits", backend="torch").partner.backend == "torch"
    given = Recognizer.load("digits", partner=shipped_model.with_name("digits-h48.pt"))   # a path runs as what it is
    assert given.backend == "onnx" and given.partner.backend == "torch"
    assert Recognizer.load("digits", partner="off").partner is None
    assert rec.partner_looks == "once"
    ascii_rec = Recognizer.load("ascii")        # the ASCII model's partner reads every way it does (seven)
    assert ascii_rec.partner.input_height == 48 and ascii_rec.partner_looks == "every way"
    assert Recognizer.load("digits", tta="off").partner is None           # nothing would read with it
    with pytest.raises(CheckpointError, match="same alphabet"):
        Recognizer.load("digits", partner=shipped_model.with_name("ascii.onnx"))
    # a copy of the model without its partner beside it reads alone
    lone = tmp_path / "digits.onnx"
    lone.write_bytes(shipped_model.with_suffix(".onnx").read_bytes())
    assert Recognizer.load(lone).partner is None
    assert Recognizer.load(lone, partner=shipped_model.with_name("digits-h48.onnx")).partner is not None


def test_many_files_give_the_partner_the_crop_they_were_read_from(digits_dir, monkeypatch):
    """predict_files keeps each image's text-line crop for the partner (its input at height 48 is that crop resized)
    rather than decoding and cropping the file again: the same inputs, so the same readings."""
    paths = sorted(digits_dir.glob("*.png"))
    rec = Recognizer.load("digits", tta="all")          # every image read again, by the partner too
    assert rec._shares_crop()
    fetched = []
    prepare = rec.partner.prepare
    rec.partner.prepare = lambda image: fetched.append(image) or prepare(image)
    shared = [(p.text, p.confidence) for _, p, _ in rec.predict_files(paths)]
    assert fetched == []                                # no file decoded again for the partner
    rec._shares_crop = lambda: False
    again = [(p.text, p.confidence) for _, p, _ in rec.predict_files(paths)]
    assert len(fetched) == len(paths) and shared == again
    fetched.clear()                                     # Recognizer.predict too: one image, and a list
    rec._shares_crop = lambda: True
    one, many = rec.predict(paths[0]), rec.predict(paths)
    assert fetched == [] and [(p.text, p.confidence) for p in many] == again and one.text == many[0].text
    monkeypatch.setattr("digitseq.recognize.KEEP_CROPS", 2)    # a long list keeps no crops: the partner decodes
    assert [(p.text, p.confidence) for p in rec.predict(paths)] == again and len(fetched) == len(paths)


def test_partner_from_the_command_line(digits_dir, shipped_model, tmp_path):
    reports = {}
    for name, extra in (("own", []), ("off", ["--partner", "off"])):
        out = tmp_path / f"{name}.json"
        assert main(["evaluate", str(digits_dir), "--json", str(out), *extra]) == 0
        reports[name] = json.loads(out.read_text())
    assert reports["own"]["partner"].endswith("digits-h48.onnx") and reports["off"]["partner"] is None
    assert main(["recognize", str(digits_dir), "--partner", str(tmp_path / "none.onnx")]) != 0


def test_the_second_look_reads_a_tighter_crop_where_the_model_crops_text_lines():
    from digitseq.codec import Codec

    codec = Codec("0123456789")
    small = _small_stroke()             # 4 dark columns: "1", unsure; so are its stretched and thinned variants
    assert [p.text for p in predict_batch(_Scripted(), codec, [small], tta="auto")] == ["1"]
    # cropped again, the stroke is ~13 columns wide: "7", surely, four times (1.0 each) against the plain 0.6
    got = predict_batch(_Scripted(), codec, [small], tta="auto", textline=True)[0]
    assert got.text == "7" and got.confidence == pytest.approx(4.0 / 5, abs=1e-3)
    assert predict_batch(_Scripted(), codec, [small], tta="off", textline=True)[0].text == "1"


def test_every_reading_path_gives_the_same_answers(digits_dir, shipped_model):
    paths = list_images([digits_dir])[:10]
    for mode in ("auto", "all", "off"):
        rec = Recognizer.load("digits", tta=mode)
        assert rec.tta == mode
        files = [p for _, p, _ in rec.predict_files(paths, batch_size=4)]
        listed = rec.predict(paths, batch_size=4)
        assert [p.text for p in files] == [p.text for p in listed]
        assert all(0 <= p.confidence <= 1 for p in files)
        one = rec.predict(paths[0])
        assert isinstance(one, Prediction)
    assert Recognizer.load("digits").tta == "auto"
    with pytest.raises(DataError):
        Recognizer.load("digits", tta="maybe")


def test_tta_from_the_command_line(digits_dir, shipped_model, capsys, tmp_path):
    assert main(["recognize", str(digits_dir), "--tta", "all", "--format", "jsonl"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(rows) == 24
    reports = {}
    for mode in ("auto", "all", "off"):
        out = tmp_path / f"{mode}.json"
        assert main(["evaluate", str(digits_dir), "--tta", mode, "--json", str(out)]) == 0
        reports[mode] = json.loads(out.read_text())
        assert reports[mode]["tta"] == mode and reports[mode]["n"] == 24
    # the set is easy: a second look must not lose what one reading gets
    assert reports["auto"]["sequence_accuracy"] >= reports["off"]["sequence_accuracy"] - 1 / 24
    capsys.readouterr()
    with pytest.raises(SystemExit) as exc:            # argparse's own one-line usage error
        main(["recognize", str(digits_dir), "--tta", "sometimes"])
    assert exc.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_width_batches_cut_by_count_and_by_padded_columns():
    from digitseq.recognize import width_batches

    widths = [5, 3, 9, 1]                                   # ascending: indices 3, 1, 0, 2
    assert width_batches(widths, 2) == [[3, 1], [0, 2]]
    # at most 12 columns padded: [1, 3] -> 2 × 3 = 6; adding 5 -> 3 × 5 = 15 > 12; then 5 and 9 -> 2 × 9 = 18 > 12
    assert width_batches(widths, 3, 12) == [[3, 1], [0], [2]]
    assert width_batches([100], 3, 10) == [[0]]            # one image wider than the budget still gets a batch
    assert width_batches([], 3, 10) == [] and width_batches([4, 4, 4], 8, 12) == [[0, 1, 2]]


def test_an_array_cut_at_its_text_is_read_again_with_margins(monkeypatch):
    from digitseq import tta
    from digitseq.textline import PAD_X, PAD_Y
    from digitseq.tta import is_tight, padded, tight

    margins = _tight_line()                                    # 32 × 60: text with the crop's margins around it
    assert not is_tight(margins) and padded(margins) is None
    cut = np.full((32, 59), 255, np.uint8)                     # glyph-like strokes cut at their ink: some reach the
    for i, x in enumerate(range(0, 59, 8)):                    # top, some the bottom, the first and last the sides
        cut[(0, 8)[i % 2]:(24, 32)[i % 2], x:x + 3] = 0
    assert is_tight(cut)
    framed = cut.copy()
    framed[:, 0] = framed[:, -1] = 0                           # sides inked all along: a frame's, not text's
    assert not is_tight(framed)
    wide = padded(cut)
    assert wide.shape[0] == 32 and wide[0, 0] == wide[-1, -1] == 255          # background all round
    ys, xs = np.nonzero(wide < 128)
    h = 32 / (1 + 2 * PAD_Y)                                    # the text's rows once the margins are added
    assert abs((ys.max() - ys.min() + 1) - h) <= 2 and xs.min() >= PAD_X * h - 2
    # the second look of a model that reads cropped lines reads the padded array beside the plain one's variants
    looks = second_look(cut, textline=True)
    np.testing.assert_array_equal(looks[0], wide)
    assert len(looks) == 4
    for got, want in zip(looks[1:], variants(cut)):
        np.testing.assert_array_equal(got, want)
    # every way (the candidate that did not ship): the padded array's variants too, then the plain one's
    monkeypatch.setattr(tta, "PAD_EVERY_WAY", True)
    looks = second_look(cut, textline=True)
    assert len(looks) == 7
    for got, want in zip(looks, [wide, *variants(wide), *variants(cut)]):
        np.testing.assert_array_equal(got, want)
    monkeypatch.undo()
    assert tight([margins, cut]).tolist() == [False, True]
    assert [x.shape for x in second_look(cut, textline=False)] == [x.shape for x in variants(cut)]


def test_a_partner_that_takes_the_models_own_input_reads_it_without_decoding_again(digits_dir, shipped_model,
                                                                                     monkeypatch):
    paths = list_images([digits_dir])[:12]
    same = Recognizer.load("digits", partner=shipped_model.with_suffix(".onnx"), tta="all")   # height 32, as it
    other = Recognizer.load("digits", tta="all")                                              # height 48
    assert same._partner(paths.__getitem__).same_input and not other._partner(paths.__getitem__).same_input
    with monkeypatch.context() as m:            # the partner decoding each image again, as before
        own = Recognizer._partner
        m.setattr(Recognizer, "_partner", lambda self, *a, **k: own(self, *a, **k)._replace(same_input=False))
        expected = [(p.text, round(p.confidence, 9)) for p in same.predict(paths)]
    monkeypatch.setattr(same.partner, "prepare", lambda image: pytest.fail("decoded again"))
    assert [(p.text, round(p.confidence, 9)) for p in same.predict(paths)] == expected
    assert [(p.text, round(p.confidence, 9)) for _, p, _ in same.predict_files(paths)] == expected
