"""ONNX export of a CRNN checkpoint, an onnxruntime-backed model, and a PyTorch parity check.

The exported graph maps a B×1×H×W float batch (normalised as the checkpoint says) to B×T×C scores,
with dynamic batch and width. The model's metadata carries the alphabet, input height,
normalisation and width reduction, so the .onnx file alone is enough to recognise images.
Needs the optional extra: ``pip install .[onnx]``.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import torch

from .errors import CheckpointError, DigitseqError
from .models import load_checkpoint, model_from_checkpoint

LOGIT_TOLERANCE = 1e-3   # max |logit difference| accepted between PyTorch and onnxruntime


def _require(module: str):
    try:
        return __import__(module)
    except ImportError:
        raise DigitseqError(f"ONNX support needs the '{module}' package: pip install 'digitseq[onnx]'") from None


def export_onnx(model: str | Path | None, out: str | Path, check: str | Path | None = None, opset: int = 17) -> dict:
    """Export ``model`` (a CRNN checkpoint; default the shipped one) to ``out``; optionally check parity."""
    from . import DEFAULT_CRNN

    _require("onnx")
    ckpt = load_checkpoint(model if model is not None else DEFAULT_CRNN)
    if ckpt["kind"] != "crnn":
        raise CheckpointError(f"{ckpt['path']}: a {ckpt['kind']} checkpoint, only a CRNN can be exported")
    net = model_from_checkpoint(ckpt)
    h = ckpt["input_height"]
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    dummy = torch.zeros(2, 1, h, 96)
    with warnings.catch_warnings():  # the GRU batch-size warning does not apply: no initial state is passed
        warnings.simplefilter("ignore")
        torch.onnx.export(net, (dummy,), str(out), input_names=["image"], output_names=["logits"],
                          opset_version=opset, dynamo=False,
                          dynamic_axes={"image": {0: "batch", 3: "width"}, "logits": {0: "batch", 1: "steps"}})
    import onnx

    proto = onnx.load(str(out))
    meta = {"alphabet": ckpt["alphabet"], "input_height": str(h), "normalisation": json.dumps(ckpt["normalisation"]),
            "width_reduction": str(net.features.width_reduction), "blank": "0", "source": str(ckpt["path"])}
    for k, v in meta.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = k, v
    onnx.save(proto, str(out))
    report = {"onnx": str(out), "bytes": out.stat().st_size, "opset": opset}
    if check is not None:
        report["check"] = parity_check(ckpt["path"], out, check)
    return report


class OnnxModel:
    """Looks enough like the CRNN module for :func:`digitseq.recognize.predict_arrays`."""

    training = False

    def __init__(self, path: str | Path, threads: int | None = None):
        ort = _require("onnxruntime")
        path = Path(path)
        if not path.is_file():
            raise CheckpointError(f"{path}: ONNX model not found")
        opts = ort.SessionOptions()
        if threads:
            opts.intra_op_num_threads = threads
        try:
            self.session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        except Exception as exc:
            raise CheckpointError(f"{path}: not a readable ONNX model ({str(exc).splitlines()[0][:200]})") from None
        meta = self.session.get_modelmeta().custom_metadata_map
        if "alphabet" not in meta:
            raise CheckpointError(f"{path}: ONNX model without digitseq metadata (alphabet)")
        self.alphabet = meta["alphabet"]
        self.input_height = int(meta["input_height"])
        self.normalisation = json.loads(meta["normalisation"])
        self.width_reduction = int(meta["width_reduction"])
        self.path = str(path)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return torch.from_numpy(self.session.run(None, {"image": x.numpy()})[0])

    def output_lengths(self, widths: torch.Tensor) -> torch.Tensor:
        return torch.div(widths, self.width_reduction, rounding_mode="floor")

    def eval(self):
        return self

    def train(self, mode: bool = True):
        return self

    def to(self, device):
        return self


def parity_check(checkpoint: str | Path, onnx_path: str | Path, data: str | Path) -> dict:
    """Decode ``data`` with both backends: decoded strings must match, logits agree within tolerance."""
    from .codec import Codec
    from .data import load_many, pad_batch, read_labels
    from .recognize import predict_arrays

    ckpt = load_checkpoint(checkpoint)
    net = model_from_checkpoint(ckpt)
    ort_model = OnnxModel(onnx_path)
    codec = Codec(ckpt["alphabet"])
    ls = read_labels(data, alphabet=ckpt["alphabet"])
    arrays, _ = load_many(ls.paths, ckpt["input_height"])
    a = predict_arrays(net, codec, arrays, 64, ckpt["normalisation"])
    b = predict_arrays(ort_model, codec, arrays, 64, ckpt["normalisation"])
    max_diff = 0.0
    with torch.inference_mode():
        for s in range(0, len(arrays), 64):
            x, _ = pad_batch(arrays[s:s + 64], ckpt["normalisation"])
            max_diff = max(max_diff, float((net(x) - ort_model(x)).abs().max()))
    same = sum(p.text == q.text for p, q in zip(a, b))
    report = {"n": len(arrays), "identical_strings": same, "max_abs_logit_diff": max_diff,
              "tolerance": LOGIT_TOLERANCE, "ok": same == len(arrays) and max_diff <= LOGIT_TOLERANCE}
    if not report["ok"]:
        raise DigitseqError(f"ONNX parity check failed on {data}: {same}/{len(arrays)} identical strings, "
                            f"max logit difference {max_diff:.2e} (tolerance {LOGIT_TOLERANCE:g})")
    return report


