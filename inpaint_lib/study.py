"""What a notebook calls: open a study, train its runs, evaluate, tabulate, narrate.

Each executed notebook is one params file; `Study` wraps it with the profile,
the device and the dataset, and turns run artefacts into the tables, figures
and generated sentences of the report. Every number shown carries its
provenance (profile, dataset, seeds).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import torch
import yaml

try:  # notebooks display rich output; the CLI (e.g. on a bare GPU machine) prints
    from IPython.display import Markdown, display
except ImportError:  # pragma: no cover - exercised only where IPython is absent
    Markdown, display = str, print

from . import plots
from .baselines import METHOD_DESCRIPTIONS
from .config import (
    MaskConfig,
    RunConfig,
    StudyParams,
    ViTConfig,
    load_profile,
    load_study,
    run_config,
    seeds_for,
)
from .data import Splits
from .evaluate import Method, classical_methods, evaluate, network_method, predictions
from .masks import apply_masks, fixed_masks, naive_fraction, occluded_fraction
from .metrics import METRIC_LABELS, summarise
from .models import build_model, count_parameters, vit_parameter_count
from .report import record_provenance
from .runs import Run, get_run, load_splits, results_root
from .stats import difference_threshold, mean_ci, pooled_sd
from .train import default_device, precision_name, signed_scale

METRICS = ["mse", "mse_composite", "hole_mse", "hole_mae", "hole_psnr", "ssim"]
WHOLE_IMAGE_METRICS = ["mae_composite", "psnr_composite"]  # Part B's whole-image MAE and PSNR
LOWER_IS_BETTER = {"mse": True, "mse_composite": True, "hole_mse": True, "hole_mae": True,
                   "hole_psnr": False, "ssim": False, "mae_composite": True, "psnr_composite": False}


def md(text: str) -> None:
    display(Markdown(text))


def show_figure(fig: plots.Figure) -> None:
    """Display a figure with its title repeated as an HTML caption (searchable, readable)."""
    title = fig._suptitle.get_text() if fig._suptitle else fig.axes[0].get_title()
    display(fig)
    plots.plt.close(fig)
    if title:
        md(f"<p class='caption'><em>{title}</em></p>")


def mask_label(cfg: MaskConfig) -> str:
    """e.g. '1 × 10×10 px', '4 × 5×5 px, disjoint', '175-300 × (9-12)² px'."""
    lo, hi = cfg.size_range or (cfg.size, cfg.size)
    side = f"({lo}-{hi})²" if hi != lo else f"{lo}×{lo}"
    count = f"{cfg.count_range[0]}-{cfg.count_range[1]}" if cfg.count_range else str(cfg.count)
    return f"{count} × {side} px" + (", disjoint" if cfg.disjoint else "")


def spread(total: int, n: int) -> torch.Tensor:
    """n indices evenly spread over range(total) (test splits may be ordered by class)."""
    return torch.linspace(0, total - 1, min(n, total)).round().long()


def compare_to_best(nets: pd.DataFrame, classical: pd.DataFrame) -> list[str]:
    """One sentence per metric: each network (rows of `nets`) against the best classical row."""
    lines = []
    for m in METRICS:
        low = LOWER_IS_BETTER[m]
        best = classical[m].idxmin() if low else classical[m].idxmax()
        ref = classical.loc[best, m]
        verdicts, losers = [], 0
        for name, value in nets[m].items():
            better = value < ref if low else value > ref
            losers += not better
            if m == "hole_psnr":
                delta = f"{value - ref:+.2f} dB"
            else:
                delta = f"{100 * (value - ref) / abs(ref):+.0f}%"
            verdicts.append(f"{name} {value:.4g} ({delta}, {'better' if better else '**worse**'})")
        head = ("every network beats it" if losers == 0 else
                "**every network loses to it**" if losers == len(nets) else
                f"**{losers} of {len(nets)} networks lose to it**")
        lines.append(f"{METRIC_LABELS[m]}: best classical **{best}** {ref:.4g}; {head}: "
                     + "; ".join(verdicts))
    return lines


def headline(label: str, nets: pd.DataFrame, classical: pd.DataFrame) -> pd.DataFrame:
    """Best network against best classical method, one row per metric."""
    rows = []
    for m in METRICS:
        low = LOWER_IS_BETTER[m]
        net = nets[m].idxmin() if low else nets[m].idxmax()
        cls = classical[m].idxmin() if low else classical[m].idxmax()
        nv, cv = nets.loc[net, m], classical.loc[cls, m]
        better = nv < cv if low else nv > cv
        gap = f"{nv - cv:+.2f} dB" if m == "hole_psnr" else f"{100 * (nv - cv) / abs(cv):+.0f}%"
        rows.append({"comparison": label, "metric": METRIC_LABELS[m], "best network": net,
                     "network": nv, "best classical": cls, "classical": cv,
                     "network vs classical": gap, "winner": "network" if better else "classical"})
    return pd.DataFrame(rows)


def verdict_scope(profile: str) -> str:
    """What a network-vs-classical verdict is about: '' at the study's settings, else the
    profile's own description of what it reduced."""
    if profile == "full":
        return ""
    return (f"These are the networks of the `{profile}` profile "
            f"({load_profile(profile).get('description', '')}). The verdict is about these reduced "
            "networks, not about the architectures at the study's settings: "
            "`make report PROFILE=full` trains those.")


def split_methods(df: pd.DataFrame, by: str = "method") -> tuple[pd.DataFrame, pd.DataFrame]:
    """(networks, classical) mean metrics per method from a long results table."""
    nets = df[df.kind == "network"].groupby(by, sort=False)[METRICS].mean()
    classical = df[df.kind == "classical"].groupby(by, sort=False)[METRICS].mean()
    return nets, classical


@dataclass
class Study:
    params: StudyParams
    profile: str
    device: torch.device
    splits: Splits
    _runs: dict[str, list[Run]] = field(default_factory=dict)

    # ------------------------------------------------------------- provenance
    @property
    def value_range(self) -> tuple[float, float]:
        """Part A reports on the study's [-1, 1] scale; Part B on [0, 1]."""
        return (-1.0, 1.0) if self.params.part == "A" else (0.0, 1.0)

    @property
    def eval_cache(self) -> Path:
        return results_root(self.profile) / "eval"

    def provenance(self) -> str:
        sizes = self.splits.sizes()
        sz = ", ".join(f"{k} {v:,}" for k, v in sizes.items() if v)
        any_run = run_config(self.params, next(iter(self.params.runs)))
        first, last = any_run.epoch_range
        seeds = self.params.seeds
        seed_note = f"{seeds} seed{'s' if seeds > 1 else ''} per run"
        if self.params.baseline_seeds > seeds:
            seed_note += f" ({self.params.baseline_seeds} for the baseline configuration)"
        text = (f"**Provenance.** profile `{self.profile}` · dataset **{self.splits.name}** "
                f"({sz}; {self.splits.image_size}x{self.splits.image_size} px) · epochs "
                f"{first}-{last} · batch {any_run.batch_size} · {seed_note} · test masks seed "
                f"{self.params.evaluation.mask_seed} · device `{self.device}`, training in "
                f"{precision_name(any_run, self.device)}")
        return text

    def show_provenance(self) -> None:
        if "synthetic" in self.splits.name:
            md("<div class='warn'>⚠ SMOKE PROFILE: generated shapes, not real images. "
               "Numbers below only check the pipeline.</div>")
        if self.params.part == "B" and self.config().loss.perceptual_weights == "random":
            md("<div class='warn'>⚠ The perceptual loss here uses a RANDOMLY INITIALISED VGG-16 "
               "(pretrained ImageNet weights were not available): not the study's loss.</div>")
        md(self.provenance())
        effective = yaml.safe_dump(self.params.model_dump(mode="json", exclude={"reference"}),
                                   sort_keys=False, width=100)
        md(f"<details><summary>Effective parameters ({self.params.source_file}, profile "
           f"{self.profile})</summary>\n\n```yaml\n{effective}```\n</details>")

    # ------------------------------------------------------------------- runs
    def config(self, name: str | None = None) -> RunConfig:
        """Effective config of run `name` (default: the study's first run)."""
        return run_config(self.params, name or next(iter(self.params.runs)))

    def seeds_for(self, name: str) -> list[int]:
        return seeds_for(self.params, name)

    def runs(self, log: object = None) -> dict[str, list[Run]]:
        """Every run of the study (each seed), trained now unless cached."""
        if not self._runs:
            for name in self.params.runs:
                seeded = []
                for seed in self.seeds_for(name):
                    p = self._with_seed(name, seed)
                    seeded.append(get_run(p, name, self.profile, self.device, log=log))
                self._runs[name] = seeded
            self._record([r for seeded in self._runs.values() for r in seeded])
        return self._runs

    def _record(self, all_runs: list[Run]) -> None:
        """Save what this notebook used, for the report header and reproducibility."""
        record_provenance(self.profile, Path(self.params.source_file).stem, {
            "dataset": self.splits.name, "source": self.splits.source, "sizes": self.splits.sizes(),
            "device": str(self.device),
            "runs": {r.dir.name: {"name": r.name, "seed": r.config.seed,
                                  "train_seconds": r.info.get("train_seconds", 0.0)} for r in all_runs},
            "random_vgg": any(r.config.loss.perceptual_weights == "random" for r in all_runs),
            "params": self.params.model_dump(mode="json"),
        })

    def _with_seed(self, name: str, seed: int) -> StudyParams:
        if seed == run_config(self.params, name).seed:
            return self.params
        runs = dict(self.params.runs)
        runs[name] = {**runs[name], "seed": seed}
        return StudyParams.model_validate({**self.params.model_dump(), "runs": runs})

    def method(self, run: Run) -> Method:
        model = run.load_model(self.device)
        return network_method(run.name, model, run.dir.name, signed_scale(run.config), self.device)

    # ------------------------------------------------------------ evaluation
    def test_images(self) -> torch.Tensor:
        return self.splits.test

    def score(self, method: Method, mask_cfg: MaskConfig, images: torch.Tensor | None = None,
              data_id: str | None = None) -> dict[str, torch.Tensor]:
        images = self.test_images() if images is None else images
        ev = self.params.evaluation
        return evaluate(method, images, mask_cfg, ev.mask_seed, self.eval_cache, self.value_range,
                        data_id or self.splits.fingerprint, subset=ev.baseline_subset,
                        batch=ev.batch_size)

    def results_table(self, runs: dict[str, list[Run]], baselines: bool = True) -> pd.DataFrame:
        """Long table: one row per (method, seed) and test-mask setting, every metric."""
        rows = []
        settings: dict[str, MaskConfig] = {}
        for name, seeded in runs.items():
            for run in seeded:
                setting = mask_label(run.config.mask)
                settings[setting] = run.config.mask
                per_image = self.score(self.method(run), run.config.mask)
                rows.append({"method": name, "kind": "network", "seed": run.config.seed,
                             "setting": setting, "images": len(per_image["mse"]),
                             "parameters": count_parameters(run.load_model("cpu")),
                             **summarise(per_image)})
        if baselines:
            for setting, mask_cfg in settings.items():
                for method in classical_methods():
                    per_image = self.score(method, mask_cfg)
                    rows.append({"method": method.name, "kind": "classical", "seed": None,
                                 "setting": setting, "images": len(per_image["mse"]),
                                 "parameters": 0, **summarise(per_image)})
        return pd.DataFrame(rows)

    def noise(self, long: pd.DataFrame, metric: str = "mse") -> tuple[float, int]:
        """Pooled seed standard deviation of `metric` over networks with >= 2 seeds."""
        groups = [g[metric].tolist() for _, g in long[long.kind == "network"].groupby("method")]
        return pooled_sd(groups)

    def summary(self, long: pd.DataFrame) -> pd.DataFrame:
        """Mean over seeds (with a 95% t-interval of the study's metric) and the study's number."""
        rows = []
        for (method, setting), g in long.groupby(["method", "setting"], sort=False):
            mean, half = mean_ci(g["mse"].tolist())
            row = {"method": method, "kind": g.kind.iloc[0], "test masks": setting,
                   "seeds": len(g) if g.kind.iloc[0] == "network" else "-",
                   "test MSE": mean, "±95% CI": half}
            ref = self.params.reference.get(method, {})
            row["study's test MSE"] = ref.get("test_mse", math.nan) if isinstance(ref, dict) else math.nan
            for m in METRICS[1:]:
                row[METRIC_LABELS[m]] = g[m].mean()
            row["images"] = int(g["images"].iloc[0])
            rows.append(row)
        return pd.DataFrame(rows)

    # ---------------------------------------------------------- generated text
    def interpret(self, long: pd.DataFrame) -> str:
        """Sentences computed from the table: ranking, ratios, noise, baselines."""
        summ = self.summary(long)
        nets = summ[summ.kind == "network"].sort_values("test MSE")
        sd, df = self.noise(long)
        lines = []
        best = nets.iloc[0]
        lines.append(f"Lowest test MSE among the networks: **{best.method}** ({best['test MSE']:.6f}, "
                     f"{best['test masks']}).")
        seeds = dict(zip(nets.method, nets.seeds))
        for (_, a), (_, b) in zip(nets.iloc[:-1].iterrows(), nets.iloc[1:].iterrows()):
            gap = b["test MSE"] - a["test MSE"]
            thr = difference_threshold(int(seeds[a.method]), int(seeds[b.method]), sd, df)
            verdict = ("no seed spread measured, so this gap cannot be judged" if math.isnan(thr)
                       else ("a real difference (exceeds the 95% seed-noise threshold "
                             f"{thr:.6f})" if gap > thr else f"within noise (threshold {thr:.6f})"))
            lines.append(f"- {b.method} vs {a.method}: +{gap:.6f} MSE ({b['test MSE'] / a['test MSE']:.2f}x); "
                         f"{verdict}.")
        if not math.isnan(sd):
            lines.append(f"\nSeed noise: pooled standard deviation {sd:.6f} of test MSE "
                         f"({df} degrees of freedom, from configurations trained with several seeds).")
        ref = nets.dropna(subset=["study's test MSE"])
        if len(ref) >= 2:
            ours = list(ref.sort_values("test MSE").method)
            theirs = list(ref.sort_values("study's test MSE").method)
            same = "the same" if ours == theirs else "a different"
            lines.append(f"\nRanking by test MSE: ours {' < '.join(ours)}; the study's "
                         f"{' < '.join(theirs)} — {same} order.")
        lines.append(self.versus_baselines(long))
        return "\n".join(lines)

    def versus_baselines(self, long: pd.DataFrame) -> str:
        """Does each network beat the best classical method, per metric and mask setting, by how much?"""
        out = []
        for setting, g in long.groupby("setting", sort=False):
            nets = g[g.kind == "network"].groupby("method", sort=False)[METRICS].mean()
            classical = g[g.kind == "classical"].groupby("method", sort=False)[METRICS].mean()
            if classical.empty or nets.empty:
                continue
            out.append(f"\n**Against classical inpainting ({setting})**\n")
            out += [f"- {line}" for line in compare_to_best(nets, classical)]
        return "\n".join(out)

    # ---------------------------------------------------------------- figures
    def example_masks(self, mask_cfg: MaskConfig, n: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """n test images spread over the split, with their evaluation masks: (n,3,H,W) uint8, (n,1,H,W)."""
        n = n or self.params.evaluation.n_examples
        idx = spread(len(self.test_images()), n)
        h, w = self.test_images().shape[-2:]
        masks = fixed_masks(len(self.test_images()), h, w, mask_cfg, self.params.evaluation.mask_seed)
        return self.test_images()[idx], masks[idx]

    def masked_examples(self, mask_cfg: MaskConfig, title: str) -> None:
        images, masks = self.example_masks(mask_cfg)
        frac = occluded_fraction(masks).mean().item()
        fig = plots.image_grid({"original": images, "occluded": apply_masks(images.float() / 255, masks, 0.0)},
                               f"{title} ({mask_label(mask_cfg)}, {frac:.1%} occluded)")
        show_figure(fig)

    def reconstructions(self, runs: dict[str, list[Run]], title: str, baselines: bool = False) -> None:
        """Masked input, each run's raw prediction (first seed), ground truth."""
        settings = {mask_label(r[0].config.mask): r[0].config.mask for r in runs.values()}
        for setting, mask_cfg in settings.items():
            images, masks = self.example_masks(mask_cfg)
            rows = {"input": apply_masks(images.float() / 255, masks, 0.0)}
            for name, seeded in runs.items():
                if mask_label(seeded[0].config.mask) == setting:
                    rows[name] = predictions(self.method(seeded[0]), images, masks)
            if baselines:
                for m in classical_methods():
                    rows[m.name] = predictions(m, images, masks)
            rows["ground truth"] = images
            sub = f" — {setting}" if len(settings) > 1 else ""
            fig = plots.image_grid(rows, f"{title}{sub}")
            show_figure(fig)

    def loss_curves(self, runs: dict[str, list[Run]], title: str) -> None:
        fig = plots.loss_curves({n: r[0].history for n, r in runs.items()}, title,
                                ylabel="MSE loss ([-1, 1] scale)" if self.params.part == "A" else "loss")
        show_figure(fig)

    # ------------------------------------------------- Part A: 2.3 and 2.4 extras
    def generalisation_gaps(self, runs: dict[str, list[Run]]) -> str:
        lines = ["**Train/validation gap at the last epoch** (positive = validation worse):"]
        for name, seeded in runs.items():
            h = seeded[0].history[-1]
            lines.append(f"- {name}: train {h['train_loss']:.6f}, validation {h['val_loss']:.6f}, "
                         f"gap {h['val_loss'] - h['train_loss']:+.6f}")
        return "\n".join(lines)

    def cross_evaluation(self, runs: dict[str, list[Run]],
                         strategies: dict[str, MaskConfig]) -> pd.DataFrame:
        rows = []
        for name, seeded in runs.items():
            row: dict[str, object] = {"trained on": name}
            for test_name, cfg in strategies.items():
                vals = [summarise(self.score(self.method(r), cfg))["mse"] for r in seeded]
                row[f"tested on {test_name}"] = sum(vals) / len(vals)
            rows.append(row)
        for method in classical_methods():
            row = {"trained on": f"{method.name} (no training)"}
            for test_name, cfg in strategies.items():
                row[f"tested on {test_name}"] = summarise(self.score(method, cfg))["mse"]
            rows.append(row)
        return pd.DataFrame(rows)

    def mask_sweep(self, run: Run) -> pd.DataFrame:
        """Network and classical methods under 1..N test-time squares of the run's size."""
        ev, base = self.params.evaluation, run.config.mask
        methods = [self.method(run)] + classical_methods()
        rows = []
        images, data_id = self.sweep_images()
        for n in range(1, ev.sweep_max_masks + 1):
            cfg = base.model_copy(update={"count": n, "disjoint": False, "nested_of": ev.sweep_max_masks})
            masks = fixed_masks(len(images), self.splits.image_size, self.splits.image_size, cfg, ev.mask_seed)
            frac = occluded_fraction(masks).mean().item()
            for m in methods:
                s = summarise(self.score(m, cfg, images, data_id))
                rows.append({"masks": n, "occluded": frac,
                             "method": f"CAE ({run.name})" if m.identity == run.dir.name else m.name,
                             **s})
        return pd.DataFrame(rows)

    def sweep_images(self) -> tuple[torch.Tensor, str]:
        """The test images the sweep scores (the first `sweep_images`, or all) and their id."""
        n = self.params.evaluation.sweep_images or len(self.splits.test)
        return self.splits.test[:n], f"{self.splits.fingerprint}[:{n}]"

    def sweep_figure(self, sweep: pd.DataFrame, title: str) -> None:
        n = len(self.sweep_images()[0])
        fig = plots.metric_vs_setting(sweep, "masks", "mse", "method", f"{title}, {n:,} test images",
                                      "test MSE, whole image ([-1, 1] scale)")
        show_figure(fig)
        pivot = sweep.pivot_table(index="masks", columns="method", values="mse", sort=False)
        pivot.insert(0, "occluded (measured)", sweep.groupby("masks")["occluded"].first())
        display(format_table(pivot.reset_index()))

    def sweep_heatmap(self, run: Run, title: str) -> None:
        ev = self.params.evaluation
        idx = spread(len(self.sweep_images()[0]), ev.sweep_heatmap_images)  # across classes
        per_image = {}
        for n in range(1, ev.sweep_max_masks + 1):
            cfg = run.config.mask.model_copy(update={"count": n, "disjoint": False, "nested_of": ev.sweep_max_masks})
            per_image[n] = self.score(self.method(run), cfg, *self.sweep_images())["mse"][idx].numpy()
        matrix = pd.DataFrame(per_image, index=[f"test image {i}" for i in idx.tolist()])
        matrix.columns.name = "number of 10×10 masks"
        self._heatmap_matrix = matrix
        fig = plots.heatmap(matrix, title, "MSE ([-1, 1] scale)")
        show_figure(fig)

    def interpret_sweep(self, sweep: pd.DataFrame) -> str:
        net = sweep[sweep.method.str.startswith("CAE")].sort_values("masks")
        first, last = net.iloc[0], net.iloc[-1]
        lines = [(f"Network test MSE grows from {first.mse:.6f} with 1 mask ({first.occluded:.1%} occluded) "
                 f"to {last.mse:.6f} with {int(last.masks)} masks ({last.occluded:.1%}): "
                 f"{last.mse / first.mse:.1f}x.")]
        matrix = getattr(self, "_heatmap_matrix", None)
        if matrix is not None:
            mono = int((matrix.diff(axis=1).iloc[:, 1:] >= 0).all(axis=1).sum())
            lines.append(f"Per image (Figure 12), {mono} of {len(matrix)} images get worse at every added "
                         f"mask; all {len(matrix)} are worse at {matrix.columns[-1]} masks than at 1: "
                         f"{bool((matrix.iloc[:, -1] > matrix.iloc[:, 0]).all())}.")
        wins = []
        for n, g in sweep.groupby("masks"):
            best_c = g[~g.method.str.startswith("CAE")].sort_values("mse").iloc[0]
            cae = g[g.method.str.startswith("CAE")].iloc[0]
            wins.append((n, cae.mse < best_c.mse, best_c.method, best_c.mse))
        beaten = [n for n, w, *_ in wins if not w]
        if beaten:
            lines.append(f"**The best classical method beats the CAE (whole-image MSE) at {len(beaten)} of "
                         f"{len(wins)} mask counts** ({', '.join(map(str, beaten))}).")
        else:
            lines.append("The CAE has lower whole-image MSE than every classical method at every mask count.")
        return " ".join(lines)


    # ---------------------------------------------------------- Part B: ViT phases
    def phase_chain(self) -> list[tuple[StudyParams, Run]]:
        """(params, run) of every phase from 1 up to this study's, oldest first."""
        chain, params = [], self.params
        while True:
            run = get_run(params, next(iter(params.runs)), self.profile, self.device)
            chain.append((params, run))
            if params.parent is None:
                chain.reverse()
                self._record([r for _, r in chain])
                return chain
            params = load_study(Path(params.source_file).parent / params.parent, self.profile)

    def phase_table(self) -> pd.DataFrame:
        """The phase schedule as trained (after profile scaling), with measured occlusion."""
        rows, size = [], self.splits.image_size
        for params, run in self.phase_chain():
            c = run.config
            masks = fixed_masks(256, size, size, c.mask, self.params.evaluation.mask_seed)
            lo, hi = naive_fraction(c.mask, size, size)
            w0, w1 = c.loss.weights_at(c.epoch_range[0]), c.loss.weights_at(c.epoch_range[1])
            rows.append({
                "phase": params.phase, "epochs": f"{c.epoch_range[0]}-{c.epoch_range[1]}",
                "LR": f"{c.optimizer.lr:g}" + "".join(f", {v:g} from epoch {e}" for e, v in c.lr_changes.items()),
                "masks": mask_label(c.mask),
                "λ_MAE": f"{w0.mae:g}" + (f"→{w1.mae:g}" if w1.mae != w0.mae else ""),
                "λ_Perceptual": f"{w0.perceptual:g}" + (f"→{w1.perceptual:g}" if w1.perceptual != w0.perceptual else ""),
                "grad clip": c.grad_clip or "-", "LR plateau scheduler": "on" if c.plateau else "off",
                "occluded, naive N·k²/HW": f"{100 * lo:.0f}%" + (f"-{100 * hi:.0f}%" if hi != lo else ""),
                "occluded, measured": f"{100 * occluded_fraction(masks).mean().item():.1f}%",
            })
        return pd.DataFrame(rows)

    def full_history(self) -> tuple[list[dict[str, float]], list[tuple[int, str]]]:
        """Concatenated per-epoch history of all phases, and the phase start epochs."""
        history, bounds = [], []
        for params, run in self.phase_chain():
            bounds.append((run.config.epoch_range[0], f"phase {params.phase}"))
            history += run.history
        return history, bounds

    def phase_figures(self, runs: dict[str, list[Run]]) -> None:
        run = next(iter(runs.values()))[0]
        last = run.config.epoch_range[1]
        caption = str(self.params.reference.get("figure", ""))
        number = caption.split(".")[0] + ". " if caption.startswith("Figure") else ""
        md(f"Study's caption: *{caption}*")
        self.reconstructions(runs, f"{number}Reconstruction at epoch {last} ({mask_label(run.config.mask)})")
        fig = plots.loss_curves({f"phase {self.params.phase}": run.history},
                                f"Phase {self.params.phase} loss (weighted MAE + perceptual; objective changes between phases)",
                                ylabel="loss")
        show_figure(fig)
        h = run.history
        md(f"Phase {self.params.phase}: train loss {h[0]['train_loss']:.4f} → {h[-1]['train_loss']:.4f}, "
           f"test loss {h[0]['test_loss']:.4f} → {h[-1]['test_loss']:.4f} over epochs "
           f"{h[0]['epoch']}-{h[-1]['epoch']}; learning rate at the end {h[-1]['lr']:g}.")

    def occlusion_levels(self, run: Run, images: torch.Tensor, data_id: str,
                         title: str | None = None) -> pd.DataFrame:
        """ViT and classical methods at each generalisation-test mask count (same masks)."""
        ev = self.params.evaluation
        methods = [self.method(run)] + classical_methods()
        rows, grid = [], {}
        for count in ev.mask_counts:
            cfg = MaskConfig(size=ev.mask_size, count=count)
            for m in methods:
                per_image = self.score(m, cfg, images, data_id)
                name = "ViT" if m.identity == run.dir.name else m.name
                rows.append({"masks": mask_label(cfg), "method": name,
                             "kind": "network" if name == "ViT" else "classical",
                             "occluded": None, "images": len(per_image["mse"]), **summarise(per_image)})
            h = images.shape[-1]
            masks = fixed_masks(len(images), h, h, cfg, ev.mask_seed)[: ev.n_examples]
            rows_cfg = [r for r in rows if r["masks"] == mask_label(cfg)]
            frac = occluded_fraction(masks).mean().item()
            for r in rows_cfg:
                r["occluded"] = frac
            grid[f"{count} masks: input"] = apply_masks(images[: ev.n_examples].float() / 255, masks, 0.0)
            grid[f"{count} masks: ViT"] = predictions(methods[0], images[: ev.n_examples], masks)
        grid["ground truth"] = images[: ev.n_examples]
        if title is not None:
            show_figure(plots.image_grid(grid, title))
        return pd.DataFrame(rows)

    def occlusion_table(self, df: pd.DataFrame) -> pd.io.formats.style.Styler:
        cols = ["masks", "occluded", "method", "images", *METRICS, *WHOLE_IMAGE_METRICS]
        out = df[cols].rename(columns={**METRIC_LABELS, "occluded": "occluded (measured)"})
        return format_table(out, digits=4)

    def interpret_levels(self, df: pd.DataFrame, label: str) -> str:
        """Per occlusion level: the ViT against the best classical method on every metric."""
        lines = [f"**{label}**"]
        for level, g in df.groupby("masks", sort=False):
            nets = g[g.kind == "network"].set_index("method")[METRICS]
            classical = g[g.kind == "classical"].set_index("method")[METRICS]
            lines.append(f"\n*{level} ({g.occluded.iloc[0]:.0%} occluded)*\n")
            lines += [f"- {line}" for line in compare_to_best(nets, classical)]
        return "\n".join(lines)


def vit_parameter_report(model_cfg: ViTConfig, image_size: int) -> str:
    """Our computed ViT parameter count and why the study's 8,671,744 disagrees with its text."""
    c = model_cfg
    ours = count_parameters(build_model(c, image_size))
    study_arch = vit_parameter_count(224, 16, 256, 8, 1024)
    ten = vit_parameter_count(224, 16, 256, 10, 1024, final_norm=True)
    return (f"Trainable parameters of the ViT built here (image {image_size}, patch {c.patch_size}, "
            f"dim {c.dim}, depth {c.depth}, MLP {c.mlp_dim}): **{ours:,}**.\n\n"
            f"*Reconciliation.* The study's text (224 px, 16 px patches, dim 256, 8 blocks, MLP 1024, "
            f"head 256→512→768) gives **{study_arch:,}** parameters; its table says **8,671,744**, which is "
            f"exactly 10 such blocks plus a final LayerNorm ({ten:,}). We build what the text describes.")


def open_study(params_file: str, profile: str, device: str | None = None) -> Study:
    """Validate the params (one-line error on a bad field) and load the dataset."""
    params = load_study(params_file, profile)
    dev = torch.device(device) if device else default_device()
    return Study(params, profile, dev, load_splits(params))


def format_table(df: pd.DataFrame, digits: int = 6) -> pd.io.formats.style.Styler:
    """Uniform number formatting for report tables; NaN shown as '-'."""
    fmt = {c: f"{{:.{digits}f}}" for c in df.columns if df[c].dtype.kind == "f"}
    for c in df.columns:
        if "PSNR" in c:
            fmt[c] = "{:.2f}"
        if "SSIM" in c:
            fmt[c] = "{:.4f}"
    return df.style.format(fmt, na_rep="-").hide(axis="index")


def describe_baselines() -> str:
    return "\n".join(f"- **{name}**: {text}" for name, text in METHOD_DESCRIPTIONS.items())


def mask_coverage_table(cfgs: dict[str, MaskConfig], height: int, width: int, seed: int,
                        n: int = 2048) -> pd.DataFrame:
    """Measured occluded pixels per strategy (overlaps counted once) vs the naive estimate."""
    rows = []
    for name, cfg in cfgs.items():
        masks = fixed_masks(n, height, width, cfg, seed)
        pixels = masks.sum(dim=(1, 2, 3)).double()  # (N,) missing pixels per mask
        lo, hi = naive_fraction(cfg, height, width)
        rows.append({"strategy": name, "configuration": mask_label(cfg),
                     "occluded px (mean)": pixels.mean().item(), "min": int(pixels.min()),
                     "max": int(pixels.max()),
                     "% of image (measured)": 100 * pixels.mean().item() / (height * width),
                     "% naive count·k²/HW": f"{100 * lo:.1f}" + (f"-{100 * hi:.1f}" if hi != lo else "")})
    return pd.DataFrame(rows)

