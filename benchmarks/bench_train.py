"""Training throughput of the shipped architecture: samples/s and the share of time spent waiting for data.

    python benchmarks/bench_train.py [--images 2048] [--repeat 3]

Full training steps (conv blocks trainable, AdamW, CTC) on augmented 1-20-digit images held in memory,
with DataLoader workers 0 (data prepared in the training process) and 1 (prepared alongside).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import torch  # noqa: E402
from common import write  # noqa: E402

from digitseq.codec import Codec  # noqa: E402
from digitseq.data import ImageSet, loader  # noqa: E402
from digitseq.generate import generate  # noqa: E402
from digitseq.models import build_model  # noqa: E402
from digitseq.train import ctc_loss  # noqa: E402


def one_epoch(ds: ImageSet, workers: int, epoch: int) -> dict:
    torch.manual_seed(0)
    codec = Codec("0123456789")
    model = build_model("crnn", {}, codec.num_classes).train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    waited, n = 0.0, 0
    t_start = time.perf_counter()
    t0 = t_start
    for x, widths, labels in loader(ds, 64, True, seed=0, epoch=epoch, workers=workers):
        waited += time.perf_counter() - t0
        loss = ctc_loss(model, codec, x, widths, labels)
        opt.zero_grad()
        loss.backward()
        opt.step()
        n += len(labels)
        t0 = time.perf_counter()
    total = time.perf_counter() - t_start
    return {"samples_per_s": n / total, "data_wait_share": waited / total}


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=2048)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        generate(Path(tmp) / "d", a.images, min_length=1, max_length=20, seed=3, progress=False)
        ds = ImageSet.from_folders([Path(tmp) / "d"], augment=True, progress=False)
    result = {"threads": torch.get_num_threads(), "train": {}}
    for workers in (0, 1):
        one_epoch(ds, workers, 99)  # warm-up
        runs = [one_epoch(ds, workers, e) for e in range(a.repeat)]
        med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        result["train"][f"workers={workers}"] = {k: round(v, 3) for k, v in med.items()}
        print(f"workers={workers}: {med['samples_per_s']:.0f} samples/s, "
              f"{100 * med['data_wait_share']:.1f}% of the time waiting for data", flush=True)
    write("bench_train", result)
    return result


if __name__ == "__main__":
    main()
