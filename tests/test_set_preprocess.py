"""tools/set_preprocess.py: how a model is read changes in its .pt and its .onnx alike; its weights do not."""

import json
import shutil
import sys
from pathlib import Path

import onnx
import torch

from digitseq import WEIGHTS_DIR
from digitseq.recognize import Recognizer

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
import set_preprocess  # noqa: E402


def test_set_preprocess_changes_both_files_and_nothing_else(tmp_path, capsys):
    pt, on = tmp_path / "m.pt", tmp_path / "m.onnx"
    shutil.copy(WEIGHTS_DIR / "digits.pt", pt)
    shutil.copy(WEIGHTS_DIR / "digits.onnx", on)
    before = torch.load(pt, weights_only=True)
    graph_before = onnx.load(str(on)).graph.SerializeToString()
    assert set_preprocess.main([str(pt), "tta_readings=seven", "margin=8"]) == 0
    after = torch.load(pt, weights_only=True)
    assert after["preprocess"] == {**before["preprocess"], "tta_readings": "seven", "margin": 8}
    assert set(after) == set(before)
    assert all(torch.equal(after["state_dict"][k], v) for k, v in before["state_dict"].items())
    model = onnx.load(str(on))
    meta = {e.key: e.value for e in model.metadata_props}
    assert json.loads(meta["preprocess"]) == after["preprocess"]
    assert model.graph.SerializeToString() == graph_before and meta["alphabet"] == before["alphabet"]
    for backend, path in (("onnx", on), ("torch", pt)):
        rec = Recognizer.load(path, backend=backend)
        assert (rec.readings, rec.margin) == ("seven", 8)
    assert "wrote" in capsys.readouterr().out


def test_set_preprocess_refuses_bad_input(tmp_path, capsys):
    pt = tmp_path / "m.pt"
    shutil.copy(WEIGHTS_DIR / "digits.pt", pt)
    assert set_preprocess.main([str(tmp_path / "none.pt"), "margin=1"]) == 2
    assert set_preprocess.main([str(pt), "margin"]) == 2
    assert set_preprocess.main([str(pt), "tta_readings=eight"]) == 2
    err = capsys.readouterr().err
    assert "no such file" in err and "expected KEY=VALUE" in err and "readings must be one of" in err
    assert "tta_readings" not in torch.load(pt, weights_only=True)["preprocess"]      # nothing was written
