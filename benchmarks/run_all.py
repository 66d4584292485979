"""`make bench`: every benchmark, one table, JSON files in results/."""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_generate  # noqa: E402
import bench_recognize  # noqa: E402
import bench_train  # noqa: E402
from common import RESULTS, machine  # noqa: E402


def main() -> None:
    gen = bench_generate.main([])
    rec = bench_recognize.main([])
    train = bench_train.main([])
    rows = [("generate 20k augmented 5-digit images", f"{gen['generate']['median_s']:.1f} s",
             f"{gen['generate']['images_per_s']:.0f} images/s")]
    for engine, v in rec["summary"].items():
        ips = v["images_per_s"]
        rows.append((f"recognize {rec['images']['count']} realistic files, whole process, {engine}",
                     f"start-up {v['startup_s']:.2f} s, peak {v['peak_rss_mb']['median']:.0f} MB",
                     f"{ips['median']:.0f} images/s ({ips['min']:.0f}-{ips['max']:.0f})"))
    for engine, lat in rec.get("latency", {}).items():
        rows.append((f"one image via the Python API, {engine} (median / p95)", f"{lat['median_ms']} / {lat['p95_ms']} ms", ""))
    for k, v in train["train"].items():
        rows.append((f"CRNN training, {k}", f"{100 * v['data_wait_share']:.1f} % waiting for data",
                     f"{v['samples_per_s']:.0f} samples/s"))
    times = RESULTS / "pipeline_times.json"
    if times.exists():
        for k, v in json.loads(times.read_text()).items():
            rows.append((f"make run: {k}", f"{v:.0f} s", "(from the last make run)"))
    print(f"\n| measurement ({machine()['cpus']} CPUs) | time | rate |\n|---|---|---|")
    for r in rows:
        print(f"| {r[0]} | {r[1]} | {r[2]} |")


if __name__ == "__main__":
    main()
