"""The conclusions: the studies a conclusions params file names, scored against the
classical methods from the run and evaluation caches (nothing retrains or re-scores)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from . import scoring
from .resolve import load_conclusions, load_profile
from .schema import ConclusionsParams
from .study import Study, open_ood, open_study


@dataclass
class Conclusions:
    params: ConclusionsParams
    profile: str

    @property
    def profile_description(self) -> str:
        return load_profile(self.profile).get("description", "")

    def _open(self, name: str) -> Study:
        return open_study(Path(self.params.source_file).parent / name, self.profile)

    def part_a(self) -> dict[str, pd.DataFrame]:
        """{study title: its long results table} for every Part A study named."""
        out = {}
        for name in self.params.part_a:
            study = self._open(name)
            out[study.params.title] = scoring.results_table(study, study.runs())
        return out

    def mask_sweep(self) -> tuple[pd.DataFrame, pd.DataFrame] | None:
        """(sweep, per-image matrix) of the test-time mask sweep, if one is named."""
        if self.params.mask_sweep is None:
            return None
        study = self._open(self.params.mask_sweep)
        run = next(iter(study.runs().values()))[0]
        return scoring.mask_sweep(study, run), scoring.sweep_per_image(study, run)

    def part_b(self) -> dict[str, pd.DataFrame]:
        """{"held-out <set>" and "out-of-distribution <set>": the final ViT phase and the
        classical methods per occlusion level}."""
        if self.params.part_b is None:
            return {}
        study = self._open(self.params.part_b)
        networks = {"ViT": [study.phase_chain()[-1][1]]}
        if self.params.part_b_variants is not None:  # the variants, on the same test sets
            networks |= self._open(self.params.part_b_variants).runs()
        ood = open_ood(study)
        return {f"{role} {s.name}": scoring.occlusion_levels(study, networks, s.test, s.fingerprint)
                for role, s in (("held-out", study.splits), ("out-of-distribution", ood))}


def open_conclusions(params_file: str | Path, profile: str) -> Conclusions:
    return Conclusions(load_conclusions(params_file), profile)
