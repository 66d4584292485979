"""Accuracy side by side on our labelled test folders: digitseq, RapidOCR's recogniser, Tesseract 5.

    python benchmarks/bench_peers.py [--sets img/test_five_digits,...] [--limit N] [--model PATH|NAME]
        [--ascii-model PATH|NAME] [--backend onnx|torch] [--engines digitseq,rapidocr,tesseract]
        [--json results/bench_peers.json]

Each set is a folder with labels.csv (made by `digitseq generate`). Per set and engine: sequence accuracy,
character accuracy and CER (digitseq.metrics.evaluate) and images/s (recognition only, model loading
excluded). digitseq's output is scored as it comes. A peer's output is scored twice: "raw" (whitespace
removed) and "filtered" (NFKC-normalised, then only characters of the set's alphabet kept: digits-only on
digit sets); the filtered rows are a courtesy to engines that cannot be told the alphabet. Engines or folders
that are missing are skipped with a one-line note. Peers are optional: pip install -r requirements-peers.txt,
apt-get install tesseract-ocr.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import peers  # noqa: E402
from common import ROOT, machine  # noqa: E402

from digitseq.data import read_labels  # noqa: E402
from digitseq.errors import DataError  # noqa: E402
from digitseq.metrics import evaluate  # noqa: E402

# Our renderer's test and wild sets (make release / make release-ascii), then the ones drawn by matplotlib and by
# Skia (benchmarks/bench_foreign.py [--renderer skia]): all in font families never used in training.
DEFAULT_SETS = ["img/test_five_digits", "img/test_12_digits", "img/test_1_20_digits", "img/wild_five_digits",
                "img/wild_12_digits", "img/wild_1_20_digits", "img/foreign_clean5", "img/foreign_aug5",
                "img/foreign_aug12", "img/foreign_aug1_20", "img/ascii/test_ascii", "img/ascii/wild_ascii",
                "img/foreign_ascii", "img/skia_clean5", "img/skia_aug5", "img/skia_aug12", "img/skia_aug1_20",
                "img/skia_ascii"]
KEEP = ("n", "sequence_accuracy", "char_accuracy", "cer", "char_f1", "by_length")


def load_set(folder: Path, limit: int | None, seed: int = 0) -> tuple[list[Path], list[str], str]:
    """(paths, labels, alphabet) of a labelled folder; ``limit`` keeps a fixed random subset, in file order."""
    data = read_labels(folder)
    idx = np.arange(len(data))
    if limit and limit < len(data):
        idx = np.sort(np.random.default_rng(seed).choice(len(data), limit, replace=False))
    meta = folder / "meta.json"
    alphabet = json.loads(meta.read_text()).get("alphabet") if meta.is_file() else None
    alphabet = alphabet or "".join(sorted(set("".join(data.labels))))
    return [data.paths[i] for i in idx], [data.labels[i] for i in idx], alphabet


def load_digitseq(spec: str | None, backend: str):
    """A Recognizer from a path (.pt/.onnx, backend from the suffix), a model name, or None (the shipped one)."""
    from digitseq import Recognizer

    if spec is not None and Path(spec).is_file():
        backend = "onnx" if Path(spec).suffix == ".onnx" else backend
    return Recognizer.load(spec, backend=backend)


def score(truths: list[str], preds: list[str]) -> dict:
    m = evaluate(truths, preds)
    return {k: m[k] for k in KEEP}


def run_engine(read, paths) -> tuple[list, float]:
    """``read(paths)`` and the seconds it took, after an untimed warm-up on the first few images."""
    read(paths[:4])
    t0 = time.perf_counter()
    texts = read(paths)
    return texts, time.perf_counter() - t0


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sets", default=",".join(DEFAULT_SETS), help="comma-separated labelled folders")
    ap.add_argument("--limit", type=int, help="at most N images per set (a fixed random subset)")
    ap.add_argument("--model", help="digitseq model for digit sets: .pt/.onnx path or a name (default: shipped)")
    ap.add_argument("--ascii-model", help="digitseq model for the other sets: .pt/.onnx path or a name "
                    "(default: the name 'ascii' if the runtime knows it)")
    ap.add_argument("--backend", choices=["onnx", "torch"], default="onnx", help="digitseq backend for .pt models")
    ap.add_argument("--engines", default="digitseq,rapidocr,tesseract")
    ap.add_argument("--json", default=str(ROOT / "results" / "bench_peers.json"))
    a = ap.parse_args(argv)

    notes: list[str] = []

    def note(msg: str) -> None:
        notes.append(msg)
        print(f"note: {msg}", file=sys.stderr)

    engines = a.engines.split(",")
    models: dict[str, object] = {}
    if "digitseq" in engines:
        for kind, spec in (("digits", a.model), ("ascii", a.ascii_model or "ascii")):
            try:
                models[kind] = load_digitseq(spec, a.backend)
            except Exception as exc:  # a path that is not there, a name the runtime does not know yet
                if kind == "digits" or a.ascii_model:
                    note(f"digitseq {kind} model {spec or '(shipped)'}: not loaded ({str(exc).splitlines()[0]})")
                else:
                    note("digitseq: no ASCII model (give --ascii-model PATH); ASCII sets skipped for digitseq")
    rapid = None
    if "rapidocr" in engines:
        try:
            rapid = peers.RapidOCR("single")
        except ImportError:
            note("rapidocr: not installed (pip install -r requirements-peers.txt); skipped")
    tess = {}
    if "tesseract" in engines:
        try:
            tess = {True: peers.Tesseract(digits=True), False: peers.Tesseract(digits=False)}
        except FileNotFoundError as exc:
            note(f"tesseract: {exc}; skipped")

    result: dict = {"machine": machine(), "limit": a.limit, "sets": {}, "notes": notes}
    rows = []
    for name in a.sets.split(","):
        folder = Path(name) if Path(name).is_absolute() or Path(name).exists() else ROOT / name
        if not (folder / "labels.csv").is_file():
            note(f"{name}: no labelled folder there; skipped")
            continue
        try:
            paths, truths, alphabet = load_set(folder, a.limit)
        except DataError as exc:
            note(f"{name}: {exc}; skipped")
            continue
        digits = set(alphabet) <= set(peers.DIGITS)
        entry = {"folder": str(folder), "n": len(paths), "alphabet": alphabet, "engines": {}}
        result["sets"][name] = entry
        label = Path(name).name

        model = models.get("digits" if digits else "ascii")
        if model is not None and not set(alphabet) <= set(model.alphabet):
            note(f"{name}: the digitseq model's alphabet lacks {''.join(sorted(set(alphabet) - set(model.alphabet)))!r}; "
                 "digitseq skipped")
            model = None
        if model is not None:
            preds, secs = run_engine(lambda ps, m=model: [p.text if p else "" for _, p, _ in m.predict_files(ps)], paths)
            where = model.checkpoint.get("path", "?")
            cfg = f"digitseq {model.checkpoint.get('backend', 'torch')}, {Path(str(where)).name}, greedy CTC"
            entry["engines"]["digitseq"] = {"config": cfg, "seconds": round(secs, 3),
                                            "images_per_s": round(len(paths) / secs, 1),
                                            "as_is": score(truths, preds)}
            rows.append((label, len(paths), "digitseq", cfg, "as is", entry["engines"]["digitseq"]["as_is"],
                         len(paths) / secs))
        for key, eng in (("rapidocr", rapid), ("tesseract", tess.get(digits))):
            if eng is None:
                continue
            out, secs = run_engine(eng.read, paths)
            texts = [t for t, _ in out]
            filtered = "digits-only" if digits else "alphabet-only"
            e = {"config": eng.config, "seconds": round(secs, 3), "images_per_s": round(len(paths) / secs, 1),
                 "raw": score(truths, [peers.clean(t) for t in texts]),
                 filtered: score(truths, [peers.clean(t, alphabet) for t in texts])}
            entry["engines"][key] = e
            for variant in ("raw", filtered):
                rows.append((label, len(paths), key, eng.config, variant, e[variant], len(paths) / secs))
        print(f"{name}: done ({len(paths)} images)", file=sys.stderr)

    print("\n| set | images | engine | post-processing | sequence acc. | char. acc. | CER | images/s |")
    print("|---|---|---|---|---|---|---|---|")
    for label, n, eng, _cfg, variant, m, rate in rows:
        print(f"| {label} | {n} | {eng} | {variant} | {100 * m['sequence_accuracy']:.2f} % | "
              f"{100 * m['char_accuracy']:.2f} % | {m['cer']:.4f} | {rate:.0f} |")
    configs = {}
    for label, _n, eng, cfg, *_ in rows:
        configs.setdefault((eng, cfg), label)
    print("\nConfigurations:")
    for eng, cfg in configs:
        print(f"- {eng}: {cfg}")
    if notes:
        print("\nNotes:\n" + "\n".join(f"- {n}" for n in notes))
    if a.json:
        out = Path(a.json)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=1, ensure_ascii=False))
        print(f"\nwrote {out}", file=sys.stderr)
    return result


if __name__ == "__main__":
    main()
