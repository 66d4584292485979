"""Is a hard test hard because of its fonts or because of its style? The same style, two font pools.

    python benchmarks/bench_style_gap.py [--model digits|ascii|PATH] [--count 600] [--styles wild,captcha]

For each style, ``count`` strings are drawn by our renderer twice with the same seed: once in the
*training* font families, once in the held-out *wild* families (never trained on). The first number says
how well the model reads the style itself; the gap to the second is what unseen fonts cost on top. (Issue
9's wild test mixes both; this separates them. The shipped make-run model read the wild style 58 % right
in training fonts and 47 % in unseen ones: the style, not the fonts, was most of the gap.) The images go
to a temporary folder; results to ``results/bench_style_gap[_<model>].json``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, model_tag, write  # noqa: E402

from digitseq import ASCII  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="digits", help="shipped model name or a .pt/.onnx path")
    ap.add_argument("--count", type=int, default=600, help="images per style and font pool")
    ap.add_argument("--styles", default="wild,captcha", help="comma-separated RenderStyle names")
    ap.add_argument("--seed", type=int, default=123)
    a = ap.parse_args(argv)
    from digitseq.evaluate import evaluate_folder
    from digitseq.generate import generate
    from digitseq.recognize import Recognizer

    rec = Recognizer.load(a.model)
    alphabet = rec.alphabet
    lengths = (6, 12) if alphabet == ASCII else (5, 5)
    results = {}
    print("| style | training fonts | unseen (wild) fonts | gap |\n|---|---|---|---|")
    with tempfile.TemporaryDirectory(prefix="digitseq-gap-") as tmp:
        for style in a.styles.split(","):
            row = {}
            for split in ("train", "wild"):
                folder = generate(Path(tmp) / f"{style}_{split}", a.count, min_length=lengths[0],
                                  max_length=lengths[1], font_dir=ROOT / "font", split=split, style=style,
                                  seed=a.seed, alphabet=alphabet, progress=False).parent
                r = evaluate_folder(folder, rec)
                row[split] = {k: r[k] for k in ("n", "sequence_accuracy", "char_accuracy", "cer")}
            results[style] = row
            tr, wi = row["train"]["sequence_accuracy"], row["wild"]["sequence_accuracy"]
            print(f"| {style} | {100 * tr:.1f} % | {100 * wi:.1f} % | {100 * (tr - wi):.1f} pt |", flush=True)
    path = write(f"bench_style_gap{model_tag(a.model)}", {"model": a.model, "count": a.count, "seed": a.seed,
                                          "lengths": lengths, "styles": results})
    print(f"-> {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
