import os

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")

from digitseq import WEIGHTS_DIR  # noqa: E402
from digitseq.fonts import load_fonts  # noqa: E402
from digitseq.generate import generate  # noqa: E402


@pytest.fixture(scope="session")
def train_font():
    return next(f for f in load_fonts(split="train") if f.family == "DejaVu Sans").path


@pytest.fixture(scope="session")
def digits_dir(tmp_path_factory):
    """A small generated folder of augmented 1-8 digit images (train fonts), without the issue-9 effects:
    the shipped model, trained before them, must read it (back to the default style once it is retrained)."""
    from digitseq.render import EXTRA_EFFECTS, RenderStyle

    style = RenderStyle().with_(**{name: 0.0 for name in EXTRA_EFFECTS})
    out = tmp_path_factory.mktemp("digits")
    generate(out, 24, min_length=1, max_length=8, seed=5, workers=1, progress=False, overwrite=True, style=style)
    return out


@pytest.fixture(scope="session")
def shipped_model():
    path = WEIGHTS_DIR / "digits.pt"
    assert path.is_file(), "the shipped digit model is missing"
    return path
