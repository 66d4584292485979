"""The alphabet as data: encode labels for CTC, decode network output greedily or by beam search.

Class 0 is the CTC blank; character ``alphabet[i]`` is class ``i + 1``. Decoding is numpy only
(torch tensors are accepted where torch is installed).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from .errors import DataError

# Symbols for the blank in raw CTC paths; the first one absent from the alphabet is used.
BLANK_SYMBOLS = ("·", "␣", "∅", "□", "_", "~", "|")
PRINTABLE_ASCII = "".join(chr(c) for c in range(0x21, 0x7F))


def log_softmax(scores, axis: int = -1) -> np.ndarray:
    """Log-probabilities from unnormalised scores (numpy, float32 in, float32 out)."""
    scores = np.asarray(scores)
    shifted = scores - scores.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


@dataclass(frozen=True)
class Prediction:
    text: str
    confidence: float
    raw: str | None = None

    def __iter__(self):  # allows `text, conf = prediction`
        yield self.text
        yield self.confidence


class Codec:
    blank = 0

    def __init__(self, alphabet: str):
        if not isinstance(alphabet, str) or not alphabet:
            raise DataError("alphabet must be a non-empty string")
        dupes = sorted({c for c in alphabet if alphabet.count(c) > 1})
        if dupes:
            raise DataError(f"alphabet has repeated characters: {''.join(dupes)!r}")
        self.alphabet = alphabet
        self.index = {c: i + 1 for i, c in enumerate(alphabet)}
        self.blank_symbol = next((s for s in BLANK_SYMBOLS if s not in self.index), "\u2400")
        self._symbols = np.array([self.blank_symbol, *alphabet], dtype=object)   # class -> character

    @classmethod
    def from_labels(cls, labels) -> Codec:
        """The sorted set of characters used by ``labels``."""
        return cls("".join(sorted(set("".join(labels)))))

    @property
    def num_classes(self) -> int:
        return len(self.alphabet) + 1

    def __repr__(self) -> str:
        return f"Codec({self.alphabet!r})"

    def encode(self, label: str) -> list[int]:
        try:
            return [self.index[c] for c in label]
        except KeyError as exc:
            raise DataError(f"label {label!r}: character {exc.args[0]!r} is not in the alphabet {self.alphabet!r}") from None

    def encode_batch(self, labels):
        """(1-D targets concatenated, lengths) as LongTensors, the form ``nn.CTCLoss`` takes."""
        import torch

        encoded = [self.encode(t) for t in labels]
        lengths = torch.tensor([len(e) for e in encoded], dtype=torch.long)
        targets = torch.tensor([i for e in encoded for i in e], dtype=torch.long)
        return targets, lengths

    def collapse(self, path) -> str:
        """Best-path decoding of one class path: merge repeats, then drop blanks."""
        out, prev = [], self.blank
        for k in path:
            k = int(k)
            if k != prev and k != self.blank:
                out.append(self.alphabet[k - 1])
            prev = k
        return "".join(out)

    def raw(self, path) -> str:
        """The per-step path as text, the blank drawn as ``blank_symbol``."""
        return "".join(self.blank_symbol if int(k) == self.blank else self.alphabet[int(k) - 1] for k in path)

    def greedy(self, log_probs: np.ndarray, with_raw: bool = False) -> Prediction:
        """Decode one sequence of per-step log-probabilities (T×C).

        Confidence is the probability of the best path: exp of the sum of each step's max log-prob.
        """
        log_probs = np.asarray(log_probs, dtype=np.float64)
        path = log_probs.argmax(axis=1)
        confidence = float(np.exp(log_probs.max(axis=1).sum())) if len(path) else 0.0
        return Prediction(self.collapse(path), confidence, self.raw(path) if with_raw else None)

    def beam_search(self, log_probs: np.ndarray, beam_width: int = 10, with_raw: bool = False,
                    prune: float = -12.0) -> Prediction:
        """CTC prefix beam search over one sequence (T×C log-probabilities).

        Confidence is the total probability of the returned text (all paths that collapse to it).
        Characters below ``prune`` log-probability at a step are not expanded.
        """
        if beam_width <= 1:
            return self.greedy(log_probs, with_raw)
        log_probs = np.asarray(log_probs, dtype=np.float64)
        neg_inf = -np.inf
        beams: dict[tuple, tuple[float, float]] = {(): (0.0, neg_inf)}   # prefix -> (p_blank, p_nonblank)
        for step in log_probs:
            candidates = np.flatnonzero(step >= min(prune, step.max()))
            nxt: dict[tuple, list[float]] = defaultdict(lambda: [neg_inf, neg_inf])
            for prefix, (pb, pnb) in beams.items():
                total = np.logaddexp(pb, pnb)
                for c in candidates:
                    p = step[c]
                    if c == self.blank:
                        e = nxt[prefix]
                        e[0] = np.logaddexp(e[0], total + p)
                        continue
                    new = prefix + (int(c),)
                    e_new = nxt[new]
                    if prefix and prefix[-1] == c:
                        e_new[1] = np.logaddexp(e_new[1], pb + p)       # repeat after a blank
                        e_same = nxt[prefix]
                        e_same[1] = np.logaddexp(e_same[1], pnb + p)    # repeat collapses
                    else:
                        e_new[1] = np.logaddexp(e_new[1], total + p)
            ranked = sorted(nxt.items(), key=lambda kv: np.logaddexp(*kv[1]), reverse=True)[:beam_width]
            beams = {k: (v[0], v[1]) for k, v in ranked}
        best, (pb, pnb) = max(beams.items(), key=lambda kv: np.logaddexp(*kv[1]))
        text = "".join(self.alphabet[k - 1] for k in best)
        raw = self.raw(log_probs.argmax(axis=1)) if with_raw else None
        return Prediction(text, float(np.exp(np.logaddexp(pb, pnb))), raw)

    def decode_scores(self, scores: np.ndarray, lengths=None, beam_width: int = 1,
                      with_raw: bool = False) -> list[Prediction]:
        """Decode a batch of unnormalised scores (B×T×C logits, numpy), as :meth:`decode` does log-probabilities.

        Greedy decoding needs only each step's best log-probability, max − logsumexp, not the whole softmax.
        """
        scores = np.asarray(scores)
        if beam_width > 1:
            return self.decode(log_softmax(scores), lengths, beam_width, with_raw)
        top = scores.max(axis=2, keepdims=True)
        best = -np.log(np.exp(scores - top).sum(axis=2))           # log-softmax at the argmax
        return self._greedy_batch(scores.argmax(axis=2), best, lengths, with_raw)

    def _greedy_batch(self, paths: np.ndarray, best: np.ndarray, lengths, with_raw: bool) -> list[Prediction]:
        if lengths is None:
            lengths = [paths.shape[1]] * paths.shape[0]
        lengths = [int(n) for n in (lengths.tolist() if hasattr(lengths, "tolist") else lengths)]
        best = best.astype(np.float64)
        keep = paths != self.blank
        keep[:, 1:] &= paths[:, 1:] != paths[:, :-1]
        out = []
        for i, n in enumerate(lengths):
            p = paths[i, :n]
            text = "".join(self._symbols[p[keep[i, :n]]])
            out.append(Prediction(text, float(np.exp(best[i, :n].sum())) if n else 0.0,
                                  "".join(self._symbols[p]) if with_raw else None))
        return out

    def decode(self, log_probs, lengths=None, beam_width: int = 1, with_raw: bool = False) -> list[Prediction]:
        """Decode a batch: ``log_probs`` B×T×C (tensor or array), ``lengths`` the valid steps of each."""
        lp = log_probs.detach().cpu().numpy() if hasattr(log_probs, "detach") else np.asarray(log_probs)
        if lengths is None:
            lengths = [lp.shape[1]] * lp.shape[0]
        lengths = [int(n) for n in (lengths.tolist() if hasattr(lengths, "tolist") else lengths)]
        if beam_width <= 1:  # vectorised greedy path
            paths = lp.argmax(axis=2)
            return self._greedy_batch(paths, np.take_along_axis(lp, paths[..., None], axis=2)[..., 0], lengths, with_raw)
        return [self.beam_search(lp[i, :n], beam_width, with_raw) for i, n in enumerate(lengths)]
