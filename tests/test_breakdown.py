from pathlib import Path

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


def test_group_accuracy_cer_hand_worked():
    out = group_accuracy(["12", "34", "5"], ["12", "3", "56"], ["a", "a", "b"], cer=True)
    assert out["a"] == {"n": 2, "correct": 1, "sequence_accuracy": 0.5, "cer": 0.25}    # one dropped of 4 chars
    assert out["b"]["cer"] == 1.0                                                        # one inserted of 1


def _labelled(folder, text):
    from PIL import Image

    folder.mkdir()
    for name in ("a.png", "b.png", "c.png"):
        Image.new("L", (20, 10), 255).save(folder / name)
    (folder / "labels.csv").write_text(text)
    return folder


def test_column_values_from_the_labels_csv(tmp_path):
    from digitseq.breakdown import column_values
    from digitseq.image import read_labels

    data = _labelled(tmp_path / "d", "filename,label,Source,text\n./a.png,1,scan,x\nb.png,2,,y\nc.png,3,phone,z\n")
    ls = read_labels(data)
    assert column_values(data, "source", paths=ls.paths) == ["scan", "(empty)", "phone"]   # "./a.png" is a.png
    assert column_values(data, " SOURCE ") == ["scan", "(empty)", "phone"]                  # any case, spaces
    assert column_values(data, "text") == ["x", "y", "z"]         # a label-like name, but not this CSV's label
    with pytest.raises(DataError, match=r"no column 'camera' to group by \(columns: source, text\)"):
        column_values(data, "camera")
    with pytest.raises(DataError, match="no column 'label'"):
        column_values(data, "label")
    bare = _labelled(tmp_path / "e", "filename,label\na.png,1\n")
    with pytest.raises(DataError, match="only filename and the label"):
        column_values(bare, "style")
    twice = _labelled(tmp_path / "f", "filename,label,source\na.png,1,A\na.png,1,B\nb.png,2,C\n")
    assert column_values(twice, "source", paths=read_labels(twice).paths) == ["A", "B", "C"]   # row by row
    assert column_values(twice, "source", paths=[twice / "c.png"]) == ["(missing)"]


def test_column_values_of_a_generated_folder_font_family_style(tmp_path):
    from digitseq.breakdown import column_values
    from digitseq.fonts import load_fonts
    from digitseq.generate import generate

    generate(tmp_path, 6, min_length=3, seed=1, workers=1, progress=False, split="test")
    families = column_values(tmp_path, "family")
    assert len(families) == 6 and set(families) <= {f.family for f in load_fonts(split="test")}
    assert set(column_values(tmp_path, "style")) <= {"sans", "serif", "mono"}          # the test families' styles
    (tmp_path.parent / "elsewhere.csv").write_text((tmp_path / "labels.csv").read_text())
    assert column_values(tmp_path.parent / "elsewhere.csv", "family", images=tmp_path) == families  # sources.csv there


def test_evaluate_by_a_column(tmp_path, digits_dir, capsys):
    import json
    import shutil

    from digitseq.cli import main

    data = tmp_path / "d"
    shutil.copytree(digits_dir, data)
    rows = (data / "labels.csv").read_text().splitlines()
    (data / "labels.csv").write_text("\n".join([rows[0] + ",half"] + [r + ("," + "ab"[i % 2]) for i, r in enumerate(rows[1:])]))
    out = tmp_path / "r.json"
    assert main(["evaluate", str(data), "--by", "half", "--by", "style", "--tta", "off", "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    assert set(report["by"]) == {"half", "style"} and set(report["by"]["half"]) == {"a", "b"}
    assert sum(g["n"] for g in report["by"]["half"].values()) == report["n"]
    assert sum(g["correct"] for g in report["by"]["style"].values()) == round(report["sequence_accuracy"] * report["n"])
    assert "by half (worst first):" in capsys.readouterr().out
    assert main(["evaluate", str(data), "--by", "camera", "--json", str(tmp_path / "x.json")]) == 2
    err = capsys.readouterr().err
    assert "no column 'camera'" in err and "half" in err and "Traceback" not in err
    assert not (tmp_path / "x.json").exists()


def test_evaluate_outputs_are_checked_before_the_work(tmp_path, digits_dir, capsys):
    from digitseq.cli import main

    def refused(*args):
        assert main(["evaluate", str(digits_dir), "--tta", "off", *args]) == 2
        err = capsys.readouterr()
        assert err.err.startswith("digitseq: error:") and "Traceback" not in err.err and "sequence_accuracy" not in err.out
        return err.err

    assert "same file" in refused("--json", str(tmp_path / "x"), "--error-sheet", str(tmp_path / "x"))
    assert "give a file name" in refused("--error-sheet", "")
    assert "standard output" in refused("--error-sheet", "-")
    assert "give a file name" in refused("--json", str(tmp_path) + "/newdir/")
    assert "image" in refused("--error-sheet", str(tmp_path / "e.txt"))
    assert "not a usable file name" in refused("--json", str(tmp_path / ("x" * 300 + ".json")))
    assert "no column" in refused("--by", "nope", "--json", str(tmp_path / "new" / "deeper" / "m.json"))
    assert not (tmp_path / "new").exists()                  # the probe left no folder behind
    if Path("/proc/self").is_dir():                          # a file system nothing is written to
        assert "cannot write" in refused("--error-sheet", "/proc/sheet.png")
    assert main(["evaluate", str(digits_dir), "--tta", "off", "--error-sheet", str(tmp_path / "s" / "e.jpg")]) == 0
    assert (tmp_path / "s" / "e.jpg").read_bytes()[:2] == b"\xff\xd8"                   # a JPEG, as named
