"""Images and labelled folders without torch: read, validate, decode, preprocess, pad into a batch.

A labelled set is a CSV with a ``filename`` column and a label column (``label``, ``words`` as
EasyOCR writes it, or ``text``); extra columns are ignored, a UTF-8 BOM is fine, and labels stay
strings (``00427`` keeps its zeros). Filenames are relative to the CSV's folder or to ``images``.

Preprocessing: any PIL mode -> grey (transparent pixels over white) -> optionally crop to the text
line (:func:`digitseq.textline.crop_to_text`) -> resize to ``height`` keeping the aspect ratio ->
uint8 array. Batches pad each image on the right with its own background level and carry the real
widths so the model knows where each image ends.

This module is part of the light runtime: numpy and Pillow only (``digitseq.data`` adds the torch side).
"""

from __future__ import annotations

import csv
import os
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

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
    rows: list[list[str]] = []
    try:
        with open(csv_path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh)
            last = 0            # the line the last good record ended on
            for row in reader:
                rows.append(row)
                last = reader.line_num
    except csv.Error as exc:    # e.g. a stray quote swallowing the rest of the file into one field
        raise DataError(f"{csv_path}: line {last + 1}: cannot parse the CSV record starting there ({exc}; "
                        "an unclosed quote?)") from None
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
        label = row[li].strip() if li < len(row) else ""     # "00427" stays "00427"; " 98926 " is "98926"
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


def _images_under(folder: Path) -> list[Path]:
    """Image files below ``folder``, recursively, sorted as ``sorted(Path.rglob(...))`` would sort them."""
    found = []
    for parent, _, files in os.walk(folder):
        found.extend(os.path.join(parent, f) for f in files if os.path.splitext(f)[1].lower() in IMAGE_SUFFIXES)
    found.sort(key=lambda f: f.split(os.sep))    # Path order (part by part), without building Paths to sort
    return [Path(f) for f in found]


def list_images(paths: Sequence[str | Path]) -> list[Path]:
    """Expand files, folders (recursively, sorted) and glob patterns into image files."""
    import glob

    found: list[Path] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            found.extend(_images_under(p))
        elif p.is_file():
            found.append(p)
        elif any(c in str(p) for c in "*?["):
            matches = sorted(Path(m) for m in glob.glob(str(p), recursive=True))
            seen: set[tuple[Path, str]] = set()     # "**" follows linked folders, round a loop too: each file
            for m in matches:                         # once (two names of one file are two files, as in a folder)
                if m.is_file() and (key := (m.parent.resolve(), m.name)) not in seen:
                    seen.add(key)
                    found.append(m)
                elif m.is_symlink() and not m.exists() and m.suffix.lower() in IMAGE_SUFFIXES:
                    found.append(m)     # a broken link: reported as unreadable, as a folder's would be
            if not matches:
                raise DataError(f"{p}: pattern matches no files")
        else:
            raise DataError(f"{p}: no such file or folder")
    if not found:
        raise DataError(f"{', '.join(map(str, paths))}: no images found")
    return found


# --------------------------------------------------------------------------- images

EXIF_ORIENTATION = 0x0112   # the EXIF tag saying how the camera was held


def _orientation(img: Image.Image) -> int:
    """The image's EXIF orientation (1, upright, where it has none or its EXIF cannot be read)."""
    try:
        return int(img.getexif().get(EXIF_ORIENTATION, 1))
    except Exception:   # a damaged EXIF block does not make the pixels unreadable
        return 1


def open_image(path: str | Path | BinaryIO, grey: bool = False) -> Image.Image:
    """Open and fully decode an image, turning every failure into a one-line DataError.

    ``grey=True`` lets a colour JPEG decode straight to its luma channel (the same weights as
    ``convert("L")``, up to rounding, and much faster); other formats decode as they are. An image whose EXIF
    orientation says it was taken turned (a phone's photo) is turned upright, as image viewers show it.
    ``path`` may also be an open binary file (an encoded image's bytes in ``io.BytesIO``).
    """
    source = path if hasattr(path, "read") else Path(path)
    path = source if isinstance(source, Path) else "image bytes"
    try:
        with Image.open(source) as img:
            if grey and img.format == "JPEG":
                img.draft("L", None)
            img.load()       # the file is closed on leaving the block; the pixels stay
        if _orientation(img) in range(2, 9):    # 1: upright; 2-8: mirrored and/or turned
            img = ImageOps.exif_transpose(img)
        return img.convert("RGBA") if img.mode == "P" else img
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise DataError(f"{path}: a folder, not an image") from None
    except UnidentifiedImageError:
        if isinstance(source, Path) and source.is_file() and source.stat().st_size == 0:
            raise DataError(f"{path}: empty file") from None
        raise DataError(f"{path}: not an image PIL can read") from None
    except Image.DecompressionBombError as exc:
        raise DataError(f"{path}: image too large ({exc})") from None
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        raise DataError(f"{path}: cannot decode image ({exc})") from None


def to_grey(img: Image.Image | np.ndarray) -> Image.Image:
    """Any PIL image or array (H×W, H×W×3/4, uint8/uint16/float) as an 8-bit grey image."""
    if isinstance(img, np.ndarray):
        img = _array_to_image(img)
    mode = img.mode
    if mode == "L":
        return img
    if mode == "RGB" and "transparency" not in img.info:
        return img.convert("L")
    if mode == "P":
        img = img.convert("RGBA")
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "RGB" and "transparency" in img.info):
        img = img.convert("RGBA")
        white = Image.new("RGBA", img.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, img).convert("L")
    if img.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        arr = np.asarray(img, dtype=np.float32)
        peak = float(arr.max(initial=0))
        # 16-bit images span 0-65535; float images (mode F: float TIFFs) mostly 0-1, as arrays of floats do
        # (:func:`_array_to_image`); 32-bit integer ones whatever their values reach.
        top = (65535.0 if img.mode.startswith("I;16") or peak > 255 else
               1.0 if img.mode == "F" and peak <= 1.0 else 255.0)
        return Image.fromarray(np.clip(arr * (255.0 / top), 0, 255).astype(np.uint8))
    if img.mode == "1":
        return img.convert("L")
    return img.convert("RGB").convert("L")


def _array_to_image(arr: np.ndarray) -> Image.Image:
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[..., 0]
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (2, 3, 4)):
        raise DataError(f"array image must be H×W, H×W×2 (grey and alpha), H×W×3 or H×W×4, got shape {arr.shape}")
    if arr.dtype != np.uint8:
        arr = arr.astype(np.float32)
        scale = 255.0 if arr.max(initial=0) <= 1.0 else (255.0 / 65535.0 if arr.max() > 255 else 1.0)
        arr = np.clip(arr * scale, 0, 255).astype(np.uint8)
    return Image.fromarray(np.ascontiguousarray(arr))


def text_region(img: Image.Image | np.ndarray, textline: bool = False, pad_edges: bool = False) -> Image.Image:
    """The grey image, cropped to its text line (:mod:`digitseq.textline`) when ``textline``; ``pad_edges``: a line
    cut out at its text gets the crop's margins around it (:func:`digitseq.textline.crop_to_text`)."""
    img = to_grey(img)
    w, h = img.size
    if w < 1 or h < 1:
        raise DataError(f"image has no pixels ({w}×{h})")
    if textline:
        from .textline import crop_to_text

        crop = crop_to_text(np.asarray(img), pad_edges=pad_edges)
        if crop.shape != (h, w):
            img = Image.fromarray(np.ascontiguousarray(crop, dtype=np.uint8))
            w, h = img.size
            if w < 1 or h < 1:
                raise DataError(f"text line crop has no pixels ({w}×{h})")
    return img


def fit_height(img: Image.Image, height: int = DEFAULT_HEIGHT, max_width: int = MAX_WIDTH,
               stretch: float = 1.0) -> np.ndarray:
    """A grey image resized to ``height``, its width scaled by the same factor times ``stretch`` (clamped)."""
    w, h = img.size
    new_w = int(min(max_width, max(MIN_WIDTH, round(w * height / h * stretch))))
    if (new_w, height) != (w, h):
        img = img.resize((new_w, height), Image.BILINEAR)
    return np.asarray(img, dtype=np.uint8)


def preprocess(img: Image.Image | np.ndarray, height: int = DEFAULT_HEIGHT, max_width: int = MAX_WIDTH,
               textline: bool = False, pad_edges: bool = False) -> np.ndarray:
    """Grey uint8 array of the given height, width scaled to keep the aspect ratio (clamped).

    ``textline=True`` crops the grey image to its text line (:mod:`digitseq.textline`) before resizing;
    ``pad_edges`` (with it) gives a line cut out at its text the crop's margins.
    """
    return fit_height(text_region(img, textline, pad_edges), height, max_width)


def load(path: str | Path, height: int = DEFAULT_HEIGHT, textline: bool = False, pad_edges: bool = False
         ) -> np.ndarray:
    """Read one image file as the model's grey input array."""
    return preprocess(open_image(path, grey=True), height, textline=textline, pad_edges=pad_edges)


def _load_chunk(paths: Sequence[str | Path], height: int, textline: bool, pad_edges: bool = False,
                keep_crop: bool = False) -> list[tuple]:
    """(array, None) or (None, error) for each path; with ``keep_crop`` a third item, the grey text-line crop the
    array was resized from (what another model reads the image from at its own height: :func:`fit_height`)."""
    out: list[tuple] = []
    for p in paths:
        try:
            if keep_crop:       # load()'s two steps, the crop kept between them
                region = text_region(open_image(p, grey=True), textline, pad_edges)
                out.append((fit_height(region, height), None, np.asarray(region)))
            else:
                out.append((load(p, height, textline, pad_edges), None))
        except DataError as exc:
            out.append((None, str(exc), None) if keep_crop else (None, str(exc)))
    return out


def default_workers() -> int:
    """Readers: one per core, at least two, at most eight."""
    return max(2, min(8, os.cpu_count() or 1))


PROCESS_MIN_FILES = 256   # from this many files on, readers are processes (where fork is available)


def use_processes(n_files: int) -> bool:
    """Whether ``n_files`` are worth reading in forked processes rather than threads.

    Decoding releases the GIL, but the text-line crop is many small numpy calls that hold it: on 2 cores,
    two reader threads read 726 realistic files/s, one alone 783, two forked processes 1,441
    (benchmarks/bench_readers.py: text-line crop on, no network). Forking costs ~10 ms, so only many files
    pay; fork is used on Linux only (elsewhere a spawned child would re-import the caller's script).
    """
    import multiprocessing
    import sys

    return (n_files >= PROCESS_MIN_FILES and (os.cpu_count() or 1) >= 2 and sys.platform.startswith("linux")
            and "fork" in multiprocessing.get_all_start_methods())


def _executor(workers: int, processes: bool):
    if not processes:
        return ThreadPoolExecutor(workers, thread_name_prefix="digitseq-read")
    import multiprocessing
    import warnings
    from concurrent.futures import ProcessPoolExecutor

    with warnings.catch_warnings():   # Python >= 3.12 warns about forking a process that has threads;
        # the children only run _load_chunk (PIL and numpy), which takes none of the parent threads' locks
        warnings.simplefilter("ignore", DeprecationWarning)
        return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"))


def iter_loaded(paths: Sequence[str | Path], height: int = DEFAULT_HEIGHT, textline: bool = False,
                workers: int | None = None, ahead: int = 2048, chunk: int = 16, processes: bool | None = None,
                pad_edges: bool = False, keep_crop: bool = False) -> Iterator[tuple]:
    """Read and preprocess ``paths`` in the background; yield (array, None) or (None, error) in input order (with
    ``keep_crop``, each with a third item: the grey crop the array was resized from, or None; :func:`_load_chunk`).

    At most ``ahead`` images are read before the consumer takes them, so memory stays bounded on any
    number of files, and whatever the consumer does meanwhile (run the network) overlaps the decoding.
    ``processes``: read in forked worker processes instead of threads (None: :func:`use_processes`).
    """
    workers = workers or default_workers()
    if processes is None:
        processes = use_processes(len(paths))
    chunk = max(1, min(chunk, ahead // (2 * workers) or 1))
    starts = iter(range(0, len(paths), chunk))
    pending: deque = deque()
    with _executor(workers, processes) as pool:
        def submit(n: int) -> None:
            for _ in range(n):
                s = next(starts, None)
                if s is None:
                    return
                pending.append(pool.submit(_load_chunk, paths[s:s + chunk], height, textline, pad_edges,
                                           keep_crop))

        submit(max(1, ahead // chunk))
        try:
            while pending:
                results = pending.popleft().result()
                submit(1)
                yield from results
        finally:
            for f in pending:
                f.cancel()


def load_many(paths: Sequence[str | Path], height: int = DEFAULT_HEIGHT, workers: int | None = None,
              on_error: str = "raise", progress: bool = False, textline: bool = False
              ) -> tuple[list[np.ndarray | None], list[str | None]]:
    """Load and preprocess many images with a thread pool (PIL releases the GIL while decoding).

    Returns the arrays and, aligned with them, the error messages: with ``on_error="skip"`` a file
    that fails gives ``None`` and its message, instead of raising.
    """
    if on_error not in ("raise", "skip"):
        raise ValueError(f"on_error must be 'raise' or 'skip', got {on_error!r}")
    items = iter_loaded(paths, height, textline, workers)
    if progress:
        from tqdm.auto import tqdm

        items = tqdm(items, total=len(paths), desc="load images", unit="img")
    arrays, errors = [], []
    for arr, err in items:
        if err is not None and on_error == "raise":
            raise DataError(err)
        arrays.append(arr)
        errors.append(err)
    return arrays, errors


# --------------------------------------------------------------------------- batching

def background_level(arr: np.ndarray) -> int:
    """The image's background grey level: the median of its first and last columns."""
    v = np.sort(np.concatenate([arr[:, 0], arr[:, -1]]))       # == int(np.median(...)), without its overhead
    n = len(v)
    return int(v[n // 2]) if n % 2 else (int(v[n // 2 - 1]) + int(v[n // 2])) // 2


def normalise(batch: np.ndarray, normalisation: dict = NORMALISATION) -> np.ndarray:
    """uint8 pixels → float32 (v / 255 − mean) / std, the same float32 operations as the torch path."""
    x = batch.astype(np.float32)
    x /= np.float32(255.0)
    x -= np.float32(normalisation["mean"])
    x /= np.float32(normalisation["std"])
    return x


def pad_array(arrays: Sequence[np.ndarray], normalisation: dict = NORMALISATION,
              margin: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Stack grey uint8 arrays (same height) into a normalised B×1×H×W float32 array, and their widths.

    Each image is padded on the right with its own background level, to the widest one's width plus
    ``margin`` columns (so every image, a lone one too, has at least ``margin`` of background after it);
    the real widths come back so time steps past an image's end can be ignored.
    """
    h = arrays[0].shape[0]
    widths = np.fromiter((a.shape[1] for a in arrays), dtype=np.int64, count=len(arrays))
    batch = np.empty((len(arrays), 1, h, int(widths.max()) + max(0, int(margin))), dtype=np.uint8)
    for i, a in enumerate(arrays):
        if a.shape[0] != h:
            raise ValueError(f"all images in a batch need height {h}, got {a.shape[0]}")
        batch[i, 0, :, : a.shape[1]] = a
        if a.shape[1] < batch.shape[3]:
            batch[i, 0, :, a.shape[1]:] = background_level(a)
    return normalise(batch, normalisation), widths
