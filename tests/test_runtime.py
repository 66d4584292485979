"""The torch-free runtime: models by name, the read-ahead pipeline, text-line switch, no torch imported."""

import json
import os
import shutil
import subprocess
import sys
import threading
import time
import types

import numpy as np
import pytest
from PIL import Image

import digitseq.image as image_mod
import digitseq.recognize as recognize_mod
from digitseq import ROOT
from digitseq.cli import main
from digitseq.errors import CheckpointError
from digitseq.image import iter_loaded, preprocess
from digitseq.recognize import Recognizer, resolve_model

pytest.importorskip("onnxruntime")


def test_onnx_recognition_imports_no_torch(digits_dir, tmp_path):
    code = (
        "import sys\n"
        "import digitseq\n"
        f"p = digitseq.Recognizer.load().predict({str(digits_dir / '000000.png')!r})\n"
        "assert isinstance(p.text, str) and 0 <= p.confidence <= 1\n"
        "from digitseq.cli import main\n"
        f"assert main(['recognize', {str(digits_dir)!r}, '--format', 'jsonl', '--beam-width', '3']) == 0\n"
        f"assert main(['evaluate', {str(digits_dir)!r}]) == 0\n"
        "heavy = sorted(m for m in ('torch', 'onnx', 'matplotlib') if m in sys.modules)\n"
        "assert not heavy, heavy\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, env=env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count('"text"') == 24 and "sequence_accuracy" in proc.stdout


def test_models_by_name_and_a_clear_error_for_one_not_shipped(tmp_path, monkeypatch, capsys):
    shipped = {p.suffix: p for p in (resolve_model("digits", "onnx")[0], resolve_model("digits", "torch")[0])}
    monkeypatch.setattr(recognize_mod, "WEIGHTS_DIR", tmp_path)
    with pytest.raises(CheckpointError, match="model 'ascii' is not shipped"):
        Recognizer.load("ascii")
    assert main(["recognize", str(ROOT / "README.md"), "--model", "ascii"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("digitseq: error: model 'ascii' is not shipped") and err.count("\n") == 1
    shutil.copy(shipped[".pt"], tmp_path / "ascii.pt")
    assert resolve_model("ascii") == (tmp_path / "ascii.pt", "torch")     # only a .pt: torch
    shutil.copy(shipped[".onnx"], tmp_path / "ascii.onnx")
    assert resolve_model("ascii") == (tmp_path / "ascii.onnx", "onnx")   # auto prefers the .onnx
    assert resolve_model("ascii", "torch") == (tmp_path / "ascii.pt", "torch")
    assert Recognizer.load("ascii").backend == "onnx"


def test_model_paths_and_backends(tmp_path):
    pt = resolve_model("digits", "torch")[0]
    assert resolve_model(pt) == (pt, "torch")
    assert resolve_model(pt, "onnx") == (pt.with_suffix(".onnx"), "onnx")
    with pytest.raises(CheckpointError, match="not found"):
        resolve_model(tmp_path / "nope.onnx")
    with pytest.raises(CheckpointError, match="shipped model names: digits, ascii"):
        resolve_model("digitz")
    with pytest.raises(CheckpointError, match="--backend onnx"):
        resolve_model(pt.with_suffix(".onnx"), "torch")


def test_predict_files_keeps_input_order_across_windows_and_bad_files(digits_dir, tmp_path):
    rng = np.random.default_rng(0)
    sources = sorted(digits_dir.glob("*.png"))
    paths, bad = [], set()
    for i in range(70):
        if i % 9 == 4:
            p = tmp_path / f"{i:03d}.png"
            p.write_bytes(b"not a png")
            bad.add(i)
        else:
            img = Image.open(sources[i % len(sources)])
            scale = rng.uniform(0.6, 2.5)
            p = tmp_path / f"{i:03d}.{'jpg' if i % 5 == 0 else 'png'}"
            img.convert("RGB").resize((max(8, int(img.width * scale)), max(8, int(img.height * scale)))).save(p)
        paths.append(p)
    rec = Recognizer.load()
    one_by_one = [rec.predict(p).text for i, p in enumerate(paths) if i not in bad]
    alone = list(rec.predict_files(paths, batch_size=1, window=8))
    assert [o[0] for o in alone] == paths
    assert {i for i, (_, pred, err) in enumerate(alone) if pred is None and "not an image" in err} == bad
    assert [pred.text for _, pred, _ in alone if pred is not None] == one_by_one
    # in batches, padding can sway a borderline image (the backward GRU starts in the padding); order must hold
    batched = list(rec.predict_files(paths, batch_size=4, window=16))
    assert [o[0] for o in batched] == paths and [o[2] for o in batched] == [o[2] for o in alone]
    texts = [pred.text for _, pred, _ in batched if pred is not None]
    assert sum(a == b for a, b in zip(texts, one_by_one)) >= 0.9 * len(texts)


def test_read_ahead_is_bounded_and_ordered(monkeypatch):
    loaded = []
    lock = threading.Lock()

    def fake_load(path, height, textline=False, pad_edges=False):
        with lock:
            loaded.append(path)
        return np.full((height, 10), path % 256, dtype=np.uint8)

    monkeypatch.setattr(image_mod, "load", fake_load)
    items = iter_loaded(list(range(1000)), ahead=64, workers=2, chunk=8, processes=False)
    first = next(items)
    time.sleep(0.3)                    # the readers stop once 64 images wait unconsumed
    assert first[0][0, 0] == 0 and len(loaded) <= 64 + 8
    rest = list(items)
    assert len(loaded) == 1000 and [int(a[0, 0]) for a, _ in rest] == [i % 256 for i in range(1, 1000)]


def test_process_readers_give_what_thread_readers_give(digits_dir, tmp_path):
    paths = sorted(digits_dir.glob("*.png"))
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not a png")
    paths = paths[:10] + [bad, tmp_path / "missing.png"] + paths[10:]
    threads = list(iter_loaded(paths, textline=True, workers=2, chunk=3, processes=False))
    procs = list(iter_loaded(paths, textline=True, workers=2, chunk=3, ahead=12, processes=True))
    assert len(procs) == len(paths) > 20
    assert [e for _, e in procs] == [e for _, e in threads]
    assert "not an image" in procs[10][1] and "no such file" in procs[11][1]
    assert all(np.array_equal(a, b) for (a, _), (b, _) in zip(procs, threads) if a is not None)
    assert not image_mod.use_processes(image_mod.PROCESS_MIN_FILES - 1)


@pytest.fixture
def fake_textline(monkeypatch):
    """A stand-in for digitseq.textline.crop_to_text that records its input and keeps the middle half."""
    calls = []

    def crop_to_text(grey, pad_edges=False):
        calls.append(grey)
        h, w = grey.shape
        return grey[h // 4: h - h // 4, :].copy()

    monkeypatch.setitem(sys.modules, "digitseq.textline", types.SimpleNamespace(crop_to_text=crop_to_text))
    return calls


def test_textline_crop_comes_after_grey_and_before_resizing(fake_textline):
    img = Image.new("RGB", (200, 80), (255, 0, 0))
    assert preprocess(img).shape == (32, 80) and not fake_textline
    out = preprocess(img, textline=True)
    grey = fake_textline[0]
    assert grey.dtype == np.uint8 and grey.shape == (80, 200) and int(grey[0, 0]) == 76   # red as grey
    assert out.shape == (32, 160)                                    # the 200×40 crop, resized to height 32


def test_textline_switch_reaches_every_path(digits_dir, fake_textline, capsys, tmp_path):
    path = digits_dir / "000000.png"
    one = ["--tta", "off"]                                           # one reading: only the preprocessing crops
    Recognizer.load(tta="off").predict(path)
    assert len(fake_textline) == 1                                   # the shipped model crops, as it was trained
    Recognizer.load(textline=False, tta="off").predict(path)
    assert len(fake_textline) == 1
    assert main(["recognize", str(path), "--no-textline", *one]) == 0
    assert len(fake_textline) == 1
    assert main(["recognize", str(path), "--textline", *one]) == 0
    assert len(fake_textline) == 2
    assert main(["evaluate", str(digits_dir), "--no-textline", "--json", str(tmp_path / "off.json"), *one]) == 0
    assert len(fake_textline) == 2 and '"textline": false' in (tmp_path / "off.json").read_text()
    assert main(["evaluate", str(digits_dir), "--textline", "--json", str(tmp_path / "m.json"), *one]) == 0
    assert len(fake_textline) == 2 + 24
    assert '"textline": true' in (tmp_path / "m.json").read_text()
    # the second look crops the model's input array again only for a model that reads cropped lines
    Recognizer.load(textline=False, tta="all").predict(path)
    assert len(fake_textline) == 2 + 24
    Recognizer.load(tta="all", partner="off").predict(path)
    assert len(fake_textline) == 2 + 24 + 2 and fake_textline[-1].shape[0] == 32
    # the partner (the second look's second model) reads the model's own crop at its height: no crop of its own
    Recognizer.load(tta="all").predict(path)
    assert len(fake_textline) == 2 + 24 + 2 + 2 and [a.shape[0] == 32 for a in fake_textline[-2:]] == [False, True]
    Recognizer.load(tta="all", textline=False).predict(path)
    assert len(fake_textline) == 2 + 24 + 2 + 2


def test_predict_runs_in_a_two_thread_session_that_gives_the_same_scores(monkeypatch):
    from digitseq.runtime import OnnxModel

    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    net = OnnxModel(resolve_model("digits", "onnx")[0], threads=1)
    alone = net.alone()
    assert alone is not net and alone.threads == 2 and net.alone() is alone   # made once
    calm = net.alone(spinning=False)                                          # a partner's: threads sleep after a run
    spin = "session.intra_op.allow_spinning"
    assert calm is not alone and calm.threads == 2 and net.alone(spinning=False) is calm
    assert calm.session.get_session_options().get_session_config_entry(spin) == "0"
    with pytest.raises(RuntimeError):                                        # the model's own: the default, spinning
        alone.session.get_session_options().get_session_config_entry(spin)
    rec = Recognizer.load()                                                   # the shipped model and its partner
    assert rec._partner(lambda i: None, alone=True).runner is rec.partner.runner.alone(spinning=False)
    x = np.random.default_rng(0).random((3, 1, net.input_height, 64), dtype=np.float32)
    assert np.allclose(net.run(x), alone.run(x), atol=1e-4)
    monkeypatch.setattr(os, "cpu_count", lambda: 1)
    lone = OnnxModel(net.path, threads=1)
    assert lone.alone() is lone                                                # one core: no second session
    rec = Recognizer(net, net.alphabet, net.input_height, net.normalisation, tta="off")
    used = []
    monkeypatch.setattr(alone, "run", lambda x: used.append(x.shape[0]) or net.run(x))
    rec.predict(np.full((32, 80), 255, np.uint8))
    rec.predict([np.full((32, 80), 255, np.uint8)] * 2)
    assert used == [1, 2]
    # by default a blank image (nothing read) gets a second look, three more readings, in the same session
    used.clear()
    Recognizer(net, net.alphabet, net.input_height, net.normalisation).predict(np.full((32, 80), 255, np.uint8))
    assert used == [1, 3]


def test_margin_comes_from_the_model_and_reaches_every_path(digits_dir, monkeypatch, tmp_path, capsys):
    """A model's ``preprocess.margin``: columns of background after each image, a lone one too."""
    from digitseq.runtime import OnnxModel

    net = OnnxModel(resolve_model("digits", "onnx")[0], threads=1)
    monkeypatch.setattr(os, "cpu_count", lambda: 1)                  # predict uses this session itself
    widths = []
    real = net.run
    monkeypatch.setattr(net, "run", lambda x: widths.append(x.shape[3]) or real(x))
    meta = {"preprocess": {"textline": False, "margin": 7}}
    # one reading an image: blank images would get a second look (tests/test_tta.py), which adds reads
    rec = Recognizer(net, net.alphabet, net.input_height, net.normalisation, checkpoint=meta, tta="off")
    assert rec.margin == 7
    plain = Recognizer(net, net.alphabet, net.input_height, net.normalisation, tta="off")
    assert plain.margin == 0                                          # older models: none
    img = np.full((32, 80), 255, np.uint8)
    rec.predict(img)
    rec.predict([img, img[:, :60]])
    list(rec.predict_files(sorted(digits_dir.glob("*.png"))[:1]))
    plain.predict(img)
    first = rec.prepare(sorted(digits_dir.glob("*.png"))[0]).shape[1]
    assert widths == [80 + 7, 80 + 7, first + 7, 80]
    widths.clear()                                    # a second look keeps the margin: 80 → 92 and 106 wide
    Recognizer(net, net.alphabet, net.input_height, net.normalisation, checkpoint=meta).predict(img)
    assert widths == [80 + 7, 106 + 7]
    assert Recognizer.load("digits", backend="onnx", margin=3).margin == 3
    assert Recognizer.load("digits", backend="onnx").margin == 0
    assert main(["evaluate", str(digits_dir), "--margin", "5", "--json", str(tmp_path / "m.json")]) == 0
    report = json.loads((tmp_path / "m.json").read_text())
    assert report["margin"] == 5 and report["batch_size"] == 128
    assert main(["evaluate", str(digits_dir), "--json", str(tmp_path / "d.json")]) == 0
    assert json.loads((tmp_path / "d.json").read_text())["margin"] == 0
    with pytest.raises(SystemExit):
        main(["recognize", str(digits_dir), "--margin", "-1"])
    assert "must be >= 0" in capsys.readouterr().err


def test_a_folder_named_like_a_shipped_model_does_not_shadow_it(tmp_path, monkeypatch, digits_dir, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "digits").mkdir()                   # the user's own data, say
    assert resolve_model(None) == resolve_model("digits") and resolve_model("digits")[0].parent.name == "weights"
    assert main(["recognize", str(digits_dir / "000000.png")]) == 0
    assert main(["recognize", str(digits_dir / "000000.png"), "--model", "./digits"]) == 2   # as a path: a folder
    assert "expected one .pt checkpoint in this folder" in capsys.readouterr().err


def test_model_files_are_known_by_suffix_in_any_case_or_by_their_first_bytes(tmp_path):
    onnx = resolve_model("digits", "onnx")[0]
    upper = tmp_path / "My.ONNX"
    shutil.copy(onnx, upper)
    assert resolve_model(upper) == (upper, "onnx")
    bare = tmp_path / "model"                       # no suffix: an ONNX protobuf, a torch zip
    shutil.copy(onnx, bare)
    assert resolve_model(bare) == (bare, "onnx")
    shutil.copy(resolve_model("digits", "torch")[0], bare)
    assert resolve_model(bare) == (bare, "torch")
    notes = tmp_path / "notes.txt"
    notes.write_text("not a model")
    with pytest.raises(CheckpointError, match="notes.txt: not a model"):
        resolve_model(notes)
