"""Shared helpers for the benchmark scripts: timing with warm-up and medians, machine facts, JSON output."""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "results"


def machine() -> dict:
    return {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
            "processor": platform.processor() or platform.machine()}


def timed(fn, repeat: int = 3, warmup: int = 1) -> dict:
    """Run ``fn`` warmup + repeat times; the median and all timings of the measured runs, in seconds."""
    for _ in range(warmup):
        fn()
    runs = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t0)
    return {"median_s": statistics.median(runs), "runs_s": [round(r, 4) for r in runs]}


def model_tag(model: str) -> str:
    """Suffix of a result file's name for a ``--model`` argument: none for the default digit model."""
    return "" if model == "digits" else f"_{Path(model).stem}"


def write(name: str, data: dict) -> Path:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps({"machine": machine(), **data}, indent=1))
    return path


# A small launcher runs the measured command as its child and reports the child's wall time and its own
# peak RSS from wait4(). ru_maxrss is a maximum carried across fork and exec, so it must come from a parent
# smaller than the measured process: this bare interpreter (~10 MB), never the benchmark process itself.
_LAUNCH = ("import json, os, subprocess, sys, time\n"
           "t0 = time.perf_counter()\n"
           "p = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)\n"
           "err = p.stderr.read()\n"
           "_, status, ru = os.wait4(p.pid, 0)\n"
           "wall = time.perf_counter() - t0\n"
           "print(json.dumps({'wall_s': wall, 'peak_rss_kb': ru.ru_maxrss, 'rc': os.waitstatus_to_exitcode(status),"
           " 'stderr': err.decode(errors='replace')[-2000:]}))\n")


def whole_process(cmd: list[str], env: dict | None = None) -> dict:
    """Run ``cmd`` as a fresh process: wall seconds (interpreter start-up included), peak RSS in MB, exit code.

    Raises RuntimeError with the tail of its stderr if the command fails.
    """
    proc = subprocess.run([sys.executable, "-I", "-S", "-c", _LAUNCH, *cmd], capture_output=True, text=True,
                          env=env, check=True)
    r = json.loads(proc.stdout)
    if r["rc"] != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited with {r['rc']}: {r['stderr'].strip()[-500:]}")
    return {"wall_s": round(r["wall_s"], 3), "peak_rss_mb": round(r["peak_rss_kb"] / 1024, 1), "stderr": r["stderr"]}
