"""How well a reading's confidence separates right readings from wrong ones: the number to threshold on.

    python benchmarks/bench_confidence.py [--model digits|ascii|PATH] [--sets val,tta_dev_wild5,...] [--tta auto|off]

A user who sends unsure readings to a person keeps the surest ones: what matters is how well the confidence
ranks errors below right readings. Per set (folders under img/, read as ``digitseq evaluate`` reads them):

  auroc          the chance that a right reading has a higher confidence than a wrong one (0.5: no better than
                 chance, 1.0: every error below every right reading)
  acc_at         sequence accuracy of the surest 50 / 80 / 90 / 100 % of the images
  mean_conf      the mean confidence, beside the accuracy (for a calibrated score they are equal)

Results: ``results/bench_confidence[_<model>]_<tta>.json``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, model_tag, write  # noqa: E402

COVERAGES = (0.5, 0.8, 0.9, 1.0)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="digits")
    ap.add_argument("--sets", default="val,tta_dev_wild5,tta_dev_captcha5",
                    help="comma-separated folders under --img (default: the development sets)")
    ap.add_argument("--img", default=str(ROOT / "img"))
    ap.add_argument("--tta", default="auto", choices=("auto", "all", "off"))
    a = ap.parse_args(argv)
    from digitseq.evaluate import evaluate_folder
    from digitseq.recognize import Recognizer

    rec = Recognizer.load(a.model, tta=a.tta)
    results = {}
    print(f"| set | n | accuracy | mean confidence | AUROC | accuracy of the surest {' / '.join(f'{c:.0%}' for c in COVERAGES)} |")
    print("|---|---|---|---|---|---|")
    for name in a.sets.split(","):
        folder = Path(a.img) / name
        if not (folder / "labels.csv").is_file():
            print(f"| {name} | - | missing | | | |")
            continue
        report = evaluate_folder(folder, rec, confidence_coverages=COVERAGES)   # as digitseq evaluate reads
        conf = report["confidence"]
        r = {"n": report["n"], "accuracy": report["sequence_accuracy"], "mean_confidence": conf["mean_confidence"],
             "auroc": conf["auroc"], "accuracy_at": {str(c["share"]): c["accuracy"] for c in conf["coverage"]}}
        results[name] = r
        print(f"| {name} | {r['n']} | {100 * r['accuracy']:.1f} % | {r['mean_confidence']:.3f} | {r['auroc']:.3f} | "
              + " / ".join(f"{100 * v:.1f}" for v in r["accuracy_at"].values()) + " |", flush=True)
    path = write(f"bench_confidence{model_tag(a.model)}_{a.tta}", {"model": a.model, "tta": a.tta, "sets": results})
    print(f"-> {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
