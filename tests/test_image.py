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
