"""Read labelled image folders, validate them, preprocess images, and batch them by width.

A labelled set is a CSV with a ``filename`` column and a label column (``label``, ``words`` as
EasyOCR writes it, or ``text``); extra columns are ignored, a UTF-8 BOM is fine, and labels stay
strings (``00427`` keeps its zeros). Filenames are relative to the CSV's folder or to ``images``.

Preprocessing: any PIL mode -> grey (transparent pixels over white) -> resize to ``height``
keeping the aspect ratio -> uint8 array; batches pad each image on the right with its own
background level and carry the real widths so the model knows where each image ends.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from .errors import DataError

LABEL_FILE = "labels.csv"
LABEL_COLUMNS = ("label", "words", "text")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".gif")
DEFAULT_HEIGHT = 32
MAX_WIDTH = 2048          # wider images (after resizing to `height`) are squeezed to this width
MIN_WIDTH = 8
NORMALISATION = {"mean": 0.5, "std": 0.5}   # applied to pixels scaled to 0..1


# --------------------------------------------------------------------------- label files

@dataclass
class LabelledSet:
    """Image paths and their string labels, plus what was skipped and why."""

    paths: list[Path]
    labels: list[str]
    source: Path
    skipped: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.paths)

    def subset(self, indices: Sequence[int]) -> LabelledSet:
        return LabelledSet([self.paths[i] for i in indices], [self.labels[i] for i in indices], self.source)


def resolve_source(source: str | Path, images: str | Path | None = None) -> tuple[Path, Path]:
    """(csv path, image folder) for a folder holding labels.csv, or for a CSV file."""
    source = Path(source)
    if source.is_dir():
        csv_path = source / LABEL_FILE
        if not csv_path.is_file():
            raise DataError(f"{source}: no {LABEL_FILE} in this folder")
    elif source.is_file():
        csv_path = source
    else:
        raise DataError(f"{source}: no such file or folder")
    root = Path(images) if images is not None else csv_path.parent
    if not root.is_dir():
        raise DataError(f"{root}: image folder not found")
    return csv_path, root


def read_labels(source: str | Path, images: str | Path | None = None, alphabet: str | None = None,
                on_error: str = "raise", check_files: bool = True) -> LabelledSet:
    """Read and validate a labelled set.

    Each bad row (missing image, empty label, character outside ``alphabet``) raises a
    :class:`DataError` naming the CSV row and file, or with ``on_error="skip"`` is left out and
    described in ``.skipped``.
    """
    if on_error not in ("raise", "skip"):
        raise ValueError(f"on_error must be 'raise' or 'skip', got {on_error!r}")
    csv_path, root = resolve_source(source, images)
    try:
        with open(csv_path, newline="", encoding="utf-8-sig") as fh:
            rows = list(csv.reader(fh))
    except UnicodeDecodeError as exc:
        raise DataError(f"{csv_path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise DataError(f"{csv_path}: cannot read ({exc.strerror})") from None
    if not rows:
        raise DataError(f"{csv_path}: empty file, expected a header 'filename,label'")
    header = [h.strip().lower() for h in rows[0]]
    if "filename" not in header:
        raise DataError(f"{csv_path}: missing column 'filename' (header is {','.join(rows[0])!r})")
    label_col = next((c for c in LABEL_COLUMNS if c in header), None)
    if label_col is None:
        raise DataError(f"{csv_path}: missing label column, one of {', '.join(LABEL_COLUMNS)} "
                        f"(header is {','.join(rows[0])!r})")
    fi, li = header.index("filename"), header.index(label_col)
    allowed = set(alphabet) if alphabet is not None else None

    out = LabelledSet([], [], csv_path)
    for row_no, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue  # blank line
        problem = None
        name = row[fi].strip() if fi < len(row) else ""
        label = row[li] if li < len(row) else ""
        path = root / name
        if not name:
            problem = "empty filename"
        elif label == "":
            problem = f"{name}: empty label"
        elif allowed is not None and (bad := sorted(set(label) - allowed)):
            problem = f"{name}: label {label!r} has characters outside the alphabet: {''.join(bad)!r}"
        elif check_files and not path.is_file():
            problem = f"{name}: image file not found in {root}"
        if problem:
            message = f"{csv_path}, row {row_no}: {problem}"
            if on_error == "raise":
                raise DataError(message)
            out.skipped.append(message)
            continue
        out.paths.append(path)
        out.labels.append(label)
    if not out.paths:
        raise DataError(f"{csv_path}: no usable rows" + (f" ({len(out.skipped)} skipped)" if out.skipped else ""))
    return out


def list_images(paths: Sequence[str | Path]) -> list[Path]:
    """Expand files, folders (recursively, sorted) and glob patterns into image files."""
    import glob

    found: list[Path] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            found.extend(sorted(q for q in p.rglob("*") if q.suffix.lower() in IMAGE_SUFFIXES and q.is_file()))
        elif p.is_file():
            found.append(p)
        elif any(c in str(p) for c in "*?["):
            matches = sorted(Path(m) for m in glob.glob(str(p), recursive=True))
            found.extend(m for m in matches if m.is_file())
            if not matches:
                raise DataError(f"{p}: pattern matches no files")
        else:
            raise DataError(f"{p}: no such file or folder")
    if not found:
        raise DataError(f"{', '.join(map(str, paths))}: no images found")
    return found


# --------------------------------------------------------------------------- images

def open_image(path: str | Path) -> Image.Image:
    """Open and fully decode an image, turning every failure into a one-line DataError."""
    path = Path(path)
    try:
        if path.stat().st_size == 0:
            raise DataError(f"{path}: empty file")
        with Image.open(path) as img:
            img.load()
            return img.copy() if img.mode != "P" else img.convert("RGBA")
    except DataError:
        raise
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except UnidentifiedImageError:
        raise DataError(f"{path}: not an image PIL can read") from None
    except Image.DecompressionBombError as exc:
        raise DataError(f"{path}: image too large ({exc})") from None
    except (OSError, ValueError, SyntaxError) as exc:
        raise DataError(f"{path}: cannot decode image ({exc})") from None


def to_grey(img: Image.Image | np.ndarray) -> Image.Image:
    """Any PIL image or array (H×W, H×W×3/4, uint8/uint16/float) as an 8-bit grey image."""
    if isinstance(img, np.ndarray):
        img = _array_to_image(img)
    if img.mode == "P":
        img = img.convert("RGBA")
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "RGB" and "transparency" in img.info):
        img = img.convert("RGBA")
        white = Image.new("RGBA", img.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, img).convert("L")
    if img.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        arr = np.asarray(img, dtype=np.float32)
        top = 65535.0 if img.mode.startswith("I;16") or arr.max() > 255 else 255.0
        if img.mode in ("I", "F") and arr.max() > 0 and top == 65535.0 and arr.max() <= 1.0:
            top = 1.0
        return Image.fromarray(np.clip(arr * (255.0 / top), 0, 255).astype(np.uint8))
    if img.mode == "1":
        return img.convert("L")
    if img.mode != "L":
        img = img.convert("RGB").convert("L")
    return img


def _array_to_image(arr: np.ndarray) -> Image.Image:
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[..., 0]
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (3, 4)):
        raise DataError(f"array image must be H×W, H×W×3 or H×W×4, got shape {arr.shape}")
    if arr.dtype != np.uint8:
        arr = arr.astype(np.float32)
        scale = 255.0 if arr.max(initial=0) <= 1.0 else (255.0 / 65535.0 if arr.max() > 255 else 1.0)
        arr = np.clip(arr * scale, 0, 255).astype(np.uint8)
    return Image.fromarray(arr)


def preprocess(img: Image.Image | np.ndarray, height: int = DEFAULT_HEIGHT, max_width: int = MAX_WIDTH) -> np.ndarray:
    """Grey uint8 array of the given height, width scaled to keep the aspect ratio (clamped)."""
    img = to_grey(img)
    w, h = img.size
    if w < 1 or h < 1:
        raise DataError(f"image has no pixels ({w}×{h})")
    new_w = int(min(max_width, max(MIN_WIDTH, round(w * height / h))))
    if (new_w, height) != (w, h):
        img = img.resize((new_w, height), Image.BILINEAR)
    return np.asarray(img, dtype=np.uint8)


def load(path: str | Path, height: int = DEFAULT_HEIGHT) -> np.ndarray:
    return preprocess(open_image(path), height)


def load_many(paths: Sequence[str | Path], height: int = DEFAULT_HEIGHT, workers: int | None = None,
              on_error: str = "raise", progress: bool = False) -> tuple[list[np.ndarray | None], list[str | None]]:
    """Load and preprocess many images with a thread pool (PIL releases the GIL while decoding).

    Returns the arrays and, aligned with them, the error messages: with ``on_error="skip"`` a file
    that fails gives ``None`` and its message, instead of raising.
    """
    from tqdm.auto import tqdm

    def one(p):
        try:
            return load(p, height), None
        except DataError as exc:
            if on_error == "raise":
                raise
            return None, str(exc)

    workers = workers or min(8, (os.cpu_count() or 1) * 2)
    with ThreadPoolExecutor(workers) as pool:
        results = list(tqdm(pool.map(one, paths), total=len(paths), desc="load images", unit="img",
                            disable=not progress))
    return [r[0] for r in results], [r[1] for r in results]


def stretch_for_label(arr: np.ndarray, label_length: int, reduction: int = 4) -> np.ndarray:
    """Widen an image whose width gives fewer than 2·len+1 time steps (CTC needs room for blanks)."""
    need = reduction * (2 * label_length + 1)
    if arr.shape[1] >= need:
        return arr
    return np.asarray(Image.fromarray(arr).resize((need, arr.shape[0]), Image.BILINEAR))


def augment(arr: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Cheap on-the-fly variation for training: width scale, contrast, brightness, noise."""
    h, w = arr.shape
    if rng.random() < 0.5:
        new_w = max(MIN_WIDTH, int(round(w * rng.uniform(0.8, 1.25))))
        arr = np.asarray(Image.fromarray(arr).resize((new_w, h), Image.BILINEAR))
    out = arr.astype(np.float32)
    if rng.random() < 0.5:
        mean = out.mean()
        out = (out - mean) * rng.uniform(0.6, 1.3) + mean + rng.uniform(-25, 25)
    if rng.random() < 0.3:
        out += rng.normal(0, rng.uniform(2, 10), size=out.shape).astype(np.float32)
    return np.clip(out, 0, 255).astype(np.uint8)


# --------------------------------------------------------------------------- batching

def background_level(arr: np.ndarray) -> int:
    """The image's background grey level: the median of its first and last columns."""
    return int(np.median(np.concatenate([arr[:, 0], arr[:, -1]])))


def pad_batch(arrays: Sequence[np.ndarray], normalisation: dict = NORMALISATION) -> tuple[torch.Tensor, torch.Tensor]:
    """Stack grey uint8 arrays (same height) into a normalised B×1×H×W float tensor.

    Each image is padded on the right with its own background level; the real widths come back
    as a tensor so time steps past an image's end can be ignored.
    """
    h = arrays[0].shape[0]
    widths = [a.shape[1] for a in arrays]
    batch = np.empty((len(arrays), 1, h, max(widths)), dtype=np.uint8)
    for i, a in enumerate(arrays):
        if a.shape[0] != h:
            raise ValueError(f"all images in a batch need height {h}, got {a.shape[0]}")
        batch[i, 0, :, : a.shape[1]] = a
        batch[i, 0, :, a.shape[1]:] = background_level(a)
    x = torch.from_numpy(batch).float().div_(255.0)
    x = x.sub_(normalisation["mean"]).div_(normalisation["std"])
    return x, torch.tensor(widths, dtype=torch.long)


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
                 reduction: int = 4):
        if len(arrays) != len(labels):
            raise ValueError("arrays and labels differ in length")
        self.arrays = [stretch_for_label(a, len(t), reduction) for a, t in zip(arrays, labels)]
        self.labels = list(labels)
        self.augment = augment
        self.seed = seed
        self.epoch = 0
        self.reduction = reduction

    @classmethod
    def from_labelled(cls, ls: LabelledSet, height: int = DEFAULT_HEIGHT, augment: bool = False,
                      seed: int = 0, on_error: str = "raise", progress: bool = True) -> ImageSet:
        arrays, errors = load_many(ls.paths, height, on_error=on_error, progress=progress)
        keep = [i for i, a in enumerate(arrays) if a is not None]
        ls.skipped.extend(e for e in errors if e)
        return cls([arrays[i] for i in keep], [ls.labels[i] for i in keep], augment=augment, seed=seed)

    @classmethod
    def concat(cls, sets: Sequence[ImageSet], augment: bool | None = None, seed: int = 0) -> ImageSet:
        out = cls([], [], augment=sets[0].augment if augment is None else augment, seed=seed)
        for s in sets:
            out.arrays.extend(s.arrays)
            out.labels.extend(s.labels)
        return out

    @classmethod
    def from_folders(cls, folders: Sequence[str | Path], alphabet: str | None = None, augment: bool = False,
                     seed: int = 0, height: int = DEFAULT_HEIGHT, progress: bool = True) -> ImageSet:
        """All images of several labelled folders (or CSVs) as one set."""
        sets = [cls.from_labelled(read_labels(f, alphabet=alphabet), height, progress=progress) for f in folders]
        return cls.concat(sets, augment=augment, seed=seed)

    def __len__(self) -> int:
        return len(self.arrays)

    @property
    def widths(self) -> list[int]:
        return [a.shape[1] for a in self.arrays]

    def __getitem__(self, i: int) -> tuple[np.ndarray, str]:
        arr = self.arrays[i]
        if self.augment:
            rng = np.random.default_rng([self.seed, self.epoch, i])
            arr = stretch_for_label(augment(arr, rng), len(self.labels[i]), self.reduction)
        return arr, self.labels[i]


def collate(batch: list[tuple[np.ndarray, str]], normalisation: dict = NORMALISATION):
    arrays, labels = zip(*batch)
    x, widths = pad_batch(arrays, normalisation)
    return x, widths, list(labels)


def loader(dataset: ImageSet, batch_size: int, shuffle: bool, seed: int = 0, epoch: int = 0, workers: int = 0,
           normalisation: dict = NORMALISATION, rank: int = 0, world_size: int = 1) -> Iterator:
    """A DataLoader over width-bucketed batches of ``dataset`` for one epoch."""
    dataset.epoch = epoch
    batches = epoch_batches(dataset, batch_size, shuffle, seed, epoch, rank, world_size)
    return torch.utils.data.DataLoader(dataset, batch_sampler=batches, num_workers=workers,
                                       collate_fn=partial(collate, normalisation=normalisation),
                                       persistent_workers=False)
