"""Seed every random number generator the project touches, in one call.

    >>> from random_seed import seed_everything
    >>> seed_everything(42)              # random, numpy, torch, PYTHONHASHSEED
    >>> seed_everything(42, deterministic=True)   # also deterministic torch kernels
"""

from __future__ import annotations

import os
import random

import numpy as np

__all__ = ["seed_everything"]


def seed_everything(seed: int, deterministic: bool = False) -> int:
    """Seed Python's ``random``, NumPy, PyTorch (CPU and CUDA) and ``PYTHONHASHSEED``.

    ``PYTHONHASHSEED`` only affects interpreters started after this call (worker processes,
    subprocesses); the running interpreter's string hashing is fixed at start-up.

    With ``deterministic=True`` PyTorch is asked for deterministic algorithms (an operation
    without one raises instead of silently differing between runs) and cuDNN autotuning is off.
    Returns the seed so a caller can log it.
    """
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}")
    if not 0 <= seed < 2**32:
        raise ValueError(f"seed must be in [0, 2**32), got {seed}")
    os.environ["PYTHONHASHSEED"] = str(seed)
    random.seed(seed)
    np.random.seed(seed)
    try:
        import torch
    except ImportError:  # the seeding of the rest still stands
        return seed
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)
    if deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True)
        torch.backends.cudnn.deterministic = True
        torch.backends.cudnn.benchmark = False
    return seed
