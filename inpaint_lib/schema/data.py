"""The images a run sees (`DataConfig`) and the holes cut in them (`MaskConfig`)."""

from __future__ import annotations

from typing import Literal

from pydantic import PositiveInt, model_validator

from .base import Strict

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
    # native resolution, no resizing: each test photo's centre crop of crop x crop px, and
    # `train_crops` seeded random crops of that size per training photo (image_size unset)
    crop: PositiveInt | None = None
    train_crops: PositiveInt = 1
    split_seed: int = 0
    # images carved from train for validation (0 = none); with `crop` (an image tree), photos
    # held out whole: their centre crops validate, none of their crops trains
    val_size: int | float = 5000
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
        if self.crop is not None and self.image_size is not None:
            raise ValueError("crop: crops are taken at native resolution; unset image_size")
        if self.dataset == "folder" and not self.root:
            raise ValueError("root: the folder source needs a root directory")
        return self

    @property
    def side(self) -> int | None:
        """Side of the images as loaded (None when only the files know it)."""
        side = self.crop or self.image_size or NATIVE_IMAGE_SIZE.get(self.dataset)
        if self.fallback is not None and self.fallback.side != side:
            return None  # either may be loaded
        return side


# ------------------------------------------------------------------------- masks
IntOrRange = PositiveInt | tuple[PositiveInt, PositiveInt]


class MaskConfig(Strict):
    """Random holes, True = missing. `size` and `count` are a number, or an inclusive
    range [low, high] from which the value is drawn uniformly.

    `shape`: "squares" (`count` squares of side `size`) or "strokes" (`count` free-form
    brush strokes `size` px wide, `masks.random_strokes`). `mix`: a mixture; each image
    draws one of these settings with equal probability (`size`, `count` then unused)."""

    size: IntOrRange = 10
    count: IntOrRange = 1
    shape: Literal["squares", "strokes"] = "squares"
    mix: list[MaskConfig] = []
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
        if self.shape == "strokes" and (self.disjoint or self.nested_of is not None):
            raise ValueError("shape: strokes cannot be disjoint or nested")
        if any(m.mix for m in self.mix):
            raise ValueError("mix: a mixture of mixtures is not supported")
        return self

    @property
    def sizes(self) -> tuple[int, int]:
        """(smallest, largest) square side or stroke width (over a mixture's settings)."""
        if self.mix:
            return min(m.sizes[0] for m in self.mix), max(m.sizes[1] for m in self.mix)
        return self.size if isinstance(self.size, tuple) else (self.size, self.size)

    def cache_dump(self) -> dict:
        """`model_dump()` for cache keys: the fields added with strokes are left out while at
        their defaults, so the keys of every square-mask evaluation stay what they were."""
        doc = self.model_dump()
        if self.shape == "squares" and not self.mix:
            doc.pop("shape")
            doc.pop("mix")
        return doc

    @property
    def counts(self) -> tuple[int, int]:
        """(fewest, most) squares or strokes per image."""
        return self.count if isinstance(self.count, tuple) else (self.count, self.count)

    @property
    def label(self) -> str:
        """e.g. '1 × 10×10 px', '4 × 5×5 px, disjoint', '175-300 × (9-12)² px'."""
        if self.mix:
            return "one of: " + "; ".join(m.label for m in self.mix)
        lo, hi = self.sizes
        count = f"{self.counts[0]}-{self.counts[1]}" if isinstance(self.count, tuple) else str(self.count)
        if self.shape == "strokes":
            width = f"{lo}-{hi}" if hi != lo else str(lo)
            return f"{count} strokes {width} px wide"
        side = f"({lo}-{hi})²" if hi != lo else f"{lo}×{lo}"
        return f"{count} × {side} px" + (", disjoint" if self.disjoint else "")
