"""The inpaint tool's default on photos nobody trained or tuned it on, against every classical
method (issue 34): ``python -m benchmarks.photo_default [--boats N] [--pets N] [--slow N]``.

Two sets of photos at their own size, each with the tool's own functions (`tool.command`):

- the **boat photos** of the shared data (9 kinds, longer side at most 160 px; the photo network
  trained on pets only), N spread over the kinds;
- **held-out pet photos** (the pet test tree, longer side 288 px), N spread over the breeds.

Masks by hole kind and width (seeded per photo), about 5-10% missing. Choices, each on the same
photo and mask: every classical method (`baselines.REGISTRY`), the shipped photo network
everywhere, the table alone per hole (``--no-check``), and **the default** (the table checked
on the photo: `crossover.PER_HOLE_RULE`). Hole PSNR (dB, [0, 1] scale), and each choice's margin
over the **best single classical method** of that setting (the one with the highest mean on
these photos among those run on all of them), paired per photo with a 95% bootstrap interval
(`stats.paired_bootstrap`). FSR best (seconds to a minute a photo here) runs on `--slow` of the
photos only (spread over them), and is compared on those. Also the seconds each classical
method takes per photo, and per image at 32, 64 and 128 px (`costs`). Writes
results/bench/photo-default.{json,md}; run it under `nice`.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from inpaint_lib.baselines import REGISTRY
from inpaint_lib.data import data_dir
from inpaint_lib.evaluate import scored_images
from inpaint_lib.image_trees import IMAGE_SUFFIXES
from inpaint_lib.io import atomic_write_json, atomic_write_text
from inpaint_lib.methods import classical_methods
from inpaint_lib.metrics import hole_psnr
from inpaint_lib.paths import REPO_ROOT
from inpaint_lib.section import spread
from inpaint_lib.stats import paired_bootstrap
from inpaint_lib.tool.command import inpaint, inpaint_per_hole, per_hole_fills
from inpaint_lib.tool.photos import read_image, squares_mask, strokes_mask
from inpaint_lib.tool.ranking import PhotoDefault, photo_default

OUT = REPO_ROOT / "results" / "bench"
SLOW = {"FSR best"}  # run on --slow photos only
# mask settings: name -> [(kind, count, size)] per photo
BOAT_SETTINGS = {
    "squares 8 px": [("squares", 25, 8)], "squares 16 px": [("squares", 7, 16)],
    "squares 32 px": [("squares", 2, 32)], "strokes thin (3 px)": [("strokes", 4, 3)],
    "strokes medium (9 px)": [("strokes", 3, 9)], "strokes thick (17 px)": [("strokes", 2, 17)],
    "mixed: 32 px squares + thin strokes": [("squares", 2, 32), ("strokes", 3, 3)],
}
PET_SETTINGS = {
    "squares 16 px": [("squares", 12, 16)], "squares 32 px": [("squares", 4, 32)],
    "squares 64 px": [("squares", 1, 64)], "strokes thin (3 px)": [("strokes", 6, 3)],
    "strokes medium (9 px)": [("strokes", 4, 9)],
}
NETWORK, TABLE, DEFAULT = ("the network everywhere", "per hole, the table alone",
                           "the default (checked on the photo)")


def photos(folder: Path, n: int) -> list[Path]:
    """n image files spread evenly over a tree sorted by path (so over its kinds)."""
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
    return [files[i] for i in spread(len(files), n).tolist()] if files else []


def make_mask(size: tuple[int, int], parts: list[tuple[str, int, int]], seed: int) -> torch.Tensor:
    """(1, H, W) bool: the union of the setting's squares and strokes, seeded per photo."""
    mask = torch.zeros(1, *size, dtype=torch.bool)
    for k, (kind, count, side) in enumerate(parts):
        make = squares_mask if kind == "squares" else strokes_mask
        mask |= make(size, count, min(side, min(size) - 1), seed * 10 + k, Path("photo"))
    return mask


def score(images: list[torch.Tensor], settings: dict[str, list], default: PhotoDefault,
          methods: dict[str, Any], slow: int) -> tuple[list[dict[str, Any]], dict[str, float]]:
    """(one row per (setting, choice): photos, mean hole PSNR, margin over the setting's best
    single classical method with its interval; seconds per photo of each classical method)."""
    network = default.crossover["rows"][0]["method"]
    slow_idx = set(scored_images(len(images), slow).tolist())
    rows, seconds = [], {}
    for setting, parts in settings.items():
        psnr: dict[str, dict[int, float]] = {}
        for i, image in enumerate(images):
            mask = make_mask(tuple(image.shape[-2:]), parts, i)
            truth = image[None].double() / 255
            outs = {}
            for c in REGISTRY:
                if c.name in SLOW and i not in slow_idx:
                    continue
                t0 = time.perf_counter()
                outs[c.name] = inpaint(image, mask, methods[c.name])
                seconds.setdefault(c.name, []).append(time.perf_counter() - t0)
            outs[NETWORK] = inpaint(image, mask, methods[network])
            outs[TABLE] = inpaint_per_hole(image, mask, default, methods, check=False)[0]
            t0 = time.perf_counter()
            outs[DEFAULT] = inpaint_per_hole(image, mask, default, methods)[0]
            seconds.setdefault("the default", []).append(time.perf_counter() - t0)
            for name, out in outs.items():
                value = float(hole_psnr(out[None].double() / 255, truth, mask[None])[0])
                psnr.setdefault(name, {})[i] = value
        full = [c.name for c in REGISTRY if c.name not in SLOW]
        best = max(full, key=lambda n: sum(psnr[n].values()) / len(psnr[n]))
        for name, values in psnr.items():
            keys = sorted(values)
            mean, low, high = paired_bootstrap([values[k] - psnr[best][k] for k in keys])
            rows.append({"setting": setting, "choice": name, "photos": len(keys),
                         "kind": "classical" if name in methods and name != network else "tool",
                         "hole_psnr": sum(values.values()) / len(keys), "best_classical": best,
                         "margin": mean, "low": low, "high": high})
    return rows, {k: sum(v) / len(v) for k, v in seconds.items()}


def costs(pets: list[torch.Tensor], n: int = 12) -> dict[str, dict[str, float]]:
    """Seconds per image of each classical method at 32, 64 and 128 px (pets resized; FSR best
    on 2 of the `n` images), with the report's masks there: one 10 px square (Part A), 150 squares of 3 px (Part B's quick
    first level), two 32 px squares (the crossover's)."""
    settings = {32: [("squares", 1, 10)], 64: [("squares", 150, 3)], 128: [("squares", 2, 32)]}
    out: dict[str, dict[str, float]] = {}
    for side, parts in settings.items():
        batch = torch.stack([F.interpolate(p[None].float(), size=(side, side), mode="area")[0]
                             .round().to(torch.uint8) for p in pets[:n]])
        masks = torch.stack([make_mask((side, side), parts, i) for i in range(len(batch))])
        for m in classical_methods():
            k = 2 if m.name in SLOW else len(batch)  # FSR best: seconds an image
            target = batch[:k].float() / 255
            t0 = time.perf_counter()
            m.predict(target * ~masks[:k], masks[:k])
            out.setdefault(f"{side} px", {})[m.name] = (time.perf_counter() - t0) / k
    return out


def run(boats_n: int = 100, pets_n: int = 100, slow: int = 20,
        with_costs: bool = True) -> dict[str, Any]:
    t0 = time.time()
    default = photo_default("quick")
    if default is None:
        raise SystemExit("no photo network: `make photo-network` (or the quick report) first")
    methods = per_hole_fills(default, torch.device("cpu"))
    boats = [read_image(p).rgb for p in photos(data_dir() / "boats", boats_n)]
    pets = [read_image(p).rgb for p in photos(data_dir() / "oxford-pet" / "test", pets_n)]
    if not boats or not pets:
        raise SystemExit(f"no boat or pet photos under {data_dir()}: `make shared-data` first")
    result: dict[str, Any] = {"network": default.why, "threads": torch.get_num_threads()}
    for key, images, settings in (("boats", boats, BOAT_SETTINGS), ("pets", pets, PET_SETTINGS)):
        sizes = [max(tuple(b.shape[-2:])) for b in images]
        rows, seconds = score(images, settings, default, methods, slow)
        result[key] = {"rows": rows, "seconds": seconds, "size": f"{min(sizes)}-{max(sizes)} px",
                       "photos": len(images), "slow_photos": min(slow, len(images))}
        atomic_write_json(Path("/tmp") / "photo-default.partial.json", result)  # progress
    result["costs"] = costs(pets) if with_costs else {}
    result["seconds"] = time.time() - t0
    return result


def markdown(res: dict[str, Any]) -> str:
    lines = [("# The inpaint tool's default and every classical method on photos outside the "
             "training set"), "", f"Photo network: {res['network']}.", "",
             ("Hole PSNR (dB, [0, 1] scale); margin = the choice minus the setting's best single "
             "classical method (the best mean on these photos among those run on all of them) on "
             "the same photo and mask, mean over photos with a 95% bootstrap interval."), ""]
    for key in ("boats", "pets"):
        part = res[key]
        what = ("boat photos at their own size" if key == "boats" else
                "held-out pet photos at their own size")
        lines += [(f"## {what} ({part['size']} on the longer side), {part['photos']} photos "
                  f"(FSR best on {part['slow_photos']} of them)"), "",
                  "| masks | choice | photos | hole PSNR | margin over the best classical [95%] |",
                  "| --- | --- | ---: | ---: | --- |"]
        for r in part["rows"]:
            name = f"**{r['choice']}**" if r["choice"] == DEFAULT else r["choice"]
            lines.append(f"| {r['setting']} | {name} | {r['photos']} | {r['hole_psnr']:.2f} | "
                         f"{r['margin']:+.2f} [{r['low']:+.2f}, {r['high']:+.2f}] vs "
                         f"{r['best_classical']} |")
        lines += ["", "Seconds per photo (mean): " + ", ".join(
            f"{k} {v:.3f}" for k, v in part["seconds"].items()), ""]
    if res["costs"]:
        names = next(iter(res["costs"].values()))
        lines += ["## Seconds per image of each classical method at the report's sizes", "",
                  "| size | " + " | ".join(names) + " |", "| --- |" + " ---: |" * len(names)]
        for size, row in res["costs"].items():
            lines.append(f"| {size} | " + " | ".join(f"{v:.4f}" for v in row.values()) + " |")
    lines += ["", (f"{res['seconds'] / 60:.1f} min with {res['threads']} threads. "
              "`nice python -m benchmarks.photo_default`.")]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.photo_default",
                                 description=__doc__.split("\n")[0])
    ap.add_argument("--boats", type=int, default=100, help="boat photos (default 100)")
    ap.add_argument("--pets", type=int, default=100, help="held-out pet photos (default 100)")
    ap.add_argument("--slow", type=int, default=20, help="photos FSR best runs on (default 20)")
    ap.add_argument("--no-costs", action="store_true", help="skip the per-image costs at 32-128 px")
    args = ap.parse_args(argv)
    res = run(args.boats, args.pets, args.slow, not args.no_costs)
    atomic_write_json(OUT / "photo-default.json", res)
    atomic_write_text(OUT / "photo-default.md", markdown(res))
    print(markdown(res))
    print(json.dumps({"seconds": res["seconds"]}))
    return res


if __name__ == "__main__":
    main()
