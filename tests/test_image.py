"""Torch-free image code: decoding shortcuts, batching in numpy, fast folder listing."""

import numpy as np
import pytest
import torch
from PIL import Image

from digitseq.image import list_images, load, normalise, pad_array, preprocess


def test_pad_array_normalises_like_the_torch_formula_and_pads_with_background():
    a = np.full((32, 10), 200, dtype=np.uint8)
    b = np.arange(32 * 20, dtype=np.uint32).reshape(32, 20).astype(np.uint8)
    x, widths = pad_array([a, b], {"mean": 0.5, "std": 0.5})
    assert x.dtype == np.float32 and x.shape == (2, 1, 32, 20) and widths.tolist() == [10, 20]
    expected = torch.from_numpy(b).float().div_(255.0).sub_(0.5).div_(0.5).numpy()
    assert np.array_equal(x[1, 0], expected)
    assert np.all(x[0, 0, :, 10:] == x[0, 0, 0, 0])                 # padded with its own background
    assert normalise(np.array([0, 255], np.uint8), {"mean": 0.0, "std": 1.0}).tolist() == [0.0, 1.0]
    x, widths = pad_array([a, b], {"mean": 0.5, "std": 0.5}, margin=5)   # the widest gets 5 columns too
    assert x.shape == (2, 1, 32, 25) and widths.tolist() == [10, 20]
    assert np.all(x[0, 0, :, 10:] == x[0, 0, 0, 0]) and np.array_equal(x[1, 0, :, :20], expected)
    bg = np.sort(np.concatenate([b[:, 0], b[:, -1]]))
    level = normalise(np.array([(int(bg[31]) + int(bg[32])) // 2], np.uint8), {"mean": 0.5, "std": 0.5})[0]
    assert np.all(x[1, 0, :, 20:] == level)                          # b's own background (median of its edges)


def test_jpeg_decodes_straight_to_grey_close_to_the_colour_path(tmp_path):
    rng = np.random.default_rng(0)
    rgb = (rng.random((48, 150, 3)) * 60 + np.linspace(0, 180, 150)[None, :, None]).astype(np.uint8)
    Image.fromarray(rgb).save(tmp_path / "x.jpg", quality=95)
    fast = load(tmp_path / "x.jpg")
    slow = preprocess(Image.open(tmp_path / "x.jpg").convert("RGB"))
    assert fast.shape == slow.shape == (32, 100)
    assert np.abs(fast.astype(int) - slow.astype(int)).max() <= 3


def test_list_images_sorts_like_paths_across_subfolders(tmp_path):
    for rel in ["b/1.png", "a/2.PNG", "a-b/0.png", "a/sub/3.jpg", "z.png", "notes.txt"]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(b"x")
    found = list_images([tmp_path])
    assert found == sorted(p for p in tmp_path.rglob("*") if p.is_file() and p.suffix.lower() != ".txt")


@pytest.mark.parametrize("shape", [(40, 120), (40, 120, 3), (40, 120, 4)])
def test_preprocess_accepts_arrays_and_keeps_aspect(shape):
    assert preprocess(np.zeros(shape, dtype=np.uint8)).shape == (32, 96)


@pytest.mark.parametrize("fmt", ["png", "jpeg"])
def test_a_photo_taken_turned_is_read_upright_as_its_exif_says(digits_dir, tmp_path, fmt):
    """A phone stores a photo as the sensor saw it and says in EXIF how to turn it (orientation 6: turn 90° clockwise
    to show). Files are read as a viewer shows them; an EXIF block that cannot be parsed is ignored."""
    from digitseq.image import EXIF_ORIENTATION, open_image
    from digitseq.recognize import Recognizer

    first = sorted(digits_dir.glob("*.png"))[0]
    upright = Image.open(first).convert("RGB")
    stored = upright.transpose(Image.Transpose.ROTATE_90)            # as the sensor saw it: turned 90° anticlockwise
    exif = Image.Exif()
    exif[EXIF_ORIENTATION] = 6
    turned, plain = tmp_path / f"turned.{fmt}", tmp_path / f"plain.{fmt}"
    stored.save(turned, exif=exif, quality=95)
    upright.save(plain, quality=95)
    got = open_image(turned)
    assert got.size == upright.size                                  # wide again, not tall
    if fmt == "png":                                                  # lossless: the very pixels
        np.testing.assert_array_equal(np.asarray(got), np.asarray(upright))
    rec = Recognizer.load("digits", tta="off")
    assert rec.predict(str(turned)).text == rec.predict(str(plain)).text
    assert open_image(plain).size == upright.size                    # no EXIF: as it is
    for value in (1, 9):                                              # upright, or not a valid orientation: as stored
        exif[EXIF_ORIENTATION] = value
        stored.save(turned, exif=exif, quality=95)
        assert open_image(turned).size == stored.size
    if fmt == "png":                                                  # an EXIF block PIL cannot parse: ignored
        stored.save(turned, exif=b"Exif\x00\x00garbage-garbage")
        assert open_image(turned).size == stored.size


def test_float_images_in_0_1_read_like_their_8_bit_copy(tmp_path):
    from digitseq.image import open_image, to_grey

    grey = (np.arange(60 * 80) % 251).astype(np.uint8).reshape(60, 80)
    Image.fromarray(grey.astype(np.float32) / 255, "F").save(tmp_path / "f.tif")    # a float TIFF, 0-1
    for img in (open_image(tmp_path / "f.tif"), Image.fromarray(grey.astype(np.float32) / 255, "F"),
                grey.astype(np.float32) / 255):
        assert np.abs(np.asarray(to_grey(img), np.int16) - grey).max() <= 1
    assert np.array_equal(np.asarray(to_grey(Image.fromarray(grey.astype(np.float32), "F"))), grey)   # 0-255 stays


def test_grey_and_alpha_arrays_are_one_image(digits_dir):
    from digitseq import Recognizer
    from digitseq.errors import DataError

    rec = Recognizer.load(tta="off")
    path = digits_dir / "000003.png"
    la = Image.open(path).convert("LA")
    one = rec.predict(np.asarray(la))                # H×W×2, not a batch of H images two pixels wide
    assert not isinstance(one, list) and one.text == rec.predict(la).text == rec.predict(path).text
    assert rec.predict(path.read_bytes()).text == one.text      # an encoded image's bytes
    with pytest.raises(DataError, match="image bytes: not an image"):
        rec.predict(b"not a png")
    with pytest.raises(DataError, match="batch_size"):
        rec.predict([path], batch_size=0)
    with pytest.raises(DataError, match="threads"):
        Recognizer.load(threads=0)


def test_a_glob_through_a_linked_loop_lists_each_file_once(tmp_path):
    Image.new("L", (20, 10), 255).save(tmp_path / "a.png")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "up").symlink_to("..")      # a loop "**" would follow
    assert list_images([str(tmp_path / "**" / "*.png")]) == [tmp_path / "a.png"]
    (tmp_path / "gone.png").symlink_to(tmp_path / "nowhere.png")    # a broken link: listed, to be reported
    assert list_images([str(tmp_path / "*.png")]) == [tmp_path / "a.png", tmp_path / "gone.png"]
    assert list_images([tmp_path]) == [tmp_path / "a.png", tmp_path / "gone.png"]                 # as a folder's
