"""Recognition speed as users meet it: whole processes started from the shell on realistic image files.

    python benchmarks/bench_recognize.py [--count 5000] [--runs 3] [--quick] [--engines ...] [--threads N]

Issue #10. The files (benchmarks/realistic.py, cached in img/bench_recognize_<count>/) are digit strings of
1-20 characters in the held-out fonts, 60-600 x 40-120 px, half PNG, half JPEG. Each engine is timed as a
fresh process, interpreter start-up, imports, model loading, reading, recognising and writing a CSV
included, by wall clock:

  digitseq-onnx    python -m digitseq recognize DIR --backend onnx --format csv --output FILE --force
  digitseq-torch   the same with --backend torch
  digitseq-onnx-off  the ONNX command with --tta off (one reading an image, digitseq.tta; not in the default
                   list: name it in --engines)
  digitseq-onnx-nopartner  the ONNX command with --partner off (the second look without the second model,
                   README#partner; likewise named in --engines)
  rapidocr-single  python benchmarks/peers.py rapidocr DIR --mode single  (RapidOCR's public API, one image
                   per call, recogniser only)
  rapidocr-batch   python benchmarks/peers.py rapidocr DIR --mode batch   (its recogniser on lists of images)

Runs are repeated (engines interleaved within each run); reported: median and min-max of images/s, the
digitseq/RapidOCR ratio within each run, each process's peak RSS (wait4 of a small launcher), the time to
the first prediction (the same commands on one file), images/s after start-up (files / (wall - that time)),
and the latency of one image through the Python API
(median and p95 of --latency calls on different files, ONNX backend; RapidOCR's single call alongside).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import peers  # noqa: E402
import realistic  # noqa: E402
from common import ROOT, whole_process, write  # noqa: E402

HERE = Path(__file__).resolve().parent
ALL_ENGINES = ("digitseq-onnx", "digitseq-torch", "rapidocr-single", "rapidocr-batch", "digitseq-onnx-off",
               "digitseq-onnx-nopartner")
FLAGS = {"-off": ["--tta", "off"], "-nopartner": ["--partner", "off"]}   # engine name's ending -> its options
DEFAULT_ENGINES = ALL_ENGINES[:4]


def installed(module: str) -> bool:
    probe = subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True)
    return probe.returncode == 0


def recognize_help() -> str:
    return subprocess.run([sys.executable, "-m", "digitseq", "recognize", "--help"], capture_output=True, text=True,
                          env=child_env()).stdout


def child_env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    return env


def command(engine: str, target: Path, output: Path, threads: int | None) -> list[str]:
    if engine.startswith("digitseq-"):
        cmd = [sys.executable, "-m", "digitseq", "recognize", str(target), "--backend", engine.split("-")[1],
               "--format", "csv", "--output", str(output), "--force"]
        return (cmd + (["--threads", str(threads)] if threads else [])
                + next((flags for end, flags in FLAGS.items() if engine.endswith(end)), []))
    return [sys.executable, str(HERE / "peers.py"), "rapidocr", str(target), "--output", str(output),
            "--mode", engine.split("-")[1]]


def accuracy(output: Path, labels: dict[str, str], digits_only: bool) -> dict:
    """Sequence accuracy of a CSV written by an engine: a check that the process really read the files."""
    with open(output, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    right = sum(labels.get(Path(r["path"]).name) == (peers.clean(r["text"], peers.DIGITS) if digits_only else r["text"])
                for r in rows)
    return {"rows": len(rows), "sequence_accuracy": round(right / max(1, len(labels)), 4),
            "post_processing": "NFKC, digits only" if digits_only else "as is"}


def latency(folder: Path, n: int, rapid: bool, off: bool = False, alone: bool = False) -> dict:
    """Per-image latency through the Python APIs, median and p95 of ``n`` calls on different files."""
    from digitseq.data import list_images
    from digitseq.recognize import Recognizer

    paths = list_images([folder])[:n]
    out = {}
    engines = {"digitseq-onnx": Recognizer.load(backend="onnx").predict}
    if off:
        engines["digitseq-onnx-off"] = Recognizer.load(backend="onnx", tta="off").predict
    if alone:
        engines["digitseq-onnx-nopartner"] = Recognizer.load(backend="onnx", partner="off").predict
    if rapid:
        engine = peers.RapidOCR("single").engine
        engines["rapidocr-single"] = lambda p: engine(str(p), use_det=False, use_cls=False, use_rec=True)
    for name, call in engines.items():
        call(paths[0])
        times = []
        for p in paths:
            t0 = time.perf_counter()
            call(p)
            times.append(time.perf_counter() - t0)
        times.sort()
        out[name] = {"n": len(times), "median_ms": round(1000 * statistics.median(times), 2),
                     "p95_ms": round(1000 * times[int(0.95 * (len(times) - 1))], 2)}
    return out


def spread(values: list[float]) -> dict:
    return {"median": round(statistics.median(values), 1), "min": round(min(values), 1), "max": round(max(values), 1)}


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=5000, help="image files (generated once, cached)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--latency", type=int, default=200, help="single-image API calls to time")
    ap.add_argument("--engines", default=",".join(DEFAULT_ENGINES), help="any of " + ", ".join(ALL_ENGINES))
    ap.add_argument("--threads", type=int, help="passed to `digitseq recognize --threads` if it has that option")
    ap.add_argument("--cache", help="folder for the images (default: img/bench_recognize_<count>)")
    ap.add_argument("--quick", action="store_true", help="smoke test: 200 images, 1 run, 50 latency calls")
    a = ap.parse_args(argv)
    if a.quick:
        a.count, a.runs, a.latency = 200, 1, 50

    notes: list[str] = []

    def note(msg: str) -> None:
        notes.append(msg)
        print(f"note: {msg}", file=sys.stderr)

    folder = Path(a.cache) if a.cache else ROOT / "img" / f"bench_recognize_{a.count}"
    t0 = time.perf_counter()
    realistic.build(folder, a.count)
    print(f"{a.count} images in {folder} ({time.perf_counter() - t0:.0f} s to make or find)", file=sys.stderr)
    with open(folder / "labels.csv", newline="", encoding="utf-8") as fh:
        labels = {r["filename"]: r["label"] for r in csv.DictReader(fh)}
    one = folder / sorted(labels)[0]

    engines = [e for e in a.engines.split(",") if e]
    if any(e not in ALL_ENGINES for e in engines):
        raise SystemExit(f"bench_recognize: unknown engine in {a.engines!r}; choose from {', '.join(ALL_ENGINES)}")
    threads = a.threads
    if threads and "--threads" not in recognize_help():
        note("`digitseq recognize` has no --threads option here; not passed")
        threads = None
    for mod, prefix in (("onnxruntime", "digitseq-onnx"), ("torch", "digitseq-torch"),
                        ("rapidocr_onnxruntime", "rapidocr")):
        if any(e.startswith(prefix) for e in engines) and not installed(mod):
            note(f"{prefix}: {mod} not installed; skipped")
            engines = [e for e in engines if not e.startswith(prefix)]

    scratch = folder.parent / f"{folder.name}_out"
    scratch.mkdir(exist_ok=True)
    env = child_env()
    cmds = {e: command(e, folder, scratch / f"{e}.csv", threads) for e in engines}
    result: dict = {"images": json.loads((folder / "meta.json").read_text()),
                    "commands": {e: " ".join(Path(c).name if i == 0 else c for i, c in enumerate(cmd))
                                 for e, cmd in cmds.items()},
                    "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
                    "rss_floor_mb": whole_process(["true"])["peak_rss_mb"],
                    "startup": {}, "runs": [], "notes": notes}

    for e in list(engines):  # time to the first prediction: the same command on one file
        try:
            walls = [whole_process(command(e, one, scratch / f"{e}-one.csv", threads), env)["wall_s"]
                     for _ in range(a.runs)]
        except RuntimeError as exc:  # an engine that cannot run here is left out, with its reason
            note(f"{e}: failed on one file, left out ({str(exc).splitlines()[-1][:300]})")
            engines.remove(e)
            del cmds[e]
            continue
        result["startup"][e] = {"median_s": round(statistics.median(walls), 3), "runs_s": walls}
        print(f"start-up {e}: {walls}", file=sys.stderr)

    for run in range(a.runs):
        rec = {}
        for e in engines:
            r = whole_process(cmds[e], env)
            rec[e] = {"wall_s": r["wall_s"], "images_per_s": round(a.count / r["wall_s"], 1),
                      "peak_rss_mb": r["peak_rss_mb"]}
            print(f"run {run + 1} {e}: {rec[e]}", file=sys.stderr)
        result["runs"].append(rec)
    result["accuracy"] = {e: accuracy(scratch / f"{e}.csv", labels, e.startswith("rapidocr")) for e in engines}

    summary = {}
    for e in engines:
        start = result["startup"][e]["median_s"]
        steady = [a.count / (r[e]["wall_s"] - start) for r in result["runs"] if r[e]["wall_s"] > start]
        summary[e] = {"images_per_s": spread([r[e]["images_per_s"] for r in result["runs"]]),
                      "after_startup_images_per_s": spread(steady) if steady else None,
                      "peak_rss_mb": spread([r[e]["peak_rss_mb"] for r in result["runs"]]),
                      "startup_s": result["startup"][e]["median_s"]}
    result["summary"] = summary
    ratios = {}
    pairs = [(ours, peer) for ours in ("digitseq-onnx", "digitseq-torch", "digitseq-onnx-off", "digitseq-onnx-nopartner")
             for peer in ("rapidocr-single", "rapidocr-batch")]
    # and the default against itself without parts of its second look, within each run
    pairs += [("digitseq-onnx", "digitseq-onnx-nopartner"), ("digitseq-onnx", "digitseq-onnx-off")]
    for ours, peer in pairs:
        if ours in engines and peer in engines:
            per_run = [round(r[ours]["images_per_s"] / r[peer]["images_per_s"], 2) for r in result["runs"]]
            ratios[f"{ours} / {peer}"] = {"per_run": per_run, "median": round(statistics.median(per_run), 2)}
    result["ratios"] = ratios
    if a.latency and "digitseq-onnx" in engines:
        result["latency"] = latency(folder, a.latency, any(e.startswith("rapidocr") for e in engines),
                                    "digitseq-onnx-off" in engines, "digitseq-onnx-nopartner" in engines)

    meta = result["images"]
    print(f"\n{a.count} files ({meta['png']} PNG, {meta['jpeg']} JPEG; width {meta['width'][0]}-{meta['width'][2]}, "
          f"height {meta['height'][0]}-{meta['height'][2]} px; 1-20 digits), {a.runs} run(s), whole processes:\n")
    print("| engine | images/s, median (min-max) | images/s after start-up | peak RSS, MB | "
          "start-up to first prediction, s | sequence acc. on these files |")
    print("|---|---|---|---|---|---|")
    for e, s in summary.items():
        acc = result["accuracy"][e]
        ips, steady = s["images_per_s"], s["after_startup_images_per_s"]
        print(f"| {e} | {ips['median']:.0f} ({ips['min']:.0f}-{ips['max']:.0f}) | "
              + (f"{steady['median']:.0f} | " if steady else "- | ")
              + f"{s['peak_rss_mb']['median']:.0f} | {s['startup_s']:.2f} | {100 * acc['sequence_accuracy']:.1f} % "
              f"({acc['post_processing']}) |")
    for k, v in ratios.items():
        print(f"\nratio {k}: {v['median']} (runs: {', '.join(map(str, v['per_run']))})", end="")
    print()
    for e, lat in result.get("latency", {}).items():
        print(f"one image through the Python API, {e}: median {lat['median_ms']} ms, p95 {lat['p95_ms']} ms "
              f"({lat['n']} files)")
    print("\ncommands:\n" + "\n".join(f"- {e}: `{c}`" for e, c in result["commands"].items()))
    if notes:
        print("notes:\n" + "\n".join(f"- {n}" for n in notes))
    write("bench_recognize", result)
    return result


if __name__ == "__main__":
    main()
