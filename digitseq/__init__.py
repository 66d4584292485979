"""digitseq: read digit sequences (or any short text) from images with a small CRNN trained by CTC."""

from __future__ import annotations

from pathlib import Path

__version__ = "0.1.0"

#: The project root when running from a checkout (fonts, the notebooks' Model/ output and images live here).
ROOT = Path(__file__).resolve().parent.parent
DEFAULT_FONT_DIR = ROOT / "font"
DEFAULT_MODEL_DIR = ROOT / "Model"
DEFAULT_CRNN = DEFAULT_MODEL_DIR / "CRNN" / "crnn.pt"   # what the notebooks / pipeline train and write
#: The weights that travel with the package: digitseq/weights/<name>.onnx and <name>.pt (see recognize.py).
WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
DEFAULT_PRETRAINED_CNN = DEFAULT_MODEL_DIR / "pretrained_CNN" / "cnn.pt"
DIGITS = "0123456789"
#: The 94 printable ASCII characters, ``!`` to ``~``: the password/code model's alphabet.
ASCII = "".join(chr(c) for c in range(33, 127))


def __getattr__(name: str):
    # Lazy so that `import digitseq` stays cheap (recognition with ONNX never imports torch).
    if name == "Recognizer":
        from .recognize import Recognizer

        return Recognizer
    raise AttributeError(f"module 'digitseq' has no attribute {name!r}")


__all__ = ["Recognizer", "ROOT", "DIGITS", "ASCII", "DEFAULT_FONT_DIR", "DEFAULT_CRNN", "DEFAULT_PRETRAINED_CNN",
           "WEIGHTS_DIR"]
