"""Part B masks: a batch of ViT masks (N x 224 x 224, 300 squares of 12x12) drawn two ways.

- library: `inpaint_lib.masks.random_squares` (draw all corners at once, then the
  union on the device: a batched matmul on CUDA; on the CPU each square's top row
  written at once and dilated downwards by doubling shifts on int64 words);
- loop: the conventional nested Python loop over images and squares, corners from
  `random.randint`, each square a slice assignment into the same bool (N, 1, H, W)
  tensor (built on the CPU, then moved);
- and the library's three union algorithms alone on the same corners (batched
  matmul, row dilation, difference array + prefix sums), checked identical, so the
  device-specific choice in `squares_union` is a measured one.
Library and loop are timed round-robin after one warm-up each; then the unions.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from inpaint_lib.masks import (
    draw_squares,
    make_generator,
    random_squares,
    squares_union,
)
from inpaint_lib.schema import MaskConfig

from .common import MemoryProbe, q, time_interleaved, timing_entry


def loop_masks(n: int, height: int, width: int, size: int, count: int,
               device: torch.device) -> Tensor:
    """The conventional way: (n, 1, H, W) bool, True = missing, one slice per square."""
    masks = torch.zeros(n, 1, height, width, dtype=torch.bool)
    for i in range(n):
        for _ in range(count):
            top = random.randint(0, height - size)
            left = random.randint(0, width - size)
            masks[i, 0, top:top + size, left:left + size] = True
    return masks.to(device)


@dataclass(frozen=True)
class MaskSizes:
    batch: int
    repeats: int
    image: int = 224
    square: int = 12
    count: int = 300


def run(sizes: MaskSizes, device: torch.device, memory: MemoryProbe) -> dict[str, Any]:
    """Time the library against the loop, and its union algorithms; returns the `masks` section."""
    cfg = MaskConfig(size=sizes.square, count=sizes.count)
    n, hw, side = sizes.batch, sizes.image, sizes.square
    g = make_generator(0, device)
    random.seed(0)
    tops, lefts, sides = draw_squares(n, hw, hw, cfg, g)  # (N, K) each
    unions = {
        name: (lambda name=name: squares_union(tops, lefts, sides, hw, hw, name))
        for name in ("batched_matmul", "row_dilation", "difference_array")
    }
    cases = {
        "library": lambda: random_squares(n, hw, hw, cfg, g),
        "loop": lambda: loop_masks(n, hw, hw, side, sizes.count, device),
    }
    for name in ("library", "loop"):  # warm-up, with the peak memory of each
        with memory.probe(f"masks_{name}"):
            cases[name]()
    reference = unions["batched_matmul"]()
    identical = all(bool(torch.equal(reference, f())) for f in unions.values())
    # the two compared ways round-robin; then the unions among themselves (the slow ones
    # churn far more memory, which would otherwise tax whichever case follows them)
    times = time_interleaved(cases, device, sizes.repeats)
    times |= {f"union:{k}": v for k, v in time_interleaved(unions, device, sizes.repeats).items()}
    library = random_squares(n, hw, hw, cfg, g)
    return {
        "config": {"batch": q(n, "masks"), "image_size": q(hw, "px"),
                   "squares_per_image": q(sizes.count, "squares"),
                   "square_size": q(side, "px"),
                   "output": f"({n}, 1, {hw}, {hw}) {str(library.dtype).removeprefix('torch.')}"},
        "library_random_squares": timing_entry(times["library"], n, "masks"),
        "python_loop": timing_entry(times["loop"], n, "masks"),
        "union_only": {k: timing_entry(times[f"union:{k}"], n, "masks") for k in unions},
        "union_algorithms_identical": identical,
    }
