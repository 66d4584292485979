"""Recognise text in images with a trained checkpoint: ``Recognizer.load(path).predict(images)``.

    >>> from digitseq import Recognizer
    >>> rec = Recognizer.load()                      # the shipped Model/CRNN weights
    >>> rec.predict("img/test_five_digits/000000.png")
    Prediction(text='00427', confidence=0.998, raw=None)
    >>> [p.text for p in rec.predict(list_of_paths_or_PIL_images_or_arrays)]
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from . import DEFAULT_CRNN
from .codec import Codec, Prediction
from .data import load, pad_batch, preprocess
from .errors import CheckpointError, DataError
from .models import load_checkpoint, model_from_checkpoint


@torch.inference_mode()
def predict_arrays(model: torch.nn.Module, codec: Codec, arrays: Sequence[np.ndarray], batch_size: int = 128,
                   normalisation: dict | None = None, beam_width: int = 1, raw: bool = False,
                   device: str | torch.device = "cpu") -> list[Prediction]:
    """Predict preprocessed grey arrays, batching images of similar width; results in input order."""
    from .data import NORMALISATION

    normalisation = normalisation or NORMALISATION
    was_training = model.training
    model.eval()
    order = np.argsort([a.shape[1] for a in arrays], kind="stable")
    out: list[Prediction | None] = [None] * len(arrays)
    for s in range(0, len(order), batch_size):
        idx = order[s:s + batch_size]
        x, widths = pad_batch([arrays[i] for i in idx], normalisation)
        log_probs = model(x.to(device)).log_softmax(-1).float()
        preds = codec.decode(log_probs, model.output_lengths(widths), beam_width, raw)
        for i, p in zip(idx, preds):
            out[i] = p
    model.train(was_training)
    return out  # type: ignore[return-value]


class Recognizer:
    """A loaded CRNN with its alphabet and preprocessing, ready to read images."""

    def __init__(self, model: torch.nn.Module, alphabet: str, input_height: int, normalisation: dict,
                 device: str = "cpu", checkpoint: dict | None = None):
        self.model = model.to(device).eval()
        self.codec = Codec(alphabet)
        self.input_height = input_height
        self.normalisation = normalisation
        self.device = device
        self.checkpoint = checkpoint or {}

    @classmethod
    def load(cls, path: str | Path | None = None, device: str = "cpu", backend: str = "torch") -> Recognizer:
        """Load a CRNN checkpoint (default: the shipped ``Model/CRNN/crnn.pt``).

        ``backend="onnx"`` runs an exported ``.onnx`` file with onnxruntime instead (default: the
        shipped ``Model/CRNN/crnn.onnx``; a ``.pt`` path is taken to mean the ``.onnx`` beside it).
        """
        if backend == "onnx":
            from .export import OnnxModel

            onnx_path = Path(path if path is not None else DEFAULT_CRNN)
            onnx_path = onnx_path.with_suffix(".onnx") if onnx_path.suffix == ".pt" else onnx_path
            model = OnnxModel(onnx_path)
            return cls(model, model.alphabet, model.input_height, model.normalisation, "cpu",
                       {"path": model.path, "backend": "onnx"})
        if backend != "torch":
            raise DataError(f"backend must be 'torch' or 'onnx', got {backend!r}")
        ckpt = load_checkpoint(path if path is not None else DEFAULT_CRNN)
        if ckpt["kind"] != "crnn":
            raise CheckpointError(f"{ckpt['path']}: a {ckpt['kind']} checkpoint, not a CRNN")
        meta = {k: v for k, v in ckpt.items() if k not in ("state_dict", "optimizer", "scheduler")}
        return cls(model_from_checkpoint(ckpt), ckpt["alphabet"], ckpt["input_height"], ckpt["normalisation"],
                   device, meta)

    @property
    def alphabet(self) -> str:
        return self.codec.alphabet

    def prepare(self, image) -> np.ndarray:
        """A path, PIL image or numpy array → the model's grey input array."""
        if isinstance(image, (str, Path)):
            return load(image, self.input_height)
        if isinstance(image, (Image.Image, np.ndarray)):
            return preprocess(image, self.input_height)
        raise DataError(f"cannot read an image from a {type(image).__name__}")

    def predict(self, images, batch_size: int = 128, beam_width: int = 1, raw: bool = False):
        """Read one image (→ one Prediction) or a list of them (→ a list, same order)."""
        single = isinstance(images, (str, Path, Image.Image)) or (isinstance(images, np.ndarray) and images.ndim <= 3
                                                                   and not (images.ndim == 3 and images.shape[-1] not in (1, 3, 4)))
        items = [images] if single else list(images)
        arrays = [self.prepare(im) for im in items]
        preds = predict_arrays(self.model, self.codec, arrays, batch_size, self.normalisation, beam_width, raw,
                               self.device)
        return preds[0] if single else preds

    def predict_files(self, paths: Sequence[str | Path], batch_size: int = 128, beam_width: int = 1,
                      raw: bool = False, progress: bool = False):
        """Read many files, going on past unreadable ones. Yields (path, Prediction | None, error | None)."""
        from .data import load_many

        for s in range(0, len(paths), 4096):  # bounded memory on huge folders
            chunk = list(paths[s:s + 4096])
            arrays, errors = load_many(chunk, self.input_height, on_error="skip", progress=progress)
            ok = [i for i, a in enumerate(arrays) if a is not None]
            preds = predict_arrays(self.model, self.codec, [arrays[i] for i in ok], batch_size, self.normalisation,
                                   beam_width, raw, self.device)
            by_index = dict(zip(ok, preds))
            for i, p in enumerate(chunk):
                yield p, by_index.get(i), errors[i]
