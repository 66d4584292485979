import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from digitseq.metrics import evaluate
from digitseq.plots import plot_by_class, plot_confusions


def _report():
    return evaluate(["Il1O0", "abc", "ab", "A1!", "a b"], ["ll1OO", "ac", "abx", "A1!", "a  b"])


def _cells(fig):
    """Annotated counts of the matrix, as {(row label, column label): text}."""
    ax = fig.axes[0]
    xs = [t.get_text() for t in ax.get_xticklabels()]
    ys = [t.get_text() for t in ax.get_yticklabels()]
    return {(ys[round(t.get_position()[1])], xs[round(t.get_position()[0])]): t.get_text() for t in ax.texts}


def test_plot_confusions_matrix_of_the_top_pairs():
    fig = plot_confusions(_report())
    assert isinstance(fig, Figure)
    assert _cells(fig) == {("I", "l"): "1", ("0", "O"): "1", ("b", "∅"): "1", ("∅", "x"): "1", ("∅", "␣"): "1"}
    plt.close(fig)
    pairs = [{"truth": "l", "pred": "1", "count": 7}, {"truth": "O", "pred": "0", "count": 2},
             {"truth": "S", "pred": "5", "count": 1}]
    fig = plot_confusions(pairs, top=2)
    assert _cells(fig) == {("l", "1"): "7", ("O", "0"): "2"}
    plt.close(fig)


def test_plot_by_class_bars():
    fig = plot_by_class(_report())
    assert isinstance(fig, Figure)
    labels = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert [s.split("\n")[0] for s in labels] == ["digits", "upper", "lower", "punctuation", "other"]
    assert len(fig.axes[0].patches) == 10                        # recall and F1 for each of 5 classes
    plt.close(fig)


def test_plots_of_an_empty_report():
    empty = evaluate([], [])
    for fig in (plot_confusions(empty), plot_confusions([]), plot_by_class(empty), plot_by_class({})):
        assert isinstance(fig, Figure)
        plt.close(fig)
    perfect = evaluate(["12"], ["12"])
    fig = plot_confusions(perfect)
    assert [t.get_text() for t in fig.axes[0].texts] == ["no confusions"]
    plt.close(fig)


def test_labels_with_dollar_signs_are_drawn_as_text(tmp_path):
    """Password labels such as 'kKQ?$$Z)^0' are not mathtext: drawing them used to raise a ParseException."""
    import numpy as np
    from PIL import Image

    from digitseq.plots import confusion, error_gallery, plot_confusions, sample_grid

    Image.fromarray(np.full((20, 60), 255, np.uint8)).save(tmp_path / "a.png")
    (tmp_path / "labels.csv").write_text("filename,label\na.png,kKQ?$$Z)^0\n")
    figs = [sample_grid(tmp_path, n=1, ncols=1),
            error_gallery([{"path": str(tmp_path / "a.png"), "truth": "$a$", "prediction": "$b$"}]),
            plot_confusions([{"truth": "$", "pred": "S", "count": 2}, {"truth": "S", "pred": "$", "count": 1}]),
            confusion(["$", "a"], ["$", "$"], "$a")]
    for fig in figs:
        fig.canvas.draw()                          # raises if any text is parsed as maths
        texts = [t.get_text() for ax in fig.axes for t in [ax.title, *ax.get_xticklabels()]]
        assert any("$" in t for t in texts)
        plt.close(fig)
    assert figs[0].axes[0].get_title() == "kKQ?$$Z)^0"


def test_confidence_coverage_draws_each_set_that_has_a_curve():
    from digitseq.metrics import confidence_report
    from digitseq.plots import confidence_coverage

    conf = confidence_report([0.9, 0.8, 0.7, 0.3, 0.2], [True, True, False, True, False])
    assert len(conf["curve"]) == 20 and conf["curve"][-1] == [1.0, 0.6, 0.2]   # all kept: 3 of 5 right
    assert conf["curve"][3][:2] == [0.2, 1.0]                                   # the surest one alone: right
    fig = confidence_coverage({"a": {"confidence": conf}, "b": {"confidence": conf}, "no curve": {}})
    ax = fig.axes[0]
    assert [line.get_label() for line in ax.get_lines()] == ["a", "b"]
    assert list(ax.get_lines()[0].get_ydata())[-1] == 60.0
    plt.close(fig)


def test_a_large_alphabets_confusion_matrix_shows_its_most_confused_characters():
    from digitseq import ASCII
    from digitseq.plots import confusion

    truths = list(ASCII) * 2 + ["O", "O", "l", "I"]
    preds = list(ASCII) * 2 + ["0", "0", "I", "l"]
    fig = confusion(truths, preds, ASCII)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == sorted("O0lI", key=ASCII.index)
    assert ax.get_title() == "confusion matrix: the 4 most confused of 94 characters"
    assert fig.get_size_inches()[0] < 10
    digits = confusion(list("0123456789"), list("0123456789"), "0123456789")
    assert len(digits.axes[0].get_xticklabels()) == 10 and digits.axes[0].get_title() == "confusion matrix"
