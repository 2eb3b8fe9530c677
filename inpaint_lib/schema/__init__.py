"""The params schema: what a params file may say, as frozen pydantic models.

Only types, ranges and cross-field rules live here; reading YAML, merging a
file over its base, the profile and overrides, and rescaling epochs for a
reduced profile live in `resolve.py`. Every model forbids unknown keys, so a
typo is an error naming the field.

Import the models from here (``from inpaint_lib.schema import RunConfig``); they are
written in one module per part of a params file:
- `base`: the strict base model and `config_hash`;
- `data`: the images (`DataConfig`) and the holes cut in them (`MaskConfig`);
- `models`: the networks (`CAEConfig`, `ViTConfig`, the inpainting practice both may add);
- `optimisation`: optimiser, loss and its weights, learning-rate rules;
- `run`: `RunConfig`, everything that determines one trained model;
- `section`: a notebook's parameters (`SectionParams`, `EvalConfig`, `Reference`,
  `ConclusionsParams`).
"""

from __future__ import annotations

from .base import Strict, config_hash
from .data import (
    NATIVE_IMAGE_SIZE,
    DataConfig,
    DatasetName,
    IntOrRange,
    MaskConfig,
    SubsetConfig,
)
from .models import CAEConfig, FillName, InpaintingPractice, ModelConfig, ViTConfig
from .optimisation import (
    CosineSchedule,
    LossConfig,
    LossWeights,
    OptimizerConfig,
    PlateauConfig,
)
from .run import RunConfig
from .section import ConclusionsParams, EvalConfig, Reference, SectionParams

__all__ = [
    "NATIVE_IMAGE_SIZE", "CAEConfig", "ConclusionsParams", "CosineSchedule", "DataConfig",
    "DatasetName", "EvalConfig", "FillName", "InpaintingPractice", "IntOrRange", "LossConfig",
    "LossWeights", "MaskConfig", "ModelConfig", "OptimizerConfig", "PlateauConfig", "Reference",
    "RunConfig", "SectionParams", "Strict", "SubsetConfig", "ViTConfig", "config_hash",
]
