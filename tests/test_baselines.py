"""Known-answer tests for the classical inpainting baselines."""

from __future__ import annotations

import pytest
import torch

from inpaint_lib.baselines import (
    CLASSICAL_METHODS,
    COMMAND_NAMES,
    METHOD_DESCRIPTIONS,
    METHOD_SUMMARIES,
    REGISTRY,
    SMALL_PHOTO,
    mean_fill,
    tool_candidates,
)

NAMES = ["mean fill", "OpenCV Telea", "OpenCV Navier-Stokes", "biharmonic", "FSR fast",
         "FSR best", "PatchMatch"]
NEW = ["FSR fast", "FSR best", "PatchMatch"]
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
    assert all(any(str(y) in text for y in range(1990, 2030)) for text in METHOD_DESCRIPTIONS.values()
               if "mean colour" not in text)  # every method but the mean fill cites its paper
    assert set(COMMAND_NAMES) == set(METHOD_SUMMARIES) == set(NAMES)  # the inpaint command's
    assert len(set(COMMAND_NAMES.values())) == len(NAMES) == len(REGISTRY)
    # the tool's default: the slow ones only on small photos, FSR best never
    assert tool_candidates(SMALL_PHOTO) == [n for n in NAMES if n != "FSR best"]
    assert tool_candidates(SMALL_PHOTO + 1) == NAMES[:4]


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
# cv2 5.0: a constant 100 is filled with values in 99..102); FSR converts to its own colour
# space and back (measured: within 2 grey levels); the others are within 1/255.
CONSTANT_TOLERANCE = {name: 1 / 255 for name in NAMES} | {"OpenCV Telea": 2 / 255,
                                                          "FSR fast": 2 / 255, "FSR best": 2 / 255}


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


@pytest.mark.parametrize("name", NEW)
def test_new_methods_fill_only_the_holes_and_keep_every_known_pixel(name: str) -> None:
    """FSR moves some known pixels by a grey level and PatchMatch works in 8 bits: both are
    composited, so every known pixel is the input's, bit for bit, and every hole is filled."""
    gen = torch.Generator().manual_seed(1)
    imgs = torch.rand(3, 3, 40, 48, generator=gen, dtype=torch.float64)
    masks = torch.zeros(3, 1, 40, 48, dtype=torch.bool)
    masks[0, :, 5:15, 5:17] = True
    masks[1, :, 20:23, 2:40] = True  # a stroke
    masks[2, :, 30:38, 30:38] = True
    masks[2, :, 2:6, 40:46] = True  # two holes
    masked = imgs * ~masks
    pred = CLASSICAL_METHODS[name](masked, masks)
    known = ~masks.expand_as(imgs)
    assert torch.equal(pred[known], masked[known])  # known pixels untouched
    holes = masks.expand_as(imgs)
    assert (pred[holes] - masked[holes]).abs().sum() > 0  # the holes are filled, not left black
    assert torch.equal(CLASSICAL_METHODS[name](masked, masks), pred)  # deterministic (seeded)
    empty = torch.zeros_like(masks)
    assert torch.equal(CLASSICAL_METHODS[name](imgs, empty), imgs)  # nothing to fill


@pytest.mark.parametrize("name", ["OpenCV Telea", "OpenCV Navier-Stokes", "biharmonic", *NEW])
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
