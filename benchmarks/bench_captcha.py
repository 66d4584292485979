"""Accuracy on captchas drawn by a third-party generator: the ``captcha`` package's ``ImageCaptcha``.

    pip install -r requirements-peers.txt          # captcha==0.7.1 (optional; never a digitseq dependency)
    python benchmarks/bench_captcha.py [--count 500] [--model digits|ascii|PATH] [--length 5]

Issue 9's independent benchmark has a captcha row drawn by a third-party generator. This is the same kind of
test of our own: 5-digit strings (or ``--alphabet``) drawn by ``ImageCaptcha`` (160 x 60, its own bundled
font, warped and rotated characters, overlaps and spaces, a noise curve through the text, noise dots).
Nothing of it is used in training (the package is not installed by ``make``; its font is not in ``font/``).
Image ``i`` depends only on ``(seed, i)``: the package draws with the ``secrets`` module, which cannot be seeded,
so while it draws here its ``secrets`` is a stand-in with the same three calls on a seeded generator
(:class:`SeededSecrets`). (Before 2026-12-06 it was not: every draw was new images, and the captcha numbers of
earlier days are each of one draw, ±2 points apart from draw to draw.) The
images are cached in ``img/captcha_<alphabet name>_<count>/`` (labels.csv), evaluated with the given model
(``digitseq.evaluate``) and the results written to ``results/bench_captcha[_<model>].json``; the folder can
also be given to ``benchmarks/bench_peers.py --sets`` for the peers' numbers on the same images.
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, model_tag, write  # noqa: E402

from digitseq import DIGITS  # noqa: E402

ALPHABETS = {"digits": DIGITS, "alnum": DIGITS + "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"}


class SeededSecrets:
    """The calls ``captcha.image`` makes of the ``secrets`` module, from a seeded ``random.Random``."""

    def __init__(self, seed: str):
        self.rng = random.Random(seed)

    def randbelow(self, n: int) -> int:
        return self.rng.randrange(n)

    def randbits(self, k: int) -> int:
        return self.rng.getrandbits(k)

    def choice(self, seq):
        return self.rng.choice(seq)


DRAWN_BY = "seeded-secrets-1"      # written beside the labels: a folder drawn otherwise (unseeded) is drawn again


def draw(folder: Path, count: int, alphabet: str, length: int, seed: int) -> Path:
    """Write ``count`` captchas and their labels.csv into ``folder`` (kept if it is complete and was drawn so)."""
    import captcha.image
    from captcha.image import ImageCaptcha

    labels, stamp = folder / "labels.csv", folder / "drawn_by.txt"
    if (labels.is_file() and len(labels.read_text().splitlines()) == count + 1 and stamp.is_file()
            and stamp.read_text().strip() == DRAWN_BY):
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    gen = ImageCaptcha()
    real = captcha.image.secrets
    try:
        with labels.open("w", newline="") as fh:
            out = csv.writer(fh)
            out.writerow(["filename", "label"])
            for i in range(count):
                rng = random.Random(f"{seed}-{i}")
                text = "".join(rng.choice(alphabet) for _ in range(length))
                captcha.image.secrets = SeededSecrets(f"{seed}-{i}-draw")
                name = f"{i:05d}.png"
                gen.generate_image(text).save(folder / name)
                out.writerow([name, text])
    finally:
        captcha.image.secrets = real
    stamp.write_text(DRAWN_BY + "\n")
    return folder


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="digits", help="shipped model name or a .pt/.onnx path")
    ap.add_argument("--count", type=int, default=500)
    ap.add_argument("--length", type=int, default=5)
    ap.add_argument("--alphabet", choices=sorted(ALPHABETS), default="digits")
    ap.add_argument("--seed", type=int, default=2026)
    a = ap.parse_args(argv)
    try:
        import captcha  # noqa: F401
    except ImportError:
        print("the captcha package is not installed (pip install -r requirements-peers.txt): skipped")
        return 0
    from digitseq.evaluate import evaluate_folder

    folder = draw(ROOT / "img" / f"captcha_{a.alphabet}_{a.count}", a.count, ALPHABETS[a.alphabet], a.length, a.seed)
    r = evaluate_folder(folder, a.model)
    row = {k: r[k] for k in ("n", "sequence_accuracy", "char_accuracy", "cer", "by_length")}
    print(f"| captcha ({a.alphabet}, {a.length}) | {r['n']} | {100 * r['sequence_accuracy']:.1f} % | "
          f"{100 * r['char_accuracy']:.1f} % | {r['cer']:.4f} |")
    top = ", ".join(f"{c['truth']}→{c['pred']} {c['count']}" for c in r["confusions"][:6])
    print(f"most confused: {top}")
    path = write(f"bench_captcha{model_tag(a.model)}", {"model": a.model, "folder": str(folder.relative_to(ROOT)),
                                                        "count": a.count, "length": a.length, "seed": a.seed,
                                                        "alphabet": a.alphabet, "result": row,
                                                        "confusions": r["confusions"][:20]})
    print(f"-> {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
