"""The networks' settings: the study's CAE and ViT, their variants' options and the
inpainting practice both may add."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, PositiveInt, model_validator

from .base import Strict

FillName = Literal["none", "line", "biharmonic", "relaxed_line"]


class InpaintingPractice(Strict):
    """What inpainting networks do that the study's two do not (see models/practice.py):
    see where the hole is, start from a classical fill, keep the known pixels."""

    mask_channel: bool = False  # the hole mask as an extra input channel
    fill: FillName = "none"  # input: this classical fill of the holes instead of black
    residual: bool = False  # output = the fill + the network's correction (needs a fill)
    composite: bool = False  # known pixels copied from the input: only the hole is predicted

    @model_validator(mode="after")
    def _check_residual(self) -> InpaintingPractice:
        if self.residual and self.fill == "none":
            raise ValueError("residual: a residual is a correction of a fill: set fill")
        return self

    @property
    def uses_practice(self) -> bool:
        return self.mask_channel or self.fill != "none" or self.composite


class CAEConfig(InpaintingPractice):
    arch: Literal["cae"] = "cae"
    latent_channels: PositiveInt = 128
    skips: Literal["none", "add", "concat"] = "none"  # U-Net links at 16 and 8 px
    # residual blocks at H/8 that widen the receptive field: dilated 3x3 convolutions
    # (dilations 2, 4, 8, ...), or LaMa's Fourier unit (a 1x1 convolution on the spectrum:
    # every position sees the whole image); none in the study's CAE
    bottleneck: Literal["none", "dilated", "fourier"] = "none"
    bottleneck_blocks: int = Field(2, ge=1, le=8)
    # a stem of this many channels at full resolution before the first stride-2 layer, and a
    # head after the last upsampling linked to it (0: none, as the study's CAE): fine detail
    # at the hole's edge, at about 1.5x the time per epoch with 16 channels
    stem: int = Field(0, ge=0)

    @property
    def is_study(self) -> bool:
        """The study's CAE exactly (section 1.3), with none of the variants' options."""
        return (self.skips == "none" and self.bottleneck == "none" and not self.stem
                and not self.uses_practice)


class ViTConfig(InpaintingPractice):
    arch: Literal["vit"] = "vit"
    patch_size: PositiveInt = 16
    dim: PositiveInt = 256
    depth: PositiveInt = 8
    heads: PositiveInt = 8
    mlp_dim: PositiveInt = 1024
    dropout: float = Field(0.1, ge=0, lt=1)
    # the mosaic fixes of study section 7.3, relative to patch_size so every profile keeps them:
    finer: PositiveInt = 1  # tokens of patch_size/finer px (7.3: 8x8 instead of 16x16 = 2)
    overlap: bool = False  # tokens every half patch, overlapping predictions averaged
    head: Literal["mlp", "conv"] = "mlp"  # the study's per-patch MLP, or conv upsampling
    refiner: int = Field(0, ge=0)  # channels of a small CNN refining the output (0 = none)

    @model_validator(mode="after")
    def _check(self) -> ViTConfig:
        if self.dim % self.heads:
            raise ValueError(f"heads: dim {self.dim} is not divisible by {self.heads} heads")
        if self.patch_size % self.finer:
            raise ValueError(f"finer: {self.finer} does not divide patch_size {self.patch_size}")
        if self.overlap and self.token_patch % 4:
            raise ValueError(f"overlap: needs a token patch divisible by 4, not {self.token_patch}")
        return self

    @property
    def token_patch(self) -> int:
        """Pixels per side of one token's patch."""
        return self.patch_size // self.finer

    @property
    def is_study(self) -> bool:
        """The study's ViT exactly (section 4), with none of the variants' options."""
        return (self.finer == 1 and not self.overlap and self.head == "mlp" and not self.refiner
                and not self.uses_practice)


ModelConfig = Annotated[CAEConfig | ViTConfig, Field(discriminator="arch")]
