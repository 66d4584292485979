import json

import pytest
import torch

from digitseq.cli import main
from digitseq.recognize import Recognizer, resolve_model

pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")


def test_export_with_parity_check_and_onnx_backend(tmp_path, digits_dir, shipped_model, capsys):
    target = tmp_path / "m.onnx"
    assert main(["export", "--model", str(shipped_model), "--onnx", str(target), "--check", str(digits_dir)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["check"]["ok"] and report["check"]["identical_strings"] == 24
    assert report["check"]["max_abs_logit_diff"] <= report["check"]["tolerance"]

    torch_rec = Recognizer.load(shipped_model)
    onnx_rec = Recognizer.load(target)
    assert (torch_rec.backend, onnx_rec.backend) == ("torch", "onnx")
    assert onnx_rec.alphabet == torch_rec.alphabet and onnx_rec.input_height == torch_rec.input_height
    paths = sorted(digits_dir.glob("*.png"))
    assert [p.text for p in onnx_rec.predict(paths)] == [p.text for p in torch_rec.predict(paths)]

    assert main(["recognize", str(paths[0]), "--backend", "onnx", "--model", str(target)]) == 0
    assert main(["export", "--onnx", str(target)]) == 2            # exists, no --force
    assert "--force" in capsys.readouterr().err


def test_textline_setting_travels_from_checkpoint_to_onnx(tmp_path, shipped_model, capsys):
    ckpt = torch.load(shipped_model, weights_only=True)
    ckpt.pop("preprocess", None)
    old = tmp_path / "old.pt"
    torch.save(ckpt, old)
    assert Recognizer.load(old).textline is False                    # old checkpoints: no "preprocess" key
    ckpt["preprocess"] = {"textline": True}
    pt = tmp_path / "tl.pt"
    torch.save(ckpt, pt)
    assert main(["export", "--model", str(pt), "--onnx", str(tmp_path / "tl.onnx")]) == 0
    capsys.readouterr()
    from digitseq.runtime import OnnxModel

    assert OnnxModel(tmp_path / "tl.onnx").preprocess == {"textline": True}
    assert Recognizer.load(tmp_path / "tl.onnx").textline is True
    assert Recognizer.load(pt).textline is True
    assert Recognizer.load(tmp_path / "tl.onnx", textline=False).textline is False
    shipped = OnnxModel(resolve_model("digits", "onnx")[0])          # the shipped pair agree
    assert shipped.preprocess.get("textline", False) is Recognizer.load(shipped_model).textline is True


def test_int8_export_is_written_with_metadata_and_checked(tmp_path, digits_dir, shipped_model, capsys):
    target = tmp_path / "m.onnx"
    assert main(["export", "--model", str(shipped_model), "--onnx", str(target), "--int8",
                 "--check", str(digits_dir)]) == 0
    report = json.loads(capsys.readouterr().out)
    q = tmp_path / "m.int8.onnx"
    assert report["int8"]["onnx"] == str(q) and q.stat().st_size < target.stat().st_size
    check = report["int8"]["check"]
    assert 0 <= check["identical_strings"] <= 24 and check["tolerance"] is None
    assert check["ok"] == (check["identical_strings"] == check["n"])      # judged by its strings alone
    assert "digits-h48.onnx" in report["partner"]       # the shipped model's partner, not beside the copy
    rec = Recognizer.load(q)
    assert rec.alphabet == "0123456789" and isinstance(rec.predict(sorted(digits_dir.glob("*.png"))[0]).text, str)


def test_shipped_onnx_model_matches_shipped_checkpoint(digits_dir):
    rec = Recognizer.load(backend="onnx")
    assert rec.checkpoint["path"].endswith("digits.onnx")
    paths = sorted(digits_dir.glob("*.png"))[:8]
    assert [p.text for p in rec.predict(paths)] == [p.text for p in Recognizer.load(backend="torch").predict(paths)]


def test_bad_onnx_file(tmp_path, digits_dir, capsys):
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"nope")
    assert main(["recognize", str(digits_dir), "--backend", "onnx", "--model", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "bad.onnx" in err and "not a readable ONNX model" in err and err.count("\n") == 1


def test_parity_check_fails_for_an_onnx_file_of_other_weights(tmp_path, digits_dir, shipped_model):
    from digitseq.errors import DigitseqError
    from digitseq.export import LOGIT_TOLERANCE, export_onnx, parity_check

    ckpt = torch.load(shipped_model, weights_only=True)
    ckpt["state_dict"] = {k: (v.flip(0) if k.startswith("head") or "rnn" in k else v)
                          for k, v in ckpt["state_dict"].items()}
    other = tmp_path / "other.pt"
    torch.save(ckpt, other)
    export_onnx(other, tmp_path / "other.onnx")
    report = parity_check(shipped_model, tmp_path / "other.onnx", digits_dir, strict=False)
    assert not report["ok"] and report["n"] == 24 and report["max_abs_logit_diff"] > LOGIT_TOLERANCE
    with pytest.raises(DigitseqError, match="parity check failed"):
        parity_check(shipped_model, tmp_path / "other.onnx", digits_dir)


def test_export_refuses_early_and_leaves_nothing_behind(tmp_path, shipped_model, capsys):
    def run(*args):
        code = main(["export", *map(str, args)])
        err = capsys.readouterr().err
        assert code == 2 and err.startswith("digitseq: error:") and err.count("\n") == 1, err
        return err

    target = tmp_path / "e" / "m.onnx"
    assert "no such file or folder" in run("--model", shipped_model, "--onnx", target, "--check", tmp_path / "nope")
    assert not target.exists()              # the retry is not refused for a file the failed export left
    onnx_model = resolve_model("digits", "onnx")[0]
    assert "an ONNX model already" in run("--model", onnx_model, "--onnx", target)
    (tmp_path / "file").write_text("x")
    assert "cannot create its folder" in run("--model", shipped_model, "--onnx", tmp_path / "file" / "m.onnx")


def test_a_model_copied_without_its_partner_reads_without_it_and_says_so(tmp_path, digits_dir, capsys):
    import shutil

    onnx_model = resolve_model("digits", "onnx")[0]
    shutil.copy(onnx_model, tmp_path / "d.onnx")
    rec = Recognizer.load(tmp_path / "d.onnx")
    assert rec.partner is None and rec.partner_missing == str(tmp_path / "digits-h48.onnx")
    assert Recognizer.load(tmp_path / "d.onnx", partner="off").partner_missing is None
    assert main(["recognize", str(digits_dir), "--model", str(tmp_path / "d.onnx")]) == 0
    assert "digitseq: note: the model's partner" in capsys.readouterr().err
    shutil.copy(onnx_model.with_name("digits-h48.onnx"), tmp_path)
    assert Recognizer.load(tmp_path / "d.onnx").partner is not None
