"""Reading alone: realistic files decoded and preprocessed per second by thread and process readers.

    python benchmarks/bench_readers.py [--files 5000] [--repeat 3]

Issue 10: the measurement behind ``digitseq.image.use_processes``. The files are bench_recognize.py's
realistic set (benchmarks/realistic.py); each reader configuration runs ``digitseq.image.iter_loaded``
over them with the text-line crop on (as the shipped models read), no network. Reported: files/s,
median and all of ``--repeat`` passes. Results go to results/bench_readers.json.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import realistic  # noqa: E402
from common import ROOT, timed, write  # noqa: E402

from digitseq.image import iter_loaded, read_labels  # noqa: E402

CONFIGS = {"1 thread": (1, False), "2 threads": (2, False), "2 processes": (2, True)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=5000)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args(argv)
    paths = read_labels(realistic.build(ROOT / "img" / "bench_recognize_5000", 5000)).paths[:a.files]
    results = {}
    for name, (workers, processes) in CONFIGS.items():
        t = timed(lambda w=workers, p=processes: sum(1 for _ in iter_loaded(paths, 32, True, w, processes=p)),
                  repeat=a.repeat, warmup=0)
        results[name] = {"files_per_s": round(len(paths) / t["median_s"]),
                         "runs_files_per_s": [round(len(paths) / r) for r in t["runs_s"]]}
        print(f"{name:12} {results[name]['files_per_s']:>6} files/s  runs {results[name]['runs_files_per_s']}",
              flush=True)
    path = write("bench_readers", {"files": len(paths), "textline": True, "readers": results})
    print(f"-> {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
