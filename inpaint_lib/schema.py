"""The params schema: what a params file may say, as frozen pydantic models.

Only types, ranges and cross-field rules live here; reading YAML, merging a
file over its base, the profile and overrides, and rescaling epochs for a
reduced profile live in `resolve.py`. Every model forbids unknown keys, so a
typo is an error naming the field.
"""

from __future__ import annotations

import hashlib
import json
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    FiniteFloat,
    PositiveFloat,
    PositiveInt,
    model_validator,
)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def config_hash(obj: Any) -> str:
    """Stable 12-hex-digit hash of a JSON-able object (run keys, evaluation cache keys)."""
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


# --------------------------------------------------------------------------- data
DatasetName = Literal["cifar10", "oxford_pet", "ships", "cifar10_ship", "stl10", "folder", "synthetic"]
# Side of each dataset's images when `image_size` is not set (None: varies, must be set).
NATIVE_IMAGE_SIZE: dict[str, int] = {"cifar10": 32, "cifar10_ship": 32, "oxford_pet": 224,
                                     "stl10": 96, "synthetic": 32}


class SubsetConfig(Strict):
    """Cap on images per split (None = all), taken after the seeded split."""

    train: PositiveInt | None = None
    val: PositiveInt | None = None
    test: PositiveInt | None = None


class DataConfig(Strict):
    dataset: DatasetName
    root: str | None = None  # folder source: a tree train/<class>/*, test/<class>/*
    image_size: PositiveInt | None = None  # resize to image_size x image_size (None = native)
    split_seed: int = 0
    val_size: int | float = 5000  # images carved from train for validation (0 = none)
    test_fraction: float | None = None  # pool train+test and re-split (Pet: 0.2)
    subset: SubsetConfig = SubsetConfig()
    download: bool = True
    synthetic_count: PositiveInt = 256  # smoke profile only
    # real images used, and named as such in the report, when this dataset is not on disk
    # and cannot be downloaded (e.g. STL-10 -> the Oxford-IIIT Pet images at 96 px)
    fallback: DataConfig | None = None

    @model_validator(mode="after")
    def _check(self) -> DataConfig:
        if isinstance(self.val_size, float) and not 0 <= self.val_size < 1:
            raise ValueError("val_size: a fraction must be in [0, 1)")
        if self.test_fraction is not None and not 0 < self.test_fraction < 1:
            raise ValueError("test_fraction: must be in (0, 1)")
        if self.dataset == "folder" and not self.root:
            raise ValueError("root: the folder source needs a root directory")
        return self

    @property
    def side(self) -> int | None:
        """Side of the images as loaded (None when only the files know it)."""
        side = self.image_size or NATIVE_IMAGE_SIZE.get(self.dataset)
        if self.fallback is not None and self.fallback.side != side:
            return None  # either may be loaded
        return side


# ------------------------------------------------------------------------- masks
IntOrRange = PositiveInt | tuple[PositiveInt, PositiveInt]


class MaskConfig(Strict):
    """Random squares, True = missing. `size` and `count` are a number, or an inclusive
    range [low, high] from which the value is drawn uniformly."""

    size: IntOrRange = 10
    count: IntOrRange = 1
    draw: Literal["per_image", "per_batch"] = "per_image"  # how ranges are drawn
    disjoint: bool = False  # resample until squares do not overlap (equal total area)
    nested_of: PositiveInt | None = None  # draw this many squares, use the first `count`:
    # masks for count 1, 2, ... nested_of then grow by adding squares (test-time sweeps)

    @model_validator(mode="after")
    def _check(self) -> MaskConfig:
        for name in ("size", "count"):
            value = getattr(self, name)
            if isinstance(value, tuple) and value[0] > value[1]:
                raise ValueError(f"{name}: low {value[0]} > high {value[1]}")
        if isinstance(self.count, tuple) and self.draw == "per_image":
            raise ValueError("count: a range of counts needs draw: per_batch")
        if self.nested_of is not None and (isinstance(self.count, tuple) or self.disjoint
                                           or self.nested_of < self.count):
            raise ValueError("nested_of: needs a fixed count <= nested_of, not disjoint")
        return self

    @property
    def sizes(self) -> tuple[int, int]:
        """(smallest, largest) square side."""
        return self.size if isinstance(self.size, tuple) else (self.size, self.size)

    @property
    def counts(self) -> tuple[int, int]:
        """(fewest, most) squares per image."""
        return self.count if isinstance(self.count, tuple) else (self.count, self.count)

    @property
    def label(self) -> str:
        """e.g. '1 × 10×10 px', '4 × 5×5 px, disjoint', '175-300 × (9-12)² px'."""
        lo, hi = self.sizes
        side = f"({lo}-{hi})²" if hi != lo else f"{lo}×{lo}"
        count = f"{self.counts[0]}-{self.counts[1]}" if isinstance(self.count, tuple) else str(self.count)
        return f"{count} × {side} px" + (", disjoint" if self.disjoint else "")


# ------------------------------------------------------------------------ models
FillName = Literal["none", "line", "biharmonic"]


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

    @property
    def is_study(self) -> bool:
        """The study's CAE exactly (section 1.3), with none of the variants' options."""
        return self.skips == "none" and not self.uses_practice


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


# ------------------------------------------------------------------ optimisation
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


# -------------------------------------------------------------------------- runs
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
    # "auto", see train.cpu_has_bf16 and results/bench), else fp32.
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


# ------------------------------------------------------------------ evaluation
class EvalConfig(Strict):
    mask_seed: int = 1234  # test masks are the same for every model and method
    n_examples: PositiveInt = 8  # images in reconstruction grids
    sweep_max_masks: PositiveInt = 10
    sweep_heatmap_images: PositiveInt = 10
    sweep_images: PositiveInt | None = None  # test images scored per sweep step (None = all)
    batch_size: PositiveInt = 500
    mask_counts: list[PositiveInt] = [150, 200, 250]  # ViT generalisation tests
    mask_size: PositiveInt = 11
    ood: DataConfig | None = None  # out-of-distribution test set (ships)
    baseline_subset: PositiveInt | None = None  # score slow classical methods on a subset
    grid_patch: PositiveInt | None = None  # Part B: period of the patch-grid measure (the ViT's patch)


class Reference(Strict):
    """The study's own published numbers for one run, shown beside ours."""

    test_mse: FiniteFloat | None = Field(None, gt=0)
    parameters: PositiveInt | None = None
    figure: str | None = None  # the study's caption of the figure this run reproduces


# ------------------------------------------------------------------ notebooks
class StudyParams(Strict):
    """One executed notebook's parameters after base + profile merge."""

    title: str
    part: Literal["A", "B"]
    data: DataConfig
    train: dict[str, Any]  # RunConfig fields without data; validated per run
    runs: dict[str, dict[str, Any]] = {"baseline": {}}
    reference: dict[str, Reference] = {}  # the study's own reported numbers, by run name
    evaluation: EvalConfig = EvalConfig()
    phase: PositiveInt | None = None
    parent: str | None = None  # params file of the previous ViT phase
    epoch_scale: PositiveFloat = 1.0  # profile knob: stretch/shrink every epoch count
    mask_scale: PositiveFloat = 1.0  # profile knob: scale square sides (reduced image size)
    seeds: PositiveInt = 1  # training seeds per run (mean and 95% interval when > 1)
    baseline_seeds: PositiveInt = 1  # seeds for runs equal to the base config: the noise estimate
    run_seeds: dict[str, PositiveInt] = {}  # more seeds for named runs (e.g. the best variant)
    compare_with: str | None = None  # params file of a study this one is set against
    # runs trained only at the full profile (a reduced profile cannot afford them: the
    # notebook measures their step time instead and says so); moved to `deferred` there
    full_only: list[str] = []
    deferred: dict[str, dict[str, Any]] = {}
    profile_note: str = ""
    source_file: str = ""


class ConclusionsParams(Strict):
    """The conclusions notebook: which studies it sets against the classical methods."""

    title: str
    part_a: list[str]  # params files of Part A studies (their test tables)
    mask_sweep: str | None = None  # params file of the test-time mask sweep
    part_b: str | None = None  # params file of the ViT evaluation
    part_b_variants: str | None = None  # params file of the ViT variants (counted with the ViT)
    source_file: str = ""
