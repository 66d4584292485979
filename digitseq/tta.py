"""Test-time augmentation: read an unsure image three or four more ways and keep the text they find likeliest.

The model's input array (the text line, resized to the model's height) is also read stretched to 1.15× and
1.33× its width and with its strokes thinned. Of the texts the readings decode, the one with the highest
probability on average over the readings wins (each reading's CTC likelihood of it, over every alignment, not
only of its own greedy path: :func:`choose`); its confidence is that average probability. (Until the likelihood was tried, the text with the largest summed
confidence won, :func:`combine`; on the development sets the likelihood reads as many images right with fewer
wrong characters, and the ASCII model's validation set 0.7 points more.)

An input array cut at its text (ink on three or four of its border lines: :func:`is_tight`) is always read again,
and its second look also reads it with the crop's margins padded around it (:func:`padded`), beside its variants.

For a model that reads cropped text lines, the text line is also looked for again inside the input array
(:func:`recrop`): where small text sits in a frame, beside a stray line or in a noisy patch, the first crop
can keep much of that around it, and the text reaches the network small. When the second crop is tighter
(under :data:`RECROP` of the array's pixels), its reading and its variants take the place of the plain array's
variants (the plain reading stays in the pool).

A model may also name a partner, a second model of the same alphabet (``preprocess.tta_partner``; the shipped digit
model's is ``digits-h48``): it reads each unsure image once more, from its own input array, and its reading joins
the pool (:class:`digitseq.recognize.Partner`). Readings of one network share its blind spots; a network trained
otherwise (there: at height 48) errs elsewhere, and the likelihood pooled over both picks better.

How many ways (:data:`READINGS`; a model says which in its preprocessing, ``tta_readings``; ``--readings``,
``Recognizer.load(readings=...)`` override it): ``four`` is the plain reading and the three above; ``seven`` adds
the input 0.87× as wide and its margins halved and doubled (:func:`reframe`). The shipped ASCII model reads
seven ways, which its validation set chose; the digit model four, to keep its second look cheap.

Modes (``digitseq recognize --tta``, ``Recognizer.load(tta=...)``):

- ``auto`` (the default): only images the model is unsure of get the second look: those where some
  character's best step is below :data:`GATE` in probability, or no character was read, or a character the
  reading dropped is likelier than :data:`HIDDEN` at some step (:func:`unsure`). On our easy test
  sets that is 1-2 % of the images, on realistic files 15 %, on the hard ones 17-71 %, and it keeps nearly
  all of what reading every image four ways gains.
- ``all``: every image read again so (4.5× the network's time, more where a second crop is read).
- ``off``: one reading, the fastest.

Why these: the shipped digit model reads unseen fonts, captchas with overlapping characters and heavy
strokes better from one of them than from the plain image about a tenth of the time. The variants, the rule
and the gate were chosen on development images that no reported set includes (the validation set and
wild-style images in the training fonts; for :data:`RECROP` also captcha-style ones; ``python
benchmarks/bench_tta.py``).

numpy and Pillow only (part of the light runtime).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
from PIL import Image

from .codec import Prediction, ctc_log_likelihood, log_softmax

MODES = ("auto", "all", "off")       # the first is the default
GATE = 0.9          # auto: a second look where some character's peak probability is below this
HIDDEN = 0.05       # ... or where a character the reading did not keep is likelier than this (hidden_peaks)
READINGS = ("four", "seven")        # how many ways the second look reads; the first is the default
STRETCHES = (1.15, 1.33)
NARROW = 0.87       # seven: also this much as wide
REFRAMES = (0.5, 2.0)   # seven: also with the crop's margins this many times as wide (tighter, looser)
RECROP = 0.9        # a second crop inside the input array replaces the variants when it keeps less than this


def check_mode(mode) -> str:
    """``mode`` as one of :data:`MODES` (True → "all", False/None → "off"); a clear error otherwise."""
    if mode is True:
        return "all"
    if mode is False or mode is None:
        return "off"
    if mode not in MODES:
        from .errors import DataError

        raise DataError(f"tta must be one of {', '.join(MODES)}, got {mode!r}")
    return mode


def stretch(arr: np.ndarray, factor: float) -> np.ndarray:
    """A grey uint8 array made ``factor`` times as wide (bilinear), its height unchanged."""
    h, w = arr.shape
    img = Image.fromarray(np.ascontiguousarray(arr, dtype=np.uint8))
    return np.asarray(img.resize((max(1, int(round(w * factor))), h), Image.BILINEAR), dtype=np.uint8)


def thin_strokes(arr: np.ndarray) -> np.ndarray:
    """Thin the strokes of a grey uint8 text image by about half a pixel on each side, either polarity.

    Done at twice the size (a 3×3 maximum for dark ink on a light background, minimum for light ink; edges
    repeated, as PIL's MaxFilter(3) does, in a quarter of its time), then brought back, so the change is finer
    than one pixel of the model's input.
    """
    from .image import background_level

    h, w = arr.shape
    big = np.asarray(Image.fromarray(np.ascontiguousarray(arr, dtype=np.uint8)).resize((2 * w, 2 * h), Image.BILINEAR))
    f = np.maximum if background_level(arr) > 127 else np.minimum
    p = np.pad(big, 1, mode="edge")
    rows = f(f(p[:-2], p[1:-1]), p[2:])
    big = f(f(rows[:, :-2], rows[:, 1:-1]), rows[:, 2:])
    return np.asarray(Image.fromarray(big).resize((w, h), Image.BILINEAR), dtype=np.uint8)


def check_readings(readings) -> str:
    """``readings`` as one of :data:`READINGS` (None: the first); a clear error otherwise."""
    if readings is None:
        return READINGS[0]
    if readings not in READINGS:
        from .errors import DataError

        raise DataError(f"readings must be one of {', '.join(READINGS)}, got {readings!r}")
    return readings


def reframe(arr: np.ndarray, k: float) -> np.ndarray:
    """A text-line input array with the crop's margins (:data:`digitseq.textline.PAD_Y`, ``PAD_X`` of the text's
    height) made ``k`` times as wide: cut for ``k`` < 1, padded with the background level for ``k`` > 1;
    then resized back to the array's height, the width in proportion. Where the crop met the image's edge the
    margins were smaller; this works from what they should be."""
    from .image import background_level
    from .textline import PAD_X, PAD_Y

    h, w = arr.shape
    band = h / (1 + 2 * PAD_Y)
    dy, dx = (1 - k) * PAD_Y * band, (1 - k) * PAD_X * band
    dy, dx = min(dy, (h - 1) / 2), min(dx, (w - 1) / 2)     # a very narrow array keeps a column at least
    img = Image.fromarray(np.ascontiguousarray(arr, dtype=np.uint8))
    if k < 1:
        box = (dx, dy, w - dx, h - dy)
        return np.asarray(img.resize((max(1, round((w - 2 * dx) * h / (h - 2 * dy))), h), Image.BILINEAR,
                                     box=box), dtype=np.uint8)
    py, px = int(round(-dy)), int(round(-dx))
    big = np.full((h + 2 * py, w + 2 * px), background_level(arr), np.uint8)
    big[py:py + h, px:px + w] = arr
    return np.asarray(Image.fromarray(big).resize((max(1, round(big.shape[1] * h / big.shape[0])), h),
                                                  Image.BILINEAR), dtype=np.uint8)


def variants(arr: np.ndarray, readings: str = "four") -> list[np.ndarray]:
    """The other ways an input array is read: 1.15× and 1.33× as wide, and with thinner strokes; for
    ``readings="seven"`` also 0.87× as wide, with its margins halved and with them doubled."""
    out = [stretch(arr, f) for f in STRETCHES] + [thin_strokes(arr)]
    if readings == "seven":
        out += [stretch(arr, NARROW), *(reframe(arr, k) for k in REFRAMES)]
    return out


def recrop(arr: np.ndarray) -> np.ndarray | None:
    """The text line looked for again inside a grey uint8 input array (:func:`digitseq.textline.crop_to_text`),
    resized back to the array's height; None unless that crop keeps less than :data:`RECROP` of its pixels."""
    from .image import fit_height
    from .textline import crop_to_text

    crop = crop_to_text(arr)
    if crop.size >= RECROP * arr.size:
        return None
    return fit_height(Image.fromarray(np.ascontiguousarray(crop, dtype=np.uint8)), arr.shape[0])


TIGHT_INK = 48      # grey levels from an array's commonest grey that count as ink on its border (is_tight)
PAD_TIGHT = True    # the second look reads an array cut at its text with the crop's margins around it (padded)
PAD_EVERY_WAY = False   # ... and the padded array's variants too, beside the plain array's (not shipped:
                        # results/pad_every_way_candidate/bar.txt)


def is_tight(arr: np.ndarray) -> bool:
    """Ink on three or four of a grey input array's border lines: a line cut out at its text, with none of the
    margin the crop keeps (an image cut tight to its ink has none to keep). A border line inked along most of its
    length (``textline.EDGE_LINE``) is a frame's or a rule's, not text touching the edge, and does not count."""
    from .textline import EDGE_LINE

    a = np.asarray(arr, dtype=np.uint8)
    bg = int(np.bincount(a.ravel() >> 3, minlength=32).argmax()) * 8 + 4   # the commonest grey: the background

    def touches(line: np.ndarray) -> bool:
        inked = np.count_nonzero(np.abs(line.astype(np.int16) - bg) > TIGHT_INK)
        return bool(0 < inked < EDGE_LINE * len(line))

    return sum(touches(line) for line in (a[0], a[-1], a[:, 0], a[:, -1])) >= 3


def tight(arrays: Sequence[np.ndarray], skip: np.ndarray | None = None) -> np.ndarray:
    """Which input arrays are cut at their text (:func:`is_tight`); none while :data:`PAD_TIGHT` is off. Arrays
    where ``skip`` is True are not looked at (False: the caller reads them again anyway)."""
    if skip is None:
        skip = np.zeros(len(arrays), dtype=bool)
    return np.array([PAD_TIGHT and not s and is_tight(a) for a, s in zip(arrays, skip)], dtype=bool)


def padded(arr: np.ndarray) -> np.ndarray | None:
    """A tight input array (:func:`is_tight`) with the text-line crop's margins around it (``PAD_Y`` / ``PAD_X``
    of its height, the text being all of it) in its background's grey (the median of the larger of the two classes
    Otsu's threshold splits the array into: strokes are thin), resized back to its height; None for any other
    array."""
    from .image import fit_height
    from .textline import PAD_X, PAD_Y, _otsu

    if not is_tight(arr):
        return None
    h, w = arr.shape
    py, px = int(round(PAD_Y * h)), int(round(PAD_X * h))
    hist = np.bincount(np.asarray(arr, np.uint8).ravel(), minlength=256)
    cut = _otsu(hist, np.cumsum(hist))        # levels below it are one class, the rest the other
    dark, light = arr[arr < cut], arr[arr >= cut]
    back = light if light.size >= dark.size else dark      # the background: the larger class (strokes are thin)
    out = np.full((h + 2 * py, w + 2 * px), int(np.median(back)), dtype=np.uint8)
    out[py:py + h, px:px + w] = arr
    return fit_height(Image.fromarray(out), h)


def second_look(arr: np.ndarray, textline: bool = False, readings: str = "four") -> list[np.ndarray]:
    """What an unsure input array is read as after its plain reading: its :func:`variants`; or, when
    ``textline`` (the model reads cropped text lines) and :func:`recrop` finds a tighter line, that and its
    variants; else, when the array is cut at its text (:func:`padded`, while :data:`PAD_TIGHT`), also the array
    with margins around it, beside the plain array's variants."""
    if textline:
        tighter = recrop(arr)
        if tighter is not None:
            return [tighter, *variants(tighter, readings)]
        wider = padded(arr) if PAD_TIGHT else None
        if wider is not None:
            return [wider, *(variants(wider, readings) if PAD_EVERY_WAY else ()), *variants(arr, readings)]
    return variants(arr, readings)


class Steps(NamedTuple):
    """A batch's B×T×C logits with what both cues of the gate need from them, computed once."""
    scores: np.ndarray     # float32 logits
    e: np.ndarray          # exp(logit - the step's largest): each class's probability times z
    z: np.ndarray          # B×T: the softmax's denominators, so the best class's probability is 1 / z
    path: np.ndarray       # B×T: each step's best class


def steps_of(scores: np.ndarray) -> Steps:
    scores = np.asarray(scores, dtype=np.float32)
    e = np.exp(scores - scores.max(axis=2, keepdims=True))
    return Steps(scores, e, e.sum(axis=2), scores.argmax(axis=2))


def unsure(scores: np.ndarray, lengths: Sequence[int]) -> np.ndarray:
    """The images of a batch (B×T×C logits) that ``auto`` reads again: some character's peak is below
    :data:`GATE` (:func:`least_peaks`; this includes reading nothing), or a character the reading dropped is
    likelier than :data:`HIDDEN` somewhere (:func:`hidden_peaks`). Boolean, one per image."""
    steps = steps_of(scores)
    return (least_peaks(steps, lengths) < GATE) | (hidden_peaks(steps, lengths) > HIDDEN)


def least_peaks(scores: np.ndarray | Steps, lengths: Sequence[int]) -> np.ndarray:
    """Per image of a batch (B×T×C logits, blank = class 0, or their :func:`steps_of`): the lowest, over the
    characters greedy decoding reads, of the highest probability that character has along its run of steps; 0.0
    where none is read."""
    steps = scores if isinstance(scores, Steps) else steps_of(scores)
    best = 1.0 / steps.z                       # B×T: each step's best class (its e is exactly 1)
    out = np.zeros(len(best), dtype=np.float32)
    for i, n in enumerate(int(n) for n in lengths):
        p, b = steps.path[i, :n], best[i, :n]
        if not (p != 0).any():
            continue
        starts = np.flatnonzero(np.r_[True, p[1:] != p[:-1]])       # runs of one class
        run_peak = np.maximum.reduceat(b, starts)
        out[i] = run_peak[p[starts] != 0].min()
    return out


def hidden_peaks(scores: np.ndarray | Steps, lengths: Sequence[int]) -> np.ndarray:
    """Per image of a batch (B×T×C logits, blank = class 0, or their :func:`steps_of`): the highest probability,
    at a step where the blank is the best class, of the likeliest other character there, where neither
    neighbouring step reads that character; 0.0 where there is none. A character greedy decoding dropped:
    least_peaks only looks at the characters it kept, and a thin ``1`` beside another glyph can lose every step to
    the blank (``16246`` read ``6246`` with this at 0.48, while the ``6246`` it kept all peak above 0.95). The
    shoulders of a kept character (the steps either side of its run, where its probability rises and falls) do
    not count."""
    s = scores if isinstance(scores, Steps) else steps_of(scores)
    path, t = s.path, s.path.shape[1]
    other = s.scores[:, :, 1:].argmax(axis=2) + 1                   # the likeliest character at each step
    other_p = np.take_along_axis(s.e, other[..., None], axis=2)[..., 0] / s.z
    inside = np.arange(t)[None] < np.asarray(lengths, dtype=np.intp)[:, None]
    hidden = (path == 0) & inside
    hidden[:, 1:] &= path[:, :-1] != other[:, 1:]                   # the step before does not read it
    hidden[:, :-1] &= (path[:, 1:] != other[:, :-1]) | ~inside[:, 1:]   # nor the step after (past the end: none)
    return np.where(hidden, other_p, 0.0).max(axis=1, initial=0.0).astype(np.float32)


def ctc_log_likelihoods(log_probs: Sequence[np.ndarray], labels: Sequence[Sequence[int]]) -> np.ndarray:
    """R × N: log p(labels[n] | log_probs[r]) by the CTC forward algorithm (blank = class 0), for R readings of
    one image (each T_r × C log-probabilities; their lengths may differ) and N label sequences at once: every
    (reading, label) pair in one run of :func:`digitseq.codec.ctc_log_likelihood`. A label a reading cannot emit
    (too long for its steps) gets a log-likelihood below -1e30.
    """
    r_n, n_n = len(log_probs), len(labels)
    pairs = ctc_log_likelihood([x for x in log_probs for _ in range(n_n)], [y for _ in range(r_n) for y in labels])
    return pairs.reshape(r_n, n_n)


def choose(predictions: Sequence[Prediction], scores: Sequence[np.ndarray], codec) -> Prediction:
    """One reading from several of the same image, by likelihood: of the texts the readings decoded, the one
    with the highest mean probability over the readings (each reading's CTC likelihood of it, over every
    alignment, :func:`ctc_log_likelihoods`). ``scores``: each reading's T×C scores (logits or
    log-probabilities), normalised here only when the readings disagree. Ties go to the text read first (the
    plain image's). Its confidence is that mean probability (a reading's confidence is its likelihood of the text
    it read, so where the readings agree this is :func:`combine`'s); ``raw`` is that of its surest reading.
    Where ``codec`` reads only some texts (:class:`digitseq.constraints.ConstrainedCodec`) and some of the texts
    fit it, only those compete."""
    texts = list(dict.fromkeys(p.text for p in predictions))
    fitting = [t for t in texts if codec.allows(t)]     # a codec that reads only some texts: those, if any
    if fitting and len(fitting) < len(texts):
        texts = fitting
    elif len(texts) == 1:
        return combine(predictions)
    ll = ctc_log_likelihoods([log_softmax(s) for s in scores], [codec.encode(t) for t in texts])
    top = ll.max(axis=0)
    mean = top + np.log(np.exp(ll - top).sum(axis=0))    # log of the summed (so the mean's) probability
    k = int(np.argmax(mean))
    best = texts[k]
    surest = max((p for p in predictions if p.text == best), key=lambda p: p.confidence)   # the first of the surest
    return Prediction(best, float(np.exp(mean[k])) / len(predictions), surest.raw)


def combine(predictions: Sequence[Prediction]) -> Prediction:
    """One reading from several of the same image: the text with the largest sum of confidences.

    Ties go to the text read first (the plain image's comes first). Its confidence is that sum divided by
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
