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
RESCALE = 4   # ctc_log_likelihood: rescale the forward probabilities every this many steps (float64 has room)


def log_softmax(scores, axis: int = -1) -> np.ndarray:
    """Log-probabilities from unnormalised scores (numpy, float32 in, float32 out)."""
    scores = np.asarray(scores)
    shifted = scores - scores.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def ctc_log_likelihood(log_probs, labels, lengths=None) -> np.ndarray:
    """log p(labels[i] | log_probs[i]) for each pair i, by the CTC forward algorithm (blank = class 0): the
    probability of the label summed over every alignment that collapses to it.

    ``log_probs``: a B×T×C array or a list of T_i×C arrays (per-step log-probabilities); ``lengths``: the valid
    steps of each (default: all); ``labels``: B class sequences (no blanks). All pairs run in one loop over time
    steps on B × S states (S = 2 × the longest label + 1: blank, y1, blank, y2, ..., blank, padded with blanks),
    in probabilities rescaled every :data:`RESCALE` steps (exact; the log of the scale kept aside); a pair is read
    off at its own last step, and a label's padded states never feed the ones before them. A label that cannot
    be emitted in its steps (or a pair with none) gets a log-likelihood below -1e30.
    """
    if isinstance(log_probs, np.ndarray) and log_probs.ndim == 3:
        lp = log_probs
        steps = np.full(len(lp), lp.shape[1]) if lengths is None else np.asarray(lengths, dtype=np.intp)
    else:
        steps = np.array([len(x) for x in log_probs]) if lengths is None else np.asarray(lengths, dtype=np.intp)
        lp = np.full((len(log_probs), max(1, int(steps.max(initial=1))), log_probs[0].shape[1]), -np.inf)
        for i, x in enumerate(log_probs):
            lp[i, : len(x)] = x
    n_pairs, t_max = len(labels), int(steps.max(initial=0))
    if t_max == 0:
        return np.full(n_pairs, -1e31)
    if n_pairs == 1:
        return np.array([_one_log_likelihood(lp[0][: int(steps[0])], labels[0])])
    order = np.argsort(-steps, kind="stable")          # longest first: the pairs still running are a prefix
    steps = steps[order]
    s_n = 2 * max((len(y) for y in labels), default=0) + 1
    ext = np.zeros((n_pairs, s_n), np.intp)           # blank, y1, blank, y2, ..., blank (padded with blanks)
    for k, i in enumerate(order):
        ext[k, 1: 2 * len(labels[i]): 2] = labels[i]
    skip = np.zeros((n_pairs, s_n))                    # 1 where a state may skip the blank before it (two labels)
    skip[:, 2:] = (ext[:, 2:] != 0) & (ext[:, 2:] != ext[:, :-2])
    emit = np.exp(np.asarray(lp, np.float64).transpose(1, 0, 2)[:t_max, order[:, None], ext])   # T × B × S
    states = np.zeros((n_pairs, s_n + 2))             # two empty states in front, so moves are slices
    states[:, 2:] = emit[0] * (np.arange(s_n) < 2)    # start in the first blank or the first label
    log_scale = np.zeros(n_pairs)
    running = np.searchsorted(-steps, -np.arange(t_max), side="left")   # pairs with more than t steps, per t
    for t in range(1, t_max):
        k = int(running[t])
        step = states[:k, 2:] + states[:k, 1:-1]
        step += skip[:k] * states[:k, :-2]
        step *= emit[t, :k]
        states[:k, 2:] = step
        if t % RESCALE == 0:
            top = step.max(axis=1)
            top[top <= 0] = 1.0
            states[:k] /= top[:, None]
            log_scale[:k] += np.log(top)
    ends = np.array([2 * len(labels[i]) for i in order], dtype=np.intp) + 2   # each label's final blank
    rows = np.arange(n_pairs)
    final = states[rows, ends] + np.where(ends > 2, states[rows, ends - 1], 0.0)
    with np.errstate(divide="ignore"):
        sorted_out = np.where((final > 0) & (steps > 0), np.log(np.maximum(final, 1e-300)) + log_scale, -1e31)
    out = np.empty(n_pairs)
    out[order] = sorted_out
    return out


def _one_log_likelihood(log_probs: np.ndarray, label) -> float:
    """:func:`ctc_log_likelihood` of one pair (T×C log-probabilities, a label), the same recursion as a product
    with the label's S×S transition matrix (stay, step, or skip a blank between two different labels): one
    matrix-vector product a step instead of the batched loop's five array operations, so a lone image's
    confidence costs a quarter of the time (``Recognizer.predict`` on one image calls this)."""
    t_max, s_n = len(log_probs), 2 * len(label) + 1
    ext = np.zeros(s_n, np.intp)
    ext[1::2] = label
    emit = list(np.exp(np.asarray(log_probs, np.float64)[:, ext]))      # T rows of S emission probabilities
    move = np.eye(s_n)
    move[np.arange(1, s_n), np.arange(s_n - 1)] = 1.0
    skips = np.flatnonzero((ext[2:] != 0) & (ext[2:] != ext[:-2])) + 2
    move[skips, skips - 2] = 1.0
    alpha = emit[0] * (np.arange(s_n) < 2)            # start in the first blank or the first label
    tops = []
    dot, mul = np.dot, np.multiply
    for t in range(1, t_max):
        alpha = mul(dot(move, alpha), emit[t])
        if not t % RESCALE:
            top = alpha.max()
            if top > 0:
                alpha /= top
                tops.append(top)
    final = alpha[-1] + (alpha[-2] if s_n > 1 else 0.0)
    return float(np.log(final) + np.log(tops).sum()) if final > 0 else -1e31


def kept_steps(paths: np.ndarray, blank: int = 0) -> np.ndarray:
    """B×T: the steps of B best paths (class indices) whose class greedy decoding keeps: not the blank, and not a
    repeat of the step before."""
    keep = paths != blank
    keep[:, 1:] &= paths[:, 1:] != paths[:, :-1]
    return keep


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

    # What a codec may be asked to read (a ConstrainedCodec, digitseq.constraints, narrows these): any text.
    chars: str | None = None        # the characters it reads, where fewer than its alphabet
    length: str | None = None       # the lengths it reads ("5", "4-6", "8-"), where not any

    def allows(self, text: str) -> bool:
        return True

    def restrict(self, scores: np.ndarray) -> np.ndarray:
        """Scores (B×T×C) as decoding should see them: as they are."""
        return scores

    def misfits(self, scores: np.ndarray, lengths) -> np.ndarray:
        """Per image of a batch: greedy decoding reads a text this codec may not give as it is (never here)."""
        return np.zeros(len(scores), dtype=bool)

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
        """Decode one sequence of per-step log-probabilities (T×C): each step's most likely class.

        Confidence is the probability of the text read, summed over every alignment that collapses to it
        (:func:`ctc_log_likelihood`), as beam search gives it; not only of the one best path.
        """
        return self.decode(np.asarray(log_probs)[None], with_raw=with_raw)[0]

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
        """Decode a batch of unnormalised scores (B×T×C logits, numpy), as :meth:`decode` does log-probabilities."""
        return self.decode(log_softmax(np.asarray(scores)), lengths, beam_width, with_raw)

    def _greedy_batch(self, log_probs: np.ndarray, lengths: list[int], with_raw: bool) -> list[Prediction]:
        """Greedy decoding of a B×T×C batch; each text's confidence is its CTC likelihood (one batched run)."""
        paths = log_probs.argmax(axis=2)
        keep = kept_steps(paths, self.blank)
        found = [paths[i, :n][keep[i, :n]] for i, n in enumerate(lengths)]
        likely = np.exp(ctc_log_likelihood(log_probs, found, lengths)) if len(found) else []
        return [Prediction("".join(self._symbols[f]), float(likely[i]) if n else 0.0,
                           "".join(self._symbols[paths[i, :n]]) if with_raw else None)
                for i, (f, n) in enumerate(zip(found, lengths))]

    def decode(self, log_probs, lengths=None, beam_width: int = 1, with_raw: bool = False) -> list[Prediction]:
        """Decode a batch: ``log_probs`` B×T×C (tensor or array), ``lengths`` the valid steps of each."""
        lp = log_probs.detach().cpu().numpy() if hasattr(log_probs, "detach") else np.asarray(log_probs)
        if lengths is None:
            lengths = [lp.shape[1]] * lp.shape[0]
        lengths = [int(n) for n in (lengths.tolist() if hasattr(lengths, "tolist") else lengths)]
        if beam_width <= 1:  # vectorised greedy path
            return self._greedy_batch(lp, lengths, with_raw)
        return [self.beam_search(lp[i, :n], beam_width, with_raw) for i, n in enumerate(lengths)]
