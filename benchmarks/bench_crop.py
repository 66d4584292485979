"""The text-line crop alone: CPU time per image, and a fingerprint of every crop it made.

    python benchmarks/bench_crop.py [--limit 1500] [SET ...]   (default: realistic files, wild, matplotlib, test)
    python benchmarks/bench_crop.py --against 7562d9c [SET ...]  (this crop against the one at a git revision)

Images are decoded first (as the recogniser decodes them); only ``crop_to_text`` is timed, in one process
(``time.process_time``, so a busy machine inflates it less than wall time). The fingerprint is a SHA-256 over
every crop's shape and pixels, in order: a change meant only to make the crop faster must leave it as it was,
since the shipped models were trained on these crops (run the script at both commits and compare). Results to
``results/bench_crop.json``.

``--against REV`` compares this checkout's crop with ``digitseq/textline.py`` as it was at git revision ``REV``
instead: each image is decoded, then cropped by both (which goes first alternates from image to image, so
neither gets the other's warm caches), and the report gives both CPU times, their ratio and how many crops
differ (``results/bench_crop_against.json``). Decoding between crops keeps the caches as cold as in
recognition, where a tight loop of crops alone would flatter code with many small numpy calls.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, write  # noqa: E402

SETS = ["bench_recognize_5000", "wild_five_digits", "wild_12_digits", "wild_1_20_digits", "foreign_aug12",
        "foreign_clean5", "test_12_digits"]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("sets", nargs="*", default=SETS, help="folders under img/ (or paths)")
    ap.add_argument("--limit", type=int, default=1500, help="images per set, in file-name order (0: all)")
    ap.add_argument("--against", metavar="REV", help="compare with the crop at this git revision")
    a = ap.parse_args(argv)
    if a.against:
        return against(a.against, a.sets, a.limit)
    import numpy as np

    from digitseq.image import open_image, to_grey
    from digitseq.textline import crop_to_text

    total = hashlib.sha256()
    rows, n_all, t_all = {}, 0, 0.0
    print("| set | images | crop, CPU-ms per image | fingerprint |\n|---|---|---|---|")
    for name in a.sets:
        folder, files = set_files(name, a.limit)
        if files is None:
            print(f"| {name} | - | missing ({folder}) | |")
            continue
        greys = [np.asarray(to_grey(open_image(f, grey=True))) for f in files]
        t0 = time.process_time()
        crops = [crop_to_text(g) for g in greys]
        spent = time.process_time() - t0
        h = hashlib.sha256()
        for c in crops:
            for d in (h, total):
                d.update(str(c.shape).encode())
                d.update(np.ascontiguousarray(c).tobytes())
        rows[folder.name] = {"n": len(crops), "cpu_ms": 1000 * spent / len(crops), "sha256": h.hexdigest()}
        n_all, t_all = n_all + len(crops), t_all + spent
        print(f"| {folder.name} | {len(crops)} | {1000 * spent / len(crops):.3f} | {h.hexdigest()[:16]} |", flush=True)
    print(f"| all | {n_all} | {1000 * t_all / max(1, n_all):.3f} | {total.hexdigest()[:16]} |")
    path = write("bench_crop", {"limit": a.limit, "sets": rows, "all": {"n": n_all, "cpu_ms": 1000 * t_all / max(1, n_all),
                                                                        "sha256": total.hexdigest()}})
    print(f"-> {path.relative_to(ROOT)}")
    return 0


def set_files(name: str, limit: int) -> tuple[Path, list[Path] | None]:
    """A set's folder (a path, or a name under img/) and its first ``limit`` images in file-name order (0: all);
    None for the images if there is no such folder."""
    from digitseq.image import list_images

    folder = Path(name) if Path(name).is_dir() else ROOT / "img" / name
    if not folder.is_dir():
        return folder, None
    files = sorted(list_images([folder]))
    return folder, files[:limit] if limit else files


def load_revision(rev: str):
    """``digitseq/textline.py`` as it was at git revision ``rev``, imported as a module of its own."""
    import importlib.util
    import subprocess
    import tempfile

    try:
        source = subprocess.run(["git", "show", f"{rev}:digitseq/textline.py"], cwd=ROOT, check=True,
                                capture_output=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError) as exc:
        raise SystemExit(f"bench_crop: cannot read digitseq/textline.py at {rev!r} ({exc})") from None
    path = Path(tempfile.mkdtemp()) / "textline_at_rev.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("textline_at_rev", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def against(rev: str, sets: list[str], limit: int) -> int:
    import numpy as np

    from digitseq import textline
    from digitseq.image import open_image, to_grey

    old = load_revision(rev)
    rows = {}
    print(f"| set | images | crop at {rev}, CPU-ms | this crop, CPU-ms | ratio | crops that differ |\n|---|---|---|---|---|---|")
    for name in sets:
        folder, files = set_files(name, limit)
        if files is None:
            print(f"| {name} | - | missing ({folder}) | | | |")
            continue
        spent = {"old": 0.0, "new": 0.0}
        differ = 0
        for i, f in enumerate(files):
            grey = np.asarray(to_grey(open_image(f, grey=True)))
            crops = {}
            for key, module in ((("old", old), ("new", textline)) if i % 2 else (("new", textline), ("old", old))):
                t0 = time.process_time()
                crops[key] = module.crop_to_text(grey)
                spent[key] += time.process_time() - t0
            differ += not np.array_equal(crops["old"], crops["new"])
        o, n = (1000 * spent[k] / len(files) for k in ("old", "new"))
        rows[folder.name] = {"n": len(files), "cpu_ms_at_rev": o, "cpu_ms": n, "ratio": n / o, "differ": differ}
        print(f"| {folder.name} | {len(files)} | {o:.3f} | {n:.3f} | {n / o:.2f} | {differ} |", flush=True)
    path = write("bench_crop_against", {"revision": rev, "limit": limit, "sets": rows})
    print(f"-> {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
