"""Inpainting practice around any network: what goes in, what comes out.

The study's networks see only the image with black holes and return a whole new
image. Inpainting networks since Context Encoders and partial convolutions are
told where the hole is, often start from a coarse fill, and keep the known pixels.
`network_input` and `network_output` add these to a network, each switched on by
an option of `schema.InpaintingPractice`.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from ..schema import InpaintingPractice
from .fill import fill


def channels_in(practice: InpaintingPractice) -> int:
    """3 image channels, plus one for the hole mask when the network is given it."""
    return 3 + int(practice.mask_channel)


def network_input(masked: Tensor, holes: Tensor, practice: InpaintingPractice) -> tuple[Tensor, Tensor]:
    """(network input, base): base is the classical fill of the holes (or the masked image
    itself); the input is base, with the hole mask as a 4th channel (1 = missing) if asked.

    masked: (N, 3, H, W) on the network's scale, holes black; holes: (N, 1, H, W) bool.
    """
    base = masked if practice.fill == "none" else fill(masked, holes, practice.fill).to(masked.dtype)
    if practice.mask_channel:
        return torch.cat([base, holes.to(base.dtype)], dim=1), base
    return base, base


def network_output(raw: Tensor, base: Tensor, masked: Tensor, holes: Tensor,
                   practice: InpaintingPractice, squash: Callable[[Tensor], Tensor],
                   value_range: tuple[float, float]) -> Tensor:
    """The network's image from its last layer's `raw` output (N, 3, H, W): `squash(raw)` (the
    study's Tanh or Sigmoid), or with `residual` base + raw clamped to `value_range`; with
    `composite` the known pixels of `masked`. fp32."""
    if practice.residual:
        out = (base.float() + raw.float()).clamp(*value_range)
    else:
        out = squash(raw.float())
    if practice.composite:
        out = torch.where(holes, out, masked.float())
    return out
