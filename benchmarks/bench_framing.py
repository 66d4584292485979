"""Does the model read the text, or the crop's framing? The same images framed four ways.

    python benchmarks/bench_framing.py [--model digits|ascii|PATH] [--sets img/foreign_aug12,...] [--limit 500]

Every image of each labelled set is read with the model's own weights four times, changing only what
reaches the network:

- ``crop``: the text-line crop as recognition does it (``textline.crop_to_text``, margins ``PAD_Y``/``PAD_X``);
- ``wide``: the same crop with wider margins (``pad_y=0.3, pad_x=0.5`` band heights);
- ``tight``: no margin at all (``pad_y=0, pad_x=0``);
- ``none``: the whole image, no crop.

A model that depends on one framing loses accuracy on the others although the text is the same; the
``wide - crop`` column is the drop docs/HISTORY.md#framing-reframe talks about. Sets default to the
unseen-font digit sets (or the ASCII ones for an ASCII model); results go to
``results/bench_framing[_<model>].json``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, model_tag, write  # noqa: E402

from digitseq import ASCII  # noqa: E402

DIGIT_SETS = ["img/test_12_digits", "img/wild_five_digits", "img/wild_12_digits", "img/foreign_clean5",
              "img/foreign_aug12"]
ASCII_SETS = ["img/ascii/test_ascii", "img/ascii/wild_ascii", "img/foreign_ascii"]
FRAMINGS = {"crop": {}, "wide": {"pad_y": 0.3, "pad_x": 0.5}, "tight": {"pad_y": 0.0, "pad_x": 0.0}, "none": None}


def framed(path: Path, height: int, how: dict | None) -> np.ndarray:
    """One file as the network's input array, cropped with ``how`` (crop_to_text's margins) or not at all."""
    from digitseq.image import open_image, preprocess, to_grey
    from digitseq.textline import crop_to_text

    grey = np.asarray(to_grey(open_image(path, grey=True)))
    if how is not None:
        grey = np.ascontiguousarray(crop_to_text(grey, **how))
    return preprocess(grey, height, textline=False)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="digits", help="shipped model name or a .pt/.onnx path")
    ap.add_argument("--sets", default=None, help="comma-separated labelled folders (default: the unseen-font sets)")
    ap.add_argument("--limit", type=int, default=500, help="first N images of each set (0: all)")
    a = ap.parse_args(argv)
    from digitseq.image import read_labels
    from digitseq.metrics import evaluate
    from digitseq.recognize import Recognizer

    rec = Recognizer.load(a.model, textline=False)    # the framing is done here, once per variant
    sets = a.sets.split(",") if a.sets else (ASCII_SETS if rec.alphabet == ASCII else DIGIT_SETS)
    results = {}
    print("| set | n | " + " | ".join(FRAMINGS) + " | wide - crop |\n|---|---|" + "---|" * (len(FRAMINGS) + 1))
    for s in sets:
        folder = ROOT / s if not Path(s).is_absolute() else Path(s)
        ls = read_labels(folder, alphabet=rec.alphabet)
        n = len(ls) if a.limit <= 0 else min(a.limit, len(ls))
        row = {"n": n}
        for name, how in FRAMINGS.items():
            arrays = [framed(p, rec.input_height, how) for p in ls.paths[:n]]
            texts = [p.text for p in rec.predict(arrays, batch_size=32)]
            r = evaluate(ls.labels[:n], texts)
            row[name] = {k: r[k] for k in ("sequence_accuracy", "char_accuracy", "cer")}
        results[s] = row
        acc = [100 * row[f]["sequence_accuracy"] for f in FRAMINGS]
        print(f"| {s} | {n} | " + " | ".join(f"{x:.1f}" for x in acc)
              + f" | {acc[1] - acc[0]:+.1f} |", flush=True)
    path = write(f"bench_framing{model_tag(a.model)}", {"model": a.model, "limit": a.limit,
                                                        "framings": dict(FRAMINGS),
                                                        "sets": results})
    print(f"-> {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
