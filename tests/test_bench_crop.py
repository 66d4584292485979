"""The crop benchmark's comparison with an earlier revision: same crops found the same, a bad revision refused."""

import json
import sys

import pytest

from digitseq import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))
import bench_crop  # noqa: E402


def test_against_a_revision_times_both_and_counts_differing_crops(digits_dir, monkeypatch, tmp_path, capsys):
    import types

    import numpy as np

    from digitseq.image import list_images, open_image, to_grey
    from digitseq.textline import crop_to_text

    written = {}
    monkeypatch.setattr(bench_crop, "write", lambda name, data: written.update({name: data}) or tmp_path / "x.json")
    monkeypatch.setattr(bench_crop, "ROOT", tmp_path)
    (tmp_path / "x.json").write_text("{}")
    # an "earlier revision" that does not crop at all: every image the real crop changes differs
    monkeypatch.setattr(bench_crop, "load_revision", lambda rev: types.SimpleNamespace(crop_to_text=lambda g: g))
    greys = [np.asarray(to_grey(open_image(f, grey=True))) for f in list_images([digits_dir])]
    changed = sum(crop_to_text(g).shape != g.shape for g in greys)
    assert 0 < changed
    assert bench_crop.main(["--against", "HEAD", "--limit", "0", str(digits_dir)]) == 0
    row = written["bench_crop_against"]["sets"][digits_dir.name]
    assert row["n"] == 24 and row["differ"] == changed and row["cpu_ms"] > 0
    assert "| 24 |" in capsys.readouterr().out
    json.dumps(written)                                          # what would be written is plain JSON


def test_a_revision_git_cannot_show_is_one_line():
    with pytest.raises(SystemExit, match="cannot read digitseq/textline.py at 'no-such-rev'"):
        bench_crop.load_revision("no-such-rev")
