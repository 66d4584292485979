"""benchmarks/make_tight.py: copies of labelled sets cut tight to their ink."""

import csv
import sys

import numpy as np
import pytest
from PIL import Image

from digitseq import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))
import make_tight  # noqa: E402


def test_the_box_is_the_ink_whatever_the_polarity_and_ignores_faint_specks():
    a = np.full((40, 100), 220, np.uint8)
    a[10:30, 20:70] = 30          # the text
    a[2, 95] = 200                # a faint speck: 20 levels off the paper, under a quarter of 190
    assert make_tight.ink_box(Image.fromarray(a)) == (20, 10, 70, 30)
    assert make_tight.ink_box(Image.fromarray(255 - a)) == (20, 10, 70, 30)
    assert make_tight.ink_box(Image.fromarray(np.full((8, 8), 99, np.uint8))) is None


def test_a_tight_copy_keeps_labels_as_strings_and_cuts_each_image(tmp_path):
    src = tmp_path / "img" / "s"
    src.mkdir(parents=True)
    a = np.full((40, 100, 3), 255, np.uint8)
    a[5:35, 10:90] = 0
    Image.fromarray(a).save(src / "a.jpg", quality=95)
    with open(src / "labels.csv", "w", newline="") as fh:
        csv.writer(fh).writerows([("filename", "label"), ("a.jpg", "00427")])
    out = make_tight.make_tight("s", root=tmp_path / "img")
    assert out.name == "tight_s"
    assert list(csv.reader(open(out / "labels.csv"))) == [["filename", "label"], ["a.png", "00427"]]
    w, h = Image.open(out / "a.png").size
    assert abs(w - 80) <= 2 and abs(h - 30) <= 2


def test_nested_sets_do_not_land_on_each_other(tmp_path):
    assert make_tight.tight_name("val") == "tight_val"
    assert make_tight.tight_name("ascii/test_ascii") == "tight_test_ascii"
    assert make_tight.tight_name("ascii/val") == "tight_ascii_val"
    root = tmp_path / "img"
    for name in ("val", "other"):
        (root / name).mkdir(parents=True)
        Image.fromarray(np.zeros((8, 8), np.uint8)).save(root / name / "a.png")
        (root / name / "labels.csv").write_text("filename,label\na.png,1\n")
    make_tight.make_tight("val", root=root)
    (root / "tight_other").mkdir()
    (root / "tight_other" / "source.txt").write_text("val\n")
    with pytest.raises(SystemExit, match="cut from val"):
        make_tight.make_tight("other", root=root)
