"""Where recognition's time goes: CPU-ms per image for each stage, in one process.

    python benchmarks/bench_stages.py [--folder img/bench_recognize_5000] [--limit 1500] [--model digits]

Stages in the order ``digitseq recognize`` runs them: decoding (PNG and JPEG apart; JPEG decodes straight to
grey), conversion to grey, the text-line crop, resizing to the model's height, then padding, the ONNX network
(width-sorted batches of 32, one thread, as the recogniser runs it) and CTC decoding. Times are
``time.process_time`` per stage (a busy machine inflates them less than wall time); the sum is the CPU a file
costs before any parallelism (issue 10: two cores reach 1,000 images/s only if it is under 2 ms). Results to
``results/bench_stages.json``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, write  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--folder", default=str(ROOT / "img" / "bench_recognize_5000"),
                    help="images to read (default: bench_recognize.py's realistic files)")
    ap.add_argument("--limit", type=int, default=1500, help="images, in file-name order (0: all)")
    ap.add_argument("--model", default="digits", help="shipped model name or an .onnx path")
    ap.add_argument("--json", default="bench_stages", help="name of the JSON under results/ ('' to skip)")
    a = ap.parse_args(argv)
    import numpy as np

    from digitseq.codec import Codec
    from digitseq.image import list_images, open_image, pad_array, preprocess, to_grey
    from digitseq.recognize import resolve_model
    from digitseq.runtime import OnnxModel
    from digitseq.textline import crop_to_text

    files = list_images([a.folder])
    files = files[: a.limit] if a.limit else files
    model = OnnxModel(resolve_model(a.model, "onnx")[0])
    codec = Codec(model.alphabet)
    cpu = {k: 0.0 for k in ("decode_png", "decode_jpeg", "decode_other", "grey", "crop", "resize", "pad", "network",
                            "ctc_decode")}
    count = {k: 0 for k in ("decode_png", "decode_jpeg", "decode_other")}

    def timed(stage, fn, *args):
        t0 = time.process_time()
        out = fn(*args)
        cpu[stage] += time.process_time() - t0
        return out

    arrays = []
    for path in files:
        kind = {".png": "decode_png", ".jpg": "decode_jpeg", ".jpeg": "decode_jpeg"}.get(path.suffix.lower(),
                                                                                       "decode_other")
        img = timed(kind, open_image, path, True)
        count[kind] += 1
        grey = timed("grey", lambda im: np.asarray(to_grey(im)), img)
        if model.preprocess.get("textline"):
            grey = timed("crop", crop_to_text, grey)
        arrays.append(timed("resize", preprocess, np.ascontiguousarray(grey), model.input_height))
    order = np.argsort([x.shape[1] for x in arrays], kind="stable")
    model.run(pad_array([arrays[order[0]]], model.normalisation)[0])        # warm-up
    for s in range(0, len(order), 32):
        x, widths = timed("pad", pad_array, [arrays[i] for i in order[s:s + 32]], model.normalisation)
        scores = timed("network", model.run, x)
        timed("ctc_decode", codec.decode_scores, scores, model.output_lengths(widths))
    n = len(files)
    per = {k: round(1000 * v / (count[k] if k in count else n), 3) for k, v in cpu.items()
           if k not in count or count[k]}
    total = round(1000 * sum(cpu.values()) / n, 3)
    print(f"{n} files from {a.folder}, model {a.model}\n\n| stage | CPU-ms per image |\n|---|---|")
    for k, v in per.items():
        print(f"| {k}{f' ({count[k]} files)' if k in count else ''} | {v:.3f} |")
    print(f"| **all stages, per file** | **{total:.3f}** |")
    if a.json:
        write(a.json, {"folder": str(a.folder), "files": n, "model": a.model, "counts": count,
                       "cpu_ms_per_image": per, "cpu_ms_per_file_total": total})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
