"""Recognise text in images: ``Recognizer.load(model).predict(images)``.

    >>> from digitseq import Recognizer
    >>> rec = Recognizer.load()                      # the shipped digit model; Recognizer.load("ascii"), or a path
    >>> rec.predict("img/test_five_digits/000000.png")
    Prediction(text='00427', confidence=0.998, raw=None)
    >>> [p.text for p in rec.predict(list_of_paths_or_PIL_images_or_arrays)]

Models are named (``digits``, ``ascii``: the weights shipped in ``digitseq/weights/``) or given by
path (a ``.pt`` checkpoint or an exported ``.onnx``). Backends: ``onnx`` runs the ``.onnx`` with
onnxruntime and imports no torch; ``torch`` runs a ``.pt`` checkpoint; ``auto`` (the default) takes
the ``.onnx`` of a named model when onnxruntime is installed, and a path as what it is.

Many files (:meth:`Recognizer.predict_files`) go through a pipeline: readers decode and preprocess
images ahead (forked processes from 256 files on, threads below; see :func:`digitseq.image.use_processes`)
while network threads run width-sorted batches of a bounded window (onnxruntime releases the GIL);
results come back in input order, memory stays flat. Images the model is unsure of are read three or four more
ways, their text line cropped again where that finds it tighter, and, where the model names a partner
(``preprocess.tta_partner``: another model of the same alphabet beside it, such as the shipped ``digits-h48``), once
by that partner from its own input array; the readings are pooled (test-time augmentation, :mod:`digitseq.tta`;
``tta="off"`` reads each once).
"""

from __future__ import annotations

import importlib.util
import io
import os
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from itertools import islice
from pathlib import Path
from typing import NamedTuple

import numpy as np
from PIL import Image

from . import WEIGHTS_DIR
from .codec import Codec, Prediction
from .constraints import ConstrainedCodec
from .errors import CheckpointError, DataError
from .image import (
    NORMALISATION,
    default_workers,
    fit_height,
    iter_loaded,
    open_image,
    pad_array,
    text_region,
)
from .tta import check_mode, check_readings, choose, second_look, tight, unsure

MODEL_NAMES = ("digits", "ascii")
DEFAULT_MODEL = "digits"
BACKENDS = ("auto", "onnx", "torch")


def _installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def resolve_model(model: str | Path | None = None, backend: str = "auto") -> tuple[Path, str]:
    """(weights file, backend) for a model name or path; a one-line :class:`CheckpointError` when impossible."""
    if backend not in BACKENDS:
        raise DataError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    model = DEFAULT_MODEL if model is None else model
    # A shipped model's name means that model, whatever the current folder holds (a folder of one's own data
    # named "digits" must not shadow it); a file or folder of that name is reached as a path: "./digits".
    if isinstance(model, str) and model in MODEL_NAMES:
        onnx_path, pt_path = WEIGHTS_DIR / f"{model}.onnx", WEIGHTS_DIR / f"{model}.pt"
        if not onnx_path.is_file() and not pt_path.is_file():
            raise CheckpointError(f"model {model!r} is not shipped with this copy of digitseq (no {onnx_path.name} or "
                                  f"{pt_path.name} in {WEIGHTS_DIR}); pass a .pt or .onnx path with --model")
        if backend == "auto":
            use_onnx = onnx_path.is_file() and (_installed("onnxruntime") or not pt_path.is_file())
            backend = "onnx" if use_onnx else "torch"
        path = onnx_path if backend == "onnx" else pt_path
        if not path.is_file():
            raise CheckpointError(f"model {model!r} has no {path.name} shipped; try --backend "
                                  f"{'torch' if backend == 'onnx' else 'onnx'}")
        return path, backend
    path = Path(model)
    kind = _file_kind(path)
    if backend == "auto":
        if kind == "onnx":
            backend = "onnx"
        elif not _installed("torch") and path.with_suffix(".onnx").is_file():
            backend = "onnx"   # a .pt without torch: its ONNX export beside it will do
        else:
            backend = "torch"
    if backend == "onnx" and kind == "torch" and path.suffix.lower() in (".pt", ".pth"):
        path = path.with_suffix(".onnx")
        kind = _file_kind(path)
    if backend == "torch" and kind == "onnx":
        raise CheckpointError(f"{path}: an ONNX model runs with --backend onnx (or auto), not torch")
    if not path.exists():
        hint = "" if path.suffix else f" (shipped model names: {', '.join(MODEL_NAMES)})"
        raise CheckpointError(f"{path}: model not found{hint}")
    if kind is None:
        raise CheckpointError(f"{path}: not a model (expected an .onnx file, a .pt checkpoint or a folder holding one)")
    return path, backend


def _file_kind(path: Path) -> str | None:
    """"onnx" or "torch" for what ``path`` holds, by its suffix (any case) or, without a known one, its first
    bytes (a torch checkpoint is a zip archive or a pickle; an ONNX model a protobuf whose first field is its IR
    version); "torch" for a folder (a checkpoint's folder) and for a path that does not exist yet; None for a file
    that is neither."""
    suffix = path.suffix.lower()
    if suffix == ".onnx":
        return "onnx"
    if suffix in (".pt", ".pth") or not path.is_file():
        return "torch"
    try:
        with open(path, "rb") as fh:
            head = fh.read(4)
    except OSError:
        return "torch"      # unreadable: the loader says so in its own words
    if head.startswith(b"PK\x03\x04") or head[:1] == b"\x80":
        return "torch"
    if head[:1] == b"\x08":
        return "onnx"
    return None


class TorchModel:
    """A torch CRNN behind the runtime interface: ``run`` (numpy batch → numpy scores) and ``output_lengths``."""

    backend = "torch"

    def __init__(self, net, device="cpu"):
        self.net = net
        self.device = device

    def run(self, x: np.ndarray) -> np.ndarray:
        import torch

        with torch.inference_mode():
            return self.net(torch.from_numpy(x).to(self.device)).float().cpu().numpy()

    def output_lengths(self, widths) -> np.ndarray:
        import torch

        return self.net.output_lengths(torch.as_tensor(np.asarray(widths))).numpy()


def _runner(model, device="cpu"):
    return model if hasattr(model, "run") else TorchModel(model, device)


class Partner(NamedTuple):
    """A second model in the second look: its runner and preprocessing, and ``fetch(i)``, its own input array for
    image ``i`` of the batch being read (None where there is none). ``every_way``: it reads that array as the second
    look reads the model's (:func:`digitseq.tta.second_look`, the model's ``readings``), not once; ``textline``: its
    arrays are cropped text lines; ``same_input``: its input array is the model's own (the same height, crop and
    edge padding), which it reads instead of decoding the image again."""
    runner: object
    normalisation: dict
    margin: int
    fetch: Callable[[int], np.ndarray | None]
    every_way: bool = False
    textline: bool = False
    same_input: bool = False


PARTNER_LOOKS = ("once", "every way")   # how a partner reads an unsure image; a model says which, the first default


def check_partner_looks(looks, name: str = "preprocess.tta_partner_looks", error: type = CheckpointError) -> str:
    """``looks`` as one of :data:`PARTNER_LOOKS` (None: the first); ``error`` naming ``name`` otherwise."""
    if looks is None:
        return PARTNER_LOOKS[0]
    if looks not in PARTNER_LOOKS:
        raise error(f"{name} must be one of {', '.join(PARTNER_LOOKS)}, got {looks!r}")
    return looks


def predict_batch(runner, codec: Codec, arrays: Sequence[np.ndarray], normalisation: dict = NORMALISATION,
                  beam_width: int = 1, raw: bool = False, margin: int = 0, tta: str = "off",
                  textline: bool = False, readings: str = "four", partner: Partner | None = None) -> list[Prediction]:
    """One forward pass over preprocessed arrays (same height), decoded. ``margin``: columns of background the
    network sees after each image at least (:func:`digitseq.image.pad_array`); its time steps are not decoded.
    ``tta``: "auto" reads the images the model is unsure of more ways, "all" every image
    (:mod:`digitseq.tta`), "off" none; ``textline``: the arrays are cropped text lines (the model's
    preprocessing), so the second look may also crop them again (:func:`digitseq.tta.second_look`);
    ``readings``: how many ways it reads them (:data:`digitseq.tta.READINGS`); ``partner``: a second model
    that reads each of them once more, from its own input array, into the same pool."""
    preds, scores, lengths = _read(runner, codec, arrays, normalisation, margin, beam_width, raw)
    if tta == "off":
        return preds
    if tta == "all":
        again = list(range(len(arrays)))
    else:
        flags = unsure(scores, lengths) | codec.misfits(scores, lengths)   # a reading of the wrong length too
        if textline:                    # an image cut at its text is read again with margins (tta.padded)
            flags |= tight(arrays, skip=flags)
        again = np.flatnonzero(flags).tolist()
    if not again:
        return preds
    looks = [second_look(arrays[i], textline, readings) for i in again]
    mine = _read_groups(runner, codec, looks, normalisation, margin, beam_width, raw)
    theirs: dict[int, tuple[list[Prediction], list[np.ndarray]]] = {}      # image -> the partner's readings
    if partner is not None:
        fetched = {i: arrays[i] for i in again} if partner.same_input else \
            {i: a for i in again if (a := partner.fetch(i)) is not None}
        ways = [[a, *second_look(a, partner.textline, readings)] if partner.every_way else [a]
                for a in fetched.values()]
        theirs = dict(zip(fetched, _read_groups(partner.runner, codec, ways, partner.normalisation, partner.margin,
                                                beam_width, raw)))
    for i, (more_preds, more_scores) in zip(again, mine):
        their_preds, their_scores = theirs.get(i, ([], []))
        preds[i] = choose([preds[i], *more_preds, *their_preds],
                          [scores[i, : int(lengths[i])], *more_scores, *their_scores], codec)
    return preds


def _read_groups(runner, codec: Codec, groups: Sequence[Sequence[np.ndarray]], normalisation: dict, margin: int,
                 beam_width: int, raw: bool) -> list[tuple[list[Prediction], list[np.ndarray]]]:
    """Groups of arrays of one height and any widths, all read together in batches of similar width
    (:data:`SECOND_LOOK_COLUMNS`): for each group, its arrays' predictions and T×C scores (each up to its own
    length), in order."""
    flat = [a for g in groups for a in g]
    preds: list = [None] * len(flat)
    scores: list = [None] * len(flat)
    for idx in width_batches([a.shape[1] for a in flat], 32, SECOND_LOOK_COLUMNS):
        p, s, n = _read(runner, codec, [flat[j] for j in idx], normalisation, margin, beam_width, raw)
        for k, j in enumerate(idx):
            preds[j], scores[j] = p[k], s[k, : int(n[k])]
    out, at = [], 0
    for g in groups:
        out.append((preds[at:at + len(g)], scores[at:at + len(g)]))
        at += len(g)
    return out


def _read(runner, codec: Codec, arrays: Sequence[np.ndarray], normalisation: dict, margin: int, beam_width: int,
          raw: bool) -> tuple[list[Prediction], np.ndarray, np.ndarray]:
    """One forward pass over arrays of one height: their decoded predictions, the B×T×C scores and the lengths."""
    x, widths = pad_array(arrays, normalisation, margin)
    scores, lengths = codec.restrict(runner.run(x)), runner.output_lengths(widths)
    return codec.decode_scores(scores, lengths, beam_width, raw), scores, lengths


KEEP_CROPS = 4096    # Recognizer.predict keeps the crops of at most this many images for the partner
SECOND_LOOK_COLUMNS = 32 * 640   # the second look's batches: 32 images up to 640 wide, fewer of wider ones


def width_batches(widths: Sequence[int], batch_size: int, columns: int | None = None) -> list[list[int]]:
    """Indices in order of width (stable), cut into batches of at most ``batch_size``, and, when ``columns`` is
    given, of at most ``columns`` columns once padded to the batch's widest image (one image at least)."""
    order = np.argsort(np.asarray(widths), kind="stable").tolist()
    if columns is None:
        return [order[s:s + batch_size] for s in range(0, len(order), batch_size)]
    batches: list[list[int]] = [[]]
    for i in order:       # widths ascend, so the image being added is the batch's widest
        b = batches[-1]
        if b and (len(b) >= batch_size or (len(b) + 1) * widths[i] > columns):
            batches.append(b := [])
        b.append(i)
    return batches if batches[0] else []


def predict_arrays(model, codec: Codec, arrays: Sequence[np.ndarray], batch_size: int = 128,
                   normalisation: dict | None = None, beam_width: int = 1, raw: bool = False,
                   device="cpu", margin: int = 0, tta: str = "off", textline: bool = False,
                   readings: str = "four", columns: int | None = None, partner: Partner | None = None
                   ) -> list[Prediction]:
    """Predict preprocessed grey arrays, batching images of similar width; results in input order.
    ``tta``, ``textline``, ``readings``: as :func:`predict_batch`; ``partner`` too, its ``fetch(i)`` giving its
    input for ``arrays[i]``. ``columns``: a batch also ends before its
    images, padded to the widest, would hold more than this many columns (so a few very wide ones do not make the
    runtime allocate for ``batch_size`` of them); None: by count only.

    ``model`` is a torch CRNN (put in eval mode for the call) or a runtime model such as
    :class:`digitseq.runtime.OnnxModel`.
    """
    normalisation = normalisation or NORMALISATION
    runner = _runner(model, device)
    was_training = getattr(model, "training", False)
    if was_training:
        model.eval()
    try:
        widths = [a.shape[1] for a in arrays]
        out: list[Prediction | None] = [None] * len(arrays)
        for idx in width_batches(widths, batch_size, columns):
            for i, p in zip(idx, predict_batch(runner, codec, [arrays[i] for i in idx], normalisation, beam_width, raw,
                                               margin, tta, textline, readings, _in_batch(partner, idx))):
                out[i] = p
    finally:
        if was_training:
            model.train(True)
    return out  # type: ignore[return-value]


def _own_partner(path: Path, preprocess: dict) -> Path | None:
    """The file of the partner a model's preprocessing names (``tta_partner``): beside the model at ``path``, with
    its suffix; None where it names none."""
    name = preprocess.get("tta_partner")
    return path.with_name(f"{name}{path.suffix}") if name else None


def _load_partner(partner, path: Path, preprocess: dict, device: str, backend: str, threads: int | None,
                  tta, textline: bool | None, pad_edges: bool = False) -> Recognizer | None:
    """The partner :meth:`Recognizer.load` gives a model at ``path`` (see there; ``textline`` overrides its
    preprocessing as the model's, ``pad_edges`` is the model's); None for none."""
    if partner == "off" or check_mode(tta) == "off":
        return None
    if partner is None:      # the model's own: the file beside it, run as the model is
        partner = _own_partner(path, preprocess)
        if partner is None or not partner.is_file():
            return None
    else:                    # one given: run as what it is
        backend = "auto"
    return Recognizer.load(partner, device, backend, textline=textline, threads=threads, tta="off", partner="off",
                           pad_edges=pad_edges)


def _in_batch(partner: Partner | None, idx: Sequence[int]) -> Partner | None:
    """``partner`` with its ``fetch`` taking positions in a batch of the images ``idx``."""
    if partner is None:
        return None
    return partner._replace(fetch=lambda k, fetch=partner.fetch, idx=idx: fetch(idx[k]))


class Recognizer:
    """A loaded CRNN with its alphabet and preprocessing, ready to read images."""

    def __init__(self, model, alphabet: str, input_height: int, normalisation: dict, device: str = "cpu",
                 checkpoint: dict | None = None, textline: bool | None = None, workers: int | None = None,
                 margin: int | None = None, tta: str | bool = "auto", readings: str | None = None,
                 partner: Recognizer | None = None, pad_edges: bool = False, length=None, chars: str | None = None):
        if hasattr(model, "to") and not hasattr(model, "run"):   # a torch module
            model = model.to(device).eval()
        self.model = model
        self.runner = _runner(model, device)
        self.codec = Codec(alphabet)
        self.constrain(length, chars)
        self.input_height = input_height
        self.normalisation = normalisation
        self.device = device
        self.checkpoint = checkpoint or {}
        own = self.checkpoint.get("preprocess") or {}   # how the model says it is read
        if textline is None:   # as the model was trained
            textline = own.get("textline", False)
        self.textline = bool(textline)
        self.pad_edges = bool(pad_edges)   # the text-line crop gives a line cut out at its text its margins
        if self.pad_edges and not self.textline:
            raise DataError("--pad-edges (pad_edges) gives the text-line crop its margins, and the crop is off here "
                            "(--no-textline / textline=False, or a model trained without it)")
        if margin is None:     # as the model says (preprocess "margin"; absent: none)
            margin = own.get("margin", 0)
        self.margin = int(margin)
        if readings is None:   # as the model says (preprocess "tta_readings"; absent: the default)
            readings = own.get("tta_readings")
        self.readings = check_readings(readings)
        self.workers = workers
        self.tta = check_mode(tta)
        if partner is not None and partner.alphabet != alphabet:
            raise CheckpointError(f"the partner model reads {partner.alphabet!r}, this one {alphabet!r}: a partner "
                                  "must read the same alphabet")
        self.partner = partner      # a second model in the second look (None: none)
        self.partner_missing: str | None = None     # the file of a partner the model names, where load() found none
        # the partner reads an unsure image once, or every way the model does
        self.partner_looks = check_partner_looks(own.get("tta_partner_looks"))

    @classmethod
    def load(cls, model: str | Path | None = None, device: str = "cpu", backend: str = "auto",
             textline: bool | None = None, threads: int | None = None, margin: int | None = None,
             tta: str | bool = "auto", readings: str | None = None, partner: str | Path | None = None,
             pad_edges: bool = False, length=None, chars: str | None = None) -> Recognizer:
        """Load a model by name (``"digits"``, the default, or ``"ascii"``) or by path (``.pt`` or ``.onnx``).

        ``textline`` and ``margin`` (columns of background after each image, :func:`predict_batch`) override the
        model's own preprocessing settings (None: the model's).
        ``threads``: image readers for :meth:`predict_files` (default one per core, 2 to 8);
        onnxruntime gets a quarter as many intra-op threads (at least one: on 2 cores the network has one
        core and the decoding the other). ``tta``: "auto" (default) reads images the model is unsure of more
        ways and pools the readings, "all" every image, "off" none (:mod:`digitseq.tta`); ``readings``: how many
        ways ("four" or "seven"; None: the model's own ``tta_readings``, else "four"). ``partner``: a second model
        of the same alphabet that reads each unsure image once more, from its own input array, into the second
        look's pool: a name or path as ``model``, "off" for none, None for the model's own (its preprocessing's
        ``tta_partner``, a file name beside the model with the same suffix; none where that file is absent).
        Not loaded with ``tta="off"``. ``pad_edges``: for images cut out at their text (a field cut from a form, a
        detector's box): where the text line touches three or four edges of the image, the crop gives it its usual
        margins, filled with the background (:func:`digitseq.textline.crop_to_text`); off by default, because images
        whose text fills them for other reasons (captchas) read worse so (docs/READING.md#pad-edges).
        ``length`` (5, "4-6", "8-" or (4, 6)) and ``chars`` (a string of the model's characters): read only texts of
        that length and of those characters (:mod:`digitseq.constraints`); None: any. Where the model names a
        partner whose file is not beside it (a model copied or exported alone), :attr:`partner_missing` says which
        file (the command line prints a note); it is read without one.
        """
        rec = cls._load(model, device, backend, textline, threads, margin, tta, readings, partner, pad_edges, length,
                        chars)
        own = _own_partner(Path(rec.checkpoint.get("path", "")), rec.checkpoint.get("preprocess") or {})
        if partner is None and own is not None and rec.partner is None and rec.tta != "off":
            rec.partner_missing = str(own)
        return rec

    @classmethod
    def _load(cls, model, device, backend, textline, threads, margin, tta, readings, partner, pad_edges, length,
              chars) -> Recognizer:
        if threads is not None and threads < 1:
            raise DataError(f"threads must be >= 1 (or None for one per core), got {threads}")
        if margin is not None and margin < 0:
            raise DataError(f"margin must be >= 0 (or None for the model's own), got {margin}")
        path, backend = resolve_model(model, backend)
        if backend == "onnx":
            from .runtime import OnnxModel

            net = OnnxModel(path, threads=max(1, (threads or os.cpu_count() or 1) // 4))
            use_textline = bool(net.preprocess.get("textline", False)) if textline is None else textline
            return cls(net, net.alphabet, net.input_height, net.normalisation, "cpu",
                       {"path": net.path, "backend": "onnx", "preprocess": {**net.preprocess, "textline": use_textline}},
                       textline=use_textline, workers=threads, margin=margin, tta=tta, readings=readings,
                       partner=_load_partner(partner, path, net.preprocess, device, backend, threads, tta, textline,
                                             pad_edges), pad_edges=pad_edges, length=length, chars=chars)
        if not _installed("torch"):
            raise CheckpointError(f"{path}: a PyTorch checkpoint needs torch (pip install 'digitseq[train]'); "
                                  "or use an exported .onnx model")
        from .models import load_checkpoint, model_from_checkpoint

        ckpt = load_checkpoint(path)
        if ckpt["kind"] != "crnn":
            raise CheckpointError(f"{ckpt['path']}: a {ckpt['kind']} checkpoint, not a CRNN")
        meta = {k: v for k, v in ckpt.items() if k not in ("state_dict", "optimizer", "scheduler", "history", "steps")}
        use_textline = bool((ckpt.get("preprocess") or {}).get("textline", False)) if textline is None else textline
        meta["backend"] = "torch"
        return cls(model_from_checkpoint(ckpt), ckpt["alphabet"], ckpt["input_height"], ckpt["normalisation"],
                   device, meta, textline=use_textline, workers=threads, margin=margin, tta=tta, readings=readings,
                   partner=_load_partner(partner, path, ckpt.get("preprocess") or {}, device, backend, threads, tta,
                                         textline, pad_edges), pad_edges=pad_edges, length=length, chars=chars)

    @property
    def alphabet(self) -> str:
        return self.codec.alphabet

    def constrain(self, length=None, chars: str | None = None) -> Recognizer:
        """Read only texts of ``length`` (5, "4-6", "8-" or (4, 6)) and of the characters ``chars`` (a string of the
        model's alphabet) from now on; None for any (both None: no constraint). Each call replaces the constraint
        whole: ``constrain(length=6)`` after ``chars="0123"`` reads any character again. Returns the recogniser itself.
        See :mod:`digitseq.constraints`."""
        alphabet = self.codec.alphabet
        self.codec = Codec(alphabet) if length is None and chars is None else ConstrainedCodec(alphabet, chars, length)
        return self

    @property
    def backend(self) -> str:
        return self.runner.backend

    def prepare(self, image) -> np.ndarray:
        """A path, PIL image, numpy array or an encoded image's bytes → the model's grey input array."""
        return fit_height(self._region(image), self.input_height)

    def _region(self, image) -> Image.Image:
        """What :meth:`prepare` resizes: the grey image, cropped to its text line where the model reads so."""
        if isinstance(image, (str, Path)):
            image = open_image(image, grey=True)
        elif isinstance(image, (bytes, bytearray, memoryview)):
            image = open_image(io.BytesIO(image))
        if isinstance(image, (Image.Image, np.ndarray)):
            return text_region(image, self.textline, self.pad_edges)
        raise DataError(f"cannot read an image from a {type(image).__name__}")

    def predict(self, images, batch_size: int = 128, beam_width: int = 1, raw: bool = False):
        """Read one image (→ one Prediction) or a list of them (→ a list, same order).

        One image: a path, a PIL image, an encoded image's bytes, or an array H×W, H×W×C (C = 1-4 channels);
        a list (or any iterable) of those, or an N×H×W array of N grey images, gives a list."""
        if batch_size < 1:
            raise DataError(f"batch_size must be >= 1, got {batch_size}")
        single = isinstance(images, (str, Path, Image.Image, bytes, bytearray, memoryview)) or (
            isinstance(images, np.ndarray) and images.ndim <= 3
            and not (images.ndim == 3 and images.shape[-1] not in (1, 2, 3, 4)))
        # Nothing else runs beside the network here: an ONNX model gets its session with two threads.
        runner = self.runner.alone() if hasattr(self.runner, "alone") else self.runner
        if not single:
            images = list(images)
        # the partner reads an unsure image from its crop, not decoded again (up to KEEP_CROPS images: a crop is
        # a few times its input array, and predict_files is the way for many files)
        keep = self._shares_crop() and (single or len(images) <= KEEP_CROPS)
        arrays, kept = [], []
        for im in [images] if single else images:
            region = self._region(im)
            arrays.append(fit_height(region, self.input_height))
            if keep:
                kept.append(np.asarray(region))
        crops = kept.__getitem__ if keep else None
        if single:
            return predict_batch(runner, self.codec, arrays, self.normalisation, beam_width, raw, self.margin,
                                 self.tta, self.textline, self.readings,
                                 self._partner(lambda i: images, alone=True, crops=crops))[0]
        return predict_arrays(runner, self.codec, arrays, batch_size, self.normalisation, beam_width, raw,
                              margin=self.margin, tta=self.tta, textline=self.textline, readings=self.readings,
                              partner=self._partner(images.__getitem__, alone=True, crops=crops))

    def _partner(self, source: Callable[[int], object], alone: bool = False,
                 crops: Callable[[int], np.ndarray | None] | None = None) -> Partner | None:
        """:attr:`partner` for :func:`predict_batch`, reading image ``i`` from ``source(i)`` (a path, PIL image or
        array); ``alone``: nothing runs beside it (an ONNX partner gets its two-thread session); ``crops(i)``: the
        grey text-line crop the model's own input for image ``i`` was resized from, where :meth:`_shares_crop` (the
        partner's input is that crop at its own height: the file is not decoded and cropped again)."""
        other = self.partner
        if other is None or self.tta == "off":
            return None
        runner = other.runner.alone(spinning=False) if alone and hasattr(other.runner, "alone") else other.runner

        def fetch(i: int) -> np.ndarray | None:
            crop = crops(i) if crops is not None else None
            if crop is not None:
                return fit_height(Image.fromarray(crop), other.input_height)
            try:
                return other.prepare(source(i))
            except DataError:
                return None

        same = (other.input_height, other.textline, other.pad_edges) == (self.input_height, self.textline,
                                                                          self.pad_edges)
        return Partner(runner, other.normalisation, other.margin, fetch, self.partner_looks == "every way",
                       other.textline, same)

    def _shares_crop(self) -> bool:
        """The partner (if the second look reads with one) crops images as this model does, at another height: its
        input can be made from this model's crop, without decoding the file again (:meth:`_partner`)."""
        other = self.partner
        return (other is not None and self.tta != "off" and other.input_height != self.input_height
                and (other.textline, other.pad_edges) == (self.textline, self.pad_edges))

    def predict_files(self, paths: Sequence[str | Path], batch_size: int = 32, beam_width: int = 1,
                      raw: bool = False, progress: bool = False, window: int = 512
                      ) -> Iterator[tuple[Path | str, Prediction | None, str | None]]:
        """Read many files, going on past unreadable ones. Yields (path, Prediction | None, error | None) in order.

        Readers decode images ahead; each ``window`` of them is sorted by width into batches of
        ``batch_size`` that network threads run (onnxruntime sessions take concurrent runs), while the
        readers go on with the next window. Whichever work is waiting gets the cores, so they stay busy
        to the last image, and memory stays bounded (two windows in flight, ``2 × window`` read ahead).
        """
        from concurrent.futures import ThreadPoolExecutor

        if batch_size < 1 or window < 1:
            raise DataError(f"batch_size and window must be >= 1, got {batch_size} and {window}")
        paths = list(paths)
        window = max(window, batch_size)
        share = self._shares_crop()      # readers keep each image's crop for the partner's second look
        items = iter_loaded(paths, self.input_height, self.textline, self.workers or default_workers(),
                            ahead=2 * window, pad_edges=self.pad_edges, keep_crop=share)
        bar = None
        if progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=len(paths), desc="recognize", unit="img")
        in_flight: deque = deque()   # (first index, loaded window, [(indices, future of predictions)])
        net = ThreadPoolExecutor(self.network_threads(), thread_name_prefix="digitseq-net")

        def finish(start, loaded, jobs):
            by_index = {}
            for idx, future in jobs:
                by_index.update(zip(idx, future.result()))
            for i, item in enumerate(loaded):
                yield paths[start + i], by_index.get(i), item[1]
            if bar is not None:
                bar.update(len(loaded))

        try:
            for start in range(0, len(paths), window):
                loaded = list(islice(items, window))
                ok = [i for i, item in enumerate(loaded) if item[0] is not None]
                ok.sort(key=lambda i: loaded[i][0].shape[1])
                jobs = []
                for s in range(0, len(ok), batch_size):
                    idx = ok[s:s + batch_size]
                    jobs.append((idx, net.submit(predict_batch, self.runner, self.codec, [loaded[i][0] for i in idx],
                                                 self.normalisation, beam_width, raw, self.margin, self.tta,
                                                 self.textline, self.readings,
                                                 _in_batch(self._partner(
                                                     lambda i, s=start: paths[s + i],
                                                     crops=(lambda i, got=loaded: got[i][2]) if share else None),
                                                     idx))))
                in_flight.append((start, loaded, jobs))
                if len(in_flight) > 1:
                    yield from finish(*in_flight.popleft())
            while in_flight:
                yield from finish(*in_flight.popleft())
        finally:
            for _, _, jobs in in_flight:
                for _, future in jobs:
                    future.cancel()
            net.shutdown(wait=True)
            items.close()
            if bar is not None:
                bar.close()

    def network_threads(self) -> int:
        """Threads that run batches at once: two for onnxruntime (one core each), one for torch (it has its own)."""
        return 2 if self.backend == "onnx" and (os.cpu_count() or 1) >= 2 else 1
