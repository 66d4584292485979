"""The network's share of recognition: ONNX time per image for the shipped model, int8 copies and other shapes.

    python benchmarks/bench_network.py [--files 1024] [--repeat 5]

Issue 10. Inputs are what recognition feeds the network: the first ``--files`` files of the realistic set
(benchmarks/realistic.py, the bench_recognize.py cache), preprocessed as the shipped digit model wants (text-line crop, height 32),
sorted by width into batches of 32; onnxruntime with the session options recognition uses (one intra-op
thread). Reported per variant: milliseconds per image (median and all of ``--repeat`` passes), the time
relative to the shipped model, and, for the shipped model, each operator type's share of the time from
onnxruntime's profiler. Variants:

  float          the shipped digitseq/weights/digits.onnx
  int8-dynamic   its dynamic int8 copy (``digitseq export --int8``: ConvInteger, MatMulInteger)
  int8-static    conv layers quantised statically (QDQ, per channel), calibrated on 256 validation images
  wide           the 32-64-128-192 conv stack of the capacity ablation (``m_wide``), untrained weights:
                 time does not depend on the weights' values, and this needs no trained model
  stride8        the shipped shape with width stride 8 (``m_stride8``: half the time steps), untrained weights

Results go to results/bench_network.json. Accuracy of the int8 copies is not measured here: neither is
faster than the float model on the machines we have, so neither ships.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import warnings
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import numpy as np  # noqa: E402
import realistic  # noqa: E402
from common import ROOT, timed, write  # noqa: E402

from digitseq.image import load_many, pad_array, read_labels  # noqa: E402
from digitseq.runtime import session_options  # noqa: E402

SHIPPED = ROOT / "digitseq" / "weights" / "digits.onnx"


def batches_of(arrays: list[np.ndarray], normalisation: dict, size: int = 32) -> list[np.ndarray]:
    order = np.argsort([a.shape[1] for a in arrays], kind="stable")
    return [pad_array([arrays[i] for i in order[s:s + size]], normalisation)[0] for s in range(0, len(order), size)]


def session(path: Path, profile: bool = False):
    import onnxruntime as ort

    opts = session_options(1)
    opts.enable_profiling = profile
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


def per_image_ms(path: Path, batches: list[np.ndarray], n_images: int, repeat: int) -> dict:
    s = session(path)
    name = s.get_inputs()[0].name

    def run():
        for b in batches:
            s.run(None, {name: b})

    t = timed(run, repeat=repeat)
    return {"ms_per_image": round(1000 * t["median_s"] / n_images, 3),
            "runs_ms_per_image": [round(1000 * r / n_images, 3) for r in t["runs_s"]]}


def op_shares(path: Path, batches: list[np.ndarray]) -> dict:
    s = session(path, profile=True)
    name = s.get_inputs()[0].name
    for b in batches:
        s.run(None, {name: b})
    trace = Path(s.end_profiling())
    events = json.loads(trace.read_text())
    trace.unlink()
    per_op: dict[str, float] = defaultdict(float)
    for e in events:
        if e.get("cat") == "Node" and e["name"].endswith("_kernel_time"):
            per_op[e["args"]["op_name"]] += e["dur"]
    total = sum(per_op.values()) or 1.0
    return {k: round(v / total, 3) for k, v in sorted(per_op.items(), key=lambda kv: -kv[1]) if v / total >= 0.005}


def int8_static(src: Path, dst: Path, calibration: list[np.ndarray]) -> Path:
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    name = session(src).get_inputs()[0].name

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.it = iter(calibration)

        def get_next(self):
            b = next(self.it, None)
            return None if b is None else {name: b}

    pre = dst.with_name("pre.onnx")
    quant_pre_process(str(src), str(pre), skip_symbolic_shape=True)
    quantize_static(str(pre), str(dst), Reader(), quant_format=QuantFormat.QDQ, op_types_to_quantize=["Conv"],
                    per_channel=True, activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8)
    return dst


SHAPES = {"wide": {"channels": [32, 64, 128, 192]}, "stride8": {"pools": [[2, 2], [2, 2], [2, 2], [2, 1]]}}


def shaped_model(dst: Path, changes: dict) -> Path:
    """The shipped model's architecture with ``changes``, untrained, exported to ONNX at ``dst``."""
    import torch

    from digitseq.export import export_onnx
    from digitseq.models import (
        build_model,
        load_checkpoint,
        make_checkpoint,
        num_classes_for,
        save_checkpoint,
    )

    ck = load_checkpoint(SHIPPED.with_suffix(".pt"))
    arch = {**ck["arch"], **changes}
    torch.manual_seed(0)
    model = build_model("crnn", arch, num_classes_for("crnn", ck["alphabet"]))
    save_checkpoint(make_checkpoint(model, "crnn", arch, ck["alphabet"], ck["normalisation"],
                                    preprocess=ck.get("preprocess")), dst.with_suffix(".pt"))
    export_onnx(dst.with_suffix(".pt"), dst)
    return dst


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=1024, help="realistic files to time on")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--variants", default="float,int8-dynamic,int8-static,wide,stride8")
    a = ap.parse_args(argv)
    logging.getLogger().setLevel(logging.ERROR)   # onnxruntime.quantization advises on the root logger
    warnings.simplefilter("ignore")

    from digitseq.runtime import OnnxModel

    shipped = OnnxModel(SHIPPED)
    folder = realistic.build(ROOT / "img" / "bench_recognize_5000", 5000)
    paths = read_labels(folder).paths[:a.files]
    arrays, _ = load_many(paths, shipped.input_height, textline=True)
    batches = batches_of(arrays, shipped.normalisation)
    results: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        files = {"float": SHIPPED}
        wanted = a.variants.split(",")
        if "int8-dynamic" in wanted:
            from digitseq.export import quantize_onnx

            files["int8-dynamic"] = quantize_onnx(SHIPPED, tmp / "dynamic.onnx")
        if "int8-static" in wanted:
            val, _ = load_many(read_labels(ROOT / "img" / "val").paths[:256], shipped.input_height, textline=True) \
                if (ROOT / "img" / "val" / "labels.csv").exists() else (arrays[:256], None)
            files["int8-static"] = int8_static(SHIPPED, tmp / "static.onnx", batches_of(val, shipped.normalisation))
        for name in SHAPES.keys() & set(wanted):
            files[name] = shaped_model(tmp / f"{name}.onnx", SHAPES[name])
        for name in wanted:
            results[name] = per_image_ms(files[name], batches, len(arrays), a.repeat)
            results[name]["relative"] = round(results[name]["ms_per_image"] / results["float"]["ms_per_image"], 2)
            print(f"{name:14} {results[name]['ms_per_image']:.3f} ms/image  ({results[name]['relative']:.2f}x)  "
                  f"runs {results[name]['runs_ms_per_image']}", flush=True)
        results["float"]["op_shares"] = op_shares(SHIPPED, batches)
        print("float, share of time by operator:", results["float"]["op_shares"])
    path = write("bench_network", {"files": len(arrays), "batch": 32, "intra_op_threads": 1,
                                   "mean_width": round(float(np.mean([x.shape[1] for x in arrays])), 1),
                                   "variants": results})
    print(f"-> {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
