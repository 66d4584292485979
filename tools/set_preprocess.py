"""Change how a trained model is read, without touching its weights: keys of its ``preprocess`` metadata.

    python tools/set_preprocess.py digitseq/weights/ascii.pt tta_readings=seven
    python tools/set_preprocess.py Model/CRNN_ascii/crnn.pt tta_readings=seven margin=32

Each ``KEY=VALUE`` (VALUE as JSON, else as a string) is set in the ``.pt`` checkpoint's ``preprocess`` dict and,
when the ``.onnx`` beside it exists, in that file's ``preprocess`` metadata; both are written atomically, the
weights and every other key left as they are. Recognition reads these keys (``textline``, ``margin``,
``tta_readings``: :mod:`digitseq.recognize`), and a model fine-tuned from the checkpoint keeps ``margin`` and
``tta_readings``. Needs the training extra (torch, onnx).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def parse_value(text: str):
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("checkpoint", type=Path, help="a CRNN .pt checkpoint (its .onnx beside it is updated too)")
    ap.add_argument("settings", nargs="+", metavar="KEY=VALUE")
    a = ap.parse_args(argv)
    if not a.checkpoint.is_file():
        print(f"set_preprocess: {a.checkpoint}: no such file", file=sys.stderr)
        return 2
    updates = {}
    for item in a.settings:
        key, sep, value = item.partition("=")
        if not sep or not key:
            print(f"set_preprocess: {item!r}: expected KEY=VALUE", file=sys.stderr)
            return 2
        updates[key] = parse_value(value)
    if "tta_readings" in updates:
        from digitseq.errors import DataError
        from digitseq.tta import check_readings

        try:
            check_readings(updates["tta_readings"])
        except DataError as exc:
            print(f"set_preprocess: {exc}", file=sys.stderr)
            return 2
    from digitseq.export import update_preprocess

    for path in update_preprocess(a.checkpoint, updates):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
