"""The built wheel is the light runtime: it installs without torch and recognises with its own weights."""

import importlib.util
import os
import shutil
import subprocess
import sys
import venv

import pytest
from PIL import Image

from digitseq import ROOT

SOURCES = ["pyproject.toml", "README.md", "requirements.txt", "requirements-train.txt", "requirements-dev.txt",
           "early_stop.py", "random_seed.py", "digitseq"]


def _run(cmd, **kw):
    return subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=900, **kw)


def _why(proc) -> str:
    lines = (proc.stderr or proc.stdout).strip().splitlines()
    return lines[-1] if lines else f"exit status {proc.returncode}"


@pytest.fixture(scope="module")
def runtime_venv(tmp_path_factory):
    """A fresh venv with only the wheel and its runtime dependencies (from the package index)."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    src.mkdir()
    for name in SOURCES:   # build from a copy: nothing is written into the checkout
        (shutil.copytree if (ROOT / name).is_dir() else shutil.copy)(ROOT / name, src / name)
    shutil.rmtree(src / "digitseq" / "__pycache__", ignore_errors=True)
    # with setuptools and wheel at hand, build offline; else let pip fetch them into an isolated build env
    have_backend = importlib.util.find_spec("setuptools") and importlib.util.find_spec("wheel")
    build = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", *(["--no-build-isolation"] if have_backend else []),
                  "-w", tmp / "dist", src])
    wheels = list((tmp / "dist").glob("digitseq-*.whl"))
    if build.returncode != 0 or not wheels:
        pytest.skip(f"cannot build the wheel here: {_why(build)}")
    env_dir = tmp / "venv"
    try:
        venv.EnvBuilder(with_pip=True).create(env_dir)
    except Exception as exc:  # no ensurepip in this Python
        pytest.skip(f"cannot create a venv with pip here: {exc}")
    py = env_dir / "bin" / "python"
    install = _run([py, "-m", "pip", "install", "-q", wheels[0]])
    if install.returncode != 0:
        pytest.skip(f"cannot install the wheel's dependencies here: {_why(install)}")
    return py, wheels[0], tmp


def _clean_env():
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}


def test_wheel_ships_the_weights_and_no_torch_dependency(runtime_venv):
    import zipfile

    _, wheel, _ = runtime_venv
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        meta = z.read(next(n for n in names if n.endswith("METADATA"))).decode()
    assert {f"digitseq/weights/{m}.{x}" for m in ("digits", "ascii") for x in ("onnx", "pt")} <= names
    requires = [ln for ln in meta.splitlines() if ln.startswith("Requires-Dist:")]
    base = [ln for ln in requires if "extra ==" not in ln]
    assert any("onnxruntime" in ln for ln in base) and not any("torch" in ln for ln in base)
    assert any("torch" in ln and "extra == \"train\"" in ln for ln in requires)


def test_installed_runtime_recognises_outside_the_checkout_without_torch(runtime_venv, digits_dir):
    py, _, tmp = runtime_venv
    work = tmp / "elsewhere"
    work.mkdir(exist_ok=True)
    Image.open(digits_dir / "000000.png").save(work / "x.png")
    env = _clean_env()
    code = ("import importlib.util, sys\n"
            "import digitseq\n"
            "p = digitseq.Recognizer.load().predict('x.png')\n"
            "assert importlib.util.find_spec('torch') is None, 'torch is installed'\n"
            "assert 'torch' not in sys.modules\n"
            "assert len(digitseq.Recognizer.load('ascii').alphabet) == 94\n"
            "print(digitseq.__file__)\n"
            "print(p.text)\n")
    proc = _run([py, "-c", code], cwd=work, env=env)
    assert proc.returncode == 0, proc.stderr
    where, text = proc.stdout.split()
    assert str(ROOT) not in where and "site-packages" in where
    assert text.isdigit()
    cli = _run([py.parent / "digitseq", "recognize", "x.png", "--format", "csv", "--output", "-"], cwd=work, env=env)
    assert cli.returncode == 0, cli.stderr
    assert cli.stdout.splitlines()[1].startswith(f"x.png,{text},")
    bad = _run([py.parent / "digitseq", "recognize", "x.png", "--backend", "torch"], cwd=work, env=env)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "needs torch" in bad.stderr
