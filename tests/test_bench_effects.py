"""The effect-by-effect and text-size benchmarks: each row changes one thing, and sizes come from the images' own draw."""

import csv
import sys

import pytest

from digitseq import ROOT
from digitseq.generate import generate
from digitseq.image import read_labels
from digitseq.render import EXTRA_EFFECTS, RenderStyle

sys.path.insert(0, str(ROOT / "benchmarks"))
import bench_effects  # noqa: E402
import bench_text_size  # noqa: E402


def test_each_row_turns_on_exactly_one_effect():
    rows = dict(bench_effects.styles(["dot_matrix", "warp"]))
    assert list(rows) == ["none", "dot_matrix", "warp"]
    assert all(getattr(rows["none"], e) == 0 for e in EXTRA_EFFECTS)
    assert rows["none"].noise == RenderStyle.wild().noise          # the base degradations stay the wild style's
    assert rows["warp"] == rows["none"].with_(warp=1.0)
    on = [e for e in EXTRA_EFFECTS if getattr(rows["dot_matrix"], e)]
    assert on == ["dot_matrix"]


def test_unknown_effect_is_refused(capsys):
    with pytest.raises(SystemExit):
        bench_effects.main(["--effects", "sparkles"])
    assert "unknown effect(s) sparkles" in capsys.readouterr().err


def test_text_sizes_are_recovered_from_the_draw_and_checked(tmp_path):
    style = RenderStyle.clean().with_(font_size=(20, 40))
    folder = generate(tmp_path / "s", 4, min_length=3, font_dir=ROOT / "font", split="test", style=style,
                      seed=5, workers=1, progress=False).parent
    sizes, same = bench_text_size.drawn_sizes(read_labels(folder), ROOT / "font")
    assert same == 4 and len(sizes) == 4 and all(20 <= s <= 40 for s in sizes)
    assert len(set(sizes)) > 1
    from PIL import Image

    Image.new("RGB", (30, 20), "white").save(folder / "000000.png")     # an image the seed did not draw
    assert bench_text_size.drawn_sizes(read_labels(folder), ROOT / "font") == (sizes, 3)
    # A folder whose labels were not drawn by this seed is refused, not measured.
    rows = list(csv.reader(open(folder / "labels.csv")))
    rows[2][1] = "999" if rows[2][1] != "999" else "998"
    with open(folder / "labels.csv", "w", newline="") as f:
        csv.writer(f).writerows(rows)
    with pytest.raises(SystemExit, match="image 1 was drawn"):
        bench_text_size.drawn_sizes(read_labels(folder), ROOT / "font")
