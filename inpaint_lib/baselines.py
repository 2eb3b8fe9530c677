"""Classical (training-free) inpainting baselines, registered once in `REGISTRY`.

Every method has the signature ``method(masked, masks) -> pred`` where

* ``masked``: (N, 3, H, W) in [0, 1], the masked input ``imgs * (1 - masks)``;
* ``masks``:  (N, 1, H, W) bool, True = missing pixel;
* ``pred``:   (N, 3, H, W) in [0, 1], on the input's device and dtype.

Known pixels of ``pred`` are the input's (OpenCV's Telea and Navier-Stokes and scikit-image
leave them unchanged; frequency-selective reconstruction moves some by a grey level and
PatchMatch works in 8 bits, so both are composited: the input where known). The OpenCV,
scikit-image and PatchMatch methods run per image on the CPU, spread over a thread pool (all
release the GIL for their work).

`REGISTRY` is the one list of methods: each `Classical` has its report name, the inpaint
command's name, a description with its citation (the report's Terms), a one-line summary
(``--list-methods``) and, for the slow ones, the largest photo the tool's default runs it on.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor


def _cv2():  # -> the cv2 module
    """OpenCV, imported on first use (a fill that never needs it starts without it)."""
    import cv2

    return cv2

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
    filled = _cv2().inpaint(img_u8, mask_u8, inpaintRadius=INPAINT_RADIUS, flags=flags)
    return filled.astype(np.float64) / 255.0


def telea(masked: Tensor, masks: Tensor) -> Tensor:
    """OpenCV fast-marching inpainting (Telea 2004).

    masked: (N, 3, H, W) in [0, 1]; masks: (N, 1, H, W) bool, True = missing.
    """
    return _per_image(lambda im, h: _opencv(im, h, _cv2().INPAINT_TELEA), masked, masks)


def navier_stokes(masked: Tensor, masks: Tensor) -> Tensor:
    """OpenCV Navier-Stokes inpainting (Bertalmio et al. 2001).

    masked: (N, 3, H, W) in [0, 1]; masks: (N, 1, H, W) bool, True = missing.
    """
    return _per_image(lambda im, h: _opencv(im, h, _cv2().INPAINT_NS), masked, masks)


def _biharmonic_one(image: np.ndarray, hole: np.ndarray) -> np.ndarray:
    """scikit-image biharmonic inpainting of one image. image: (H, W, 3); hole: (H, W) bool."""
    if not hole.any():
        return image
    from skimage.restoration import inpaint_biharmonic

    return inpaint_biharmonic(image, hole, channel_axis=-1)


def biharmonic(masked: Tensor, masks: Tensor) -> Tensor:
    """scikit-image biharmonic inpainting (Damelin & Hoang 2018).

    masked: (N, 3, H, W) in [0, 1]; masks: (N, 1, H, W) bool, True = missing.
    """
    return _per_image(_biharmonic_one, masked, masks)


def _composite(image: np.ndarray, hole: np.ndarray, filled_u8: np.ndarray) -> np.ndarray:
    """The input where known, `filled_u8` (H, W, 3) uint8 in the hole, as float in [0, 1]."""
    return np.where(hole[..., None], filled_u8.astype(np.float64) / 255.0, image)


def _fsr_one(image: np.ndarray, hole: np.ndarray, flags: int) -> np.ndarray:
    """OpenCV's frequency-selective reconstruction (contrib `cv2.xphoto.inpaint`) of one image.

    image: (H, W, 3) float in [0, 1]; hole: (H, W) bool. Its mask is the other way round
    (nonzero = known). It converts to its own colour space and back, which moves some known
    pixels by a grey level: they are put back."""
    if not hole.any():
        return image
    xphoto = getattr(_cv2(), "xphoto", None)
    if xphoto is None or not hasattr(xphoto, "INPAINT_FSR_FAST"):
        raise RuntimeError("frequency-selective reconstruction needs OpenCV's contrib modules "
                           "(opencv-contrib-python-headless, in requirements.lock): `make env`")
    # C-contiguous, the output too: OpenCV writes a strided output array's copy, not the array
    img_u8 = np.ascontiguousarray(np.round(image * 255.0).clip(0, 255).astype(np.uint8))
    out = np.zeros(img_u8.shape, np.uint8)
    xphoto.inpaint(img_u8, np.ascontiguousarray(~hole).astype(np.uint8), out, flags)
    return _composite(image, hole, out)


def fsr_fast(masked: Tensor, masks: Tensor) -> Tensor:
    """Frequency-selective reconstruction, fast setting (Genser et al. 2018; OpenCV contrib).

    masked: (N, 3, H, W) in [0, 1]; masks: (N, 1, H, W) bool, True = missing.
    """
    return _per_image(lambda im, h: _fsr_one(im, h, _cv2().xphoto.INPAINT_FSR_FAST), masked, masks)


def fsr_best(masked: Tensor, masks: Tensor) -> Tensor:
    """Frequency-selective reconstruction, best setting (Genser et al. 2018; OpenCV contrib):
    more iterations and a larger neighbourhood per block than `fsr_fast`, about 10x its time.

    masked: (N, 3, H, W) in [0, 1]; masks: (N, 1, H, W) bool, True = missing.
    """
    return _per_image(lambda im, h: _fsr_one(im, h, _cv2().xphoto.INPAINT_FSR_BEST), masked, masks)


PATCH_RADIUS = 3  # PatchMatch compares 7x7 patches (radius 3), the size its examples use
PATCH_SEED = 0  # its randomised search starts from this seed: the same input, the same fill


def _patchmatch_one(image: np.ndarray, hole: np.ndarray) -> np.ndarray:
    """PatchMatch inpainting (pypatchmatch) of one image. image: (H, W, 3) float in [0, 1];
    hole: (H, W) bool. Every call starts from `PATCH_SEED`."""
    if not hole.any():
        return image
    import patchmatch

    if not patchmatch.patchmatch_available:
        raise RuntimeError("PatchMatch: pypatchmatch's native library did not load; reinstall "
                           "the locked environment (`make env`)")
    img_u8 = np.ascontiguousarray(np.round(image * 255.0).clip(0, 255).astype(np.uint8))
    patchmatch.set_random_seed(PATCH_SEED)
    out = patchmatch.inpaint(img_u8, hole, patch_size=PATCH_RADIUS)
    return _composite(image, hole, out)


def patch_match(masked: Tensor, masks: Tensor) -> Tensor:
    """PatchMatch exemplar inpainting (Barnes et al. 2009), the method behind content-aware fill.

    masked: (N, 3, H, W) in [0, 1]; masks: (N, 1, H, W) bool, True = missing.
    """
    return _per_image(_patchmatch_one, masked, masks)


@dataclass(frozen=True)
class Classical:
    """One classical method, registered once: everything the report and the tool say of it."""

    name: str  # the report's name
    fill: Callable[[Tensor, Tensor], Tensor]
    command: str  # the inpaint command's name (--method)
    description: str  # one or two sentences with the citation (the report's Terms)
    summary: str  # its line in --list-methods
    # the tool's default considers it on photos of at most this many pixels (None: any size):
    # the slow ones take seconds on a large photo (README, "Speed"); --method runs it anywhere
    tool_pixels: int | None = None
    # how far from a hole (px) it reads known pixels: a hole farther away than that from the
    # holes it fills may be left out of its mask (the tool does so); None: anywhere in the image
    reach: int | None = None


SMALL_PHOTO = 200 * 200  # the tool's default runs FSR fast and PatchMatch on photos up to this

REGISTRY: tuple[Classical, ...] = (
    Classical("mean fill", mean_fill, "mean",
              "Every missing pixel is set to the mean colour of the visible pixels of its image.",
              "each hole gets the mean colour of the image's visible pixels"),
    Classical("OpenCV Telea", telea, "telea",
              "Fast-marching method that fills the hole from its boundary inward, each pixel a "
              "weighted average of its known neighbours (Telea 2004).",
              "OpenCV fast marching from the hole's boundary inward (Telea 2004)",
              reach=INPAINT_RADIUS),
    Classical("OpenCV Navier-Stokes", navier_stokes, "ns",
              "Propagates isophotes (lines of equal intensity) into the hole by solving the "
              "Navier-Stokes fluid equations (Bertalmio et al. 2001).",
              "OpenCV Navier-Stokes isophote propagation (Bertalmio et al. 2001)",
              reach=INPAINT_RADIUS),
    Classical("biharmonic", biharmonic, "biharmonic",
              "Solves the biharmonic equation so the fill is the smoothest surface that matches "
              "the hole's boundary (Damelin & Hoang 2018).",
              "scikit-image biharmonic: the smoothest surface matching the hole's boundary",
              reach=2),  # its stencil
    Classical("FSR fast", fsr_fast, "fsr-fast",
              "Frequency-selective reconstruction: each block around the hole is modelled as a "
              "sparse sum of Fourier basis functions fitted to its known pixels, weighted by "
              "distance, and the model is extrapolated into the hole (Genser, Seiler & Kaup "
              "2018; OpenCV contrib `xphoto`, fast setting).",
              "OpenCV contrib frequency-selective reconstruction, fast (Genser et al. 2018)",
              SMALL_PHOTO),
    Classical("FSR best", fsr_best, "fsr-best",
              "Frequency-selective reconstruction as above with more iterations and larger "
              "blocks, about ten times the time of the fast setting (Genser, Seiler & Kaup 2018; "
              "OpenCV contrib `xphoto`, best setting).",
              "OpenCV contrib frequency-selective reconstruction, best (Genser et al. 2018; "
              "slow: not in the default)", 0),
    Classical("PatchMatch", patch_match, "patchmatch",
              "Exemplar-based: fills the hole with 7x7 patches copied from the known part of the "
              "same image, found by PatchMatch's randomised nearest-neighbour search over an "
              "image pyramid (Barnes et al. 2009; the method behind content-aware fill; "
              "pypatchmatch, seeded).",
              "PatchMatch exemplar fill from the image's own patches (Barnes et al. 2009)",
              SMALL_PHOTO),
)
CLASSICAL: dict[str, Classical] = {c.name: c for c in REGISTRY}

# Views of the registry, by report name
CLASSICAL_METHODS: dict[str, Callable[[Tensor, Tensor], Tensor]] = {c.name: c.fill for c in REGISTRY}
METHOD_DESCRIPTIONS: dict[str, str] = {c.name: c.description for c in REGISTRY}
COMMAND_NAMES: dict[str, str] = {c.name: c.command for c in REGISTRY}
METHOD_SUMMARIES: dict[str, str] = {c.name: c.summary for c in REGISTRY}


def tool_candidates(pixels: int) -> list[str]:
    """The classical methods the tool's default may use on a photo of `pixels` pixels."""
    return [c.name for c in REGISTRY if c.tool_pixels is None or pixels <= c.tool_pixels]
