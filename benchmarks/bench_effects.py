"""Which of the wild style's effects does the model fail on? One effect at a time, the rest switched off.

    python benchmarks/bench_effects.py [--model digits|ascii|PATH] [--count 300] [--split test] [--effects a,b]

The `wild` style turns on ~20 effects at once (frames, boxes, dot matrix, perspective, warps, clutter, ...),
so a wild test's error rate says little about which of them the model cannot read. Here every row draws
``count`` strings (8 digits; 8 characters for an ASCII model) with the wild style's base degradations
(colours, blur, noise, JPEG, ...) and **every extra effect off** except one, which is on for every image
(probability 1, the wild style's strengths). The first row (``none``) has them all off. Fonts come from
one split, the held-out ``test`` families by default (fonts never trained on but ordinary, which the
classic style reads ~99 % right), so a row's drop from ``none`` is what that effect costs. All rows use the
same seed: the same strings in the same fonts. Images go to a temporary folder; results to
``results/bench_effects_<split>[_<model>].json``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, model_tag, write  # noqa: E402


def styles(effects: list[str]):
    """(name, style): the wild style with every extra effect off, then each of ``effects`` alone at 1."""
    from digitseq.render import EXTRA_EFFECTS, RenderStyle

    base = RenderStyle.wild().with_(**{e: 0.0 for e in EXTRA_EFFECTS})
    yield "none", base
    for e in effects:
        yield e, base.with_(**{e: 1.0})


def main(argv=None) -> int:
    from digitseq.render import EXTRA_EFFECTS

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="digits", help="shipped model name or a .pt/.onnx path")
    ap.add_argument("--count", type=int, default=300, help="images per effect")
    ap.add_argument("--split", default="test", help="font split to draw in: test, wild or train")
    ap.add_argument("--effects", default=",".join(EXTRA_EFFECTS), help="comma-separated RenderStyle fields")
    ap.add_argument("--length", type=int, default=8, help="characters per string")
    ap.add_argument("--seed", type=int, default=321)
    ap.add_argument("--workers", type=int, default=1, help="rendering processes")
    a = ap.parse_args(argv)
    effects = [e for e in a.effects.split(",") if e]
    unknown = sorted(set(effects) - set(EXTRA_EFFECTS))
    if unknown:
        ap.error(f"unknown effect(s) {', '.join(unknown)}; choose from {', '.join(EXTRA_EFFECTS)}")
    from digitseq.evaluate import evaluate_folder
    from digitseq.generate import generate
    from digitseq.recognize import Recognizer

    rec = Recognizer.load(a.model)
    rows = {}
    print("| effect (alone, every image) | sequence accuracy | character accuracy | vs none |\n|---|---|---|---|")
    with tempfile.TemporaryDirectory(prefix="digitseq-effects-") as tmp:
        for name, style in styles(effects):
            folder = generate(Path(tmp) / name, a.count, min_length=a.length, font_dir=ROOT / "font",
                              split=a.split, style=style, seed=a.seed, alphabet=rec.alphabet,
                              workers=a.workers, progress=False).parent
            r = evaluate_folder(folder, rec)
            rows[name] = {k: r[k] for k in ("n", "sequence_accuracy", "char_accuracy", "cer")}
            drop = 100 * (r["sequence_accuracy"] - rows["none"]["sequence_accuracy"])
            print(f"| {name} | {100 * r['sequence_accuracy']:.1f} % | {100 * r['char_accuracy']:.1f} % "
                  f"| {drop:+.1f} pt |", flush=True)
    path = write(f"bench_effects_{a.split}{model_tag(a.model)}", {"model": a.model, "count": a.count, "split": a.split,
                                                          "length": a.length, "seed": a.seed, "effects": rows})
    print(f"-> {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
