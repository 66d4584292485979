"""A Ctrl-C in the middle of training, for the tests of stopping and resuming."""

import digitseq.train as train_mod


def interrupt_at(monkeypatch, call: int):
    """Ctrl-C during the ``call``-th batch's loss (before that batch's optimiser and scheduler steps); returns the
    real loss, to put back."""
    real, calls = train_mod.ctc_loss, {"n": 0}

    def loss(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == call:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(train_mod, "ctc_loss", loss)
    return real
