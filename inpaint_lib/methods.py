"""Inpainting methods behind one interface: trained networks and classical fills alike.

A `Method` is what the evaluation scores, the figures show and the ``inpaint``
command applies to a user's photo: one code path from a test table to a photo.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .baselines import CLASSICAL_METHODS
from .device import default_device
from .timings import phase

# predict(masked, masks) -> prediction; masked: (N, 3, H, W) in [0, 1], holes black;
# masks: (N, 1, H, W) bool, True = missing; prediction: (N, 3, H, W) in [0, 1].
Predictor = Callable[[Tensor, Tensor], Tensor]


@dataclass(frozen=True)
class Method:
    name: str
    predict: Predictor
    identity: str  # what makes its output unique (run directory, or the baseline's name)
    # a training-free method: a section may score it on its first images only, where it is
    # too slow for all of them (`evaluation.classical_images`, `Section.score`)
    classical: bool = False


def network_method(name: str, model: nn.Module | Callable[[], nn.Module], identity: str,
                   signed: bool, device: torch.device | None = None) -> Method:
    """Wrap a trained network: [0, 1] in and out, whatever scale it works on.

    model: the network, or a function that loads it: then it is loaded on the first
    prediction, so a method whose scores are all cached (`evaluate`) never reads its weights.
    signed: the network works on [-1, 1] with holes at -1 (the CAE), else on [0, 1]
    with holes at 0 (the ViT). Predicts in fp16 autocast on CUDA, fp32 elsewhere.
    """
    device = device or default_device()
    loaded: list[nn.Module] = []

    def network() -> nn.Module:
        if not loaded:
            loaded.append((model if isinstance(model, nn.Module) else model()).to(device).eval())
        return loaded[0]

    @torch.no_grad()
    def predict(masked: Tensor, masks: Tensor) -> Tensor:
        x = masked.to(device)
        if signed:
            x = x * 2 - 1
        with torch.autocast(device.type, dtype=torch.float16, enabled=device.type == "cuda"):
            out = network()(x.contiguous(memory_format=torch.channels_last), masks.to(device)).float()
        return ((out + 1) / 2 if signed else out).clamp(0, 1)

    return Method(name, predict, identity)


NATIVE_MULTIPLE = 8  # the CAE's three stride-2 stages need sides divisible by 8


def at_native_resolution(method: Method, multiple: int = NATIVE_MULTIPLE) -> Method:
    """A fully convolutional network at the image's own resolution: the image (and its mask)
    padded on the bottom and right to a multiple of `multiple` px by repeating the edge
    (padding is known pixels, so no hole grows), predicted, and cropped back."""

    def predict(masked: Tensor, masks: Tensor) -> Tensor:
        h, w = masked.shape[-2:]
        ph, pw = -h % multiple, -w % multiple
        if ph or pw:
            masked = F.pad(masked, (0, pw, 0, ph), mode="replicate")
            masks = F.pad(masks, (0, pw, 0, ph))  # False: padding is known
        return method.predict(masked, masks)[..., :h, :w]

    return Method(method.name, predict, f"{method.identity}@native", method.classical)


def classical_methods(names: list[str] | None = None) -> list[Method]:
    """The training-free baselines (`baselines.CLASSICAL_METHODS`), all by default."""
    names = list(CLASSICAL_METHODS) if names is None else names
    return [Method(n, _timed(CLASSICAL_METHODS[n]), f"classical:{n}", classical=True) for n in names]


def _timed(fill: Predictor) -> Predictor:
    """`fill`, its time counted as the "classical" phase (`timings`)."""
    def predict(masked: Tensor, masks: Tensor) -> Tensor:
        with phase("classical"):
            return fill(masked, masks)

    return predict
