"""One model on every held-out set the README reports, in one command: one JSON per set and a table.

    python benchmarks/eval_sets.py --model digits --out results/eval_shipped   # the digit sets
    python benchmarks/eval_sets.py --model ascii --out results/eval_ascii      # the ASCII sets
    python benchmarks/eval_sets.py --tta off --out results/eval_tta_off        # one reading each (digitseq.tta)
    python benchmarks/eval_sets.py --length labels --out results/eval_length/auto   # each set's own lengths given

Each set is read exactly as ``digitseq evaluate img/SET --model MODEL --json OUT/SET.json`` reads it (the
same function, the same batching), so a row here and that command agree. Sets that are missing are
skipped with a note: ``make release`` / ``make release-ascii`` draw the regular and wild ones,
``benchmarks/bench_foreign.py`` the matplotlib ones (``--renderer skia`` the Skia ones), ``benchmarks/bench_recognize.py`` the realistic files.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT  # noqa: E402

from digitseq import ASCII  # noqa: E402
from digitseq.tta import MODES, READINGS  # noqa: E402

DIGIT_SETS = ["test_five_digits", "test_12_digits", "test_1_20_digits", "wild_five_digits", "wild_12_digits",
              "wild_1_20_digits", "foreign_clean5", "foreign_aug5", "foreign_aug12", "foreign_aug1_20",
              "bench_recognize_5000", "skia_clean5", "skia_aug5", "skia_aug12", "skia_aug1_20"]
ASCII_SETS = ["ascii/test_ascii", "ascii/wild_ascii", "foreign_ascii", "skia_ascii"]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="digits", help="shipped model name or a .pt/.onnx path")
    ap.add_argument("--out", required=True, help="folder for one JSON per set (SET.json)")
    ap.add_argument("--sets", default=None, help="comma-separated folders under img/ (default: the model's sets)")
    ap.add_argument("--img", default=str(ROOT / "img"), help="where the sets are")
    ap.add_argument("--tta", choices=MODES, default=MODES[0],
                    help="test-time augmentation, as digitseq evaluate --tta")
    ap.add_argument("--readings", choices=READINGS, default=None,
                    help="how many ways, as digitseq evaluate --readings (default: the model's own)")
    ap.add_argument("--partner", default=None,
                    help="the second look's second model, as digitseq evaluate --partner (default: the model's own)")
    ap.add_argument("--pad-edges", action="store_true",
                    help="margins for lines cut out at their text, as digitseq evaluate --pad-edges")
    ap.add_argument("--length", default=None, metavar="N|MIN-MAX|labels",
                    help="read only texts of this length, as digitseq evaluate --length; 'labels': each set's own "
                         "range (its shortest to its longest label: what a user who knows the format would give)")
    ap.add_argument("--chars", default=None, help="read only these characters, as digitseq evaluate --chars")
    a = ap.parse_args(argv)
    from digitseq.evaluate import evaluate_folder
    from digitseq.image import read_labels
    from digitseq.recognize import Recognizer

    rec = Recognizer.load(a.model, tta=a.tta, readings=a.readings, partner=a.partner, pad_edges=a.pad_edges)
    if a.length != "labels" or a.chars:
        rec.constrain(None if a.length == "labels" else a.length, a.chars)
    sets = a.sets.split(",") if a.sets else (ASCII_SETS if rec.alphabet == ASCII else DIGIT_SETS)
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    print("| set | n | sequence % | CER |\n|---|---|---|---|")
    for s in sets:
        folder = Path(a.img) / s
        if not (folder / "labels.csv").is_file():
            print(f"| {s} | - | missing ({folder}) | |", flush=True)
            continue
        if a.length == "labels":
            lengths = [len(t) for t in read_labels(folder, alphabet=rec.alphabet).labels]
            rec.constrain((min(lengths), max(lengths)), a.chars)
        report = evaluate_folder(folder, rec)
        (out / f"{Path(s).name}.json").write_text(json.dumps(report, indent=1, ensure_ascii=False))
        print(f"| {s} | {report['n']} | {100 * report['sequence_accuracy']:.2f} | {report['cer']:.4f} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
