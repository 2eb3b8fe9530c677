"""Parameters: load a study's YAML, merge its base and the profile, validate, hash.

A params file (``params/a2_optimizers.yaml``) names a base (``extends: cae.yaml``)
holding the study's shared settings, and declares its runs as small overrides of
the base's ``train`` section. A profile (``params/profiles/quick.yaml``) is a
YAML of overrides per part (``cae:``/``vit:``) merged on top. The merged
document is validated with pydantic before any work: an unknown key, a wrong
type or an impossible value is one line naming the file and the field.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import os
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PositiveFloat,
    PositiveInt,
    ValidationError,
    model_validator,
)

PARAMS_DIR = Path(__file__).resolve().parent.parent / "params"
PROFILES = ("smoke", "quick", "full")


class ParamsError(ValueError):
    """A params file is invalid; the message is one line naming file and field."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --------------------------------------------------------------------------- data
DatasetName = Literal["cifar10", "oxford_pet", "ships", "cifar10_ship", "folder", "synthetic"]


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

    @model_validator(mode="after")
    def _check(self) -> DataConfig:
        if isinstance(self.val_size, float) and not 0 <= self.val_size < 1:
            raise ValueError("val_size: a fraction must be in [0, 1)")
        if self.test_fraction is not None and not 0 < self.test_fraction < 1:
            raise ValueError("test_fraction: must be in (0, 1)")
        if self.dataset == "folder" and not self.root:
            raise ValueError("root: the folder source needs a root directory")
        return self


# ------------------------------------------------------------------------- masks
class MaskConfig(Strict):
    """Random squares, True = missing. A range draws the value uniformly (inclusive)."""

    size: PositiveInt = 10
    count: PositiveInt = 1
    size_range: tuple[PositiveInt, PositiveInt] | None = None
    count_range: tuple[PositiveInt, PositiveInt] | None = None
    draw: Literal["per_image", "per_batch"] = "per_image"  # how ranges are drawn
    disjoint: bool = False  # resample until squares do not overlap (equal total area)
    nested_of: PositiveInt | None = None  # draw this many squares, use the first `count`:
    # masks for count 1, 2, ... nested_of then grow by adding squares (test-time sweeps)

    @model_validator(mode="after")
    def _check(self) -> MaskConfig:
        for name in ("size_range", "count_range"):
            rng = getattr(self, name)
            if rng is not None and rng[0] > rng[1]:
                raise ValueError(f"{name}: low {rng[0]} > high {rng[1]}")
        if self.count_range is not None and self.draw == "per_image":
            raise ValueError("count_range: needs draw: per_batch")
        if self.nested_of is not None and (self.nested_of < self.count or self.count_range
                                            or self.disjoint):
            raise ValueError("nested_of: needs a fixed count <= nested_of, not disjoint")
        return self

    @property
    def max_size(self) -> int:
        return self.size_range[1] if self.size_range else self.size

    @property
    def max_count(self) -> int:
        return self.count_range[1] if self.count_range else self.count


# ------------------------------------------------------------------------ models
class CAEConfig(Strict):
    arch: Literal["cae"] = "cae"
    latent_channels: PositiveInt = 128


class ViTConfig(Strict):
    arch: Literal["vit"] = "vit"
    patch_size: PositiveInt = 16
    dim: PositiveInt = 256
    depth: PositiveInt = 8
    heads: PositiveInt = 8
    mlp_dim: PositiveInt = 1024
    dropout: float = Field(0.1, ge=0, lt=1)

    @model_validator(mode="after")
    def _check(self) -> ViTConfig:
        if self.dim % self.heads:
            raise ValueError(f"heads: dim {self.dim} is not divisible by {self.heads} heads")
        return self


class OptimizerConfig(Strict):
    name: Literal["adam", "adamw", "rmsprop", "sgd"] = "adam"
    lr: PositiveFloat = 1e-3
    momentum: float = Field(0.9, ge=0, lt=1)  # sgd only
    weight_decay: float = Field(0.0, ge=0)


class LossWeights(Strict):
    mse: float = Field(0.0, ge=0)
    mae: float = Field(0.0, ge=0)
    perceptual: float = Field(0.0, ge=0)


class LossConfig(Strict):
    """Weighted sum of pixel and perceptual losses; optionally ramped linearly."""

    mse: float = Field(0.0, ge=0)
    mae: float = Field(0.0, ge=0)
    perceptual: float = Field(0.0, ge=0)
    ramp_to: LossWeights | None = None  # weights reached at ramp_epochs[1]
    ramp_epochs: tuple[PositiveInt, PositiveInt] | None = None  # global epochs, inclusive
    perceptual_weights: str = "imagenet"  # "imagenet" | "random" | path to a .pth state dict

    @model_validator(mode="after")
    def _check(self) -> LossConfig:
        if (self.ramp_to is None) != (self.ramp_epochs is None):
            raise ValueError("ramp_to: ramp_to and ramp_epochs go together")
        if self.mse + self.mae + self.perceptual == 0 and self.ramp_to is None:
            raise ValueError("mse: every loss weight is zero")
        return self

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


class PlateauConfig(Strict):
    """ReduceLROnPlateau on the held-out loss."""

    factor: float = Field(0.5, gt=0, lt=1)
    patience: PositiveInt = 5
    min_lr: float = Field(1e-6, ge=0)


# -------------------------------------------------------------------------- runs
class RunConfig(Strict):
    """Everything that determines a trained model; its hash names the run directory."""

    data: DataConfig
    model: Annotated[CAEConfig | ViTConfig, Field(discriminator="arch")]
    optimizer: OptimizerConfig = OptimizerConfig()
    mask: MaskConfig = MaskConfig()
    loss: LossConfig = LossConfig(mse=1.0)
    epochs: PositiveInt | tuple[PositiveInt, PositiveInt] = 200  # count, or global [first, last]
    lr_changes: dict[int, PositiveFloat] = {}  # global epoch -> new lr (set at its start)
    plateau: PlateauConfig | None = None
    grad_clip: PositiveFloat | None = None
    batch_size: PositiveInt = 256
    seed: int = 0
    amp: bool = True  # CUDA: fp16 autocast + GradScaler (the study's AMP)
    # CPU: bf16 autocast where the CPU has AMX tiles ("auto"; 2.4-2.7x for the ViT step,
    # 1.6x for the CAE pipeline on this project's Xeon, see results/bench), else fp32.
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
        native = {"cifar10": 32, "cifar10_ship": 32, "oxford_pet": 224, "synthetic": 32}
        size = self.data.image_size or native.get(self.data.dataset)
        if size is not None and self.mask.max_size > size:
            raise ValueError(f"mask.size: {self.mask.max_size} px squares do not fit {size} px images")
        if (isinstance(self.model, ViTConfig) and self.data.image_size
                and self.data.image_size % self.model.patch_size):
            raise ValueError("model.patch_size: must divide data.image_size")
        for e in self.lr_changes:
            if not first <= e <= last:
                raise ValueError(f"lr_changes: epoch {e} outside this run's epochs {first}-{last}")
        return self

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
        """Stable hash of the effective config: identical runs share one directory."""
        return config_hash(self.model_dump(mode="json"))


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


class StudyParams(Strict):
    """One executed notebook's parameters after base + profile merge."""

    title: str
    part: Literal["A", "B"]
    data: DataConfig
    train: dict[str, Any]  # RunConfig fields without data; validated per run
    runs: dict[str, dict[str, Any]] = {"baseline": {}}
    reference: dict[str, Any] = {}  # the study's own reported numbers, by run name
    evaluation: EvalConfig = EvalConfig()
    phase: PositiveInt | None = None
    parent: str | None = None  # params file of the previous ViT phase
    epoch_scale: PositiveFloat = 1.0  # profile knob: stretch/shrink every epoch count
    mask_scale: PositiveFloat = 1.0  # profile knob: scale square sides (reduced image size)
    seeds: PositiveInt = 1  # training seeds per run (mean and 95% interval when > 1)
    baseline_seeds: PositiveInt = 1  # seeds for runs equal to the base config: the noise estimate
    profile_note: str = ""
    source_file: str = ""


class SummaryParams(Strict):
    """The conclusions notebook: which studies' tables it summarises."""

    title: str
    part_a: list[str]  # params files of Part A studies (their test tables)
    mask_sweep: str | None = None  # params file of the test-time mask sweep
    part_b: str | None = None  # params file of the ViT evaluation


def load_summary(params_file: str | Path) -> SummaryParams:
    path = Path(params_file)
    try:
        summary = SummaryParams.model_validate(_read_yaml(path))
    except ValidationError as err:
        raise _one_line(path, err) from None
    for name in [*summary.part_a, summary.mask_sweep, summary.part_b]:
        if name is not None and not (path.parent / name).exists():
            raise ParamsError(f"{path}: {name}: no such params file beside it")
    return summary


# ----------------------------------------------------------------------- loading
def deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """Recursively merge `over` onto a copy of `base` (dicts merge, others replace)."""
    out = copy.deepcopy(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = deep_merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def config_hash(obj: Any) -> str:
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        doc = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise ParamsError(f"{path}: file not found") from None
    except yaml.YAMLError as e:
        raise ParamsError(f"{path}: not valid YAML ({str(e).splitlines()[0]})") from None
    if not isinstance(doc, dict):
        raise ParamsError(f"{path}: expected a mapping at top level")
    return doc


def _one_line(path: Path | str, err: ValidationError, prefix: str = "") -> ParamsError:
    e = err.errors()[0]
    loc = ".".join(str(p) for p in e["loc"] if not str(p).startswith("function-"))
    loc = ".".join(x for x in (prefix, loc) if x)
    msg = e["msg"].removeprefix("Value error, ")
    if e["type"] == "extra_forbidden":
        msg = "unknown key (typo?)"
    more = f" (+{len(err.errors()) - 1} more)" if len(err.errors()) > 1 else ""
    return ParamsError(f"{path}: {loc}: {msg}{more}")


def _read_with_bases(path: Path, depth: int = 0) -> dict[str, Any]:
    """A params file merged over its `extends:` chain (base first)."""
    doc = _read_yaml(path)
    base_name = doc.pop("extends", None)
    if base_name is None:
        return doc
    if depth > 8:
        raise ParamsError(f"{path}: extends: chain too deep (a cycle?)")
    return deep_merge(_read_with_bases(path.parent / base_name, depth + 1), doc)


def load_profile(profile: str) -> dict[str, Any]:
    path = PARAMS_DIR / "profiles" / f"{profile}.yaml"
    if not path.exists():
        raise ParamsError(f"profile {profile!r}: no file {path} (choose from {', '.join(PROFILES)})")
    return _read_yaml(path)


def load_study(params_file: str | Path, profile: str = "quick") -> StudyParams:
    """Read a params file, merge its base and the profile section, validate."""
    path = Path(params_file)
    if not path.is_absolute() and not path.exists():
        path = PARAMS_DIR / path.name if (PARAMS_DIR / path.name).exists() else path
    doc = _read_with_bases(path)
    prof = load_profile(profile)
    section = "cae" if doc.get("part") == "A" else "vit"
    doc = deep_merge(doc, prof.get(section, {}))
    overrides = os.environ.get("INPAINT_OVERRIDES")  # e.g. 'vit: {train: {amp: false}}'
    if overrides:
        try:
            extra = yaml.safe_load(overrides) or {}
        except yaml.YAMLError as e:
            raise ParamsError(f"INPAINT_OVERRIDES: not valid YAML ({str(e).splitlines()[0]})") from None
        if not isinstance(extra, dict):
            raise ParamsError("INPAINT_OVERRIDES: expected a mapping like 'cae: {...}'")
        doc = deep_merge(doc, extra.get(section, {}))
    doc["profile_note"] = prof.get("description", "")
    doc["source_file"] = str(path)
    try:
        study = StudyParams.model_validate(doc)
    except ValidationError as err:
        raise _one_line(path, err) from None
    for name in study.runs:  # validate every run now, before any work
        run_config(study, name, path)
    return study


def _scaled_epochs(study: StudyParams, first: int, last: int, start: int) -> tuple[int, int]:
    length = max(1, round((last - first + 1) * study.epoch_scale))
    return start, start + length - 1


def run_config(study: StudyParams, name: str, path: Path | str | None = None,
               parent: RunConfig | None = None) -> RunConfig:
    """The effective, validated RunConfig of run `name` of `study`.

    With `epoch_scale` != 1 (quick/smoke profiles) epoch numbers are rescaled:
    a ViT phase keeps its place in the chain (it starts right after `parent`),
    and in-phase events (lr changes, loss ramps) keep their relative position.
    """
    path = path or study.source_file
    if name not in study.runs:
        raise ParamsError(f"{path}: runs: no run named {name!r} (have {', '.join(study.runs)})")
    doc = deep_merge(study.train, study.runs[name])
    doc["data"] = study.data.model_dump()
    try:
        cfg = RunConfig.model_validate(doc)
    except ValidationError as err:
        raise _one_line(path, err, prefix=f"runs.{name}") from None
    first, last = cfg.epoch_range
    start = parent.epoch_range[1] + 1 if parent is not None else first
    if study.epoch_scale == 1.0 and start == first:
        new_first, new_last = first, last
    else:
        new_first, new_last = _scaled_epochs(study, first, last, start)

    def remap(e: int) -> int:
        frac = (e - first) / max(1, last - first + 1)
        return min(new_last, new_first + math.floor(frac * (new_last - new_first + 1)))

    update: dict[str, Any] = {}
    if (new_first, new_last) != (first, last):
        update["epochs"] = (new_first, new_last) if new_first != 1 else new_last
        update["lr_changes"] = {remap(e): lr for e, lr in cfg.lr_changes.items()}
        if cfg.loss.ramp_epochs is not None:
            a, b = cfg.loss.ramp_epochs
            ramp = (remap(a), remap(b))
            update["loss"] = cfg.loss.model_copy(update={"ramp_epochs": ramp})
    if study.mask_scale != 1.0:
        def side(v: int) -> int:
            return max(1, round(v * study.mask_scale))
        m = cfg.mask
        rng = (side(m.size_range[0]), side(m.size_range[1])) if m.size_range else None
        update["mask"] = m.model_copy(update={"size": side(m.size), "size_range": rng})
    if parent is not None:
        update["parent"] = parent.key()
    if update:
        cfg = RunConfig.model_validate({**cfg.model_dump(), **update})
    return cfg


def seeds_for(study: StudyParams, name: str) -> list[int]:
    """Seeds run `name` is trained with: `seeds`, or `baseline_seeds` for the configuration
    that equals the study's shared base (the baseline, trained once for every study)."""
    cfg = run_config(study, name)
    base = StudyParams.model_validate({**study.model_dump(), "runs": {"_base": {}}})
    is_base = cfg.key() == run_config(base, "_base").key()
    n = max(study.seeds, study.baseline_seeds if is_base else 1)
    return [cfg.seed + i for i in range(n)]
