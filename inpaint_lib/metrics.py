"""Per-image inpainting metrics and their summary.

Conventions: ``pred`` and ``target`` are (N, 3, H, W) in [0, 1]; ``masks`` is
(N, 1, H, W) in {0, 1} with 1 = missing pixel. Errors are computed after mapping
both images affinely from [0, 1] to ``value_range`` (e.g. (-1, 1) reproduces
numbers reported on the [-1, 1] scale: MSE x4, MAE x2 relative to [0, 1]).

The *composited* output ``masks * pred + (1 - masks) * target`` keeps the known
pixels (the unmasked target equals the known input) and uses the prediction only
in the hole; it is what an inpainting system actually returns.
"""

from __future__ import annotations

import torch
from torch import Tensor
from torchmetrics.functional.image import structural_similarity_index_measure

PSNR_MIN_MSE = 1e-10  # hole_mse is clamped to this before PSNR, so a perfect fill is finite

METRIC_LABELS: dict[str, str] = {
    "mse": "MSE (raw prediction, whole image)",
    "mse_composite": "MSE (composited output, whole image)",
    "hole_mse": "hole MSE",
    "hole_mae": "hole MAE",
    "hole_psnr": "hole PSNR (dB)",
    "ssim": "SSIM (composited output)",
}


def _ssim_kernel_size(height: int, width: int) -> int:
    """Largest odd Gaussian window <= 11 that fits in an H x W image."""
    size = min(11, height, width)
    return size if size % 2 == 1 else size - 1


def per_image_metrics(
    pred: Tensor,
    target: Tensor,
    masks: Tensor,
    value_range: tuple[float, float] = (0.0, 1.0),
) -> dict[str, Tensor]:
    """Per-image metrics of a prediction, each a float64 tensor of shape (N,).

    pred:   (N, 3, H, W) in [0, 1], the raw model / method output.
    target: (N, 3, H, W) in [0, 1], the ground-truth image.
    masks:  (N, 1, H, W) in {0, 1}, 1 = missing pixel.
    value_range: scale on which errors are measured; both images are mapped
        affinely from [0, 1] to it first. data_range = value_range[1] - value_range[0].

    Keys:
      mse:           whole-image MSE of the raw prediction.
      mse_composite: whole-image MSE of the composite ``masks*pred + (1-masks)*target``.
      hole_mse:      MSE over missing pixels only (all 3 channels); NaN if no hole.
      hole_mae:      MAE over missing pixels only; NaN if no hole.
      hole_psnr:     10 * log10(data_range**2 / hole_mse), with hole_mse clamped to
                     PSNR_MIN_MSE (1e-10) so a perfect fill gives a finite value
                     (100 dB on the unit scale); NaN if no hole.
      ssim:          whole-image SSIM of the COMPOSITED output vs target (Gaussian
                     window 11, or the largest odd size that fits smaller images),
                     always on the [0, 1] scale with data_range=1 (SSIM's luminance term
                     depends on the mean intensity, so it is not invariant to value_range;
                     [0, 1] is the convention of the literature).
    """
    low, high = value_range
    data_range = high - low
    pred64 = pred.detach().double() * data_range + low  # (N, 3, H, W) in value_range
    target64 = target.detach().double() * data_range + low  # (N, 3, H, W) in value_range
    hole = masks.detach().double()  # (N, 1, H, W)
    composite = hole * pred64 + (1.0 - hole) * target64  # (N, 3, H, W)

    diff = pred64 - target64  # (N, 3, H, W)
    mse = diff.pow(2).mean(dim=(1, 2, 3))  # (N,)
    mse_composite = (composite - target64).pow(2).mean(dim=(1, 2, 3))  # (N,)

    n_hole = hole.sum(dim=(1, 2, 3)) * pred.shape[1]  # (N,) missing values, all channels
    hole_sq = (diff.pow(2) * hole).sum(dim=(1, 2, 3))  # (N,)
    hole_abs = (diff.abs() * hole).sum(dim=(1, 2, 3))  # (N,)
    nan = torch.full_like(n_hole, float("nan"))
    hole_mse = torch.where(n_hole > 0, hole_sq / n_hole.clamp(min=1.0), nan)
    hole_mae = torch.where(n_hole > 0, hole_abs / n_hole.clamp(min=1.0), nan)
    hole_psnr = 10.0 * torch.log10(data_range**2 / hole_mse.clamp(min=PSNR_MIN_MSE))

    kernel_size = _ssim_kernel_size(pred.shape[-2], pred.shape[-1])
    composite_unit = (composite - low) / data_range  # (N, 3, H, W) in [0, 1]
    target_unit = target.detach().double()
    ssim = structural_similarity_index_measure(
        composite_unit, target_unit, data_range=1.0, kernel_size=kernel_size, reduction="none"
    )  # (N,)

    return {
        "mse": mse,
        "mse_composite": mse_composite,
        "hole_mse": hole_mse,
        "hole_mae": hole_mae,
        "hole_psnr": hole_psnr,
        "ssim": ssim.double(),
    }


def summarise(per_image: dict[str, Tensor]) -> dict[str, float]:
    """Mean of each (N,) metric over images, ignoring NaN (e.g. images without a hole)."""
    return {key: float(torch.nanmean(values.double())) for key, values in per_image.items()}
