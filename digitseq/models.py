"""The networks and their checkpoints.

``ConvBlocks``  conv 3×3 → batch-norm → ReLU → max-pool, repeated; the shared feature extractor.
``DigitCNN``    ConvBlocks → per-column features averaged over the image width → linear classes.
``CRNN``        ConvBlocks → one feature vector per horizontal step → bidirectional GRU → linear to
                alphabet + CTC blank. Any width; the height is fixed (``input_height``).

A checkpoint is a plain dict (no pickled modules)::

    {"format": 1, "kind": "crnn" | "digit_cnn", "arch": {...}, "alphabet": "0123456789",
     "input_height": 32, "normalisation": {"mean": .5, "std": .5}, "state_dict": {...},
     "train": {...}, "metrics": {...}}        # + "optimizer", "scheduler", ... for resuming

and is written atomically (temporary file, then rename), so an interrupted write never leaves a
broken file behind.
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path

import torch
from torch import nn

from .errors import CheckpointError

CHECKPOINT_FORMAT = 1
DEFAULT_ARCH = {
    "channels": [16, 32, 64, 128],
    "pools": [[2, 2], [2, 2], [2, 1], [2, 1]],
    "input_height": 32,
    "rnn_hidden": 128,
    "rnn_layers": 1,
    "dropout": 0.1,
}


class ConvBlocks(nn.Module):
    def __init__(self, channels=(16, 32, 64, 128), pools=((2, 2), (2, 2), (2, 1), (2, 1)), in_channels: int = 1):
        super().__init__()
        if len(channels) != len(pools):
            raise ValueError("channels and pools need the same length")
        layers, prev = [], in_channels
        for c, (ph, pw) in zip(channels, pools):
            layers += [nn.Conv2d(prev, c, 3, padding=1, bias=False), nn.BatchNorm2d(c), nn.ReLU(inplace=True)]
            if (ph, pw) != (1, 1):
                layers.append(nn.MaxPool2d((ph, pw)))
            prev = c
        self.body = nn.Sequential(*layers)
        self.pools = [tuple(p) for p in pools]
        self.out_channels = prev
        self.height_reduction = math.prod(p[0] for p in self.pools)
        self.width_reduction = math.prod(p[1] for p in self.pools)
        self.to(memory_format=torch.channels_last)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # channels-last runs these small convolutions about twice as fast on CPU (benchmarks/README)
        return self.body(x.contiguous(memory_format=torch.channels_last))

    def out_width(self, widths: torch.Tensor) -> torch.Tensor:
        """Feature-map width for input widths (each pooling floors, exactly as MaxPool2d does)."""
        for _, pw in self.pools:
            widths = torch.div(widths, pw, rounding_mode="floor")
        return widths


class DigitCNN(nn.Module):
    """Single-character classifier whose features have the same shape as a CRNN's."""

    def __init__(self, num_classes: int = 10, channels=DEFAULT_ARCH["channels"], pools=DEFAULT_ARCH["pools"],
                 input_height: int = 32, dropout: float = 0.1):
        super().__init__()
        self.features = ConvBlocks(channels, pools)
        if input_height % self.features.height_reduction:
            raise ValueError(f"input_height {input_height} must be a multiple of {self.features.height_reduction}")
        self.feature_dim = self.features.out_channels * (input_height // self.features.height_reduction)
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(self.feature_dim, num_classes)

    def forward(self, x: torch.Tensor, widths: torch.Tensor | None = None) -> torch.Tensor:
        f = self.features(x)                              # B×C×h×w
        f = f.flatten(1, 2)                               # B×(C·h)×w: one vector per column
        if widths is None:
            pooled = f.mean(dim=2)
        else:                                             # average only over the image's own columns
            steps = self.features.out_width(widths).clamp(min=1).to(f.device)
            mask = (torch.arange(f.shape[2], device=f.device)[None, :] < steps[:, None]).to(f.dtype)
            pooled = (f * mask[:, None, :]).sum(2) / steps[:, None].to(f.dtype)
        return self.classifier(self.dropout(pooled))


class CRNN(nn.Module):
    """Convolutional features → bidirectional GRU → per-step class scores (index 0 = CTC blank)."""

    def __init__(self, num_classes: int, channels=DEFAULT_ARCH["channels"], pools=DEFAULT_ARCH["pools"],
                 input_height: int = 32, rnn_hidden: int = DEFAULT_ARCH["rnn_hidden"],
                 rnn_layers: int = DEFAULT_ARCH["rnn_layers"], dropout: float = 0.1):
        super().__init__()
        self.features = ConvBlocks(channels, pools)
        if input_height % self.features.height_reduction:
            raise ValueError(f"input_height {input_height} must be a multiple of {self.features.height_reduction}")
        self.input_height = input_height
        self.feature_dim = self.features.out_channels * (input_height // self.features.height_reduction)
        self.rnn = nn.GRU(self.feature_dim, rnn_hidden, num_layers=rnn_layers, bidirectional=True,
                          batch_first=True, dropout=dropout if rnn_layers > 1 else 0.0)
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(2 * rnn_hidden, num_classes)
        self.features_frozen = False

    def freeze_features(self, frozen: bool = True) -> None:
        """Freeze (or unfreeze) the conv blocks: no gradients, and batch-norm kept in eval mode."""
        self.features_frozen = frozen
        for p in self.features.parameters():
            p.requires_grad_(not frozen)
        self.features.train(self.training and not frozen)

    def train(self, mode: bool = True) -> CRNN:
        super().train(mode)
        if self.features_frozen:
            self.features.eval()
        return self

    def output_lengths(self, widths: torch.Tensor) -> torch.Tensor:
        return self.features.out_width(widths)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """B×1×H×W images → B×T×C unnormalised scores, T = W // width_reduction."""
        if self.features_frozen:
            with torch.no_grad():
                f = self.features(x)
        else:
            f = self.features(x)
        f = f.flatten(1, 2).transpose(1, 2)               # B×T×(C·h)
        out, _ = self.rnn(f)
        return self.head(self.dropout(out))


# --------------------------------------------------------------------------- build and checkpoints

def build_model(kind: str, arch: dict, num_classes: int) -> nn.Module:
    arch = {**DEFAULT_ARCH, **arch}
    common = {"channels": arch["channels"], "pools": arch["pools"], "input_height": arch["input_height"],
              "dropout": arch["dropout"]}
    if kind == "crnn":
        return CRNN(num_classes, rnn_hidden=arch["rnn_hidden"], rnn_layers=arch["rnn_layers"], **common)
    if kind == "digit_cnn":
        return DigitCNN(num_classes, **common)
    raise CheckpointError(f"unknown model kind {kind!r}")


def num_classes_for(kind: str, alphabet: str) -> int:
    return len(alphabet) + (1 if kind == "crnn" else 0)


def make_checkpoint(model: nn.Module, kind: str, arch: dict, alphabet: str, normalisation: dict,
                    **extra) -> dict:
    arch = {**DEFAULT_ARCH, **arch}
    return {"format": CHECKPOINT_FORMAT, "kind": kind, "arch": arch, "alphabet": alphabet,
            "input_height": arch["input_height"], "normalisation": dict(normalisation),
            "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()}, **extra}


def save_checkpoint(ckpt: dict, path: str | Path) -> Path:
    """Write atomically: a temporary file in the same folder, fsync, then rename over ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as fh:
            torch.save(ckpt, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


REQUIRED_KEYS = ("kind", "arch", "alphabet", "input_height", "normalisation", "state_dict")


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict:
    """Read a checkpoint dict, with a one-line :class:`CheckpointError` for every way it can be bad."""
    path = Path(path)
    if path.is_dir():
        found = sorted(p for p in path.glob("*.pt") if p.name != "last.pt")
        if len(found) != 1:
            raise CheckpointError(f"{path}: expected one .pt checkpoint in this folder, found {len(found)}")
        path = found[0]
    if not path.is_file():
        raise CheckpointError(f"{path}: checkpoint not found")
    try:
        ckpt = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # torch raises many types for a damaged file
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if reason.startswith("Weights only load failed"):     # torch's advice to unpickle it is not ours to give
            reason = ("it holds pickled Python objects; digitseq loads only tensors and plain data"
                      if "Unsupported global" in str(exc) else "damaged, or not a torch checkpoint")
        elif len(reason) < 12:                                # a bare key or byte value says nothing alone
            reason = f"{type(exc).__name__}: {reason}"
        raise CheckpointError(f"{path}: not a readable checkpoint ({reason[:200]})") from None
    if not isinstance(ckpt, dict) or (missing := [k for k in REQUIRED_KEYS if k not in ckpt]):
        what = f"missing {', '.join(missing)}" if isinstance(ckpt, dict) else f"a {type(ckpt).__name__}"
        raise CheckpointError(f"{path}: not a digitseq checkpoint ({what})")
    ckpt["path"] = str(path)
    return ckpt


def model_from_checkpoint(ckpt: dict) -> nn.Module:
    """Rebuild the network described by a checkpoint dict and load its weights (eval mode)."""
    model = build_model(ckpt["kind"], ckpt["arch"], num_classes_for(ckpt["kind"], ckpt["alphabet"]))
    try:
        model.load_state_dict(ckpt["state_dict"])
    except RuntimeError as exc:
        lines = [ln.strip() for ln in str(exc).strip().splitlines()]
        first = next((ln for ln in lines[1:] if ln), lines[0])[:200]
        raise CheckpointError(f"{ckpt.get('path', 'checkpoint')}: weights do not fit the architecture ({first})") from None
    return model.eval()


def _blocks(name: str, dim: int) -> int:
    """How many equal blocks a widened tensor's dimension ``dim`` is made of.

    A GRU stacks its three gates (reset, update, new) along dim 0 of every weight and bias; a bidirectional
    layer's output, read by the next layer's input weights and by the head, is the forward half then the
    backward half. Widening the hidden size grows each block, not the tensor's end.
    """
    if name.startswith("rnn.") and dim == 0:
        return 3
    if dim == 1 and (re.match(r"rnn\.weight_ih_l[1-9]", name) or name == "head.weight"):
        return 2
    return 1


def _leading(size_new: int, size_old: int, blocks: int) -> torch.Tensor:
    """Positions of the old entries inside a dimension widened block by block."""
    step_new, step_old = size_new // blocks, size_old // blocks
    return torch.cat([torch.arange(b * step_new, b * step_new + step_old) for b in range(blocks)])


def widen_into(name: str, target: torch.Tensor, value: torch.Tensor) -> bool:
    """Copy ``value`` into ``target`` (same name, at least as large in every dimension), block by block
    (``_blocks``); the old rows read the new columns with weight zero. False where the shapes do not fit."""
    if target.dim() != value.dim() or any(a < b for a, b in zip(target.shape, value.shape)):
        return False
    if any(a % _blocks(name, d) or b % _blocks(name, d) for d, (a, b) in enumerate(zip(target.shape, value.shape))):
        return False
    if target.dim() == 0:                                   # e.g. batch-norm's step count
        target.copy_(value)
        return True
    idx = [_leading(a, b, _blocks(name, d)) for d, (a, b) in enumerate(zip(target.shape, value.shape))]
    if target.dim() >= 2 and target.shape[1] > value.shape[1]:
        target[idx[0]] = 0                                  # old units do not read the new inputs (yet)
    target[torch.meshgrid(*idx, indexing="ij")] = value
    return True


def widen_weights(target: nn.Module, source_state: dict) -> list[str]:
    """Copy each source tensor into the target's tensor of the same name wherever the target's is at least as
    large in every dimension; return the names copied.

    A CRNN with more conv channels or a larger GRU than the source (the same layers otherwise) then computes
    exactly the source's function: the new channels and hidden units compute from their fresh random weights,
    but every old unit that would read them (the next conv's old filters, the GRU's input and recurrent
    weights, the head) reads them with weight zero, so they change nothing until training grows those weights
    (their gradients are not zero: the new units' activations are not). Conv features flatten channel-major,
    so the source's GRU inputs keep their positions; GRU gates and the two directions are widened block by
    block (``_blocks``). Tensors of equal shape are copied whole, as ``transfer_weights`` does.
    """
    own = target.state_dict()
    copied = [name for name, value in source_state.items() if name in own and widen_into(name, own[name], value)]
    target.load_state_dict(own)
    return copied


def transfer_weights(target: nn.Module, source_state: dict, prefix_map: dict[str, str] | None = None) -> list[str]:
    """Copy every tensor whose name (after ``prefix_map``) and shape match; return the names copied.

    Fine-tuning for a new alphabet uses this: the output layer's shape differs, so it stays new.
    """
    prefix_map = prefix_map or {}
    own = target.state_dict()
    copied = []
    for name, value in source_state.items():
        for old, new in prefix_map.items():
            if name.startswith(old):
                name = new + name[len(old):]
        if name in own and own[name].shape == value.shape:
            own[name] = value.clone()
            copied.append(name)
    target.load_state_dict(own)
    return copied
