"""The third-party captcha set (benchmarks/bench_captcha.py) is the same images on every draw."""

import sys

import pytest

from digitseq import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))
import bench_captcha  # noqa: E402


def test_seeded_secrets_repeat_for_a_seed_and_differ_across_seeds():
    def calls(s):
        return [s.randbelow(37), s.randbits(32), s.choice("abcdef"), s.randbelow(1)]

    assert calls(bench_captcha.SeededSecrets("7-0")) == calls(bench_captcha.SeededSecrets("7-0"))
    assert calls(bench_captcha.SeededSecrets("7-0")) != calls(bench_captcha.SeededSecrets("7-1"))
    s = bench_captcha.SeededSecrets("x")
    assert all(0 <= s.randbelow(5) < 5 for _ in range(200)) and s.randbelow(1) == 0


def test_a_draw_is_the_same_images_every_time(tmp_path):
    captcha_image = pytest.importorskip("captcha.image")      # an optional extra (requirements-peers.txt)
    real = captcha_image.secrets
    a = bench_captcha.draw(tmp_path / "a", 3, "0123456789", 5, 2026)
    b = bench_captcha.draw(tmp_path / "b", 3, "0123456789", 5, 2026)
    c = bench_captcha.draw(tmp_path / "c", 3, "0123456789", 5, 2027)
    assert captcha_image.secrets is real                     # the package's own module is put back
    assert (a / "labels.csv").read_text() == (b / "labels.csv").read_text()
    for i in range(3):
        name = f"{i:05d}.png"
        assert (a / name).read_bytes() == (b / name).read_bytes()
        assert (a / name).read_bytes() != (c / name).read_bytes()
    (a / "drawn_by.txt").write_text("unseeded\n")            # a folder drawn the old way is drawn again
    assert bench_captcha.draw(tmp_path / "a", 3, "0123456789", 5, 2026) == a
    assert (a / "drawn_by.txt").read_text().strip() == bench_captcha.DRAWN_BY
