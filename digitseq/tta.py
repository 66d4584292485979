"""Test-time augmentation: read one image several ways and keep the reading the ways support most.

The text line of an image (after the crop, when the model uses it) is resized four ways: as the model
always sees it, stretched to 1.15× and 1.33× its width, and with its strokes thinned. The network reads
each; the readings are pooled by text, each weighted by its confidence, and the text with the largest
sum wins. Its confidence is that sum over the number of variants (1.0: every variant read it, sure).

Why these four: the shipped digit model reads unseen fonts, captchas with overlapping characters and
heavy strokes better from one of them than from the plain image about a tenth of the time. The set and
the rule were chosen on development images the reported sets do not include (the validation set and
wild-style images in the training fonts; ``python benchmarks/bench_tta.py``). It costs one network pass
per variant (4× the network's time, the image read and cropped once), so it is off by default:
``digitseq recognize --tta``, ``Recognizer.load(..., tta=True)``.

numpy and Pillow only (part of the light runtime).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageFilter

from .codec import Prediction

# (name, width stretch, thin the strokes)
VARIANTS: tuple[tuple[str, float, bool], ...] = (
    ("plain", 1.0, False),
    ("wide", 1.15, False),
    ("wider", 1.33, False),
    ("thin", 1.0, True),
)


def thin_strokes(arr: np.ndarray) -> np.ndarray:
    """Thin the strokes of a grey uint8 text image by about half a pixel on each side, either polarity.

    Done at twice the size (a 3×3 max filter for dark ink on a light background, min for light ink),
    then brought back, so the change is finer than one pixel of the model's input.
    """
    from .image import background_level

    h, w = arr.shape
    big = Image.fromarray(np.ascontiguousarray(arr, dtype=np.uint8)).resize((2 * w, 2 * h), Image.BILINEAR)
    light_background = background_level(arr) > 127
    big = big.filter(ImageFilter.MaxFilter(3) if light_background else ImageFilter.MinFilter(3))
    return np.asarray(big.resize((w, h), Image.BILINEAR), dtype=np.uint8)


def variant_arrays(region: Image.Image, height: int, max_width: int | None = None) -> list[np.ndarray]:
    """The model's input arrays for each of :data:`VARIANTS`, from an image's (grey, cropped) text region."""
    from .image import MAX_WIDTH, fit_height

    max_width = max_width or MAX_WIDTH
    plain = fit_height(region, height, max_width)
    out = []
    for _, stretch, thin in VARIANTS:
        arr = plain if stretch == 1.0 else fit_height(region, height, max_width, stretch)
        out.append(thin_strokes(arr) if thin else arr)
    return out


def combine(predictions: Sequence[Prediction]) -> Prediction:
    """One reading from several of the same image: the text with the largest sum of confidences.

    Ties go to the text read first (the plain variant comes first). Its confidence is that sum divided by
    the number of readings; ``raw`` is that of the surest reading of the winning text.
    """
    if not predictions:
        raise ValueError("combine() needs at least one prediction")
    support: dict[str, float] = {}
    surest: dict[str, Prediction] = {}
    for p in predictions:
        support[p.text] = support.get(p.text, 0.0) + p.confidence
        if p.text not in surest or p.confidence > surest[p.text].confidence:
            surest[p.text] = p
    text = max(support, key=support.__getitem__)   # first maximum in insertion order
    return Prediction(text, support[text] / len(predictions), surest[text].raw)
