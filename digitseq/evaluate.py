"""Evaluate a CRNN checkpoint on a labelled folder: metrics, per-length accuracy, worst errors."""

from __future__ import annotations

import time
from pathlib import Path

from .data import read_labels
from .metrics import evaluate, worst_errors
from .recognize import Recognizer


def evaluate_folder(data: str | Path, model: str | Path | Recognizer | None = None, images: str | Path | None = None,
                    beam_width: int = 1, batch_size: int = 128, errors: int = 0, progress: bool = False) -> dict:
    """Read every image of ``data`` with ``model``; return the metrics of :mod:`digitseq.metrics` plus
    ``errors`` (the worst ``errors`` mistakes), ``model`` and ``data``, and the time taken."""
    rec = model if isinstance(model, Recognizer) else Recognizer.load(model)
    ls = read_labels(data, images, alphabet=rec.alphabet)
    t0 = time.perf_counter()
    preds = rec.predict(list(ls.paths), batch_size=batch_size, beam_width=beam_width)
    seconds = time.perf_counter() - t0
    texts = [p.text for p in preds]
    report = evaluate(ls.labels, texts)
    report["errors"] = [{**e, "path": str(ls.paths[e["index"]])}
                        for e in worst_errors(ls.labels, texts, [p.confidence for p in preds], errors)]
    report.update(data=str(data), model=rec.checkpoint.get("path", "?"), beam_width=beam_width,
                  seconds=round(seconds, 2))
    return report


def format_report(report: dict) -> str:
    lines = [f"{report['data']}: {report['n']} images, model {report['model']}"]
    for key in ("sequence_accuracy", "char_accuracy", "cer", "char_precision", "char_recall", "char_f1"):
        lines.append(f"  {key:<18} {report[key]:.4f}")
    by_len = report["by_length"]
    if len(by_len) > 1:
        lines.append("  by length: " + "  ".join(f"{k}:{v['sequence_accuracy']:.3f}(n={v['n']})" for k, v in by_len.items()))
    if report.get("errors"):
        lines.append("  worst errors (truth -> prediction, edit distance, confidence):")
        for e in report["errors"]:
            lines.append(f"    {e['truth']!r} -> {e['prediction']!r}  d={e['distance']}  conf={e['confidence']:.3f}  {e['path']}")
    return "\n".join(lines)
