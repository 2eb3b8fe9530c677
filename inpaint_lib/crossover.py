"""Where a trained network beats inpainting without training: the crossover section.

Every method (the classical ones and the photo network) is scored by `Section.score` on the
same held-out photos under each mask setting of `evaluation.crossover` (masks drawn once
per setting with the study's seed). For each setting, the best classical method is the one
with the highest mean hole PSNR, and the network is set against it image by image: the
paired difference of hole PSNR, hole MAE and SSIM with a 95% bootstrap interval
(`stats.paired_bootstrap`). The table is saved as ``results/<profile>/crossover.json``,
from which the ``inpaint`` command picks its default per image (`default_for_width`).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd
import torch

from .io import atomic_write_json, read_json
from .masks import fixed_masks, hole_width
from .methods import Method, classical_methods
from .runs import results_root
from .section import Section, spread
from .stats import paired_bootstrap

MARGIN_METRICS = {"hole_psnr": 1.0, "hole_mae": -1.0, "ssim": 1.0}  # sign: +1 higher is better
CROSSOVER_FILE = "crossover.json"


def test_images(study: Section) -> tuple[torch.Tensor, str]:
    """(the test photos the section scores, their data id): `evaluation.crossover_images`
    of them spread evenly over the test split (which is ordered by breed), else all."""
    test, n = study.splits.test, study.params.evaluation.crossover_images
    if n is None or n >= len(test):
        return test, study.splits.fingerprint
    return test[spread(len(test), n)], f"{study.splits.fingerprint}:spread{n}"


def setting_widths(study: Section, n: int = 64) -> dict[tuple[str, str], float]:
    """Median hole width (`masks.hole_width`, px) of each crossover setting's test masks."""
    images, _ = test_images(study)
    h, w = images.shape[-2:]
    out = {}
    for shape, settings in study.params.evaluation.crossover.items():
        for label, cfg in settings.items():
            masks = fixed_masks(len(images), h, w, cfg, study.params.evaluation.mask_seed)[:n]
            out[(shape, label)] = float(hole_width(masks).median())
    return out


def crossover_table(study: Section, networks: list[Method]) -> pd.DataFrame:
    """One row per (mask shape, setting, method): mean metrics, hole fraction and width,
    and for networks the paired difference to the setting's best classical method (and to
    biharmonic) with 95% bootstrap intervals: `<metric>_margin`, `_low`, `_high`."""
    rows: list[dict[str, Any]] = []
    widths = setting_widths(study)
    images, data_id = test_images(study)
    classical = classical_methods()
    for shape, settings in study.params.evaluation.crossover.items():
        for label, cfg in settings.items():
            scores = {m.name: study.score(m, cfg, images, data_id) for m in [*classical, *networks]}
            best = max((m.name for m in classical),
                       key=lambda name: scores[name]["hole_psnr"].mean().item())
            for m in [*classical, *networks]:
                s = scores[m.name]
                row = {"shape": shape, "setting": label, "width": widths[(shape, label)],
                       "method": m.name, "kind": "classical" if m in classical else "network",
                       "best_classical": best, "images": len(s["hole_psnr"]),
                       **{k: s[k].mean().item() for k in MARGIN_METRICS}}
                if row["kind"] == "network":
                    for ref, tag in ((best, ""), ("biharmonic", "_vs_biharmonic")):
                        for metric in MARGIN_METRICS:
                            n = min(len(s[metric]), len(scores[ref][metric]))
                            diff = (s[metric][:n] - scores[ref][metric][:n]).tolist()
                            mean, low, high = paired_bootstrap(diff)
                            row[f"{metric}_margin{tag}"] = mean
                            row[f"{metric}_low{tag}"], row[f"{metric}_high{tag}"] = low, high
                rows.append(row)
    return pd.DataFrame(rows)


def margins(table: pd.DataFrame) -> pd.DataFrame:
    """The network rows only: shape, setting, width, best classical and the margins."""
    cols = ["shape", "setting", "width", "method", "best_classical",
            *[f"{m}_{p}" for m in MARGIN_METRICS for p in ("margin", "low", "high")]]
    return table[table["kind"] == "network"][cols].reset_index(drop=True)


def wins(row: pd.Series, metric: str = "hole_psnr") -> bool:
    """The interval of the network's margin excludes zero on the better side."""
    sign = MARGIN_METRICS[metric]
    low, high = row[f"{metric}_low"], row[f"{metric}_high"]
    return low > 0 if sign > 0 else high < 0


def targets(table: pd.DataFrame) -> list[dict[str, Any]]:
    """The issue's targets on hole PSNR, each met or missed with its numbers:
    >= 1 dB over the best classical method, interval excluding zero, for squares of 16 px
    and larger (including one box) and for medium and thick strokes; on the smallest
    squares, never more than 0.1 dB below biharmonic."""
    net = margins(table)
    full = table[table["kind"] == "network"].reset_index(drop=True)
    out = []
    for i, row in net.iterrows():
        big_square = row["shape"] != "strokes" and row["width"] >= 15
        thick_stroke = row["shape"] == "strokes" and row["setting"] in ("medium", "thick")
        if big_square or thick_stroke:
            out.append({"target": f"{row['shape']} {row['setting']}: +1 dB over {row['best_classical']}",
                        "margin": row["hole_psnr_margin"], "low": row["hole_psnr_low"],
                        "high": row["hole_psnr_high"],
                        "met": row["hole_psnr_margin"] >= 1.0 and row["hole_psnr_low"] > 0})
    squares = full[full["shape"] == "squares"]
    if len(squares):
        small = squares.loc[squares["width"].idxmin()]
        out.append({"target": f"squares {small['setting']}: at most 0.1 dB below biharmonic",
                    "margin": small["hole_psnr_margin_vs_biharmonic"],
                    "low": small["hole_psnr_low_vs_biharmonic"],
                    "high": small["hole_psnr_high_vs_biharmonic"],
                    "met": small["hole_psnr_margin_vs_biharmonic"] >= -0.1})
    return out


# --------------------------------------------------------------- the tool's rule
def save_crossover(profile: str, table: pd.DataFrame, run_dir: str) -> Path:
    """Write the network's margins by hole width for the ``inpaint`` command's default."""
    path = results_root(profile) / CROSSOVER_FILE
    rows = margins(table).to_dict(orient="records")
    atomic_write_json(path, {"network_run": run_dir, "rows": rows})
    return path


def load_crossover(profile: str) -> dict[str, Any] | None:
    path = results_root(profile) / CROSSOVER_FILE
    return read_json(path) if path.exists() else None


DEFAULT_RULE = ("per image: the width of its holes (twice the largest distance from a hole "
                "pixel to a known one) is matched to the crossover setting of nearest width "
                "(log scale); the network is used where its hole-PSNR margin over the best "
                "classical method there has a 95% interval above zero, else that best "
                "classical method")


def default_for_width(crossover: dict[str, Any], width: float) -> tuple[str, dict[str, Any]]:
    """(method name, the crossover row it rests on) for an image whose holes are `width` px
    wide (`masks.hole_width`): see `DEFAULT_RULE`."""
    rows = crossover["rows"]
    row = min(rows, key=lambda r: abs(math.log(max(width, 1)) - math.log(max(r["width"], 1))))
    return (row["method"] if row["hole_psnr_low"] > 0 else row["best_classical"]), row


def image_hole_width(mask: torch.Tensor) -> float:
    """mask: (H, W) or (1, H, W) bool -> the width of its holes (`masks.hole_width`)."""
    return float(hole_width(mask.reshape(1, 1, *mask.shape[-2:]))[0])
