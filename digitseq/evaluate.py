"""Evaluate a model on a labelled folder: metrics, per-length accuracy, worst errors. Torch-free with ONNX."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

from .breakdown import columns_values, group_accuracy
from .errors import DataError
from .image import read_labels
from .metrics import COVERAGES, confidence_report, evaluate, worst_errors
from .recognize import Recognizer


def evaluate_folder(data: str | Path, model: str | Path | Recognizer | None = None, images: str | Path | None = None,
                    beam_width: int = 1, batch_size: int = 128, errors: int = 0, progress: bool = False,
                    backend: str = "auto", textline: bool | None = None, threads: int | None = None,
                    margin: int | None = None, tta: str | bool = "auto", readings: str | None = None,
                    partner: str | Path | None = None, confidence_coverages: Sequence[float] = COVERAGES,
                    pad_edges: bool = False, length=None, chars: str | None = None, by: Sequence[str] = ()) -> dict:
    """Read every image of ``data`` with ``model`` (a Recognizer, a model name or a path; default the
    shipped digit model); return what :func:`digitseq.metrics.evaluate` returns plus ``errors`` (the
    worst ``errors`` mistakes), ``model``, ``data``, ``backend``, ``textline``, ``margin``, ``batch_size`` and
    the time taken. ``tta``: auto / all / off, ``readings``: four / seven (:mod:`digitseq.tta`; both ignored when
    ``model`` is a Recognizer, which has its own settings), ``partner``: the second look's second model (a name or
    path, "off", None for the model's own; :meth:`Recognizer.load`), ``pad_edges``: margins for lines cut out at their
    text (:meth:`Recognizer.load`; ignored with a Recognizer); ``confidence_coverages``: the shares of surest
    readings ``confidence`` reports (:func:`digitseq.metrics.confidence_report`); ``length``, ``chars``: read only
    texts of that shape (:meth:`Recognizer.load`; ignored with a Recognizer); ``by``: columns to break the accuracy
    down by (``report["by"][column]``: each value's n, correct, sequence accuracy and CER, worst first; any column
    of the labels CSV, a generated folder's ``font`` / ``family``, or ``style``: :func:`digitseq.breakdown.columns_values`),
    checked before any image is read."""
    rec = model if isinstance(model, Recognizer) else Recognizer.load(model, backend=backend, textline=textline,
                                                                       threads=threads, margin=margin, tta=tta,
                                                                       readings=readings, partner=partner,
                                                                       pad_edges=pad_edges, length=length,
                                                                       chars=chars)
    ls = read_labels(data, images, alphabet=rec.alphabet)
    groups = columns_values(data, [by] if isinstance(by, str) else by, images, paths=ls.paths) if by else {}
    t0 = time.perf_counter()
    preds = []
    for _, pred, err in rec.predict_files(ls.paths, batch_size=batch_size, beam_width=beam_width, progress=progress):
        if err is not None:
            raise DataError(err)
        preds.append(pred)
    seconds = time.perf_counter() - t0
    texts = [p.text for p in preds]
    confidences = [p.confidence for p in preds]
    report = evaluate(ls.labels, texts)
    report["confidence"] = confidence_report(confidences, [t == y for t, y in zip(texts, ls.labels)],
                                             confidence_coverages)
    if rec.codec.length or rec.codec.chars:    # read under a constraint: the labels it rules out cannot be read right
        report["labels_not_fitting"] = sum(not rec.codec.allows(y) for y in ls.labels)
    if groups:
        report["by"] = {column: group_accuracy(ls.labels, texts, values, cer=True) for column, values in groups.items()}
    report["errors"] = [{**e, "path": str(ls.paths[e["index"]])}
                        for e in worst_errors(ls.labels, texts, confidences, errors)]
    report.update(data=str(data), model=rec.checkpoint.get("path", "?"), backend=rec.backend,
                  textline=rec.textline, pad_edges=rec.pad_edges, margin=rec.margin, tta=rec.tta, readings=rec.readings,
                  partner=rec.partner.checkpoint.get("path") if rec.partner else None, batch_size=batch_size,
                  length=rec.codec.length, chars=rec.codec.chars,
                  beam_width=beam_width, seconds=round(seconds, 2))
    return report


BY_SHOWN = 15       # groups format_report lists for each --by column (the JSON has them all)


def format_report(report: dict) -> str:
    lines = [f"{report['data']}: {report['n']} images, model {report['model']}"]
    if report.get("length") or report.get("chars"):       # read as constrained (--length, --chars)
        lines[0] += "; read only texts" + (f" of length {report['length']}" if report.get("length") else "") + (
            f" of the characters {report['chars']!r}" if report.get("chars") else "")
        if report.get("labels_not_fitting"):
            lines.append(f"  note: {report['labels_not_fitting']} of the labels do not fit that constraint, so cannot "
                         "be read right")
    for key in ("sequence_accuracy", "char_accuracy", "cer", "char_precision", "char_recall", "char_f1"):
        if key in report:
            lines.append(f"  {key:<18} {report[key]:.4f}")
    by_len = report.get("by_length", {})
    if len(by_len) > 1:
        lines.append("  by length: " + "  ".join(f"{k}:{v['sequence_accuracy']:.3f}(n={v['n']})" for k, v in by_len.items()))
    errs = sorted(report.get("confusions", []) + report.get("deletions", []) + report.get("insertions", []),
                  key=lambda r: (-r["count"], r["truth"], r["pred"]))[:10]
    if errs:
        ops = report.get("edit_ops", {})
        lines.append(f"  character errors: {ops.get('substitutions', 0)} substituted, {ops.get('deletions', 0)} dropped, "
                     f"{ops.get('insertions', 0)} inserted; most frequent (truth -> prediction, '' = none):")
        for k in range(0, len(errs), 5):
            lines.append("    " + "  ".join(f"{r['truth']!r}->{r['pred']!r}:{r['count']}" for r in errs[k:k + 5]))
    if len(report.get("by_class", {})) > 1:   # one class alone repeats the overall numbers
        lines.append(f"  {'by class':<14}{'support':>9}{'recall':>9}{'precision':>11}{'f1':>8}")
        for name, c in report["by_class"].items():
            lines.append(f"    {name:<12}{c['support']:>9}{c['recall']:>9.4f}{c['precision']:>11.4f}{c['f1']:>8.4f}")
    conf = report.get("confidence")
    if conf and conf["auroc"] is not None:   # some readings right, some wrong
        lines.append(f"  confidence: AUROC {conf['auroc']:.3f} (the chance a right reading is surer than a wrong one)")
        for r in conf["coverage"]:
            lines.append(f"    the surest {100 * r['share']:.0f} % (confidence >= {r['threshold']:.3f}): "
                         f"{100 * r['accuracy']:.1f} % right")
    for column, rows in report.get("by", {}).items():
        shown = list(rows.items())[:BY_SHOWN]
        more = f"; the {BY_SHOWN} worst of {len(rows)}" if len(rows) > BY_SHOWN else ""
        lines.append(f"  by {column} (worst first{more}):")
        shown = [(" ".join(g.split()), r) for g, r in shown]       # a cell's line breaks kept off the table
        width = max(len(g) for g, _ in shown)
        for g, r in shown:
            lines.append(f"    {g:<{width}}  {100 * r['sequence_accuracy']:5.1f} %  ({r['correct']}/{r['n']})"
                         f"  CER {r['cer']:.4f}")
    if report.get("errors"):
        lines.append("  worst errors (truth -> prediction, edit distance, confidence):")
        for e in report["errors"]:
            lines.append(f"    {e['truth']!r} -> {e['prediction']!r}  d={e['distance']}  conf={e['confidence']:.3f}  {e['path']}")
    return "\n".join(lines)
