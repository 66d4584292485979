"""The memorisation probe: a training folder's own images against new ones drawn from the same recipe."""

import csv
import json
import sys

import pytest

from digitseq import ROOT
from digitseq.generate import generate
from digitseq.render import RenderStyle

sys.path.insert(0, str(ROOT / "benchmarks"))
import bench_memorisation  # noqa: E402


@pytest.fixture(scope="module")
def trained_on(tmp_path_factory):
    style = RenderStyle.classic().with_(blur=0.5)
    return generate(tmp_path_factory.mktemp("mem") / "train_set", 6, min_length=3, max_length=4, font_dir=ROOT / "font",
                    split="train", style=style, seed=11, workers=1, progress=False).parent


def test_the_new_draw_has_the_folders_recipe_and_other_images(trained_on, tmp_path):
    fresh = bench_memorisation.redraw(trained_on, 4, seed=12, out=tmp_path / "new")
    old, new = (json.loads((f / "meta.json").read_text()) for f in (trained_on, fresh))
    assert {k: v for k, v in new.items() if k not in ("count", "seed", "fonts")} == \
        {k: v for k, v in old.items() if k not in ("count", "seed", "fonts")}
    assert (new["count"], new["seed"]) == (4, 12)
    labels = [r[1] for r in csv.reader(open(fresh / "labels.csv"))][1:]
    assert len(labels) == 4 and all(3 <= len(t) <= 4 for t in labels)
    assert labels != [r[1] for r in csv.reader(open(trained_on / "labels.csv"))][1:5]
    with pytest.raises(SystemExit, match="seed 11"):       # the training images again are not a new draw
        bench_memorisation.redraw(trained_on, 4, seed=11, out=tmp_path / "again")
    with pytest.raises(SystemExit, match="alphabet"):      # an ASCII model's probe of a digit folder
        bench_memorisation.redraw(trained_on, 4, seed=12, out=tmp_path / "ascii", alphabet="abc")
    assert not (tmp_path / "ascii").exists()              # refused before drawing
    with pytest.raises(SystemExit, match="no meta.json"):
        bench_memorisation.redraw(tmp_path, 4, seed=12, out=tmp_path / "x")


def test_first_rows_keeps_the_header_and_the_first_images_labels_as_strings(tmp_path):
    (tmp_path / "labels.csv").write_text("filename,label\na.png,007\nb.png,42\nc.png,9\n")
    out = bench_memorisation.first_rows(tmp_path, 2, tmp_path / "first.csv")
    assert out.read_text().splitlines() == ["filename,label", "a.png,007", "b.png,42"]
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "labels.csv").write_text("filename,label\n")
    with pytest.raises(SystemExit, match="no images"):
        bench_memorisation.first_rows(tmp_path / "empty", 2, tmp_path / "e.csv")


def test_probe_reads_both_kinds_and_reports_the_gap(trained_on, monkeypatch):
    written = {}

    def write(name, data):          # not into results/
        written[name] = data
        return ROOT / "results" / f"{name}.json"

    monkeypatch.setattr(bench_memorisation, "write", write)
    assert bench_memorisation.main(["--sets", str(trained_on), "--count", "3", "--seed", "5", "--workers", "1"]) == 0
    row = written["bench_memorisation"]["sets"][str(trained_on)]
    assert row["own"]["n"] == 3 and row["new"]["n"] == 3
    assert row["gap"] == pytest.approx(row["own"]["sequence_accuracy"] - row["new"]["sequence_accuracy"])
