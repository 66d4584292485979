"""Write a folder of rendered images plus ``labels.csv``, in parallel, deterministic per seed.

Image ``i`` is drawn from its own generator seeded with ``(seed, i)``, so the output does not
depend on the number of worker processes. Besides ``labels.csv`` (``filename,label``) the folder
gets ``sources.csv`` (which font drew each image) and ``meta.json`` (the settings used).
"""

from __future__ import annotations

import csv
import json
import os
import re
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from . import DIGITS
from .errors import DataError, make_folder
from .fonts import FontInfo, families, load_fonts
from .render import RenderStyle, render

LABELS = "labels.csv"


@dataclass(frozen=True)
class Sample:
    filename: str
    label: str
    font: str
    family: str


def random_label(rng: np.random.Generator, alphabet: str, min_length: int, max_length: int) -> str:
    n = int(rng.integers(min_length, max_length + 1))
    return "".join(alphabet[i] for i in rng.integers(0, len(alphabet), size=n))


def family_weights(by_family: list[list[FontInfo]], balance: float) -> np.ndarray:
    """The chance of drawing each family: ``n ** -balance`` for a family whose style category (``fonts.csv``'s
    ``category``) has ``n`` families in the pool, normalised. 0: every family alike (a category's share follows its
    size); 1: every category alike; 0.5 between (a category's share grows as the square root of its size)."""
    cats = [fam[0].category or "other" for fam in by_family]
    size = Counter(cats)
    w = np.array([size[c] ** -float(balance) for c in cats])
    return w / w.sum()


def draw_label(index: int, seed: int, fonts: list[FontInfo], alphabet: str, min_length: int,
               max_length: int, balance: float = 0.0) -> tuple[str, FontInfo, np.random.Generator]:
    """(label, font, rng) of sample ``index``: a family (uniformly, or weighted by :func:`family_weights` where
    ``balance`` > 0), then one of its files, then the label.

    The returned generator continues where these draws stopped, ready for rendering.
    """
    rng = np.random.default_rng([seed, index])
    by_family = list(families(fonts).values())
    if balance:
        family = by_family[int(rng.choice(len(by_family), p=family_weights(by_family, balance)))]
    else:   # the draw every set before balance was drawn with (the same images for the same seed)
        family = by_family[int(rng.integers(len(by_family)))]
    font = family[int(rng.integers(len(family)))]
    return random_label(rng, alphabet, min_length, max_length), font, rng


def draw_sample(index: int, seed: int, fonts: list[FontInfo], alphabet: str, min_length: int,
                max_length: int, style: RenderStyle, balance: float = 0.0):
    """(label, font, image) of sample ``index``; mixed-font samples borrow from the other ``fonts``."""
    label, font, rng = draw_label(index, seed, fonts, alphabet, min_length, max_length, balance)
    others = [f.path for f in fonts if f.path != font.path]
    return label, font, render(label, font.path, style, rng, alt_fonts=others)


def _work(args) -> list[Sample]:
    start, stop, out_dir, seed, fonts, alphabet, min_length, max_length, style, width, balance = args
    done = []
    for i in range(start, stop):
        label, font, img = draw_sample(i, seed, fonts, alphabet, min_length, max_length, style, balance)
        name = f"{i:0{width}d}.png"
        img.save(os.path.join(out_dir, name), compress_level=1)
        done.append(Sample(name, label, os.path.basename(font.path), font.family))
    return done


DRAWN = re.compile(r"\d{6,}\.png")     # the image names generate writes (000000.png, ...)


def _check_draw(min_length: int, max_length: int, alphabet: str) -> None:
    """A clear :class:`DataError` for lengths or an alphabet no string can be drawn from."""
    if not 1 <= min_length <= max_length:
        raise DataError(f"lengths must satisfy 1 <= min <= max, got {min_length}..{max_length}")
    if not isinstance(alphabet, str) or not alphabet or len(set(alphabet)) != len(alphabet):
        raise DataError(f"alphabet must be non-empty with no repeated characters, got {alphabet!r}")


def _style(style: RenderStyle | str) -> RenderStyle:
    try:
        return RenderStyle.named(style) if isinstance(style, str) else style
    except ValueError as exc:
        raise DataError(str(exc)) from None


def _balance(balance) -> float:
    try:
        value = float(balance)
    except (TypeError, ValueError):
        value = float("nan")
    if not 0.0 <= value <= 1.0:     # nan fails too
        raise DataError(f"balance must be a number from 0 to 1, got {balance!r}")
    return value


def _remove_drawn(out: Path) -> None:
    """Remove an earlier draw's files from ``out`` (its labels.csv, sources.csv, meta.json and NNNNNN.png images),
    and nothing else; refused where the labels.csv is not a draw's (no meta.json beside it): a user's own data."""
    if not (out / "meta.json").is_file():
        raise DataError(f"{out / LABELS} was not written by generate (no meta.json beside it); choose another "
                        "folder: --force replaces only an earlier draw")
    for p in out.iterdir():
        if (p.name in (LABELS, "sources.csv", "meta.json") or DRAWN.fullmatch(p.name)) and (p.is_file() or p.is_symlink()):
            p.unlink()


def generate(out_dir: str | Path, count: int, *, min_length: int = 5, max_length: int | None = None,
             fonts: list[FontInfo] | None = None, font_dir: str | Path | None = None, split: str = "train",
             style: RenderStyle | str = "augmented", seed: int = 0, alphabet: str = DIGITS,
             workers: int | None = None, overwrite: bool = False, progress: bool = True,
             balance: float = 0.0) -> Path:
    """Render ``count`` images of random labels into ``out_dir``; returns the path of labels.csv.

    Fonts come from ``fonts`` or else ``font_dir``'s ``split``, limited to those that draw every
    character of ``alphabet``; each image's family is drawn uniformly, or with ``balance`` > 0 favouring families
    of rarer style categories (:func:`family_weights`). An existing draw (``labels.csv`` with generate's ``meta.json``) is only replaced with
    ``overwrite=True``, and then only its own files are removed (a folder's other files and subfolders stay); a
    ``labels.csv`` of someone's own data is never replaced.
    """
    max_length = min_length if max_length is None else max_length
    if count < 1:
        raise DataError(f"count must be >= 1, got {count}")
    _check_draw(min_length, max_length, alphabet)
    if workers is not None and workers < 1:
        raise DataError(f"workers must be >= 1 (or None for one per core), got {workers}")
    style = _style(style)
    balance = _balance(balance)
    if fonts is None:
        fonts = load_fonts(font_dir, split=split, alphabet=alphabet)
    if not fonts:
        raise DataError("no fonts to render with")
    out = Path(out_dir)
    width = max(6, len(str(count - 1)))
    if (out / LABELS).exists():
        if not overwrite:
            raise DataError(f"{out / LABELS} exists; pass --force (overwrite=True) to replace it")
        _remove_drawn(out)
    elif out.is_dir() and not overwrite:     # someone's own files: refuse to draw over any of them
        names = {f"{i:0{width}d}.png" for i in range(count)} | {"sources.csv", "meta.json"}
        clash = sorted(p.name for p in out.iterdir() if p.name in names)
        if clash:
            raise DataError(f"{out / clash[0]} exists ({len(clash)} file{'s' if len(clash) > 1 else ''} this would "
                            "overwrite); choose a new folder, or pass --force (overwrite=True)")
    if out.exists() and not out.is_dir():
        raise DataError(f"{out}: a file, not a folder")
    make_folder(out, error=DataError)     # a one-line error where a file stands where a folder above it should be

    workers = workers or os.cpu_count() or 1
    chunk = max(50, min(1000, count // (workers * 8) or 1))
    jobs = [(a, min(a + chunk, count), str(out), seed, fonts, alphabet, min_length, max_length, style, width, balance)
            for a in range(0, count, chunk)]
    samples: list[Sample] = []
    bar = tqdm(total=count, desc=f"generate {out.name}", unit="img", disable=not progress)
    if workers == 1:
        results = map(_work, jobs)
    else:
        pool = ProcessPoolExecutor(workers)
        results = pool.map(_work, jobs)
    try:
        for batch in results:
            samples.extend(batch)
            bar.update(len(batch))
    finally:
        bar.close()
        if workers != 1:
            pool.shutdown()

    # labels.csv last: a folder with it is a whole draw, and its meta.json says it is generate's (_remove_drawn)
    meta = {"count": count, "min_length": min_length, "max_length": max_length, "alphabet": alphabet,
            "seed": seed, "split": split, "fonts": sorted({s.font for s in samples}),
            "families": sorted({f.family for f in fonts}), "style": style.to_dict(), "balance": balance}
    (out / "meta.json").write_text(json.dumps(meta, indent=1))
    _write_csv(out / "sources.csv", ["filename", "font", "family"], [(s.filename, s.font, s.family) for s in samples])
    _write_csv(out / LABELS, ["filename", "label"], [(s.filename, s.label) for s in samples])
    return out / LABELS


def generate_sets(datasets: dict, img_dir: str | Path, *, seed: int = 0, style: str = "augmented",
                  alphabet: str = DIGITS, font_dir: str | Path | None = None, workers: int | None = None,
                  log=print, only=None) -> dict[str, float]:
    """Notebook 1's sets: ``datasets`` maps a set's name to ``(images, min length, max length, font split[, style
    [, balance]])``; each is drawn into ``img_dir/<name>`` (replacing what is there) with seed ``seed + 1000 * i``,
    ``i`` its position in ``datasets``, so a set's images follow from the seed and its place in the dict (the
    held-out sets keep theirs across presets). ``only``: names of the sets to draw (the others are skipped, their
    positions still count). Returns the seconds each took; ``log`` gets one line a set."""
    import time

    if only is not None:
        only = [only] if isinstance(only, str) else list(only)
        unknown = [name for name in only if name not in datasets]
        if unknown:
            raise DataError(f"no set named {unknown[0]!r} in datasets (sets: {', '.join(datasets)})")
    timings = {}
    for i, (name, (count, lo, hi, split, *own)) in enumerate(datasets.items()):
        if only is not None and name not in only:
            continue
        t0 = time.time()
        drawn_in = own[0] if own else style
        generate(Path(img_dir) / name, count, min_length=lo, max_length=hi, font_dir=font_dir, split=split,
                 style=drawn_in, seed=seed + 1000 * i, alphabet=alphabet, workers=workers, overwrite=True,
                 progress=False, balance=own[1] if len(own) > 1 else 0.0)
        timings[name] = time.time() - t0
        log(f"{name:18} {count:6} images  lengths {lo}-{hi}  {split:5} fonts  {drawn_in:9}  "
            f"{timings[name]:5.1f}s  ({count / timings[name]:.0f} images/s)")
    return timings


def _write_csv(path: Path, header: list[str], rows) -> None:
    tmp = path.with_suffix(".csv.tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    os.replace(tmp, path)


class RenderedDataset:
    """A training set that renders sample ``i`` on demand — in the DataLoader workers — instead of
    reading it from disk: for runs of millions of images. Sample ``i`` is exactly image ``i`` of
    :func:`generate` with the same arguments, preprocessed for the model.

        >>> train = RenderedDataset(1_000_000, min_length=1, max_length=20, seed=7)
        >>> train_crnn(train, val, "runs/big/crnn.pt", TrainConfig(workers=2), alphabet="0123456789")

    With ``fresh=True`` every epoch draws new samples (epoch ``e`` uses seed ``seed + 100003·e``):
    ``count`` is then the epoch size, and the network never sees the same image twice.
    """

    def __init__(self, count: int, *, min_length: int = 5, max_length: int | None = None,
                 fonts: list[FontInfo] | None = None, font_dir: str | Path | None = None, split: str = "train",
                 style: RenderStyle | str = "augmented", seed: int = 0, alphabet: str = DIGITS, height: int = 32,
                 reduction: int = 4, textline: bool = False, fresh: bool = False, balance: float = 0.0):
        self.count, self.seed, self.alphabet, self.fresh = count, seed, alphabet, fresh
        self.balance = _balance(balance)
        self.min_length, self.max_length = min_length, max_length if max_length is not None else min_length
        _check_draw(self.min_length, self.max_length, alphabet)
        self.fonts = fonts if fonts is not None else load_fonts(font_dir, split=split, alphabet=alphabet)
        self.style = _style(style)
        self.height, self.reduction, self.textline = height, reduction, textline
        self.augment, self.epoch = False, 0   # the renderer already varies every sample
        self._labels: list[str] | None = None

    def __len__(self) -> int:
        return self.count

    def _seed(self) -> int:
        return self.seed + 100003 * self.epoch if self.fresh else self.seed

    @property
    def widths(self) -> list[int]:
        """The label lengths of this epoch's samples: a proxy for their widths (drawn without rendering), so
        that batches hold strings of similar length and little compute goes into padding."""
        return [len(draw_label(i, self._seed(), self.fonts, self.alphabet, self.min_length, self.max_length,
                               self.balance)[0])
                for i in range(self.count)]

    @property
    def labels(self) -> list[str]:
        """Every sample's label, drawn without rendering (computed once, on first use)."""
        if self._labels is None:
            self._labels = [draw_label(i, self.seed, self.fonts, self.alphabet, self.min_length, self.max_length,
                                       self.balance)[0]
                            for i in range(self.count)]
        return self._labels

    def __getitem__(self, i: int):
        from .data import preprocess, stretch_for_label

        label, _, img = draw_sample(i, self._seed(), self.fonts, self.alphabet, self.min_length, self.max_length,
                                   self.style, self.balance)
        arr = preprocess(img, self.height, textline=self.textline)
        return stretch_for_label(arr, len(label), self.reduction), label
