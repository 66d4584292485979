"""Write ONNX files: export a CRNN checkpoint, optionally quantise it to int8, check parity with PyTorch.

The exported graph maps a B×1×H×W float batch (normalised as the checkpoint says) to B×T×C scores,
with dynamic batch and width. The model's metadata carries the alphabet, input height,
normalisation, width reduction and preprocessing (``{"textline": ...}``), so the .onnx file alone
is enough to recognise images (:mod:`digitseq.runtime` reads it). Needs the training extra
(torch and onnx): ``pip install 'digitseq[train]'``.
"""

from __future__ import annotations

import json
import logging
import os
import warnings
from pathlib import Path

from . import WEIGHTS_DIR
from .errors import CheckpointError, DigitseqError, make_folder
from .runtime import require

LOGIT_TOLERANCE = 1e-3   # max |logit difference| accepted between PyTorch and onnxruntime


def onnx_metadata(ckpt: dict, width_reduction: int) -> dict[str, str]:
    """The digitseq metadata an exported model carries (all values strings, as ONNX wants)."""
    preprocess = {**(ckpt.get("preprocess") or {})}
    preprocess["textline"] = bool(preprocess.get("textline", False))
    return {"alphabet": ckpt["alphabet"], "input_height": str(ckpt["input_height"]),
            "normalisation": json.dumps(ckpt["normalisation"]), "width_reduction": str(width_reduction),
            "blank": "0", "preprocess": json.dumps(preprocess), "source": str(ckpt.get("path", ""))}


def set_metadata(proto, meta: dict[str, str]) -> None:
    """Set ``meta`` in an ONNX model proto's metadata, keeping its other entries (tools/set_preprocess.py too)."""
    kept = [(e.key, e.value) for e in proto.metadata_props if e.key not in meta]
    del proto.metadata_props[:]
    for k, v in [*kept, *meta.items()]:
        entry = proto.metadata_props.add()
        entry.key, entry.value = k, v


def update_preprocess(pt: str | Path, updates: dict, onnx_path: str | Path | None = None) -> list[Path]:
    """Set ``updates`` in the ``preprocess`` dict of the checkpoint ``pt`` and in the ``preprocess`` metadata of
    ``onnx_path`` (default: the ``.onnx`` beside ``pt``, where it exists); both written atomically, the weights and
    every other key left as they are (tools/set_preprocess.py, and ``pipeline.ship``). Returns the files written."""
    import onnx
    import torch

    from .models import save_checkpoint

    pt = Path(pt)
    ckpt = torch.load(pt, map_location="cpu", weights_only=True)
    ckpt["preprocess"] = {**(ckpt.get("preprocess") or {}), **updates}
    save_checkpoint(ckpt, pt)
    written = [pt]
    onnx_path = pt.with_suffix(".onnx") if onnx_path is None else Path(onnx_path)
    if onnx_path.is_file():
        proto = onnx.load(str(onnx_path))
        meta = {e.key: e.value for e in proto.metadata_props}
        set_metadata(proto, {"preprocess": json.dumps({**json.loads(meta.get("preprocess", "{}")), **updates})})
        tmp = onnx_path.with_name(f".{onnx_path.name}.{os.getpid()}.tmp")
        try:
            onnx.save(proto, str(tmp))
            os.replace(tmp, onnx_path)
        finally:
            if tmp.exists():
                tmp.unlink()
        written.append(onnx_path)
    return written


def export_onnx(model: str | Path | None, out: str | Path, check: str | Path | None = None, opset: int = 17,
                quantize: bool = False) -> dict:
    """Export ``model`` (a CRNN checkpoint; default the shipped digit model) to ``out``.

    ``check``: a labelled folder to compare PyTorch and onnxruntime on. ``quantize``: also write an
    int8 copy (dynamic quantisation) beside ``out`` as ``<name>.int8.onnx``, checked on the same folder.
    """
    import torch

    from .image import read_labels
    from .models import load_checkpoint, model_from_checkpoint
    from .recognize import MODEL_NAMES, _file_kind, resolve_model

    require("onnx", "train")
    if model is not None and not (isinstance(model, str) and model in MODEL_NAMES) and _file_kind(Path(model)) == "onnx":
        raise CheckpointError(f"{model}: an ONNX model already; export takes a .pt checkpoint")
    ckpt = load_checkpoint(resolve_model(model, "torch")[0])      # a path, or a shipped model's name
    if ckpt["kind"] != "crnn":
        raise CheckpointError(f"{ckpt['path']}: a {ckpt['kind']} checkpoint, only a CRNN can be exported")
    if check is not None:       # a check folder that cannot be read is said before anything is written
        read_labels(check, alphabet=ckpt["alphabet"])
    net = model_from_checkpoint(ckpt)
    h = ckpt["input_height"]
    out = Path(out)
    make_folder(out.parent, out)
    dummy = torch.zeros(2, 1, h, 96)
    with warnings.catch_warnings():  # the GRU batch-size warning does not apply: no initial state is passed
        warnings.simplefilter("ignore")
        torch.onnx.export(net, (dummy,), str(out), input_names=["image"], output_names=["logits"],
                          opset_version=opset, dynamo=False,
                          dynamic_axes={"image": {0: "batch", 3: "width"}, "logits": {0: "batch", 1: "steps"}})
    import onnx

    proto = onnx.load(str(out))
    set_metadata(proto, onnx_metadata(ckpt, net.features.width_reduction))
    onnx.save(proto, str(out))
    report = {"onnx": str(out), "bytes": out.stat().st_size, "opset": opset}
    partner = (ckpt.get("preprocess") or {}).get("tta_partner")
    if partner and not (out.parent / f"{partner}.onnx").is_file():     # recognition looks for it beside the model
        report["partner"] = (f"this model reads unsure images with a partner, {partner}.onnx, which is not beside "
                             f"{out.name}: without it they are read without the partner; copy it there"
                             + (f" (from {WEIGHTS_DIR})" if (WEIGHTS_DIR / f"{partner}.onnx").is_file() else ""))
    if check is not None:
        try:
            report["check"] = parity_check(ckpt["path"], out, check)
        except DigitseqError:
            if out.is_file():
                out.unlink()      # a model that failed its check is not left for the next export to refuse
            raise
    if quantize:
        q = quantize_onnx(out, out.with_suffix(".int8.onnx"))
        report["int8"] = {"onnx": str(q), "bytes": q.stat().st_size}
        if check is not None:
            report["int8"]["check"] = parity_check(ckpt["path"], q, check, strict=False)
    return report


def quantize_onnx(src: str | Path, dst: str | Path) -> Path:
    """Dynamic int8 quantisation of an exported model (weights int8, activations quantised on the fly).

    Measured on 2 cores with onnxruntime 1.31 (realistic images, batches of 32): the int8 model runs about
    6x slower than the float one (ConvInteger and the quantised GRU have no fast kernels here), so the
    float model is what ships; this stays for machines and models where it pays.
    """
    require("onnx", "train")
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    src, dst = Path(src), Path(dst)
    meta = {e.key: e.value for e in onnx.load(str(src)).metadata_props}
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)   # quantize_dynamic logs advice about pre-processing on the root logger
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            quantize_dynamic(str(src), str(dst), weight_type=QuantType.QInt8)
    finally:
        root.setLevel(level)
    proto = onnx.load(str(dst))
    set_metadata(proto, meta)
    onnx.save(proto, str(dst))
    return dst


def parity_check(checkpoint: str | Path, onnx_path: str | Path, data: str | Path, strict: bool = True) -> dict:
    """Decode ``data`` with both backends: decoded strings must match, logits agree within tolerance.

    ``strict=False`` (int8 models) reports the agreement without failing, and judges it by the strings alone.
    """
    import numpy as np

    from .codec import Codec
    from .image import load_many, pad_array, read_labels
    from .models import load_checkpoint, model_from_checkpoint
    from .recognize import TorchModel
    from .runtime import OnnxModel

    ckpt = load_checkpoint(checkpoint)
    net = TorchModel(model_from_checkpoint(ckpt))
    ort_model = OnnxModel(onnx_path)
    codec = Codec(ckpt["alphabet"])
    ls = read_labels(data, alphabet=ckpt["alphabet"])
    textline = bool((ckpt.get("preprocess") or {}).get("textline", False))
    arrays, _ = load_many(ls.paths, ckpt["input_height"], textline=textline)
    order = np.argsort([a.shape[1] for a in arrays], kind="stable")   # batches of similar width
    max_diff, same = 0.0, 0
    for s in range(0, len(order), 64):
        x, widths = pad_array([arrays[i] for i in order[s:s + 64]], ckpt["normalisation"])
        torch_scores, onnx_scores = net.run(x), ort_model.run(x)     # each backend runs every image once
        max_diff = max(max_diff, float(np.abs(torch_scores - onnx_scores).max()))
        lengths = ort_model.output_lengths(widths)
        same += sum(p.text == q.text for p, q in zip(codec.decode_scores(torch_scores, lengths),
                                                       codec.decode_scores(onnx_scores, lengths)))
    # an int8 model (not strict) is judged by its strings alone: its logits differ by design
    report = {"n": len(arrays), "identical_strings": same, "max_abs_logit_diff": max_diff,
              "tolerance": LOGIT_TOLERANCE if strict else None,
              "ok": same == len(arrays) and (max_diff <= LOGIT_TOLERANCE or not strict)}
    if strict and not report["ok"]:
        raise DigitseqError(f"ONNX parity check failed on {data}: {same}/{len(arrays)} identical strings, "
                            f"max logit difference {max_diff:.2e} (tolerance {LOGIT_TOLERANCE:g})")
    return report
