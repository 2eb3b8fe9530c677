"""Where a trained network beats inpainting without training: the crossover section.

Every method (the classical ones and the photo network) is scored by `Section.score` on the
same held-out photos under each mask setting of `evaluation.crossover` (masks drawn once
per setting with the study's seed). For each setting, the best classical method is the one
with the highest mean hole PSNR, and the network is set against it image by image: the
paired difference of hole PSNR, hole MAE and SSIM with a 95% bootstrap interval
(`stats.paired_bootstrap`). The table is saved as ``results/<profile>/crossover.json``,
from which the ``inpaint`` command picks its default per hole (`plan_holes`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
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


SPLITS = ("test", "val")  # the test photos (the card's, the tool's table); the validation
# photos, held out whole from the training photos (`data.val_size`): every choice is made there


def test_images(study: Section, split: str = "test") -> tuple[torch.Tensor, str]:
    """(the photos the section scores, their data id): `evaluation.crossover_images` of them
    spread evenly over the split (ordered by breed), else all; `split`: "test", or "val" (the
    validation photos, to choose on)."""
    if split not in SPLITS:
        raise ValueError(f"split: {split!r} is not one of {', '.join(SPLITS)}")
    images, n = getattr(study.splits, split), study.params.evaluation.crossover_images
    data_id = study.splits.fingerprint + ("" if split == "test" else f":{split}")
    if split == "val" and not len(images):
        raise ValueError(f"{study.params.source_file}: no validation photos (data.val_size is 0)")
    if n is None or n >= len(images):
        return images, data_id
    return images[spread(len(images), n)], f"{data_id}:spread{n}"


# area / width² above which a hole is a stroke: a square's is 1; of the crossover's test holes,
# 3% of the squares' are above 2, and 98%, 83% and 67% of thin, medium and thick strokes'
STROKE_ELONGATION = 2.0


def hole_components(mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """mask: (H, W) bool, True = missing -> (labels (H, W) int64, 0 = known, 1..K a hole;
    widths (K,) px; elongations (K,)). A hole is a connected group of missing pixels (8
    neighbours); its width is twice the largest distance from one of its pixels to a known
    pixel (`masks.hole_width` of that hole alone: a square's side, a stroke's width), its
    elongation its area over width² (1 for a square, about length / width for a stroke)."""
    import numpy as np
    from scipy.ndimage import distance_transform_edt, label, maximum

    m = mask.cpu().numpy().astype(bool)
    labels, k = label(m, structure=np.ones((3, 3), dtype=bool))
    if k == 0:
        return torch.from_numpy(labels.astype(np.int64)), torch.zeros(0), torch.zeros(0)
    widths = 2 * np.asarray(maximum(distance_transform_edt(m), labels, index=np.arange(1, k + 1)))
    areas = np.bincount(labels.ravel(), minlength=k + 1)[1:]
    return (torch.from_numpy(labels.astype(np.int64)), torch.from_numpy(widths).float(),
            torch.from_numpy(areas / np.maximum(widths, 1) ** 2).float())


def component_widths(masks: torch.Tensor) -> torch.Tensor:
    """masks: (N, 1, H, W) bool -> the width of every hole of every mask (`hole_components`),
    concatenated: where `masks.hole_width` takes each image's widest hole, this counts each hole."""
    return torch.cat([hole_components(m[0])[1] for m in masks]) if len(masks) else torch.zeros(0)


def setting_widths(study: Section, n: int = 64,
                   split: str = "test") -> dict[tuple[str, str], tuple[float, float]]:
    """(median image hole width (`masks.hole_width`: each image's widest hole), median width
    of a single hole (`masks.component_widths`: every hole counted)), px, of each crossover
    setting's masks on `split`'s photos (the first `n`)."""
    images, _ = test_images(study, split)
    h, w = images.shape[-2:]
    out = {}
    for shape, settings in study.params.evaluation.crossover.items():
        for label, cfg in settings.items():
            masks = fixed_masks(len(images), h, w, cfg, study.params.evaluation.mask_seed)[:n]
            out[(shape, label)] = (float(hole_width(masks).median()),
                                   float(component_widths(masks).median()))
    return out


def crossover_table(study: Section, networks: list[Method], split: str = "test") -> pd.DataFrame:
    """One row per (mask shape, setting, method): mean metrics, hole fraction and width,
    and for networks the paired difference to the setting's best classical method (and to
    biharmonic) with 95% bootstrap intervals: `<metric>_margin`, `_low`, `_high`. On the
    test photos, or on the validation photos (`split` "val": where choices are made)."""
    rows: list[dict[str, Any]] = []
    widths = setting_widths(study, split=split)
    images, data_id = test_images(study, split)
    classical = classical_methods()
    for shape, settings in study.params.evaluation.crossover.items():
        for label, cfg in settings.items():
            scores = {m.name: study.score(m, cfg, images, data_id) for m in [*classical, *networks]}
            best = max((m.name for m in classical),
                       key=lambda name: scores[name]["hole_psnr"].mean().item())
            for m in [*classical, *networks]:
                s = scores[m.name]
                row = {"shape": shape, "setting": label, "width": widths[(shape, label)][0],
                       "hole_width": widths[(shape, label)][1],
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
    cols = ["shape", "setting", "width", "hole_width", "method", "best_classical",
            *[f"{m}_{p}" for m in MARGIN_METRICS for p in ("margin", "low", "high")]]
    return table[table["kind"] == "network"][cols].reset_index(drop=True)


def wins(row: pd.Series, metric: str = "hole_psnr") -> bool:
    """The interval of the network's margin excludes zero on the better side."""
    sign = MARGIN_METRICS[metric]
    low, high = row[f"{metric}_low"], row[f"{metric}_high"]
    return low > 0 if sign > 0 else high < 0


# The photo network's targets (hole-PSNR margin over the best classical method, paired per
# image, 95% interval): (shape, setting, what is asked, threshold in dB)
TARGETS = (("squares", "32 px", "gain", 1.0), ("squares", "64 px", "gain", 1.0),
           ("one box", "96 px", "gain", 1.0), ("squares", "16 px", "above zero", 0.0),
           ("strokes", "thick", "above zero", 0.0), ("squares", "4 px", "no worse than", -0.2),
           ("strokes", "thin", "no worse than", -0.2))


def targets(table: pd.DataFrame | list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each of `TARGETS` met or missed on its 95% interval, not its point estimate, with its
    numbers: a "gain" of at least the threshold and "no worse than" the threshold: the whole
    interval at or above it; "above zero": the interval above zero. `table`: a crossover table,
    or its `margins` records (a card's rows). Settings the table lacks are left out."""
    net = pd.DataFrame(table) if isinstance(table, list) else margins(table)
    out = []
    for shape, setting, ask, threshold in TARGETS:
        rows = net[(net["shape"] == shape) & (net["setting"] == setting)]
        if rows.empty:
            continue
        r = rows.iloc[0]
        margin, low, high = r["hole_psnr_margin"], r["hole_psnr_low"], r["hole_psnr_high"]
        met = {"gain": low >= threshold, "above zero": low > 0,
               "no worse than": low >= threshold}[ask]
        what = {"gain": f"at least {threshold:+.1f} dB, the whole interval",
                "above zero": "interval above zero",
                "no worse than": f"no worse than {threshold:+.1f} dB, the whole interval"}[ask]
        out.append({"target": f"{shape} {setting}: {what} over {r['best_classical']}",
                    "margin": margin, "low": low, "high": high, "met": bool(met)})
    return out


# --------------------------------------------------------------- the tool's rule
def save_crossover(profile: str, table: pd.DataFrame, run_dir: str) -> Path:
    """Write the network's margins by hole width for the ``inpaint`` command's default."""
    path = results_root(profile) / CROSSOVER_FILE
    rows = margins(table).to_dict(orient="records")
    images = int(table["images"].max()) if "images" in table and len(table) else 0
    atomic_write_json(path, {"network_run": run_dir, "rows": rows, "images": images})
    return path


def load_crossover(profile: str) -> dict[str, Any] | None:
    path = results_root(profile) / CROSSOVER_FILE
    return read_json(path) if path.exists() else None


# ------------------------------------------------------- the tool's rule, per hole
PER_HOLE_RULE = ("per hole: each connected hole of the mask is measured (its width: twice the "
                 "largest distance from one of its pixels to a known one; a stroke if its area "
                 "is over " + f"{STROKE_ELONGATION:g}" + "x its width squared) and matched to the "
                 "crossover setting of the same kind (strokes, or squares and boxes) whose holes "
                 "are nearest in width (log scale); the network fills it where its hole-PSNR "
                 "margin over the best classical method there has a 95% interval above zero, "
                 "else that best classical method does; then, where copies of a setting's holes "
                 "fit on the photo's known pixels, both fill them, and the margin measured on "
                 "these copies is weighed with the table's (each by its precision) to decide that "
                 "setting's holes on this photo")


@dataclass(frozen=True)
class HolePlan:
    """Which method fills which hole of one mask (`plan_holes`)."""

    labels: torch.Tensor  # (H, W) int64: 0 known, i the i-th hole
    holes: list[dict[str, Any]]  # per hole: width, stroke, method, row (its crossover row)

    def methods(self) -> list[str]:
        """The methods the plan uses, the most-used first."""
        counts: dict[str, int] = {}
        for h in self.holes:
            counts[h["method"]] = counts.get(h["method"], 0) + 1
        return sorted(counts, key=lambda m: -counts[m])

    def mask_for(self, method: str) -> torch.Tensor:
        """(H, W) bool: the holes `method` fills."""
        ids = torch.tensor([i + 1 for i, h in enumerate(self.holes) if h["method"] == method])
        return torch.isin(self.labels, ids)

    def explain(self, network: str) -> str:
        """One line: how many holes each method fills, with the evidence for the choice."""
        parts = []
        for method in self.methods():
            mine = [h for h in self.holes if h["method"] == method]
            widths = [h["width"] for h in mine]
            rows = {(h["row"]["shape"], h["row"]["setting"]): h["row"] for h in mine}
            evidence = "; ".join(
                f"{shape} {setting}: {r['hole_psnr_margin']:+.2f} dB [{r['hole_psnr_low']:+.2f}, "
                f"{r['hole_psnr_high']:+.2f}]" for (shape, setting), r in list(rows.items())[:2])
            size = (f"{min(widths):.0f} px" if min(widths) == max(widths) else
                    f"{min(widths):.0f}-{max(widths):.0f} px")
            checks = {group_of(h): h["checked"] for h in mine if "checked" in h}
            on_photo = "; ".join(f"on this photo {c['margin']:+.2f} dB over {c['copies']} "
                                 f"cop{'y' if c['copies'] == 1 else 'ies'} of its {shape} {setting} "
                                 f"holes, {c['combined']:+.2f} dB with the pets'"
                                 for (shape, setting), c in list(checks.items())[:2])
            parts.append(f"{len(mine)} hole{'s' if len(mine) != 1 else ''} {size} wide by {method} "
                         f"({network} vs {mine[0]['row']['best_classical']}: on held-out pets "
                         f"{evidence}" + (f"; {on_photo}" if on_photo else "") + ")")
        return "; ".join(parts)


def plan_holes(crossover: dict[str, Any], mask: torch.Tensor) -> HolePlan:
    """The per-hole default (`PER_HOLE_RULE`) for one mask (H, W) or (1, H, W) bool, from a
    crossover table ({"rows": `margins` records}); a hole's method is the network's name
    (the rows' "method") or the best classical method of its matched setting."""
    labels, widths, elongations = hole_components(mask.reshape(mask.shape[-2:]))
    rows = crossover["rows"]
    holes = []
    for width, elongation in zip(widths.tolist(), elongations.tolist()):
        stroke = elongation > STROKE_ELONGATION
        same = [r for r in rows if (r["shape"] == "strokes") == stroke] or rows
        row = min(same, key=lambda r: abs(math.log(max(width, 1))
                                          - math.log(max(r.get("hole_width", r["width"]), 1))))
        method = row["method"] if row["hole_psnr_low"] > 0 else row["best_classical"]
        holes.append({"width": width, "stroke": stroke, "method": method, "row": row})
    return HolePlan(labels, holes)


# --------------------------------------------------- the check on the user's own photo
DECOYS_PER_GROUP = 8  # copies of a group's holes placed on known pixels, at most
DECOY_MARGIN = 8  # px kept free around every hole, real or copied


def group_of(hole: dict[str, Any]) -> tuple[str, str]:
    """The crossover setting a hole was matched to: its group."""
    return hole["row"]["shape"], hole["row"]["setting"]


def place_decoys(plan: HolePlan, seed: int = 0, per_group: int = DECOYS_PER_GROUP,
                 margin: int = DECOY_MARGIN) -> torch.Tensor:
    """Copies of the photo's own holes where its pixels are known, to test the methods on:
    (H, W) int64, 0 nowhere, i + 1 a copy of hole i. Up to `per_group` holes of each group
    (widest first) are each copied once, moved by a seeded offset of 1.5-4 hole widths in one
    of 8 directions (the first of 24 tries that lands inside the photo), only where the copy
    and `margin` px around it touch no hole and no other copy: so a copy's pixels are known,
    the biharmonic fill of a real hole is the same with or without the copies (its stencil
    reaches 2 px), and the network sees a copy only from `margin` px away or more."""
    from scipy.ndimage import find_objects

    labels = plan.labels
    h, w = labels.shape
    blocked = torch.nn.functional.max_pool2d((labels > 0).float()[None, None], 2 * margin + 1,
                                             stride=1, padding=margin)[0, 0] > 0
    decoys = torch.zeros_like(labels)
    g = torch.Generator().manual_seed(seed)
    boxes = find_objects(labels.numpy())  # each hole's bounding box: no full-image pass per hole
    by_group: dict[tuple[str, str], list[int]] = {}
    for i, hole in sorted(enumerate(plan.holes), key=lambda ih: -ih[1]["width"]):
        by_group.setdefault(group_of(hole), []).append(i)
    directions = [(0, 1), (1, 0), (0, -1), (-1, 0), (1, 1), (1, -1), (-1, 1), (-1, -1)]
    for members in by_group.values():
        for i in members[:per_group]:
            by, bx = boxes[i]
            ys, xs = torch.nonzero(labels[by, bx] == i + 1, as_tuple=True)
            ys, xs = ys + by.start, xs + bx.start
            span = max(int(ys.max() - ys.min()), int(xs.max() - xs.min())) + 1
            for _ in range(24):
                dy, dx = directions[int(torch.randint(8, (1,), generator=g))]
                dist = int(span * (1.5 + 2.5 * torch.rand(1, generator=g).item()))
                ty, tx = ys + dy * dist, xs + dx * dist
                if ty.min() < 0 or tx.min() < 0 or ty.max() >= h or tx.max() >= w:
                    continue
                if bool(blocked[ty, tx].any()):
                    continue
                decoys[ty, tx] = i + 1
                y0, y1 = max(int(ty.min()) - margin, 0), min(int(ty.max()) + margin + 1, h)
                x0, x1 = max(int(tx.min()) - margin, 0), min(int(tx.max()) + margin + 1, w)
                blocked[y0:y1, x0:x1] = True  # a box around the copy: cheaper than a dilation
                break
    return decoys


def photo_spread(row: dict[str, Any], images: int) -> float:
    """How much the network's margin varies from one photo to the next, in dB: the per-image
    standard deviation behind the row's 95% interval over `images` held-out photos."""
    return (row["hole_psnr_high"] - row["hole_psnr_low"]) / (2 * 1.96) * math.sqrt(max(images, 1))


def check_on_photo(plan: HolePlan, decoys: torch.Tensor, image: torch.Tensor,
                   fills: dict[str, torch.Tensor], network: str, images: int) -> HolePlan:
    """The plan with each group's method decided by the table and the photo together, where
    copies of the group's holes could be placed. The copies' pixels are known, so each copy
    gives the network's margin over the group's best classical method on this photo (hole
    PSNR, dB). That is weighed against the table's margin for the setting as one estimate of
    the margin on this photo: the table's (a mean over `images` held-out pets, with their
    photo-to-photo spread `photo_spread`) and the copies' mean (their own spread over k
    copies; with fewer than 3, the table's spread), each by its precision; the network fills
    the group where the combined margin is above zero. A few copies move the choice only when
    they disagree with the table by more than the table's photo-to-photo spread allows.
    image: (3, H, W) uint8; fills: {method: (3, H, W) uint8, its fill of the holes and the
    copies}. Each hole records the evidence (`checked`)."""
    truth = image.double() / 255
    ids = decoys.flatten()
    found = ids > 0
    count = torch.bincount(ids[found], minlength=len(plan.holes) + 1).double()  # pixels per copy
    per_copy: dict[str, torch.Tensor] = {}
    for name, out in fills.items():
        err = ((out.double() / 255 - truth) ** 2).mean(0).flatten()
        sums = torch.bincount(ids[found], weights=err[found], minlength=len(plan.holes) + 1)
        per_copy[name] = 10 * torch.log10(1 / (sums / count.clamp(min=1)).clamp(min=1e-10))
    groups: dict[tuple[str, str], list[int]] = {}
    for i, hole in enumerate(plan.holes):
        if count[i + 1] > 0:
            groups.setdefault(group_of(hole), []).append(i + 1)
    decided: dict[tuple[str, str], dict[str, Any]] = {}
    holes = []
    for hole in plan.holes:
        key, row = group_of(hole), hole["row"]
        copies = groups.get(key, [])
        classical = row["best_classical"]
        if not copies or network not in per_copy or classical not in per_copy:
            holes.append(hole)
            continue
        if key not in decided:
            margins = per_copy[network][copies] - per_copy[classical][copies]
            spread = max(photo_spread(row, images), 1e-6)
            within = float(margins.std()) if len(copies) >= 3 else spread
            w_table, w_photo = 1 / spread**2, len(copies) / max(within, 1e-6) ** 2
            combined = (w_table * row["hole_psnr_margin"] + w_photo * float(margins.mean())) / (
                w_table + w_photo)
            decided[key] = {"copies": len(copies), "margin": float(margins.mean()),
                            "combined": combined}
        c = decided[key]
        holes.append({**hole, "method": network if c["combined"] > 0 else classical, "checked": c})
    return HolePlan(plan.labels, holes)
