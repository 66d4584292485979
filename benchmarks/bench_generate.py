"""Generation speed: N augmented 5-digit images (train fonts) into a scratch folder, all cores.

    python benchmarks/bench_generate.py [--count 20000] [--repeat 3]

Target (issue #2): 20,000 images in under 60 s on the 2-core machine.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import timed, write  # noqa: E402

from digitseq.generate import generate  # noqa: E402


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=20000)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args(argv)
    scratch = Path(tempfile.mkdtemp(prefix="bench-gen-"))

    def run():
        generate(scratch / "five", a.count, min_length=5, seed=0, overwrite=True, progress=False)

    try:
        t = timed(run, repeat=a.repeat, warmup=0)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    result = {"generate": {"count": a.count, **t, "images_per_s": round(a.count / t["median_s"], 1)}}
    print(f"generate {a.count} augmented 5-digit images: median {t['median_s']:.1f}s "
          f"({result['generate']['images_per_s']:.0f} images/s), runs {t['runs_s']}")
    write("bench_generate", result)
    return result


if __name__ == "__main__":
    main()
