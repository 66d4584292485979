"""Training throughput of the shipped architecture: samples/s and the share of time spent waiting for data.

    python benchmarks/bench_train.py [--images 2048] [--repeat 3]
    python benchmarks/bench_train.py --amp [--repeat 3]     # float32 against bf16 autocast (TrainConfig.amp)
    python benchmarks/bench_train.py --jemalloc /usr/lib/x86_64-linux-gnu/libjemalloc.so.2   # glibc malloc or it

Full training steps (conv blocks trainable, AdamW, CTC) on augmented 1-20-digit images held in memory,
with DataLoader workers 0 (data prepared in the training process) and 1 (prepared alongside). ``--amp``: workers
0, the forward pass in float32 and under bf16 autocast, interleaved epoch by epoch, for the digit model's shape and
the ASCII model's wide stack (32-64-128-192, GRU 160; 95 classes); writes ``results/bench_train_amp.json``.
``--jemalloc LIB``: workers 0, float32, each epoch in a process of its own, with glibc's malloc and with jemalloc
preloaded (``LD_PRELOAD=LIB``, ``MALLOC_CONF`` as ``JEMALLOC_CONF``: freed pages kept, never handed back; ``--malloc-conf ''``:
jemalloc's defaults, written to ``results/bench_train_jemalloc_default_decay.json``), interleaved,
for the digit model's shape and the ASCII partner's wider stack at height 48 (48-96-192-288); each epoch's samples/s,
minor page faults and peak memory; writes ``results/bench_train_jemalloc.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import torch  # noqa: E402
from common import write  # noqa: E402

from digitseq.codec import Codec  # noqa: E402
from digitseq.data import ImageSet, loader  # noqa: E402
from digitseq.generate import generate  # noqa: E402
from digitseq.models import build_model  # noqa: E402
from digitseq.train import ctc_loss  # noqa: E402

ASCII_ARCH = {"channels": [32, 64, 128, 192], "rnn_hidden": 160}
ASCII_H48_WIDE = {"channels": [48, 96, 192, 288], "rnn_hidden": 160, "input_height": 48}
SHAPES = {"digits": (None, 11), "ascii_h48_wide": (ASCII_H48_WIDE, 95)}
JEMALLOC_CONF = "dirty_decay_ms:-1,muzzy_decay_ms:-1"


def one_epoch(ds: ImageSet, workers: int, epoch: int, bf16: bool = False, arch: dict | None = None,
              num_classes: int = 11) -> dict:
    torch.manual_seed(0)
    codec = Codec("0123456789")
    model = build_model("crnn", arch or {}, num_classes).train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    waited, n = 0.0, 0
    t_start = time.perf_counter()
    t0 = t_start
    for x, widths, labels in loader(ds, 64, True, seed=0, epoch=epoch, workers=workers):
        waited += time.perf_counter() - t0
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            loss = ctc_loss(model, codec, x, widths, labels)
        opt.zero_grad()
        loss.backward()
        opt.step()
        n += len(labels)
        t0 = time.perf_counter()
    total = time.perf_counter() - t_start
    return {"samples_per_s": n / total, "data_wait_share": waited / total}


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=2048)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--amp", action="store_true", help="float32 against bf16 autocast instead of data workers")
    ap.add_argument("--jemalloc", metavar="LIB", help="glibc's malloc against this jemalloc library, preloaded")
    ap.add_argument("--malloc-conf", default=JEMALLOC_CONF,
                    help=f"jemalloc's MALLOC_CONF with --jemalloc ('' for its defaults; default {JEMALLOC_CONF})")
    ap.add_argument("--child", nargs=2, metavar=("FOLDER", "SHAPE"), help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.child:
        return child_epoch(*a.child)
    with tempfile.TemporaryDirectory() as tmp:
        generate(Path(tmp) / "d", a.images, min_length=1, max_length=20, seed=3, progress=False)
        if a.jemalloc:
            return compare_jemalloc(Path(tmp) / "d", a.jemalloc, a.repeat, a.malloc_conf)
        ds = ImageSet.from_folders([Path(tmp) / "d"], augment=True, progress=False)
    if a.amp:
        return compare_amp(ds, a.repeat)
    result = {"threads": torch.get_num_threads(), "train": {}}
    for workers in (0, 1):
        one_epoch(ds, workers, 99)  # warm-up
        runs = [one_epoch(ds, workers, e) for e in range(a.repeat)]
        med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        result["train"][f"workers={workers}"] = {k: round(v, 3) for k, v in med.items()}
        print(f"workers={workers}: {med['samples_per_s']:.0f} samples/s, "
              f"{100 * med['data_wait_share']:.1f}% of the time waiting for data", flush=True)
    write("bench_train", result)
    return result


def compare_amp(ds: ImageSet, repeat: int) -> dict:
    """Samples/s in float32 and under bf16 autocast, interleaved; the speed-up is the ratio of the medians."""
    from digitseq.train import cpu_has_bf16

    result = {"threads": torch.get_num_threads(), "cpu_has_bf16": cpu_has_bf16(), "train": {}}
    for name, arch, classes in (("digits", None, 11), ("ascii", ASCII_ARCH, 95)):
        for bf16 in (False, True):
            one_epoch(ds, 0, 99, bf16, arch, classes)  # warm-up
        runs = {False: [], True: []}
        for e in range(repeat):
            for bf16 in (False, True):
                runs[bf16].append(one_epoch(ds, 0, e, bf16, arch, classes)["samples_per_s"])
        row = {"float32": [round(v, 1) for v in runs[False]], "bf16": [round(v, 1) for v in runs[True]]}
        row["speedup"] = round(statistics.median(runs[True]) / statistics.median(runs[False]), 2)
        result["train"][name] = row
        print(f"{name}: float32 {statistics.median(runs[False]):.0f}, bf16 {statistics.median(runs[True]):.0f} "
              f"samples/s: {row['speedup']}x", flush=True)
    write("bench_train_amp", result)
    return result


def child_epoch(folder: str, shape: str) -> dict:
    """One epoch in this process (``--child``, with whatever allocator it was started with); prints its samples/s,
    minor page faults and peak resident memory as JSON. The peak is this process's ``ru_maxrss``, which carries the
    launching benchmark process's peak across fork and exec (``common.whole_process`` avoids that with a bare
    launcher, but it keeps no standard output); that parent peaks at ~230 MB (images drawn, torch imported), below
    every epoch's own peak (1 GB and more), so the maximum is the epoch's."""
    import resource

    arch, classes = SHAPES[shape]
    ds = ImageSet.from_folders([Path(folder)], augment=True, progress=False,
                               height=(arch or {}).get("input_height", 32))
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    row = one_epoch(ds, 0, 0, False, arch, classes)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    row.update(page_faults=usage.ru_minflt - faults, peak_mb=usage.ru_maxrss // 1024)
    print(json.dumps(row), flush=True)
    return row


def compare_jemalloc(folder: Path, lib: str, repeat: int, conf: str = JEMALLOC_CONF) -> dict:
    """Samples/s with glibc's malloc and with jemalloc preloaded, one process an epoch, interleaved; the speed-up is
    the ratio of the medians."""
    if not Path(lib).is_file():
        raise SystemExit(f"{lib}: no such file (Debian: apt-get install libjemalloc2)")
    env = {"default": dict(os.environ), "jemalloc": {**os.environ, "LD_PRELOAD": lib, **({"MALLOC_CONF": conf} if conf else {})}}
    result = {"threads": torch.get_num_threads(), "jemalloc": lib, "malloc_conf": conf, "train": {}}
    for shape in SHAPES:
        runs = {k: [] for k in env}
        for _ in range(repeat):
            for name in runs:
                out = subprocess.run([sys.executable, __file__, "--child", str(folder), shape], env=env[name],
                                     capture_output=True, text=True, check=True)
                runs[name].append(json.loads(out.stdout.strip().splitlines()[-1]))
        row = {k: {m: [round(r[m], 1) if m == "samples_per_s" else r[m] for r in v]
                   for m in ("samples_per_s", "page_faults", "peak_mb")} for k, v in runs.items()}
        med = {k: statistics.median(v["samples_per_s"]) for k, v in row.items()}
        row["speedup"] = round(med["jemalloc"] / med["default"], 2)
        result["train"][shape] = row
        print(f"{shape}: glibc malloc {med['default']:.1f}, jemalloc {med['jemalloc']:.1f} samples/s: "
              f"{row['speedup']}x (page faults an epoch {statistics.median(row['default']['page_faults']):.0f} -> "
              f"{statistics.median(row['jemalloc']['page_faults']):.0f}; peak "
              f"{max(row['default']['peak_mb'])} / {max(row['jemalloc']['peak_mb'])} MB)", flush=True)
    write("bench_train_jemalloc" + ("" if conf == JEMALLOC_CONF else "_default_decay" if not conf else "_conf"), result)
    return result


if __name__ == "__main__":
    main()
