import os
import random

import numpy as np
import pytest
import torch

from random_seed import seed_everything


def draw():
    return random.random(), float(np.random.rand()), float(torch.rand(1))


def test_same_seed_same_numbers_everywhere():
    seed_everything(123)
    a = draw()
    seed_everything(123)
    assert draw() == a
    seed_everything(124)
    assert draw() != a
    assert os.environ["PYTHONHASHSEED"] == "124"


def test_deterministic_option_sets_torch_flag():
    try:
        seed_everything(1, deterministic=True)
        assert torch.are_deterministic_algorithms_enabled()
    finally:
        torch.use_deterministic_algorithms(False)


@pytest.mark.parametrize("bad", [-1, 2**32, 1.5, "3"])
def test_bad_seeds(bad):
    with pytest.raises((ValueError, TypeError)):
        seed_everything(bad)
