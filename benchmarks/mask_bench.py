"""ViT masks at the full shape, drawn two ways, and the library's union algorithms alone.

- library: `inpaint_lib.masks.random_squares` (all corners drawn at once, then the union on the
  device, by the algorithm `squares_union` picks for it);
- loop: the conventional nested Python loop over images and squares, corners from
  `random.randint`, each square a slice assignment into one bool (N, 1, H, W) CPU tensor, moved;
- each of `UNION_ALGORITHMS` alone on the same corners, checked identical, so the device-specific
  choice in `squares_union` is a measured one.
Library and loop are timed round-robin after a warm-up; then the unions among themselves (the
slow ones churn memory, which would tax whichever case followed).
"""

from __future__ import annotations

import random
from typing import Any

import torch
from torch import Tensor

from inpaint_lib.masks import (
    UNION_ALGORITHMS,
    draw_squares,
    make_generator,
    random_squares,
    squares_union,
)
from inpaint_lib.schema import MaskConfig

from .timing import MemoryProbe, q, time_calls, timing_entry


def loop_masks(n: int, side: int, size: int, count: int, device: torch.device) -> Tensor:
    """The conventional way: (n, 1, side, side) bool, True = missing, one slice per square."""
    masks = torch.zeros(n, 1, side, side, dtype=torch.bool)
    for i in range(n):
        for _ in range(count):
            top, left = random.randint(0, side - size), random.randint(0, side - size)
            masks[i, 0, top:top + size, left:left + size] = True
    return masks.to(device)


def run(cfg: MaskConfig, side: int, n: int, device: torch.device, repeats: int,
        memory: MemoryProbe) -> dict[str, Any]:
    """`cfg`: fixed size and count (e.g. 300 squares of 12 px); returns the `masks` section."""
    g = make_generator(0, device)
    random.seed(0)
    cases = {"library": lambda: random_squares(n, side, side, cfg, g),
             "loop": lambda: loop_masks(n, side, cfg.sizes[1], cfg.counts[1], device)}
    for name, fn in cases.items():  # warm-up, with the peak memory of each
        with memory.probe(f"masks_{name}"):
            fn()
    tops, lefts, sizes = draw_squares(n, side, side, cfg, g)  # (N, K) each
    unions = {name: (lambda name=name: squares_union(tops, lefts, sizes, side, side, name))
              for name in UNION_ALGORITHMS}
    reference = unions["batched_matmul"]()  # (N, 1, side, side) bool
    identical = all(bool(torch.equal(reference, f())) for f in unions.values())
    times = time_calls(cases, device, repeats)
    union_times = time_calls(unions, device, repeats)
    dtype = str(reference.dtype).removeprefix("torch.")
    return {
        "config": {"batch": q(n, "masks"), "image_size": q(side, "px"),
                   "squares_per_image": q(cfg.counts[1], "squares"),
                   "square_size": q(cfg.sizes[1], "px"),
                   "output": f"({n}, 1, {side}, {side}) {dtype}"},
        "library_random_squares": timing_entry(times["library"], n, "masks"),
        "python_loop": timing_entry(times["loop"], n, "masks"),
        "union_only": {k: timing_entry(v, n, "masks") for k, v in union_times.items()},
        "union_algorithms_identical": identical,
    }
