"""The per-stage breakdown runs the recogniser's stages on a folder and accounts for every file."""

import sys

from digitseq import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))
import bench_stages  # noqa: E402


def test_every_stage_is_timed_and_every_file_counted(digits_dir, capsys):
    assert bench_stages.main(["--folder", str(digits_dir), "--limit", "0", "--json", ""]) == 0
    out = capsys.readouterr().out
    assert "24 files" in out and "decode_png (24 files)" in out
    for stage in ("grey", "crop", "resize", "pad", "network", "ctc_decode", "all stages, per file"):
        assert f"| {stage}" in out or f"| **{stage}" in out
    assert "decode_jpeg" not in out                                  # no JPEG in the folder: no row
