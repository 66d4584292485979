"""Training data: labelled images held in memory, on-the-fly augmentation, width-bucketed torch batches.

Reading and validating labelled folders, decoding and preprocessing images live in the torch-free
:mod:`digitseq.image` (the runtime needs them without torch); their names are re-exported here so
``from digitseq.data import read_labels, preprocess, ...`` keeps working.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from functools import partial
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from .errors import DigitseqError
from .image import (  # noqa: F401  (re-exported)
    DEFAULT_HEIGHT,
    IMAGE_SUFFIXES,
    LABEL_COLUMNS,
    LABEL_FILE,
    MAX_WIDTH,
    MIN_WIDTH,
    NORMALISATION,
    LabelledSet,
    background_level,
    iter_loaded,
    list_images,
    load,
    load_many,
    open_image,
    pad_array,
    preprocess,
    read_labels,
    resolve_source,
    to_grey,
)


def stretch_for_label(arr: np.ndarray, label_length: int, reduction: int = 4) -> np.ndarray:
    """Widen an image whose width gives fewer than 2·len+1 time steps (CTC needs room for blanks)."""
    need = reduction * (2 * label_length + 1)
    if arr.shape[1] >= need:
        return arr
    return np.asarray(Image.fromarray(arr).resize((need, arr.shape[0]), Image.BILINEAR))


REFRAME_P = 0.4                    # share of training images given other margins than the text-line crop's
REFRAME_Y = (-0.08, 0.30)          # rows removed (< 0) or added (> 0) above and below, in image heights
REFRAME_X = (0.0, 0.50)            # columns added left and right, in image heights (never removed: text would go)


def reframe(arr: np.ndarray, rng: np.random.Generator, y: tuple[float, float] = REFRAME_Y,
            x: tuple[float, float] = REFRAME_X) -> np.ndarray:
    """The same text with other margins, back at the same height: smaller and off-centre, or a little larger.

    The text-line crop gives every training image the same framing (text ~76 % of the height), and a
    model trained only on that reads a line cropped a little differently worse: the shipped digit model
    read matplotlib's 12-digit images 80.4 % right as cropped and 73.6 % with wider margins. Margins are
    filled with the image's background level (:func:`background_level`).
    """
    h, w = arr.shape
    top, bottom = np.rint(rng.uniform(*y, 2) * h).astype(int)
    left, right = np.rint(rng.uniform(*x, 2) * h).astype(int)
    core = arr[max(0, -top): h - max(0, -bottom)]
    out = np.full((core.shape[0] + max(0, top) + max(0, bottom), w + left + right), background_level(arr), np.uint8)
    out[max(0, top): max(0, top) + core.shape[0], left: left + w] = core
    new_w = max(MIN_WIDTH, int(round(out.shape[1] * h / out.shape[0])))
    return np.asarray(Image.fromarray(out).resize((new_w, h), Image.BILINEAR))


TIGHT_LEVEL = (0.15, 0.5)          # what counts as ink: this share of the largest difference from the background


def cut_tight(arr: np.ndarray, rng: np.random.Generator, level: tuple[float, float] = TIGHT_LEVEL) -> np.ndarray:
    """The image cut to the box of its ink, no margin left, back at the same height: as an image cut from a form or
    by a detector reaches the text-line crop, which cannot add a margin the image lacks. Ink: pixels that differ from
    the background level (:func:`background_level`) by more than a random share in ``level`` of the largest
    difference; an image without such pixels is returned as it is, and so is one whose ink is so flat that the cut,
    back at full height, would be wider than ``MAX_WIDTH`` (a rule or one dark stroke, not a text line: 26 of the
    15,000 wild ASCII training images could be cut so at height 48, one to 11,424 px, and a batch padded to such a
    width needed more than 16 GB)."""
    h, w = arr.shape
    diff = np.abs(arr.astype(np.int16) - background_level(arr))
    top = int(diff.max())
    if top == 0:
        return arr
    ink = diff > rng.uniform(*level) * top
    rows, cols = np.flatnonzero(ink.any(1)), np.flatnonzero(ink.any(0))
    core = arr[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    if core.shape[0] < 2 or core.shape[1] < 2:
        return arr
    new_w = max(MIN_WIDTH, int(round(core.shape[1] * h / core.shape[0])))
    if new_w > MAX_WIDTH:
        return arr
    return np.asarray(Image.fromarray(np.ascontiguousarray(core)).resize((new_w, h), Image.BILINEAR))


WIDTH_SCALE = (0.8, 1.25)          # half the augmented images are made this many times as wide (uniform in the range)


def check_width_scale(scale) -> tuple[float, float]:
    """``scale`` as a (low, high) pair of widths with 0 < low <= high; a clear error otherwise."""
    try:
        low, high = (float(v) for v in scale)
    except (TypeError, ValueError):
        raise DigitseqError(f"width_scale must be two numbers (low, high), not {scale!r}") from None
    if not 0.0 < low <= high <= 10.0:
        raise DigitseqError(f"width_scale must satisfy 0 < low <= high <= 10, not ({low:g}, {high:g})")
    return low, high


def augment(arr: np.ndarray, rng: np.random.Generator, tight: float = 0.0,
            width_scale: tuple[float, float] = WIDTH_SCALE) -> np.ndarray:
    """Cheap on-the-fly variation for training: margins (:func:`reframe`, or, for a share ``tight`` of the images,
    none at all: :func:`cut_tight`), width scale (half the images, uniform in ``width_scale``), contrast,
    brightness, noise."""
    if tight > 0 and rng.random() < tight:         # no draw while it is off: the stream stays as it was
        arr = cut_tight(arr, rng)
    elif rng.random() < REFRAME_P:
        arr = reframe(arr, rng)
    h, w = arr.shape
    if rng.random() < 0.5:
        new_w = max(MIN_WIDTH, int(round(w * rng.uniform(*width_scale))))
        arr = np.asarray(Image.fromarray(arr).resize((new_w, h), Image.BILINEAR))
    out = arr.astype(np.float32)
    if rng.random() < 0.5:
        mean = out.mean()
        out = (out - mean) * rng.uniform(0.6, 1.3) + mean + rng.uniform(-25, 25)
    if rng.random() < 0.3:
        out += rng.normal(0, rng.uniform(2, 10), size=out.shape).astype(np.float32)
    return np.clip(out, 0, 255).astype(np.uint8)


# --------------------------------------------------------------------------- batching

def pad_batch(arrays: Sequence[np.ndarray], normalisation: dict = NORMALISATION) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`digitseq.image.pad_array` as torch tensors: a B×1×H×W float batch and the real widths."""
    x, widths = pad_array(arrays, normalisation)
    return torch.from_numpy(x), torch.from_numpy(widths)


def width_batches(widths: Sequence[int], batch_size: int, shuffle: bool = False, seed: int = 0,
                  epoch: int = 0, rank: int = 0, world_size: int = 1) -> list[list[int]]:
    """Group indices into batches of similar width (less padding, faster convolutions).

    Without shuffling: sorted by width. With shuffling: indices are shuffled, sorted by width
    within pools of 32 batches, cut into batches, and the batches shuffled — fresh each epoch.
    With ``world_size > 1`` each rank gets every ``world_size``-th batch (same count on all ranks).
    """
    widths = np.asarray(widths)
    if not shuffle:
        order = np.argsort(widths, kind="stable")
        batches = [order[i:i + batch_size].tolist() for i in range(0, len(order), batch_size)]
    else:
        rng = np.random.default_rng([seed, epoch])
        order = rng.permutation(len(widths))
        pool = batch_size * 32
        batches = []
        for s in range(0, len(order), pool):
            chunk = order[s:s + pool]
            chunk = chunk[np.argsort(widths[chunk], kind="stable")]
            batches.extend(chunk[i:i + batch_size].tolist() for i in range(0, len(chunk), batch_size))
        batches = [batches[i] for i in rng.permutation(len(batches))]
    if world_size > 1:
        usable = len(batches) - len(batches) % world_size if len(batches) >= world_size else len(batches)
        batches = batches[:usable][rank::world_size] if usable else batches[rank % max(1, len(batches)):][:1]
    return batches


def epoch_batches(dataset, batch_size: int, shuffle: bool, seed: int = 0, epoch: int = 0, rank: int = 0,
                  world_size: int = 1) -> list[list[int]]:
    """An epoch's batches: bucketed by width where the set knows its widths, else plain random chunks."""
    widths = getattr(dataset, "widths", None)
    if widths is None:
        widths = [0] * len(dataset)   # all equal: width_batches degrades to shuffled chunks
    return width_batches(widths, batch_size, shuffle, seed, epoch, rank, world_size)


class ImageSet(torch.utils.data.Dataset):
    """Preprocessed images held in memory with their labels; optional on-the-fly augmentation."""

    def __init__(self, arrays: list[np.ndarray], labels: list[str], augment: bool = False, seed: int = 0,
                 reduction: int = 4, textline: bool | None = None):
        if len(arrays) != len(labels):
            raise ValueError("arrays and labels differ in length")
        self.textline = textline       # whether the images were cropped to their text line (None: not known)
        self.arrays = [stretch_for_label(a, len(t), reduction) for a, t in zip(arrays, labels)]
        self.labels = list(labels)
        self.augment = augment
        self.tight = 0.0               # share of augmented images cut tight to their ink (set from TrainConfig.tight)
        self.width_scale = WIDTH_SCALE  # range of the width scale augment() draws (set from TrainConfig.width_scale)
        self.seed = seed
        self.epoch = 0
        self.reduction = reduction

    @classmethod
    def from_labelled(cls, ls: LabelledSet, height: int = DEFAULT_HEIGHT, augment: bool = False,
                      seed: int = 0, on_error: str = "raise", progress: bool = True, textline: bool = False,
                      reduction: int = 4) -> ImageSet:
        """``height`` and ``reduction`` (width stride): the model's (``train.resolve_arch``)."""
        arrays, errors = load_many(ls.paths, height, on_error=on_error, progress=progress, textline=textline)
        keep = [i for i, a in enumerate(arrays) if a is not None]
        ls.skipped.extend(e for e in errors if e)
        return cls([arrays[i] for i in keep], [ls.labels[i] for i in keep], augment=augment, seed=seed,
                   reduction=reduction, textline=textline)

    @classmethod
    def concat(cls, sets: Sequence[ImageSet], augment: bool | None = None, seed: int = 0) -> ImageSet:
        crops = {s.textline for s in sets}
        if len(crops) > 1:
            raise ValueError("cannot join sets cropped to their text line with sets that were not (or not known)")
        out = cls([], [], augment=sets[0].augment if augment is None else augment, seed=seed, textline=crops.pop(),
                  reduction=max(s.reduction for s in sets))
        for s in sets:
            out.arrays.extend(s.arrays)
            out.labels.extend(s.labels)
        return out

    @classmethod
    def from_folders(cls, folders: Sequence[str | Path], alphabet: str | None = None, augment: bool = False,
                     seed: int = 0, height: int = DEFAULT_HEIGHT, progress: bool = True,
                     textline: bool = False, reduction: int = 4) -> ImageSet:
        """All images of several labelled folders (or CSVs) as one set."""
        sets = [cls.from_labelled(read_labels(f, alphabet=alphabet), height, progress=progress, textline=textline,
                                  reduction=reduction) for f in folders]
        return cls.concat(sets, augment=augment, seed=seed)

    def __len__(self) -> int:
        return len(self.arrays)

    @property
    def widths(self) -> list[int]:
        return [a.shape[1] for a in self.arrays]

    @property
    def height(self) -> int | None:
        """The images' height (all are preprocessed to one), or None for an empty set."""
        return self.arrays[0].shape[0] if self.arrays else None

    def __getitem__(self, i: int) -> tuple[np.ndarray, str]:
        arr = self.arrays[i]
        if self.augment:
            rng = np.random.default_rng([self.seed, self.epoch, i])
            arr = stretch_for_label(augment(arr, rng, self.tight, self.width_scale), len(self.labels[i]),
                                    self.reduction)
        return arr, self.labels[i]


def collate(batch: list[tuple[np.ndarray, str]], normalisation: dict = NORMALISATION):
    arrays, labels = zip(*batch)
    x, widths = pad_batch(arrays, normalisation)
    return x, widths, list(labels)


def loader(dataset: ImageSet, batch_size: int, shuffle: bool, seed: int = 0, epoch: int = 0, workers: int = 0,
           normalisation: dict = NORMALISATION, rank: int = 0, world_size: int = 1, skip: int = 0) -> Iterator:
    """A DataLoader over width-bucketed batches of ``dataset`` for one epoch (less its first ``skip`` batches)."""
    dataset.epoch = epoch
    batches = epoch_batches(dataset, batch_size, shuffle, seed, epoch, rank, world_size)[skip:]
    return torch.utils.data.DataLoader(dataset, batch_sampler=batches, num_workers=workers,
                                       collate_fn=partial(collate, normalisation=normalisation),
                                       persistent_workers=False, worker_init_fn=_leave_stops_to_the_trainer)


def _leave_stops_to_the_trainer(worker_id: int) -> None:
    """In each loader worker: let the first SIGTERM pass (``kill`` of the whole process group, a scheduler's stop):
    the training process saves ``last.pt`` on it and then ends its workers itself, and a worker killed under it
    first would make the loader raise instead. A second one (the loader ending a worker that does not stop) ends it.
    (Ctrl-C is already left to the main process by torch's workers.)"""
    import signal

    def first_passes(signum, frame):
        signal.signal(signal.SIGTERM, signal.SIG_DFL)

    signal.signal(signal.SIGTERM, first_passes)
