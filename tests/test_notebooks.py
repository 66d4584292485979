"""The three notebooks run top to bottom at toy size (through their parameters cell)."""

import json

import nbformat
import pytest

from digitseq import ROOT
from digitseq.notebooks import run_notebook
from digitseq.pipeline import NOTEBOOKS, toy_parameters


def test_notebooks_run_at_toy_size(tmp_path):
    params = toy_parameters(tmp_path)
    for name in NOTEBOOKS:
        run_notebook(ROOT / name, params[name], out=tmp_path / name, cwd=ROOT)
        nb = nbformat.read(tmp_path / name, as_version=4)
        errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "error"]
        assert not errors
    assert (tmp_path / "img" / "test_five_digits" / "labels.csv").is_file()
    assert (tmp_path / "Model" / "pretrained_CNN" / "cnn.pt").is_file()
    assert (tmp_path / "Model" / "CRNN" / "crnn.pt").is_file()
    results = json.loads((tmp_path / "results.json").read_text())
    assert set(results["tests"]) == {"test_five_digits", "test_12_digits", "test_1_20_digits", "wild_five_digits"}
    images = sum(1 for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if "image/png" in o.get("data", {}))
    assert images >= 3


def test_ablation_notebook_runs_at_toy_size(tmp_path):
    params = {"RECIPES": ["a_original", "c_scratch_onecycle"], "SEEDS": [0], "STEPS": 3, "TRAIN_SIZE": 60,
              "OUT": str(tmp_path / "results"), "DATA": str(tmp_path / "data")}
    run_notebook(ROOT / "4_Ablations.ipynb", params, out=tmp_path / "4.ipynb", cwd=ROOT)
    results = sorted(p.name for p in (tmp_path / "results").glob("*.json"))
    assert results == ["a_original-s0.json", "c_scratch_onecycle-s0.json"]
    r = json.loads((tmp_path / "results" / "a_original-s0.json").read_text())
    assert r["curve"] and set(r["reach"]) == {"0.5", "0.9", "0.99"} and "until_seconds" in r["blank_only"]


def test_parameters_injected_into_an_executed_notebook_do_not_stack(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("X = 1", metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell(f"open({str(tmp_path / 'x.txt')!r}, 'w').write(str(X))")]
    path = tmp_path / "n.ipynb"
    nbformat.write(nb, path)
    run_notebook(path, {"X": 2}, cwd=tmp_path)          # executed in place: keeps its injected cell
    assert (tmp_path / "x.txt").read_text() == "2"
    run_notebook(path, {"X": 3}, cwd=tmp_path)
    assert (tmp_path / "x.txt").read_text() == "3"
    cells = nbformat.read(path, 4).cells
    injected = [c for c in cells if "injected-parameters" in c.metadata.get("tags", [])]
    # kept as a markdown record, so that in Jupyter the parameters cell above it is the one that counts
    assert len(injected) == 1 and injected[0].cell_type == "markdown" and "X = 3" in injected[0].source
    exec(cells[0].source + "\n" + cells[2].source.replace("str(X)", "str(X + 10)"))      # run as Jupyter would
    assert (tmp_path / "x.txt").read_text() == "11"


def test_make_run_never_ships_by_default():
    from digitseq.pipeline import PRESETS

    ships = {name: preset[3] for name, preset in PRESETS.items()}
    assert ships == {"run": False, "release": True, "release-ascii": True, "release-redraw": True,
                     "release-both": True, "release-captcha-tail": True, "release-tight-tail": True, "release-fresh": True,
                     "release-zeros": True, "release-balanced": False, "release-ascii-tight-tail": False, "release-ascii-tight": True,
                     "release-ascii-redraw": False, "release-ascii-draw3": False, "release-ascii-clean": False,
                     "release-ascii-balanced": False}


def test_config_overrides_keep_the_rest_of_the_config():
    from digitseq.pipeline import PRESETS, parse_overrides, with_overrides

    assert parse_overrides(["seed=1", "lr=2e-3", "freeze_cnn=false", "schedule=cyclic"]) == \
        {"seed": 1, "lr": 0.002, "freeze_cnn": False, "schedule": "cyclic"}
    with pytest.raises(SystemExit, match="KEY=VALUE"):
        parse_overrides(["epochs"])
    run = with_overrides(PRESETS["run"][0](), "a.pt", ["seed=1"])["3_CRNN.ipynb"]   # the notebook's own CONFIG
    assert run["INIT"] == "a.pt" and run["CONFIG"]["seed"] == 1
    assert run["CONFIG"]["epochs"] == 10 and run["CONFIG"]["schedule"] == "onecycle"
    release = with_overrides(PRESETS["release"][0](), config=["lr=1e-3"])["3_CRNN.ipynb"]["CONFIG"]
    assert release["lr"] == 0.001 and release["epochs"] == 10 and release["time_budget"] == 85 * 60
    ascii_arch = with_overrides(PRESETS["release-ascii"][0](), arch=["rnn_hidden=256"])["3_CRNN.ipynb"]["ARCH"]
    assert ascii_arch["rnn_hidden"] == 256 and ascii_arch["channels"] == [32, 64, 128, 192]   # the rest kept
    assert with_overrides({}, arch=["dropout=0.2"])["3_CRNN.ipynb"]["ARCH"] == \
        {"rnn_hidden": 128, "rnn_layers": 1, "dropout": 0.2}                                    # the notebook's own


@pytest.mark.parametrize("preset,held_out", [
    ("release", ["test_five_digits", "test_12_digits", "test_1_20_digits", "wild_five_digits", "wild_12_digits",
                 "wild_1_20_digits"]),
    ("release-redraw", ["test_five_digits", "test_12_digits", "test_1_20_digits", "wild_five_digits",
                        "wild_12_digits", "wild_1_20_digits"]),
    ("release-both", ["test_five_digits", "test_12_digits", "test_1_20_digits", "wild_five_digits",
                      "wild_12_digits", "wild_1_20_digits"]),
    ("release-captcha-tail", ["test_five_digits", "test_12_digits", "test_1_20_digits", "wild_five_digits",
                              "wild_12_digits", "wild_1_20_digits"]),
    ("release-ascii", ["test_ascii", "wild_ascii"])])
def test_releases_keep_the_held_out_sets_where_their_seeds_were(preset, held_out):
    """Notebook 1 seeds set i with SEED + 1000·i: the test and wild sets must keep positions 3, 4, ... so
    that every release is measured on the same images, and no release may train on them."""
    from digitseq.pipeline import PRESETS

    params = PRESETS[preset][0]()
    datasets = params["1_Gen_Images.ipynb"]["DATASETS"]
    names = list(datasets)
    assert names[3:3 + len(held_out)] == held_out
    assert all(datasets[s][3] in ("test", "wild") for s in held_out)
    train_sets = params["3_CRNN.ipynb"]["TRAIN_SETS"]
    assert not set(train_sets) & set(held_out) and set(train_sets) <= set(names)
    assert all(datasets[s][3] == "train" for s in train_sets)


def test_redraw_trains_on_new_draws_of_the_hard_sets_and_keeps_every_other_seed():
    from digitseq.pipeline import PRESETS, _release_digits

    old, new = PRESETS["release"][0](), PRESETS["release-redraw"][0]()
    old_sets, new_sets = old["1_Gen_Images.ipynb"]["DATASETS"], new["1_Gen_Images.ipynb"]["DATASETS"]
    assert list(new_sets)[: len(old_sets)] == list(old_sets)            # every earlier set keeps its position
    added = list(new_sets)[len(old_sets):]
    assert added == [f"{s}_redraw" for s in ("five_digits_wild", "12_digits_wild", "mixed_wild", "five_captcha",
                                             "mixed_dots")]
    assert all(new_sets[a] == old_sets[a.removesuffix("_redraw")] for a in added)   # same counts and styles
    assert new["3_CRNN.ipynb"]["TRAIN_SETS"] == ["five_digits", "12_digits", "mixed_digits", *added]
    both = PRESETS["release-both"][0]()                                # the same images, both draws trained on
    assert both["1_Gen_Images.ipynb"]["DATASETS"] == new_sets
    hard = [s.removesuffix("_redraw") for s in added]
    assert both["3_CRNN.ipynb"]["TRAIN_SETS"] == ["five_digits", "12_digits", "mixed_digits", *hard, *added]
    with pytest.raises(ValueError, match="draws"):
        _release_digits("twice")


def test_captcha_tail_continues_the_both_draws_candidate_on_the_captchas_at_the_end():
    from digitseq import ROOT
    from digitseq.pipeline import PRESETS

    nb3 = PRESETS["release-captcha-tail"][0]()["3_CRNN.ipynb"]
    assert nb3["TRAIN_SETS"][:2] == ["five_captcha", "five_captcha_redraw"]
    assert (ROOT / nb3["INIT"]).is_file()                             # the committed candidate
    assert nb3["CONFIG"]["epochs"] == 2 and nb3["CONFIG"]["lr"] == 5e-4 and nb3["CONFIG"]["keep"] == "last"
    assert PRESETS["release-both"][0]()["3_CRNN.ipynb"]["CONFIG"]["epochs"] == 10      # not changed by it


def test_fresh_trains_on_the_second_and_third_draws_and_keeps_every_earlier_seed():
    from digitseq.pipeline import PRESETS

    both, fresh = PRESETS["release-both"][0](), PRESETS["release-fresh"][0]()
    old_sets, new_sets = both["1_Gen_Images.ipynb"]["DATASETS"], fresh["1_Gen_Images.ipynb"]["DATASETS"]
    assert list(new_sets)[: len(old_sets)] == list(old_sets)            # every earlier set keeps its position
    added = list(new_sets)[len(old_sets):]
    redraws = [s for s in old_sets if s.endswith("_redraw")]
    assert added == [s.replace("_redraw", "_draw3") for s in redraws]
    assert all(new_sets[a] == old_sets[a.replace("_draw3", "_redraw")] for a in added)
    nb3 = fresh["3_CRNN.ipynb"]
    assert nb3["TRAIN_SETS"] == ["five_digits", "12_digits", "mixed_digits", *redraws, *added]
    assert nb3["INIT"] == "digitseq/weights/digits.pt"
    assert (nb3["CONFIG"]["epochs"], nb3["CONFIG"]["lr"], nb3["CONFIG"]["keep"]) == (5, 1e-3, "last")


def test_zeros_tail_adds_marked_zero_sets_after_every_earlier_one():
    from digitseq.pipeline import PRESETS

    fresh, zeros = PRESETS["release-fresh"][0](), PRESETS["release-zeros"][0]()
    old_sets, new_sets = fresh["1_Gen_Images.ipynb"]["DATASETS"], zeros["1_Gen_Images.ipynb"]["DATASETS"]
    assert list(new_sets)[: len(old_sets)] == list(old_sets)            # every earlier seed stays
    assert {s: new_sets[s][4] for s in list(new_sets)[len(old_sets):]} == {"five_zeros": "zeros",
                                                                          "mixed_zeros": "zeros"}
    nb3 = zeros["3_CRNN.ipynb"]
    assert nb3["TRAIN_SETS"][:2] == ["five_zeros", "mixed_zeros"] and set(nb3["TRAIN_SETS"]) <= set(new_sets)
    assert nb3["INIT"] == "digitseq/weights/digits.pt"
    assert (nb3["CONFIG"]["epochs"], nb3["CONFIG"]["lr"], nb3["CONFIG"]["keep"]) == (2, 5e-4, "last")


def test_tight_tail_is_the_captcha_tail_from_its_weights_with_tight_cuts():
    from digitseq import ROOT
    from digitseq.pipeline import PRESETS

    captcha, tight = PRESETS["release-captcha-tail"][0](), PRESETS["release-tight-tail"][0]()
    assert tight["1_Gen_Images.ipynb"]["DATASETS"] == captcha["1_Gen_Images.ipynb"]["DATASETS"]
    nb3, before = tight["3_CRNN.ipynb"], captcha["3_CRNN.ipynb"]
    assert nb3["TRAIN_SETS"] == before["TRAIN_SETS"]
    assert nb3["INIT"] == "results/digits_captcha_tail/crnn.pt" and (ROOT / nb3["INIT"]).is_file()
    assert nb3["CONFIG"] == {**before["CONFIG"], "tight": 0.3}
    assert "tight" not in before["CONFIG"]


def test_ascii_tight_presets_are_release_ascii_in_two_steps_with_tight_cuts():
    from digitseq import ROOT
    from digitseq.pipeline import NOTEBOOK_OUT, PRESETS, _release_ascii_tight

    release, tail, stage = (PRESETS[p][0]() for p in ("release-ascii", "release-ascii-tight-tail",
                                                      "release-ascii-tight"))
    for params in (tail, stage):   # the same images, sets and network; only notebook 3's start and schedule move
        assert params["1_Gen_Images.ipynb"] == release["1_Gen_Images.ipynb"]
        nb3, before = params["3_CRNN.ipynb"], release["3_CRNN.ipynb"]
        assert nb3["TRAIN_SETS"] == before["TRAIN_SETS"] and nb3["ARCH"] == before["ARCH"]
        assert nb3["CONFIG"]["tight"] == 0.3 and nb3["CONFIG"]["keep"] == "last"
        assert {k: v for k, v in nb3["CONFIG"].items() if k not in ("epochs", "lr", "time_budget", "tight")} == \
            {k: v for k, v in before["CONFIG"].items() if k not in ("epochs", "lr", "time_budget")}
    assert (tail["3_CRNN.ipynb"]["CONFIG"]["epochs"], tail["3_CRNN.ipynb"]["CONFIG"]["lr"]) == (2, 5e-4)
    assert (stage["3_CRNN.ipynb"]["CONFIG"]["epochs"], stage["3_CRNN.ipynb"]["CONFIG"]["lr"]) == (4, 1e-3)
    assert tail["3_CRNN.ipynb"]["RESULTS"] != release["3_CRNN.ipynb"]["RESULTS"]      # the candidate's own file
    assert stage["3_CRNN.ipynb"]["RESULTS"] == release["3_CRNN.ipynb"]["RESULTS"]     # the shipped model's
    for params in (tail, stage):
        assert (ROOT / params["3_CRNN.ipynb"]["INIT"]).is_file()                       # committed weights
    assert "tight" not in release["3_CRNN.ipynb"]["CONFIG"]
    assert len(set(NOTEBOOK_OUT.values())) == len(NOTEBOOK_OUT)                        # no run over another's
    with pytest.raises(ValueError, match="stage"):
        _release_ascii_tight("again")


def test_ascii_redraw_presets_draw_the_training_sets_again_and_keep_every_earlier_seed():
    from digitseq import ROOT
    from digitseq.pipeline import PRESETS, _release_ascii_redraw

    release, stage, redraw = (PRESETS[p][0]() for p in ("release-ascii", "release-ascii-tight", "release-ascii-redraw"))
    before, after = release["1_Gen_Images.ipynb"]["DATASETS"], redraw["1_Gen_Images.ipynb"]["DATASETS"]
    # Notebook 1 seeds a set by its position, so the earlier sets keep theirs: the new ones come after them.
    assert list(after)[:len(before)] == list(before) and all(after[k] == before[k] for k in before)
    assert list(after)[len(before):] == ["train_ascii_redraw", "train_ascii_wild_redraw"]
    assert after["train_ascii_wild_redraw"] == before["train_ascii_wild"]
    nb3 = redraw["3_CRNN.ipynb"]
    assert nb3["TRAIN_SETS"] == ["train_ascii", "train_ascii_wild", "train_ascii_redraw", "train_ascii_wild_redraw"]
    assert nb3["INIT"] == "digitseq/weights/ascii.pt" and nb3["ARCH"] == stage["3_CRNN.ipynb"]["ARCH"]
    assert nb3["RESULTS"] != release["3_CRNN.ipynb"]["RESULTS"]                       # not over the shipped model's
    assert {k: v for k, v in nb3["CONFIG"].items() if k != "time_budget"} == \
        {k: v for k, v in stage["3_CRNN.ipynb"]["CONFIG"].items() if k != "time_budget"}
    # The third draw comes after the second, so the second keeps its seeds; it trains on the third alone.
    draw3 = PRESETS["release-ascii-draw3"][0]()
    sets3 = draw3["1_Gen_Images.ipynb"]["DATASETS"]
    assert list(sets3)[:len(after)] == list(after)
    assert list(sets3)[len(after):] == ["train_ascii_draw3", "train_ascii_wild_draw3"]
    nb3 = draw3["3_CRNN.ipynb"]
    assert nb3["TRAIN_SETS"] == ["train_ascii_draw3", "train_ascii_wild_draw3"]
    assert (ROOT / nb3["INIT"]).is_file() and nb3["INIT"].startswith("results/ascii_redraw_candidate/")
    assert (nb3["CONFIG"]["epochs"], nb3["CONFIG"]["lr"], nb3["CONFIG"]["tight"]) == (3, 5e-4, 0.3)
    assert nb3["RESULTS"] != redraw["3_CRNN.ipynb"]["RESULTS"] != release["3_CRNN.ipynb"]["RESULTS"]
    with pytest.raises(ValueError, match="draw"):
        _release_ascii_redraw("fourth")


def test_ascii_clean_preset_trains_the_release_sets_from_the_second_draws_weights():
    from digitseq import ROOT
    from digitseq.pipeline import PRESETS

    release, stage, clean = (PRESETS[p][0]() for p in ("release-ascii", "release-ascii-tight", "release-ascii-clean"))
    # the same sets and seeds: what changed is the pool they are drawn from (font/fonts.csv)
    assert clean["1_Gen_Images.ipynb"] == release["1_Gen_Images.ipynb"]
    nb3 = clean["3_CRNN.ipynb"]
    assert nb3["TRAIN_SETS"] == ["train_ascii", "train_ascii_wild"]
    assert (ROOT / nb3["INIT"]).is_file() and nb3["INIT"].startswith("results/ascii_redraw_candidate/")
    assert (nb3["CONFIG"]["epochs"], nb3["CONFIG"]["lr"], nb3["CONFIG"]["tight"]) == (3, 5e-4, 0.3)
    assert nb3["ARCH"] == stage["3_CRNN.ipynb"]["ARCH"]
    assert nb3["RESULTS"].startswith("results/ascii_clean_candidate/")


def test_shipping_a_stage_keeps_the_partner_the_replaced_model_named(tmp_path, monkeypatch):
    """Training leaves the partner out of a checkpoint; a release stage that ships reads with the old one's."""
    import json
    import shutil

    import onnx
    import torch

    from digitseq import WEIGHTS_DIR, pipeline
    from digitseq.export import set_metadata
    from digitseq.models import save_checkpoint
    from digitseq.recognize import Recognizer

    weights = tmp_path / "weights"
    weights.mkdir()
    for f in ("digits.pt", "digits.onnx", "digits-h48.onnx"):
        shutil.copy(WEIGHTS_DIR / f, weights / f)
    monkeypatch.setattr(pipeline, "WEIGHTS_DIR", weights)

    def trained(alphabet=None):   # the shipped weights as training writes them: no partner named
        ck = torch.load(WEIGHTS_DIR / "digits.pt", map_location="cpu", weights_only=True)
        ck["preprocess"] = {k: v for k, v in ck["preprocess"].items() if k not in pipeline.PARTNER_KEYS}
        ck["state_dict"] = {k: v + 1 for k, v in ck["state_dict"].items()} if alphabet is None else ck["state_dict"]
        ck["alphabet"] = alphabet or ck["alphabet"]
        out = tmp_path / "new" / "crnn.pt"
        out.parent.mkdir(exist_ok=True)
        save_checkpoint(ck, out)
        proto = onnx.load(str(WEIGHTS_DIR / "digits.onnx"))
        before = {e.key: e.value for e in proto.metadata_props}
        set_metadata(proto, {"preprocess": json.dumps(ck["preprocess"])})
        onnx.save(proto, str(out.with_suffix(".onnx")))
        assert "tta_partner" in before["preprocess"]
        return out, ck

    new, ck = trained()
    assert pipeline.shipped_partner("digits", new) == {"tta_partner": "digits-h48"}
    pipeline.ship(new, new.with_suffix(".onnx"), "digits")
    shipped = torch.load(weights / "digits.pt", map_location="cpu", weights_only=True)
    assert shipped["preprocess"] == {**ck["preprocess"], "tta_partner": "digits-h48"}
    assert all(torch.equal(shipped["state_dict"][k], v) for k, v in ck["state_dict"].items())   # the new weights
    meta = {e.key: e.value for e in onnx.load(str(weights / "digits.onnx")).metadata_props}
    assert json.loads(meta["preprocess"])["tta_partner"] == "digits-h48"
    assert Recognizer.load(weights / "digits.onnx").partner is not None          # read with it by default
    assert not list(weights.glob(".*.tmp"))
    other, _ = trained(alphabet="0123456789x")          # another alphabet: its partner could not read with it
    assert pipeline.shipped_partner("digits", other) == {}
    assert pipeline.shipped_partner("nothing-shipped", new) == {}
