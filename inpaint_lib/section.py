"""A section of the report: one executed notebook's params, its dataset and device, its runs
and their scores (named apart from "the study", the paper the report reproduces).

`open_section` validates the params and loads the data; `Section` finds (or trains)
the runs through the run cache and scores methods with the one evaluation
function. It computes nothing for display: tables come from `tables`, sentences
from `prose`, figures from `figures`, and the long tables they read from `scoring`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from .code_version import scoring_code
from .data import Splits
from .device import default_device, precision_name, signed_scale
from .evaluate import evaluate
from .masks import fixed_masks
from .methods import Method, classical_methods, network_method
from .provenance import host_cpu, record_provenance
from .resolve import (
    chained_run_config,
    is_base_run,
    load_params,
    run_config,
    seeds_for,
    with_seed,
)
from .runs import Run, get_run, load_splits, results_root
from .schema import MaskConfig, Reference, RunConfig, SectionParams
from .setting_sources import setting_sources
from .timings import phase, ready


def spread(total: int, n: int) -> Tensor:
    """n indices evenly spread over range(total) (test splits may be ordered by class)."""
    return torch.linspace(0, total - 1, min(n, total)).round().long()


def random_vgg(cfg: RunConfig) -> bool:
    """Does this run's loss use a VGG-16 with random weights (not the study's perceptual loss)?"""
    return cfg.loss.uses_perceptual and cfg.loss.perceptual_weights == "random"


@dataclass
class Section:
    params: SectionParams
    profile: str
    device: torch.device
    splits: Splits
    _runs: dict[str, list[Run]] = field(default_factory=dict)  # memo of `runs()`

    @property
    def value_range(self) -> tuple[float, float]:
        """Part A reports on the study's [-1, 1] scale; Part B on [0, 1]."""
        return (-1.0, 1.0) if self.params.part == "A" else (0.0, 1.0)

    @property
    def name(self) -> str:
        """The notebook's name: its params file's stem."""
        return Path(self.params.source_file).stem

    def label(self) -> str:
        """e.g. '32×32 px, CIFAR-10 (JPEG copy)': the image size and the dataset's name."""
        side = self.splits.image_size
        return f"{side}×{side} px, {self.splits.name}"

    def config(self, name: str | None = None) -> RunConfig:
        """Effective config of run `name` (default: the study's first run)."""
        return run_config(self.params, name or next(iter(self.params.runs)))

    def configs(self) -> dict[str, RunConfig]:
        """Effective config of every run, by name."""
        return {name: self.config(name) for name in self.params.runs}

    def training_masks(self) -> dict[str, MaskConfig]:
        """Each run's training masks, by run name."""
        return {name: cfg.mask for name, cfg in self.configs().items()}

    def level_masks(self) -> list[MaskConfig]:
        """The generalisation tests' occlusion levels (`evaluation.mask_counts` squares)."""
        ev = self.params.evaluation
        return [MaskConfig(size=ev.mask_size, count=count) for count in ev.mask_counts]

    def weighting_runs(self) -> list[str]:
        """Runs of the study's own network whose loss terms are weighted automatically."""
        return [name for name, cfg in self.configs().items()
                if cfg.loss.weighting != "manual" and cfg.model.is_study]

    def baseline_name(self) -> str:
        """The run that is the study's base configuration (the study's own CAE or ViT)."""
        return next(name for name in self.params.runs if is_base_run(self.params, name))

    def reference(self, run: Run) -> Reference | None:
        """The study's own numbers for `run` (params `reference`), if any."""
        return self.params.reference.get(run.name)

    def facts(self) -> dict[str, Any]:
        """What every number of this notebook depends on: profile, data, budget, device."""
        cfg = chained_run_config(self.params, next(iter(self.params.runs)), self.profile)
        seeds = {name: len(seeds_for(self.params, name)) for name in self.params.runs}
        return {"profile": self.profile, "dataset": self.splits.name, "sizes": self.splits.sizes(),
                "image_size": self.splits.image_size, "epochs": cfg.epoch_range,
                "batch_size": cfg.batch_size, "seeds": seeds, "mask_seed": self.params.evaluation.mask_seed,
                "device": str(self.device), "precision": precision_name(cfg, self.device),
                "random_vgg": any(random_vgg(chained_run_config(self.params, name, self.profile))
                                  for name in self.params.runs)}

    def settings(self) -> list[dict[str, Any]]:
        """Settings that differ from the study's base and what set them (`setting_sources`)."""
        return setting_sources(self.params.source_file, self.profile)

    # ------------------------------------------------------------------- runs
    def runs(self, log: Any = None) -> dict[str, list[Run]]:
        """Every run of the study, one per seed, trained now unless cached."""
        if not self._runs:
            with phase("training"):  # (a cached run loads in an instant)
                for name in self.params.runs:
                    self._runs[name] = [get_run(with_seed(self.params, name, seed), name,
                                                self.profile, self.device, log=log)
                                        for seed in seeds_for(self.params, name)]
            self.record([r for seeded in self._runs.values() for r in seeded])
        return self._runs

    def run(self) -> Run:
        """The study's first run (first seed): the one run of single-run notebooks."""
        return next(iter(self.runs().values()))[0]

    def phase_chain(self) -> list[tuple[SectionParams, Run]]:
        """(params, run) of every ViT phase from 1 up to this study's, oldest first."""
        chain, params = [], self.params
        while True:
            with phase("training"):
                run = get_run(params, next(iter(params.runs)), self.profile, self.device)
            chain.append((params, run))
            if params.parent is None:
                chain.reverse()
                self.record([r for _, r in chain])
                return chain
            params = load_params(Path(params.source_file).parent / params.parent, self.profile)

    def record(self, runs: list[Run]) -> None:
        """Save which runs and data this notebook used, for the report header."""
        record_provenance(self.profile, self.name, {
            "dataset": self.splits.name, "source": self.splits.source, "sizes": self.splits.sizes(),
            "device": str(self.device), "cpu": host_cpu() if self.device.type == "cpu" else None,
            "runs": {r.dir.name: {"name": r.name, "seed": r.config.seed,
                                  "train_seconds": r.info.get("train_seconds", 0.0),
                                  "code": r.info.get("code", "unrecorded"),
                                  "precision": r.info.get("precision", "unrecorded"),
                                  "threads": r.info.get("threads"),
                                  "parallel_jobs": r.info.get("parallel_jobs", 1)} for r in runs},
            "scoring_code": scoring_code(),
            "random_vgg": any(random_vgg(r.config) for r in runs),
            "params": self.params.model_dump(mode="json"),
        })

    def method(self, run: Run, name: str | None = None) -> Method:
        """A trained run as an inpainting method named `name` (default: the run's name);
        its identity, which keys the evaluation cache, is its run directory. Its weights are
        read on its first prediction: never, where every score it is asked for is cached."""
        return network_method(name or run.name, lambda: run.load_model(self.device), run.dir.name,
                              signed_scale(run.config), self.device)

    # --------------------------------------------------------------- scoring
    def classical_images(self, method: Method) -> int | None:
        """How many images of a test set `method` is scored on here: None for all (every
        network, and a classical method the section does not limit), else its
        `evaluation.classical_images` (0: not run in this section)."""
        return self.params.evaluation.classical_images.get(method.name) if method.classical else None

    def classical(self) -> list[Method]:
        """The classical methods this section scores (`methods.classical_methods`, less those
        its `evaluation.classical_images` sets to 0: too slow here; the tables say so)."""
        return [m for m in classical_methods() if self.classical_images(m) != 0]

    def score(self, method: Method, mask_cfg: MaskConfig, images: Tensor | None = None,
              data_id: str | None = None, seed: int | None = None) -> dict[str, Tensor]:
        """Per-image metrics of `method` on the test split (or `images`) under masks drawn from
        `mask_cfg` with the study's test-mask seed (or `seed`); cached, see `evaluate.evaluate`."""
        images = self.splits.test if images is None else images
        ev = self.params.evaluation
        return evaluate(method, images, mask_cfg, ev.mask_seed if seed is None else seed,
                        results_root(self.profile) / "eval", self.value_range,
                        data_id or self.splits.fingerprint, subset=self.classical_images(method),
                        batch=ev.batch_size, patch=ev.grid_patch)

    def examples(self, mask_cfg: MaskConfig, n: int | None = None,
                 images: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """n test images spread over the split with their evaluation masks:
        (n, 3, H, W) uint8 and (n, 1, H, W) bool, the same masks `score` uses."""
        images = self.splits.test if images is None else images
        idx = spread(len(images), n or self.params.evaluation.n_examples)
        h, w = images.shape[-2:]
        masks = fixed_masks(len(images), h, w, mask_cfg, self.params.evaluation.mask_seed)
        return images[idx], masks[idx]


def open_section(params_file: str | Path, profile: str, device: str | None = None) -> Section:
    """Validate the params (one-line error on a bad field) and load the dataset."""
    params = load_params(params_file, profile)
    from .baselines import CLASSICAL_METHODS
    from .resolve import ParamsError

    unknown = sorted(set(params.evaluation.classical_images) - set(CLASSICAL_METHODS))
    if unknown:
        raise ParamsError(f"{params_file}: evaluation.classical_images: no classical method "
                          f"{', '.join(unknown)} (have {', '.join(CLASSICAL_METHODS)})")
    ready()  # the notebook's start-up (kernel, imports, params) ends here
    dev = torch.device(device) if device else default_device()
    with phase("data"):
        splits = load_splits(params)
    return Section(params, profile, dev, splits)


def open_compared(study: Section, *, same_data: bool = False) -> Section:
    """The section named by `compare_with` (e.g. the 32 px baseline for the 96 px one).

    `same_data=True` for a caller that scores the other section's networks on this section's
    images (b9 scores the seven-phase chain on its own test split): a ValueError, naming both
    params files and their data fingerprints, unless both sections have the same data."""
    if study.params.compare_with is None:
        raise ValueError(f"{study.params.source_file}: compare_with: no study to compare with")
    other = open_section(Path(study.params.source_file).parent / study.params.compare_with,
                         study.profile, str(study.device))
    if same_data and other.splits.fingerprint != study.splits.fingerprint:
        raise ValueError(f"{study.params.source_file} (data {study.splits.fingerprint}) and its "
                         f"compare_with {other.params.source_file} (data "
                         f"{other.splits.fingerprint}) do not have the same data")
    return other


def open_ood(study: Section) -> Splits:
    """The study's out-of-distribution test set (`evaluation.ood`, Part B's ships)."""
    if study.params.evaluation.ood is None:
        raise ValueError(f"{study.params.source_file}: evaluation.ood: no out-of-distribution set")
    with phase("data"):
        return load_splits(study.params.model_copy(update={"data": study.params.evaluation.ood}))
