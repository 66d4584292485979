import os
import signal

import pytest
import torch
from interrupts import interrupt_at

from digitseq import train as train_mod
from digitseq.data import ImageSet
from digitseq.errors import CheckpointError, DigitseqError
from digitseq.models import load_checkpoint
from digitseq.train import (
    TrainConfig,
    ctc_loss,
    feature_height,
    pretrain_cnn,
    resolve_arch,
    train_crnn,
    uses_bf16,
    width_stride,
)

TINY = {"channels": [8, 16, 16, 16], "rnn_hidden": 16, "rnn_layers": 1}


@pytest.fixture(scope="module")
def sets(digits_dir):
    ds = ImageSet.from_folders([digits_dir], alphabet="0123456789", progress=False)
    return ImageSet(ds.arrays, ds.labels, augment=True), ImageSet(ds.arrays[:8], ds.labels[:8])


def cfg(**kw):
    return TrainConfig(**{"epochs": 2, "batch_size": 8, "lr": 3e-3, "patience": 5, "show_predictions": 0, **kw})


def quiet(_msg):
    pass


@pytest.mark.parametrize("amp", ["off", "bf16"])
def test_resume_continues_exactly(tmp_path, sets, amp):
    train, val = sets
    full = train_crnn(train, val, tmp_path / "a" / "crnn.pt", cfg(amp=amp), "0123456789", TINY, progress=False,
                      log=quiet)
    assert load_checkpoint(full.best_path)["train"]["config"]["amp"] == amp    # recorded, so a resume keeps it

    def stop_after_first_epoch(msg):
        if "epoch 1/" in msg:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train_crnn(train, val, tmp_path / "b" / "crnn.pt", cfg(amp=amp), "0123456789", TINY, progress=False,
                   log=stop_after_first_epoch)
    last = tmp_path / "b" / "last.pt"
    assert load_checkpoint(last)["resume"]["epoch"] == 1
    resumed = train_crnn(train, val, tmp_path / "b" / "crnn.pt", resume=last, progress=False, log=quiet)
    assert len(resumed.history) == len(full.history) == 2
    assert resumed.history[-1]["train_loss"] == pytest.approx(full.history[-1]["train_loss"], rel=1e-5)
    for k, v in full.model.state_dict().items():
        assert torch.allclose(v.float(), resumed.model.state_dict()[k].float(), atol=1e-5), k


def test_last_epoch_model_refuses_a_last_pt_saved_mid_epoch_or_to_overwrite_it(tmp_path, sets, monkeypatch):
    interrupt_at(monkeypatch, 2)
    res = train_crnn(sets[0], sets[1], tmp_path / "crnn.pt", cfg(), "0123456789", TINY, progress=False, log=quiet)
    with pytest.raises(DigitseqError, match="middle of an epoch"):
        train_mod.last_epoch_model(res.last_path, tmp_path / "x.pt")
    with pytest.raises(DigitseqError, match="would overwrite"):
        train_mod.last_epoch_model(res.last_path, res.last_path)


def test_ctrl_c_mid_epoch_leaves_a_resumable_checkpoint(tmp_path, sets, monkeypatch):
    train, val = sets
    real = interrupt_at(monkeypatch, 2)
    res = train_crnn(train, val, tmp_path / "crnn.pt", cfg(), "0123456789", TINY, progress=False, log=quiet)
    assert res.interrupted and res.last_path.is_file()
    monkeypatch.setattr(train_mod, "ctc_loss", real)
    done = train_crnn(train, val, tmp_path / "crnn.pt", resume=res.last_path, progress=False, log=quiet)
    assert len(done.history) == 2 and (tmp_path / "crnn.pt").is_file()


def test_pretrained_cnn_is_loaded_and_frozen_then_finetuned(tmp_path, sets, digits_dir):
    singles = ImageSet([a[:, :40] for a in sets[0].arrays[:16]], [t[0] for t in sets[0].labels[:16]])
    cnn = pretrain_cnn(singles, singles, tmp_path / "cnn.pt", cfg(epochs=1), arch=TINY, progress=False, log=quiet)
    conv = {k: v.clone() for k, v in cnn.model.features.state_dict().items()}
    res = train_crnn(sets[0], sets[1], tmp_path / "crnn.pt", cfg(epochs=1, finetune_epochs=0, freeze_cnn=True),
                     "0123456789", TINY, pretrained=cnn.best_path, progress=False, log=quiet)
    for k, v in res.model.features.state_dict().items():
        assert torch.equal(v, conv[k]), k
    assert res.history[0]["phase"] == "frozen"
    res2 = train_crnn(sets[0], sets[1], tmp_path / "crnn2.pt", cfg(epochs=1, finetune_epochs=1, freeze_cnn=True),
                      "0123456789", TINY, pretrained=cnn.best_path, progress=False, log=quiet)
    assert [h["phase"] for h in res2.history] == ["frozen", "finetune"]


def test_fine_tune_to_a_new_alphabet_keeps_shared_rows(tmp_path, sets):
    src = train_crnn(sets[0], sets[1], tmp_path / "digits.pt", cfg(epochs=1), "0123456789", TINY,
                     progress=False, log=quiet)
    letters = ImageSet(sets[0].arrays[:8], ["a" + t for t in sets[0].labels[:8]])
    res = train_crnn(letters, letters, tmp_path / "new.pt", TrainConfig(epochs=1, lr=1e-12, batch_size=8,
                     show_predictions=0), "0123456789a", init=src.best_path, progress=False, log=quiet)
    old, new = src.model.head.weight, res.model.head.weight
    assert new.shape[0] == 12
    assert torch.allclose(new[:11], old, atol=1e-6)       # blank and digits carried over
    assert load_checkpoint(tmp_path / "new.pt")["alphabet"] == "0123456789a"


def test_init_with_more_channels_widens_the_model_and_starts_from_its_function(tmp_path, sets):
    src = train_crnn(sets[0], sets[1], tmp_path / "narrow.pt", cfg(epochs=1), "0123456789", TINY,
                     progress=False, log=quiet)
    wide_arch = {**TINY, "channels": [8, 24, 24, 32]}
    res = train_crnn(sets[1], sets[1], tmp_path / "wide.pt", cfg(epochs=1, lr=1e-12), "0123456789", wide_arch,
                     init=src.best_path, progress=False, log=quiet)
    assert load_checkpoint(tmp_path / "wide.pt")["arch"]["channels"] == [8, 24, 24, 32]
    # the source's weights sit in the leading slices; old filters read the new channels with weight zero
    # (that this keeps the function is tested in test_models)
    narrow_w, wide_w = src.model.features.body[8].weight, res.model.features.body[8].weight
    assert torch.allclose(wide_w[:16, :16], narrow_w, atol=1e-6)
    assert wide_w[:16, 16:].abs().max() < 1e-6
    # continuing from the wide model without naming channels keeps them (the defaults do not narrow it)
    again = train_crnn(sets[1], sets[1], tmp_path / "again.pt", cfg(epochs=1, lr=1e-12), "0123456789",
                       init=tmp_path / "wide.pt", progress=False, log=quiet)
    assert again.model.features.out_channels == 32
    with pytest.raises(DigitseqError, match="only be widened"):
        train_crnn(sets[1], sets[1], tmp_path / "bad.pt", cfg(epochs=1), "0123456789",
                   {**TINY, "channels": [8, 8, 16, 16]}, init=src.best_path, progress=False, log=quiet)


def test_init_with_a_larger_gru_starts_from_its_function_and_refuses_a_smaller_one(tmp_path, sets):
    src = train_crnn(sets[0], sets[1], tmp_path / "small.pt", cfg(epochs=1), "0123456789", TINY,
                     progress=False, log=quiet)
    hidden = TINY["rnn_hidden"]
    res = train_crnn(sets[1], sets[1], tmp_path / "big.pt", cfg(epochs=1, lr=1e-12), "0123456789",
                     {"rnn_hidden": hidden + 8}, init=src.best_path, progress=False, log=quiet)
    assert load_checkpoint(tmp_path / "big.pt")["arch"]["rnn_hidden"] == hidden + 8
    # gate by gate, direction by direction (that this keeps the function is tested in test_models)
    h = hidden
    old_hh, new_hh = src.model.rnn.weight_hh_l0_reverse, res.model.rnn.weight_hh_l0_reverse
    assert torch.allclose(new_hh[2 * (h + 8):2 * (h + 8) + h, :h], old_hh[2 * h:], atol=1e-6)   # the "new" gate
    assert res.model.rnn.weight_hh_l0[:h, h:].abs().max() < 1e-6    # old units do not read the new ones yet
    assert torch.allclose(res.model.head.weight[:, h + 8:2 * h + 8], src.model.head.weight[:, h:], atol=1e-6)
    with pytest.raises(DigitseqError, match="can only be widened"):
        train_crnn(sets[1], sets[1], tmp_path / "bad.pt", cfg(epochs=1), "0123456789",
                   {"rnn_hidden": hidden - 4}, init=src.best_path, progress=False, log=quiet)


def test_label_outside_alphabet_is_a_clear_error(tmp_path, sets):
    bad = ImageSet(sets[0].arrays[:2], ["12", "1x"])
    with pytest.raises(DigitseqError, match="training set: label '1x'"):
        train_crnn(bad, bad, tmp_path / "m.pt", cfg(), "0123456789", TINY, progress=False, log=quiet)


def test_images_cropped_otherwise_than_the_config_says_are_refused(tmp_path, sets, digits_dir):
    """The checkpoint records cfg.textline and recognition crops (or not) as it says, so the sets must agree."""
    plain = ImageSet.from_folders([digits_dir], alphabet="0123456789", progress=False)
    assert plain.textline is False and sets[0].textline is None                 # built from arrays: not known
    with pytest.raises(DigitseqError, match="images not cropped to their text line, but textline=True"):
        train_crnn(plain, sets[1], tmp_path / "m.pt", cfg(epochs=1), "0123456789", TINY, progress=False, log=quiet)
    cropped = ImageSet(plain.arrays[:4], plain.labels[:4], textline=True)
    with pytest.raises(DigitseqError, match="images cropped to their text line, but textline=False"):
        train_crnn(sets[0], cropped, tmp_path / "m.pt", cfg(epochs=1, textline=False), "0123456789", TINY,
                   progress=False, log=quiet)
    tall = ImageSet.from_folders([digits_dir], alphabet="0123456789", progress=False, height=48)
    with pytest.raises(DigitseqError, match="images 48 px high, but the model takes 32 px"):
        train_crnn(tall, sets[1], tmp_path / "m.pt", cfg(epochs=1, textline=False), "0123456789", TINY,
                   progress=False, log=quiet)
    stride8 = {**TINY, "pools": [[2, 2], [2, 2], [2, 2], [2, 1]]}
    with pytest.raises(DigitseqError, match="stretched for a width stride of 4, but the model's is 8"):
        train_crnn(sets[0], sets[1], tmp_path / "m.pt", cfg(epochs=1), "0123456789", stride8, progress=False,
                   log=quiet)
    assert not (tmp_path / "m.pt").exists()
    with pytest.raises(ValueError, match="cannot join"):
        ImageSet.concat([plain, cropped])
    assert ImageSet.concat([cropped, cropped]).textline is True


@pytest.mark.parametrize("keep,epoch", [("best", 2), ("last", 3)])
def test_keep_writes_the_best_validation_or_the_last_epoch(tmp_path, sets, monkeypatch, keep, epoch):
    real, scores = train_mod.validate, iter([0.5, 0.9, 0.1])   # validation peaks at epoch 2

    def scripted(*args, **kwargs):
        val, preds = real(*args, **kwargs)
        return {**val, "sequence_accuracy": next(scores)}, preds

    monkeypatch.setattr(train_mod, "validate", scripted)
    res = train_crnn(sets[0], sets[1], tmp_path / "crnn.pt", cfg(epochs=3, keep=keep), "0123456789", TINY,
                     progress=False, log=quiet)
    kept, last = load_checkpoint(tmp_path / "crnn.pt"), load_checkpoint(res.last_path)
    assert kept["train"]["kept"].endswith(f"epoch ({epoch})") and kept["train"]["epochs_done"] == epoch
    same = all(torch.equal(v, last["state_dict"][k]) for k, v in kept["state_dict"].items())
    assert same == (keep == "last")
    assert all(torch.equal(v, kept["state_dict"][k]) for k, v in res.model.state_dict().items())
    # a run that kept its best epoch can still give its last one, as keep="last" would have written it
    again = load_checkpoint(train_mod.last_epoch_model(res.last_path, tmp_path / "last_epoch.pt"))
    assert again["train"]["kept"] == "last epoch (3)" and "optimizer" not in again and "resume" not in again
    assert all(torch.equal(v, last["state_dict"][k]) for k, v in again["state_dict"].items())
    assert res.kept_metric == (0.9 if keep == "best" else 0.1)


def test_keep_other_than_best_or_last_is_refused(tmp_path, sets):
    with pytest.raises(DigitseqError, match="keep must be"):
        train_crnn(sets[0], sets[1], tmp_path / "crnn.pt", cfg(keep="first"), "0123456789", TINY,
                   progress=False, log=quiet)


def test_amp_other_than_auto_bf16_or_off_is_refused(tmp_path, sets):
    train, val = sets
    with pytest.raises(DigitseqError, match="amp must be one of auto, bf16, off"):
        train_crnn(train, val, tmp_path / "crnn.pt", cfg(amp="fp16"), "0123456789", TINY, progress=False, log=quiet)


def test_amp_auto_uses_bf16_on_a_gpu_and_on_a_cpu_that_has_it(monkeypatch):
    cpu, gpu = torch.device("cpu"), torch.device("cuda")
    assert uses_bf16("bf16", cpu) and not uses_bf16("off", cpu) and not uses_bf16("off", gpu)
    assert uses_bf16("auto", gpu)
    for native in (True, False):
        monkeypatch.setattr(train_mod, "cpu_has_bf16", lambda native=native: native)
        assert uses_bf16("auto", cpu) is native


def test_sigterm_saves_the_epoch_under_way_for_resume_and_puts_the_handler_back(tmp_path, sets, monkeypatch):
    calls = []

    def loss_then_sigterm(*args, **kw):        # the signal arrives in the third batch, as a scheduler's kill would
        calls.append(1)
        if len(calls) == 3:
            os.kill(os.getpid(), signal.SIGTERM)
        return ctc_loss(*args, **kw)

    monkeypatch.setattr(train_mod, "ctc_loss", loss_then_sigterm)
    before = signal.getsignal(signal.SIGTERM)
    res = train_crnn(sets[0], sets[1], tmp_path / "crnn.pt", cfg(epochs=2), "0123456789", TINY, progress=False,
                     log=quiet)
    assert res.interrupted and signal.getsignal(signal.SIGTERM) is before
    assert load_checkpoint(res.last_path)["resume"]["batch"] in (2, 3)     # the batches done before it stopped


@pytest.mark.parametrize("native", [True, False])
def test_bf16_asked_for_on_a_cpu_without_it_says_it_will_be_slow(tmp_path, sets, monkeypatch, native):
    monkeypatch.setattr(train_mod, "cpu_has_bf16", lambda: native)
    said = []
    train_crnn(sets[0], sets[1], tmp_path / "crnn.pt", cfg(epochs=1, amp="bf16", device="cpu"), "0123456789", TINY,
               progress=False, log=said.append)
    assert (train_mod.BF16_EMULATED in said) is not native


def test_a_continued_model_keeps_how_its_partner_reads_for_its_own_alphabet_only(tmp_path, sets):
    train, val = sets
    first = train_crnn(train, val, tmp_path / "a" / "crnn.pt", cfg(epochs=1), "0123456789", TINY, progress=False,
                       log=quiet)
    ck = load_checkpoint(first.best_path)
    assert "tta_partner_looks" not in ck["preprocess"]
    ck["preprocess"].update(tta_partner="partner", tta_partner_looks="every way")
    src = tmp_path / "src.pt"
    torch.save(ck, src)
    same = train_crnn(train, val, tmp_path / "b" / "crnn.pt", cfg(epochs=1), None, init=src, progress=False, log=quiet)
    kept = load_checkpoint(same.best_path)["preprocess"]
    assert kept["tta_partner_looks"] == "every way" and "tta_partner" not in kept     # the name: pipeline.ship
    other = train_crnn(train, val, tmp_path / "c" / "crnn.pt", cfg(epochs=1), "0123456789x", init=src, progress=False,
                       log=quiet)
    assert "tta_partner_looks" not in load_checkpoint(other.best_path)["preprocess"]
    with pytest.raises(DigitseqError, match="partner_looks must be one of"):
        train_crnn(train, val, tmp_path / "d" / "crnn.pt", cfg(epochs=1, partner_looks="twice"), None, init=src,
                   progress=False, log=quiet)


def test_epochs_that_fit_hand_worked():
    # 800 s used of 7200, 712 s an epoch: further epochs end at 1512, ..., 6496 (the 8th), 7208 (past the budget)
    assert train_mod.epochs_that_fit(7200, 800, 712) == 8
    assert train_mod.epochs_that_fit(7200, 800, 800) == 8       # the 8th ends at 7200 exactly: inside
    assert train_mod.epochs_that_fit(7200, 800, 6401) == 0
    assert train_mod.epochs_that_fit(100, 150, 10) == 0         # already past
    assert train_mod.epochs_that_fit(100, 100, 10) == 0


def fitting(monkeypatch, more):
    """``epochs_that_fit`` answering ``more`` whatever the clock says."""
    monkeypatch.setattr(train_mod, "epochs_that_fit", lambda *a: more)


def test_a_time_budget_shortens_the_one_cycle_schedule_so_it_still_anneals(tmp_path, sets, monkeypatch):
    train, val = sets                         # 24 images, batches of 4: 6 a epoch
    fitting(monkeypatch, 1)                   # after epoch 1 of 4, one more fits
    notes = []
    res = train_crnn(train, val, tmp_path / "crnn.pt", cfg(epochs=4, batch_size=4, time_budget=3600), "0123456789",
                     TINY, progress=False, log=notes.append)
    assert len(res.history) == 2 and len(res.steps) == 12
    assert any("2 of the 4 epochs fit" in m for m in notes)
    # each row holds the rate set after its step, the next step's: the last step ran at one-cycle's annealed end
    assert res.steps[-2]["lr"] == pytest.approx(3e-3 / 10 / 100, rel=1e-6)
    assert max(s["lr"] for s in res.steps) <= 3e-3 * (1 + 1e-9)
    assert load_checkpoint(res.last_path)["train"]["phases"][0]["epochs"] == 2
    assert not any("stopping" in m for m in notes)


def test_a_time_budget_that_fits_changes_nothing_and_one_that_fits_no_epoch_stops(tmp_path, sets, monkeypatch):
    train, val = sets
    plain = train_crnn(train, val, tmp_path / "a.pt", cfg(epochs=3, batch_size=4), "0123456789", TINY,
                       progress=False, log=quiet)
    fitting(monkeypatch, 2)
    notes = []
    timed = train_crnn(train, val, tmp_path / "b.pt", cfg(epochs=3, batch_size=4, time_budget=3600), "0123456789",
                       TINY, progress=False, log=notes.append)
    assert [s["lr"] for s in timed.steps] == [s["lr"] for s in plain.steps]
    assert same_weights(plain.model, timed.model) and not any("budget" in m for m in notes)
    fitting(monkeypatch, 0)
    res = train_crnn(train, val, tmp_path / "c.pt", cfg(epochs=3, batch_size=4, time_budget=3600), "0123456789",
                     TINY, progress=False, log=notes.append)
    assert len(res.history) == 1 and any("no further epoch" in m and "stopping" in m for m in notes)
    notes.clear()                             # other schedules are not re-planned: the run is cut, and says so
    train_crnn(train, val, tmp_path / "d.pt", cfg(epochs=4, batch_size=4, time_budget=3600, schedule="cyclic"),
               "0123456789", TINY, progress=False, log=notes.append)
    assert any("ends this phase before its 4 epochs" in m for m in notes)


def test_a_plan_shortened_by_slow_early_epochs_grows_back_but_not_past_its_epochs(tmp_path, sets, monkeypatch):
    train, val = sets
    answers = iter([1, 3, 2])                 # after epochs 1-3: 1, 3, 2 more fit -> plans of 2, 5 (not 6), 5
    monkeypatch.setattr(train_mod, "epochs_that_fit", lambda *a: next(answers))
    notes = []
    res = train_crnn(train, val, tmp_path / "crnn.pt", cfg(epochs=5, batch_size=4, time_budget=3600), "0123456789",
                     TINY, progress=False, log=notes.append)
    # after epoch 1 the plan is 2 epochs, so epoch 2 is its last: no look at the budget there, it ends
    assert len(res.history) == 2 and any("2 of the 5 epochs fit" in m for m in notes)
    answers = iter([2, 3, 2, 1])              # plans of 3, then 5 (capped), then 5 twice more (no note)
    notes.clear()
    res = train_crnn(train, val, tmp_path / "b.pt", cfg(epochs=5, batch_size=4, time_budget=3600), "0123456789",
                     TINY, progress=False, log=notes.append)
    assert len(res.history) == 5 and len(res.steps) == 30
    assert [m.split(", ")[1].split(";")[0] for m in notes if "budget" in m] == ["3 of the 5 epochs fit",
                                                                            "5 of the 5 epochs fit"]
    assert res.steps[-2]["lr"] == pytest.approx(3e-3 / 10 / 100, rel=1e-6)
    assert max(s["lr"] for s in res.steps) <= 3e-3 * (1 + 1e-9)


def test_a_run_shortened_to_its_budget_resumes_to_the_same_end(tmp_path, sets, monkeypatch):
    train, val = sets

    def fits(answers):                        # after epochs 1 and 2: 2 more, 1 more: 3 of the 4 planned
        answers = iter(answers)
        monkeypatch.setattr(train_mod, "epochs_that_fit", lambda *a: next(answers))

    fits([2, 1])
    config = cfg(epochs=4, batch_size=4, time_budget=3600)
    full = train_crnn(train, val, tmp_path / "a" / "crnn.pt", config, "0123456789", TINY, progress=False, log=quiet)
    assert len(full.history) == 3

    def stop_after_second_epoch(msg):
        if "epoch 2/" in msg:
            raise KeyboardInterrupt

    fits([2, 1])
    with pytest.raises(KeyboardInterrupt):
        train_crnn(train, val, tmp_path / "b" / "crnn.pt", config, "0123456789", TINY, progress=False,
                   log=stop_after_second_epoch)
    last = tmp_path / "b" / "last.pt"
    assert load_checkpoint(last)["resume"]["phase_epochs"] == 3
    fits([])                                  # epoch 3 is the resumed plan's last: the budget is not asked again
    done = train_crnn(train, val, tmp_path / "b" / "crnn.pt", resume=last, progress=False, log=quiet)
    assert len(done.history) == 3 and [s["lr"] for s in done.steps] == [s["lr"] for s in full.steps]
    assert same_weights(full.model, done.model)


def test_a_continued_model_may_change_its_pools_if_its_gru_reads_as_many_rows(tmp_path, sets):
    """Width stride 8 (or height 48 with a 3-high last pool) keeps every weight's shape: a model can continue."""
    src = train_crnn(sets[0], sets[1], tmp_path / "a.pt", cfg(epochs=1), "0123456789", TINY, progress=False,
                     log=quiet).best_path
    stride8 = [[2, 2], [2, 2], [2, 2], [2, 1]]
    arch = resolve_arch({"pools": stride8, "rnn_layers": 3}, init=src)[0]
    assert width_stride(arch) == 8 and arch["channels"] == TINY["channels"] and arch["rnn_layers"] == 1
    tall = resolve_arch({"input_height": 48, "pools": [[2, 2], [2, 2], [2, 1], [3, 1]]}, init=src)[0]
    assert feature_height(tall) == 2 and width_stride(tall) == 4
    with pytest.raises(CheckpointError, match="change the feature map's height"):
        resolve_arch({"pools": [[2, 2], [2, 2], [2, 1], [1, 1]]}, init=src)
    messages = []
    train8 = ImageSet(sets[0].arrays, sets[0].labels, augment=True, reduction=8)
    res = train_crnn(train8, sets[1], tmp_path / "b.pt", cfg(epochs=1), "0123456789", {"pools": stride8},
                     init=src, progress=False, log=messages.append)
    reused = int(next(m for m in messages if "tensors reused" in m).split(": ")[1].split()[0])
    state = load_checkpoint(src)["state_dict"]
    assert reused == len(state)                                       # every tensor, the head too
    assert load_checkpoint(res.best_path)["arch"]["pools"] == stride8


def same_weights(a, b):
    return all(torch.equal(v, b.state_dict()[k]) for k, v in a.state_dict().items())


@pytest.mark.parametrize("where", ["mid_epoch", "validation"])
def test_a_run_stopped_anywhere_resumes_to_the_weights_of_one_never_stopped(tmp_path, sets, monkeypatch, where):
    train, val = sets                         # 24 images, batches of 8: 3 a epoch
    full = train_crnn(train, val, tmp_path / "a" / "crnn.pt", cfg(), "0123456789", TINY, progress=False, log=quiet)
    if where == "mid_epoch":
        real = interrupt_at(monkeypatch, 5)   # the second batch of epoch 2
    else:                                     # Ctrl-C while epoch 2's validation runs
        real_validate, calls = train_mod.validate, {"n": 0}

        def validate(*args, **kwargs):
            calls["n"] += 1
            if calls["n"] == 2:
                raise KeyboardInterrupt
            return real_validate(*args, **kwargs)

        monkeypatch.setattr(train_mod, "validate", validate)
    stopped = train_crnn(train, val, tmp_path / "b" / "crnn.pt", cfg(), "0123456789", TINY, progress=False, log=quiet)
    state = load_checkpoint(stopped.last_path)
    assert stopped.interrupted and (state["resume"]["epoch"], state["resume"]["batch"]) == \
        ((1, 1) if where == "mid_epoch" else (1, 3))
    if where == "mid_epoch":
        monkeypatch.setattr(train_mod, "ctc_loss", real)
    else:
        monkeypatch.setattr(train_mod, "validate", real_validate)
    done = train_crnn(train, val, tmp_path / "b" / "crnn.pt", resume=stopped.last_path, progress=False, log=quiet)
    assert [h["train_loss"] for h in done.history] == [h["train_loss"] for h in full.history]
    assert same_weights(full.model, done.model)


def test_a_stop_during_the_epochs_checkpoints_waits_for_them(tmp_path, sets, monkeypatch):
    real_save, calls = train_mod.save_checkpoint, {"n": 0}

    def save_then_sigterm(*args, **kwargs):   # the signal lands between the model's save and last.pt's
        calls["n"] += 1
        real_save(*args, **kwargs)
        if calls["n"] == 1:
            os.kill(os.getpid(), signal.SIGTERM)

    monkeypatch.setattr(train_mod, "save_checkpoint", save_then_sigterm)
    res = train_crnn(sets[0], sets[1], tmp_path / "crnn.pt", cfg(), "0123456789", TINY, progress=False, log=quiet)
    state = load_checkpoint(res.last_path)
    assert res.interrupted and len(res.history) == 1 and state["resume"]["epoch"] == 1
    assert len(state["history"]) == 1 and state["resume"]["batch"] == 0       # the two files agree


def test_resuming_on_other_data_is_refused(tmp_path, sets, monkeypatch):
    interrupt_at(monkeypatch, 2)
    res = train_crnn(sets[0], sets[1], tmp_path / "crnn.pt", cfg(), "0123456789", TINY, progress=False, log=quiet)
    more = ImageSet(sets[0].arrays * 2, sets[0].labels * 2, augment=True)
    with pytest.raises(DigitseqError, match="epochs had 3 batches, the data and batch size given now make 6"):
        train_crnn(more, sets[1], tmp_path / "crnn.pt", resume=res.last_path, progress=False, log=quiet)


def test_resuming_a_pretraining_checkpoint_is_refused(tmp_path, sets):
    ck = load_checkpoint(train_crnn(sets[0], sets[1], tmp_path / "crnn.pt", cfg(epochs=1), "0123456789", TINY,
                                    progress=False, log=quiet).last_path)
    ck["kind"] = "digit_cnn"
    torch.save(ck, tmp_path / "other.pt")
    with pytest.raises(CheckpointError, match="a digit_cnn checkpoint, not a CRNN run's last.pt"):
        train_crnn(sets[0], sets[1], tmp_path / "x.pt", resume=tmp_path / "other.pt", progress=False, log=quiet)


def test_a_stop_before_an_epochs_first_batch_resumes_exactly_too(tmp_path, sets, monkeypatch):
    train, val = sets
    full = train_crnn(train, val, tmp_path / "a" / "crnn.pt", cfg(), "0123456789", TINY, progress=False, log=quiet)
    real, calls = train_mod.loader, {"n": 0}

    def loader_then_sigterm(*args, **kwargs):    # the signal lands as epoch 2's loader is made
        calls["n"] += 1
        made = real(*args, **kwargs)
        if calls["n"] == 2:
            os.kill(os.getpid(), signal.SIGTERM)
        return made

    monkeypatch.setattr(train_mod, "loader", loader_then_sigterm)
    stopped = train_crnn(train, val, tmp_path / "b" / "crnn.pt", cfg(), "0123456789", TINY, progress=False, log=quiet)
    state = load_checkpoint(stopped.last_path)
    assert stopped.interrupted and (state["resume"]["epoch"], state["resume"]["batch"]) == (1, 0)
    monkeypatch.setattr(train_mod, "loader", real)
    done = train_crnn(train, val, tmp_path / "b" / "crnn.pt", resume=stopped.last_path, progress=False, log=quiet)
    assert same_weights(full.model, done.model)


def test_a_stop_as_the_run_ends_lets_it_end_and_marks_it_finished(tmp_path, sets, monkeypatch):
    real_save, calls = train_mod.save_checkpoint, {"n": 0}

    def save_then_sigterm(*args, **kwargs):   # epoch 2 of 2: the model's save (the third), then the signal
        calls["n"] += 1
        real_save(*args, **kwargs)
        if calls["n"] == 3:
            os.kill(os.getpid(), signal.SIGTERM)

    monkeypatch.setattr(train_mod, "save_checkpoint", save_then_sigterm)
    res = train_crnn(sets[0], sets[1], tmp_path / "crnn.pt", cfg(keep="last"), "0123456789", TINY, progress=False,
                     log=quiet)
    assert not res.interrupted and len(res.history) == 2
    assert load_checkpoint(res.last_path)["resume"]["finished"] is True


def test_a_resumed_run_keeps_its_settings_but_runs_where_it_is_told(tmp_path, sets, monkeypatch):
    interrupt_at(monkeypatch, 2)
    res = train_crnn(sets[0], sets[1], tmp_path / "crnn.pt", cfg(), "0123456789", TINY, progress=False, log=quiet)
    monkeypatch.setattr(train_mod, "ctc_loss", ctc_loss)
    real, seen = train_mod.loader, []

    def loader(*args, **kwargs):
        seen.append(args[5])                  # the number of worker processes
        return real(*args, **kwargs)

    monkeypatch.setattr(train_mod, "loader", loader)
    done = train_crnn(sets[0], sets[1], tmp_path / "crnn.pt", cfg(epochs=7, lr=1.0, workers=1), resume=res.last_path,
                      progress=False, log=quiet)
    assert seen and set(seen) == {1} and len(done.history) == 2      # 2 epochs and its own rate, not 7 and 1.0
