"""Figures the notebooks show. Each function returns a matplotlib Figure."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from PIL import Image

from .data import LABEL_FILE, open_image, read_labels


def image_grid(images, titles=None, ncols: int = 4, width: float = 3.0, height: float = 0.9, suptitle=None):
    n = len(images)
    nrows = max(1, -(-n // ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(ncols * width, nrows * height + 0.4), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, img, title in zip(axes.flat, images, titles or [None] * n):
        img = np.asarray(img)
        ax.imshow(img, cmap="gray" if img.ndim == 2 else None, vmin=0, vmax=255)
        if title is not None:
            ax.set_title(str(title), fontsize=8, parse_math=False)   # labels are text: "$5$" is not maths
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


def sample_grid(folder: str | Path, n: int = 12, ncols: int = 4, seed: int = 0):
    """Random images of a labelled folder with their labels."""
    ls = read_labels(folder)
    idx = np.random.default_rng(seed).choice(len(ls), size=min(n, len(ls)), replace=False)
    return image_grid([open_image(ls.paths[i]) for i in idx], [ls.labels[i] for i in idx], ncols,
                      suptitle=f"{Path(folder).name}: {len(ls)} images")


def font_grid(folder: str | Path, per_font: int = 1, ncols: int = 4):
    """One image per font family of a generated folder (from its sources.csv)."""
    folder = Path(folder)
    with open(folder / "sources.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    labels = dict(zip(*_columns(folder / LABEL_FILE)))
    seen: Counter = Counter()
    images, titles = [], []
    for row in rows:
        if seen[row["family"]] < per_font:
            seen[row["family"]] += 1
            images.append(Image.open(folder / row["filename"]))
            titles.append(f"{row['family']}: {labels[row['filename']]}")
    return image_grid(images, titles, ncols, suptitle=f"{folder.name}: {len(seen)} font families")


def font_pool_grid(font_dir=None, split: str | None = None, text: str = "0123456789", per_style: int = 6,
                   seed: int = 0):
    """The font pool at a glance: one row per style, ``per_style`` random families each, drawn cleanly."""
    from .fonts import families, load_fonts
    from .render import RenderStyle, render

    fonts = load_fonts(font_dir, split=split)
    by_style: dict[str, list] = {}
    for files in families(fonts).values():
        by_style.setdefault(files[0].category or "other", []).append(files[0])
    rng = np.random.default_rng(seed)
    styles = sorted(by_style, key=lambda s: (-len(by_style[s]), s))
    fig, axes = plt.subplots(len(styles), per_style, figsize=(per_style * 2.2, len(styles) * 0.62 + 0.6),
                             squeeze=False)
    clean = RenderStyle.clean().with_(font_size=(28, 28))
    for row, style in zip(axes, styles):
        pool = by_style[style]
        pick = [pool[i] for i in rng.choice(len(pool), size=min(per_style, len(pool)), replace=False)]
        for ax in row:
            ax.axis("off")
        for ax, f in zip(row, pick):
            ax.imshow(np.asarray(render(text, f.path, clean, 0).convert("L")), cmap="gray", vmin=0, vmax=255)
            ax.set_title(f.family, fontsize=6)
        row[0].text(-0.05, 0.5, f"{style} ({len(pool)})", transform=row[0].transAxes, ha="right", va="center",
                    fontsize=8)
    n_fam = sum(len(v) for v in by_style.values())
    fig.suptitle(f"{n_fam} font families{f' ({split} split)' if split else ''}, by style")
    fig.tight_layout()
    return fig


def effect_gallery(text: str, font_path: str, effects: dict, seeds=(0, 1, 2), alt_fonts=None):
    """One row per augmentation: ``effects`` maps a name to the RenderStyle that switches it on alone."""
    from .render import render

    images, titles = [], []
    for name, style in effects.items():
        for s in seeds:
            images.append(render(text, font_path, style, s, alt_fonts=alt_fonts))
            titles.append(name if s == seeds[0] else "")
    return image_grid(images, titles, ncols=len(seeds), width=2.6, height=0.8)


def accuracy_by_style(breakdowns: dict[str, dict], key: str = "by_style"):
    """Bars of sequence accuracy per font style (from :func:`digitseq.breakdown.by_font`), one colour a set."""
    sets = list(breakdowns)
    groups = sorted({g for b in breakdowns.values() for g in b[key]})
    fig, ax = plt.subplots(figsize=(max(6, 0.55 * len(groups) * max(1, len(sets)) ** 0.5), 3.2))
    width = 0.8 / max(1, len(sets))
    for i, name in enumerate(sets):
        rows = breakdowns[name][key]
        vals = [rows[g]["sequence_accuracy"] * 100 if g in rows else np.nan for g in groups]
        ax.bar(np.arange(len(groups)) + i * width, vals, width, label=name)
    ax.set_xticks(np.arange(len(groups)) + width * (len(sets) - 1) / 2)
    ax.set_xticklabels(groups, rotation=45, ha="right", fontsize=8)
    ax.set_ylabel("sequence accuracy, %")
    ax.set_ylim(0, 100)
    ax.legend(fontsize=7)
    ax.set_title("Accuracy by font style (fonts never seen in training)")
    fig.tight_layout()
    return fig


def _columns(path: Path):
    with open(path, newline="", encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    return [r["filename"] for r in rows], [r["label"] for r in rows]


def label_stats(folder: str | Path):
    """Label-length histogram and character frequencies of a labelled folder."""
    labels = read_labels(folder, check_files=False).labels
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 2.8))
    lengths = Counter(len(t) for t in labels)
    a.bar(list(lengths), list(lengths.values()))
    a.set(title=f"{Path(folder).name}: label length", xlabel="characters", ylabel="images")
    chars = Counter("".join(labels))
    keys = sorted(chars)
    b.bar(keys, [chars[k] for k in keys])
    b.set(title="character frequency", ylabel="count")
    fig.tight_layout()
    return fig


def augmentation_steps(text: str, font_path: str, seeds=(0, 1, 2, 3), style=None):
    """Rows of images after each rendering stage, one row per seed."""
    from .render import RenderStyle, render

    style = style or RenderStyle().with_(blur=1.0, low_res=0.5, noise=1.0, jpeg=1.0)
    stages = ["glyphs", "strokes", "geometry", "clutter", "colour", "motion_blur", "blur", "low_res", "noise", "jpeg"]
    fig, axes = plt.subplots(len(seeds), len(stages), figsize=(2.2 * len(stages), 0.9 * len(seeds) + 0.5), squeeze=False)
    for r, seed in enumerate(seeds):
        steps: dict = {}
        render(text, font_path, style, seed, steps=steps)
        last = None
        for c, stage in enumerate(stages):
            ax = axes[r, c]
            ax.axis("off")
            img = steps.get(stage, last)
            last = img
            arr = np.asarray(img)
            ax.imshow(arr, cmap="gray" if arr.ndim == 2 else None)
            if r == 0:
                ax.set_title(stage + ("" if stage in steps else " (skipped)"), fontsize=8)
    fig.tight_layout()
    return fig


def training_curves(history: list[dict], steps: list[dict] | None = None):
    """Training loss, validation accuracy per epoch, and the learning rate per step."""
    fig, axes = plt.subplots(1, 3, figsize=(14, 3.2))
    epochs = [h["epoch"] for h in history]
    axes[0].plot(epochs, [h["train_loss"] for h in history], "o-")
    axes[0].set(title="training loss", xlabel="epoch", yscale="log")
    axes[1].plot(epochs, [h["val"]["sequence_accuracy"] for h in history], "o-", label="sequence")
    axes[1].plot(epochs, [h["val"]["char_accuracy"] for h in history], "s--", label="character")
    axes[1].set(title="validation accuracy", xlabel="epoch")
    axes[1].legend()
    for ax in axes[:2]:
        for i in range(1, len(history)):
            if history[i]["phase"] != history[i - 1]["phase"]:
                ax.axvline(epochs[i] - 0.5, color="grey", ls=":")
    if steps:
        axes[2].plot([s["step"] for s in steps], [s["lr"] for s in steps])
    axes[2].set(title="learning rate", xlabel="step")
    fig.tight_layout()
    return fig


def confusion(truths, preds, labels: str, most: int = 30):
    """Confusion matrix of single-character predictions. A larger alphabet than ``most`` characters (the 94 of the
    ASCII model) shows only the characters of its most frequent confusions, up to ``most`` of them, so that the
    figure stays readable (the title says so)."""
    k = len(labels)
    m = np.zeros((k, k), int)
    for t, p in zip(truths, preds):
        m[labels.index(t), labels.index(p)] += 1
    title = "confusion matrix"
    if k > most:
        off = m - np.diag(np.diag(m))
        keep: list[int] = []
        for flat in np.argsort(off, axis=None)[::-1]:
            i, j = divmod(int(flat), k)
            if off[i, j] == 0 or len(keep) >= most:
                break
            keep += [c for c in (i, j) if c not in keep][: most - len(keep)]
        keep = sorted(keep) or list(range(most))
        m, labels = m[np.ix_(keep, keep)], "".join(labels[c] for c in keep)
        title = f"confusion matrix: the {len(keep)} most confused of {k} characters"
        k = len(keep)
    fig, ax = plt.subplots(figsize=(0.45 * k + 2, 0.45 * k + 1.5))
    ax.imshow(np.log1p(m), cmap="Blues")
    for i in range(k):
        for j in range(k):
            if m[i, j]:
                ax.text(j, i, m[i, j], ha="center", va="center", fontsize=7, color="white" if i == j else "black")
    ax.set_xticks(range(k), list(labels), parse_math=False)
    ax.set_yticks(range(k), list(labels), parse_math=False)
    ax.set(xlabel="predicted", ylabel="true", title=title)
    fig.tight_layout()
    return fig


def accuracy_by_length(reports: dict[str, dict]):
    """Sequence accuracy per label length, one line per evaluated set."""
    fig, ax = plt.subplots(figsize=(8, 3))
    for name, rep in reports.items():
        ks = sorted(rep["by_length"], key=int)
        ax.plot([int(k) for k in ks], [rep["by_length"][k]["sequence_accuracy"] for k in ks], "o-", label=name)
    ax.set(xlabel="label length", ylabel="sequence accuracy", title="accuracy by label length")
    ax.legend()
    fig.tight_layout()
    return fig


def confidence_coverage(reports: dict[str, dict]):
    """What keeping only the surest readings buys: for each evaluated set, the sequence accuracy of the surest
    share of its images against that share (``report["confidence"]["curve"]``, :func:`digitseq.metrics.
    confidence_report`), the confidence that keeps 80 % marked on each line."""
    fig, ax = plt.subplots(figsize=(8, 3))
    for name, rep in reports.items():
        conf = rep.get("confidence") or {}
        curve = conf.get("curve") or []
        if not curve:
            continue
        share, acc, threshold = zip(*curve)
        line, = ax.plot([100 * c for c in share], [100 * a for a in acc], "-", label=name)
        k = min(range(len(share)), key=lambda i: abs(share[i] - 0.8))
        ax.annotate(f"≥ {threshold[k]:.2f}", (100 * share[k], 100 * acc[k]), textcoords="offset points",
                    xytext=(4, 4), fontsize=8, color=line.get_color())
    ax.set(xlabel="share of images kept, surest first (%)", ylabel="sequence accuracy of those kept (%)",
           title="keep the surest readings: accuracy against coverage (label: the confidence that keeps 80 %)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def error_gallery(errors: list[dict], ncols: int = 3):
    """Images of wrong predictions, titled 'truth → prediction'."""
    if not errors:
        fig, ax = plt.subplots(figsize=(4, 0.6))
        ax.axis("off")
        ax.text(0.5, 0.5, "no errors", ha="center")
        return fig
    return image_grid([open_image(e["path"]) for e in errors],
                      [f"{e['truth']} → {e['prediction']}" for e in errors], ncols, width=3.6, height=1.0)


def ctc_path(recognizer, images, ncols: int = 1):
    """Each image with the per-step CTC output under it: the winning class per step and its probability."""
    import torch

    from .data import pad_batch

    fig, axes = plt.subplots(2 * len(images), 1, figsize=(10, 1.6 * len(images)), squeeze=False,
                             gridspec_kw={"height_ratios": [2, 1] * len(images)})
    for k, image in enumerate(images):
        arr = recognizer.prepare(image)
        x, widths = pad_batch([arr], recognizer.normalisation)
        with torch.inference_mode():
            probs = recognizer.model(x).softmax(-1)[0].numpy()
        steps = probs.shape[0]
        best = probs.argmax(1)
        top, bottom = axes[2 * k, 0], axes[2 * k + 1, 0]
        top.imshow(arr, cmap="gray", aspect="auto", extent=(0, steps, 1, 0))
        top.set_title(f"prediction: {recognizer.codec.collapse(best)!r}", fontsize=9, parse_math=False)
        top.axis("off")
        blank = best == 0
        bottom.bar(np.arange(steps) + 0.5, probs.max(1), width=0.9, color=np.where(blank, "lightgrey", "tab:blue"))
        for t in range(steps):
            bottom.text(t + 0.5, 0.05, recognizer.codec.raw([best[t]]), ha="center", fontsize=8,
                        color="grey" if blank[t] else "black", parse_math=False)
        bottom.set(xlim=(0, steps), ylim=(0, 1.05), yticks=[0, 1], ylabel="p")
        bottom.set_xticks([])
    fig.tight_layout()
    return fig


def ablation_curves(results: list[dict]):
    """Validation sequence accuracy against training seconds, one colour per recipe, one line per seed."""
    fig, ax = plt.subplots(figsize=(11, 4.5))
    names = sorted({r["recipe"] for r in results})
    colours = plt.cm.tab10(np.linspace(0, 1, max(10, len(names))))
    for c, name in zip(colours, names):
        for k, r in enumerate(x for x in results if x["recipe"] == name):
            ax.plot([p["elapsed"] for p in r["curve"]], [p["val_accuracy"] for p in r["curve"]], color=c, alpha=0.8,
                    label=name if k == 0 else None)
    ax.set(xlabel="training seconds (2-core CPU)", ylabel="validation sequence accuracy",
           title="accuracy against time, every seed", ylim=(0, 1.01))
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return fig


def ablation_blank_phase(results: list[dict]):
    """Seconds each run spent emitting only blanks (≥99% empty predictions) at the start of training."""
    names = sorted({r["recipe"] for r in results})
    fig, ax = plt.subplots(figsize=(10, 3.2))
    for i, name in enumerate(names):
        vals = [r["blank_only"]["until_seconds"] for r in results if r["recipe"] == name]
        ax.scatter([i] * len(vals), vals, color="tab:red")
        ax.bar(i, np.mean(vals), color="lightgrey")
    ax.set_xticks(range(len(names)), names, rotation=30, ha="right", fontsize=8)
    ax.set(ylabel="seconds", title="blank-only phase (bar: mean, dots: seeds)")
    fig.tight_layout()
    return fig


def _shown(ch: str) -> str:
    """A character as a tick label: the empty side of an insertion/deletion is ∅, a space is ␣."""
    return {"": "∅", " ": "␣"}.get(ch, ch)


def plot_confusions(report_or_pairs, top: int = 20):
    """The ``top`` most frequent character errors of a :func:`digitseq.metrics.evaluate` report (its
    ``confusions``, ``deletions`` and ``insertions``) or of a list of ``{"truth", "pred", "count"}`` rows, as
    a small matrix over the characters they involve: rows the truth, columns the prediction, ∅ the missing
    side of a deletion (column) or insertion (row), each cell annotated with its count."""
    if isinstance(report_or_pairs, dict):
        pairs = [r for key in ("confusions", "deletions", "insertions") for r in report_or_pairs.get(key, [])]
    else:
        pairs = list(report_or_pairs)
    pairs = sorted(pairs, key=lambda r: (-r["count"], r["truth"], r["pred"]))[:top]
    if not pairs:
        fig, ax = plt.subplots(figsize=(4, 0.6))
        ax.axis("off")
        ax.text(0.5, 0.5, "no confusions", ha="center")
        return fig
    order = sorted({r["truth"] for r in pairs} | {r["pred"] for r in pairs}, key=lambda c: (c == "", c))
    rows = [c for c in order if any(r["truth"] == c for r in pairs)]
    cols = [c for c in order if any(r["pred"] == c for r in pairs)]
    m = np.zeros((len(rows), len(cols)), int)
    for r in pairs:
        m[rows.index(r["truth"]), cols.index(r["pred"])] += r["count"]
    fig, ax = plt.subplots(figsize=(0.45 * len(cols) + 2.2, 0.45 * len(rows) + 1.6))
    ax.imshow(m, cmap="Greys", vmin=0, vmax=2.5 * m.max())   # never darker than mid-grey: black counts stay legible
    for i, j in zip(*np.nonzero(m)):
        ax.text(j, i, m[i, j], ha="center", va="center", fontsize=8, color="black")
    ax.set_xticks(range(len(cols)), [_shown(c) for c in cols], parse_math=False)
    ax.set_yticks(range(len(rows)), [_shown(c) for c in rows], parse_math=False)
    ax.set_xticks(np.arange(len(cols) + 1) - 0.5, minor=True)
    ax.set_yticks(np.arange(len(rows) + 1) - 0.5, minor=True)
    ax.grid(which="minor", color="lightgrey", lw=0.5)
    ax.tick_params(which="minor", length=0)
    ax.set(xlabel="predicted", ylabel="true", title=f"{len(pairs)} most frequent character errors")
    fig.tight_layout()
    return fig


def plot_by_class(report: dict):
    """Character recall and F1 per character class (digits, upper, lower, punctuation, other) of a
    :func:`digitseq.metrics.evaluate` report; the support of each class under its name."""
    by_class = report.get("by_class", {})
    if not by_class:
        fig, ax = plt.subplots(figsize=(4, 0.6))
        ax.axis("off")
        ax.text(0.5, 0.5, "no characters", ha="center")
        return fig
    names = list(by_class)
    x = np.arange(len(names))
    fig, ax = plt.subplots(figsize=(1.3 * len(names) + 2, 3))
    for k, (key, face) in enumerate((("recall", "black"), ("f1", "white"))):
        vals = [by_class[n][key] for n in names]
        bars = ax.bar(x + (k - 0.5) * 0.38, vals, 0.38, color=face, edgecolor="black", label=key)
        ax.bar_label(bars, fmt="%.3f", fontsize=7, padding=2)
    ax.set_xticks(x, [f"{n}\n(n={by_class[n]['support']})" for n in names])
    ax.set(ylim=(0, 1.3), yticks=np.linspace(0, 1, 6), ylabel="per character",
           title="recall and F1 by character class")
    ax.legend(fontsize=8, loc="upper center", ncol=2, frameon=False)
    fig.tight_layout()
    return fig
