"""`RunConfig`: everything that determines one trained model, and the key naming its run."""

from __future__ import annotations

from typing import Literal

from pydantic import PositiveFloat, PositiveInt, model_validator

from .base import Strict, config_hash
from .data import DataConfig, MaskConfig
from .models import ModelConfig, ViTConfig
from .optimisation import CosineSchedule, LossConfig, OptimizerConfig, PlateauConfig


class RunConfig(Strict):
    """Everything that determines a trained model; its hash names the run directory."""

    data: DataConfig
    model: ModelConfig
    optimizer: OptimizerConfig = OptimizerConfig()
    mask: MaskConfig = MaskConfig()
    loss: LossConfig = LossConfig(mse=1.0)
    epochs: PositiveInt | tuple[PositiveInt, PositiveInt] = 200  # count, or global [first, last]
    lr_changes: dict[int, PositiveFloat] = {}  # global epoch -> new lr (set at its start)
    mask_schedule: dict[int, MaskConfig] = {}  # global epoch -> training masks from then on
    cosine: CosineSchedule | None = None  # per-step cosine lr (instead of changes/plateau)
    plateau: PlateauConfig | None = None
    grad_clip: PositiveFloat | None = None
    batch_size: PositiveInt = 256
    seed: int = 0
    amp: bool = True  # CUDA: fp16 autocast + GradScaler (the study's AMP)
    # CPU: bf16 autocast where the CPU has bf16 matrix instructions (AMX or AVX512-BF16;
    # "auto", see device.cpu_has_bf16 and results/bench), else fp32.
    cpu_precision: Literal["auto", "bf16", "fp32"] = "auto"
    channels_last: bool = True
    # torch.compile the network (and the VGG of the perceptual loss): a one-off compile of
    # some seconds per input shape for a faster step; off by default (see results/bench)
    compile: bool = False
    parent: str | None = None  # key of the run whose final weights this one continues

    @model_validator(mode="after")
    def _check(self) -> RunConfig:
        first, last = self.epoch_range
        if last < first:
            raise ValueError(f"epochs: last epoch {last} before first {first}")
        side = self.data.side
        if side is not None and self.mask.sizes[1] > side:
            raise ValueError(f"mask.size: {self.mask.sizes[1]} px squares do not fit {side} px images")
        if (isinstance(self.model, ViTConfig) and self.data.image_size
                and self.data.image_size % self.model.patch_size):
            raise ValueError("model.patch_size: must divide data.image_size")
        for name in ("lr_changes", "mask_schedule"):
            for e in getattr(self, name):
                if not first <= e <= last:
                    raise ValueError(f"{name}: epoch {e} outside this run's epochs {first}-{last}")
        for m in self.mask_schedule.values():
            if side is not None and m.sizes[1] > side:
                raise ValueError(f"mask_schedule: {m.sizes[1]} px squares do not fit {side} px images")
        if self.cosine is not None and (self.lr_changes or self.plateau):
            raise ValueError("cosine: the cosine rule replaces lr_changes and plateau")
        if self.loss.weighting != "manual" and self.parent is not None:
            raise ValueError("loss.weighting: automatic weightings train in one run, not a chain")
        return self

    def mask_at(self, epoch: int) -> MaskConfig:
        """The training masks in force at global `epoch` (`mask`, then `mask_schedule`)."""
        current = self.mask
        for start in sorted(self.mask_schedule):
            if start <= epoch:
                current = self.mask_schedule[start]
        return current

    @property
    def epoch_range(self) -> tuple[int, int]:
        """Global (first, last) epoch numbers, inclusive."""
        if isinstance(self.epochs, int):
            return 1, self.epochs
        return self.epochs

    @property
    def num_epochs(self) -> int:
        first, last = self.epoch_range
        return last - first + 1

    def key(self) -> str:
        """Stable hash of the effective config: identical runs share one directory.

        Only values that differ from the schema's defaults are hashed, so a new option
        (with a default that keeps the old behaviour) leaves existing runs where they are.
        Where the perceptual term is off, which VGG weights it would use cannot matter and
        is left out (so a random-VGG override does not retrain the runs without that term).
        """
        cfg = self
        if not self.loss.uses_perceptual:
            unused = self.loss.model_copy(update={"perceptual_weights": "imagenet"})
            cfg = self.model_copy(update={"loss": unused})
        doc = cfg.model_dump(mode="json", exclude_defaults=True)
        doc.setdefault("model", {})["arch"] = self.model.arch  # the architecture, always
        return config_hash(doc)
