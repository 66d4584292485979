"""Reading texts of a known shape: a length (or range of lengths) and a subset of the alphabet.

A user often knows what the text must look like: a meter reading has 8 digits, a voucher code is hexadecimal, a
captcha has 5 characters. The network does not, and its commonest error on hard images is a character dropped
or doubled (a thin ``1`` losing every step to the blank). :class:`ConstrainedCodec` is a :class:`Codec` that
reads only such texts:

- **characters** (``chars``): the others' scores are pushed to -10,000 before anything reads them, so the
  per-step softmax spreads their probability over the allowed classes and the blank; every later step (greedy
  decoding, the second look's gate, the pooling of readings) sees the restricted scores.
- **length** (``min_length`` / ``max_length``): where the greedy reading is too long or too short, a CTC prefix
  beam search that keeps the best ``BEAM`` prefixes *of each length* below the shortest allowed one, and of all
  the longer ones together (:func:`constrained_search`), finds the likeliest text of an allowed length; its
  confidence is that text's CTC likelihood (every alignment); ``raw`` stays the network's own per-step path. A
  reading of the right length is not searched again. Images whose plain reading does not fit also open the second
  look's gate (``tta auto``; :func:`digitseq.recognize.predict_batch`); its readings are each read under the
  constraint, and when they are pooled, texts that fit win over texts that do not (:func:`digitseq.tta.choose`).
  So with the second look (``auto`` or ``all``), the text chosen can differ from the unconstrained one even where
  that one fits: the pool holds other candidates.

``digitseq recognize --length 5 --chars 0123456789abcdef``; ``Recognizer.load(..., length="4-6", chars=...)``.
A reading where no text of the length can be emitted (more characters than the image has time steps) keeps its
plain reading (of the allowed characters); with the second look, the pool of the image's readings decides (a
stretched reading has more steps). numpy only (part of the light runtime).
"""

from __future__ import annotations

import math

import numpy as np

from .codec import Codec, Prediction, _one_log_likelihood, kept_steps, log_softmax
from .errors import DataError

BEAM = 8            # prefixes kept per length in the constrained search
PRUNE = -12.0       # characters below this log-probability at a step are not expanded (as Codec.beam_search)
TOP = 3             # ... but these likeliest ones and the blank always are
WIDE = 8            # ... and no more than these likeliest ones are
MASKED = -1e4       # logit given to characters outside ``chars`` (exp() of it is 0 in float32)


def parse_length(length) -> tuple[int, int | None] | None:
    """``length`` as (min, max): None → None; 5 or "5" → (5, 5); "4-6" → (4, 6); "4-" → (4, None); "-5" → (0, 5);
    (4, 6) → (4, 6), (4, None) and (None, 5) as "4-" and "-5". A clear :class:`DataError` for anything else."""
    if length is None:
        return None
    if isinstance(length, (tuple, list)) and len(length) == 2:
        lo, hi = length
        lo = 0 if lo is None else lo
    elif isinstance(length, (int, np.integer)) and not isinstance(length, bool):
        lo = hi = int(length)
    elif isinstance(length, str) and length.strip():
        text = length.strip()
        lo_s, sep, hi_s = text.partition("-")
        if not (lo_s.strip() or hi_s.strip()):
            raise DataError(f"length must be N or MIN-MAX (e.g. 5, 4-6, 8-), got {length!r}")
        try:
            lo = int(lo_s) if lo_s.strip() else 0
            hi = (int(hi_s) if hi_s.strip() else None) if sep else lo
        except ValueError:
            raise DataError(f"length must be N or MIN-MAX (e.g. 5, 4-6, 8-), got {length!r}") from None
    else:
        raise DataError(f"length must be N or MIN-MAX (e.g. 5, 4-6, 8-), got {length!r}")
    if not isinstance(lo, (int, np.integer)) or (hi is not None and not isinstance(hi, (int, np.integer))):
        raise DataError(f"length must be N or MIN-MAX (e.g. 5, 4-6, 8-), got {length!r}")
    if lo < 0 or (hi is not None and (hi < 1 or hi < lo)):
        raise DataError(f"length {length!r}: need 0 <= MIN <= MAX and MAX >= 1")
    return int(lo), None if hi is None else int(hi)


class ConstrainedCodec(Codec):
    """A :class:`Codec` of ``alphabet`` that reads only texts of ``chars`` (None: any of the alphabet) whose
    length is within ``length`` (as :func:`parse_length` takes it; None: any)."""

    def __init__(self, alphabet: str, chars: str | None = None, length=None):
        super().__init__(alphabet)
        bounds = parse_length(length)
        self.min_length, self.max_length = bounds if bounds is not None else (0, None)
        if chars is not None:
            if not isinstance(chars, str) or not chars:
                raise DataError("chars must be a non-empty string of the model's characters")
            outside = "".join(sorted(set(chars) - set(alphabet)))
            if outside:
                raise DataError(f"chars {outside!r} are not in the model's alphabet {alphabet!r}")
            chars = "".join(c for c in alphabet if c in set(chars))      # the alphabet's order, no repeats
            if chars == alphabet:
                chars = None
        self.chars = chars
        self._masked = None if chars is None else np.array(
            [i + 1 for i, c in enumerate(alphabet) if c not in set(chars)], dtype=np.intp)

    def __repr__(self) -> str:
        hi = "" if self.max_length is None else self.max_length
        return f"ConstrainedCodec({self.alphabet!r}, chars={self.chars!r}, length='{self.min_length}-{hi}')"

    @property
    def constrained(self) -> bool:
        return self.chars is not None or self.min_length > 0 or self.max_length is not None

    def fits(self, n: int) -> bool:
        return n >= self.min_length and (self.max_length is None or n <= self.max_length)

    def allows(self, text: str) -> bool:
        return self.fits(len(text)) and (self.chars is None or all(c in self.chars for c in text))

    @property
    def length(self) -> str | None:
        """The lengths it reads as ``--length`` takes them ("5", "4-6", "8-"); None for any."""
        lo, hi = self.min_length, self.max_length
        if lo == 0 and hi is None:
            return None
        return str(lo) if lo == hi else f"{lo}-{'' if hi is None else hi}"

    def restrict(self, scores: np.ndarray) -> np.ndarray:
        """B×T×C (or T×C) logits with the characters outside ``chars`` at :data:`MASKED` (a copy); the same array
        where nothing is left out, or where they are at or below it already (restricted scores, or their
        log-probabilities: :meth:`decode` is given those by :func:`digitseq.recognize._read`)."""
        if self._masked is None or (np.asarray(scores)[..., self._masked] <= MASKED).all():
            return scores
        out = np.array(scores, dtype=np.float32, copy=True)
        out[..., self._masked] = MASKED
        return out

    def misfits(self, scores: np.ndarray, lengths) -> np.ndarray:
        """Per image of a batch of (restricted) B×T×C scores: greedy decoding reads a text of a length outside the
        bounds."""
        kept = kept_steps(np.asarray(scores).argmax(axis=2), self.blank)
        n = np.array([np.count_nonzero(kept[i, :int(t)]) for i, t in enumerate(lengths)])
        return ~((n >= self.min_length) & ((n <= self.max_length) if self.max_length is not None else True))

    def decode(self, log_probs, lengths=None, beam_width: int = 1, with_raw: bool = False) -> list[Prediction]:
        lp = log_probs.detach().cpu().numpy() if hasattr(log_probs, "detach") else np.asarray(log_probs)
        restricted = self.restrict(lp)
        if restricted is not lp:                        # not restricted before: their probability spread anew
            lp = log_softmax(restricted)
        preds = super().decode(lp, lengths, beam_width, with_raw)
        if self.min_length == 0 and self.max_length is None:
            return preds
        if lengths is None:
            lengths = [lp.shape[1]] * lp.shape[0]
        lengths = [int(n) for n in (lengths.tolist() if hasattr(lengths, "tolist") else lengths)]
        for i, p in enumerate(preds):
            if not self.fits(len(p.text)):
                preds[i] = self._search(lp[i, : lengths[i]], p, max(BEAM, beam_width))
        return preds

    def _search(self, log_probs: np.ndarray, fallback: Prediction, beam: int) -> Prediction:
        classes = None if self.chars is None else [self.index[c] for c in self.chars]
        labels = constrained_search(log_probs, self.min_length, self.max_length, beam, classes=classes)
        if labels is None:
            return fallback
        text = "".join(self.alphabet[k - 1] for k in labels)
        ll = _one_log_likelihood(np.asarray(log_probs, dtype=np.float64), np.asarray(labels, dtype=np.intp))
        return Prediction(text, float(np.exp(ll)), fallback.raw)


def constrained_search(log_probs: np.ndarray, min_length: int = 0, max_length: int | None = None, beam: int = BEAM,
                       prune: float = PRUNE, classes=None) -> tuple[int, ...] | None:
    """The likeliest label sequence (class indices, blank = 0) of ``min_length`` to ``max_length`` labels of
    ``classes`` (the label classes it may use; None: all) that a CTC prefix beam search over ``log_probs`` (T×C)
    finds, keeping the best ``beam`` prefixes of each length below ``min_length`` and the best ``beam`` of all the
    longer ones (so a length the unconstrained search would prune is still there at the end); None if no prefix of
    an allowed length survives (T too short for it). At each step it expands the blank, the :data:`TOP` likeliest
    of ``classes``, and up to :data:`WIDE` of the likeliest that are above ``prune``."""
    lp = np.asarray(log_probs, dtype=np.float64)
    t_n = len(lp)
    hi = t_n if max_length is None else min(max_length, t_n)
    usable = np.ones(lp.shape[1], dtype=bool) if classes is None else np.isin(np.arange(lp.shape[1]), classes)
    usable[0] = False                                        # the blank is handled apart
    if not usable.any():
        return None if min_length > 0 else ()
    order = np.argsort(np.where(usable, -lp, np.inf), axis=1, kind="stable")[:, :min(WIDE, int(usable.sum()))]
    above = np.take_along_axis(lp, order, axis=1) >= prune
    above[:, :TOP] = True
    beams: dict[tuple, list[float]] = {(): [0.0, NEG]}       # prefix -> [log p ending in a blank, in a label]
    for t in range(t_n):
        step = lp[t].tolist()
        # the blank, the TOP likeliest usable classes, and up to WIDE of them above ``prune``: a length the likely
        # ones cannot make (a sure character skipped, one where the blank is sure) stays within reach
        cands = order[t][above[t]].tolist()
        blank = step[0]
        nxt: dict[tuple, list[float]] = {}
        for prefix, (pb, pnb) in beams.items():
            total = _lse(pb, pnb)
            e = nxt.get(prefix)
            if e is None:
                e = nxt[prefix] = [NEG, NEG]
            e[0] = _lse(e[0], total + blank)
            last = prefix[-1] if prefix else -1
            room = len(prefix) < hi
            for c in cands:
                p = step[c]
                if c == last:
                    e[1] = _lse(e[1], pnb + p)                  # the same label, repeated: collapses
                    if not room:
                        continue
                    base = pb + p                               # a repeat after a blank: a new label
                elif room:
                    base = total + p
                else:
                    continue
                if base == NEG:                                 # no path reaches it (a repeat with no blank)
                    continue
                new = prefix + (c,)
                f = nxt.get(new)
                if f is None:
                    nxt[new] = [NEG, base]
                else:
                    f[1] = _lse(f[1], base)
        left = t_n - t - 1                                  # steps after this one
        by_length: dict[int, list] = {}     # one beam for each length below min_length, one for all the others
        for prefix, v in nxt.items():
            if len(prefix) + left >= min_length:            # can still reach the shortest allowed length
                by_length.setdefault(min(len(prefix), min_length), []).append((_lse(v[0], v[1]), prefix))
        beams = {}
        for items in by_length.values():
            if len(items) > beam:
                items.sort(reverse=True)
            beams.update((prefix, nxt[prefix]) for _, prefix in items[:beam])
        if not beams:
            return None
    fitting = [(p, prefix) for prefix, v in beams.items() if min_length <= len(prefix) <= hi and (p := _lse(*v)) > NEG]
    if not fitting:
        return None
    return max(fitting)[1]


NEG = float("-inf")


def _lse(a: float, b: float) -> float:
    """log(exp(a) + exp(b)) of two floats (math, not numpy: a tenth of the time on scalars)."""
    if a < b:
        a, b = b, a
    if b == NEG:
        return a
    return a + math.log1p(math.exp(b - a))
