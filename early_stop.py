"""Early stopping on a monitored metric.

    >>> stopper = EarlyStopping(patience=3, mode="max", min_delta=0.001)
    >>> for epoch in range(100):
    ...     acc = evaluate()
    ...     if stopper.step(acc):      # True once `patience` epochs in a row brought no improvement
    ...         break
    ...     if stopper.improved:
    ...         save_best()

The state is a plain dict (``state_dict`` / ``load_state_dict``) so training can resume exactly.
"""

from __future__ import annotations

import math

__all__ = ["EarlyStopping"]


class EarlyStopping:
    """Stop when the metric has not improved for ``patience`` *consecutive* epochs.

    An improvement means beating the best value so far by more than ``min_delta``
    (up for ``mode="max"``, down for ``mode="min"``); it resets the count of bad epochs.
    """

    def __init__(self, patience: int = 5, mode: str = "min", min_delta: float = 0.0):
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")
        if patience < 1:
            raise ValueError(f"patience must be >= 1, got {patience}")
        if min_delta < 0:
            raise ValueError(f"min_delta must be >= 0, got {min_delta}")
        self.patience = patience
        self.mode = mode
        self.min_delta = min_delta
        self.best: float | None = None
        self.best_epoch: int | None = None
        self.num_bad_epochs = 0
        self.epoch = 0
        self.improved = False
        self.should_stop = False

    def is_better(self, value: float) -> bool:
        if self.best is None:
            return True
        if self.mode == "max":
            return value > self.best + self.min_delta
        return value < self.best - self.min_delta

    def step(self, value: float) -> bool:
        """Record one epoch's metric; return True when training should stop."""
        value = float(value)
        if math.isnan(value):
            self.improved = False
        else:
            self.improved = self.is_better(value)
        if self.improved:
            self.best = value
            self.best_epoch = self.epoch
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        self.epoch += 1
        self.should_stop = self.num_bad_epochs >= self.patience
        return self.should_stop

    def state_dict(self) -> dict:
        keys = ("patience", "mode", "min_delta", "best", "best_epoch", "num_bad_epochs", "epoch",
                "improved", "should_stop")
        return {k: getattr(self, k) for k in keys}

    def load_state_dict(self, state: dict) -> None:
        for key, value in state.items():
            setattr(self, key, value)

    def __repr__(self) -> str:
        return (f"EarlyStopping(mode={self.mode!r}, patience={self.patience}, best={self.best}, "
                f"bad_epochs={self.num_bad_epochs})")
