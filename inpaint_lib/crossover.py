"""Where a trained network beats inpainting without training: the crossover section.

Every method (the classical ones and the photo network) is scored by `Section.score` on the
same held-out photos under each mask setting of `evaluation.crossover` (masks drawn once
per setting with the study's seed; a classical method too slow for every photo on a spread
subset of them, `evaluation.classical_images`). For each setting, the best classical method
is the one with the highest mean hole PSNR on the photos all of them were scored on, and the
network is set against it image by image: the
paired difference of hole PSNR, hole MAE and SSIM with a 95% bootstrap interval
(`stats.paired_bootstrap`). The table is saved as ``results/<profile>/crossover.json``,
from which the ``inpaint`` command picks its default per hole (`plan_holes`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from .evaluate import scored_images
from .io import atomic_write_json, read_json
from .masks import fixed_masks, hole_width
from .methods import Method
from .runs import results_root
from .section import Section, spread
from .stats import paired_bootstrap

if TYPE_CHECKING:  # pandas is imported where a table is built: the inpaint command needs none
    import pandas as pd

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


def _paired(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor], total: int,
            metric: str) -> list[float]:
    """a's minus b's per-image `metric` on the images both were scored on (a classical method
    limited to some images has them spread over the set: `evaluate.scored_images`)."""
    ia = scored_images(total, len(a[metric])).numpy()
    ib = scored_images(total, len(b[metric])).numpy()
    _, ka, kb = np.intersect1d(ia, ib, return_indices=True)
    return (a[metric][ka] - b[metric][kb]).tolist()


def best_classical(scores: dict[str, dict[str, torch.Tensor]], names: list[str], total: int) -> str:
    """The classical method (of `names`) with the highest mean hole PSNR on the images every
    one of them was scored on: the same images for each, whatever each one's limit."""
    common = None
    for name in names:
        idx = set(scored_images(total, len(scores[name]["hole_psnr"])).tolist())
        common = idx if common is None else common & idx
    keep = sorted(common or set())

    def mean(name: str) -> float:
        idx = scored_images(total, len(scores[name]["hole_psnr"])).tolist()
        where = {i: k for k, i in enumerate(idx)}
        values = scores[name]["hole_psnr"][[where[i] for i in keep]] if keep else scores[name]["hole_psnr"]
        return float(values.mean())

    return max(names, key=mean)


def crossover_table(study: Section, networks: list[Method], split: str = "test") -> pd.DataFrame:
    """One row per (mask shape, setting, method): mean metrics, hole fraction and width, the
    images scored, and for networks the paired difference to the setting's best classical
    method (`best_classical`: among every classical method the section runs, on the images
    they share) and to biharmonic with 95% bootstrap intervals (`<metric>_margin`, `_low`,
    `_high`), and the hole-PSNR margin over each classical method (`vs_classical`: {name:
    {margin, low, high, images}}, what the inpaint command weighs a photo's own choice with).
    On the test photos, or on the validation photos (`split` "val": where choices are made)."""
    import pandas as pd

    rows: list[dict[str, Any]] = []
    widths = setting_widths(study, split=split)
    images, data_id = test_images(study, split)
    total = len(images)
    classical = study.classical()
    names = [m.name for m in classical]
    for shape, settings in study.params.evaluation.crossover.items():
        for label, cfg in settings.items():
            scores = {m.name: study.score(m, cfg, images, data_id) for m in [*classical, *networks]}
            best = best_classical(scores, names, total)
            for m in [*classical, *networks]:
                s = scores[m.name]
                row = {"shape": shape, "setting": label, "width": widths[(shape, label)][0],
                       "hole_width": widths[(shape, label)][1],
                       "method": m.name, "kind": "classical" if m in classical else "network",
                       "best_classical": best, "images": len(s["hole_psnr"]),
                       **{k: s[k].mean().item() for k in MARGIN_METRICS}}
                if row["kind"] == "network":
                    refs = [(best, "")] + ([("biharmonic", "_vs_biharmonic")]
                                           if "biharmonic" in scores else [])
                    for ref, tag in refs:
                        for metric in MARGIN_METRICS:
                            mean, low, high = paired_bootstrap(_paired(s, scores[ref], total, metric))
                            row[f"{metric}_margin{tag}"] = mean
                            row[f"{metric}_low{tag}"], row[f"{metric}_high{tag}"] = low, high
                    row["vs_classical"] = {}
                    for name in names:
                        diff = _paired(s, scores[name], total, "hole_psnr")
                        mean, low, high = paired_bootstrap(diff)
                        row["vs_classical"][name] = {"margin": mean, "low": low, "high": high,
                                                     "images": len(diff)}
                rows.append(row)
    return pd.DataFrame(rows)


def margins(table: pd.DataFrame) -> pd.DataFrame:
    """The network rows only: shape, setting, width, best classical and the margins."""
    cols = ["shape", "setting", "width", "hole_width", "method", "best_classical",
            *[f"{m}_{p}" for m in MARGIN_METRICS for p in ("margin", "low", "high")]]
    cols += ["vs_classical"] if "vs_classical" in table else []
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
    import pandas as pd

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


def section_tables(study: Section, network: Method, run_dir: str,
                   shipped: Any = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The crossover section's (table, margins): `crossover_table` of its own network, written
    for the inpaint command (`save_crossover`), and where a photo network is shipped
    (`shipped.ShippedNetwork`) its rows scored on the same photos and masks (no training) as
    "shipped photo network"."""
    from dataclasses import replace

    import pandas as pd

    table = crossover_table(study, [network])
    out = margins(table)
    save_crossover(study.profile, table, run_dir)
    if shipped is not None:
        theirs = crossover_table(study, [replace(shipped.method(study.device),
                                                 name="shipped photo network")])
        out = pd.concat([out, margins(theirs)], ignore_index=True)
        table = pd.concat([table, theirs[theirs.kind == "network"]], ignore_index=True)
    return table, out


def named_targets(study: Section, table: pd.DataFrame,
                  shipped: Any = None) -> dict[str, list[dict[str, Any]]]:
    """The targets (`targets`) of this section's network on its photos and, where a network is
    shipped, those of its card (every held-out photo when it was shipped), by a label that says
    which photos."""
    photos = len(test_images(study)[0])
    named = {f"this profile's, on these {photos:,} photos":
             targets(table[table.method != "shipped photo network"])}
    if shipped is not None:  # its card's table (every held-out photo when shipped), today's rule
        named[f"shipped, on its card's {shipped.card['crossover']['images']:,} photos"] = \
            targets(shipped.card["crossover"]["rows"])
    return named


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
Z95 = 1.96  # a 95% interval: the estimate +- 1.96 standard errors

PER_HOLE_RULE = (
    "per hole: each connected hole of the mask is measured (its width: twice the largest "
    "distance from one of its pixels to a known one; a stroke if its area is over "
    f"{STROKE_ELONGATION:g}x its width squared) and matched to the crossover setting of the same "
    "kind (strokes, or squares and boxes) whose holes are nearest in width (log scale). Its "
    "classical method is the setting's best on the held-out photos among those the default runs "
    "on a photo of this size (FSR fast and PatchMatch only up to 200x200 px, FSR best never: "
    "seconds a hole). Then one rule decides between the network and that classical method: the "
    "network's hole-PSNR margin over it is estimated, and the network fills the holes where the "
    "95% interval of the estimate is above zero; a tie stays with the classical method. The "
    "table's evidence is its paired 95% interval on the held-out photos read as a normal "
    "estimate (centred on the interval's midpoint, standard error its width / 3.92), so without "
    "the check the table's own interval decides. With the check, copies of up to 8 of a setting's holes are placed on known pixels "
    "of the photo and filled, each alone in a window around it grown by the hole's width, with "
    "the real holes there missing too, by the network and by "
    "every classical method the default runs on this photo; the best of these on the copies "
    "becomes the group's classical method, and the network's margin over it on the copies (one "
    "value per copy: a hole, not an image, is the unit) is weighed with the table's estimate over "
    "the same method, each by its precision: the table's from its interval, the copies' from "
    "their spread, floored at the photo-to-photo spread behind the table's interval (a single "
    "hole varies at least as much as a photo's mean) and taken as that floor for one copy. So a "
    "few copies move a decision only where the table's own interval is wide; the real holes are "
    "then filled with the real mask only, the copies never")


def table_evidence(row: dict[str, Any], classical: str) -> dict[str, Any]:
    """{margin, low, high, se, images, against} of the network's hole PSNR over `classical` in
    a crossover row: its paired 95% interval against that method (`vs_classical`) where the
    table has it, else the row's against its best classical method (`against` names it: a
    bound, since no classical method does better on the table's photos); se, the standard
    error, is the interval's width / 3.92; images, the photos behind it (None where the row
    does not say)."""
    v = (row.get("vs_classical") or {}).get(classical)
    if v is None:
        v = {"margin": row["hole_psnr_margin"], "low": row["hole_psnr_low"],
             "high": row["hole_psnr_high"], "images": None, "against": row["best_classical"]}
    return {"against": classical, **v, "se": max((v["high"] - v["low"]) / (2 * Z95), 1e-6)}


def weigh(table: dict[str, Any], copies: list[float] | None = None,
          floor: float = 0.0) -> dict[str, Any]:
    """The one decision rule of the default, with or without copies: the table's evidence
    (`table_evidence`) read as a normal estimate, centred on its 95% interval's midpoint with
    standard error se (the interval's width / 3.92), so that with no copy the combined interval
    is the table's own bootstrap interval; the margins on the photo's copies (one per copy, dB)
    combined with it by precision, 1/se² for the table and k/s² for k copies, s their standard
    deviation floored at `floor` (with one copy, `floor`); the network wins where the combined
    95% interval is above zero, else (a tie or below) the classical method keeps the holes. A
    copy at or above the table's centre never lowers the interval's low end. ->
    {estimate, low, high, network, copies, copy_margin, copy_spread}."""
    k = len(copies or [])
    centre, se = (table["low"] + table["high"]) / 2, table["se"]
    w_table, w_photo, copy_margin, spread = 1 / se**2, 0.0, math.nan, math.nan
    if k:
        values = torch.tensor(copies, dtype=torch.float64)
        sample = float(values.std()) if k >= 2 else 0.0
        spread = max(sample, floor, 1e-6)
        w_photo = k / spread**2
        copy_margin = float(values.mean())
    estimate = (w_table * centre + (w_photo * copy_margin if k else 0.0)) / (w_table + w_photo)
    sd = (w_table + w_photo) ** -0.5
    low, high = estimate - Z95 * sd, estimate + Z95 * sd
    if not k:  # the table's own interval, exactly (not through rounding)
        low, high = table["low"], table["high"]
    return {"estimate": estimate, "low": low, "high": high, "network": low > 0, "copies": k,
            "copy_margin": copy_margin, "copy_spread": spread}


def table_classical(row: dict[str, Any], candidates: list[str] | None = None) -> str:
    """The row's best classical method among `candidates` (all when None): its own best where
    allowed, else the candidate the network's margin is smallest over (`vs_classical`), else
    biharmonic."""
    best = row["best_classical"]
    if candidates is None or best in candidates:
        return best
    known = {n: v["margin"] for n, v in (row.get("vs_classical") or {}).items() if n in candidates}
    if known:
        return min(known, key=lambda n: known[n])
    return "biharmonic" if "biharmonic" in candidates else candidates[0]


@dataclass(frozen=True)
class HolePlan:
    """Which method fills which hole of one mask (`plan_holes`)."""

    labels: torch.Tensor  # (H, W) int64: 0 known, i the i-th hole
    # per hole: width, stroke, row (its crossover row), classical (its classical method),
    # decision (`weigh`), method (the network's name or the classical method)
    holes: list[dict[str, Any]]

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
            groups = {group_of(h): h for h in mine}
            evidence = []
            for (shape, setting), h in list(groups.items())[:2]:
                t = table_evidence(h["row"], h["classical"])
                d = h["decision"]
                text = (f"{shape} {setting} vs {h['classical']}: on held-out pets "
                        f"{t['margin']:+.2f} dB [{t['low']:+.2f}, {t['high']:+.2f}]"
                        + ("" if t["against"] == h["classical"] else
                           f" (over {t['against']}, the table's best)"))
                if d["copies"]:
                    text += (f"; on this photo {d['copy_margin']:+.2f} dB over {d['copies']} "
                             f"cop{'y' if d['copies'] == 1 else 'ies'} ({h['classical']}, "
                             + (f"the best of {h['tried']} classical methods on them"
                                if h["tried"] > 1 else "the one classical method tried")
                             + f"), {d['estimate']:+.2f} "
                             f"[{d['low']:+.2f}, {d['high']:+.2f}] with the pets'")
                evidence.append(text)
            size = (f"{min(widths):.0f} px" if min(widths) == max(widths) else
                    f"{min(widths):.0f}-{max(widths):.0f} px")
            parts.append(f"{len(mine)} hole{'s' if len(mine) != 1 else ''} {size} wide by {method} "
                         f"({network}: " + "; ".join(evidence) + ")")
        return "; ".join(parts)


def plan_holes(crossover: dict[str, Any], mask: torch.Tensor,
               candidates: list[str] | None = None) -> HolePlan:
    """The per-hole default from the table alone (`PER_HOLE_RULE`, `weigh` without copies)
    for one mask (H, W) or (1, H, W) bool, from a crossover table ({"rows": `margins`
    records}); a hole's method is the network's name (the rows' "method") or its classical
    method (`table_classical` among `candidates`, the ones the default may run here)."""
    labels, widths, elongations = hole_components(mask.reshape(mask.shape[-2:]))
    rows = crossover["rows"]
    holes = []
    for width, elongation in zip(widths.tolist(), elongations.tolist()):
        stroke = elongation > STROKE_ELONGATION
        same = [r for r in rows if (r["shape"] == "strokes") == stroke] or rows
        row = min(same, key=lambda r: abs(math.log(max(width, 1))
                                          - math.log(max(r.get("hole_width", r["width"]), 1))))
        classical = table_classical(row, candidates)
        decision = weigh(table_evidence(row, classical))
        holes.append({"width": width, "stroke": stroke, "row": row, "classical": classical,
                      "decision": decision, "tried": 0,
                      "method": row["method"] if decision["network"] else classical})
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
    and `margin` px around it touch no hole and no other copy: so a copy's pixels and the
    `margin` px around it are known, as around the hole it copies. The copies are filled in a
    pass of their own (`tool.command.fill_copies`); the real holes never see them."""
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


def photo_spread(se: float, images: int) -> float:
    """How much the network's margin varies from one photo to the next, in dB: the per-photo
    standard deviation behind a standard error `se` over `images` photos."""
    return se * math.sqrt(max(images, 1))


def check_on_photo(plan: HolePlan, decoys: torch.Tensor, image: torch.Tensor,
                   fills: dict[str, torch.Tensor], network: str, images: int) -> HolePlan:
    """The plan with each group's method decided by the table and the photo together (the
    one rule, `weigh`), where copies of the group's holes were placed (`place_decoys`). The
    copies' pixels are known, so each method's fill of a copy has a hole PSNR
    (`metrics.region_psnr`). Of the classical methods in `fills`, the one with the highest
    mean over the group's copies is its classical method on this photo (the plan's on a tie);
    the network's margin over it on each copy is weighed with the table's estimate over the
    same method (`table_evidence`), the copies' spread floored at the photo-to-photo spread behind
    the table's interval (`photo_spread`, over its photos, else `images`).
    image: (3, H, W) uint8; fills: {method: (3, H, W) uint8, its fill of the copies (each
    scored alone: `tool.command.fill_copies`)}. Each hole records its decision."""
    from .metrics import region_psnr

    truth = image.double() / 255
    count = torch.bincount(decoys.flatten(), minlength=len(plan.holes) + 1)
    per_copy = {name: region_psnr(out.double() / 255, truth, decoys, len(plan.holes))
                for name, out in fills.items()}
    groups: dict[tuple[str, str], list[int]] = {}
    for i, hole in enumerate(plan.holes):
        if count[i + 1] > 0:
            groups.setdefault(group_of(hole), []).append(i + 1)
    tried = [name for name in fills if name != network]
    decided: dict[tuple[str, str], dict[str, Any]] = {}
    holes = []
    for hole in plan.holes:
        key, row = group_of(hole), hole["row"]
        copies = groups.get(key, [])
        if not copies or network not in per_copy or not tried:
            holes.append(hole)
            continue
        if key not in decided:
            ids = torch.tensor(copies)
            means = {name: float(per_copy[name][ids].mean()) for name in tried}
            top = max(means.values())
            winners = [n for n in tried if means[n] == top]
            classical = hole["classical"] if hole["classical"] in winners else winners[0]
            table = table_evidence(row, classical)
            margins = (per_copy[network][ids] - per_copy[classical][ids]).tolist()
            floor = photo_spread(table["se"], table["images"] or images)
            decided[key] = {"classical": classical, "tried": len(tried),
                            "decision": weigh(table, margins, floor)}
        d = decided[key]
        holes.append({**hole, **d, "method": network if d["decision"]["network"] else d["classical"]})
    return HolePlan(plan.labels, holes)
