"""Classical (training-free) inpainting baselines.

Every method has the signature ``method(masked, masks) -> pred`` where

* ``masked``: (N, 3, H, W) in [0, 1], the masked input ``imgs * (1 - masks)``;
* ``masks``:  (N, 1, H, W) bool, True = missing pixel;
* ``pred``:   (N, 3, H, W) in [0, 1], on the input's device and dtype.

Known pixels of ``pred`` are whatever the method returns (OpenCV and scikit-image
leave them unchanged; ``mean_fill`` keeps them too). The OpenCV and scikit-image
methods run per image on the CPU, spread over a thread pool (both release the GIL
for most of their work).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np
import torch
from skimage.restoration import inpaint_biharmonic
from torch import Tensor

INPAINT_RADIUS = 3


def mean_fill(masked: Tensor, masks: Tensor) -> Tensor:
    """Fill each hole with the per-image, per-channel mean colour of the visible pixels.

    masked: (N, 3, H, W) in [0, 1]; masks: (N, 1, H, W) bool, True = missing.
    An image with no visible pixels is filled with 0.5.
    """
    holes = masks.to(masked.dtype)  # (N, 1, H, W) in {0, 1}
    visible = 1.0 - holes
    n_visible = visible.sum(dim=(2, 3))  # (N, 1)
    colour_sum = (masked * visible).sum(dim=(2, 3))  # (N, 3)
    mean = torch.where(
        n_visible > 0, colour_sum / n_visible.clamp(min=1.0), torch.full_like(colour_sum, 0.5)
    )  # (N, 3)
    fill = mean[:, :, None, None]  # (N, 3, 1, 1)
    return (masked * visible + fill * holes).clamp(0.0, 1.0)


def _per_image(
    fn: Callable[[np.ndarray, np.ndarray], np.ndarray], masked: Tensor, masks: Tensor
) -> Tensor:
    """Apply ``fn(image_hwc_float64, hole_bool_hw) -> image_hwc_float64`` to each image in threads.

    masked: (N, 3, H, W) in [0, 1]; masks: (N, 1, H, W) bool, True = missing.
    Returns (N, 3, H, W) in [0, 1] on masked's device and dtype.
    """
    images = masked.detach().permute(0, 2, 3, 1).cpu().double().numpy()  # (N, H, W, 3)
    holes = masks.detach()[:, 0].cpu().bool().numpy()  # (N, H, W)
    with ThreadPoolExecutor() as pool:
        outputs = list(pool.map(fn, images, holes))
    out = torch.from_numpy(np.stack(outputs)).permute(0, 3, 1, 2)  # (N, 3, H, W)
    return out.clamp(0.0, 1.0).to(device=masked.device, dtype=masked.dtype)


def _opencv(image: np.ndarray, hole: np.ndarray, flags: int) -> np.ndarray:
    """cv2.inpaint on one image. image: (H, W, 3) float in [0, 1]; hole: (H, W) bool."""
    img_u8 = np.round(image * 255.0).clip(0, 255).astype(np.uint8)
    mask_u8 = hole.astype(np.uint8) * 255
    filled = cv2.inpaint(img_u8, mask_u8, inpaintRadius=INPAINT_RADIUS, flags=flags)
    return filled.astype(np.float64) / 255.0


def telea(masked: Tensor, masks: Tensor) -> Tensor:
    """OpenCV fast-marching inpainting (Telea 2004).

    masked: (N, 3, H, W) in [0, 1]; masks: (N, 1, H, W) bool, True = missing.
    """
    return _per_image(lambda im, h: _opencv(im, h, cv2.INPAINT_TELEA), masked, masks)


def navier_stokes(masked: Tensor, masks: Tensor) -> Tensor:
    """OpenCV Navier-Stokes inpainting (Bertalmio et al. 2001).

    masked: (N, 3, H, W) in [0, 1]; masks: (N, 1, H, W) bool, True = missing.
    """
    return _per_image(lambda im, h: _opencv(im, h, cv2.INPAINT_NS), masked, masks)


def _biharmonic_one(image: np.ndarray, hole: np.ndarray) -> np.ndarray:
    """scikit-image biharmonic inpainting of one image. image: (H, W, 3); hole: (H, W) bool."""
    if not hole.any():
        return image
    return inpaint_biharmonic(image, hole, channel_axis=-1)


def biharmonic(masked: Tensor, masks: Tensor) -> Tensor:
    """scikit-image biharmonic inpainting (Damelin & Hoang 2018); slow, see SLOW_METHODS.

    masked: (N, 3, H, W) in [0, 1]; masks: (N, 1, H, W) bool, True = missing.
    """
    return _per_image(_biharmonic_one, masked, masks)


CLASSICAL_METHODS: dict[str, Callable[[Tensor, Tensor], Tensor]] = {
    "mean fill": mean_fill,
    "OpenCV Telea": telea,
    "OpenCV Navier-Stokes": navier_stokes,
    "biharmonic": biharmonic,
}

METHOD_DESCRIPTIONS: dict[str, str] = {
    "mean fill": "Every missing pixel is set to the mean colour of the visible pixels of its image.",
    "OpenCV Telea": (
        "Fast-marching method that fills the hole from its boundary inward, each pixel a "
        "weighted average of its known neighbours (Telea 2004)."
    ),
    "OpenCV Navier-Stokes": (
        "Propagates isophotes (lines of equal intensity) into the hole by solving the "
        "Navier-Stokes fluid equations (Bertalmio et al. 2001)."
    ),
    "biharmonic": (
        "Solves the biharmonic equation so the fill is the smoothest surface that matches "
        "the hole's boundary (Damelin & Hoang 2018)."
    ),
}

# Methods too slow to score on a whole test set; callers may use a subset.
SLOW_METHODS: set[str] = {"biharmonic"}

# The inpaint command's name of each method (`tool.command.CLASSICAL`) and its line in --list-methods.
COMMAND_NAMES: dict[str, str] = {
    "mean fill": "mean",
    "OpenCV Telea": "telea",
    "OpenCV Navier-Stokes": "ns",
    "biharmonic": "biharmonic",
}
METHOD_SUMMARIES: dict[str, str] = {
    "mean fill": "each hole gets the mean colour of the image's visible pixels",
    "OpenCV Telea": "OpenCV fast marching from the hole's boundary inward (Telea 2004)",
    "OpenCV Navier-Stokes": "OpenCV Navier-Stokes isophote propagation (Bertalmio et al. 2001)",
    "biharmonic": "scikit-image biharmonic: the smoothest surface matching the hole's boundary",
}
