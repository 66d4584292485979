import pytest

from digitseq.breakdown import by_font, group_accuracy, read_sources
from digitseq.errors import DataError


def test_group_accuracy_hand_worked_and_sorted_worst_first():
    out = group_accuracy(["12", "34", "56", "78"], ["12", "3", "56", "78"], ["sans", "script", "sans", "script"])
    assert list(out) == ["script", "sans"]
    assert out["script"] == {"n": 2, "correct": 1, "sequence_accuracy": 0.5}
    assert out["sans"]["sequence_accuracy"] == 1.0


def test_group_accuracy_rejects_mismatched_lengths():
    with pytest.raises(ValueError):
        group_accuracy(["1"], ["1", "2"], ["a"])


def test_read_sources_needs_a_generated_folder(tmp_path):
    with pytest.raises(DataError, match="sources.csv"):
        read_sources(tmp_path)


def test_by_font_joins_sources_and_styles(tmp_path):
    from digitseq.generate import generate

    generate(tmp_path, 6, min_length=3, seed=1, workers=1, progress=False, split="test")

    class Echo:   # a 'recognizer' that reads every image right except the first
        def predict(self, paths):
            from digitseq.data import read_labels

            labels = dict(zip((p.name for p in read_labels(tmp_path).paths), read_labels(tmp_path).labels))
            return [type("P", (), {"text": labels[p.name] if i else "x"})() for i, p in enumerate(paths)]

    out = by_font(tmp_path, Echo())
    assert sum(r["n"] for r in out["by_style"].values()) == 6
    assert sum(r["correct"] for r in out["by_family"].values()) == 5
    assert "other" not in out["by_style"]      # every test family has a style in fonts.csv


def test_style_plots_draw(monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    from digitseq import plots
    from digitseq.render import RenderStyle

    fig = plots.font_pool_grid(split="test", per_style=2)
    assert len(fig.axes) >= 2
    fig = plots.accuracy_by_style({"a": {"by_style": {"sans": {"n": 2, "correct": 1, "sequence_accuracy": 0.5}}}})
    assert fig.axes[0].get_ylim() == (0, 100)
    from digitseq.fonts import load_fonts

    fig = plots.effect_gallery("123", load_fonts(split="test")[0].path, {"clean": RenderStyle.clean()}, seeds=(0, 1))
    assert len([a for a in fig.axes if a.images]) == 2
