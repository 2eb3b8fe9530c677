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


# (weights, the global RNG's state before) -> (features[:16]'s weights, the RNG's state after)
_BUILT: dict[tuple[str, bytes], tuple[dict[str, Tensor], Tensor]] = {}


def _vgg16_features(weights: str) -> nn.Sequential:
    """features[:16] of a VGG-16 with `weights`, built as torchvision builds the whole network
    (whose random initialisation draws from the global RNG, which a run's dropout then reads).
    A second build in this process from the same RNG state gets the same layers and leaves the
    RNG where the first left it, without drawing the 138 M numbers again."""
    from torchvision.models.vgg import cfgs, make_layers

    key = (weights, bytes(torch.get_rng_state().numpy()))
    if key not in _BUILT:
        features = _build_vgg16_features(weights)
        _BUILT.clear()  # one entry: the runs of one notebook share their seed and network
        _BUILT[key] = ({k: v.clone() for k, v in features.state_dict().items()}, torch.get_rng_state())
        return features
    state, rng_after = _BUILT[key]
    if weights == "random":
        warnings.warn("perceptual loss uses a RANDOMLY INITIALISED VGG-16 (smoke/offline only)",
                      stacklevel=3)
    with torch.device("meta"):
        features = make_layers(cfgs["D"])[:VGG_LAYERS]
    features = features.to_empty(device="cpu")
    features.load_state_dict(state)
    torch.set_rng_state(rng_after)
    return features


def _build_vgg16_features(weights: str) -> nn.Sequential:
    from torchvision.models import VGG16_Weights, vgg16

    if weights == "random":
        warnings.warn("perceptual loss uses a RANDOMLY INITIALISED VGG-16 (smoke/offline only)",
                      stacklevel=4)
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


def region_mean(err: Tensor, holes: Tensor, known_weight: float) -> Tensor:
    """Mean of a per-pixel error over the hole, plus `known_weight` x its mean over the known
    pixels. err: (N, C, H, W); holes: (N, 1, H, W) bool, True = missing."""
    hole = holes.to(err.dtype).expand_as(err)
    n_hole = hole.sum().clamp(min=1)
    loss = (err * hole).sum() / n_hole
    if known_weight:
        known = 1 - hole
        loss = loss + known_weight * (err * known).sum() / known.sum().clamp(min=1)
    return loss


class InpaintingLoss(nn.Module):
    """L = w_mse * MSE + w_mae * MAE + w_perc * Perceptual (weights per call), on the region
    `region` of the output (see `schema.LossConfig`)."""

    def __init__(self, perceptual_weights: str | None, region: str = "image",
                 known_weight: float = 0.0, signed: bool = False,
                 perceptual_images: int | None = None) -> None:
        super().__init__()
        self.perceptual = PerceptualLoss(perceptual_weights) if perceptual_weights else None
        self.region, self.known_weight = region, known_weight
        self.perceptual_images = perceptual_images  # the VGG sees only this many of a batch
        self.signed = signed  # images on [-1, 1] (the CAE): mapped to [0, 1] for the VGG

    def terms(self, pred: Tensor, target: Tensor, holes: Tensor | None,
              w: LossWeights) -> dict[str, Tensor]:
        """The unweighted terms whose weight in `w` is non-zero, each a scalar.

        pred, target: (N, 3, H, W) on the model's scale ([-1, 1] if `signed`, else [0, 1]);
        holes: (N, 1, H, W) bool, True = missing (needed unless region is "image").
        """
        if self.region != "image" and holes is None:
            raise ValueError(f"loss region {self.region!r} needs the masks")
        if self.region != "image":  # known pixels copied from the target: only the hole is learnt
            composite = torch.where(holes, pred, target)
        seen = pred if self.region == "image" else composite
        parts: dict[str, Tensor] = {}
        if w.mse:
            parts["mse"] = (region_mean((pred - target).square(), holes, self.known_weight)
                            if self.region == "hole" else F.mse_loss(seen, target))
        if w.mae:
            parts["mae"] = (region_mean((pred - target).abs(), holes, self.known_weight)
                            if self.region == "hole" else F.l1_loss(seen, target))
        if w.perceptual:
            if self.perceptual is None:
                raise RuntimeError("perceptual weight > 0 but the loss was built without VGG")
            k = self.perceptual_images
            pair = (seen[:k].float(), target[:k].float())  # [:None] is the whole batch
            parts["perceptual"] = self.perceptual(*[(x + 1) / 2 for x in pair] if self.signed else pair)
        return parts

    def forward(self, pred: Tensor, target: Tensor, w: LossWeights,
                holes: Tensor | None = None) -> tuple[Tensor, dict[str, Tensor]]:
        """The weighted total and its unweighted (detached) parts."""
        parts = self.terms(pred, target, holes, w)
        total = pred.new_zeros(())
        for name, value in parts.items():
            total = total + getattr(w, name) * value
        return total, {k: v.detach() for k, v in parts.items()}
