"""Inpaint-tool speed: seconds per 256x256 image, each classical method and each network.

    python -m benchmarks.tool_bench [--profile quick] [--repeats 5]   (also part of `make bench`)

Times `inpaint_lib.tool.command.inpaint` (the command's own path: the method, the full-resolution
rule for networks, the composite) on one 256x256 image with 8 squares of 24 px, after one warm-up
call; median and best of the repeats. Networks: the profile's trained ones; an architecture with
no trained run is timed with untrained weights of the profile's configuration (same cost), and
labelled so. Then the photo network (issue 19's target): one 1024x768 photo, about 10% missing
(77 squares of 32 px), inpainted by the crossover section's network (trained if the profile has
it, else untrained) at the photo's own resolution, beside biharmonic on the same photo and mask;
goal: at most 1 s per photo. The load average is recorded with it, since the CPU may be shared.
"""

from __future__ import annotations

import argparse
import os
import statistics
from pathlib import Path
from typing import Any

import torch

from inpaint_lib.data import synthetic_images
from inpaint_lib.device import default_device, signed_scale
from inpaint_lib.methods import Method, at_native_resolution, network_method
from inpaint_lib.models import build_model
from inpaint_lib.resolve import PARAMS_DIR, load_params, run_config
from inpaint_lib.tool.command import CLASSICAL, inpaint, resolve_methods, squares_mask, strokes_mask
from inpaint_lib.tool.networks import at_full_resolution, trained_networks

from .timing import q, time_calls

SIZE, SQUARES, SIDE = 256, 8, 24
GOAL_SECONDS = 1.0


def untrained(arch: str, profile: str, device: torch.device) -> tuple[Method, str]:
    """The profile's network of `arch` ("cae", "vit", or "photo": the crossover section's) with
    fresh weights, as the tool would apply it."""
    params = {"cae": "a1_baseline.yaml", "vit": "b7_phase7.yaml", "photo": "d1_crossover.yaml"}[arch]
    study = load_params(PARAMS_DIR / params, profile)
    cfg = run_config(study, next(iter(study.runs)))
    size = (cfg.data.crop or 128) if arch == "photo" else (study.data.image_size or 32)
    model = build_model(cfg.model, size).to(device).eval()
    net = network_method(arch, model, f"untrained-{arch}", signed_scale(cfg), device)
    if arch == "photo":
        return at_native_resolution(net), f"untrained weights of the {profile} profile's photo network"
    return at_full_resolution(net, size), f"untrained weights, {profile} profile's {arch} at {size} px"


def methods(profile: str, device: torch.device) -> list[tuple[str, Method, str]]:
    out = [(n, m, "classical") for n, m in resolve_methods(list(CLASSICAL), profile, device)]
    nets = trained_networks(profile)
    for net in nets:
        out.append((net.name, net.method(device), f"trained run {net.run.dir.name} at {net.image_size} px"))
    for arch in ("cae", "vit"):
        if not any(n.run.config.model.arch == arch for n in nets):
            method, source = untrained(arch, profile, device)
            out.append((arch, method, source))
    return out


def _time_methods(image: torch.Tensor, mask: torch.Tensor, methods: list[tuple[str, Method, str]],
                  repeats: int, device: torch.device) -> dict[str, Any]:
    """Seconds per `inpaint` call of each method on `image`: median and best of `repeats` after
    one warm-up call."""
    rows: dict[str, Any] = {}
    for name, method, source in methods:
        inpaint(image, mask, method)  # warm-up
        times = time_calls({name: lambda m=method: inpaint(image, mask, m)}, device, repeats)[name]
        rows[name] = {"seconds_per_image": q(statistics.median(times), "s (median)"),
                      "best": q(min(times), "s (best of repeats)"), "source": source}
    return rows


def run(device: torch.device | None = None, repeats: int = 5, profile: str = "quick",
        size: int = SIZE) -> dict[str, Any]:
    """Seconds per image of every method on one `size` x `size` image (256 px; a smaller one
    for the benchmark's --quick smoke run: its squares scaled alike)."""
    device = device or default_device()
    side = max(4, SIDE * size // SIZE)
    image = synthetic_images(1, size, seed=0)[0]  # (3, size, size) uint8, the same every run
    mask = squares_mask((size, size), SQUARES, side, 0, Path("benchmark image"))  # (1, size, size)
    rows = _time_methods(image, mask, methods(profile, device), repeats, device)
    slowest = max(r["seconds_per_image"]["value"] for r in rows.values())
    return {"image": f"{size}x{size} px, {SQUARES} squares of {side} px "
                     f"({mask.float().mean().item():.1%} missing), {repeats} repeats after a warm-up",
            "profile": profile, "device": str(device), "methods": rows,
            "goal": f"under {GOAL_SECONDS:g} s per image", "all_under_goal": slowest < GOAL_SECONDS}


PHOTO_H, PHOTO_W, PHOTO_SQUARES, PHOTO_SIDE = 768, 1024, 77, 32


def photo_network(profile: str, device: torch.device) -> tuple[Method, str]:
    """The photo network at native resolution: the shipped one, else the crossover section's
    trained run, else untrained weights of its shape."""
    from inpaint_lib.shipped import load

    shipped = load()
    if shipped is not None:
        return shipped.method(device), f"shipped, sha256 {shipped.card['sha256'][:12]}, native resolution"
    trained = [n for n in trained_networks(profile) if n.native]
    if trained:
        return trained[0].method(device), f"trained run {trained[0].run.dir.name}, native resolution"
    return untrained("photo", profile, device)


def run_photo(device: torch.device | None = None, repeats: int = 3, profile: str = "quick",
              size: tuple[int, int] = (PHOTO_H, PHOTO_W)) -> dict[str, Any]:
    """Seconds per 1024x768 photo (10% missing): the photo network at full resolution and
    biharmonic on the same photo and mask; and the tool's default, per hole, on a mask that
    mixes 32 px squares with thin strokes (both methods run, each keeps its holes). `size`
    (height, width): a smaller photo for the benchmark's --quick smoke run, as many squares
    per pixel."""
    from inpaint_lib.tool.command import inpaint_per_hole, per_hole_fills
    from inpaint_lib.tool.ranking import photo_default

    device = device or default_device()
    h, w = size
    squares = max(1, round(PHOTO_SQUARES * h * w / (PHOTO_H * PHOTO_W)))
    image = torch.nn.functional.interpolate(synthetic_images(1, 256, seed=1).float(),
                                            size=(h, w), mode="bilinear")[0].to(torch.uint8)
    mask = squares_mask((h, w), squares, PHOTO_SIDE, 0, Path("benchmark photo"))
    net, source = photo_network(profile, device)
    biharmonic = resolve_methods(["biharmonic"], profile, device)[0][1]
    rows = _time_methods(image, mask, [("photo network", net, source),
                                       ("biharmonic", biharmonic, "classical")], repeats, device)
    default = photo_default(profile)
    mixed = (squares_mask((h, w), squares * 2 // 3, PHOTO_SIDE, 0, Path("photo"))
             | strokes_mask((h, w), 12, 5, 0, Path("photo")))
    if default is not None:
        fills = per_hole_fills(default, device)
        where = (f"on {squares * 2 // 3} squares of {PHOTO_SIDE} px and 12 strokes 5 px wide "
                 f"({mixed.float().mean().item():.1%} missing)")
        for name, check in (("the default, per hole, checked on the photo", True),
                            ("per hole from the table alone (no check)", False)):
            inpaint_per_hole(image, mixed, default, fills, check)  # warm-up
            times = time_calls({"d": lambda c=check: inpaint_per_hole(image, mixed, default, fills, c)},
                               device, repeats)["d"]
            rows[name] = {"seconds_per_image": q(statistics.median(times), "s (median)"),
                          "best": q(min(times), "s (best of repeats)"),
                          "source": f"{default.name} or a classical method per hole, {where}"}
    slowest = max(r["seconds_per_image"]["value"] for n, r in rows.items() if n != "biharmonic")
    return {"image": f"{w}x{h} px, {squares} squares of {PHOTO_SIDE} px "
                     f"({mask.float().mean().item():.1%} missing), {repeats} repeats after a warm-up",
            "load_average": os.getloadavg()[0], "cpu_count": os.cpu_count(), "methods": rows,
            "goal": f"photo network and the default at most {GOAL_SECONDS:g} s per photo",
            "goal_met": slowest <= GOAL_SECONDS}


def _timing_table(heading: str, intro: str, unit: str, methods: dict[str, Any]) -> str:
    """One benchmark section as Markdown: its heading, a sentence, then seconds per method."""
    lines = ["", f"## {heading}", "", intro, "",
             f"| method | s per {unit} (median) | best | what |", "| --- | ---: | ---: | --- |"]
    for name, r in methods.items():
        lines.append(f"| {name} | {r['seconds_per_image']['value']:.3f} | {r['best']['value']:.3f} | "
                     f"{r['source']} |")
    return "\n".join(lines) + "\n"


def markdown_photo(res: dict[str, Any]) -> str:
    intro = (f"{res['image']}; load average {res['load_average']:.1f} on {res['cpu_count']} CPUs. "
             f"Goal: {res['goal']} ({'met' if res['goal_met'] else 'NOT met'}).")
    return _timing_table("tool: a photo at full resolution", intro, "photo", res["methods"])


def markdown(res: dict[str, Any]) -> str:
    intro = (f"`python -m inpaint_lib inpaint` per image: {res['image']}; networks of the "
             f"`{res['profile']}` profile. Goal: {res['goal']} "
             f"({'met' if res['all_under_goal'] else 'NOT met'}).")
    return _timing_table("tool", intro, "image", res["methods"])


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.tool_bench", description=__doc__.split("\n")[0])
    ap.add_argument("--profile", default="quick", help="whose trained networks (default quick)")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--device", default=None)
    args = ap.parse_args(argv)
    device = torch.device(args.device) if args.device else None
    res = run(device, args.repeats, args.profile)
    res["photo"] = run_photo(device, min(args.repeats, 3), args.profile)
    print(markdown(res) + markdown_photo(res["photo"]))
    return res


if __name__ == "__main__":
    main()
