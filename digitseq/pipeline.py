"""The main job (``make run``): execute notebooks 1 → 2 → 3 in place, from the project root.

Each notebook keeps its outputs (plots, tables), the models land in ``Model/`` and the stage times
in ``results/pipeline_times.json``. ``--toy`` runs everything at a few dozen images into a
scratch folder instead, leaving the committed notebooks and weights alone.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from . import ROOT
from .notebooks import run_notebook

NOTEBOOKS = ("1_Gen_Images.ipynb", "2_Pretrain_CNN.ipynb", "3_CRNN.ipynb")


def toy_parameters(workdir: Path) -> dict[str, dict]:
    """Parameters that run each notebook in seconds, writing only under ``workdir``."""
    img, model = str(workdir / "img"), str(workdir / "Model")
    sets = {"single_digit": (60, 1, 1, "train"), "single_digit_val": (20, 1, 1, "train"),
            "five_digits": (60, 5, 5, "train"), "12_digits": (20, 12, 12, "train"),
            "mixed_digits": (20, 1, 20, "train"), "val": (20, 1, 20, "train"),
            "test_five_digits": (12, 5, 5, "test"), "test_12_digits": (6, 12, 12, "test"),
            "test_1_20_digits": (6, 1, 20, "test")}
    font = str(ROOT / "font")
    return {
        "1_Gen_Images.ipynb": {"IMG_DIR": img, "FONT_DIR": font, "DATASETS": sets, "WORKERS": 2},
        "2_Pretrain_CNN.ipynb": {"IMG_DIR": img, "MODEL_DIR": model, "EPOCHS": 1},
        "3_CRNN.ipynb": {"IMG_DIR": img, "MODEL_DIR": model, "RESULTS": str(workdir / "results.json"),
                         "CONFIG": {"epochs": 1, "finetune_epochs": 1, "lr": 3e-3, "finetune_lr": 1e-3,
                                    "batch_size": 16, "patience": 2, "seed": 0}},
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m digitseq.pipeline", description=__doc__.splitlines()[0])
    ap.add_argument("--toy", action="store_true", help="tiny sizes, into a scratch folder")
    a = ap.parse_args(argv)
    times = {}
    workdir = Path(tempfile.mkdtemp(prefix="digitseq-toy-")) if a.toy else None
    params = toy_parameters(workdir) if workdir else {}
    t_all = time.time()
    for name in NOTEBOOKS:
        out = workdir / name if workdir else None
        print(f"== {name}", flush=True)
        times[name] = round(run_notebook(ROOT / name, params.get(name), out=out, cwd=ROOT), 1)
        print(f"   {times[name]:.0f}s", flush=True)
    if not a.toy:
        # Ship an ONNX copy of the new weights, checked against PyTorch on the unseen-font test set.
        from . import DEFAULT_CRNN
        from .export import export_onnx

        t0 = time.time()
        report = export_onnx(DEFAULT_CRNN, DEFAULT_CRNN.with_suffix(".onnx"), check=ROOT / "img" / "test_five_digits")
        times["onnx_export"] = round(time.time() - t0, 1)
        print(f"   exported {report['onnx']}: parity {report['check']}", flush=True)
        (ROOT / "results").mkdir(exist_ok=True)
        (ROOT / "results" / "onnx_export.json").write_text(json.dumps(report, indent=1))
    times["total"] = round(time.time() - t_all, 1)
    if not a.toy:
        (ROOT / "results").mkdir(exist_ok=True)
        (ROOT / "results" / "pipeline_times.json").write_text(json.dumps(times, indent=1))
    print(f"pipeline done in {times['total'] / 60:.1f} min: {json.dumps(times)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
