"""A notebook's parameters: a section of the report (`SectionParams`) with its evaluation
settings and the study's own published numbers, and the conclusions notebook
(`ConclusionsParams`)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, FiniteFloat, NonNegativeInt, PositiveFloat, PositiveInt

from .base import Strict
from .data import DataConfig, MaskConfig


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
    # classical methods too slow for every test image: {name: images}, each scored on the first
    # that many images of every test set of the section (0: not run there); the tables say so
    classical_images: dict[str, NonNegativeInt] = {}
    grid_patch: PositiveInt | None = None  # Part B: period of the patch-grid measure (the ViT's patch)
    # the crossover section: {mask shape: {setting label: masks}}, every method on each
    crossover: dict[str, dict[str, MaskConfig]] = {}
    crossover_images: PositiveInt | None = None  # test photos it scores, spread over the split


class Reference(Strict):
    """The study's own published numbers for one run, shown beside ours."""

    test_mse: FiniteFloat | None = Field(None, gt=0)
    parameters: PositiveInt | None = None
    figure: str | None = None  # the study's caption of the figure this run reproduces


# ------------------------------------------------------------------ notebooks
class SectionParams(Strict):
    """One executed notebook's parameters after base + profile merge."""

    title: str
    part: Literal["A", "B", "D"]  # D: beyond the study (profile section `photo`)
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
