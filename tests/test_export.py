import json

import pytest

from digitseq.cli import main
from digitseq.recognize import Recognizer

pytest.importorskip("onnxruntime")


def test_export_with_parity_check_and_onnx_backend(tmp_path, digits_dir, shipped_model, capsys):
    target = tmp_path / "m.onnx"
    assert main(["export", "--model", str(shipped_model), "--onnx", str(target), "--check", str(digits_dir)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["check"]["ok"] and report["check"]["identical_strings"] == 24
    assert report["check"]["max_abs_logit_diff"] <= report["check"]["tolerance"]

    torch_rec = Recognizer.load(shipped_model)
    onnx_rec = Recognizer.load(target, backend="onnx")
    assert onnx_rec.alphabet == torch_rec.alphabet and onnx_rec.input_height == torch_rec.input_height
    paths = sorted(digits_dir.glob("*.png"))
    assert [p.text for p in onnx_rec.predict(paths)] == [p.text for p in torch_rec.predict(paths)]

    assert main(["recognize", str(paths[0]), "--backend", "onnx", "--model", str(target)]) == 0
    assert main(["export", "--onnx", str(target)]) == 2            # exists, no --force
    assert "--force" in capsys.readouterr().err


def test_shipped_onnx_model_matches_shipped_checkpoint(digits_dir, shipped_model):
    rec = Recognizer.load(backend="onnx")
    assert rec.checkpoint["path"].endswith("crnn.onnx")
    paths = sorted(digits_dir.glob("*.png"))[:8]
    assert [p.text for p in rec.predict(paths)] == [p.text for p in Recognizer.load().predict(paths)]


def test_bad_onnx_file(tmp_path, capsys):
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"nope")
    assert main(["recognize", str(tmp_path), "--backend", "onnx", "--model", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "bad.onnx" in err or "no images" in err
