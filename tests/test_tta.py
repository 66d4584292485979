"""Test-time augmentation: the variants drawn, the vote worked by hand, and every reading path agreeing."""

import json

import numpy as np
import pytest
from PIL import Image

from digitseq.cli import main
from digitseq.codec import Prediction
from digitseq.image import fit_height, list_images, preprocess, preprocess_variants, text_region
from digitseq.recognize import Recognizer
from digitseq.tta import VARIANTS, combine, thin_strokes


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


def test_variants_are_the_plain_input_stretched_and_thinned():
    img = Image.fromarray(_strip(True)).resize((120, 40))
    arrays = preprocess_variants(img, 32)
    assert len(arrays) == len(VARIANTS) == 4
    plain = preprocess(img, 32)
    np.testing.assert_array_equal(arrays[0], plain)            # the first is what the model always sees
    assert [a.shape[0] for a in arrays] == [32] * 4
    widths = {name: a.shape[1] for (name, _, _), a in zip(VARIANTS, arrays)}
    assert widths == {"plain": 96, "wide": 110, "wider": 128, "thin": 96}   # 120 * 32/40 = 96; ×1.15, ×1.33
    np.testing.assert_array_equal(arrays[3], thin_strokes(plain))


def test_fit_height_stretch_and_clamps():
    img = Image.new("L", (100, 50), 255)
    assert fit_height(img, 32).shape == (32, 64)
    assert fit_height(img, 32, stretch=1.5).shape == (32, 96)
    assert fit_height(img, 32, max_width=70, stretch=1.5).shape == (32, 70)
    assert fit_height(Image.new("L", (2, 50)), 32).shape == (32, 8)               # MIN_WIDTH
    np.testing.assert_array_equal(preprocess(img, 32), fit_height(text_region(img), 32))


def test_every_reading_path_gives_the_same_answers_with_tta(digits_dir, shipped_model):
    paths = list_images([digits_dir])[:10]
    rec = Recognizer.load("digits", tta=True)
    assert rec.tta and not Recognizer.load("digits").tta
    files = [p for _, p, _ in rec.predict_files(paths, batch_size=4)]
    listed = rec.predict(paths, batch_size=4)
    assert [p.text for p in files] == [p.text for p in listed]
    assert all(0 <= p.confidence <= 1 for p in files)
    one = rec.predict(paths[0])
    assert isinstance(one, Prediction) and one.text == files[0].text
    arr = np.asarray(Image.open(paths[1]))
    assert rec.predict(arr).text == files[1].text


def test_tta_from_the_command_line(digits_dir, shipped_model, capsys, tmp_path):
    assert main(["recognize", str(digits_dir), "--tta", "--format", "jsonl"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(rows) == 24
    out = tmp_path / "r.json"
    assert main(["evaluate", str(digits_dir), "--tta", "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    assert report["tta"] is True and report["n"] == 24
    # the set is easy: reading it four ways must not lose what reading it once gets
    assert main(["evaluate", str(digits_dir), "--json", str(tmp_path / "plain.json")]) == 0
    plain = json.loads((tmp_path / "plain.json").read_text())
    assert plain["tta"] is False
    assert report["sequence_accuracy"] >= plain["sequence_accuracy"] - 1 / 24
