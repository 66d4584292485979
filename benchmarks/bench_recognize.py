"""Recognition speed and memory of the shipped model on 5-digit PNG files, decode and preprocessing included.

    python benchmarks/bench_recognize.py [--count 2000] [--repeat 3]

Measures (issue #5): folder throughput per backend and batch size, one-image latency (median, p95)
through the Python API, and peak memory of `digitseq recognize` on a folder of 10,000 images.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, timed, write  # noqa: E402

from digitseq.data import list_images  # noqa: E402
from digitseq.generate import generate  # noqa: E402
from digitseq.recognize import Recognizer  # noqa: E402


def throughput(rec: Recognizer, paths, batch_size: int, repeat: int) -> dict:
    def run():
        for _ in rec.predict_files(paths, batch_size=batch_size):
            pass

    t = timed(run, repeat=repeat)
    return {"batch_size": batch_size, **t, "images_per_s": round(len(paths) / t["median_s"], 1)}


def profile(rec: Recognizer, paths, batch_size: int = 32) -> dict:
    """Where a folder's time goes: reading + preprocessing files, then the network + CTC decoding."""
    from digitseq.data import load_many
    from digitseq.recognize import predict_arrays

    load_many(paths[:64], rec.input_height)
    t0 = time.perf_counter()
    arrays, _ = load_many(paths, rec.input_height)
    t1 = time.perf_counter()
    predict_arrays(rec.model, rec.codec, arrays, batch_size, rec.normalisation)
    t2 = time.perf_counter()
    return {"batch_size": batch_size, "read_preprocess_s": round(t1 - t0, 3), "network_decode_s": round(t2 - t1, 3),
            "read_share": round((t1 - t0) / (t2 - t0), 3)}


def latency(rec: Recognizer, paths, n: int = 300) -> dict:
    rec.predict(paths[0])
    times = []
    for p in paths[:n]:
        t0 = time.perf_counter()
        rec.predict(p)
        times.append(time.perf_counter() - t0)
    times.sort()
    return {"n": len(times), "median_ms": round(1000 * statistics.median(times), 3),
            "p95_ms": round(1000 * times[int(0.95 * (len(times) - 1))], 3)}


# The child reports its own peak from /proc (Linux): VmHWM belongs to its own address space, whereas
# ru_maxrss survives exec and would include this (large) parent process at the moment of the fork.
PEAK = ("import sys\nfrom digitseq.cli import main\ncode = main(sys.argv[1:])\n"
        "hwm = next(ln for ln in open('/proc/self/status') if ln.startswith('VmHWM'))\n"
        "print('PEAK_KB', hwm.split()[1], file=sys.stderr)\nsys.exit(code)")


def peak_memory(folder: Path, backend: str) -> dict:
    """Peak resident memory of `digitseq recognize FOLDER` with its default settings."""
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", PEAK, "recognize", str(folder), "--backend", backend,
                           "--format", "csv", "--output", "/dev/null", "--force"], check=True, capture_output=True,
                          text=True)
    peak_kb = int(next(ln.split()[1] for ln in proc.stderr.splitlines() if ln.startswith("PEAK_KB")))
    return {"images": len(list_images([folder])), "peak_rss_mb": round(peak_kb / 1024, 1),
            "seconds": round(time.perf_counter() - t0, 2)}


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=2000)
    ap.add_argument("--memory-count", type=int, default=10000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--backends", default="torch,onnx")
    a = ap.parse_args(argv)
    scratch = Path(tempfile.mkdtemp(prefix="bench-rec-"))
    result: dict = {"throughput": {}, "latency": {}, "memory": {}}
    try:
        generate(scratch / "five", max(a.count, a.memory_count), min_length=5, split="test", seed=7, progress=False)
        paths = list_images([scratch / "five"])[: a.count]
        for backend in a.backends.split(","):
            try:
                rec = Recognizer.load(ROOT / "Model" / "CRNN" / "crnn.pt", backend=backend)
            except Exception as exc:  # onnxruntime not installed, say
                print(f"{backend}: skipped ({exc})")
                continue
            result["throughput"][backend] = [throughput(rec, paths, bs, a.repeat) for bs in (32, 128, 512)]
            result["latency"][backend] = latency(rec, paths)
            result.setdefault("profile", {})[backend] = profile(rec, paths)
            result["memory"][backend] = peak_memory(scratch / "five", backend)
            best = max(result["throughput"][backend], key=lambda r: r["images_per_s"])
            print(f"{backend:6} folder: {best['images_per_s']:.0f} images/s (batch {best['batch_size']}); "
                  f"latency median {result['latency'][backend]['median_ms']} ms, p95 {result['latency'][backend]['p95_ms']} ms; "
                  f"peak RSS {result['memory'][backend]['peak_rss_mb']} MB on {result['memory'][backend]['images']} images; "
                  f"{100 * result['profile'][backend]['read_share']:.0f}% of folder time reading + preprocessing")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    write("bench_recognize", result)
    return result


if __name__ == "__main__":
    main()
