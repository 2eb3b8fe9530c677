"""Losses: MSE, MAE and the study's VGG-16 perceptual loss, combined by weight.

Perceptual loss (Part B, section 4): both images go through the first 16 layers
of an ImageNet-pretrained VGG-16 (up to relu3_3), frozen and in eval mode, after
re-normalising [0, 1] inputs with ImageNet mean/std; the loss is the L1 distance
between the feature maps, averaged over C*H*W (and the batch).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .schema import LossWeights

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
VGG_LAYERS = 16


class WeightsMissingError(RuntimeError):
    """Pretrained VGG-16 weights are not on this machine."""


def _vgg16_features(weights: str) -> nn.Sequential:
    from torchvision.models import VGG16_Weights, vgg16

    if weights == "random":
        warnings.warn("perceptual loss uses a RANDOMLY INITIALISED VGG-16 (smoke/offline only)",
                      stacklevel=3)
        return vgg16(weights=None).features[:VGG_LAYERS]
    if weights == "imagenet":
        try:
            return vgg16(weights=VGG16_Weights.IMAGENET1K_V1).features[:VGG_LAYERS]
        except Exception as e:  # noqa: BLE001 - no cache and no network: say so in one line
            raise WeightsMissingError(
                "VGG16_Weights.IMAGENET1K_V1 not available "
                f"({type(e).__name__}): put vgg16-397923af.pth in "
                f"{torch.hub.get_dir()}/checkpoints, or set loss.perceptual_weights to its path"
            ) from None
    path = Path(weights).expanduser()
    if not path.exists():
        raise WeightsMissingError(f"loss.perceptual_weights: no file {path}")
    model = vgg16(weights=None)
    model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    return model.features[:VGG_LAYERS]


class PerceptualLoss(nn.Module):
    """L1 distance between VGG-16 features[:16] of prediction and target."""

    def __init__(self, weights: str = "imagenet") -> None:
        super().__init__()
        self.features = _vgg16_features(weights).eval().requires_grad_(False)
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1))

    def train(self, mode: bool = True) -> PerceptualLoss:  # VGG stays in eval mode
        return super().train(False)

    def _features(self, imgs: Tensor) -> Tensor:
        """imgs: (N, 3, H, W) in [0, 1] -> (N, 256, H/4, W/4)."""
        x = ((imgs - self.mean) / self.std).contiguous(memory_format=torch.channels_last)
        return self.features(x)

    def forward(self, pred: Tensor, target: Tensor) -> Tensor:
        """pred, target: (N, 3, H, W) in [0, 1] -> scalar."""
        with torch.no_grad():
            target_features = self._features(target)
        return F.l1_loss(self._features(pred), target_features)


class InpaintingLoss(nn.Module):
    """L = w_mse * MSE + w_mae * MAE + w_perc * Perceptual (weights per call)."""

    def __init__(self, perceptual_weights: str | None) -> None:
        super().__init__()
        self.perceptual = PerceptualLoss(perceptual_weights) if perceptual_weights else None

    def forward(self, pred: Tensor, target: Tensor, w: LossWeights) -> tuple[Tensor, dict[str, float]]:
        """pred, target: (N, 3, H, W). Returns the total and its unweighted parts."""
        total = pred.new_zeros(())
        parts: dict[str, Tensor] = {}
        if w.mse:
            parts["mse"] = F.mse_loss(pred, target)
            total = total + w.mse * parts["mse"]
        if w.mae:
            parts["mae"] = F.l1_loss(pred, target)
            total = total + w.mae * parts["mae"]
        if w.perceptual:
            if self.perceptual is None:
                raise RuntimeError("perceptual weight > 0 but the loss was built without VGG")
            parts["perceptual"] = self.perceptual(pred.float(), target.float())
            total = total + w.perceptual * parts["perceptual"]
        return total, {k: v.detach() for k, v in parts.items()}
