import csv
import io
import json
import subprocess
import sys

import pytest
import torch
from PIL import Image

from digitseq import ROOT
from digitseq.cli import main
from digitseq.codec import PRINTABLE_ASCII
from digitseq.generate import generate


def run(args, capsys):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(code, err, *needles):
    assert code == 2
    assert err.startswith("digitseq: error:") and err.count("\n") == 1 and "Traceback" not in err
    for n in needles:
        assert n in err


def test_recognize_formats(digits_dir, shipped_model, capsys, tmp_path):
    code, out, err = run(["recognize", digits_dir, "--format", "csv", "--raw"], capsys)
    assert code == 0 and "images/s" in err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == 24 and set(rows[0]) == {"path", "text", "confidence", "raw"}
    assert all(r["text"].isdigit() or r["text"] == "" for r in rows)
    code, out, _ = run(["recognize", digits_dir / "000000.png", "--format", "json", "--beam-width", "4"], capsys)
    assert json.loads(out)[0]["path"].endswith("000000.png")
    target = tmp_path / "out.txt"
    assert run(["recognize", digits_dir / "000001.png", "--output", target], capsys)[0] == 0
    assert target.read_text().count("\n") == 1
    code, _, err = run(["recognize", digits_dir / "000001.png", "--output", target], capsys)
    assert_one_line_error(code, err, "--force")


def test_recognize_goes_on_past_bad_files(tmp_path, shipped_model, capsys):
    Image.new("L", (120, 40), 255).save(tmp_path / "ok.png")
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    (tmp_path / "empty.jpg").write_bytes(b"")
    Image.new("L", (1, 1)).save(tmp_path / "tiny.png")
    Image.new("L", (20000, 30), 255).save(tmp_path / "wide.png")
    code, out, err = run(["recognize", tmp_path], capsys)
    assert code == 1                                    # some files failed: a script can tell, the rest are there
    assert len(out.strip().splitlines()) == 3
    assert "broken.png" in err and "empty.jpg" in err and "2 failed" in err


def test_evaluate_reports_every_metric(digits_dir, shipped_model, capsys, tmp_path):
    target = tmp_path / "m.json"
    code, out, _ = run(["evaluate", digits_dir, "--json", target, "--errors", "3"], capsys)
    assert code == 0 and "sequence_accuracy" in out
    report = json.loads(target.read_text())
    for key in ("n", "sequence_accuracy", "char_accuracy", "cer", "char_precision", "char_recall", "char_f1",
                "by_length"):
        assert key in report
    assert report["n"] == 24 and report["sequence_accuracy"] >= 0.9


def test_train_on_a_csv_then_recognize_with_it(digits_dir, capsys, tmp_path):
    csv_path = tmp_path / "train.csv"
    csv_path.write_text((digits_dir / "labels.csv").read_text().replace("filename,label", "filename,words"))
    out = tmp_path / "model"
    code, stdout, err = run(["train", csv_path, "--images", digits_dir, "--val", digits_dir, "--out", out,
                             "--epochs", "1", "--batch-size", "8"], capsys)
    assert code == 0, err
    assert (out / "crnn.pt").is_file() and (out / "last.pt").is_file()
    code, _, err = run(["train", digits_dir, "--val", digits_dir, "--out", out, "--epochs", "1"], capsys)
    assert_one_line_error(code, err, "exists", "--force")
    code, stdout, _ = run(["recognize", digits_dir / "000000.png", "--model", out / "crnn.pt"], capsys)
    assert code == 0 and stdout.startswith(str(digits_dir / "000000.png"))


def test_train_tight_is_a_share_and_is_recorded(digits_dir, capsys, tmp_path):
    common = ["--val", digits_dir, "--epochs", "1", "--batch-size", "8"]
    with pytest.raises(SystemExit) as exc:
        run(["train", digits_dir, *common, "--tight", "1.5", "--out", tmp_path / "bad"], capsys)
    assert exc.value.code == 2 and "between 0 and 1" in capsys.readouterr().err and not (tmp_path / "bad").exists()
    code, _, err = run(["train", digits_dir, *common, "--tight", "0.3", "--out", tmp_path / "ok"], capsys)
    assert code == 0, err
    assert torch.load(tmp_path / "ok" / "crnn.pt", weights_only=True)["train"]["config"]["tight"] == 0.3


def test_train_width_scale_is_a_range_and_is_recorded(digits_dir, capsys, tmp_path):
    common = ["--val", digits_dir, "--epochs", "1", "--batch-size", "8"]
    for bad in ["1.2,0.8", "0.6", "a,b"]:
        with pytest.raises(SystemExit) as exc:
            run(["train", digits_dir, *common, "--width-scale", bad, "--out", tmp_path / "bad"], capsys)
        assert exc.value.code == 2 and "LOW" in capsys.readouterr().err and not (tmp_path / "bad").exists()
    code, _, err = run(["train", digits_dir, *common, "--width-scale", "0.6,1.25", "--out", tmp_path / "ok"], capsys)
    assert code == 0, err
    config = torch.load(tmp_path / "ok" / "crnn.pt", weights_only=True)["train"]["config"]
    assert tuple(config["width_scale"]) == (0.6, 1.25)


def test_train_reads_several_sources_cropped_as_recognition_will(digits_dir, capsys, tmp_path, monkeypatch):
    """Fine-tuning crops training and validation images to their text line when the --init model was trained so
    (recognition will crop them); --no-textline does not, and the checkpoint says which. Before, the CLI trained on
    uncropped images while the checkpoint said "cropped"."""
    import digitseq.textline

    shapes = []

    def crop_to_text(grey, **options):
        shapes.append(grey.shape)
        return grey[2:-2]

    monkeypatch.setattr(digitseq.textline, "crop_to_text", crop_to_text)
    common = ["--val", digits_dir, "--init", "digits", "--epochs", "1", "--batch-size", "8", "--lr", "1e-9",
              "--keep", "last"]
    code, _, err = run(["train", digits_dir, digits_dir, *common, "--out", tmp_path / "on"], capsys)
    assert code == 0, err
    assert len(shapes) == 3 * 24                          # both training sources and the validation set
    assert torch.load(tmp_path / "on" / "crnn.pt", weights_only=True)["preprocess"] == {"textline": True, "margin": 0}
    shapes.clear()
    code, _, err = run(["train", digits_dir, *common, "--no-textline", "--out", tmp_path / "off"], capsys)
    assert code == 0, err
    assert not shapes
    assert torch.load(tmp_path / "off" / "crnn.pt", weights_only=True)["preprocess"] == {"textline": False, "margin": 0}
    code, _, err = run(["train", digits_dir, digits_dir, "--images", digits_dir, *common, "--out", tmp_path / "x"],
                       capsys)
    assert_one_line_error(code, err, "--images goes with one data source")


def test_password_alphabet_fine_tuned_from_the_digit_model(tmp_path, shipped_model, capsys):
    """The non-digit proof at toy size: printable-ASCII passwords, --init from the digit model."""
    data = tmp_path / "pw"
    generate(data, 16, min_length=6, max_length=12, alphabet=PRINTABLE_ASCII, workers=1, progress=False)
    out = tmp_path / "pw_model"
    code, _, err = run(["train", data, "--val", data, "--out", out, "--init", shipped_model,
                        "--alphabet", PRINTABLE_ASCII, "--epochs", "1", "--batch-size", "8"], capsys)
    assert code == 0, err
    ckpt = torch.load(out / "crnn.pt", weights_only=True)
    assert ckpt["alphabet"] == PRINTABLE_ASCII
    code, out_text, _ = run(["evaluate", data, "--model", out / "crnn.pt"], capsys)
    assert code == 0 and "char_f1" in out_text


def test_train_widens_a_model_with_channels_and_refuses_to_narrow_it(digits_dir, capsys, tmp_path):
    out = tmp_path / "wide"
    hidden = torch.load(ROOT / "digitseq" / "weights" / "digits.pt", weights_only=True)["arch"]["rnn_hidden"]
    code, _, err = run(["train", digits_dir, "--val", digits_dir, "--out", out, "--init", "digits",
                        "--channels", "16,32,64,160", "--rnn-hidden", str(hidden + 32), "--keep", "last",
                        "--epochs", "1", "--batch-size", "8", "--lr", "1e-9"], capsys)
    assert code == 0, err
    ckpt = torch.load(out / "crnn.pt", weights_only=True)
    assert ckpt["arch"]["channels"] == [16, 32, 64, 160] and ckpt["arch"]["rnn_hidden"] == hidden + 32
    assert ckpt["train"]["kept"] == "last epoch (1)"
    code, stdout, _ = run(["evaluate", digits_dir, "--model", out / "crnn.pt"], capsys)
    assert code == 0 and float(stdout.split("sequence_accuracy")[1].split()[0]) >= 0.9   # the digit model's function
    code, _, err = run(["train", digits_dir, "--val", digits_dir, "--out", tmp_path / "narrow", "--init", "digits",
                        "--channels", "8,32,64,128", "--epochs", "1"], capsys)
    assert_one_line_error(code, err, "only be widened")
    code, _, err = run(["train", digits_dir, "--val", digits_dir, "--out", tmp_path / "small", "--init", "digits",
                        "--rnn-hidden", str(hidden - 8), "--epochs", "1"], capsys)
    assert_one_line_error(code, err, "can only be widened")
    with pytest.raises(SystemExit) as exc:
        run(["train", digits_dir, "--val", digits_dir, "--out", tmp_path / "x", "--channels", "8,9"], capsys)
    assert exc.value.code == 2 and "four positive integers" in capsys.readouterr().err


@pytest.mark.parametrize("case", ["corrupt", "other_alphabet", "missing_column", "no_images", "missing_model"])
def test_bad_inputs_give_one_line_and_exit_2(case, tmp_path, digits_dir, shipped_model, capsys):
    if case == "corrupt":
        bad = tmp_path / "bad.pt"
        bad.write_bytes(shipped_model.read_bytes()[:1000])
        args, needles = ["recognize", digits_dir, "--model", bad], ["bad.pt", "not a readable checkpoint"]
    elif case == "other_alphabet":
        generate(tmp_path, 2, alphabet="AB", workers=1, progress=False)
        args, needles = ["evaluate", tmp_path], ["outside the alphabet"]
    elif case == "missing_column":
        (tmp_path / "labels.csv").write_text("name,label\na.png,1\n")
        args, needles = ["evaluate", tmp_path], ["missing column 'filename'"]
    elif case == "no_images":
        args, needles = ["recognize", tmp_path], ["no images found"]
    else:
        args, needles = ["recognize", digits_dir, "--model", tmp_path / "nope.pt"], ["nope.pt", "not found"]
    code, _, err = run(args, capsys)
    assert_one_line_error(code, err, *needles)


def test_module_entry_point_has_no_traceback(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "digitseq", "evaluate", str(tmp_path)], capture_output=True,
                          text=True, cwd=ROOT)
    assert proc.returncode == 2 and proc.stderr.strip() == f"digitseq: error: {tmp_path}: no labels.csv in this folder"


def test_python_api_accepts_paths_pil_and_arrays(digits_dir, shipped_model):
    import numpy as np

    from digitseq import Recognizer

    rec = Recognizer.load()
    path = digits_dir / "000003.png"
    a = rec.predict(path)
    b = rec.predict(Image.open(path))
    c = rec.predict(np.asarray(Image.open(path)))
    assert a.text == b.text == c.text and 0 <= a.confidence <= 1
    many = rec.predict([path, Image.open(path)], raw=True)
    assert len(many) == 2 and many[0].raw and rec.codec.blank_symbol in many[0].raw


def test_recognize_writes_csv_json_and_jsonl_to_pipes(digits_dir, capsys, tmp_path):
    code, out, err = run(["recognize", digits_dir, "--format", "csv", "--output", "-"], capsys)
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and len(rows) == 24 and "images/s" in err and "images/s" not in out
    code, out, _ = run(["recognize", digits_dir, "--format", "jsonl"], capsys)
    lines = [json.loads(line) for line in out.splitlines()]
    assert [r["text"] for r in lines] == [r["text"] for r in rows]
    code, out, _ = run(["recognize", digits_dir, "--format", "json", "--raw"], capsys)
    assert [r["path"] for r in json.loads(out)] == [r["path"] for r in rows] and "raw" in json.loads(out)[0]


def test_overwrite_guard_is_for_regular_files_only(digits_dir, capsys, tmp_path):
    image = digits_dir / "000000.png"
    assert run(["recognize", image, "--format", "csv", "--output", "/dev/null"], capsys)[0] == 0
    target = tmp_path / "new" / "out.csv"
    assert run(["recognize", image, "--format", "csv", "--output", target], capsys)[0] == 0
    assert target.read_text().startswith("path,text,confidence\n")
    assert_one_line_error(*run(["recognize", image, "--output", target], capsys)[::2], "exists", "--force")
    assert run(["recognize", image, "--output", target, "--force"], capsys)[0] == 0
    assert_one_line_error(*run(["recognize", image, "--output", tmp_path], capsys)[::2], "is a folder")


def test_output_paths_that_cannot_be_made_give_one_line_before_the_work(digits_dir, capsys, tmp_path):
    (tmp_path / "afile").write_text("")
    image = digits_dir / "000000.png"
    assert_one_line_error(*run(["recognize", image, "--output", tmp_path / "afile" / "sub" / "o.csv"], capsys)[::2],
                          "cannot create its folder")
    code, out, err = run(["evaluate", digits_dir, "--json", tmp_path / "afile" / "m.json"], capsys)
    assert_one_line_error(code, err, "cannot create its folder")
    assert out == ""                                # refused before evaluating, not after


def test_file_names_that_are_not_utf8_are_written_as_their_bytes(digits_dir, capsys, tmp_path):
    import os
    import shutil

    folder = tmp_path / "latin1"
    folder.mkdir()
    shutil.copy(digits_dir / "000000.png", folder / "b.png")
    shutil.copy(digits_dir / "000000.png", os.fsdecode(os.fsencode(folder) + b"/caf\xe9.png"))
    assert run(["recognize", folder, "--format", "csv", "--output", tmp_path / "o.csv"], capsys)[0] == 0
    rows = (tmp_path / "o.csv").read_bytes().splitlines()      # the header and both files, the name as on disk
    assert len(rows) == 3 and any(r.startswith(os.fsencode(folder) + b"/caf\xe9.png,") for r in rows)
    proc = subprocess.run([sys.executable, "-m", "digitseq", "recognize", str(folder), "--tta", "off"],
                          capture_output=True, env={**os.environ, "PYTHONIOENCODING": "utf-8"}, cwd=ROOT)
    assert proc.returncode == 0 and b"caf\xe9.png\t" in proc.stdout and proc.stdout.count(b"\n") == 2


def test_a_stray_quote_in_labels_gives_the_line_it_starts_on(digits_dir, capsys, tmp_path):
    rows = ["filename,label", '000000.png,"1'] + ["000000.png,1"] * 20000
    (tmp_path / "labels.csv").write_text("\n".join(rows) + "\n")
    code, _, err = run(["evaluate", tmp_path, "--images", digits_dir], capsys)
    assert_one_line_error(code, err, "labels.csv: line 2:", "unclosed quote")


def test_negative_error_counts_are_refused(digits_dir, capsys):
    with pytest.raises(SystemExit) as exc:
        run(["evaluate", digits_dir, "--errors", "-1"], capsys)
    assert exc.value.code == 2 and "must be >= 0" in capsys.readouterr().err


@pytest.mark.parametrize("command", [["export", "--onnx", "x.onnx"], ["train", ".", "--val", ".", "--out", "r"]])
def test_training_commands_without_torch_say_what_to_install(command, tmp_path):
    code = ("import sys; sys.modules['torch'] = None\n"     # as in the runtime install, where torch is absent
            "from digitseq.cli import main; sys.exit(main(sys.argv[1:]))")
    proc = subprocess.run([sys.executable, "-c", code, *command], capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert proc.stderr.strip() == (f"digitseq: error: {command[0]} needs torch, which the runtime install leaves "
                                   "out: pip install 'digitseq[train]'")


def test_train_keeps_every_file_it_wrote_and_resumes_only_what_it_can(digits_dir, capsys, tmp_path, monkeypatch):
    from interrupts import interrupt_at

    import digitseq.train as train_mod

    tiny = ["--channels", "8,16,16,16", "--rnn-hidden", "16", "--batch-size", "8"]
    real = interrupt_at(monkeypatch, 2)
    run_dir = tmp_path / "run"
    code, _, err = run(["train", digits_dir, "--val", digits_dir, "--out", run_dir, "--epochs", "2", *tiny], capsys)
    assert code == 130 and (run_dir / "last.pt").is_file() and not (run_dir / "crnn.pt").exists()
    monkeypatch.setattr(train_mod, "ctc_loss", real)
    # The same command again, without --resume: the interrupted run's last.pt is not overwritten.
    again = ["train", digits_dir, "--val", digits_dir, "--out", run_dir, "--epochs", "2", *tiny]
    assert_one_line_error(*run(again, capsys)[::2], "last.pt exists", "--force")
    # Resuming into another folder that holds a run: refused too.
    other = tmp_path / "other"
    other.mkdir()
    (other / "last.pt").write_bytes(b"mine")
    assert_one_line_error(*run([*again[:5], other, "--resume", run_dir / "last.pt"], capsys)[::2], "exists")
    # Settings that differ from the run's own are refused; the same ones (the command repeated) are fine.
    assert_one_line_error(*run([*again[:7], "5", "--resume", run_dir / "last.pt"], capsys)[::2],
                          "--resume continues the run with its own settings (--epochs 2), not 5")
    assert_one_line_error(*run([*again, "--tight", "0.3", "--resume", run_dir / "last.pt"], capsys)[::2],
                          "(--tight 0.0), not 0.3")
    assert_one_line_error(*run([*again, "--time-budget", "5", "--resume", run_dir / "last.pt"], capsys)[::2],
                          "(--time-budget none), not 5")
    code, out, err = run([*again, "--resume", run_dir / "last.pt"], capsys)
    assert code == 0 and "saved" in out, err
    # A finished run has nothing to resume: say how to train further instead of claiming a save.
    assert_one_line_error(*run([*again, "--resume", run_dir / "last.pt"], capsys)[::2],
                          "that run has finished", f"--init {run_dir / 'last.pt'}")


def test_train_time_budget_is_in_minutes_and_kept_for_a_resume(digits_dir, capsys, tmp_path):
    from digitseq.models import load_checkpoint

    args = ["train", digits_dir, "--val", digits_dir, "--out", tmp_path / "r", "--epochs", "1", "--batch-size", "8",
            "--channels", "8,16,16,16", "--rnn-hidden", "16", "--time-budget", "2.5"]
    code, out, err = run(args, capsys)
    assert code == 0, err
    assert load_checkpoint(tmp_path / "r" / "crnn.pt")["train"]["config"]["time_budget"] == 150


@pytest.mark.parametrize("args, needle", [(["--lr", "-1"], "--lr: must be a positive number"),
                                          (["--lr", "nan"], "--lr: must be a positive number"),
                                          (["--time-budget", "0"], "--time-budget: must be a positive number"),
                                          (["--workers", "-1"], "--workers: must be >= 0"),
                                          (["--seed", "-1"], "--seed: must be >= 0")])
def test_train_refuses_bad_numbers_before_training(digits_dir, capsys, tmp_path, args, needle):
    with pytest.raises(SystemExit) as exc:
        run(["train", digits_dir, "--val", digits_dir, "--out", tmp_path / "r", *args], capsys)
    assert exc.value.code == 2 and needle in capsys.readouterr().err


def test_train_out_through_a_file_is_refused_before_training(digits_dir, capsys, tmp_path):
    (tmp_path / "afile").write_text("")
    code, out, err = run(["train", digits_dir, "--val", digits_dir, "--out", tmp_path / "afile", "--epochs", "1"],
                         capsys)
    assert_one_line_error(code, err, "is a file, not a folder")
    assert out == ""
    code, out, err = run(["train", digits_dir, "--val", digits_dir, "--out", tmp_path / "afile" / "run" / "deeper",
                          "--epochs", "1"], capsys)                            # a file further up, too
    assert_one_line_error(code, err, "afile is a file, not a folder")


def test_generate_does_not_draw_over_files_of_ones_own(tmp_path, capsys):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "000000.png").write_bytes(b"my photo")
    assert_one_line_error(*run(["generate", mine, "--count", "3"], capsys)[::2], "000000.png exists", "--force")
    assert (mine / "000000.png").read_bytes() == b"my photo"
    assert run(["generate", tmp_path / "new", "--count", "2"], capsys)[0] == 0


def test_labels_lose_the_spaces_around_them_but_keep_their_zeros(tmp_path):
    from digitseq.image import read_labels

    Image.new("L", (40, 20), 255).save(tmp_path / "a.png")
    (tmp_path / "labels.csv").write_text("filename , label\na.png , 00427 \n")
    assert read_labels(tmp_path, alphabet="0123456789").labels == ["00427"]


def test_pretrain_out_is_a_file_or_a_folder_and_overwrites_nothing(tmp_path, capsys):
    data = tmp_path / "single"
    generate(data, 20, min_length=1, workers=1, progress=False)
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "last.pt").write_text("someone's state")
    code, _, err = run(["pretrain", data, "--val", data, "--out", run_dir / "cnn.pt", "--epochs", "1"], capsys)
    assert_one_line_error(code, err, "last.pt exists")
    assert (run_dir / "last.pt").read_text() == "someone's state"
    code, out, _ = run(["pretrain", data, "--val", data, "--out", tmp_path / "folder", "--epochs", "1"], capsys)
    assert code == 0 and (tmp_path / "folder" / "cnn.pt").is_file() and (tmp_path / "folder" / "last.pt").is_file()
    (tmp_path / "file").write_text("x")
    code, _, err = run(["pretrain", data, "--val", data, "--out", tmp_path / "file" / "cnn.pt"], capsys)
    assert_one_line_error(code, err, "is a file, not a folder")
    with pytest.raises(SystemExit) as exc:
        run(["pretrain", data, "--val", data, "--out", tmp_path / "x", "--lr", "-1"], capsys)
    assert exc.value.code == 2 and "positive" in capsys.readouterr().err
