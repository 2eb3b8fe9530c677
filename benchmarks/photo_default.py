"""The inpaint tool's default on photos nobody trained or tuned it on: does it know its limits?

``python -m benchmarks.photo_default [--photos N]`` fills photos outside the pet set, at their
own size, with the tool's own functions, and measures the hole PSNR (dB, [0, 1] scale) of
every choice against biharmonic on the same photo and mask, paired per photo with a 95%
bootstrap interval (`stats.paired_bootstrap`):

- the **boat photos** of the shared data (9 kinds, longer side at most 160 px: smaller than the
  pets the network was trained on), N of them spread over the kinds, with squares of 8, 16 and
  32 px, thin, medium and thick brush strokes, and masks that mix 32 px squares with thin
  strokes (where one method per image must lose somewhere);
- the **pet test photos made larger** (2x and 3x, bicubic: the same scenes at a higher
  resolution than the training crops), with 32 px squares and medium strokes.

Choices: the photo network everywhere, biharmonic everywhere, the crossover table's choice
per hole (`crossover.plan_holes`), and the default: that choice checked on the photo itself
(copies of each group's holes on known pixels decide, `crossover.check_on_photo`). Writes
results/bench/photo-default.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from inpaint_lib.data import data_dir
from inpaint_lib.image_trees import IMAGE_SUFFIXES
from inpaint_lib.io import atomic_write_json, atomic_write_text
from inpaint_lib.metrics import hole_psnr
from inpaint_lib.paths import REPO_ROOT
from inpaint_lib.section import spread
from inpaint_lib.stats import paired_bootstrap
from inpaint_lib.tool.command import per_hole_fills, inpaint, inpaint_per_hole
from inpaint_lib.tool.photos import read_image, squares_mask, strokes_mask
from inpaint_lib.tool.ranking import PhotoDefault, photo_default

OUT = REPO_ROOT / "results" / "bench"
# mask settings: name -> (kind, count, size) per photo, about 10% missing on a 160 px photo
BOAT_SETTINGS = {
    "squares 8 px": [("squares", 25, 8)], "squares 16 px": [("squares", 7, 16)],
    "squares 32 px": [("squares", 2, 32)], "strokes thin (3 px)": [("strokes", 4, 3)],
    "strokes medium (9 px)": [("strokes", 3, 9)], "strokes thick (17 px)": [("strokes", 2, 17)],
    "mixed: 32 px squares + thin strokes": [("squares", 2, 32), ("strokes", 3, 3)],
}
LARGE_SETTINGS = {"squares 32 px": [("squares", 6, 32)], "strokes medium (9 px)": [("strokes", 6, 9)]}


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


def fills(image: torch.Tensor, mask: torch.Tensor, default: PhotoDefault,
          methods: dict[str, Any]) -> dict[str, torch.Tensor]:
    """Each choice's output on one photo: the network everywhere, biharmonic everywhere, the
    table's choice per hole, and the default (the table's choice checked on the photo)."""
    network = default.crossover["rows"][0]["method"]
    out = {name: inpaint(image, mask, m) for name, m in (("network everywhere", methods[network]),
                                                          ("biharmonic", methods["biharmonic"]))}
    out["per hole, from the table"] = inpaint_per_hole(image, mask, default, methods, check=False)[0]
    out["the default: per hole, checked on the photo"] = inpaint_per_hole(image, mask, default, methods)[0]
    return out


def score(images: list[torch.Tensor], settings: dict[str, list], default: PhotoDefault,
          methods: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per (setting, choice): mean hole PSNR, and its paired margin over biharmonic."""
    rows = []
    for setting, parts in settings.items():
        psnr: dict[str, list[float]] = {}
        for i, image in enumerate(images):
            mask = make_mask(tuple(image.shape[-2:]), parts, i)
            for name, out in fills(image, mask, default, methods).items():
                value = hole_psnr(out[None].double() / 255, image[None].double() / 255, mask[None])
                psnr.setdefault(name, []).append(float(value[0]))
        base = psnr["biharmonic"]
        for name, values in psnr.items():
            mean, low, high = paired_bootstrap([a - b for a, b in zip(values, base)])
            rows.append({"setting": setting, "choice": name, "photos": len(values),
                         "hole_psnr": sum(values) / len(values), "margin": mean, "low": low,
                         "high": high})
    return rows


def run(n: int = 120, large: int = 40) -> dict[str, Any]:
    t0 = time.time()
    default = photo_default("quick")
    if default is None:
        raise SystemExit("no photo network: `make photo-network` (or the quick report) first")
    device = torch.device("cpu")
    methods = per_hole_fills(default, device)
    boats = [read_image(p).rgb for p in photos(data_dir() / "boats", n)]
    pets = [read_image(p).rgb for p in photos(data_dir() / "oxford-pet" / "test", large)]
    if not boats or not pets:
        raise SystemExit(f"no boat or pet photos under {data_dir()}: `make shared-data` first")
    result = {"network": default.why, "boats": score(boats, BOAT_SETTINGS, default, methods)}
    for scale in (1, 2, 3):
        bigger = [F.interpolate(p[None].float(), scale_factor=scale, mode="bicubic",
                                align_corners=False)[0].round().clamp(0, 255).to(torch.uint8)
                  for p in pets]
        result[f"pets x{scale}"] = score(bigger, LARGE_SETTINGS, default, methods)
    sizes = [tuple(b.shape[-2:]) for b in boats]
    result["boat_sizes"] = f"{min(max(s) for s in sizes)}-{max(max(s) for s in sizes)} px on the longer side"
    result["seconds"] = time.time() - t0
    return result


def markdown(res: dict[str, Any]) -> str:
    lines = ["# The inpaint tool's default on photos outside the training set", "",
             f"Photo network: {res['network']}.", "",
             ("Hole PSNR (dB, [0, 1] scale); margin = the choice minus biharmonic on the same photo "
             "and mask, mean over photos with a 95% bootstrap interval over photos."), ""]
    for key in [k for k in res if k == "boats" or k.startswith("pets x")]:
        what = (f"boat photos at their own size ({res['boat_sizes']})" if key == "boats" else
                f"pet test photos enlarged {key.split('x')[1]}x (bicubic)")
        rows = res[key]
        lines += [f"## {what}, {rows[0]['photos']} photos", "",
                  "| masks | choice | hole PSNR | margin over biharmonic [95%] |",
                  "| --- | --- | ---: | --- |"]
        for r in rows:
            lines.append(f"| {r['setting']} | {r['choice']} | {r['hole_psnr']:.2f} | "
                         f"{r['margin']:+.2f} [{r['low']:+.2f}, {r['high']:+.2f}] |")
        lines.append("")
    lines.append(f"{res['seconds'] / 60:.1f} min. `python -m benchmarks.photo_default`.")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.photo_default",
                                 description=__doc__.split("\n")[0])
    ap.add_argument("--photos", type=int, default=120, help="boat photos (default 120)")
    ap.add_argument("--pets", type=int, default=40, help="pet test photos enlarged (default 40)")
    args = ap.parse_args(argv)
    res = run(args.photos, args.pets)
    atomic_write_json(OUT / "photo-default.json", res)
    atomic_write_text(OUT / "photo-default.md", markdown(res))
    print(markdown(res))
    print(json.dumps({"seconds": res["seconds"]}))
    return res


if __name__ == "__main__":
    main()
