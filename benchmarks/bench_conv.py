"""Conv blocks' speed: memory format and channel widths (the measurement behind the default stack).

    python benchmarks/bench_conv.py

Forward and forward+backward time per image for a batch of 64 images of 32×160, median of 5 runs.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import torch  # noqa: E402
from common import timed, write  # noqa: E402

from digitseq.models import ConvBlocks  # noqa: E402


def per_image_ms(fn, n: int = 5) -> float:
    return 1000 * timed(fn, repeat=n)["median_s"] / 64


def measure(channels: list[int], channels_last: bool, x: torch.Tensor) -> dict:
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    m = ConvBlocks(channels).train().to(memory_format=fmt)

    def forward():
        return m.body(x.contiguous(memory_format=fmt))

    fwd = per_image_ms(forward)
    both = per_image_ms(lambda: forward().sum().backward())
    return {"channels": channels, "channels_last": channels_last, "forward_ms": round(fwd, 3),
            "forward_backward_ms": round(both, 3)}


def main() -> dict:
    torch.manual_seed(0)
    x = torch.randn(64, 1, 32, 160)
    rows = []
    for channels in ([32, 64, 96, 96], [16, 32, 64, 128]):
        for channels_last in (False, True):
            r = measure(channels, channels_last, x)
            rows.append(r)
            print(f"{str(channels):18} {'channels-last' if channels_last else 'contiguous   '}  "
                  f"forward {r['forward_ms']:.2f} ms/image, forward+backward {r['forward_backward_ms']:.2f} ms/image",
                  flush=True)
    write("bench_conv", {"conv": rows})
    return {"conv": rows}


if __name__ == "__main__":
    main()
