"""Part B masks: a batch of ViT masks (N x 224 x 224, 300 squares of 12x12) drawn three ways.

- library: `inpaint_lib.masks.random_squares` (draw corners, then the union: a batched
  matmul on CUDA, a difference array on the CPU);
- loop: the conventional nested Python loop over images and squares, corners from
  `random.randint`, each square a slice assignment (built on the CPU, then moved);
- the two union algorithms alone on the same corners: the batched matmul
  (O(N*H*W*K), fastest on CUDA) and the difference array (+1/-1 at each square's
  four corners, two cumulative sums, O(N*H*W + N*K), fastest on the CPU); checked equal.
All are timed round-robin after one warm-up each.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from inpaint_lib.config import MaskConfig
from inpaint_lib.masks import _draw_squares, make_generator, random_squares
from inpaint_lib.masks import _union_bmm as squares_union  # the CUDA path
from inpaint_lib.masks import _union_cumsum as squares_union_cumsum  # the CPU path

from .common import MemoryProbe, q, time_interleaved, timing_entry


def loop_masks(n: int, height: int, width: int, size: int, count: int,
               device: torch.device) -> Tensor:
    """The conventional way: (n, 1, H, W) float, 1 = missing, one slice per square."""
    masks = torch.zeros(n, 1, height, width)
    for i in range(n):
        for _ in range(count):
            top = random.randint(0, height - size)
            left = random.randint(0, width - size)
            masks[i, 0, top:top + size, left:left + size] = 1.0
    return masks.to(device)


@dataclass(frozen=True)
class MaskSizes:
    batch: int
    repeats: int
    image: int = 224
    square: int = 12
    count: int = 300


def run(sizes: MaskSizes, device: torch.device, memory: MemoryProbe) -> dict[str, Any]:
    """Time the three ways; returns the `masks` results section."""
    cfg = MaskConfig(size=sizes.square, count=sizes.count)
    n, hw = sizes.batch, sizes.image
    g = make_generator(0, device)
    random.seed(0)
    tops, lefts, side = _draw_squares(n, hw, hw, cfg, g)  # (N, K) each
    cases = {
        "library": lambda: random_squares(n, hw, hw, cfg, g),
        "loop": lambda: loop_masks(n, hw, hw, sizes.square, sizes.count, device),
        "union_bmm": lambda: squares_union(tops, lefts, side, hw, hw),
        "union_cumsum": lambda: squares_union_cumsum(tops, lefts, side, hw, hw),
    }
    for name in ("library", "loop"):  # warm-up, with the peak memory of each
        with memory.probe(f"masks_{name}"):
            cases[name]()
    for name in ("union_bmm", "union_cumsum"):
        cases[name]()
    times = time_interleaved(cases, device, sizes.repeats)
    library, loop, union_mm, union_cs = (times[k] for k in cases)
    equal = bool(torch.equal(squares_union(tops, lefts, side, hw, hw),
                             squares_union_cumsum(tops, lefts, side, hw, hw)))
    out: dict[str, Any] = {
        "config": {"batch": q(n, "masks"), "image_size": q(hw, "px"),
                   "squares_per_image": q(sizes.count, "squares"),
                   "square_size": q(sizes.square, "px")},
        "library_random_squares": timing_entry(library, n, "masks"),
        "python_loop": timing_entry(loop, n, "masks"),
        "union_only_library_bmm": timing_entry(union_mm, n, "masks"),
        "union_only_candidate_cumsum": timing_entry(union_cs, n, "masks"),
        "candidate_equals_library": equal,
    }
    lib_t = out["library_random_squares"]["time_per_call"]["value"]
    draw_t = max(lib_t - out["union_only_library_bmm"]["time_per_call"]["value"], 0.0)
    cand_t = draw_t + out["union_only_candidate_cumsum"]["time_per_call"]["value"]
    out["candidate_random_squares_estimate"] = {
        "time_per_call": q(cand_t, "s"),
        "note": "library time - bmm union + cumsum union (same corner draws)",
    }
    return out
