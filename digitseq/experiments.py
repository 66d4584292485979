"""Ablation study: which measures make CTC training work here (issue #6).

    python -m digitseq.experiments [--recipes a,b,...] [--seeds 0,1,2] [--steps 400] [--out results/ablation]

Every recipe trains for the same number of optimiser steps (the same images seen) on the same data and is judged on the same
font-disjoint test set. Each run writes ``<out>/<recipe>-s<seed>.json`` with its curve (elapsed
seconds, steps, validation accuracy, share of empty predictions per evaluation), the final and
best test accuracy, the time and steps to reach 50 / 90 / 99 % validation accuracy, and how long
the model emitted only blanks. Existing result files are kept (delete one to rerun it).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import DIGITS, ROOT
from .codec import Codec
from .data import ImageSet
from .fonts import families, load_fonts
from .generate import generate
from .metrics import evaluate
from .recognize import predict_arrays
from .train import TrainConfig, pretrain_cnn, resolve_arch, train_crnn, width_stride

DATA = ROOT / "img" / "ablation"
OUT = ROOT / "results" / "ablation"


@dataclass
class Recipe:
    name: str
    description: str
    config: dict = field(default_factory=dict)     # TrainConfig overrides
    arch: dict = field(default_factory=dict)
    pretrained: bool = False
    train_set: str = "train"                       # which generated training folder
    pretrain_set: str = "single"


BASE = {"batch_size": 64, "patience": 1000, "show_predictions": 0, "textline": False,
        "amp": "off"}   # float32, as every recipe was measured; the p_* recipes try bf16 autocast
ONECYCLE_TL = {"optimizer": "adamw", "lr": 3e-3, "schedule": "onecycle", "textline": True}
RECIPES = {r.name: r for r in [
    Recipe("a_original", "pretrained CNN, frozen; SGD + CyclicLR (the notebooks' recipe)",
           {"optimizer": "sgd", "lr": 0.05, "schedule": "cyclic", "cyclic_base_ratio": 0.1, "freeze_cnn": True},
           pretrained=True),
    Recipe("b_scratch_adam_const", "from scratch; Adam at a constant 1e-3",
           {"optimizer": "adam", "lr": 1e-3, "schedule": "constant", "freeze_cnn": False}),
    Recipe("c_scratch_onecycle", "from scratch; AdamW one-cycle, peak 3e-3",
           {"optimizer": "adamw", "lr": 3e-3, "schedule": "onecycle", "freeze_cnn": False}),
    Recipe("d_pretrained_unfrozen", "pretrained CNN, trainable; AdamW one-cycle",
           {"optimizer": "adamw", "lr": 3e-3, "schedule": "onecycle", "freeze_cnn": False}, pretrained=True),
    Recipe("d2_pretrained_frozen_onecycle", "pretrained CNN, frozen; AdamW one-cycle",
           {"optimizer": "adamw", "lr": 3e-3, "schedule": "onecycle", "freeze_cnn": True}, pretrained=True),
    Recipe("e_gru_small", "as c, GRU 1×64", {"optimizer": "adamw", "lr": 3e-3, "schedule": "onecycle"},
           {"rnn_hidden": 64, "rnn_layers": 1}),
    Recipe("e_gru_large", "as c, GRU 2×192", {"optimizer": "adamw", "lr": 3e-3, "schedule": "onecycle"},
           {"rnn_hidden": 192, "rnn_layers": 2}),
    Recipe("f_no_augmentation", "as c, clean renders and no on-the-fly augmentation",
           {"optimizer": "adamw", "lr": 3e-3, "schedule": "onecycle", "augment": False}, train_set="train_clean"),
    Recipe("g_fonts_3", "as c, 3 training font families", {"optimizer": "adamw", "lr": 3e-3, "schedule": "onecycle"},
           train_set="train_fonts3"),
    Recipe("g_fonts_8", "as c, 8 training font families", {"optimizer": "adamw", "lr": 3e-3, "schedule": "onecycle"},
           train_set="train_fonts8"),
    Recipe("h_blank_bias", "as c, blank output bias initialised to +4 (blank favoured from the start)",
           {"optimizer": "adamw", "lr": 3e-3, "schedule": "onecycle", "blank_bias": 4.0}),
    # Capacity and resolution (issue 9): every one as c_scratch_onecycle, images cropped to their text line.
    Recipe("m_capacity_base", "as c, text-line crop (the base of the m_* capacity recipes)", ONECYCLE_TL),
    Recipe("m_height48", "as m_capacity_base, input height 48", ONECYCLE_TL, {"input_height": 48}),
    Recipe("m_stride2", "as m_capacity_base, width stride 2 (twice the time steps)", ONECYCLE_TL,
           {"pools": [[2, 2], [2, 1], [2, 1], [2, 1]]}),
    Recipe("m_wide", "as m_capacity_base, conv channels 32-64-128-192", ONECYCLE_TL,
           {"channels": [32, 64, 128, 192]}),
    Recipe("m_gru256", "as m_capacity_base, GRU 1×256", ONECYCLE_TL, {"rnn_hidden": 256}),
    # Issue 10: fewer time steps for a cheaper network (the third block also halves the width).
    Recipe("m_stride8", "as m_capacity_base, width stride 8 (half the time steps)", ONECYCLE_TL,
           {"pools": [[2, 2], [2, 2], [2, 2], [2, 1]]}),
    # Precision: the same steps with the forward pass under bf16 autocast (TrainConfig.amp).
    Recipe("p_bf16", "as m_capacity_base, bf16 autocast", {**ONECYCLE_TL, "amp": "bf16"}),
]}
CAPACITY = [name for name in RECIPES if name.startswith("m_")]


def prepare_data(root: Path = DATA, n_train: int = 6000, n_val: int = 300, n_test: int = 1000,
                 progress: bool = True) -> Path:
    """Generate (once) the study's folders: training variants, validation, font-disjoint test."""
    train_fonts = load_fonts(split="train")
    fams = list(families(train_fonts).values())
    # fixed, spread-out subsets of families for (g): every k-th family in the table's order
    subset = {k: [f for fam in fams[:: max(1, len(fams) // k)][:k] for f in fam] for k in (3, 8)}
    plan = {
        "train": dict(count=n_train, min_length=1, max_length=12, fonts=train_fonts),
        "train_clean": dict(count=n_train, min_length=1, max_length=12, fonts=train_fonts, style="clean"),
        "train_fonts3": dict(count=n_train, min_length=1, max_length=12, fonts=subset[3]),
        "train_fonts8": dict(count=n_train, min_length=1, max_length=12, fonts=subset[8]),
        "single": dict(count=min(2000, n_train), min_length=1, fonts=train_fonts),
        "single_val": dict(count=min(300, n_val), min_length=1, fonts=train_fonts, seed=11),
        "val": dict(count=min(n_val, n_train), min_length=1, max_length=12, fonts=train_fonts, seed=12),
        "test": dict(count=min(n_test, n_train), min_length=1, max_length=12, split="test", seed=13),
    }
    for name, kw in plan.items():
        if not (root / name / "labels.csv").exists():    # (a folder left half-drawn by an interrupted run: again)
            generate(root / name, **{"seed": 1, **kw}, progress=progress, overwrite=True)
    return root


def first_reach(curve: list[dict], threshold: float) -> dict | None:
    for point in curve:
        if point["val_accuracy"] >= threshold:
            return {"seconds": point["elapsed"], "step": point["step"]}
    return None


def blank_phase(curve: list[dict], limit: float = 0.99) -> dict:
    """How long (from the start) at least ``limit`` of validation predictions were empty."""
    last = None
    for point in curve:
        if point["blank_fraction"] >= limit:
            last = point
        else:
            break
    return {"evaluations": sum(p["blank_fraction"] >= limit for p in curve),
            "until_seconds": last["elapsed"] if last else 0.0, "until_step": last["step"] if last else 0}


def run(recipe: Recipe, seed: int, steps: int, data: Path = DATA, out: Path = OUT, epoch_size: int = 1536,
        progress: bool = False) -> dict:
    """Train one recipe with one seed for ``steps`` optimiser steps; write and return its result.

    Every schedule is laid out over exactly those steps (one-cycle ends annealed); the wall-clock
    time of each evaluation is recorded, so recipes can also be compared on time.
    """
    target = out / f"{recipe.name}-s{seed}.json"
    if target.exists():
        return json.loads(target.read_text())
    cfg = TrainConfig(**{**BASE, **recipe.config, "seed": seed, "max_steps": steps})
    arch = resolve_arch(recipe.arch)[0]          # the recipe's over the defaults: its input height and stride
    reduction = width_stride(arch)
    load = {"progress": False, "height": arch["input_height"], "textline": cfg.textline}
    full = ImageSet.from_folders([data / recipe.train_set], DIGITS, **load)
    # Short "epochs" (slices of the training set) so the curve has many points within the budget.
    batches_per_epoch = -(-min(epoch_size, len(full)) // cfg.batch_size)
    cfg.epochs = max(1, -(-steps // batches_per_epoch))
    train = ImageSet(full.arrays, full.labels, augment=cfg.augment, seed=seed, reduction=reduction)
    val = ImageSet.from_folders([data / "val"], DIGITS, **load)
    test = ImageSet.from_folders([data / "test"], DIGITS, **load)
    with tempfile.TemporaryDirectory() as tmp:
        pretrained = None
        t_pre = 0.0
        if recipe.pretrained:
            t0 = time.time()
            singles = ImageSet.from_folders([data / recipe.pretrain_set], DIGITS, augment=True, **load)
            single_val = ImageSet.from_folders([data / "single_val"], DIGITS, **load)
            pretrained = pretrain_cnn(singles, single_val, Path(tmp) / "cnn.pt",
                                      TrainConfig(epochs=4, lr=3e-3, seed=seed, show_predictions=0),
                                      arch=recipe.arch, progress=progress, log=lambda _m: None).best_path
            t_pre = time.time() - t0
        train_chunks = _EpochSlices(train, epoch_size, seed)
        res = train_crnn(train_chunks, val, Path(tmp) / "crnn.pt", cfg, DIGITS, recipe.arch, pretrained=pretrained,
                         progress=progress, log=lambda _m: None)
        curve = [{"elapsed": h["elapsed"], "step": h["step"], "val_accuracy": h["val"]["sequence_accuracy"],
                  "blank_fraction": h["blank_fraction"], "train_loss": h["train_loss"]} for h in res.history]
        final_test = evaluate(test.labels, [p.text for p in predict_arrays(res.model, Codec(DIGITS), test.arrays)])
    result = {"recipe": recipe.name, "description": recipe.description, "seed": seed, "steps": steps,
              "train_seconds": curve[-1]["elapsed"] if curve else 0.0,
              "pretrain_s": round(t_pre, 1), "config": cfg.to_dict(), "arch": recipe.arch, "curve": curve,
              "best_val_accuracy": max((c["val_accuracy"] for c in curve), default=0.0),
              "test": {k: final_test[k] for k in ("n", "sequence_accuracy", "char_accuracy", "cer")},
              "reach": {str(t): first_reach(curve, t) for t in (0.5, 0.9, 0.99)},
              "blank_only": blank_phase(curve)}
    out.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(result, indent=1))
    return result


class _EpochSlices(ImageSet):
    """Presents a training set as consecutive slices of ``size`` images, one slice per epoch."""

    def __init__(self, base: ImageSet, size: int, seed: int):
        self.base, self.size, self.seed = base, min(size, len(base)), seed
        self.augment, self.reduction, self.epoch = base.augment, base.reduction, 0
        self.arrays, self.labels = base.arrays, base.labels

    def _offset(self) -> int:
        return (self.epoch * self.size) % len(self.base)

    def __len__(self) -> int:
        return self.size

    @property
    def widths(self) -> list[int]:
        o = self._offset()
        idx = [(o + i) % len(self.base) for i in range(self.size)]
        return [self.base.arrays[i].shape[1] for i in idx]

    def __getitem__(self, i: int):
        self.base.epoch = self.epoch
        return self.base[(self._offset() + i) % len(self.base)]


def summarise(out: Path = OUT) -> list[dict]:
    """One row per recipe: mean ± spread over seeds of the test accuracy, time to 90 %, blank phase."""
    import statistics

    rows: dict[str, list[dict]] = {}
    for f in sorted(out.glob("*.json")):
        r = json.loads(f.read_text())
        if "recipe" in r:
            rows.setdefault(r["recipe"], []).append(r)
    table = []
    for name, runs in rows.items():
        acc = [r["test"]["sequence_accuracy"] for r in runs]
        t90 = [r["reach"]["0.9"]["seconds"] for r in runs if r["reach"]["0.9"]]
        table.append({"recipe": name, "description": runs[0]["description"], "seeds": len(runs),
                      "test_accuracy_mean": statistics.mean(acc), "test_accuracy_min": min(acc),
                      "test_accuracy_max": max(acc),
                      "seconds_to_90_median": statistics.median(t90) if len(t90) == len(runs) else None,
                      "reached_90": f"{len(t90)}/{len(runs)}",
                      "blank_only_seconds_mean": statistics.mean(r["blank_only"]["until_seconds"] for r in runs)})
    return table


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m digitseq.experiments", description=__doc__.splitlines()[0])
    ap.add_argument("--recipes", default=",".join(RECIPES),
                    help="comma-separated names, or 'capacity' for the m_* recipes (height, strides, width, GRU)")
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--steps", type=int, default=400, help="optimiser steps per run (batch 64)")
    ap.add_argument("--out", default=str(OUT))
    ap.add_argument("--data", default=str(DATA))
    ap.add_argument("--train-size", type=int, default=6000)
    a = ap.parse_args(argv)
    data = prepare_data(Path(a.data), n_train=a.train_size)
    names = CAPACITY if a.recipes == "capacity" else a.recipes.split(",")
    for name in names:
        for seed in (int(s) for s in a.seeds.split(",")):
            r = run(RECIPES[name], seed, a.steps, data, Path(a.out))
            print(f"{name:30} seed {seed}: test {r['test']['sequence_accuracy']:.4f}  best val "
                  f"{r['best_val_accuracy']:.4f}  to 90%: {r['reach']['0.9']}  blank-only {r['blank_only']}", flush=True)
    for row in summarise(Path(a.out)):
        print(row)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
