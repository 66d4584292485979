"""A tiny CRNN must be able to learn: overfit a fixed batch of variable-length labels to 100%."""

import numpy as np
import pytest
import torch

from digitseq.codec import Codec
from digitseq.data import pad_batch, preprocess, stretch_for_label
from digitseq.models import CRNN
from digitseq.render import RenderStyle, render
from digitseq.train import ctc_loss


@pytest.mark.parametrize("bf16", [False, True], ids=["float32", "bf16-autocast"])
def test_tiny_crnn_overfits_a_batch_of_variable_length_labels(train_font, bf16):
    torch.manual_seed(0)
    codec = Codec("0123456789")
    labels = ["7", "00", "311", "4096", "55555", "123456", "9080706", "12121212"]
    arrays = [stretch_for_label(preprocess(render(t, train_font, RenderStyle.clean(), i)), len(t))
              for i, t in enumerate(labels)]
    x, widths = pad_batch(arrays)
    model = CRNN(codec.num_classes, channels=[16, 32, 32, 32], rnn_hidden=48, rnn_layers=1, dropout=0.0)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    texts = []
    for step in range(400):
        model.train()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):   # as training with amp="bf16" runs it
            loss = ctc_loss(model, codec, x, widths, labels)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 25 == 24:
            model.eval()
            with torch.no_grad():
                texts = [p.text for p in codec.decode(model(x).log_softmax(-1), model.output_lengths(widths))]
            if texts == labels:
                break
    assert texts == labels, f"after {step + 1} steps: {texts}"
    assert np.isfinite(loss.item())
