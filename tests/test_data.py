import numpy as np
import pytest
from PIL import Image

from digitseq.data import (
    MAX_WIDTH,
    ImageSet,
    list_images,
    load,
    open_image,
    pad_batch,
    preprocess,
    read_labels,
    stretch_for_label,
    to_grey,
    width_batches,
)
from digitseq.errors import DataError


def make_folder(tmp_path, csv_text, files=("a.png", "b.png"), encoding="utf-8"):
    for name in files:
        Image.new("L", (40, 20), 255).save(tmp_path / name)
    (tmp_path / "labels.csv").write_bytes(csv_text.encode(encoding))
    return tmp_path


def test_leading_zeros_survive_and_extra_columns_are_ignored(tmp_path):
    make_folder(tmp_path, "filename,label,source\na.png,00427,x\nb.png,0,y\n")
    ls = read_labels(tmp_path)
    assert ls.labels == ["00427", "0"]
    assert [p.name for p in ls.paths] == ["a.png", "b.png"]


def test_bom_blank_lines_and_other_header_names(tmp_path):
    make_folder(tmp_path, "\ufefffilename,words\r\na.png,12\r\n\r\nb.png,34\r\n")
    assert read_labels(tmp_path).labels == ["12", "34"]
    (tmp_path / "labels.csv").write_text("Filename,Text\na.png,5\n")
    assert read_labels(tmp_path).labels == ["5"]


def test_csv_file_with_separate_image_folder(tmp_path):
    imgs = tmp_path / "imgs"
    imgs.mkdir()
    make_folder(imgs, "filename,label\na.png,1\n")
    (tmp_path / "train.csv").write_text("filename,label\na.png,7\nb.png,8\n")
    assert read_labels(tmp_path / "train.csv", images=imgs).labels == ["7", "8"]


@pytest.mark.parametrize("csv_text,message", [
    ("file,label\na.png,1\n", "missing column 'filename'"),
    ("filename,value\na.png,1\n", "missing label column"),
    ("filename,label\na.png,1\nb.png,\n", "row 3: b.png: empty label"),
    ("filename,label\na.png,1x\n", "row 2: a.png: label '1x' has characters outside the alphabet: 'x'"),
    ("filename,label\nmissing.png,1\n", "row 2: missing.png: image file not found"),
    ("", "empty file"),
])
def test_bad_label_files_name_the_row_and_file(tmp_path, csv_text, message):
    make_folder(tmp_path, csv_text)
    with pytest.raises(DataError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_labels(tmp_path, alphabet="0123456789")


def test_skip_mode_counts_bad_rows(tmp_path):
    make_folder(tmp_path, "filename,label\na.png,1\nb.png,\nc.png,3\nb.png,x\n")
    ls = read_labels(tmp_path, alphabet="0123456789", on_error="skip")
    assert ls.labels == ["1"] and len(ls.skipped) == 3
    assert "row 3" in ls.skipped[0] and "row 4" in ls.skipped[1]


def test_missing_folder_and_non_utf8(tmp_path):
    with pytest.raises(DataError, match="no labels.csv"):
        read_labels(tmp_path)
    with pytest.raises(DataError, match="no such file or folder"):
        read_labels(tmp_path / "nope")
    make_folder(tmp_path, "filename,label\na.png,\u00e9\n", encoding="latin-1")
    with pytest.raises(DataError, match="not UTF-8"):
        read_labels(tmp_path)


@pytest.mark.parametrize("mode", ["L", "RGB", "RGBA", "P", "I;16", "I", "F", "CMYK", "1", "LA"])
def test_every_image_mode_becomes_grey(mode):
    img = Image.new("RGB", (30, 10), (255, 255, 255))
    img.paste((0, 0, 0), (10, 0, 20, 10))
    img = img.convert(mode) if mode != "I;16" else Image.fromarray(
        np.asarray(img.convert("L"), dtype=np.uint16) * 257)
    grey = to_grey(img)
    arr = np.asarray(grey)
    assert grey.mode == "L" and arr[5, 2] > 200 and arr[5, 15] < 50


def test_transparent_pixels_count_as_white():
    img = Image.new("RGBA", (10, 10), (0, 0, 0, 0))
    assert np.asarray(to_grey(img)).min() == 255


def test_numpy_arrays_of_several_dtypes():
    a = np.zeros((16, 48), np.uint8)
    assert preprocess(a).shape == (32, 96)
    assert preprocess(np.ones((16, 48, 3), np.float32)).max() == 255
    with pytest.raises(DataError, match="shape"):
        preprocess(np.zeros((2, 2, 2, 2)))


def test_extreme_sizes_are_clamped():
    assert preprocess(Image.new("L", (1, 1))).shape == (32, 32)
    assert preprocess(Image.new("L", (20000, 20))).shape == (32, MAX_WIDTH)
    assert preprocess(Image.new("L", (1, 400))).shape[1] >= 8


def test_unreadable_files_give_one_line_errors(tmp_path):
    (tmp_path / "empty.png").write_bytes(b"")
    (tmp_path / "text.png").write_text("not an image")
    good = tmp_path / "good.png"
    Image.new("L", (200, 60), 128).save(good)
    (tmp_path / "cut.png").write_bytes(good.read_bytes()[:60])
    for name, message in [("empty.png", "empty file"), ("text.png", "not an image"),
                          ("cut.png", "cannot decode"), ("none.png", "no such file")]:
        with pytest.raises(DataError, match=message) as info:
            open_image(tmp_path / name)
        assert name in str(info.value) and "\n" not in str(info.value)
    assert load(good).shape == (32, 107)


def test_list_images_expands_folders_and_globs(tmp_path):
    (tmp_path / "sub").mkdir()
    for name in ("b.png", "a.jpg", "sub/c.bmp", "notes.txt"):
        (tmp_path / name).write_bytes(b"x")
    assert [p.name for p in list_images([tmp_path])] == ["a.jpg", "b.png", "c.bmp"]
    assert [p.name for p in list_images([str(tmp_path / "*.png")])] == ["b.png"]
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no images"):
        list_images([tmp_path / "empty"])
    with pytest.raises(DataError, match="matches no files"):
        list_images([str(tmp_path / "*.tif")])
    with pytest.raises(DataError, match="no such file or folder"):
        list_images([tmp_path / "missing.png"])


def test_width_batches_cover_every_index_once():
    widths = np.random.default_rng(0).integers(20, 300, size=103)
    for shuffle in (False, True):
        batches = width_batches(widths, 10, shuffle=shuffle, seed=1)
        flat = sorted(i for b in batches for i in b)
        assert flat == list(range(103))
    sorted_batches = width_batches(widths, 10)
    assert all(widths[b].max() <= widths[sorted_batches[k + 1]].min() for k, b in enumerate(sorted_batches[:-1]))
    r0 = width_batches(widths, 10, True, world_size=2, rank=0)
    r1 = width_batches(widths, 10, True, world_size=2, rank=1)
    assert len(r0) == len(r1) and not {i for b in r0 for i in b} & {i for b in r1 for i in b}


def test_pad_batch_pads_with_each_images_background():
    a = np.full((32, 10), 200, np.uint8)
    b = np.full((32, 20), 30, np.uint8)
    x, widths = pad_batch([a, b], {"mean": 0.0, "std": 1.0})
    assert x.shape == (2, 1, 32, 20) and widths.tolist() == [10, 20]
    assert float(x[0, 0, 0, 15]) == pytest.approx(200 / 255)


def test_stretch_gives_ctc_room_for_the_label():
    arr = np.zeros((32, 20), np.uint8)
    assert stretch_for_label(arr, 10).shape[1] == 4 * 21
    assert stretch_for_label(arr, 2).shape[1] == 20


def test_image_set_from_generated_folder(digits_dir):
    ds = ImageSet.from_folders([digits_dir], alphabet="0123456789", progress=False)
    assert len(ds) == 24 and all(a.shape[0] == 32 for a in ds.arrays)
    assert all(w >= 4 * (2 * len(t) + 1) for w, t in zip(ds.widths, ds.labels))


class _FixedRng:
    """Stands in for a numpy Generator: ``uniform`` hands out the given margins in turn."""

    def __init__(self, *values):
        self.values = list(values)

    def uniform(self, low, high, size):
        out, self.values = np.array(self.values[:size], float), self.values[size:]
        assert ((low <= out) & (out <= high)).all()
        return out


def test_reframe_adds_and_removes_margins_and_keeps_the_height():
    from digitseq.data import reframe

    arr = np.full((32, 40), 220, np.uint8)
    arr[4:28, 5:35] = 10                            # "text": rows 4-27, columns 5-34
    # 0.25·32 = 8 rows added above and below, 0.5·32 = 16 columns left and right: 48×72, back to 32×48.
    out = reframe(arr, _FixedRng(0.25, 0.25, 0.5, 0.5))
    assert out.shape == (32, 48)
    dark_rows = np.nonzero((out < 100).any(1))[0]
    assert 8 <= dark_rows.min() <= 9 and 22 <= dark_rows.max() <= 23      # the text: 24 rows of 48 -> 16 of 32
    assert (out[:, :8] == 220).all()                                         # filled with the background level
    # Removing 0.0625·32 = 2 rows above and below (margin only), nothing added: 28×40, back to 32×46.
    out = reframe(arr, _FixedRng(-0.0625, -0.0625, 0.0, 0.0))
    assert out.shape == (32, 46)
    dark_rows = np.nonzero((out < 100).any(1))[0]
    assert 2 <= dark_rows.min() <= 3 and 28 <= dark_rows.max() <= 29      # 24 of 28 rows -> ~27 of 32: larger


def test_augment_keeps_height_and_label_room():
    from digitseq.data import augment

    arr = np.full((32, 4 * 11), 220, np.uint8)
    arr[6:26, ::4] = 0
    shapes = {augment(arr, np.random.default_rng(seed)).shape for seed in range(40)}
    assert {h for h, _ in shapes} == {32} and len(shapes) > 5
    ds = ImageSet([arr] * 40, ["12345"] * 40, augment=True)
    assert all(ds[i][0].shape[1] >= 4 * 11 for i in range(40))           # CTC room after any reframing


def test_cut_tight_leaves_no_margin_and_keeps_the_height():
    from digitseq.data import cut_tight

    arr = np.full((32, 60), 220, np.uint8)
    arr[8:24, 10:50] = 20                           # "text": 16 rows, 40 columns, margins all round
    arr[2, 2] = 205                                 # a faint speck: not ink at any level
    out = cut_tight(arr, np.random.default_rng(0))
    assert out.shape == (32, 80)                    # 16 x 40 at height 32
    assert (out[:, 1:-1] < 40).all()                # nothing but the text is left
    blank = np.full((32, 20), 128, np.uint8)
    assert cut_tight(blank, np.random.default_rng(0)) is blank


def test_cut_tight_leaves_an_image_whose_ink_is_a_flat_rule_as_it_is():
    from digitseq.data import MAX_WIDTH, cut_tight

    arr = np.full((48, 300), 220, np.uint8)
    arr[30:32, 10:290] = 20                         # ink two rows tall: cut and brought to 48 rows, 6,720 wide
    assert 280 * 48 / 2 > MAX_WIDTH
    assert cut_tight(arr, np.random.default_rng(0)) is arr
    arr[20:32, 10:290] = 20                         # twelve rows: 1,120 wide, a cut like any other
    assert cut_tight(arr, np.random.default_rng(0)).shape == (48, 1120)


def test_augment_cuts_tight_only_when_asked_and_draws_nothing_for_it_otherwise():
    from digitseq.data import augment

    arr = np.full((32, 44), 220, np.uint8)
    arr[6:26, 4:40:4] = 0
    plain = [augment(arr, np.random.default_rng(s)) for s in range(5)]
    again = [augment(arr, np.random.default_rng(s), tight=0.0) for s in range(5)]
    tight = [augment(arr, np.random.default_rng(s), tight=1.0) for s in range(5)]
    assert all(np.array_equal(a, b) for a, b in zip(plain, again))

    def inked_edges(a):   # ink in the first and last row and column: no margin left
        dark = np.median(a) - 50
        return all(v.min() < dark for v in (a[0], a[-1], a[:, 0], a[:, -1]))

    assert all(inked_edges(t) for t in tight) and not any(inked_edges(p) for p in plain)


def test_augment_width_scale_sets_the_range_of_the_width_draw_and_nothing_else():
    from digitseq.data import augment

    arr = np.full((32, 64), 220, np.uint8)
    arr[6:26, 4:60:4] = 0
    scaled = 0
    for s in range(20):   # the same draws either way: only the width factor differs
        half = augment(arr, np.random.default_rng(s), width_scale=(0.5, 0.5))
        double = augment(arr, np.random.default_rng(s), width_scale=(2.0, 2.0))
        assert half.shape[0] == double.shape[0] == 32
        if half.shape[1] == double.shape[1]:      # this image drew no width scale
            assert np.array_equal(half, double)
        else:                                     # it did: one is four times as wide as the other
            assert abs(double.shape[1] - 4 * half.shape[1]) <= 2
            scaled += 1
    assert 4 <= scaled <= 16                      # about half the images


def test_train_config_width_scale_reaches_the_training_set_and_is_checked(tmp_path):
    from digitseq.errors import DigitseqError
    from digitseq.train import TrainConfig, train_crnn

    arr = np.full((32, 44), 220, np.uint8)
    arr[6:26, 4:40:4] = 0
    train, val = ImageSet([arr] * 4, ["12"] * 4, augment=True), ImageSet([arr] * 2, ["12"] * 2)
    for bad in [(1.2, 0.8), (0.0, 1.0), (0.5,), "wide"]:
        with pytest.raises(DigitseqError, match="width_scale"):
            train_crnn(train, val, tmp_path / "m.pt", TrainConfig(epochs=1, width_scale=bad), alphabet="0123456789")
    train_crnn(train, val, tmp_path / "m.pt", TrainConfig(epochs=1, batch_size=4, width_scale=[0.6, 1.25],
                                                          device="cpu"), alphabet="0123456789", progress=False)
    assert train.width_scale == (0.6, 1.25)


def test_train_config_tight_reaches_the_training_set_and_is_checked(tmp_path):
    from digitseq.errors import DigitseqError
    from digitseq.train import TrainConfig, train_crnn

    arr = np.full((32, 44), 220, np.uint8)
    arr[6:26, 4:40:4] = 0
    train, val = ImageSet([arr] * 4, ["12"] * 4, augment=True), ImageSet([arr] * 2, ["12"] * 2)
    with pytest.raises(DigitseqError, match="tight"):
        train_crnn(train, val, tmp_path / "m.pt", TrainConfig(epochs=1, tight=1.5), alphabet="0123456789")
    train_crnn(train, val, tmp_path / "m.pt", TrainConfig(epochs=1, batch_size=4, tight=0.25, device="cpu"),
               alphabet="0123456789", progress=False)
    assert train.tight == 0.25
