"""What `notebooks/explore.ipynb` calls: one image, one mask, every method side by side.

The image is a test image of a study ("test:<index>", with its ground truth) or any
image file; the mask is seeded squares or brush strokes, a mask PNG or the image's alpha channel, as
in the inpaint command (`inpaint_lib.tool.command`), whose methods, full-resolution rule and
composite this uses. Metrics are `metrics.per_image_metrics` on the [0, 1] scale,
shown where the pixels under the holes are known (a test image, or an image file
with a mask PNG or squares; not under transparency).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import torch
from matplotlib.figure import Figure
from torch import Tensor

from ..device import default_device
from ..metrics import METRIC_LABELS, mean_metrics, per_image_metrics
from .command import (
    CLASSICAL,
    HOLE_COLOUR,
    Picture,
    ToolError,
    alpha_mask,
    check_mask,
    inpaint,
    parse_squares,
    parse_strokes,
    read_image,
    read_mask,
    resolve_methods,
    squares_mask,
    strokes_mask,
    trained_networks,
)

SHOWN_METRICS = ["hole_mse", "hole_mae", "hole_psnr", "ssim", "psnr_composite"]


@dataclass(frozen=True)
class Source:
    picture: Picture
    label: str  # e.g. "test image 3 of CIFAR-10 (JPEG copy)" or the file's path
    path: Path | None  # the file, when the image is one


def load_image(spec: str, params_file: str, profile: str) -> Source:
    """'test:<i>' -> the study's i-th test image; anything else is a path to an image file."""
    if spec.startswith("test:"):
        from ..section import open_section

        study = open_section(params_file, profile)
        index = int(spec.split(":", 1)[1])
        test = study.splits.test  # (N, 3, H, W) uint8
        if not 0 <= index < len(test):
            raise ToolError(f"image {spec}: the test split of {study.splits.name} has {len(test)} images")
        return Source(Picture(test[index], None), f"test image {index} of {study.splits.name}", None)
    path = Path(spec).expanduser()
    return Source(read_image(path), str(path), path)


def make_mask(spec: str, source: Source, seed: int) -> Tensor:
    """'squares:COUNT:SIZE', 'strokes:COUNT:WIDTH', 'alpha', or a mask file -> (1, H, W) bool,
    True = missing."""
    where = source.label
    if spec.startswith("squares:"):
        count, side = parse_squares(spec.split(":", 1)[1])
        mask = squares_mask(source.picture.size, count, side, seed, Path(where))
    elif spec.startswith("strokes:"):
        count, width = parse_strokes(spec.split(":", 1)[1])
        mask = strokes_mask(source.picture.size, count, width, seed, Path(where))
    elif spec == "alpha":
        mask = alpha_mask(source.picture, Path(where))
    else:
        mask = read_mask(Path(spec).expanduser(), source.picture.size, Path(where))
    check_mask(mask, where)
    return mask


def method_names(methods: str, profile: str) -> list[str]:
    """The methods to run: "all" is the classical ones, the shipped photo network (when this
    install has one: no training needed) and every network trained for `profile`."""
    if methods.strip() == "all":
        from ..shipped import NAME, load

        shipped = [NAME] if load() is not None else []
        return [*CLASSICAL, *shipped, *(n.name for n in trained_networks(profile))]
    return [m.strip() for m in methods.split(",") if m.strip()]


def inpaint_all(source: Source, mask: Tensor, names: list[str],
                profile: str) -> dict[str, tuple[Tensor, float]]:
    """{method: (output (3, H, W) uint8, seconds)} for every named method."""
    out = {}
    for name, method in resolve_methods(names, profile, default_device()):
        t0 = time.perf_counter()
        out[name] = (inpaint(source.picture.rgb, mask, method), time.perf_counter() - t0)
    return out


def side_by_side(source: Source, mask: Tensor, results: dict[str, tuple[Tensor, float]],
                 columns: int = 5) -> Figure:
    """The input with its holes, then every method's output, labelled, `columns` per row."""
    shown = torch.where(mask, torch.tensor(HOLE_COLOUR, dtype=torch.uint8).view(3, 1, 1),
                        source.picture.rgb)
    tiles = [("input (missing = magenta)", shown)] + [(f"{name} ({sec:.2f} s)", img)
                                                       for name, (img, sec) in results.items()]
    h, w = source.picture.size
    rows = -(-len(tiles) // columns)
    size = 2.6
    fig, axes = plt.subplots(rows, columns, figsize=(size * columns, size * rows * h / w + 0.6),
                             squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, (label, img) in zip(axes.flat, tiles):
        ax.imshow(img.permute(1, 2, 0).numpy(), interpolation="nearest")
        ax.set_title(label, fontsize=9)
    fig.suptitle(f"{source.label}: {int(mask.sum()):,} missing pixels "
                 f"({mask.float().mean().item():.1%})")
    fig.tight_layout()
    return fig


def metrics_table(source: Source, mask: Tensor, results: dict[str, tuple[Tensor, float]]) -> pd.DataFrame:
    """One row per method: the report's per-image metrics on the [0, 1] scale, best first."""
    truth = source.picture.rgb[None].float() / 255  # (1, 3, H, W)
    rows = []
    for name, (img, sec) in results.items():
        m = mean_metrics(per_image_metrics(img[None].float() / 255, truth, mask[None]))
        rows.append({"method": name, "seconds": sec, **{METRIC_LABELS[k]: m[k] for k in SHOWN_METRICS}})
    return pd.DataFrame(rows).sort_values(METRIC_LABELS["hole_psnr"], ascending=False)


def has_truth(mask_spec: str) -> bool:
    """Are the pixels under the holes known? Not when the hole is the alpha channel."""
    return mask_spec != "alpha"


def describe(source: Source, mask: Tensor, mask_spec: str, names: list[str]) -> str:
    """One Markdown line: the image, its size, the mask and the methods that will run."""
    h, w = source.picture.size
    return (f"**{source.label}**, {w}×{h} px; mask `{mask_spec}`: {int(mask.sum()):,} missing "
            f"pixels ({mask.float().mean().item():.1%}). Methods ({len(names)}): {', '.join(names)}.")


def scores(source: Source, mask: Tensor, mask_spec: str,
           results: dict[str, tuple[Tensor, float]]) -> str:
    """The metrics table as HTML where the pixels under the holes are known, else why not."""
    if not has_truth(mask_spec):
        return ("<p>The holes come from the alpha channel: the pixels under them are not known, so "
                "there is nothing to score against.</p>")
    from ..report.show import format_table

    return format_table(metrics_table(source, mask, results), digits=5).to_html()
