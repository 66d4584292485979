"""Accuracy by the size the text was drawn at: how much of a set's error is text too small to read?

    python benchmarks/bench_text_size.py [--model digits|ascii|PATH] [SET ...]   (default: the three wild sets)

Each SET is a folder our renderer wrote (``digitseq generate`` or notebook 1: ``labels.csv``, ``meta.json``).
The renderer is deterministic, so every image is drawn again from its index, seed and style to recover the
font size in pixels it ended with (``render(..., steps=...)["size"]``, after any shrinking of a stressed
layout); the labels drawn again must equal the folder's, or the script stops. The model reads the folder's
own files, and accuracy is reported by font size (a digit is roughly 0.7 of it tall). Results to
``results/bench_text_size[_<model>].json``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, model_tag, write  # noqa: E402

if TYPE_CHECKING:
    from digitseq.image import LabelledSet

BUCKETS = [(0, 14), (14, 18), (18, 24), (24, 32), (32, 10_000)]


def drawn_sizes(data: LabelledSet, font_dir: Path) -> tuple[list[int], int]:
    """The final font size of every image of ``data`` (a folder our renderer wrote, read with ``read_labels``),
    drawn again from the folder's meta.json, and how many of the images drawn again equal the files pixel for pixel."""
    import numpy as np
    from PIL import Image

    from digitseq.fonts import load_fonts
    from digitseq.generate import draw_label
    from digitseq.render import RenderStyle, render

    folder = data.source.parent
    meta = json.loads((folder / "meta.json").read_text())
    fonts = load_fonts(font_dir, split=meta["split"], alphabet=meta["alphabet"])
    style = RenderStyle.from_dict(meta["style"])
    sizes, same = [], 0
    for i, (path, want) in enumerate(zip(data.paths, data.labels)):
        label, font, rng = draw_label(i, meta["seed"], fonts, meta["alphabet"], meta["min_length"], meta["max_length"])
        if label != want:
            raise SystemExit(f"{folder}: image {i} was drawn with other fonts or code (label {want!r}, now {label!r})")
        steps: dict = {}
        img = render(label, font.path, style, rng, steps=steps, alt_fonts=[f.path for f in fonts if f.path != font.path])
        with Image.open(path) as saved:
            same += bool(np.array_equal(np.asarray(saved.convert("RGB")), np.asarray(img)))
        sizes.append(int(steps["size"]))
    return sizes, same


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("sets", nargs="*", default=["wild_five_digits", "wild_12_digits", "wild_1_20_digits"],
                    help="folders under img/ (or paths) written by our renderer")
    ap.add_argument("--model", default="digits", help="shipped model name or a .pt/.onnx path")
    a = ap.parse_args(argv)
    from digitseq.image import read_labels
    from digitseq.recognize import Recognizer

    rec = Recognizer.load(a.model)
    results = {}
    for name in a.sets:
        folder = Path(name) if Path(name).is_dir() else ROOT / "img" / name
        data = read_labels(folder)
        sizes, same = drawn_sizes(data, ROOT / "font")
        preds = rec.predict(list(data.paths))
        ok = [p.text == t for p, t in zip(preds, data.labels)]
        rows = []
        print(f"\n{folder.name}: {100 * sum(ok) / len(ok):.1f} % of {len(ok)}; {same} of them drawn again pixel for "
              f"pixel\n| font size (px) | images | sequence accuracy |\n|---|---|---|")
        for lo, hi in BUCKETS:
            hit = [k for k, s in zip(ok, sizes) if lo <= s < hi]
            acc = sum(hit) / len(hit) if hit else None
            rows.append({"min": lo, "max": hi, "n": len(hit), "sequence_accuracy": acc})
            label = f"{lo}–{hi - 1}" if hi < 10_000 else f"≥ {lo}"
            print(f"| {label} | {len(hit)} | {'—' if acc is None else f'{100 * acc:.1f} %'} |")
        results[folder.name] = {"n": len(ok), "sequence_accuracy": sum(ok) / len(ok), "redrawn_identical": same,
                                "by_size": rows}
    path = write(f"bench_text_size{model_tag(a.model)}", {"model": a.model, "sets": results})
    print(f"-> {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
