"""Figures in one style, as pure functions: data in, a matplotlib Figure out.

Image grids (reconstructions), loss curves, a metric against a setting (the mask
sweep), and annotated heatmaps. Notebooks display them with `show.figure`.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure
from torch import Tensor

from .tables import AT_STUDY_SCALE

sns.set_theme(style="whitegrid", context="notebook", palette="deep")
plt.rcParams.update({"figure.dpi": 96, "savefig.bbox": "tight", "axes.titleweight": "bold"})


def _to_hwc(img: Tensor) -> np.ndarray:
    """img: (3, H, W) in [0, 1] or uint8 -> (H, W, 3) float in [0, 1]."""
    x = img.detach().cpu().float()
    if img.dtype.is_floating_point is False:
        x = x / 255
    return x.clamp(0, 1).permute(1, 2, 0).numpy()


def image_grid(rows: dict[str, Tensor], title: str, col_labels: list[str] | None = None,
               size: float = 1.6) -> Figure:
    """rows: {label: (N, 3, H, W) in [0, 1] or uint8}; one row of N images per label."""
    n_rows, n_cols = len(rows), max(len(v) for v in rows.values())
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(size * n_cols, size * n_rows + 0.4),
                             squeeze=False)
    for r, (label, imgs) in enumerate(rows.items()):
        for c in range(n_cols):
            ax = axes[r, c]
            ax.set_xticks([])
            ax.set_yticks([])
            ax.grid(False)
            if c < len(imgs):
                ax.imshow(_to_hwc(imgs[c]), interpolation="nearest")
            if c == 0:
                ax.set_ylabel(label, rotation=0, ha="right", va="center", fontsize=9)
            if r == 0 and col_labels:
                ax.set_title(col_labels[c], fontsize=9)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def loss_curves(histories: dict[str, list[dict[str, float]]], title: str,
                ylabel: str = "MSE loss", boundaries: list[tuple[int, str]] | None = None,
                logy: bool = False) -> Figure:
    """Train (solid) and held-out (dashed) loss per epoch for each named run."""
    fig, ax = plt.subplots(figsize=(8, 4.2))
    colours = sns.color_palette("deep", len(histories))
    for colour, (name, hist) in zip(colours, histories.items()):
        epochs = [h["epoch"] for h in hist]
        held = next(k for k in hist[0] if k in ("val_loss", "test_loss"))
        marker = "o" if len(epochs) < 5 else None  # a phase of one or two epochs is points, not a line
        ax.plot(epochs, [h["train_loss"] for h in hist], color=colour, marker=marker, label=f"{name} train")
        ax.plot(epochs, [h[held] for h in hist], color=colour, ls="--", marker=marker,
                label=f"{name} {held.removesuffix('_loss')}")
    for epoch, label in boundaries or []:
        ax.axvline(epoch - 0.5, color="grey", lw=0.8, ls=":")
        ax.text(epoch - 0.5, 1.0, label, rotation=90, va="top", ha="right", fontsize=8,
                transform=ax.get_xaxis_transform())
    if logy:
        ax.set_yscale("log")
    ax.set(xlabel="epoch", ylabel=ylabel, title=title)
    ax.legend(fontsize=8, ncol=2 if len(histories) > 2 else 1)
    fig.tight_layout()
    return fig


def metric_vs_setting(df: pd.DataFrame, x: str, y: str, hue: str, title: str, ylabel: str,
                      logy: bool = False) -> Figure:
    """Lines of `y` against `x`, one per `hue` (e.g. MSE vs number of masks per method)."""
    fig, ax = plt.subplots(figsize=(8, 4.2))
    sns.lineplot(data=df, x=x, y=y, hue=hue, style=hue, markers=True, dashes=False, ax=ax)
    if logy:
        ax.set_yscale("log")
    ax.set(title=title, ylabel=ylabel)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def heatmap(matrix: pd.DataFrame, title: str, cbar_label: str, fmt: str = ".3f") -> Figure:
    """matrix: rows (e.g. images) x columns (e.g. mask counts), annotated."""
    fig, ax = plt.subplots(figsize=(1.0 + 0.75 * matrix.shape[1], 0.9 + 0.42 * matrix.shape[0]))
    sns.heatmap(matrix, annot=True, fmt=fmt, cmap="rocket_r", cbar_kws={"label": cbar_label},
                annot_kws={"fontsize": 7}, ax=ax)
    ax.set_title(title)
    fig.tight_layout()
    return fig


def mask_sweep(sweep: pd.DataFrame, title: str) -> Figure:
    """Whole-image test MSE against the number of test masks, one line per method
    (`scoring.mask_sweep`; Part A's [-1, 1] scale)."""
    n = int(sweep["images"].iloc[0])
    return metric_vs_setting(sweep, "masks", "mse", "method", f"{title}, {n:,} test images",
                             "test MSE, whole image ([-1, 1] scale)")


def time_to_quality(histories: dict[str, list[dict[str, float]]], classical: dict[str, float],
                    title: str, ylabel: str = "held-out hole PSNR (dB)") -> Figure:
    """Held-out hole PSNR after each epoch against cumulative training seconds, one line per
    run (its history's `val_hole_psnr` and `seconds`); each classical method, which needs no
    training, as a horizontal line at its PSNR on the same images and masks."""
    fig, ax = plt.subplots(figsize=(8, 4.2))
    colours = sns.color_palette("deep", len(histories) + len(classical))
    for colour, (name, hist) in zip(colours, histories.items()):
        seconds = np.cumsum([h["seconds"] for h in hist])
        psnr = [next(v for k, v in h.items() if k.endswith("_hole_psnr")) for h in hist]
        ax.plot(seconds, psnr, marker="o", ms=3, color=colour, label=name)
    for colour, (name, value) in zip(colours[len(histories):], classical.items()):
        ax.axhline(value, color=colour, ls="--", lw=1.2, label=f"{name} (no training)")
    ax.set(xlabel="training seconds (cumulative, this machine)", ylabel=ylabel, title=title)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def hole_crops(rows: dict[str, Tensor], holes: Tensor, title: str, margin: int = 3,
               size: float = 1.9) -> Figure:
    """Each example cropped around its hole and enlarged, one row per method.

    rows: {label: (N, 3, H, W) in [0, 1] or uint8}, the same N images in every row;
    holes: (N, 1, H, W) bool. The crop is the hole's bounding box plus `margin` pixels,
    the same window in every row, drawn with nearest-neighbour enlargement.
    """
    n = len(holes)
    boxes = []
    for hole in holes[:, 0]:
        ys, xs = hole.nonzero(as_tuple=True)
        h, w = hole.shape
        boxes.append((max(int(ys.min()) - margin, 0), min(int(ys.max()) + margin + 1, h),
                      max(int(xs.min()) - margin, 0), min(int(xs.max()) + margin + 1, w)))
    cropped = {label: [imgs[i][:, y0:y1, x0:x1] for i, (y0, y1, x0, x1) in enumerate(boxes)]
               for label, imgs in rows.items()}
    fig, axes = plt.subplots(len(rows), n, figsize=(size * n, size * len(rows) + 0.4), squeeze=False)
    for r, (label, crops) in enumerate(cropped.items()):
        for c, crop in enumerate(crops):
            ax = axes[r, c]
            ax.imshow(_to_hwc(crop), interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            ax.grid(False)
            if c == 0:
                ax.set_ylabel(label, rotation=0, ha="right", va="center", fontsize=9)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


VERDICT_COLOURS = {"better": "#1a7f37", "worse": "#cf222e"}  # else grey: tied or mixed


def network_label(network: str, notebook: str) -> str:
    """'16 · latent', 'RMSprop · optimizers': a network's name with its section's topic (the
    notebook's name after its number), so that a bare '16' still says what it is."""
    topic = notebook.split("_", 1)[-1].replace("_", " ")
    return f"{network} · {topic}"


def findings_forest(networks: pd.DataFrame, title: str, own: dict[str, str] | None = None) -> Figure:
    """The findings' picture: one row per distinct trained network (`tables.by_network`), its
    difference from the best classical method in % of the classical method's mean with its 95%
    interval (its first comparison), one panel per part; left of zero the network is better.
    Green: better in every comparison, red: worse in every one, grey: tied or mixed; `own`
    ({part: name}) marks the study's own network. Labels at 10 pt on a 7-inch figure: about
    13 px on a page 1024 px wide, none cut."""
    parts = list(dict.fromkeys(networks.part))
    counts = [int((networks.part == p).sum()) for p in parts]
    heights = [1.0 + 0.21 * c for c in counts]  # title and axis label, then 0.21 in a row
    fig, axes = plt.subplots(len(parts), 1, figsize=(7, sum(heights)), squeeze=False,
                             gridspec_kw={"height_ratios": heights})
    for ax, part in zip(axes[:, 0], parts):
        p = networks[networks.part == part].sort_values("relative %", ascending=False)
        y = np.arange(len(p))
        mid, low, high = (p[c].to_numpy() for c in ("relative %", "relative low %", "relative high %"))
        for i, verdict in enumerate(p.verdict):
            c = VERDICT_COLOURS.get(verdict, "#888888")
            ax.plot([low[i], high[i]], [i, i], color=c, lw=2)
            ax.plot(mid[i], i, "o", color=c, ms=5)
        ax.axvline(0, color="black", lw=0.8)
        mine = {own[part], own[part] + AT_STUDY_SCALE} if own and part in own else set()
        ax.set_yticks(y, [network_label(n, nb) + (" (the study's)" if n in mine else "")
                          for n, nb in zip(p.network, p.notebook)], fontsize=10)
        ax.set_ylim(-0.7, len(p) - 0.3)
        what = p.metric.iloc[0]
        ax.set_xlabel(f"{what} vs {' / '.join(dict.fromkeys(p.classical))}, % (left of 0: network better)",
                      fontsize=10)
        ax.set_title(f"Part {part}", fontsize=11, loc="left")
        ax.tick_params(axis="x", labelsize=10)
        ax.grid(axis="x", color="#dddddd", lw=0.6)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def loss_weights(histories: dict[str, list[dict[str, float]]], title: str) -> Figure:
    """λ_MAE (solid) and λ_Perceptual (dashed) in force at each epoch, one colour per run
    (the histories' `w_mae`, `w_perceptual`): learned or adapted weights beside hand-set ones."""
    fig, ax = plt.subplots(figsize=(8, 4.2))
    colours = sns.color_palette("deep", len(histories))
    for colour, (name, hist) in zip(colours, histories.items()):
        epochs = [h["epoch"] for h in hist]
        ax.plot(epochs, [h["w_mae"] for h in hist], color=colour, label=f"{name}: λ_MAE")
        ax.plot(epochs, [h["w_perceptual"] for h in hist], color=colour, ls="--",
                label=f"{name}: λ_Perceptual")
    ax.set(xlabel="epoch", ylabel="loss weight", title=title)
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    return fig


def crossover_margins(margins: pd.DataFrame, title: str, metric: str = "hole_psnr",
                      ylabel: str = "hole PSNR margin over the best classical method (dB)") -> Figure:
    """Each network's margin (with its 95% interval) against hole width, one line per mask
    shape (and per network, solid then dashed, where `margins` holds several), the zero line
    drawn: above it the network wins."""
    fig, ax = plt.subplots(figsize=(8, 4.2))
    methods = list(dict.fromkeys(margins["method"])) if "method" in margins else [None]
    colours = dict(zip(dict.fromkeys(margins["shape"]), sns.color_palette("deep")))
    for k, method in enumerate(methods):
        rows = margins if method is None else margins[margins["method"] == method]
        for shape, g in rows.groupby("shape", sort=False):
            g = g.sort_values("width")
            y = g[f"{metric}_margin"]
            err = np.stack([y - g[f"{metric}_low"], g[f"{metric}_high"] - y])
            label = shape if len(methods) == 1 else f"{method}: {shape}"
            ax.errorbar(g["width"] * (1.03 if k else 1), y, yerr=err, marker="os"[k % 2], capsize=3,
                        color=colours[shape], ls=("-", "--")[k % 2], label=label)
    ax.axhline(0, color="black", linewidth=1)
    ax.set_xscale("log", base=2)
    ax.set(title=title, xlabel="hole width (px, log scale)", ylabel=ylabel)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
