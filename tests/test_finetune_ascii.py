"""Fine-tuning a printable-ASCII model on a user's folder, through the CLI, as one would the digit model:
train an initial model, --init a new run from it, interrupt that run (Ctrl-C), --resume it from last.pt."""

import pytest
import torch
from interrupts import interrupt_at

import digitseq.train as train_mod
from digitseq.cli import main
from digitseq.codec import PRINTABLE_ASCII

BATCHES = 5          # 40 images, batch size 8


def run(args, capsys=None):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr() if capsys else ("", "")
    return code, out, err


def ckpt(path):
    return torch.load(path, weights_only=True)


@pytest.fixture(scope="module")
def first_model(tmp_path_factory):
    """40 generated ASCII images (lengths 3-5) and a model trained on them for one epoch."""
    root = tmp_path_factory.mktemp("ascii")
    data = root / "pw"
    assert run(["generate", data, "--count", 40, "--min-length", 3, "--max-length", 5,
                "--alphabet", PRINTABLE_ASCII, "--workers", 1, "--seed", 3])[0] == 0
    assert run(["train", data, "--val", data, "--alphabet", PRINTABLE_ASCII, "--batch-size", 8,
                "--out", root / "first", "--epochs", 1])[0] == 0
    return data, root / "first" / "crnn.pt"


def init_interrupt_resume(first_model, tmp_path, capsys, monkeypatch, call: int):
    data, first = first_model
    assert ckpt(first)["alphabet"] == PRINTABLE_ASCII
    tuned = tmp_path / "tuned"
    real = interrupt_at(monkeypatch, call)
    code, out, err = run(["train", data, "--val", data, "--alphabet", PRINTABLE_ASCII, "--batch-size", 8,
                          "--out", tuned, "--epochs", 3, "--init", first], capsys)
    assert code == 130 and "--resume" in err
    assert "initialised from" in out and "tensors reused" in out
    last = ckpt(tuned / "last.pt")
    assert last["alphabet"] == PRINTABLE_ASCII
    assert last["resume"]["epoch"] == 1 and last["train"]["epochs_done"] == 1
    epoch_1 = last["history"][0]

    monkeypatch.setattr(train_mod, "ctc_loss", real)
    code, out, err = run(["train", data, "--val", data, "--out", tuned, "--resume", tuned / "last.pt"], capsys)
    assert code == 0, err
    assert "train epoch 2/3" in out and "train epoch 3/3" in out and "train epoch 1/3" not in out
    for name in ("last.pt", "crnn.pt"):
        done = ckpt(tuned / name)
        assert done["alphabet"] == PRINTABLE_ASCII
        assert done["state_dict"]["head.weight"].shape[0] == 95            # 94 characters + the CTC blank
    done = ckpt(tuned / "last.pt")
    assert [h["epoch"] for h in done["history"]] == [1, 2, 3]
    assert done["train"]["epochs_done"] == 3 and done["resume"]["epoch"] == 3
    assert done["train"]["steps_done"] == 3 * BATCHES
    assert done["history"][0]["train_loss"] == pytest.approx(epoch_1["train_loss"])


def test_ascii_init_then_interrupt_between_epochs_then_resume(first_model, tmp_path, capsys, monkeypatch):
    init_interrupt_resume(first_model, tmp_path, capsys, monkeypatch, call=BATCHES + 1)


def test_ascii_init_then_interrupt_mid_epoch_then_resume(first_model, tmp_path, capsys, monkeypatch):
    init_interrupt_resume(first_model, tmp_path, capsys, monkeypatch, call=BATCHES + 2)


def test_the_shipped_ascii_model_fine_tunes_on_a_users_folder(first_model, tmp_path, capsys):
    from digitseq import WEIGHTS_DIR

    data, _ = first_model
    shipped = WEIGHTS_DIR / "ascii.pt"
    code, out, _ = run(["train", data, "--val", data, "--batch-size", 8, "--out", tmp_path / "mine", "--epochs", 1,
                        "--init", "ascii"], capsys)       # a shipped model by name; its alphabet is kept
    assert code == 0 and "tensors reused" in out
    tuned = ckpt(tmp_path / "mine" / "crnn.pt")
    assert tuned["alphabet"] == PRINTABLE_ASCII == ckpt(shipped)["alphabet"]
    assert tuned["arch"] == ckpt(shipped)["arch"]
    assert tuned["preprocess"]["margin"] == ckpt(shipped)["preprocess"]["margin"] == 32   # reads as it did
    assert tuned["preprocess"]["tta_readings"] == ckpt(shipped)["preprocess"]["tta_readings"] == "seven"
    # its partner was chosen for the shipped weights, not for these: a fine-tuned model reads alone
    assert ckpt(shipped)["preprocess"]["tta_partner"] == "ascii-h48" and "tta_partner" not in tuned["preprocess"]
    # ... but a partner given to it (--partner) reads as the shipped model's does, so comparisons are like for like
    assert tuned["preprocess"]["tta_partner_looks"] == ckpt(shipped)["preprocess"]["tta_partner_looks"] == "every way"
