"""Training loops: single-digit CNN pretraining and CRNN training with CTC.

One engine, :func:`fit`, runs a list of phases (for the CRNN: conv blocks frozen, then optionally
unfrozen at a lower rate). Each phase has its own optimiser, learning-rate schedule (one-cycle,
cyclic or constant, stepped per batch) and early stopping on the validation metric. After every
epoch it writes ``last.pt`` beside the output (everything needed to resume: optimiser, scheduler,
early-stopping state, RNG, history) and, when the metric improves, the best model to ``out`` (or, with
``keep="last"``, every epoch's model, so that ``out`` ends as the last one).
Both writes are atomic; Ctrl-C writes ``last.pt`` before returning, and ``resume=`` continues it.
"""

from __future__ import annotations

import math
import signal
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from early_stop import EarlyStopping
from random_seed import seed_everything

from . import DIGITS
from .codec import Codec
from .data import NORMALISATION, WIDTH_SCALE, ImageSet, check_width_scale, epoch_batches, loader
from .errors import CheckpointError, DigitseqError
from .metrics import evaluate
from .models import (
    CRNN,
    DigitCNN,
    build_model,
    load_checkpoint,
    make_checkpoint,
    num_classes_for,
    save_checkpoint,
    transfer_weights,
    widen_into,
    widen_weights,
)
from .recognize import check_partner_looks, predict_arrays


@dataclass
class TrainConfig:
    """Every training setting; a checkpoint stores it, so a run can be repeated or resumed."""

    epochs: int = 10                  # phase 1 (CNN frozen when freeze_cnn)
    batch_size: int = 64
    optimizer: str = "adamw"          # adamw | adam | sgd
    lr: float = 3e-3                  # peak rate of the schedule
    weight_decay: float = 1e-4
    momentum: float = 0.9             # sgd only
    schedule: str = "onecycle"        # onecycle | cyclic | constant
    cyclic_base_ratio: float = 0.1    # cyclic: the rate swings between lr·ratio and lr ...
    cyclic_half_cycle: float = 1.0    # ... rising over this many epochs, then falling as long (triangular2)
    freeze_cnn: bool = False          # CRNN: conv blocks frozen (weights and batch-norm statistics) in phase 1
                                      # (off by default: results/ablation shows freezing costs accuracy)
    finetune_epochs: int = 0          # CRNN: phase 2, everything trainable, at finetune_lr
    finetune_lr: float = 5e-4
    patience: int = 4                 # early stopping: epochs in a row without improvement
    min_delta: float = 0.0
    clip: float = 5.0                 # gradient-norm clipping (0: off)
    blank_bias: float | None = None   # CRNN: initial output bias of the CTC blank (None: PyTorch's default)
    augment: bool = True              # on-the-fly augmentation of training images
    tight: float = 0.0                # ... of which this share is cut tight to its ink (data.cut_tight; 0: off)
    width_scale: tuple[float, float] = WIDTH_SCALE   # ... half of them made this many times as wide (uniform)
    textline: bool = True             # images were cropped to their text line (digitseq.textline); the
                                      # checkpoint records it so recognition preprocesses the same way
    margin: int | None = None         # CRNN: columns of background recognition puts after each image (validation
                                      # too; recorded in the checkpoint). None: the init model's, else 0
    readings: str | None = None       # CRNN: how many ways recognition's second look reads an unsure image
                                      # (digitseq.tta.READINGS; recorded). None: the init model's, else the default
    partner_looks: str | None = None  # CRNN: how a partner given to recognition reads an unsure image (recognize.
                                      # PARTNER_LOOKS; recorded). None: the init model's where the alphabet stays
    seed: int = 0
    device: str = "auto"              # auto | cpu | cuda
    amp: str = "auto"                 # bf16 autocast in the forward pass: "bf16", "off", or "auto": on a GPU and on
                                      # a CPU with bf16 instructions (AVX512-BF16 / AMX), where it trains 1.5-1.7x
                                      # as fast (benchmarks/bench_train.py --amp); weights and optimiser stay float32
    workers: int = 0                  # DataLoader worker processes
    show_predictions: int = 3         # validation examples printed after each epoch
    tensorboard: str | None = None    # log folder, if the tensorboard package is installed
    time_budget: float | None = None  # seconds; a one-cycle schedule's last phase is fitted to end inside it
                                      # (re-planned at each epoch end from the mean epoch time, never past its
                                      # epochs, so it anneals);
                                      # any training stops at the first epoch end past it
    max_steps: int | None = None      # optimiser steps, over all phases
    keep: str = "best"                # weights written to the output: "best" validation epoch, or the "last"
                                      # epoch (a completed one-cycle schedule's annealed end; early stopping
                                      # still applies: patience >= epochs runs the schedule out)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> TrainConfig:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})


@dataclass
class Phase:
    name: str
    epochs: int
    lr: float
    freeze: bool = False


@dataclass
class TrainResult:
    model: torch.nn.Module
    history: list[dict]
    best_metric: float | None
    best_path: Path
    last_path: Path
    interrupted: bool = False
    steps: list[dict] = field(default_factory=list)
    keep: str = "best"

    @property
    def kept_metric(self) -> float | None:
        """Validation sequence accuracy of the model written to ``best_path`` (``keep``: best or last epoch)."""
        if self.keep == "last" and self.history:
            return self.history[-1]["val"]["sequence_accuracy"]
        return self.best_metric


def distributed() -> tuple[int, int]:
    """(rank, world size): (0, 1) unless running under an initialised torch.distributed group."""
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        return torch.distributed.get_rank(), torch.distributed.get_world_size()
    return 0, 1


def _over_ranks(value: int, device: torch.device, op: str) -> int:
    """``value`` of this process, or under torchrun ``op`` ("MAX", "MIN": a ``ReduceOp``'s name) of every rank's
    (named, so that a single process needs no torch.distributed)."""
    if distributed()[1] == 1:
        return value
    t = torch.tensor([int(value)], device=device if device.type == "cuda" else "cpu")
    torch.distributed.all_reduce(t, op=getattr(torch.distributed.ReduceOp, op))
    return int(t.item())


def any_rank(flag: bool, device: torch.device) -> bool:
    """``flag`` of this process, or under torchrun whether any rank's is set: every rank must stop at the same
    batch, or the others would wait in their next step's gradient exchange for ever."""
    return bool(_over_ranks(int(flag), device, "MAX"))


def agreed_min(value: int, device: torch.device) -> int:
    """``value`` of this process, or under torchrun the least over ranks: a decision every rank must share."""
    return _over_ranks(value, device, "MIN")


def init_distributed(device: str = "auto") -> tuple[int, int]:
    """Join the process group torchrun describes in the environment (gloo on CPU, nccl on CUDA)."""
    import os

    if int(os.environ.get("WORLD_SIZE", "1")) <= 1 or torch.distributed.is_initialized():
        return distributed()
    use_cuda = device == "cuda" or (device == "auto" and torch.cuda.is_available())
    if use_cuda:
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
    torch.distributed.init_process_group("nccl" if use_cuda else "gloo")
    return distributed()


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and torch.cuda.is_available() and distributed()[1] > 1:
        return torch.device("cuda", torch.cuda.current_device())
    if name == "cuda" and not torch.cuda.is_available():
        raise DigitseqError("--device cuda: no CUDA device is available")
    if name not in ("cpu", "cuda"):
        raise DigitseqError(f"device must be auto, cpu or cuda, got {name!r}")
    return torch.device(name)


AMP_MODES = ("auto", "bf16", "off")


def cpu_has_bf16() -> bool:
    """Whether this CPU computes bf16 natively (AVX512-BF16 or AMX), so that autocast makes training faster."""
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


BF16_EMULATED = ("amp bf16: this CPU has no bf16 instructions (AVX512-BF16 / AMX), so autocast emulates them and "
                 "a step runs several times slower than in float32 (7.7x measured on an AVX2 CPU); --amp auto or off")


class StopSignals:
    """Ctrl-C and SIGTERM (what ``kill``, schedulers and CI time-outs send) while :func:`fit` trains, in the main
    thread (Python delivers signals there; elsewhere nothing changes). Within a batch, or while an epoch's
    bookkeeping and checkpoints are written, a signal is noted and acted on at the next safe point, so ``last.pt``
    always holds weights, optimiser, schedule and random state that agree; while validating (``at_once``) it stops
    at once, as validation changes nothing. A second signal stops at once anywhere, without saving
    (``forced``). The previous handlers come back on leaving."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self):
        self.signalled = self.forced = self.raising = False
        self.previous: dict = {}

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            for sig in self.SIGNALS:
                self.previous[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum, frame):
        if self.raising or self.signalled:
            self.forced = self.signalled and not self.raising
            self.signalled = True
            raise KeyboardInterrupt(f"signal {signum}")
        self.signalled = True

    @contextmanager
    def at_once(self):
        self.raising = True
        try:
            yield
        finally:
            self.raising = False

    def __exit__(self, *exc) -> bool:
        for sig, handler in self.previous.items():
            signal.signal(sig, handler)
        return False


def rng_state(device: torch.device) -> dict:
    """The random state dropout draws from: the CPU generator's, and the GPU's where training runs on one."""
    return {"rng": torch.get_rng_state(),
            **({"cuda_rng": torch.cuda.get_rng_state(device)} if device.type == "cuda" else {})}


def set_rng_state(state: dict, device: torch.device) -> None:
    torch.set_rng_state(state["rng"])
    if device.type == "cuda" and state.get("cuda_rng") is not None:
        torch.cuda.set_rng_state(state["cuda_rng"], device)


def check_resumable(state: dict, n_batches: int, epochs: int) -> None:
    """A one-line error where ``state`` (a ``last.pt``) cannot continue on this data: its epochs had another number
    of batches (other images or batch size), so its learning-rate schedule would run past its end."""
    steps = _total_steps(state)         # (older checkpoints: from the schedule, which runs at least 8 steps)
    had = state["resume"].get("batches") or (steps // max(epochs, 1) if steps > 8 else 0)
    if had and had != n_batches:
        raise DigitseqError(f"--resume: that run's epochs had {had} batches, the data and batch size given now make "
                            f"{n_batches} (in each of {distributed()[1]} processes); resume with the same training "
                            "data and processes, or start a new run with --init")


def _total_steps(state: dict) -> int:
    """The one-cycle schedule's total steps recorded in a ``last.pt`` (0 for other schedules)."""
    return int((state.get("scheduler") or {}).get("total_steps") or 0)


def uses_bf16(amp: str, device: torch.device) -> bool:
    """Whether training on ``device`` runs its forward pass under bf16 autocast (:attr:`TrainConfig.amp`)."""
    if amp not in AMP_MODES:
        raise DigitseqError(f"amp must be one of {', '.join(AMP_MODES)}, got {amp!r}")
    if amp == "auto":
        return device.type == "cuda" or (device.type == "cpu" and cpu_has_bf16())
    return amp == "bf16"


def make_optimizer(cfg: TrainConfig, params, lr: float) -> torch.optim.Optimizer:
    if cfg.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=lr, weight_decay=cfg.weight_decay)
    if cfg.optimizer == "adam":
        return torch.optim.Adam(params, lr=lr)
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay, nesterov=True)
    raise DigitseqError(f"optimizer must be adamw, adam or sgd, got {cfg.optimizer!r}")


def make_scheduler(cfg: TrainConfig, opt: torch.optim.Optimizer, lr: float, steps_per_epoch: int, epochs: int):
    total = max(8, steps_per_epoch * epochs)   # one-cycle needs a few steps for its warm-up and decay
    if cfg.schedule == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=total, pct_start=0.25,
                                                   div_factor=10.0, final_div_factor=100.0)
    if cfg.schedule == "cyclic":
        up = max(1, round(steps_per_epoch * cfg.cyclic_half_cycle))
        return torch.optim.lr_scheduler.CyclicLR(opt, base_lr=lr * cfg.cyclic_base_ratio, max_lr=lr,
                                                 step_size_up=up, mode="triangular2",
                                                 cycle_momentum=cfg.optimizer == "sgd")
    if cfg.schedule == "constant":
        return torch.optim.lr_scheduler.ConstantLR(opt, factor=1.0, total_iters=0)
    raise DigitseqError(f"schedule must be onecycle, cyclic or constant, got {cfg.schedule!r}")


# --------------------------------------------------------------------------- tasks

def ctc_loss(model: CRNN, codec: Codec, x: torch.Tensor, widths: torch.Tensor, labels: list[str],
             net=None) -> torch.Tensor:
    """Mean CTC loss of a batch; ``net`` is the forward callable (a DDP wrapper), default ``model``."""
    log_probs = (net or model)(x).float().log_softmax(-1).transpose(0, 1)   # T×B×C, as CTCLoss wants
    targets, target_lengths = codec.encode_batch(labels)
    input_lengths = model.output_lengths(widths)
    return F.ctc_loss(log_probs, targets.to(x.device), input_lengths, target_lengths, blank=codec.blank,
                      reduction="mean", zero_infinity=True)


def classification_loss(model: DigitCNN, codec: Codec, x, widths, labels, net=None) -> torch.Tensor:
    targets = torch.tensor([codec.index[t] - 1 for t in labels], device=x.device)
    return F.cross_entropy((net or model)(x, widths.to(x.device)).float(), targets)


@torch.inference_mode()
def classify(model: DigitCNN, codec: Codec, dataset: ImageSet, batch_size: int = 256, device="cpu") -> list[str]:
    from .data import pad_batch

    model.eval()
    preds = []
    for s in range(0, len(dataset), batch_size):
        x, widths = pad_batch(dataset.arrays[s:s + batch_size])
        idx = model(x.to(device), widths.to(device)).argmax(1).tolist()
        preds.extend(codec.alphabet[i] for i in idx)
    return preds


def validate(model, kind: str, codec: Codec, dataset: ImageSet, device, margin: int = 0) -> tuple[dict, list[str]]:
    if kind == "crnn":
        preds = [p.text for p in predict_arrays(model, codec, dataset.arrays, 256, NORMALISATION, device=device,
                                                margin=margin)]
    else:
        preds = classify(model, codec, dataset, device=device)
    report = evaluate(dataset.labels, preds)
    # Keep the history in checkpoints small: the scalar metrics and accuracy by length only.
    report = {k: v for k, v in report.items() if not isinstance(v, (list, dict)) or k == "by_length"}
    return report, preds


def kept_label(keep: str, epoch: int) -> str:
    """What a saved model's ``train.kept`` says: which epoch it is, and why that one."""
    return f"{'last' if keep == 'last' else 'best validation'} epoch ({epoch})"


def epochs_that_fit(budget: float, elapsed: float, epoch_seconds: float) -> int:
    """How many more whole epochs of ``epoch_seconds`` end inside ``budget`` after one ending at ``elapsed``."""
    if elapsed >= budget:
        return 0
    return int((budget - elapsed) // max(epoch_seconds, 1e-9))


def refit_onecycle(cfg: TrainConfig, opt: torch.optim.Optimizer, lr: float, steps_per_epoch: int, epochs: int,
                   done: int):
    """A one-cycle schedule over ``epochs`` epochs in place of a longer one, continuing after its ``done`` steps:
    the same warm-up share, peak and annealed end, so a run shortened to fit its time budget still anneals."""
    sched = make_scheduler(cfg, opt, lr, steps_per_epoch, epochs)
    if done:
        sched.last_epoch = done - 1
        sched.step()                    # sets the rate (and momentum) of step ``done`` on the new curve
    return sched


# --------------------------------------------------------------------------- the engine

def fit(model: torch.nn.Module, kind: str, codec: Codec, train_set: ImageSet, val_set: ImageSet,
        cfg: TrainConfig, out: str | Path, phases: list[Phase], arch: dict, resume: dict | None = None,
        progress: bool = True, log: Callable[[str], None] | None = None, extra: dict | None = None) -> TrainResult:
    """Train ``model`` through ``phases``; see the module docstring for what is written where."""
    if cfg.keep not in ("best", "last"):
        raise DigitseqError(f"keep must be 'best' or 'last', not {cfg.keep!r}")
    if not 0.0 <= cfg.tight <= 1.0:
        raise DigitseqError(f"tight must be a share between 0 and 1, not {cfg.tight!r}")
    rank, world = distributed()
    log = (log or tqdm.write) if rank == 0 else (lambda _msg: None)
    width_scale = check_width_scale(cfg.width_scale)
    if hasattr(train_set, "tight"):    # an ImageSet; a RenderedDataset draws fresh images and augments none
        train_set.tight, train_set.width_scale = cfg.tight, width_scale
    elif cfg.tight or width_scale != WIDTH_SCALE:
        log("tight and width_scale have no effect: this training set is rendered fresh and not augmented")
    progress = progress and rank == 0
    device = resolve_device(cfg.device)
    model.to(device)
    out = Path(out)
    last_path = out.with_name("last.pt") if out.name != "last.pt" else out.with_name("last-resume.pt")
    loss_fn = ctc_loss if kind == "crnn" else classification_loss
    use_amp = uses_bf16(cfg.amp, device)
    if use_amp and device.type == "cpu" and not cpu_has_bf16():
        log(BF16_EMULATED)
    writer = _tensorboard(cfg.tensorboard) if rank == 0 else None

    history: list[dict] = []
    steps: list[dict] = []
    best: float | None = None
    start_phase, start_epoch, step, start_batch, start_loss = 0, 0, 0, 0, (0.0, 0)
    resume_rng = None
    if resume is not None:
        history, steps = resume.get("history", []), resume.get("steps", [])
        best = resume["train"].get("best_metric")
        start_phase, start_epoch, step = resume["resume"]["phase"], resume["resume"]["epoch"], resume["resume"]["step"]
        start_batch = resume["resume"].get("batch", 0)               # > 0: interrupted inside an epoch
        start_loss = tuple(resume["resume"].get("loss", (0.0, 0)))
        if resume.get("rng") is not None:
            # Saved before an epoch's first batch: the state before its loader is made (making one draws from it).
            # Saved after a batch: the state after the last whole one, so set once the loader has been made.
            if start_batch:
                resume_rng = resume
            else:
                set_rng_state(resume, device)
    t0 = time.time() - (resume["resume"]["elapsed"] if resume else 0.0)
    interrupted = False

    def fit_budget(phase_i: int, epoch: int, sched, notes: list[str]):
        """After ``epoch`` of the last phase (not its planned last): as many epochs as end inside the time budget at
        the mean epoch time so far, at most those configured, with the one-cycle schedule re-planned over them (it
        still anneals; a plan shortened after slow early epochs grows back as they speed up); a stop reason where no
        further epoch fits."""
        phase = phases[phase_i]
        mean = sum(epoch_seconds) / len(epoch_seconds)
        more = agreed_min(epochs_that_fit(cfg.time_budget, time.time() - t0, mean), device)
        target = min(epoch + 1 + more, configured[phase_i])
        if target == phase.epochs:
            return sched, None
        if more == 0:
            return sched, f"time budget {cfg.time_budget:.0f}s: no further epoch of ~{mean:.0f}s fits"
        notes.append(f"time budget {cfg.time_budget:.0f}s: at ~{mean:.0f}s an epoch, {target} of the "
                     f"{configured[phase_i]} epochs fit; the learning-rate schedule now ends (annealed) after epoch "
                     f"{target}")
        phase.epochs = target
        return refit_onecycle(cfg, sched.optimizer, phase.lr, n_batches, phase.epochs, sched.last_epoch), None

    def save(path, *args):  # only rank 0 writes; the others wait so nobody reads a half-written file
        if rank == 0:
            save_checkpoint(checkpoint(*args), path)
        if world > 1:
            torch.distributed.barrier()

    def checkpoint(with_state: bool, phase_i: int, epoch: int, opt=None, sched=None, stopper=None,
                   batch: int = 0, loss=(0.0, 0), rng: dict | None = None, batches: int = 0,
                   finished: bool = False) -> dict:
        train = {"config": cfg.to_dict(), "phases": [asdict(p) for p in phases], "best_metric": best,
                 "epochs_done": len(history), "steps_done": step, "seconds": round(time.time() - t0, 1)}
        if not with_state:                                 # the model written to ``out``: which epoch it is
            train["kept"] = kept_label(cfg.keep, len(history))
        ck = make_checkpoint(model, kind, arch, codec.alphabet, NORMALISATION, train=train,
                             preprocess={"textline": bool(cfg.textline), "margin": int(cfg.margin or 0),
                                         **({"tta_readings": cfg.readings} if cfg.readings else {}),
                                         **({"tta_partner_looks": cfg.partner_looks} if cfg.partner_looks else {})},
                             metrics=history[-1]["val"] if history else {}, history=history, **(extra or {}))
        if with_state:
            ck.update(optimizer=opt.state_dict(), scheduler=sched.state_dict(), stopper=stopper.state_dict(),
                      **(rng_state(device) if rng is None else rng), steps=steps,
                      resume={"phase": phase_i, "epoch": epoch, "step": step, "elapsed": time.time() - t0,
                              "phase_epochs": phases[phase_i].epochs,
                              "batch": batch, "loss": list(loss), "batches": batches, "finished": finished})
        return ck

    last_phase = max((i for i, p in enumerate(phases) if p.epochs > 0), default=-1)
    configured = [p.epochs for p in phases]     # a plan fitted to the time budget never grows past these
    with StopSignals() as stops:
        for phase_i, phase in enumerate(phases):
            if phase_i < start_phase or phase.epochs <= 0:
                continue
            if kind == "crnn":
                model.freeze_features(phase.freeze)
            params = [p for p in model.parameters() if p.requires_grad]
            net = model
            if world > 1:
                net = torch.nn.parallel.DistributedDataParallel(
                    model, device_ids=[device.index] if device.type == "cuda" else None)
            opt = make_optimizer(cfg, params, phase.lr)
            n_batches = len(epoch_batches(train_set, cfg.batch_size, False, rank=rank, world_size=world))
            sched = make_scheduler(cfg, opt, phase.lr, n_batches, phase.epochs)
            stopper = EarlyStopping(cfg.patience, mode="max", min_delta=cfg.min_delta)
            first_epoch = 0
            if resume is not None and phase_i == start_phase:
                check_resumable(resume, n_batches, phase.epochs)
                opt.load_state_dict(resume["optimizer"])
                sched.load_state_dict(resume["scheduler"])
                stopper.load_state_dict(resume["stopper"])
                planned = resume["resume"].get("phase_epochs")
                if planned and planned < phase.epochs:      # shortened to fit the time budget (its schedule too)
                    phase.epochs = planned
                first_epoch = start_epoch
                resume = None
            log(f"phase {phase.name}: {phase.epochs} epochs, lr {phase.lr:g}, "
                f"{sum(p.numel() for p in params):,} trainable parameters, {len(train_set):,} images, device {device}")
            stop_reason = None
            epoch_seconds: list[float] = []     # whole epochs of this process, for fitting the time budget
            epoch = first_epoch
            while epoch < phase.epochs:         # (phase.epochs may shrink to fit the time budget)
                model.train()
                epoch_t = time.time()
                total, count = 0.0, 0
                skip = 0
                if start_batch and epoch == first_epoch and phase_i == start_phase:
                    skip, (total, count), start_batch = start_batch, start_loss, 0   # continue inside the epoch
                done = skip
                # The random state an interrupted epoch resumes from: before its loader is made while no batch is
                # done (making one draws from it), then as of the last whole batch.
                rng = rng_state(device)
                batches = iter(loader(train_set, cfg.batch_size, True, cfg.seed, epoch + 1000 * phase_i,
                                      cfg.workers, skip=skip, rank=rank, world_size=world))
                if resume_rng is not None:   # resumed after a batch: the state an uninterrupted run had here
                    set_rng_state(resume_rng, device)
                    rng, resume_rng = rng_state(device), None
                bar = tqdm(batches, total=n_batches, initial=skip, desc=f"{phase.name} {epoch + 1}/{phase.epochs}",
                           leave=False, disable=not progress, unit="batch")
                try:
                    for x, widths, labels in bar:
                        if any_rank(stops.signalled, device):   # a stop noted in the batch before: not begun
                            interrupted = True
                            break
                        x = x.to(device, non_blocking=True)
                        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=use_amp):
                            loss = loss_fn(model, codec, x, widths, labels, net=net)
                        opt.zero_grad(set_to_none=True)
                        if torch.isfinite(loss):
                            loss.backward()
                            if cfg.clip:
                                torch.nn.utils.clip_grad_norm_(params, cfg.clip)
                            opt.step()
                            total += loss.item() * len(labels)
                            count += len(labels)
                        sched.step()
                        step += 1
                        done += 1
                        rng = rng_state(device)
                        lr = opt.param_groups[0]["lr"]
                        steps.append({"step": step, "loss": round(loss.item(), 5), "lr": lr})
                        if writer:
                            writer.add_scalar("train/loss", loss.item(), step)
                            writer.add_scalar("train/lr", lr, step)
                        bar.set_postfix(loss=f"{loss.item():.4f}", lr=f"{lr:.2e}", refresh=False)
                        if cfg.max_steps and step >= cfg.max_steps:
                            stop_reason = f"max_steps {cfg.max_steps} reached"
                            break
                except KeyboardInterrupt:       # raised by the code a batch runs, or a second signal
                    if stops.forced:
                        log(f"stopped at once by a second signal; {last_path} keeps the state it had")
                        raise
                    interrupted = True
                finally:
                    bar.close()
                    bar.iterable = None         # the loader's workers end here, not in a later garbage collection
                    del batches
                interrupted = any_rank(interrupted or stops.signalled, device)
                if not interrupted:
                    try:
                        with stops.at_once():
                            val, preds = validate(model, kind, codec, val_set, device, cfg.margin or 0)
                    except KeyboardInterrupt:   # the epoch's batches are all done: resuming validates them
                        if stops.forced:
                            raise
                        interrupted = True
                    interrupted = any_rank(interrupted, device)
                if interrupted:
                    # Saved with the number of batches done and the random state after the last of them: resuming
                    # skips them and finishes this epoch as an uninterrupted run would have.
                    if rank == 0:
                        save_checkpoint(checkpoint(True, phase_i, epoch, opt, sched, stopper, done, (total, count),
                                                   rng, n_batches), last_path)
                    where = "before its validation" if done == n_batches else f"after {done} batches"
                    log(f"interrupted in epoch {epoch + 1} {where}: progress saved to {last_path}; continue with "
                        f"--resume {last_path}")
                    break
                # The epoch's bookkeeping and checkpoints (a signal now waits for them).
                metric = val["sequence_accuracy"]
                stopper.step(metric)
                row = {"phase": phase.name, "epoch": len(history) + 1, "train_loss": total / max(count, 1),
                       "val": val, "blank_fraction": sum(p == "" for p in preds) / max(len(preds), 1),
                       "lr": opt.param_groups[0]["lr"], "seconds": round(time.time() - epoch_t, 1),
                       "elapsed": round(time.time() - t0, 1), "step": step}
                history.append(row)
                improved = best is None or metric > best
                if improved:
                    best = metric
                if stopper.should_stop:
                    stop_reason = f"no improvement for {cfg.patience} epochs"
                if not (epoch == first_epoch and skip):      # an epoch resumed midway took less than an epoch
                    epoch_seconds.append(row["seconds"])
                notes = []                                  # logged after the epoch's line
                # (agreed over torchrun's ranks, whose clocks may straddle the budget: all stop or none)
                if cfg.time_budget and any_rank(time.time() - t0 > cfg.time_budget, device) and \
                        (epoch + 1 < phase.epochs or phase_i != last_phase):
                    stop_reason = f"time budget {cfg.time_budget:.0f}s used"
                if cfg.time_budget and not stop_reason and epoch + 1 < phase.epochs and epoch_seconds:
                    if cfg.schedule == "onecycle" and phase_i == last_phase:
                        sched, stop_reason = fit_budget(phase_i, epoch, sched, notes)
                    elif len(epoch_seconds) == 1 and \
                            epochs_that_fit(cfg.time_budget, time.time() - t0, row["seconds"]) + 1 < \
                            phase.epochs - epoch - 1:
                        notes.append(f"note: at {row['seconds']:.0f}s an epoch the time budget ends this phase "
                                     f"before its {phase.epochs} epochs")
                ends_run = ((epoch + 1 == phase.epochs or stop_reason is not None) and phase_i == last_phase) or \
                    (stop_reason is not None and ("budget" in stop_reason or "max_steps" in stop_reason))
                if improved or cfg.keep == "last":
                    save(out, False, phase_i, epoch + 1)
                save(last_path, True, phase_i, epoch + 1, opt, sched, stopper, 0, (0.0, 0), None, n_batches,
                     ends_run)
                if any_rank(stops.signalled, device) and not ends_run and stop_reason is None:
                    log(f"interrupted after epoch {epoch + 1}: progress saved to {last_path}; continue with "
                        f"--resume {last_path}")
                    interrupted = True
                    break
                # (A stop that comes as a phase ends is acted on before the next phase's first batch.)
                if writer:
                    writer.add_scalar("val/sequence_accuracy", metric, step)
                    writer.add_scalar("val/char_accuracy", val["char_accuracy"], step)
                log(f"{phase.name} epoch {epoch + 1}/{phase.epochs}  loss {row['train_loss']:.4f}  "
                    f"val seq acc {metric:.4f}  char acc {val['char_accuracy']:.4f}  ({row['seconds']:.0f}s)"
                    + ("  * best" if improved else ""))
                for t, p in list(zip(val_set.labels, preds))[:cfg.show_predictions]:
                    log(f"    {t!r:>24} -> {p!r:<24} {'ok' if t == p else 'WRONG'}")
                for note in notes:
                    log(note)
                if stop_reason:
                    log(f"{phase.name}: stopping ({stop_reason})")
                    break
                epoch += 1
            if interrupted or (stop_reason and ("budget" in stop_reason or "max_steps" in stop_reason)):
                break
            # The next phase starts from the weights this phase kept (its best, or with keep="last" its last).
            if out.exists():
                model.load_state_dict(load_checkpoint(out)["state_dict"])
    if writer:
        writer.close()
    if world > 1:
        torch.distributed.barrier()
    if out.exists() and not interrupted:
        model.load_state_dict(load_checkpoint(out)["state_dict"])
    model.eval()
    return TrainResult(model, history, best, out, last_path, interrupted, steps, cfg.keep)


def _tensorboard(logdir: str | None):
    if not logdir:
        return None
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        raise DigitseqError("--tensorboard needs the tensorboard package: pip install tensorboard") from None
    return SummaryWriter(logdir)


# --------------------------------------------------------------------------- the two stages

def pretrain_cnn(train_set: ImageSet, val_set: ImageSet, out: str | Path, cfg: TrainConfig | None = None,
                 alphabet: str = DIGITS, arch: dict | None = None, progress: bool = True, log=None) -> TrainResult:
    """Stage 2: a DigitCNN on single-character images (labels of length 1), cross-entropy."""
    cfg = cfg or TrainConfig(epochs=8, lr=3e-3, patience=3, freeze_cnn=False)
    bad = [t for t in train_set.labels + val_set.labels if len(t) != 1]
    if bad:
        raise DigitseqError(f"pretraining needs single-character labels, got {bad[0]!r}")
    seed_everything(cfg.seed)
    codec = Codec(alphabet)
    arch = {**(arch or {})}
    model = build_model("digit_cnn", arch, num_classes_for("digit_cnn", alphabet))
    return fit(model, "digit_cnn", codec, train_set, val_set, cfg, out, [Phase("pretrain", cfg.epochs, cfg.lr)],
               {**_arch_defaults(), **arch}, progress=progress, log=log)


def _arch_defaults() -> dict:
    from .models import DEFAULT_ARCH

    return dict(DEFAULT_ARCH)


def check_preprocessing(cfg: TrainConfig, arch: dict, train_set, *other_sets) -> None:
    """Refuse sets whose images were (or were not) cropped to their text line when ``cfg.textline``, which the
    checkpoint records for recognition, says otherwise (the model would be read differently from how it learned),
    whose height is not the model's input height, or training images stretched for a smaller width stride than
    the model's (CTC would have too few time steps for their labels)."""
    stride = width_stride(arch)
    if getattr(train_set, "reduction", stride) < stride:
        raise DigitseqError(f"training images stretched for a width stride of {train_set.reduction}, but the "
                            f"model's is {stride}: make the set with reduction={stride}")
    for ds in (train_set, *other_sets):
        height = getattr(ds, "height", None)
        if height is not None and height != arch["input_height"]:
            raise DigitseqError(f"images {height} px high, but the model takes {arch['input_height']} px: load them "
                                f"with height={arch['input_height']}")
        cropped = getattr(ds, "textline", None)
        if cropped is not None and bool(cropped) != bool(cfg.textline):
            raise DigitseqError(f"images {'' if cropped else 'not '}cropped to their text line, but textline="
                                f"{bool(cfg.textline)} in the training config (recognition would preprocess as that "
                                f"says); load them with textline={bool(cfg.textline)} or change the config")


def train_crnn(train_set: ImageSet, val_set: ImageSet, out: str | Path, cfg: TrainConfig | None = None,
               alphabet: str | None = None, arch: dict | None = None, pretrained: str | Path | None = None,
               init: str | Path | None = None, resume: str | Path | None = None, progress: bool = True,
               log=None) -> TrainResult:
    """Stage 3: a CRNN trained with CTC.

    ``pretrained``: a DigitCNN checkpoint whose conv blocks start the CRNN (and set its conv
    architecture). ``init``: a CRNN checkpoint to fine-tune from — every layer whose shape fits is
    reused; for a different alphabet the output rows of shared characters and the blank are kept.
    ``resume``: a ``last.pt`` to continue exactly where it stopped.
    """
    log = (log or tqdm.write) if distributed()[0] == 0 else (lambda _msg: None)
    if resume is not None:
        state = load_checkpoint(resume)
        if state["kind"] != "crnn":
            raise CheckpointError(f"{resume}: a {state['kind']} checkpoint, not a CRNN run's last.pt")
        if "resume" not in state:
            raise CheckpointError(f"{resume}: holds no training state to resume (use a last.pt)")
        run = TrainConfig.from_dict(state["train"]["config"])
        # The run's own settings; where it runs is the caller's (another machine, more loader workers, a GPU).
        cfg = run if cfg is None else replace(run, workers=cfg.workers, device=cfg.device, tensorboard=cfg.tensorboard)
        alphabet, arch = state["alphabet"], state["arch"]
        check_preprocessing(cfg, arch, train_set, val_set)
        model = build_model("crnn", arch, num_classes_for("crnn", alphabet))
        model.load_state_dict(state["state_dict"])
        phases = [Phase(**p) for p in state["train"]["phases"]]
        r = state["resume"]
        log(f"resuming {resume}: phase {r['phase'] + 1}, after epoch {r['epoch']}"
            + (f" and {r['batch']} batches of the next" if r.get("batch") else ""))
        return fit(model, "crnn", Codec(alphabet), train_set, val_set, cfg, out, phases, arch, resume=state,
                   progress=progress, log=log)

    cfg = cfg or TrainConfig()
    seed_everything(cfg.seed)
    codec = Codec(alphabet) if alphabet else Codec.from_labels(train_set.labels)
    for name, ds in (("training", train_set), ("validation", val_set)):
        drawn_from = getattr(ds, "alphabet", None)   # a RenderedDataset draws every label from its alphabet
        if drawn_from is not None and set(drawn_from) <= set(codec.alphabet):
            continue                                 # (checking would mean drawing millions of labels)
        for t in ds.labels:
            try:
                codec.encode(t)
            except DigitseqError as exc:
                raise DigitseqError(f"{name} set: {exc}") from None
    arch, src, src_init = resolve_arch(arch, pretrained, init)
    check_preprocessing(cfg, arch, train_set, val_set)
    source = (src_init or {}).get("preprocess") or {}
    if cfg.margin is None:   # a fine-tuned model reads as the one it came from
        cfg = replace(cfg, margin=int(source.get("margin", 0)))
    if cfg.readings is None:
        cfg = replace(cfg, readings=source.get("tta_readings"))
    if cfg.partner_looks is None and src_init is not None and src_init.get("alphabet") == codec.alphabet:
        # ... and a partner given to it reads as the source's did (the partner's name is not kept: pipeline.ship)
        cfg = replace(cfg, partner_looks=source.get("tta_partner_looks"))
    if cfg.partner_looks is not None:
        check_partner_looks(cfg.partner_looks, "partner_looks", DigitseqError)
    if cfg.readings is not None:
        from .tta import check_readings

        check_readings(cfg.readings)
    model = build_model("crnn", arch, codec.num_classes)
    if src is not None:
        copied = transfer_weights(model, src["state_dict"])
        log(f"pretrained conv blocks from {pretrained}: {len(copied)} tensors")
    if init is not None:
        copied = fine_tune_from(model, src_init, codec)
        log(f"initialised from {init}: {copied} tensors reused (alphabet {src_init['alphabet']!r} -> {codec.alphabet!r})")
    if cfg.blank_bias is not None and init is None:
        with torch.no_grad():
            model.head.bias[codec.blank] = cfg.blank_bias
    frozen = cfg.freeze_cnn and (src is not None or init is not None)
    phases = [Phase("frozen" if frozen else "train", cfg.epochs, cfg.lr, freeze=frozen)]
    if cfg.finetune_epochs:
        phases.append(Phase("finetune", cfg.finetune_epochs, cfg.finetune_lr, freeze=False))
    return fit(model, "crnn", codec, train_set, val_set, cfg, out, phases, arch, progress=progress, log=log)


def resolve_arch(arch: dict | None = None, pretrained: str | Path | None = None, init: str | Path | None = None
                 ) -> tuple[dict, dict | None, dict | None]:
    """The CRNN architecture :func:`train_crnn` builds from these arguments, and the two checkpoints it read.

    ``arch`` over the defaults; a ``pretrained`` CNN sets the conv blocks (channels, pools, input height); an
    ``init`` CRNN sets everything, except dropout and what keeps its weights usable: more channels or a larger
    GRU (widened, ``models.widen_weights``) and other pools or input height that leave the feature map as high
    (e.g. a width stride of 8). Call it before loading images to know their height and width stride.
    """
    user_arch = dict(arch or {})
    arch = {**_arch_defaults(), **user_arch}
    src = src_init = None
    if pretrained is not None:
        src = load_checkpoint(pretrained)
        if src["kind"] != "digit_cnn":
            raise CheckpointError(f"{pretrained}: a {src['kind']} checkpoint, not a pretrained CNN")
        arch.update({k: src["arch"][k] for k in ("channels", "pools", "input_height")})
    if init is not None:
        src_init = load_checkpoint(init)
        if src_init["kind"] != "crnn":
            raise CheckpointError(f"{init}: a {src_init['kind']} checkpoint, not a CRNN")
        keep = ("dropout", "channels", "rnn_hidden", "pools", "input_height")
        arch = {**src_init["arch"], **{k: v for k, v in user_arch.items() if k in keep}}
        check_widening(init, src_init["arch"], arch)
    return arch, src, src_init


def feature_height(arch: dict) -> int:
    """Rows of the conv stack's output: input height over the pools' height reduction."""
    return arch["input_height"] // math.prod(p[0] for p in arch["pools"])


def width_stride(arch: dict) -> int:
    """Input columns per time step: the product of the pools' widths."""
    return math.prod(p[1] for p in arch["pools"])


def check_widening(init, old: dict, new: dict) -> None:
    """A model continued from ``init`` may get more conv channels per block, a larger GRU, and other pools or input
    height that keep the conv stack's output as high (its GRU reads as many rows); never fewer or other blocks,
    nor a smaller GRU."""
    a, b = list(old["channels"]), list(new["channels"])
    if len(b) != len(a) or any(x < y for x, y in zip(b, a)):
        raise CheckpointError(f"{init}: channels {a} can only be widened (same number of blocks, none "
                              f"narrower), not changed to {b}")
    if new["rnn_hidden"] < old["rnn_hidden"]:
        raise CheckpointError(f"{init}: the GRU's {old['rnn_hidden']} hidden units can only be widened, "
                              f"not cut to {new['rnn_hidden']}")
    if len(new["pools"]) != len(old["pools"]) or feature_height(new) != feature_height(old):
        raise CheckpointError(f"{init}: pools {new['pools']} at input height {new['input_height']} change the "
                              f"feature map's height ({feature_height(old)} rows) that its GRU reads")


def fine_tune_from(model: CRNN, src: dict, codec: Codec) -> int:
    """Reuse ``src``'s weights in ``model``; map output rows by character when alphabets differ."""
    state = dict(src["state_dict"])
    head_w, head_b = state.pop("head.weight"), state.pop("head.bias")
    copied = len(widen_weights(model, state))
    with torch.no_grad():
        rows = [(0, 0)] + [(codec.index[c], i + 1) for i, c in enumerate(src["alphabet"]) if c in codec.index]
        wide = torch.zeros(head_w.shape[0], model.head.weight.shape[1])
        if widen_into("head.weight", wide, head_w):       # the GRU may have been widened
            head_w = wide
            for new, old in rows:
                model.head.weight[new] = head_w[old]
                model.head.bias[new] = head_b[old]
            copied += 2
    return copied


TRAINING_STATE = ("optimizer", "scheduler", "stopper", "rng", "steps", "resume")


def last_epoch_model(last: str | Path, out: str | Path) -> Path:
    """Write the model of a run's ``last.pt`` (its last epoch) to ``out`` without the training state: what
    ``keep="last"`` would have written, for a run that kept its best validation epoch instead."""
    if Path(out).resolve() == Path(last).resolve():
        raise DigitseqError(f"{out}: would overwrite the last.pt it is made from")
    ck = load_checkpoint(last)
    if "resume" not in ck:
        raise CheckpointError(f"{last}: not a last.pt (it holds no training state)")
    if ck["resume"].get("batch"):
        raise CheckpointError(f"{last}: saved in the middle of an epoch (interrupted); resume it to the epoch's end")
    ck = {k: v for k, v in ck.items() if k not in (*TRAINING_STATE, "path")}
    ck["train"] = {**ck["train"], "kept": kept_label("last", ck["train"]["epochs_done"])}
    return save_checkpoint(ck, out)


def steps_to_reach(history: list[dict], threshold: float) -> dict | None:
    """The first epoch row whose validation sequence accuracy reached ``threshold``."""
    for row in history:
        if row["val"]["sequence_accuracy"] >= threshold - 1e-12:
            return {"epoch": row["epoch"], "step": row["step"], "elapsed": row["elapsed"]}
    return None


__all__ = ["TrainConfig", "Phase", "TrainResult", "fit", "pretrain_cnn", "train_crnn", "steps_to_reach",
           "resolve_device", "uses_bf16"]
