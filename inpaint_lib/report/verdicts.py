"""The verdicts: every trained network of the studies a conclusions params file names against
the classical methods (paired per image, seed noise included), the reproduction scorecard,
and the facts the findings state (how far this profile is from the study's scale, what is
trained at that scale), from the run and evaluation caches: nothing retrains."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .. import scoring
from ..crossover import load_crossover
from ..masks import fixed_masks, naive_fraction, occluded_fraction
from ..paths import REPO_ROOT
from ..resolve import load_conclusions, load_params, load_profile, run_config
from ..schema import ConclusionsParams
from ..scoring import same_masks
from ..section import Section, open_ood, open_section
from ..stats import seed_half_width
from ..timings import ready
from . import prose, tables
from .tables import STUDY_SCALE

# The metric of the paired verdicts: each part's training loss on the hole (MSE in Part A,
# MAE in Part B), so "better" means the network did better at what it was trained for.
PAIRED_METRIC = {"A": "hole_mse", "B": "hole_mae"}


@dataclass
class Conclusions:
    params: ConclusionsParams
    profile: str
    _studies: dict[str, Section] = field(default_factory=dict, repr=False)
    _tables: dict[str, tuple] = field(default_factory=dict, repr=False)

    @property
    def profile_description(self) -> str:
        return load_profile(self.profile).get("description", "")

    def _open(self, name: str) -> Section:
        if name not in self._studies:
            self._studies[name] = open_section(Path(self.params.source_file).parent / name,
                                               self.profile)
        return self._studies[name]

    @property
    def part_a_value_range(self) -> tuple[float, float]:
        """The pixel scale of the scorecard's Part A numbers: that of the sections they come
        from (`Section.value_range`)."""
        ranges = {self._open(n).value_range for n in ["a1_baseline.yaml", *self.params.part_a]}
        if len(ranges) != 1:
            raise ValueError(f"the Part A sections report on different scales: {sorted(ranges)}")
        return ranges.pop()

    def mask_sweep(self) -> tuple[pd.DataFrame, pd.DataFrame] | None:
        """(sweep, per-image matrix) of the test-time mask sweep, if one is named."""
        if self.params.mask_sweep is None:
            return None
        study = self._open(self.params.mask_sweep)
        runs = study.runs()[study.baseline_name()]  # every seed: the mean and its interval
        return scoring.mask_sweep(study, runs), scoring.sweep_per_image(study, runs[0])

    def crossover(self) -> list[dict]:
        """The crossover section's network rows (``crossover.json``, written by d1_crossover),
        or [] when that section has not run."""
        saved = load_crossover(self.profile)
        return saved["rows"] if saved else []

    def photo_network(self) -> tuple[str, list[dict], int, str, str] | None:
        """(name, crossover rows, photos they were scored on, what those photos are, the profile
        that trained it) of the
        photo network a reader gets from the inpaint tool: the shipped one (its card's table:
        `ShippedNetwork.test_photos`), else this profile's own (``crossover.json``)."""
        from ..shipped import NAME, load

        shipped = load()
        if shipped is not None:
            return (f"shipped {NAME}", shipped.crossover["rows"],
                    int(shipped.card["crossover"]["images"]), shipped.test_photos(),
                    shipped.card["provenance"].get("profile", "unrecorded"))
        saved = load_crossover(self.profile)
        if not saved:
            return None
        n = int(saved.get("images", 0))
        return "photo network", saved["rows"], n, f"{n:,} test pet photos", self.profile

    def paired(self, n_boot: int = 2000) -> pd.DataFrame:
        """Every network against the best classical method on the same images and masks
        (`tables.paired_comparisons`), Part A per study and training masks, Part B per test set
        and occlusion level; a run shared by several studies counts once. Columns of
        `paired_comparisons` plus part and section (the heading that shows the comparison)."""
        frames = []
        for name in self.params.part_a:
            study = self._open(name)
            runs = study.runs()
            groups = same_masks({n: seeded[0] for n, seeded in runs.items()})
            for label, (mask_cfg, group) in groups.items():
                per = scoring.per_image(study, {n: runs[n] for n in group}, mask_cfg,
                                        PAIRED_METRIC["A"])
                per["comparison"] = f"{study.params.title} · {label}"
                per["notebook"] = Path(name).stem
                frames.append(("A", study.params.title, per))
        if self.params.part_b is not None:
            study = self._open(self.params.part_b)
            chain = study.phase_chain()
            networks = {"ViT": [chain[-1][1]]}
            if self.params.part_b_variants is not None:
                networks |= self._open(self.params.part_b_variants).runs()
            ood = open_ood(study)
            for role, s in (("held-out", study.splits), ("out-of-distribution", ood)):
                for cfg in study.level_masks():
                    per = scoring.per_image(study, networks, cfg, PAIRED_METRIC["B"], s.test,
                                            s.fingerprint)
                    # the seven-phase ViT's training is its whole chain, not its last phase
                    per.loc[per.method == "ViT", "train_seconds"] = scoring.chain_seconds(chain)
                    per["comparison"] = f"{role} {s.name} · {cfg.label}"
                    per["notebook"] = per.method.map(  # the ViT's section, else its variants'
                        lambda n: Path(self.params.part_b if n == "ViT" else
                                       self.params.part_b_variants).stem)
                    frames.append(("B", study.params.title, per))
        if not frames:
            return pd.DataFrame(columns=["part", "section", "comparison", "network", "verdict"])
        out = []
        for part in ("A", "B"):
            per = [(title, f) for p, title, f in frames if p == part]
            if not per:
                continue
            table = tables.paired_comparisons(pd.concat([f for _, f in per], ignore_index=True),
                                              PAIRED_METRIC[part], n_boot=n_boot)
            sections = {f["comparison"].iloc[0]: title for title, f in per}
            notebooks = (pd.concat([f[["comparison", "method", "notebook"]] for _, f in per])
                         .rename(columns={"method": "network"})
                         .drop_duplicates(["comparison", "network"]))
            table.insert(0, "part", part)
            table.insert(1, "section", table["comparison"].map(sections))
            table = table.merge(notebooks, on=["comparison", "network"], how="left")
            out.append(table)
        return pd.concat(out, ignore_index=True)

    def networks(self, paired: pd.DataFrame) -> pd.DataFrame:
        """The paired rows by distinct network (`tables.by_network`)."""
        return tables.by_network(paired)

    def study_networks(self) -> dict[str, str]:
        """{part: the name the study's own network has in the paired table}: Part A's base
        configuration in the first section that has it, Part B's seven-phase ViT."""
        out = {}
        if self.params.part_a:
            out["A"] = self._open(self.params.part_a[0]).baseline_name()
        if self.params.part_b is not None:
            out["B"] = "ViT"
        return out

    def scale_gap(self) -> dict[str, tuple]:
        """How this profile's Part A differs from the study's scale: {"epochs": (ours, the
        study's), "train": (our training images, the study's, or None where unknown: read
        from a committed run at that scale, else from the full data)}."""
        study = self._open("a1_baseline.yaml")
        ours = run_config(study.params, study.baseline_name())
        full = run_config(load_params(study.params.source_file, "full"), study.baseline_name())
        found = scoring.at_study_scale(study)
        theirs_train = int(found.train_images.iloc[0]) if len(found) else None
        if theirs_train is None and self.profile != "full":
            from ..image_trees import DataMissingError
            from ..runs import load_splits

            full_params = load_params(study.params.source_file, "full")
            on_disk = full_params.model_copy(update={"data": full_params.data.model_copy(
                update={"download": False})})  # what is here: the report downloads nothing
            try:  # the study's training split, from this checkout's data (decoded once, cached)
                theirs_train = load_splits(on_disk).sizes()["train"]
            except DataMissingError:
                theirs_train = None
        return {"epochs": (ours.epoch_range[1], full.epoch_range[1]),
                "train": (study.splits.sizes()["train"], theirs_train)}

    def study_spread(self) -> tuple[float, int]:
        """(half the range of the study's own repeated runs of its base configuration, as a
        fraction of their mean: its run-to-run noise; how many runs)."""
        values = list(scoring.base_references(self._open("a1_baseline.yaml")).values())
        if len(values) < 2:
            return math.nan, len(values)
        return (max(values) - min(values)) / 2 / (sum(values) / len(values)), len(values)

    def paired_at_study_scale(self, n_boot: int = 2000) -> pd.DataFrame:
        """The Part A networks trained at the study's scale (committed runs) against the best
        classical method, as `paired`: hole MSE, paired per image (a run shared by several
        sections counts once). Empty when none is committed."""
        frames = []
        for name in self.params.part_a:
            study = self._open(name)
            per = scoring.study_scale_per_image(study, PAIRED_METRIC["A"])
            if len(per):
                per["notebook"] = Path(name).stem
                frames.append(per)
        if not frames:
            return pd.DataFrame()
        table = tables.paired_comparisons(pd.concat(frames, ignore_index=True), PAIRED_METRIC["A"],
                                          n_boot=n_boot)
        notebooks = (pd.concat(f[["comparison", "method", "notebook"]] for f in frames)
                     .rename(columns={"method": "network"}).drop_duplicates(["comparison", "network"]))
        table.insert(0, "part", "A")
        return table.merge(notebooks, on=["comparison", "network"], how="left")

    def part_a_done(self) -> tuple[int, int]:
        """(planned Part A runs at the study's scale that are committed as recorded, planned)."""
        from ..study_scale import planned, planned_config, served_run

        plan = planned("A")
        return sum(served_run(planned_config(p))[0] is not None for p in plan), len(plan)

    def patch_sizes(self) -> tuple[int, int] | None:
        """(our ViT's patch size in px, the study's), from the last phase's run config in this
        profile and at the full profile; None without Part B."""
        if self.params.part_b is None:
            return None
        source = Path(self.params.source_file).parent / self.params.part_b
        ours, theirs = (load_params(source, profile) for profile in (self.profile, "full"))
        name = next(iter(ours.runs))
        return (run_config(ours, name).model.patch_size, run_config(theirs, name).model.patch_size)

    def part_b_at_scale(self) -> str:
        """What the study's scale means for Part B and whether it ran (`results/full-gpu/`),
        and its first phase, which `make study-scale` trains on this CPU
        (`scoring.phase_at_study_scale`)."""
        if self.params.part_b is None:
            return ""
        full = load_params(Path(self.params.source_file).parent / self.params.part_b, "full")
        chain = self._open(self.params.part_b).phase_chain()
        last = run_config(load_params(chain[-1][0].source_file, "full"), next(iter(chain[-1][0].runs)))
        manifest = REPO_ROOT / "results" / "full-gpu" / "manifest.json"
        what = (f"Part B, the ViT at {full.data.image_size} px for {last.epoch_range[1]} epochs "
                "in seven phases")
        if manifest.exists():
            return f"{what}, ran on a GPU: its numbers are in results/full-gpu/"
        first = chain[0][0]
        phase = self._open(Path(first.source_file).name)
        ends = run_config(load_params(first.source_file, "full"), next(iter(first.runs))).epoch_range
        done = scoring.phase_at_study_scale(phase) is not None
        where = prose.link(f"5.{first.phase}", phase.name)
        one = (f"phase {first.phase} (epochs {ends[0]}-{ends[1]}, MAE only) "
               + (f"is trained at that scale on this CPU and committed ({where}); phases "
                  f"{first.phase + 1}-{chain[-1][0].phase} need a GPU and the VGG-16 weights"
                  if done else "needs neither a GPU nor the VGG-16 weights and is in `make "
                  f"study-scale`'s plan, not trained yet; phases {first.phase + 1}-"
                  f"{chain[-1][0].phase} need both"))
        return f"{what}: {one} and are not in this checkout (`make gpu-partb` prepares them)"

    def _part_a_tables(self, name: str) -> tuple[Section, pd.DataFrame, pd.DataFrame]:
        """(section, its networks' results table, its runs at the study's scale) of a Part A
        params file, computed once (the scorecard and the orderings share them)."""
        if name not in self._tables:
            study = self._open(name)
            self._tables[name] = (study, scoring.results_table(study, study.runs(), baselines=False),
                                  scoring.at_study_scale(study))
        return self._tables[name]

    def orderings(self) -> list[dict]:
        """The study's orderings of its Part A runs by test MSE, one per section that gives a
        number for two runs or more: {"section", "notebook", "names" (the study's order,
        lowest first), "here" (`stats.Ordering` on this profile's runs), "at_scale" (on the
        committed runs at the study's scale, or None until all of them are trained),
        "trained" (how many of them are)}. One rule (`tables.claimed_ordering`): a step counts
        only beyond the seed noise of its own scale."""
        out = []
        for name in dict.fromkeys(["a1_baseline.yaml", *self.params.part_a]):
            study, long, full = self._part_a_tables(name)
            claimed = {m: r.test_mse for m, r in study.params.reference.items()
                       if r.test_mse is not None and m in set(long.method)}
            if len(claimed) < 2:
                continue
            trained = [m for m in claimed if len(full) and m in set(full.method)]
            out.append({"section": study.params.title, "notebook": Path(name).stem,
                        "names": sorted(claimed, key=claimed.get),
                        "here": tables.claimed_ordering(long, claimed),
                        "at_scale": (tables.claimed_ordering(full, claimed)
                                     if len(trained) == len(claimed) else None),
                        "trained": (len(trained), len(claimed))})
        return out

    def test_mse_seeds(self) -> pd.DataFrame:
        """Per Part A section ("notebook") and run: how many seeds its test MSE is a mean over
        ("seeds") and the half-width of that mean's 95% interval by the rule of the study's
        orderings ("seed half-width": the section's pooled seed spread, `tables.seed_noise`;
        NaN where no network of the section has two seeds)."""
        rows = []
        for name in dict.fromkeys(["a1_baseline.yaml", *self.params.part_a]):
            _, long, _ = self._part_a_tables(name)
            sd, df = tables.seed_noise(long)
            for method, k in long[long.kind == "network"].groupby("method").size().items():
                rows.append({"notebook": Path(name).stem, "run": method, "seeds": int(k),
                             "seed half-width": seed_half_width(int(k), sd, df)})
        return pd.DataFrame(rows, columns=["notebook", "run", "seeds", "seed half-width"])

    def test_sets(self) -> dict[str, str]:
        """{part: the data set of its paired verdicts' test images}, e.g. "CIFAR-10"."""
        out = {}
        studies = {"A": "a1_baseline.yaml", "B": self.params.part_b}
        for part, name in studies.items():
            if name is None:
                continue
            out[part] = self._open(name).splits.name
        return out

    def scorecard(self) -> pd.DataFrame:
        """Every number the study reports for a Part A run (test MSE, parameter count) beside
        ours (mean over seeds), their ratio, and whether the study's ordering of its runs'
        test MSE holds here (`orderings`: every step beyond the seed noise); and beside them
        ours at the study's own scale (the committed full-profile runs,
        `scoring.at_study_scale`, mean over their seeds), its ratio to the study's and whether
        the ordering holds there too. Values are as the study printed them and ours unrounded
        (the table shows them with as many digits: `scorecard_view`)."""
        claims = {o["notebook"]: o for o in self.orderings()}
        rows = []
        for name in dict.fromkeys(["a1_baseline.yaml", *self.params.part_a]):
            study, long, full = self._part_a_tables(name)
            refs = study.params.reference
            if not refs:
                continue
            ours = long.groupby("method", sort=False)[["mse", "parameters"]].mean()
            at_scale = full.groupby("method")["mse"].mean() if len(full) else pd.Series(dtype=float)
            scale_params = (full.groupby("method")["parameters"].first() if len(full)
                            else pd.Series(dtype=float))
            o = claims.get(Path(name).stem)
            for method, ref in refs.items():
                if method not in ours.index:
                    continue
                for quantity, study_value, col in (("test MSE", ref.test_mse, "mse"),
                                                   ("parameters", ref.parameters, "parameters")):
                    if study_value is None:
                        continue
                    value = float(ours.loc[method, col])
                    scale = (float(at_scale[method]) if quantity == "test MSE" and method in at_scale
                             else float(scale_params[method]) if quantity == "parameters"
                             and method in scale_params else math.nan)
                    claim = "-"
                    if quantity == "test MSE" and o is not None and method in o["names"]:
                        claim = ordering_claim(o)
                    elif quantity == "parameters":
                        claim = "same" if math.isclose(value, study_value) else "-"
                    rows.append({
                        "section": study.params.title, "notebook": Path(name).stem,
                        "run": method, "quantity": quantity,
                        "study": study_value, f"ours ({self.profile})": value,
                        "ours / study": value / study_value,
                        STUDY_SCALE: scale, "at scale / study": scale / study_value,
                        "study's claim holds": claim})
        return pd.DataFrame(rows + self._occlusion_rows() + self._vit_claims())

    def _vit_claims(self, shift: float = 1.2) -> list[dict]:
        """The ViT's headline claims, each tested on the runs' artefacts at the first
        generalisation level: it learns to inpaint (its hole MAE below mean fill's, the fill
        that knows only the visible colours), the mosaic of phase 3 fades by phase 4 (the
        patch-grid measure falls), it generalises to ships (hole MAE there at most `shift`
        times the held-out pets')."""
        if self.params.part_b is None:
            return []
        study = self._open(self.params.part_b)
        chain = study.phase_chain()
        ood = open_ood(study)
        first = study.level_masks()[0].label

        def level(networks: dict, images, data_id: str) -> pd.DataFrame:
            out = scoring.occlusion_levels(study, networks, images, data_id)
            return out[out.masks == first].groupby("method", sort=False).mean(numeric_only=True)

        pets = level({"ViT": [chain[-1][1]]}, study.splits.test, study.splits.fingerprint)
        ships = level({"ViT": [chain[-1][1]]}, ood.test, ood.fingerprint)
        rows = []

        def row(section: str, claim: str, quantity: str, value: float, holds: bool,
                why: str) -> None:
            rows.append({"section": section, "notebook": Path(self.params.part_b).stem,
                         "run": "ViT", "quantity": quantity, "study": math.nan,
                         f"ours ({self.profile})": value, "ours / study": math.nan,
                         STUDY_SCALE: math.nan, "at scale / study": math.nan,
                         "study's claim holds": f"{claim}: {'yes' if holds else 'no'} ({why})"})

        vit, mean_fill = pets.loc["ViT", "hole_mae"], pets.loc["mean fill", "hole_mae"]
        row("6.2 Generalisation", "learns to inpaint, better than mean fill", f"hole MAE, pets, {first}", vit,
            vit < mean_fill, f"mean fill {mean_fill:.4f}")
        if len(chain) >= 4 and "grid" in pets:
            grids = level({"phase 3": [chain[2][1]], "phase 4": [chain[3][1]]},
                          study.splits.test, study.splits.fingerprint)["grid"]
            row(chain[3][0].title, "mosaic at phase 3 fades by phase 4",
                f"patch grid, phase 4 ({first}; 1 = as the image)", grids["phase 4"],
                grids["phase 4"] < grids["phase 3"], f"phase 3: {grids['phase 3']:.2f}")
        ratio = ships.loc["ViT", "hole_mae"] / vit
        row("6.2 Generalisation", f"generalises to {ood.name}",
            f"hole MAE, {ood.name} / pets", ratio, ratio <= shift, f"at most {shift:g}x counts")
        return rows

    def _occlusion_rows(self, n: int = 256) -> list[dict]:
        """The study's occlusion percentages (its naive N·k²/HW at its own settings: ~9.8% in
        Part A, ~13% to 42-69% over the ViT's phases) beside the fraction our masks hide
        (overlaps counted once, `n` masks of the evaluation seed), and whether the study's
        figure holds when its own masks are measured the same way (no training needed)."""
        studies = [self._open(name) for name in ["a1_baseline.yaml", "a4_masking.yaml"]]
        phases = []
        if self.params.part_b is not None:
            phases = [p for p, _ in self._open(self.params.part_b).phase_chain()]
        rows = []
        for params, study in [*[(s.params, s) for s in studies],
                              *[(p, self._open(self.params.part_b)) for p in phases]]:
            full = load_params(params.source_file, "full")
            seed = params.evaluation.mask_seed
            for name in params.runs:
                ours, theirs = run_config(params, name), run_config(full, name)
                side = study.splits.image_size  # no size: the data set's own (CIFAR-10's 32 px)
                their_side = full.data.image_size or side
                lo, hi = naive_fraction(theirs.mask, their_side, their_side)
                if params.part == "A" and hi != lo:
                    continue  # a random size: the study gives no percentage
                measured = occluded_fraction(fixed_masks(n, their_side, their_side, theirs.mask,
                                                         seed)).mean().item()
                value = occluded_fraction(fixed_masks(n, side, side, ours.mask, seed)).mean().item()
                study_value = (lo + hi) / 2
                naive = f"{lo:.0%}" + (f"-{hi:.0%}" if hi != lo else "")
                rows.append({
                    "section": params.title, "notebook": Path(params.source_file).stem,
                    "run": f"phase {params.phase}" if params.phase else name, "quantity": f"occluded ({theirs.mask.label}; study: naive {naive})",
                    "study": study_value, f"ours ({self.profile})": value,
                    "ours / study": value / study_value,
                    STUDY_SCALE: round(measured, 4), "at scale / study": measured / study_value,
                    "study's claim holds": (f"{'yes' if abs(measured - study_value) < 0.02 else 'no'}"
                                            f": {measured:.1%} measured at the study's setting"
                                            " (overlaps counted once)")})
        return rows


ORDERING_CLAIM = "ordering of test MSE"  # how a scorecard row of an ordering begins


def ordering_claim(o: dict) -> str:
    """The scorecard's words for one of `Conclusions.orderings`: 'ordering of test MSE: holds;
    at the study's scale: same order; 128 vs 256 within seed noise' (or how many of its runs
    are trained at that scale)."""
    here = o["here"].describe()
    k, n = o["trained"]
    scale = o["at_scale"].describe() if o["at_scale"] is not None else f"{k} of {n} runs trained"
    return f"{ORDERING_CLAIM}: {here}; at the study's scale: {scale}"


def open_conclusions(params_file: str | Path, profile: str) -> Conclusions:
    conclusions = Conclusions(load_conclusions(params_file), profile)
    ready()  # the notebook's start-up (kernel, imports, params) ends here
    return conclusions
