"""Run an exported ``.onnx`` CRNN with onnxruntime: numpy in, numpy out, no torch.

The ONNX file carries what recognition needs in its metadata (written by :mod:`digitseq.export`):
``alphabet``, ``input_height``, ``normalisation`` (JSON), ``width_reduction``, ``blank`` and
``preprocess`` (JSON, e.g. ``{"textline": true, "margin": 32}``; absent in older files, meaning no text-line crop
and no margin).

Session options, chosen by measurement (2-core Xeon, shared; 768 realistic images in width-sorted
batches of 32, median of 5 runs):

    intra-op threads 1, ORT_ENABLE_ALL, sequential   1,385 img/s   0.73 CPU-ms/img   <- used
    intra-op threads 1, ORT_ENABLE_EXTENDED            942 img/s   1.06
    intra-op threads 1, ORT_ENABLE_BASIC               866 img/s   1.15
    intra-op threads 1, ORT_ENABLE_ALL, parallel     1,433 img/s   0.70   (same, within noise)
    intra-op threads 2, ORT_ENABLE_ALL, sequential     669 img/s   1.78   (spinning threads fight the decoders)

so the network gets one core and the image decoding the other (:meth:`Recognizer.predict_files`).
Images given to :meth:`Recognizer.predict` (one, or a list in memory) have no decoding to overlap: they run in a
second session with two intra-op threads (:meth:`OnnxModel.alone`), which reads one realistic image in 0.79 ms
instead of 1.09 (median of 300 single-image runs, median of 5 rounds, 2-core VM; without spinning threads 0.98).
A partner, which reads only the unsure images, gets its two threads without spinning: spinning after its rare
runs, they slowed the model's next images (median latency of 200 realistic files one at a time, three rounds in
each of two interleaved pairs: 4.13-5.69 and 3.47-4.17 ms with, 3.12-3.73 and 2.76-2.84 ms without, the same as
without a partner, 3.26-3.39 and 2.81-2.91).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from .errors import CheckpointError, DigitseqError


def require(module: str, extra: str = ""):
    """Import ``module`` or raise a one-line error saying what to install."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        hint = f"pip install 'digitseq[{extra}]'" if extra else f"pip install {module}"
        raise DigitseqError(f"this needs the '{module}' package: {hint}") from None


def session_options(threads: int | None = None, spinning: bool = True):
    """onnxruntime options for the recogniser: ``threads`` intra-op threads (default 1), sequential;
    ``spinning=False``: the threads sleep as soon as a run ends instead of spinning for the next one."""
    ort = require("onnxruntime")
    opts = ort.SessionOptions()
    if not spinning:
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    opts.intra_op_num_threads = max(1, threads or 1)
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.log_severity_level = 3
    return opts


class OnnxModel:
    """An exported CRNN: ``run`` maps a B×1×H×W float32 batch to B×T×C scores."""

    backend = "onnx"

    def __init__(self, path: str | Path, threads: int | None = None, spinning: bool = True):
        ort = require("onnxruntime")
        path = Path(path)
        if not path.is_file():
            raise CheckpointError(f"{path}: ONNX model not found")
        try:
            self.session = ort.InferenceSession(str(path), session_options(threads, spinning),
                                                providers=["CPUExecutionProvider"])
        except Exception as exc:
            raise CheckpointError(f"{path}: not a readable ONNX model ({str(exc).splitlines()[0][:200]})") from None
        meta = self.session.get_modelmeta().custom_metadata_map
        if "alphabet" not in meta:
            raise CheckpointError(f"{path}: ONNX model without digitseq metadata (alphabet)")
        try:
            self.alphabet = meta["alphabet"]
            self.input_height = int(meta["input_height"])
            self.normalisation = json.loads(meta["normalisation"])
            self.width_reduction = int(meta["width_reduction"])
            self.preprocess = json.loads(meta.get("preprocess", "{}"))
        except (KeyError, ValueError) as exc:
            raise CheckpointError(f"{path}: bad digitseq metadata in the ONNX model ({exc})") from None
        self.input_name = self.session.get_inputs()[0].name
        self.path = str(path)
        self.threads = max(1, threads or 1)
        self._alone: dict[bool, OnnxModel] = {}

    def alone(self, spinning: bool = True) -> OnnxModel:
        """This model in a session for work that runs by itself (no image decoding beside it): two intra-op
        threads where there are two cores. Made on first use; itself if it has as many threads already.
        ``spinning=False`` for a model that runs now and then beside another (a partner): its idle threads
        would otherwise spin after each run and slow the other's next runs."""
        if spinning not in self._alone:
            n = min(2, os.cpu_count() or 1)
            self._alone[spinning] = self if n <= self.threads else OnnxModel(self.path, threads=n, spinning=spinning)
        return self._alone[spinning]

    def run(self, x: np.ndarray) -> np.ndarray:
        return self.session.run(None, {self.input_name: x})[0]

    def output_lengths(self, widths) -> np.ndarray:
        # each max-pool floors; floor(floor(w / a) / b) == floor(w / (a·b))
        return np.asarray(widths) // self.width_reduction

    def __repr__(self) -> str:
        return f"OnnxModel({self.path!r})"
