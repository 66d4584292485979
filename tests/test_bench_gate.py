"""Gates tried on the development sets (benchmarks/bench_gate.py), on hand-made readings."""

import sys

import pytest

from digitseq import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))
import bench_gate  # noqa: E402


def _rows():
    # label, single reading, every-way reading, least peak, hidden character
    cells = [("12", "12", "12", 0.99, 0.00),     # sure and right
             ("123", "13", "123", 0.99, 0.40),   # sure, a character dropped: only the hidden cue sends it back
             ("7", "1", "7", 0.60, 0.00),        # unsure: the peak gate sends it back
             ("55", "55", "56", 0.95, 0.10)]     # right once, wrong every way: reading it again costs it
    return [{"label": a, "once": b, "all": c, "peak": p, "hidden": h} for a, b, c, p, h in cells]


def test_score_takes_the_every_way_text_where_the_gate_opens():
    rows = _rows()
    assert bench_gate.score(rows, 0.0, None) == (pytest.approx(0.5), 0.0)            # off: rows 1 and 4 right
    assert bench_gate.score(rows, 2.0, None) == (pytest.approx(0.75), 1.0)           # all: 4 wrong now
    assert bench_gate.score(rows, 0.9, None) == (pytest.approx(0.75), pytest.approx(0.25))      # the peak gate
    assert bench_gate.score(rows, 0.9, 0.05) == (pytest.approx(0.75), pytest.approx(0.75))      # + hidden > 0.05
    assert bench_gate.score(rows, 0.9, 0.2) == (pytest.approx(1.0), pytest.approx(0.5))         # + hidden > 0.2


def test_the_gates_tried_include_off_all_and_the_shipped_one():
    from digitseq.tta import GATE, HIDDEN

    gates = bench_gate.gates()
    assert gates["off"] == (0.0, None) and gates["all"][0] > 1.0
    assert gates[f"peak < {GATE} or hidden > {HIDDEN}"] == (GATE, HIDDEN)
