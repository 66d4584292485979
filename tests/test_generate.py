import csv

import pytest

from digitseq.cli import main
from digitseq.data import read_labels
from digitseq.errors import DataError
from digitseq.generate import generate


def test_cli_writes_images_and_labels(tmp_path, capsys):
    assert main(["generate", str(tmp_path / "g"), "--count", "6", "--length", "5", "--workers", "1"]) == 0
    rows = list(csv.reader(open(tmp_path / "g" / "labels.csv")))
    assert rows[0] == ["filename", "label"] and len(rows) == 7
    assert all(len(r[1]) == 5 and r[1].isdigit() for r in rows[1:])
    assert len(list((tmp_path / "g").glob("*.png"))) == 6


def test_leading_zeros_round_trip(tmp_path):
    generate(tmp_path, 3, min_length=5, alphabet="0", workers=1, progress=False)
    assert read_labels(tmp_path).labels == ["00000"] * 3


def test_output_does_not_depend_on_worker_count(tmp_path):
    a = generate(tmp_path / "a", 8, min_length=1, max_length=12, seed=3, workers=1, progress=False).parent
    b = generate(tmp_path / "b", 8, min_length=1, max_length=12, seed=3, workers=2, progress=False).parent
    assert (a / "labels.csv").read_text() == (b / "labels.csv").read_text()
    for p in sorted(a.glob("*.png")):
        assert p.read_bytes() == (b / p.name).read_bytes()


def test_test_split_uses_only_held_out_fonts(tmp_path):
    generate(tmp_path, 20, split="test", workers=1, progress=False)
    used = {r["family"] for r in csv.DictReader(open(tmp_path / "sources.csv"))}
    assert used and used <= {"Go", "Go Mono", "Courier Prime", "Gentium", "Cantarell", "Old Standard TT"}


def test_existing_output_needs_force(tmp_path, capsys):
    generate(tmp_path, 2, workers=1, progress=False)
    assert main(["generate", str(tmp_path), "--count", "2"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("digitseq: error:") and "--force" in err and err.count("\n") == 1
    assert main(["generate", str(tmp_path), "--count", "2", "--force", "--workers", "1"]) == 0


def test_force_replaces_an_earlier_draw_and_nothing_else(tmp_path, capsys):
    generate(tmp_path, 3, workers=1, progress=False)
    (tmp_path / "notes.txt").write_text("mine")
    (tmp_path / "photos").mkdir()
    (tmp_path / "photos" / "a.png").write_text("mine")
    generate(tmp_path, 2, workers=1, progress=False, overwrite=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["000000.png", "000001.png", "labels.csv", "meta.json",
                                                         "notes.txt", "photos", "sources.csv"]   # 000002.png gone
    assert (tmp_path / "photos" / "a.png").read_text() == "mine"
    own = tmp_path / "own"                  # a user's data: a labels.csv generate did not write
    own.mkdir()
    (own / "labels.csv").write_text("filename,label\nphotos/a.png,1\n")
    assert main(["generate", str(own), "--count", "2", "--force", "--workers", "1"]) == 2
    err = capsys.readouterr().err
    assert "was not written by generate" in err and err.count("\n") == 1
    assert sorted(p.name for p in own.iterdir()) == ["labels.csv"]


def test_cli_lengths(tmp_path, capsys):
    assert main(["generate", str(tmp_path / "a"), "--count", "6", "--max-length", "3", "--workers", "1"]) == 0
    assert {len(y) for y in read_labels(tmp_path / "a").labels} <= {1, 2, 3}
    assert main(["generate", str(tmp_path / "b"), "--count", "2", "--length", "3", "--min-length", "2"]) == 2
    assert "give one or the others" in capsys.readouterr().err
    (tmp_path / "file").write_text("x")
    assert main(["generate", str(tmp_path / "file" / "sub"), "--count", "2"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("digitseq: error:") and "cannot create this folder" in err and "Traceback" not in err


@pytest.mark.parametrize("kwargs", [{"count": 0}, {"min_length": 3, "max_length": 2}, {"alphabet": "11"},
                                    {"style": "nope"}, {"workers": -1}])
def test_bad_arguments(tmp_path, kwargs):
    with pytest.raises(DataError):
        generate(tmp_path / "out", **{"count": 2, "workers": 1, **kwargs})
    assert not (tmp_path / "out").exists()      # refused before anything is made


@pytest.mark.parametrize("kwargs", [{"min_length": 3, "max_length": 2}, {"alphabet": "001"}, {"style": "nope"}])
def test_a_rendered_stream_refuses_what_generate_refuses(kwargs):
    from digitseq.generate import RenderedDataset

    with pytest.raises(DataError):
        RenderedDataset(2, **kwargs)


def test_rendered_dataset_streams_the_same_samples_as_generate(tmp_path):
    import numpy as np

    from digitseq.data import ImageSet
    from digitseq.generate import RenderedDataset

    generate(tmp_path, 6, min_length=2, max_length=9, seed=4, workers=1, progress=False)
    on_disk = ImageSet.from_folders([tmp_path], progress=False)
    stream = RenderedDataset(6, min_length=2, max_length=9, seed=4)
    assert stream.labels == on_disk.labels
    for i in range(6):
        arr, label = stream[i]
        assert label == on_disk.labels[i]
        assert arr.shape == on_disk.arrays[i].shape
        assert np.abs(arr.astype(int) - on_disk.arrays[i].astype(int)).max() <= 1   # PNG round trip only


def test_training_on_a_stream_with_workers(tmp_path, digits_dir):
    from digitseq.data import ImageSet
    from digitseq.generate import RenderedDataset
    from digitseq.train import TrainConfig, train_crnn

    val = ImageSet.from_folders([digits_dir], progress=False)
    stream = RenderedDataset(32, min_length=1, max_length=8, seed=9)
    res = train_crnn(stream, val, tmp_path / "m.pt", TrainConfig(epochs=1, batch_size=8, workers=2, show_predictions=0, textline=False),
                     "0123456789", {"channels": [8, 16, 16, 16], "rnn_hidden": 16}, progress=False, log=lambda m: None)
    assert (tmp_path / "m.pt").is_file() and res.history[0]["step"] == 4


def test_rendered_dataset_fresh_draws_new_samples_each_epoch():
    from digitseq.generate import RenderedDataset

    stream = RenderedDataset(4, min_length=6, max_length=6, seed=3, fresh=True, textline=True)
    first = [stream[i][1] for i in range(4)]
    assert [stream[i][1] for i in range(4)] == first          # same epoch: same samples
    stream.epoch = 1
    second = [stream[i][1] for i in range(4)]
    assert second != first
    assert all(len(t) == 6 for t in second)
    assert stream[0][0].shape[0] == 32


def test_a_stream_drawing_characters_outside_the_alphabet_is_refused(digits_dir, tmp_path):
    import pytest

    from digitseq.data import ImageSet
    from digitseq.errors import DigitseqError
    from digitseq.generate import RenderedDataset
    from digitseq.train import TrainConfig, train_crnn

    val = ImageSet.from_folders([digits_dir], progress=False)
    stream = RenderedDataset(8, min_length=3, max_length=3, seed=1, alphabet="ABC")
    with pytest.raises(DigitseqError, match="training set"):
        train_crnn(stream, val, tmp_path / "m.pt", TrainConfig(epochs=1, batch_size=8, show_predictions=0, textline=False),
                   "0123456789", {"channels": [8, 16, 16, 16], "rnn_hidden": 16}, progress=False, log=lambda m: None)


def test_notebook_ones_sets_are_seeded_by_their_position(tmp_path):
    from digitseq.generate import generate, generate_sets

    lines = []
    sets = {"a": (3, 2, 2, "train"), "b": (3, 4, 4, "train", "clean")}
    timings = generate_sets(sets, tmp_path / "img", seed=7, log=lines.append)
    assert list(timings) == ["a", "b"] and len(lines) == 2 and "clean" in lines[1]
    generate(tmp_path / "b_alone", 3, min_length=4, max_length=4, style="clean", seed=7 + 1000, progress=False)
    assert (tmp_path / "img" / "b" / "labels.csv").read_text() == (tmp_path / "b_alone" / "labels.csv").read_text()
    assert (tmp_path / "img" / "b" / "000000.png").read_bytes() == (tmp_path / "b_alone" / "000000.png").read_bytes()


def _pool(counts: dict[str, int]):
    from digitseq.fonts import FontInfo

    return [FontInfo(f"/fonts/{cat}{i}.ttf", f"{cat} {i}", category=cat) for cat, n in counts.items() for i in range(n)]


def test_family_weights_by_category_hand_worked():
    import numpy as np

    from digitseq.fonts import families
    from digitseq.generate import family_weights

    fams = list(families(_pool({"sans": 2, "pixel": 1})).values())     # sans 0, sans 1, pixel 0
    assert np.allclose(family_weights(fams, 0.0), [1 / 3, 1 / 3, 1 / 3])
    assert np.allclose(family_weights(fams, 1.0), [0.25, 0.25, 0.5])          # each category half
    r = 2 ** -0.5                                                               # sans families 2 ** -0.5, pixel 1
    assert np.allclose(family_weights(fams, 0.5), [r / (2 * r + 1), r / (2 * r + 1), 1 / (2 * r + 1)])


def test_balance_draws_rare_categories_more_and_zero_keeps_the_old_draw():
    import numpy as np

    from digitseq.generate import draw_label, families

    pool = _pool({"sans": 9, "pixel": 1})
    share = {b: np.mean([draw_label(i, 5, pool, "0123456789", 5, 5, b)[1].category == "pixel" for i in range(2000)])
             for b in (0.0, 1.0)}
    assert 0.07 < share[0.0] < 0.13 and 0.45 < share[1.0] < 0.55

    # balance 0: the family drawn as before balance existed (one integer from the sample's generator)
    fams = list(families(pool).values())
    for i in range(20):
        rng = np.random.default_rng([5, i])
        assert draw_label(i, 5, pool, "0123456789", 5, 5)[1] == fams[int(rng.integers(len(fams)))][0]


@pytest.mark.parametrize("balance", [-0.1, 1.5, float("nan"), "x"])
def test_bad_balance_refused(tmp_path, balance, capsys):
    from digitseq.generate import RenderedDataset

    with pytest.raises(DataError, match="balance"):
        generate(tmp_path / "out", 2, workers=1, balance=balance)
    with pytest.raises(DataError, match="balance"):
        RenderedDataset(2, balance=balance)
    assert not (tmp_path / "out").exists()
    if not isinstance(balance, str):
        assert main(["generate", str(tmp_path / "out"), "--count", "2", "--balance", str(balance)]) == 2
        err = capsys.readouterr().err
        assert "balance" in err and "Traceback" not in err


def test_notebook_one_draws_only_the_sets_asked_for_with_their_balance(tmp_path):
    import json

    from digitseq.generate import generate_sets

    sets = {"a": (3, 2, 2, "train"), "b": (4, 3, 3, "train", "clean", 1.0)}
    assert list(generate_sets(sets, tmp_path / "img", seed=7, log=lambda s: None, only=["b"])) == ["b"]
    assert not (tmp_path / "img" / "a").exists()
    assert json.loads((tmp_path / "img" / "b" / "meta.json").read_text())["balance"] == 1.0
    generate(tmp_path / "b_alone", 4, min_length=3, style="clean", seed=7 + 1000, balance=1.0, progress=False)
    assert (tmp_path / "img" / "b" / "sources.csv").read_text() == (tmp_path / "b_alone" / "sources.csv").read_text()
    with pytest.raises(DataError, match="no set named 'c'"):
        generate_sets(sets, tmp_path / "img", only="c")
