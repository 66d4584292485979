"""Data-parallel training under torchrun: 2 CPU processes, gloo backend, toy size."""

import os
import subprocess
import sys

import torch

from digitseq import ROOT


def test_torchrun_two_processes_train_and_resume(tmp_path, digits_dir):
    out = tmp_path / "ddp"
    base = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "--master_port=29517",
            "-m", "digitseq", "train", str(digits_dir), "--val", str(digits_dir), "--alphabet", "0123456789",
            "--batch-size", "4", "--device", "cpu"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    # (a time budget makes the ranks agree after each epoch whether to stop or re-plan: all_reduce calls)
    proc = subprocess.run(base + ["--out", str(out), "--epochs", "2", "--time-budget", "10"], capture_output=True,
                          text=True, cwd=ROOT, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    ckpt = torch.load(out / "crnn.pt", weights_only=True)
    last = torch.load(out / "last.pt", weights_only=True)
    assert ckpt["alphabet"] == "0123456789" and len(last["history"]) == 2
    # each rank saw half of the 24 images: 24 / 4 / 2 = 3 optimiser steps per epoch
    assert last["resume"]["step"] == 6
    # Every rank reads the run's last.pt; the run is finished, so each says so in one line instead of training.
    proc = subprocess.run(base + ["--out", str(out), "--resume", str(out / "last.pt")], capture_output=True,
                          text=True, cwd=ROOT, env=env, timeout=300)
    assert proc.returncode != 0 and proc.stderr.count("that run has finished") == 2, proc.stderr[-2000:]
