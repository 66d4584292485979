"""A non-digit alphabet end to end: printable-ASCII passwords, fine-tuned from the shipped digit model.

    python examples/passwords.py [--train 20000] [--epochs 8]

Renders password-like strings (6-12 characters of the 94 printable ASCII characters) with the project's
renderer, trains with `digitseq train --init Model/CRNN/crnn.pt --alphabet ...`, and evaluates on
passwords drawn in the held-out test fonts. Writes results/passwords.json (metrics + times).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from digitseq import DEFAULT_CRNN, ROOT
from digitseq.cli import main as digitseq
from digitseq.codec import PRINTABLE_ASCII


def step(name: str, args: list[str], times: dict) -> None:
    print(f"$ digitseq {' '.join(a if ' ' not in a and '$' not in a else repr(a) for a in args)}", flush=True)
    t0 = time.time()
    code = digitseq(args)
    times[name] = round(time.time() - t0, 1)
    if code != 0:
        raise SystemExit(code)


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--train", type=int, default=20000)
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--img", default=str(ROOT / "img"))
    ap.add_argument("--out", default=str(ROOT / "runs" / "passwords"))
    ap.add_argument("--results", default=str(ROOT / "results" / "passwords.json"))
    a = ap.parse_args(argv)
    img = Path(a.img)
    common = ["--min-length", "6", "--max-length", "12", "--alphabet", PRINTABLE_ASCII, "--force"]
    times: dict = {}
    step("generate_train", ["generate", str(img / "pw_train"), "--count", str(a.train), "--split", "train", "--seed", "21", *common], times)
    step("generate_val", ["generate", str(img / "pw_val"), "--count", "500", "--split", "train", "--seed", "22", *common], times)
    step("generate_test", ["generate", str(img / "pw_test"), "--count", "1000", "--split", "test", "--seed", "23", *common], times)
    step("train", ["train", str(img / "pw_train"), "--val", str(img / "pw_val"), "--init", str(DEFAULT_CRNN),
                   "--alphabet", PRINTABLE_ASCII, "--epochs", str(a.epochs), "--lr", "2e-3", "--out", a.out, "--force"], times)
    report_path = Path(a.results)
    step("evaluate", ["evaluate", str(img / "pw_test"), "--model", str(Path(a.out) / "crnn.pt"), "--json",
                      str(report_path), "--errors", "10", "--force"], times)
    report = json.loads(report_path.read_text())
    report.update(times=times, train_images=a.train, epochs=a.epochs, init=str(DEFAULT_CRNN.relative_to(ROOT)))
    report_path.write_text(json.dumps(report, indent=1, ensure_ascii=False))
    return report


if __name__ == "__main__":
    main()
