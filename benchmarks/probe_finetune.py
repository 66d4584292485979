"""A short fine-tune of a shipped model on a few labelled folders: a cheap probe of what more data of one kind
would do before a full release stage is spent on it.

    python benchmarks/probe_finetune.py --init ascii --sets img/ascii/probe_captcha,img/ascii/probe_dots,img/ascii/probe_plain \\
        --epochs 4 --lr 5e-4 --out runs/probe/crnn.pt

Trains every layer (one-cycle rate, on-the-fly augmentation, text-line crop, as notebook 3) and keeps the
last epoch. Measure the result with ``bench_effects.py`` and ``eval_sets.py``; it is a probe, not a release.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--init", default="ascii", help="shipped model name or a CRNN checkpoint")
    ap.add_argument("--sets", required=True, help="comma-separated labelled folders")
    ap.add_argument("--val", default=str(ROOT / "img" / "ascii" / "val"))
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--lr", type=float, default=5e-4)
    ap.add_argument("--out", required=True, help="checkpoint to write (the last epoch's)")
    a = ap.parse_args(argv)
    from digitseq.data import ImageSet
    from digitseq.models import load_checkpoint
    from digitseq.recognize import resolve_model
    from digitseq.train import TrainConfig, train_crnn

    init = resolve_model(a.init, "torch")[0]
    alphabet = load_checkpoint(init)["alphabet"]
    cfg = TrainConfig(epochs=a.epochs, lr=a.lr, batch_size=64, patience=a.epochs, keep="last", show_predictions=0)
    train = ImageSet.from_folders(a.sets.split(","), alphabet=alphabet, augment=True, seed=cfg.seed, textline=True)
    val = ImageSet.from_folders([a.val], alphabet=alphabet, textline=True)
    res = train_crnn(train, val, a.out, cfg, alphabet=alphabet, init=str(init))
    print(f"{len(train)} images, {a.epochs} epochs: validation {res.kept_metric:.4f} (last epoch) -> {res.best_path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
