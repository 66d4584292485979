"""Other engines to compare with, each optional: RapidOCR's recogniser and Tesseract 5.

Neither is a dependency of digitseq (see requirements-peers.txt). Each adapter reads a list of image files
and returns one string per file, unchanged except for surrounding whitespace; the benchmarks decide how to
clean them. Run as a script it is a whole process of its own, for start-up and throughput timing:

    python benchmarks/peers.py rapidocr DIR --output out.csv [--mode single|batch]

This file imports nothing from digitseq, so that process carries no digitseq start-up cost.
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import subprocess
import sys
import tempfile
import unicodedata
from pathlib import Path

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".gif")  # as digitseq's
DIGITS = "0123456789"


def clean(text: str, alphabet: str | None = None) -> str:
    """A peer's answer made comparable: whitespace removed; with ``alphabet`` also NFKC-normalised (full-width
    digits become ASCII) and every character outside the alphabet dropped."""
    if alphabet is not None:
        text = unicodedata.normalize("NFKC", text)
        return "".join(c for c in text if c in alphabet and not c.isspace())
    return "".join(text.split())


class RapidOCR:
    """RapidOCR (pip ``rapidocr-onnxruntime``): its PP-OCRv4 text-line recogniser only, no detection, no
    angle classification.

    ``mode="single"``: one image per call through the public API, ``RapidOCR()(path, use_det=False,
    use_cls=False, use_rec=True)``, as its documentation shows. ``mode="batch"``: all images loaded with the
    package's own loader, then one call of its recogniser (``engine.text_rec``) per 256 images, which sorts
    them by aspect ratio and runs batches of ``rec_batch_num`` (the package's default, 6). The engine object
    also loads its detection and classification models at start-up, as it always does.
    """

    name = "rapidocr"

    def __init__(self, mode: str = "single"):
        if mode not in ("single", "batch"):
            raise ValueError(f"mode must be 'single' or 'batch', got {mode!r}")
        from rapidocr_onnxruntime import RapidOCR as Engine  # ImportError when not installed

        self.engine = Engine()
        self.mode = mode

    @staticmethod
    def version() -> str:
        from importlib.metadata import version

        return version("rapidocr-onnxruntime")

    @property
    def config(self) -> str:
        return (f"rapidocr-onnxruntime {self.version()}, PP-OCRv4 rec only (use_det=False, use_cls=False), "
                + ("one image per call" if self.mode == "single" else
                   f"batched: text_rec over 256 images, rec_batch_num {self.engine.text_rec.rec_batch_num}"))

    def read(self, paths) -> list[tuple[str, float]]:
        if self.mode == "single":
            out = []
            for p in paths:
                res, _ = self.engine(str(p), use_det=False, use_cls=False, use_rec=True)
                out.append((res[0][0].strip(), float(res[0][1])) if res else ("", 0.0))
            return out
        out = []
        for s in range(0, len(paths), 256):
            images = [self.engine.load_img(str(p)) for p in paths[s:s + 256]]
            res, _ = self.engine.text_rec(images)
            out.extend((t.strip(), float(c)) for t, c, *_ in res)
        return out


class Tesseract:
    """Tesseract 5 (Debian ``tesseract-ocr``), LSTM engine, ``--psm 7`` (one text line), English model.

    For digit sets ``-c tessedit_char_whitelist=0123456789``. Files are passed 200 at a time as a list file
    to one ``tesseract`` process (pages come back separated by form feeds), so process start-up is paid once
    per 200 images rather than per image; Tesseract's own OpenMP threading is left at its default.
    """

    name = "tesseract"
    CHUNK = 200

    def __init__(self, digits: bool = False):
        self.binary = shutil.which("tesseract")
        if self.binary is None:
            raise FileNotFoundError("no 'tesseract' on PATH (apt-get install tesseract-ocr)")
        self.digits = digits

    def version(self) -> str:
        out = subprocess.run([self.binary, "--version"], capture_output=True, text=True).stdout
        return out.splitlines()[0] if out else "tesseract ?"

    @property
    def args(self) -> list[str]:
        return ["--psm", "7", "-l", "eng"] + (["-c", f"tessedit_char_whitelist={DIGITS}"] if self.digits else [])

    @property
    def config(self) -> str:
        return f"{self.version()}, {' '.join(self.args)}, 200 files per process"

    def _run(self, inputs: list[str]) -> list[str]:
        with tempfile.TemporaryDirectory(prefix="bench-tess-") as tmp:
            listing = Path(tmp) / "files.txt"
            listing.write_text("\n".join(inputs) + "\n")
            proc = subprocess.run([self.binary, str(listing), "stdout", *self.args], capture_output=True,
                                  text=True, encoding="utf-8", errors="replace")
        pages = proc.stdout.split("\f")
        if pages and not pages[-1].strip():
            pages = pages[:-1]
        return [p.strip() for p in pages]

    def read(self, paths) -> list[tuple[str, float]]:
        out: list[str] = []
        for s in range(0, len(paths), self.CHUNK):
            chunk = [str(Path(p).resolve()) for p in paths[s:s + self.CHUNK]]
            pages = self._run(chunk)
            if len(pages) != len(chunk):  # a page that failed or held a form feed: fall back to one per call
                pages = [" ".join(self._run([p])) for p in chunk]
            out.extend(pages)
        return [(t, float("nan")) for t in out]


def list_images(folder: str | Path) -> list[Path]:
    folder = Path(folder)
    if folder.is_file():
        return [folder]
    return sorted(q for q in folder.rglob("*") if q.suffix.lower() in IMAGE_SUFFIXES and q.is_file())


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Run a peer engine over a file or folder; write path,text,confidence.")
    ap.add_argument("engine", choices=["rapidocr", "tesseract"])
    ap.add_argument("path", help="an image file or a folder (recursive, sorted)")
    ap.add_argument("--output", required=True, help="CSV to write")
    ap.add_argument("--mode", choices=["single", "batch"], default="single", help="rapidocr: one image per call or batched")
    ap.add_argument("--digits", action="store_true", help="tesseract: digit whitelist")
    a = ap.parse_args(argv)
    paths = list_images(a.path)
    if not paths:
        print(f"peers: {a.path}: no images", file=sys.stderr)
        return 2
    engine = RapidOCR(a.mode) if a.engine == "rapidocr" else Tesseract(a.digits)
    results = engine.read(paths)
    with open(a.output, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["path", "text", "confidence"])
        w.writerows((str(p), t, round(c, 6)) for p, (t, c) in zip(paths, results))
    print(f"{len(paths)} images, pid {os.getpid()}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
