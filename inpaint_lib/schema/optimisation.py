"""How a run learns: the optimiser, the loss terms and their weights, the learning-rate
rules (cosine, plateau)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, PositiveFloat, PositiveInt, model_validator

from .base import Strict


class OptimizerConfig(Strict):
    name: Literal["adam", "adamw", "rmsprop", "sgd"] = "adam"
    lr: PositiveFloat = 1e-3
    momentum: float = Field(0.9, ge=0, lt=1)  # sgd only
    weight_decay: float = Field(0.0, ge=0)


class LossWeights(Strict):
    mse: float = Field(0.0, ge=0)
    mae: float = Field(0.0, ge=0)
    perceptual: float = Field(0.0, ge=0)


class LossConfig(LossWeights):
    """Weighted sum of pixel and perceptual losses (the weights), optionally ramped linearly.

    `region` says which output is scored: the raw prediction over the whole image (the
    study's), the composited output (known pixels copied from the target, so only the hole
    is learnt), or the hole alone plus `known_weight` times the error on the known pixels.
    """

    ramp_to: LossWeights | None = None  # weights reached at ramp_epochs[1]
    ramp_epochs: tuple[PositiveInt, PositiveInt] | None = None  # global epochs, inclusive
    perceptual_weights: str = "imagenet"  # "imagenet" | "random" | path to a .pth state dict
    region: Literal["image", "composite", "hole"] = "image"
    known_weight: float = Field(0.0, ge=0)  # region "hole" only
    # how the terms are weighted (see weighting.py): the weights above by hand (the study's),
    # or learnt/adapted during training; then a weight of 1 switches a term on, 0 off
    weighting: Literal["manual", "uncertainty", "gradnorm", "softadapt"] = "manual"
    gradnorm_alpha: float = Field(1.5, ge=0)
    softadapt_beta: float = 0.1
    weight_lr: PositiveFloat = 0.025  # GradNorm's step size for the weights
    # the perceptual term on the first k images of each (shuffled) batch: an unbiased estimate
    # of the same term at k/batch of the VGG's cost (None: every image, as the study)
    perceptual_images: PositiveInt | None = None

    @model_validator(mode="after")
    def _check(self) -> LossConfig:
        if (self.ramp_to is None) != (self.ramp_epochs is None):
            raise ValueError("ramp_to: ramp_to and ramp_epochs go together")
        if self.mse + self.mae + self.perceptual == 0 and self.ramp_to is None:
            raise ValueError("mse: every loss weight is zero")
        if self.known_weight and self.region != "hole":
            raise ValueError("known_weight: only used with region: hole")
        if self.weighting != "manual":
            on = [w for w in (self.mse, self.mae, self.perceptual) if w]
            if self.ramp_to is not None or any(w != 1 for w in on) or len(on) < 2:
                raise ValueError(f"weighting: {self.weighting} sets the weights itself: give two or "
                                 "more terms a weight of 1 (the others 0) and no ramp")
        return self

    @property
    def uses_perceptual(self) -> bool:
        return self.perceptual > 0 or (self.ramp_to is not None and self.ramp_to.perceptual > 0)

    def weights_at(self, epoch: int) -> LossWeights:
        """Loss weights in force at global `epoch` (linear ramp, then held)."""
        start = LossWeights(mse=self.mse, mae=self.mae, perceptual=self.perceptual)
        if self.ramp_to is None or self.ramp_epochs is None:
            return start
        a, b = self.ramp_epochs
        t = 1.0 if b == a else min(max((epoch - a) / (b - a), 0.0), 1.0)
        end = self.ramp_to
        return LossWeights(
            mse=(1 - t) * start.mse + t * end.mse,
            mae=(1 - t) * start.mae + t * end.mae,
            perceptual=(1 - t) * start.perceptual + t * end.perceptual,
        )


class CosineSchedule(Strict):
    """Learning rate per step: linear warm-up over `warmup` of the run, then cosine decay
    from the optimiser's lr to `final` times it (a plain rule in place of hand-set changes)."""

    warmup: float = Field(0.05, ge=0, lt=1)
    final: float = Field(0.01, ge=0, le=1)


class PlateauConfig(Strict):
    """ReduceLROnPlateau on the held-out loss."""

    factor: float = Field(0.5, gt=0, lt=1)
    patience: PositiveInt = 5
    min_lr: float = Field(1e-6, ge=0)
