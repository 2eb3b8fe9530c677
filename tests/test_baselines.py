"""Known-answer tests for the classical inpainting baselines."""

from __future__ import annotations

import pytest
import torch

from inpaint_lib.baselines import (
    CLASSICAL_METHODS,
    COMMAND_NAMES,
    METHOD_DESCRIPTIONS,
    METHOD_SUMMARIES,
    SLOW_METHODS,
    mean_fill,
)

NAMES = ["mean fill", "OpenCV Telea", "OpenCV Navier-Stokes", "biharmonic"]
SIZE = 24


def _square_masks(n: int) -> torch.Tensor:
    """masks: (n, 1, SIZE, SIZE) with an 8x8 missing square in the middle."""
    masks = torch.zeros(n, 1, SIZE, SIZE)
    masks[:, :, 8:16, 8:16] = 1.0
    return masks


def _hole_mse(pred: torch.Tensor, imgs: torch.Tensor, masks: torch.Tensor) -> float:
    """Mean squared error over missing pixels. pred, imgs: (N, 3, H, W); masks: (N, 1, H, W)."""
    return float(((pred - imgs) ** 2 * masks).sum() / (masks.sum() * 3))


def test_registry() -> None:
    assert list(CLASSICAL_METHODS) == NAMES
    assert set(METHOD_DESCRIPTIONS) == set(NAMES)
    assert all(len(text) > 20 for text in METHOD_DESCRIPTIONS.values())
    assert SLOW_METHODS <= set(NAMES)
    assert set(COMMAND_NAMES) == set(METHOD_SUMMARIES) == set(NAMES)  # the inpaint command's
    assert len(set(COMMAND_NAMES.values())) == len(NAMES)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_output_shape_dtype_device_range(name: str, dtype: torch.dtype) -> None:
    gen = torch.Generator().manual_seed(0)
    imgs = torch.rand(3, 3, SIZE, SIZE, generator=gen).to(dtype)
    masks = _square_masks(3).to(dtype)
    pred = CLASSICAL_METHODS[name](imgs * (1 - masks), masks)
    assert pred.shape == imgs.shape
    assert pred.dtype == dtype
    assert pred.device == imgs.device
    assert pred.min() >= 0.0 and pred.max() <= 1.0


# OpenCV's Telea is off by up to 2 grey levels even on a constant image (measured with
# cv2 5.0: a constant 100 is filled with values in 99..102); the others are within 1/255.
CONSTANT_TOLERANCE = {name: 1 / 255 for name in NAMES} | {"OpenCV Telea": 2 / 255}


@pytest.mark.parametrize("name", NAMES)
def test_constant_colour_is_reproduced(name: str) -> None:
    colour = torch.tensor([51, 128, 230]) / 255  # exactly representable in uint8
    imgs = colour[None, :, None, None].expand(2, 3, SIZE, SIZE).clone()
    masks = _square_masks(2)
    pred = CLASSICAL_METHODS[name](imgs * (1 - masks), masks)
    hole = masks.expand_as(imgs).bool()
    assert torch.max(torch.abs(pred - imgs)[hole]) <= CONSTANT_TOLERANCE[name] + 1e-4


def test_mean_fill_exact_visible_mean() -> None:
    gen = torch.Generator().manual_seed(0)
    imgs = torch.rand(2, 3, SIZE, SIZE, generator=gen, dtype=torch.float64)
    masks = _square_masks(2).double()
    masks[1] = 1.0  # no visible pixels at all -> 0.5
    pred = mean_fill(imgs * (1 - masks), masks)
    visible = masks[0, 0] == 0
    expected = imgs[0][:, visible].mean(dim=1)  # (3,)
    hole_values = pred[0][:, masks[0, 0] == 1]  # (3, 64)
    assert torch.allclose(hole_values, expected[:, None].expand_as(hole_values), atol=1e-12)
    assert torch.equal(pred[0][:, visible], imgs[0][:, visible])  # known pixels kept
    assert torch.all(pred[1] == 0.5)


@pytest.mark.parametrize("name", ["OpenCV Telea", "OpenCV Navier-Stokes", "biharmonic"])
def test_smooth_gradient_beats_black_fill(name: str) -> None:
    ramp = torch.linspace(0.1, 0.9, SIZE)  # horizontal gradient
    imgs = ramp[None, None, None, :].expand(2, 3, SIZE, SIZE).clone()
    masks = _square_masks(2)
    masked = imgs * (1 - masks)
    pred = CLASSICAL_METHODS[name](masked, masks)
    black_mse = _hole_mse(masked, imgs, masks)  # about 0.26
    method_mse = _hole_mse(pred, imgs, masks)
    assert method_mse < 0.02 * black_mse
    # A gradient-following method also beats a flat fill with the visible mean colour.
    assert method_mse < _hole_mse(mean_fill(masked, masks), imgs, masks)
