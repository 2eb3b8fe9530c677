"""Inpaint-tool speed: seconds per 256x256 image, each classical method and each network.

    python -m benchmarks.tool_bench [--profile quick] [--repeats 5]   (also part of `make bench`)

Times `inpaint_lib.tool.inpaint` (the command's own path: the method, the full-resolution
rule for networks, the composite) on one 256x256 image with 8 squares of 24 px, after one
warm-up call; median and best of the repeats. Networks are the profile's trained ones
(`tool.trained_networks`); an architecture with no trained run is timed with untrained
weights of the profile's configuration, which cost the same, and labelled so.
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path
from typing import Any

import torch

from inpaint_lib.data import synthetic_images
from inpaint_lib.methods import Method, network_method
from inpaint_lib.models import build_model
from inpaint_lib.resolve import load_params, run_config
from inpaint_lib.tool import (
    CLASSICAL,
    at_full_resolution,
    inpaint,
    resolve_methods,
    squares_mask,
    trained_networks,
)
from inpaint_lib.train import default_device, signed_scale

from .timing import q, time_once

SIZE, SQUARES, SIDE = 256, 8, 24
GOAL_SECONDS = 1.0
PARAMS = Path(__file__).resolve().parent.parent / "params"


def bench_image() -> tuple[torch.Tensor, torch.Tensor]:
    """(3, 256, 256) uint8 image and its (1, 256, 256) bool mask, the same every run."""
    image = synthetic_images(1, SIZE, seed=0)[0]
    return image, squares_mask((SIZE, SIZE), SQUARES, SIDE, 0, Path("benchmark image"))


def untrained(arch: str, profile: str, device: torch.device) -> tuple[Method, str]:
    """The profile's network of `arch` with fresh weights, as the tool would apply it."""
    params = "a1_baseline.yaml" if arch == "cae" else "b7_phase7.yaml"
    study = load_params(PARAMS / params, profile)
    cfg = run_config(study, next(iter(study.runs)))
    size = study.data.image_size or 32
    model = build_model(cfg.model, size).to(device).eval()
    net = network_method(arch, model, f"untrained-{arch}", signed_scale(cfg), device)
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


def run(device: torch.device | None = None, repeats: int = 5, profile: str = "quick") -> dict[str, Any]:
    device = device or default_device()
    image, mask = bench_image()
    rows: dict[str, Any] = {}
    for name, method, source in methods(profile, device):
        inpaint(image, mask, method)  # warm-up
        times = [time_once(lambda m=method: inpaint(image, mask, m), device) for _ in range(repeats)]
        rows[name] = {"seconds_per_image": q(statistics.median(times), "s (median)"),
                      "best": q(min(times), "s (best of repeats)"), "source": source}
    slowest = max(r["seconds_per_image"]["value"] for r in rows.values())
    return {"image": f"{SIZE}x{SIZE} px, {SQUARES} squares of {SIDE} px "
                     f"({mask.float().mean().item():.1%} missing), {repeats} repeats after a warm-up",
            "profile": profile, "device": str(device), "methods": rows,
            "goal": f"under {GOAL_SECONDS:g} s per image", "all_under_goal": slowest < GOAL_SECONDS}


def markdown(res: dict[str, Any]) -> str:
    intro = (f"`python -m inpaint_lib inpaint` per image: {res['image']}; networks of the "
             f"`{res['profile']}` profile. Goal: {res['goal']} "
             f"({'met' if res['all_under_goal'] else 'NOT met'}).")
    lines = ["", "## tool", "", intro, "",
             "| method | s per image (median) | best | what |", "| --- | ---: | ---: | --- |"]
    for name, r in res["methods"].items():
        lines.append(f"| {name} | {r['seconds_per_image']['value']:.3f} | {r['best']['value']:.3f} | "
                     f"{r['source']} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.tool_bench", description=__doc__.split("\n")[0])
    ap.add_argument("--profile", default="quick", help="whose trained networks (default quick)")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--device", default=None)
    args = ap.parse_args(argv)
    res = run(torch.device(args.device) if args.device else None, args.repeats, args.profile)
    print(markdown(res))
    return res


if __name__ == "__main__":
    main()
