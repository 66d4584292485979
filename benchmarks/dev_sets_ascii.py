"""Two larger development sets for the ASCII model, in the training families (never reported, for choosing):

    python benchmarks/dev_sets_ascii.py            # img/ascii/dev/val and img/ascii/dev/foreign_dev_ascii

``val``: 4,000 strings of 6-12 characters drawn like ``release-ascii``'s 1,000-string validation set (our renderer,
the augmented style, seed 20261206); ``foreign_dev_ascii``: 2,000 drawn by matplotlib like
``bench_foreign.py --fonts train --model ascii`` but with seed 1 (that command's 500 use seed 0). At 60 % a
1,000-string set cannot tell a one-point gain from noise; 6,000 paired strings can
(``benchmarks/compare_models.py``). Each is drawn once; a folder already there is kept.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_foreign import make_set  # noqa: E402
from common import ROOT  # noqa: E402

from digitseq import ASCII  # noqa: E402
from digitseq.generate import generate  # noqa: E402

VAL = dict(count=4000, min_length=6, max_length=12, seed=20261206)
FOREIGN = dict(count=2000, seed=1)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(ROOT / "img" / "ascii" / "dev"))
    ap.add_argument("--scale", type=float, default=1.0, help="fraction of the counts (tests)")
    a = ap.parse_args(argv)
    out = Path(a.out)
    val = out / "val"
    if not (val / "labels.csv").is_file():
        generate(val, max(1, round(VAL["count"] * a.scale)), min_length=VAL["min_length"], max_length=VAL["max_length"],
                 split="train", style="augmented", seed=VAL["seed"], alphabet=ASCII, overwrite=True)
    print(val)
    print(make_set("ascii", max(1, round(FOREIGN["count"] * a.scale)), seed=FOREIGN["seed"], root=out, fonts="train"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
