"""The fine-tuning probe: a shipped model, a few folders, the last epoch kept."""

import sys

import torch

from digitseq import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))
import probe_finetune  # noqa: E402


def test_probe_continues_the_shipped_model_on_several_folders_and_keeps_the_last_epoch(digits_dir, tmp_path):
    out = tmp_path / "probe.pt"
    assert probe_finetune.main(["--init", "digits", "--sets", f"{digits_dir},{digits_dir}", "--val", str(digits_dir),
                                "--epochs", "2", "--lr", "1e-9", "--out", str(out)]) == 0
    ck = torch.load(out, weights_only=True)
    assert ck["train"]["kept"] == "last epoch (2)" and ck["alphabet"] == "0123456789"
    assert ck["metrics"]["sequence_accuracy"] >= 0.9      # lr 1e-9: still the shipped digit model's function
