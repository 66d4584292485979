import pytest
import torch

from digitseq.errors import CheckpointError
from digitseq.models import (
    CRNN,
    DigitCNN,
    load_checkpoint,
    make_checkpoint,
    model_from_checkpoint,
    save_checkpoint,
    widen_weights,
)

SMALL = {"channels": [8, 16, 16, 16], "rnn_hidden": 16, "rnn_layers": 1}


def small_crnn(classes=11):
    return CRNN(classes, channels=SMALL["channels"], rnn_hidden=16, rnn_layers=1)


def test_crnn_any_width_gives_width_over_four_steps():
    m = small_crnn().eval()
    for w in (8, 37, 160, 801):
        out = m(torch.zeros(2, 1, 32, w))
        assert out.shape == (2, w // 4, 11)
        assert m.output_lengths(torch.tensor([w])).item() == w // 4


def test_input_height_must_fit_the_pooling():
    with pytest.raises(ValueError):
        CRNN(11, input_height=20)


def test_frozen_features_do_not_change_weights_or_batchnorm_statistics():
    torch.manual_seed(0)
    m = small_crnn()
    m.freeze_features(True)
    m.train()
    before = {k: v.clone() for k, v in m.features.state_dict().items()}
    head_before = m.head.weight.clone()
    opt = torch.optim.SGD([p for p in m.parameters() if p.requires_grad], lr=0.5)
    for _ in range(3):
        loss = m(torch.randn(4, 1, 32, 64) * 3 + 1).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert not m.features.training
    for k, v in m.features.state_dict().items():
        assert torch.equal(v, before[k]), k
    assert not torch.equal(m.head.weight, head_before)
    m.freeze_features(False)
    m.train()
    assert m.features.training and all(p.requires_grad for p in m.features.parameters())


def test_checkpoint_round_trip_gives_identical_outputs(tmp_path):
    torch.manual_seed(1)
    m = small_crnn().eval()
    ckpt = make_checkpoint(m, "crnn", SMALL, "0123456789", {"mean": 0.5, "std": 0.5}, metrics={"a": 1})
    path = save_checkpoint(ckpt, tmp_path / "m.pt")
    assert [p.name for p in tmp_path.iterdir()] == ["m.pt"]      # no temporary file left behind
    loaded = load_checkpoint(path)
    assert loaded["alphabet"] == "0123456789" and loaded["input_height"] == 32
    m2 = model_from_checkpoint(loaded)
    x = torch.randn(3, 1, 32, 90)
    assert torch.equal(m(x), m2(x))


def test_digit_cnn_averages_only_over_the_images_own_columns():
    torch.manual_seed(0)
    m = DigitCNN(10, channels=SMALL["channels"]).eval()
    x = torch.randn(1, 1, 32, 32)
    short = torch.cat([x, torch.full((1, 1, 32, 16), 5.0)], dim=3)
    long = torch.cat([x, torch.full((1, 1, 32, 64), 5.0)], dim=3)
    widths = torch.tensor([32])
    assert torch.allclose(m(short, widths), m(long, widths), atol=1e-5)   # extra padding is ignored
    assert not torch.allclose(m(short), m(long), atol=1e-3)               # unmasked, it would count


def test_bad_checkpoints_are_named(tmp_path):
    (tmp_path / "junk.pt").write_bytes(b"\x00garbage" * 10)
    with pytest.raises(CheckpointError, match="junk.pt: not a readable checkpoint"):
        load_checkpoint(tmp_path / "junk.pt")
    (tmp_path / "byte.pt").write_bytes(b"i")
    with pytest.raises(CheckpointError, match=r"byte.pt: not a readable checkpoint \(damaged, or not a torch"):
        load_checkpoint(tmp_path / "byte.pt")
    torch.save({"model": torch.nn.Linear(2, 2)}, tmp_path / "pickled.pt")     # a whole module, pickled
    with pytest.raises(CheckpointError, match=r"pickled Python objects; digitseq loads only tensors") as exc:
        load_checkpoint(tmp_path / "pickled.pt")
    assert "weights_only" not in str(exc.value)
    torch.save({"state_dict": {}}, tmp_path / "partial.pt")
    with pytest.raises(CheckpointError, match="not a digitseq checkpoint"):
        load_checkpoint(tmp_path / "partial.pt")
    with pytest.raises(CheckpointError, match="not found"):
        load_checkpoint(tmp_path / "absent.pt")
    m = small_crnn()
    ck = make_checkpoint(m, "crnn", SMALL, "01", {"mean": 0.5, "std": 0.5})   # alphabet does not fit the head
    with pytest.raises(CheckpointError, match="do not fit"):
        model_from_checkpoint(ck)


@pytest.mark.parametrize("layers", [1, 2])
def test_widening_the_gru_gate_by_gate_keeps_the_function_then_trains_the_new_units(layers):
    torch.manual_seed(0)
    src = CRNN(11, channels=SMALL["channels"], rnn_hidden=16, rnn_layers=layers).eval()
    wide = CRNN(11, channels=[12, 24, 32, 20], rnn_hidden=24, rnn_layers=layers)
    copied = widen_weights(wide, src.state_dict())
    assert len(copied) == len(src.state_dict())           # the head included: its two directions widen apart
    # the old update gate's rows sit in the new update-gate block (rows 24..39), not where a plain slice puts them
    assert torch.equal(wide.rnn.weight_hh_l0[24:40, :16], src.rnn.weight_hh_l0[16:32])
    assert torch.equal(wide.head.weight[:, 24:40], src.head.weight[:, 16:32])   # backward half
    x = torch.rand(3, 1, 32, 40)
    wide.eval()
    assert torch.allclose(wide(x), src(x), atol=1e-5)
    wide.train()
    wide(x).pow(2).mean().backward()
    assert wide.head.weight.grad[:, 16:24].abs().sum() > 0  # the new units are read as training goes on


def test_widening_the_conv_stack_keeps_the_function_then_trains_the_new_channels():
    torch.manual_seed(0)
    src = small_crnn()
    with torch.no_grad():                       # non-trivial batch-norm statistics and scales to carry over
        for m in src.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-1, 1), m.running_var.uniform_(0.5, 2), m.weight.uniform_(0.5, 1.5)
    wide = CRNN(11, channels=[12, 24, 32, 20], rnn_hidden=16, rnn_layers=1)
    copied = widen_weights(wide, src.state_dict())
    assert len(copied) == len(src.state_dict())
    x = torch.rand(3, 1, 32, 40)
    src.eval(), wide.eval()
    assert torch.allclose(wide(x), src(x), atol=1e-5)
    # the new channels are not dead: the weights that read them (zero so far) get gradients
    wide.train()
    wide(x).pow(2).mean().backward()
    assert wide.features.body[4].weight.grad[:8, 8:].abs().sum() > 0
    assert wide.rnn.weight_ih_l0.grad[:, 32:].abs().sum() > 0
