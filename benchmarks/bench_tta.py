"""How test-time augmentation's variants were chosen: each candidate alone, and sets of them combined.

    python benchmarks/bench_tta.py                          # the development sets the choice was made on
    python benchmarks/bench_tta.py --sets wild_five_digits,captcha_digits_500 --out results/bench_tta_report.json

Every image is read and cropped once, then resized each candidate way (``CANDIDATES``) and read by the model;
then readings are combined as :func:`digitseq.tta.combine` does (the text with the largest sum of
confidences) for each set of candidates in ``COMBINATIONS``, and by the oracle (right if any variant is
right: the ceiling of any rule). The shipped set, :data:`digitseq.tta.VARIANTS`, was picked on the default
sets only, which the README's reported sets do not include: ``val`` (notebook 3's validation images, training
fonts, the mixed style) and ``tta_dev_wild5`` (1,000 wild-style 5-digit images in the training fonts, drawn
here with a seed no training set uses).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import RESULTS, ROOT, machine, model_tag  # noqa: E402

DEV_SETS = ["val", "tta_dev_wild5"]
DEV_WILD = {"count": 1000, "min_length": 5, "max_length": 5, "split": "train", "style": "wild", "seed": 424242}
COMBINATIONS = {
    "plain+wide+wider": ["plain", "wide", "wider"],
    "plain+wide+wider+thin (shipped)": ["plain", "wide", "wider", "thin"],
    "plain+wide+wider+tight": ["plain", "wide", "wider", "tight"],
    "plain+wide+wider+tight+thin": ["plain", "wide", "wider", "tight", "thin"],
    "plain+wide+wider+thin+contrast": ["plain", "wide", "wider", "thin", "contrast"],
    "seven": ["plain", "narrow", "wide", "wider", "tight", "loose", "thin"],
}


def candidates(grey: np.ndarray, height: int) -> dict[str, np.ndarray]:
    from PIL import Image, ImageOps

    from digitseq.image import fit_height
    from digitseq.textline import PAD_X, PAD_Y, crop_to_text
    from digitseq.tta import thin_strokes

    def fit(a, stretch=1.0):
        return fit_height(Image.fromarray(np.ascontiguousarray(a)), height, stretch=stretch)

    crop = crop_to_text(grey)
    plain = fit(crop)
    thick = 255 - thin_strokes(255 - plain)   # thinning the background = thickening the ink
    return {
        "plain": plain, "narrow": fit(crop, 0.87), "narrower": fit(crop, 0.75), "wide": fit(crop, 1.15),
        "wider": fit(crop, 1.33), "tight": fit(crop_to_text(grey, pad_y=PAD_Y / 2, pad_x=PAD_X / 2)),
        "loose": fit(crop_to_text(grey, pad_y=PAD_Y * 2, pad_x=PAD_X * 2)), "no_deskew": fit(crop_to_text(grey, deskew=False)),
        "uncropped": fit(grey), "thin": thin_strokes(plain), "thick": thick,
        "contrast": np.asarray(ImageOps.autocontrast(Image.fromarray(plain), cutoff=2)),
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="digits")
    ap.add_argument("--sets", default=",".join(DEV_SETS), help="folders under img/ (default: the development sets)")
    ap.add_argument("--out", default=None, help="JSON (default results/bench_tta.json)")
    a = ap.parse_args(argv)
    from digitseq.generate import generate
    from digitseq.image import open_image, read_labels, to_grey
    from digitseq.recognize import Recognizer, predict_arrays
    from digitseq.tta import combine

    rec = Recognizer.load(a.model)
    if not rec.textline:
        raise SystemExit(f"{a.model}: the candidates are ways of cropping and resizing the text line; this model "
                         "does not crop")
    report = {"model": a.model, "machine": machine(), "sets": {}}
    print("| set | n | " + " | ".join(["plain", "best other alone", "oracle (all)", *COMBINATIONS]) + " |")
    for s in a.sets.split(","):
        folder = ROOT / "img" / s
        if s == "tta_dev_wild5" and not (folder / "labels.csv").is_file():
            generate(folder, font_dir=ROOT / "font", alphabet=rec.alphabet, overwrite=True, **DEV_WILD)
        ls = read_labels(folder, alphabet=rec.alphabet)
        variants: dict[str, list[np.ndarray]] = {}
        for path in ls.paths:
            for name, arr in candidates(np.asarray(to_grey(open_image(path, grey=True))), rec.input_height).items():
                variants.setdefault(name, []).append(arr)
        reads = {name: predict_arrays(rec.runner, rec.codec, arrays, 32, rec.normalisation, margin=rec.margin)
                 for name, arrays in variants.items()}
        truth = ls.labels

        def accuracy(texts, truth=truth):
            return round(100 * float(np.mean([t == y for t, y in zip(texts, truth)])), 2)

        alone = {name: accuracy([p.text for p in preds]) for name, preds in reads.items()}
        combos = {c: accuracy([combine([reads[v][i] for v in names]).text for i in range(len(truth))])
                  for c, names in COMBINATIONS.items()}
        oracle = accuracy([next((y for v in reads if reads[v][i].text == y), None) for i, y in enumerate(truth)])
        report["sets"][s] = {"n": len(truth), "alone": alone, "combined": combos, "oracle": oracle}
        other = max((v for v in alone if v != "plain"), key=alone.get)
        print(f"| {s} | {len(truth)} | {alone['plain']} | {other} {alone[other]} | {oracle} | "
              + " | ".join(str(v) for v in combos.values()) + " |", flush=True)
    path = Path(a.out) if a.out else RESULTS / f"bench_tta{model_tag(a.model)}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=1))
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
