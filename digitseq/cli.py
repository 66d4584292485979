"""``digitseq`` command line: generate, pretrain, train, recognize, evaluate, export.

User errors (bad paths, bad data, bad checkpoints, outputs that would be overwritten) print one
line ``digitseq: error: ...`` and exit with status 2; there is no traceback for them.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import sys
import time
from pathlib import Path

from . import DEFAULT_PRETRAINED_CNN, DIGITS, __version__
from .errors import DigitseqError, make_folder

EXIT_USER_ERROR = 2
EXIT_SOME_FAILED = 1   # recognize: some files could not be read; the others' results were written
TRAIN_MODULES = ("torch", "matplotlib", "onnx")   # what `pip install 'digitseq[train]'` adds to the runtime


def _positive(value: str) -> int:
    n = int(value)
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return n


def _share(value: str) -> float:
    x = float(value)
    if not 0.0 <= x <= 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {value}")
    return x


def _width_scale(value: str) -> tuple[float, float]:
    """``LOW,HIGH`` checked as training checks ``TrainConfig.width_scale`` (only ``train`` has the option, and it
    imports torch anyway)."""
    from .data import check_width_scale

    try:
        return check_width_scale(value.split(","))
    except DigitseqError:
        raise argparse.ArgumentTypeError(f"must be two numbers LOW,HIGH with 0 < LOW <= HIGH <= 10, got {value!r}") from None


def _learning_rate(value: str) -> float:
    x = float(value)
    if not 0.0 < x < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {value}")
    return x


def _minutes(value: str) -> float:
    return _learning_rate(value)


def _non_negative(value: str) -> int:
    n = int(value)
    if n < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {value}")
    return n


def _channels(value: str) -> list[int]:
    try:
        out = [int(v) for v in value.split(",")]
    except ValueError:
        out = []
    if len(out) != 4 or min(out) < 1:
        raise argparse.ArgumentTypeError(f"expected four positive integers like 32,64,128,192, got {value!r}")
    return out


# argparse names an option's type in its "invalid ... value" message: say what is wanted, not the function's name.
for _type, _name in ((_positive, "positive integer"), (_non_negative, "non-negative integer"), (_share, "share (0-1)"),
                     (_learning_rate, "learning rate"), (_minutes, "number of minutes"),
                     (_channels, "channel list")):
    _type.__name__ = _name


def _check_output(path: Path, force: bool) -> None:
    """Refuse to overwrite a regular file without --force (devices such as /dev/null are fine)."""
    try:
        if path.is_dir():
            raise DigitseqError(f"{path} is a folder, not a file")
        if path.is_file() and not force:
            raise DigitseqError(f"{path} exists; pass --force to overwrite it")
    except OSError as exc:      # a name too long, a folder that cannot be searched
        raise DigitseqError(f"{path}: not a usable file name ({exc.strerror})") from None


def _probe_output(path: Path) -> None:
    """Fail now, in one line, where ``path`` cannot be written later (a read-only or pseudo file system, a file in
    the way of its folder), and leave nothing behind: a file or folders made to find out are removed again."""
    made = [p for p in (path.parent, *path.parent.parents) if not os.path.lexists(p)]
    _make_parent(path)
    existed = os.path.lexists(path)
    try:
        with open(path, "ab"):
            pass
    except OSError as exc:
        raise DigitseqError(f"{path}: cannot write ({exc.strerror})") from None
    finally:
        if not existed and os.path.lexists(path):
            os.unlink(path)
        for folder in made:           # deepest first
            try:
                folder.rmdir()
            except OSError:
                break


def _check_outputs(named: dict[str, str | None], force: bool) -> None:
    """``{option: path}`` of a command's output files, checked before its work: not empty, not standard output,
    not a folder, two options not one file, an existing one only with --force, and writable (:func:`_probe_output`)."""
    seen: dict[str, str] = {}
    for option, given in named.items():
        if given is None:
            continue
        if not given.strip() or given == "-" or given.endswith(("/", os.sep)):
            raise DigitseqError(f"{option} {given!r}: give a file name" + (" (standard output is not offered here)"
                                                                           if given == "-" else ""))
        path = Path(given)
        _check_output(path, force)
        key = os.path.normcase(os.path.abspath(given))
        if key in seen:
            raise DigitseqError(f"{seen[key]} and {option} name the same file, {given}: one would overwrite the other")
        seen[key] = option
        _probe_output(path)


def _data_args(p: argparse.ArgumentParser, name: str = "data", help_: str = "") -> None:
    p.add_argument(name, help=help_ or "a folder with labels.csv, or a CSV file (filename,label|words|text)")
    p.add_argument("--images", help="folder the CSV's filenames are relative to (default: the CSV's folder)")


def _model_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", help="digits (the default), ascii, or a .pt / .onnx path (a file or folder of "
                                   "a shipped model's name: ./digits)")
    p.add_argument("--backend", choices=["auto", "onnx", "torch"], default="auto",
                   help="auto: the .onnx of a named model (onnxruntime, no torch), a path as what it is")
    p.add_argument("--textline", action=argparse.BooleanOptionalAction, default=None,
                   help="crop each image to its text line before resizing (default: as the model was trained)")
    p.add_argument("--pad-edges", action="store_true",
                   help="the images are cut out at their text (form fields, a detector's boxes): where the text "
                        "touches three or four edges, give it the crop's usual margins (off by default: captchas, "
                        "whose text fills the image, read worse so)")
    p.add_argument("--margin", type=_non_negative,
                   help="columns of background the network sees after each image, a lone one too (default: the "
                        "model's: 32 for ascii, 0 for digits)")
    p.add_argument("--threads", type=_positive,
                   help="image-reading threads (default: one per core, 2-8); onnxruntime gets a quarter as many")
    p.add_argument("--tta", choices=["auto", "all", "off"], default="auto",
                   help="test-time augmentation: read an image also 1.15x and 1.33x as wide and with thinner strokes, "
                        "keep the reading they support most; auto (default): only images the model is unsure of, "
                        "all: every image, off: one reading each (fastest)")
    p.add_argument("--readings", choices=["four", "seven"], default=None,
                   help="how many ways --tta reads an image: four, or seven (also 0.87x as wide, with tighter and "
                        "looser margins); default: the model's own (seven for ascii, four for digits)")
    p.add_argument("--partner", default=None, metavar="MODEL",
                   help="a second model of the same alphabet that --tta also reads each unsure image with: a .pt / "
                        ".onnx path, or off; default: the model's own (digits-h48 beside the shipped digit model)")
    p.add_argument("--length", metavar="N|MIN-MAX",
                   help="read only texts of this length (5) or range (4-6, 8-): a reading of another length is "
                        "searched again for the likeliest text that fits (default: any length)")
    p.add_argument("--chars", metavar="CHARS",
                   help="read only these characters of the model's alphabet (e.g. 0123456789abcdef; default: all)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="digitseq", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"digitseq {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    g = sub.add_parser("generate", help="render synthetic images and labels.csv")
    g.add_argument("out_dir")
    g.add_argument("--count", type=_positive, required=True)
    g.add_argument("--length", type=_positive, help="label length (same as --min-length L --max-length L)")
    g.add_argument("--min-length", type=_positive, help="(default: 5, or 1 with --max-length alone)")
    g.add_argument("--max-length", type=_positive, help="(default: --min-length)")
    g.add_argument("--fonts", help="font folder (default: the project's font/)")
    g.add_argument("--split", choices=["train", "test", "wild"], default="train",
                   help="which font families to use (wild: hard styles never trained on)")
    g.add_argument("--style", choices=["clean", "classic", "augmented", "wild", "captcha", "dots", "zeros"], default="augmented")
    g.add_argument("--seed", type=_non_negative, default=0)
    g.add_argument("--balance", type=float, default=0.0, metavar="B",
                   help="favour font families of rarer style categories (handwriting, pixel, ...): 0 every family "
                        "alike (default), 1 every category alike, 0.5 between")
    g.add_argument("--alphabet", default=DIGITS)
    g.add_argument("--workers", type=_positive, help="processes (default: all cores)")
    g.add_argument("--force", action="store_true",
                   help="replace an earlier draw in the folder (its images, labels.csv, sources.csv, meta.json; "
                        "nothing else)")

    p = sub.add_parser("pretrain", help="train the single-character CNN (stage 2)")
    _data_args(p)
    p.add_argument("--val", required=True, help="validation folder or CSV")
    p.add_argument("--out", default=str(DEFAULT_PRETRAINED_CNN),
                   help="the checkpoint (.pt), or a folder for cnn.pt; last.pt goes beside it (default: %(default)s)")
    p.add_argument("--alphabet", default=DIGITS)
    p.add_argument("--epochs", type=_positive, default=8)
    p.add_argument("--batch-size", type=_positive, default=64)
    p.add_argument("--lr", type=_learning_rate, default=3e-3)
    p.add_argument("--seed", type=_non_negative, default=0)
    p.add_argument("--force", action="store_true")

    t = sub.add_parser("train", help="train or fine-tune a CRNN on labelled folders (stage 3)")
    t.add_argument("data", nargs="+", help="one or more folders with labels.csv, or CSV files (filename,label|words|"
                   "text); several are trained on as one set")
    t.add_argument("--images", help="folder the CSV's filenames are relative to (default: the CSV's folder; "
                   "one data source only)")
    t.add_argument("--textline", action=argparse.BooleanOptionalAction, default=None,
                   help="crop training and validation images to their text line, as recognition will (default: "
                   "as the --init model was trained, else on; --resume keeps the run's)")
    t.add_argument("--val", required=True, help="validation folder or CSV")
    t.add_argument("--val-images", help="folder the validation CSV's filenames are relative to")
    t.add_argument("--out", required=True, help="output folder (writes crnn.pt and last.pt) or a .pt path")
    t.add_argument("--alphabet", help="characters to recognise (default: those of the training labels, sorted)")
    t.add_argument("--init", help="CRNN checkpoint (or shipped model name: digits, ascii) to fine-tune from; layers "
                   "whose shape fits are reused, and its alphabet unless --alphabet is given")
    t.add_argument("--pretrained", help="pretrained CNN checkpoint for the conv blocks (and their channels)")
    t.add_argument("--channels", type=_channels, help="conv channels of the four blocks (default 16,32,64,128; "
                   "32,64,128,192 is the wide stack); with --init, the model is widened to them")
    t.add_argument("--rnn-hidden", type=_positive, help="GRU hidden units per direction (default 128); with --init, the "
                   "GRU is widened to them")
    t.add_argument("--resume", help="last.pt of an interrupted run: continue exactly where it stopped")
    t.add_argument("--freeze-cnn", action=argparse.BooleanOptionalAction, default=None,
                   help="keep the conv blocks frozen in the first phase (off by default: see the ablation study)")
    t.add_argument("--epochs", type=_positive, help="default 10")
    t.add_argument("--finetune-epochs", type=_non_negative, help="second phase with the conv blocks unfrozen "
                   "(default 0)")
    t.add_argument("--batch-size", type=_positive, help="default 64")
    t.add_argument("--time-budget", type=_minutes, metavar="MINUTES",
                   help="train for at most about this long: after each epoch, the epochs that would end past it are "
                        "dropped and the one-cycle schedule re-planned over those left, so it still anneals "
                        "(default: no limit)")
    t.add_argument("--lr", type=_learning_rate, help="peak learning rate (default 3e-3)")
    t.add_argument("--schedule", choices=["onecycle", "cyclic", "constant"], help="default onecycle")
    t.add_argument("--keep", choices=["best", "last"], help="the model written to --out: the best "
                   "validation epoch's (the default), or the last epoch's (a completed schedule's end)")
    t.add_argument("--optimizer", choices=["adamw", "adam", "sgd"], help="default adamw")
    t.add_argument("--patience", type=_positive, help="default 4")
    t.add_argument("--no-augment", action="store_true", help="no on-the-fly augmentation")
    t.add_argument("--tight", type=_share, metavar="SHARE",
                   help="share of the augmented training images cut tight to their ink, no margin left, as images "
                        "cut from forms or by a detector arrive (default 0: none)")
    t.add_argument("--width-scale", type=_width_scale, default=None, metavar="LOW,HIGH",
                   help="half the augmented training images are made LOW to HIGH times as wide (default 0.8,1.25; "
                        "a lower LOW teaches condensed text)")
    t.add_argument("--seed", type=_non_negative, default=0)
    t.add_argument("--workers", type=_non_negative, default=0)
    t.add_argument("--tensorboard", metavar="DIR")
    t.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    t.add_argument("--amp", choices=["auto", "bf16", "off"],
                   help="bf16 autocast for the forward pass; auto: on a GPU and on a CPU with bf16 instructions "
                        "(AVX512-BF16 / AMX), where training runs 1.5-1.7x as fast")
    t.add_argument("--skip-bad", action="store_true", help="skip (and count) bad rows and images instead of stopping")
    t.add_argument("--force", action="store_true", help="overwrite an existing checkpoint in --out")

    r = sub.add_parser("recognize", help="read text from image files, folders or globs")
    r.add_argument("paths", nargs="+")
    _model_args(r)
    r.add_argument("--batch-size", type=_positive, default=32,
                   help="images per forward pass (32: as fast as larger batches here, and keeps memory low)")
    r.add_argument("--beam-width", type=_positive, default=1, help="CTC prefix beam search width (1: greedy)")
    r.add_argument("--raw", action="store_true", help="also print the per-step CTC path")
    r.add_argument("--format", choices=["text", "csv", "json", "jsonl"], default="text")
    r.add_argument("--output", help="write results to this file ('-' or none: standard output)")
    r.add_argument("--force", action="store_true", help="overwrite --output if it is an existing file")
    r.add_argument("--progress", action="store_true", help="show a progress bar on standard error")

    e = sub.add_parser("evaluate", help="accuracy, CER and character P/R/F1 on a labelled folder")
    _data_args(e)
    _model_args(e)
    e.add_argument("--json", help="also write the metrics to this JSON file")
    e.add_argument("--errors", type=_non_negative, default=0, metavar="N", help="show the N worst errors")
    e.add_argument("--error-sheet", metavar="PNG",
                   help="also draw the worst errors (--errors N of them, else 24) as images beside their truth and "
                        "reading, wrong characters in red, into this PNG")
    e.add_argument("--by", action="append", default=[], metavar="COLUMN",
                   help="also the accuracy for each value of this column of labels.csv besides filename and the "
                        "label (source in filename,label,source), worst first; in a generated folder also font, "
                        "family or style (the font's style category); may be repeated")
    e.add_argument("--beam-width", type=_positive, default=1)
    e.add_argument("--batch-size", type=_positive, default=128)
    e.add_argument("--force", action="store_true", help="overwrite --json and --error-sheet if they exist")

    x = sub.add_parser("export", help="export a CRNN checkpoint to ONNX (needs torch and onnx)")
    x.add_argument("--model", help="CRNN checkpoint (default: the shipped digit model's .pt)")
    x.add_argument("--onnx", required=True, help="output .onnx path")
    x.add_argument("--check", metavar="DATA_DIR", help="labelled folder to check parity with PyTorch on")
    x.add_argument("--int8", action="store_true", help="also write an int8-quantised copy, NAME.int8.onnx")
    x.add_argument("--force", action="store_true")
    return parser


# --------------------------------------------------------------------------- commands

def cmd_generate(a) -> int:
    from .generate import generate

    if a.length and (a.min_length or a.max_length):
        raise DigitseqError("--length is --min-length and --max-length at once: give one or the others")
    lo = a.length or a.min_length or (1 if a.max_length else 5)
    hi = a.length or a.max_length or lo
    path = generate(a.out_dir, a.count, min_length=lo, max_length=hi, font_dir=a.fonts, split=a.split,
                    style=a.style, seed=a.seed, alphabet=a.alphabet, workers=a.workers, overwrite=a.force,
                    balance=a.balance)
    print(f"wrote {a.count} images and {path}")
    return 0


def _load_set(source, images, alphabet, augment=False, skip_bad=False, seed=0, **load):
    """A labelled folder or CSV (or a list of them, trained on as one set) as an ImageSet. ``load``: ``height``,
    ``reduction`` and ``textline``, passed to :meth:`ImageSet.from_labelled`."""
    from .data import ImageSet, read_labels

    sources = source if isinstance(source, list) else [source]
    if images and len(sources) > 1:
        raise DigitseqError("--images goes with one data source; give each CSV's images beside it")
    on_error = "skip" if skip_bad else "raise"
    sets = []
    for src in sources:
        ls = read_labels(src, images, alphabet=alphabet, on_error=on_error)
        sets.append(ImageSet.from_labelled(ls, augment=augment, seed=seed, on_error=on_error, **load))
        if ls.skipped:
            print(f"{ls.source}: skipped {len(ls.skipped)} bad rows/images, e.g. {ls.skipped[0]}", file=sys.stderr)
    return sets[0] if len(sets) == 1 else ImageSet.concat(sets, augment=augment, seed=seed)


def _out_path(out: str, name: str) -> Path:
    p = Path(out)
    return p if p.suffix == ".pt" else p / name


def _check_out_folder(given: str, out: Path) -> None:
    """A one-line error, before any work, where a file stands where ``out``'s folder (or one above it) should be."""
    above = next(p for p in (out.parent, *out.parent.parents) if p.exists() or p == p.parent)
    if above.exists() and not above.is_dir():
        raise DigitseqError(f"--out {given}: {above} is a file, not a folder")


def cmd_pretrain(a) -> int:
    from .train import TrainConfig, pretrain_cnn

    out = _out_path(a.out, "cnn.pt")
    _check_out_folder(a.out, out)
    for path in (out, out.with_name("last.pt" if out.name != "last.pt" else "last-resume.pt")):   # and the run's state
        _check_output(path, a.force)
    train = _load_set(a.data, a.images, a.alphabet, augment=True, seed=a.seed)
    val = _load_set(a.val, None, a.alphabet)
    cfg = TrainConfig(epochs=a.epochs, batch_size=a.batch_size, lr=a.lr, seed=a.seed, patience=3, freeze_cnn=False)
    res = pretrain_cnn(train, val, out, cfg, alphabet=a.alphabet)
    print(f"best validation accuracy {res.best_metric:.4f}; saved {res.best_path}")
    return 0


def cmd_train(a) -> int:
    from .train import TrainConfig, init_distributed, resolve_arch, train_crnn, width_stride

    rank, world = init_distributed(a.device)  # under torchrun: one process per rank, data split by batches

    out = _out_path(a.out, "crnn.pt")
    last = out.with_name("last.pt") if out.name != "last.pt" else out.with_name("last-resume.pt")
    _check_out_folder(a.out, out)
    # Nothing written is overwritten without --force: the model and the run's last.pt, unless this resumes that
    # very last.pt (which then goes on in place).
    if not (a.resume and Path(a.resume).resolve() == last.resolve()):
        for path in (out, last):
            _check_output(path, a.force)
    alphabet, textline = a.alphabet, True if a.textline is None else a.textline
    arch = {k: v for k, v in (("channels", a.channels), ("rnn_hidden", a.rnn_hidden)) if v}
    if a.init:   # a checkpoint path, or a shipped model by name
        from .recognize import resolve_model

        a.init = str(resolve_model(a.init, "torch")[0])
    # Read before any image: the images are loaded as the model will take them (height, width stride, crop).
    if a.resume:   # resuming continues the run as it was configured
        from .models import load_checkpoint

        src = load_checkpoint(a.resume)
        _check_resume(a, src)
        model_arch, run = src["arch"], src["train"]["config"]
        alphabet, textline = src["alphabet"], run.get("textline", True)
        a.seed, a.no_augment = run.get("seed", 0), not run.get("augment", True)   # the images as the run had them
    else:
        model_arch, _, src = resolve_arch(arch, a.pretrained, a.init)
        if src is not None:   # fine-tuning keeps the model's alphabet and crop unless told otherwise
            alphabet = alphabet or src["alphabet"]
            if a.textline is None:
                textline = bool(src.get("preprocess", {}).get("textline", False))
    load = {"height": model_arch["input_height"], "reduction": width_stride(model_arch), "textline": textline}
    train = _load_set(a.data, a.images, alphabet, augment=not a.no_augment, skip_bad=a.skip_bad, seed=a.seed, **load)
    val = _load_set(a.val, a.val_images, alphabet or "".join(sorted(set("".join(train.labels)))), skip_bad=a.skip_bad,
                    **load)
    given = {k: getattr(a, k) if getattr(a, k) is not None else default for k, default in TRAIN_DEFAULTS.items()}
    if given["width_scale"] is None:
        del given["width_scale"]
    cfg = TrainConfig(**given, augment=not a.no_augment, textline=textline, seed=a.seed, workers=a.workers,
                      tensorboard=a.tensorboard, device=a.device,
                      time_budget=a.time_budget * 60 if a.time_budget else None)
    res = train_crnn(train, val, out, cfg, alphabet=alphabet, arch=arch or None,
                     pretrained=a.pretrained, init=a.init, resume=a.resume, progress=rank == 0)
    if world > 1:
        import torch.distributed

        torch.distributed.destroy_process_group()
        if rank != 0:
            return 0
    if res.interrupted:
        print(f"interrupted; resume with: digitseq train ... --resume {res.last_path}", file=sys.stderr)
        return 130
    print(f"validation sequence accuracy {res.kept_metric:.4f} ({res.keep} epoch; best {res.best_metric:.4f}); "
          f"saved {res.best_path}")
    return 0


# The settings a run is trained with: given on the command line, else these; --resume takes the run's own.
TRAIN_DEFAULTS = {"epochs": 10, "finetune_epochs": 0, "batch_size": 64, "lr": 3e-3, "schedule": "onecycle",
                  "keep": "best", "optimizer": "adamw", "patience": 4, "tight": 0.0, "amp": "auto",
                  "freeze_cnn": False, "width_scale": None}


def _check_resume(a, src: dict) -> None:
    """One-line errors for a ``--resume`` that cannot do what the command line asks: a checkpoint that is no CRNN
    run's ``last.pt``, a run that has finished, or training settings given that differ from the run's own."""
    if src.get("kind") != "crnn" or "resume" not in src:
        what = "a CRNN run's" if src.get("kind") == "crnn" else f"a {src.get('kind')} checkpoint, not a CRNN run's"
        raise DigitseqError(f"--resume {a.resume}: {what} checkpoint without training state (use its last.pt)")
    run, r = src["train"]["config"], src["resume"]
    phases = [p for p in src["train"].get("phases") or [] if p["epochs"] > 0]
    done = r.get("finished")             # older checkpoints: every epoch of the last phase done
    if done is None:
        done = bool(phases) and not r.get("batch") and r["epoch"] >= phases[-1]["epochs"] and \
            r["phase"] >= len(src["train"]["phases"]) - 1
    if done:
        raise DigitseqError(f"--resume {a.resume}: that run has finished; to train further, start a new run from "
                            f"it: --init {a.resume} --out NEW_FOLDER")
    own_budget = run.get("time_budget")
    if a.time_budget is not None and a.time_budget * 60 != own_budget:
        shown = f"{own_budget / 60:g}" if own_budget else "none"
        raise DigitseqError(f"--resume continues the run with its own settings (--time-budget {shown}), not "
                            f"{a.time_budget:g}; leave the option out, or start a new run with --init")
    for option in TRAIN_DEFAULTS:
        given, own = getattr(a, option), run.get(option)
        if option == "width_scale" and own is not None:
            own = tuple(own)
        if given is not None and given != own:
            shown = ",".join(map(str, own)) if isinstance(own, (list, tuple)) else own
            raise DigitseqError(f"--resume continues the run with its own settings (--{option.replace('_', '-')} "
                                f"{shown}), not {given}; leave the option out, or start a new run with --init")


def _open_output(path: str | None, force: bool):
    """Standard output for None or '-', else the file (an existing regular file only with --force)."""
    if path is None or path == "-":
        return sys.stdout
    p = Path(path)
    _check_output(p, force)
    _make_parent(p)
    try:
        # A file name that is not UTF-8 (from a latin-1 archive, say) goes out as the bytes it was on disk.
        return open(p, "w", newline="", encoding="utf-8", errors="surrogateescape")
    except OSError as exc:
        raise DigitseqError(f"{p}: cannot write ({exc.strerror})") from None


def _make_parent(path: Path) -> None:
    """Create ``path``'s folder if it is missing, with a one-line error where it cannot be (a file in the way)."""
    make_folder(path.parent, path)


class _RowWriter:
    """Writes recognition results as they come: text (tab-separated), csv, json (one array) or jsonl."""

    def __init__(self, out, fmt: str, raw: bool):
        self.out, self.fmt, self.raw, self.n = out, fmt, raw, 0
        if fmt == "csv":
            self.csv = csv.writer(out, lineterminator="\n")
            self.csv.writerow(["path", "text", "confidence"] + (["raw"] if raw else []))
        elif fmt == "json":
            out.write("[")

    def write(self, path, pred) -> None:
        conf = round(pred.confidence, 6)
        if self.fmt == "csv":
            self.csv.writerow([path, pred.text, conf] + ([pred.raw] if self.raw else []))
        elif self.fmt in ("json", "jsonl"):
            row = {"path": str(path), "text": pred.text, "confidence": conf, **({"raw": pred.raw} if self.raw else {})}
            sep = ("," if self.n else "") + "\n" if self.fmt == "json" else ""
            self.out.write(sep + json.dumps(row, ensure_ascii=False) + ("\n" if self.fmt == "jsonl" else ""))
        else:
            self.out.write(f"{path}\t{pred.text}\t{conf:.4f}" + (f"\t{pred.raw}" if self.raw else "") + "\n")
        self.n += 1

    def close(self) -> None:
        if self.fmt == "json":
            self.out.write("\n]\n" if self.n else "]\n")
        self.out.flush()


def _recognizer(a):
    """The Recognizer that recognize's and evaluate's model options ask for; a note on stderr where the model names a
    partner that is not beside it (a model copied or exported alone), which changes how it reads."""
    from .recognize import Recognizer

    rec = Recognizer.load(a.model, backend=a.backend, textline=a.textline, threads=a.threads, margin=a.margin,
                          tta=a.tta, readings=a.readings, partner=a.partner, pad_edges=a.pad_edges, length=a.length,
                          chars=a.chars)
    if rec.partner_missing:
        print(f"digitseq: note: the model's partner {rec.partner_missing} is not there; unsure images are read "
              "without it (copy it beside the model, or pass --partner off to silence this)", file=sys.stderr)
    return rec


def cmd_recognize(a) -> int:
    from .image import list_images

    paths = list_images(a.paths)
    rec = _recognizer(a)
    out = _open_output(a.output, a.force)
    if out is sys.stdout and hasattr(out, "reconfigure"):
        out.reconfigure(errors="surrogateescape")   # non-UTF-8 file names, as the shell shows them
    t0 = time.perf_counter()
    writer, failed = _RowWriter(out, a.format, a.raw), 0
    try:
        for path, pred, err in rec.predict_files(paths, a.batch_size, a.beam_width, a.raw, progress=a.progress):
            if pred is None:
                failed += 1
                print(f"digitseq: failed: {err}", file=sys.stderr)
            else:
                writer.write(path, pred)
        writer.close()
    finally:
        if out is not sys.stdout:
            out.close()
    elapsed = time.perf_counter() - t0
    n = writer.n + failed
    print(f"{n} image{'' if n == 1 else 's'}, {failed} failed, {elapsed:.2f}s, {writer.n / max(elapsed, 1e-9):.0f} images/s", file=sys.stderr)
    return EXIT_USER_ERROR if failed == n else EXIT_SOME_FAILED if failed else 0


SHEET_ERRORS = 24   # errors an --error-sheet draws when --errors does not say


def cmd_evaluate(a) -> int:
    from .evaluate import evaluate_folder, format_report

    # Checked before the evaluation, so that its work is not lost to a path that cannot be written.
    _check_outputs({"--json": a.json, "--error-sheet": a.error_sheet}, a.force)
    if a.error_sheet:
        from .sheet import sheet_format

        sheet_format(a.error_sheet)       # an image format Pillow writes, by the suffix
    rec = _recognizer(a)
    report = evaluate_folder(a.data, rec, images=a.images, beam_width=a.beam_width,
                             batch_size=a.batch_size, errors=a.errors or (SHEET_ERRORS if a.error_sheet else 0),
                             by=a.by)
    sheet_errors, report["errors"] = report["errors"], report["errors"][:a.errors]   # the sheet may draw more
    print(format_report(report))          # first: the report is on screen whatever happens to the files
    if a.error_sheet:
        from .sheet import error_sheet

        _make_parent(Path(a.error_sheet))
        title = (f"{a.data}: the {len(sheet_errors)} worst errors of {report['n']} images (under each, what the "
                 "network saw)") if sheet_errors else f"{a.data}: {report['n']} images"
        try:
            error_sheet(sheet_errors, a.error_sheet, title=title, prepare=rec.prepare)
        except OSError as exc:
            raise DigitseqError(f"{a.error_sheet}: cannot write ({exc.strerror}); the report is above") from None
    if a.json:
        _make_parent(Path(a.json))
        try:
            Path(a.json).write_text(json.dumps(report, indent=1, ensure_ascii=False), encoding="utf-8",
                                    errors="surrogateescape")
        except OSError as exc:
            raise DigitseqError(f"{a.json}: cannot write ({exc.strerror}); the report is above") from None
    return 0


def cmd_export(a) -> int:
    from .export import export_onnx

    _check_output(Path(a.onnx), a.force)
    if a.int8:
        _check_output(Path(a.onnx).with_suffix(".int8.onnx"), a.force)
    report = export_onnx(a.model, a.onnx, check=a.check, quantize=a.int8)
    print(json.dumps(report, indent=1))
    return 0


COMMANDS = {"generate": cmd_generate, "pretrain": cmd_pretrain, "train": cmd_train, "recognize": cmd_recognize,
            "evaluate": cmd_evaluate, "export": cmd_export}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except DigitseqError as exc:
        print(f"digitseq: error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except ModuleNotFoundError as exc:   # the runtime install (no torch) running train, pretrain or export
        if (exc.name or "").split(".")[0] not in TRAIN_MODULES:
            raise
        print(f"digitseq: error: {args.command} needs {exc.name}, which the runtime install leaves out: "
              "pip install 'digitseq[train]'", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("digitseq: interrupted", file=sys.stderr)
        return 130
    except (BrokenPipeError, io.UnsupportedOperation):
        return 1
