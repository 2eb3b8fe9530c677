"""Long tables of scores: every method of a study on the same images and masks.

Each function runs methods through `Section.score` (cached) or measures masks, and
returns a DataFrame with one row per (method, seed, setting) or per image; the
pure functions of `tables`, `prose` and `figures` take it from there.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import pandas as pd
import torch
from torch import Tensor

from .evaluate import predictions, scored_images
from .masks import HELD_OUT_SEED_OFFSET, apply_masks, fixed_masks, naive_fraction, occluded_fraction
from .methods import Method
from .metrics import mean_metrics
from .resolve import chained_run_config, is_base_run, load_params, run_config, seeds_for, with_seed
from .runs import Run
from .schema import LossWeights, MaskConfig, SectionParams
from .section import Section, spread
from .stats import mean_ci
from .study_scale import PROFILE as STUDY_PROFILE
from .study_scale import Committed, served_run, unrecorded_epochs


def _row(name: str, kind: str, per_image: dict[str, Tensor], **extra: object) -> dict[str, object]:
    return {"method": name, "kind": kind, **extra, "images": len(per_image["mse"]),
            **mean_metrics(per_image)}


def results_table(study: Section, runs: dict[str, list[Run]], baselines: bool = True) -> pd.DataFrame:
    """One row per (network, seed) on its own training masks, and per classical method on
    each of those mask settings: method, kind, seed, setting, parameters, images, metrics."""
    rows, settings = [], {}
    for name, seeded in runs.items():
        for run in seeded:
            setting = run.config.mask.label
            settings[setting] = run.config.mask
            rows.append(_row(name, "network", study.score(study.method(run), run.config.mask),
                             seed=run.config.seed, setting=setting,
                             parameters=run.parameter_count(),
                             train_seconds=run.info.get("train_seconds", float("nan"))))
    for setting, mask_cfg in settings.items() if baselines else ():
        for method in study.classical():
            rows.append(_row(method.name, "classical", study.score(method, mask_cfg), seed=None,
                             setting=setting, parameters=0, train_seconds=0.0))
    return pd.DataFrame(rows)


def cross_evaluation(study: Section, runs: dict[str, list[Run]],
                     strategies: dict[str, MaskConfig]) -> pd.DataFrame:
    """Whole-image test MSE of every model (mean over seeds) and every classical method
    on every kind of test mask: one row per model, one column per mask kind."""
    rows = []
    for name, seeded in runs.items():
        row: dict[str, object] = {"trained on": name}
        for test_name, cfg in strategies.items():
            vals = [mean_metrics(study.score(study.method(r), cfg))["mse"] for r in seeded]
            row[f"tested on {test_name}"] = sum(vals) / len(vals)
        rows.append(row)
    for method in study.classical():
        row = {"trained on": f"{method.name} (no training)"}
        for test_name, cfg in strategies.items():
            row[f"tested on {test_name}"] = mean_metrics(study.score(method, cfg))["mse"]
        rows.append(row)
    return pd.DataFrame(rows)


def sweep_setting(study: Section, run: Run, n: int) -> MaskConfig:
    """n nested test squares of the run's size: count n adds a square to count n - 1."""
    return run.config.mask.model_copy(update={"count": n, "disjoint": False,
                                              "nested_of": study.params.evaluation.sweep_max_masks})


def sweep_images(study: Section) -> tuple[Tensor, str]:
    """The test images the mask sweep scores (the first `sweep_images`, or all) and their id."""
    n = study.params.evaluation.sweep_images or len(study.splits.test)
    return study.splits.test[:n], f"{study.splits.fingerprint}[:{n}]"


def mask_sweep(study: Section, run: Run | list[Run], study_scale: bool = False) -> pd.DataFrame:
    """The network and the classical methods under 1..N nested test squares of the run's
    size: one row per (mask count, method) with the measured occluded fraction. `run`: one
    run, or its seeds (a list): the network's row is then the mean over them, with "seeds"
    and "mse ±95%" (the half-width of the mean's t-interval over its seeds, NaN with one), so
    that a number read from the sweep carries its seed spread. With `study_scale`, `run` is
    the committed run at the study's scale: its rows only, kind "study scale", method
    "CAE (<run>) at the study's scale"."""
    runs = run if isinstance(run, list) else [run]
    networks = [study.method(r) for r in runs]
    images, data_id = sweep_images(study)
    side = study.splits.image_size
    label = f"CAE ({runs[0].name})" + (" at the study's scale" if study_scale else "")
    rows = []
    for n in range(1, study.params.evaluation.sweep_max_masks + 1):
        cfg = sweep_setting(study, runs[0], n)
        frac = occluded_fraction(fixed_masks(len(images), side, side, cfg,
                                             study.params.evaluation.mask_seed)).mean().item()
        seeds = [mean_metrics(study.score(m, cfg, images, data_id)) for m in networks]
        mean = {k: sum(s[k] for s in seeds) / len(seeds) for k in seeds[0]}
        rows.append({"masks": n, "occluded": frac, "kind": "study scale" if study_scale else "network",
                     "method": label, "images": len(images), "seeds": len(seeds),
                     "mse ±95%": mean_ci([s["mse"] for s in seeds])[1], **mean})
        for m in [] if study_scale else study.classical():
            rows.append({"masks": n, "occluded": frac, "kind": "classical", "method": m.name,
                         "images": len(images), **mean_metrics(study.score(m, cfg, images, data_id))})
    return pd.DataFrame(rows)


def mask_sweeps(study: Section, run: Run | list[Run]) -> pd.DataFrame:
    """`mask_sweep` of `run` (or its seeds' mean; the network and the classical methods) and of the baseline
    trained at the study's own scale (committed, first seed of each: `study_scale_runs`) on the
    same masks, one long table (Figure 11)."""
    at_scale = [mask_sweep(study, found[0][0], study_scale=True)
                for found in study_scale_runs(study).values()]
    return pd.concat([mask_sweep(study, run), *at_scale], ignore_index=True)


def sweep_per_image(study: Section, run: Run) -> pd.DataFrame:
    """Whole-image MSE of the network on a few test images (spread over the split) at each
    mask count: rows 'test image i', columns 1..N (Figure 12)."""
    images, data_id = sweep_images(study)
    ev = study.params.evaluation
    idx = spread(len(images), ev.sweep_heatmap_images)
    network = study.method(run)
    matrix = pd.DataFrame({n: study.score(network, sweep_setting(study, run, n), images,
                                          data_id)["mse"][idx].numpy()
                           for n in range(1, ev.sweep_max_masks + 1)},
                          index=[f"test image {i}" for i in idx.tolist()])
    side = run.config.mask.sizes[0]
    matrix.columns.name = f"number of {side}×{side} masks"
    return matrix


def occlusion_levels(study: Section, networks: dict[str, list[Run]], images: Tensor,
                     data_id: str, train_seconds: dict[str, float] | None = None) -> pd.DataFrame:
    """Networks ({name: runs, one per seed}) and the classical methods at each
    generalisation-test mask count, on the same images and masks: one row per (level,
    method, seed) with the measured occlusion, parameters and training seconds (the runs'
    own, or `train_seconds[name]`, e.g. a whole phase chain's)."""
    seconds = train_seconds or {}
    ev, side = study.params.evaluation, images.shape[-1]
    rows = []
    for cfg in study.level_masks():
        frac = occluded_fraction(fixed_masks(len(images), side, side, cfg, ev.mask_seed)).mean().item()
        level = {"masks": cfg.label, "occluded": frac}
        for name, seeded in networks.items():
            for run in seeded:
                rows.append(_row(name, "network", study.score(study.method(run, name), cfg, images,
                                                              data_id),
                                 **level, seed=run.config.seed, parameters=run.parameter_count(),
                                 train_seconds=seconds.get(name, run.info.get("train_seconds",
                                                                              float("nan")))))
        for m in study.classical():
            rows.append(_row(m.name, "classical", study.score(m, cfg, images, data_id), **level,
                             seed=None, parameters=0, train_seconds=0.0))
    return pd.DataFrame(rows)


def held_out_classical(study: Section, run: Run) -> dict[str, float]:
    """Hole PSNR of each classical method on the images and masks `run` was validated on
    during training (its held-out split and fixed held-out masks): the lines a training
    curve of held-out hole PSNR is set against."""
    held_out = study.splits.val if len(study.splits.val) else study.splits.test
    seed = run.config.seed + HELD_OUT_SEED_OFFSET
    data_id = f"{study.splits.fingerprint}:held-out"
    return {m.name: mean_metrics(study.score(m, run.config.mask, held_out, data_id, seed))["hole_psnr"]
            for m in study.classical()}


def hole_comparison(study: Section, methods: list[Method], mask_cfg: MaskConfig,
                    n: int | None = None) -> tuple[dict[str, Tensor], Tensor]:
    """({"input", each method, "ground truth"}: (n, 3, H, W) in [0, 1], holes (n, 1, H, W)) on
    the study's example images and their evaluation masks, for `figures.hole_crops`. Each
    method's output is composited (known pixels from the image), as the hole metrics score
    it, so the rows differ only inside the holes."""
    imgs, masks = study.examples(mask_cfg, n)
    truth = imgs.float() / 255
    rows = {"input": apply_masks(truth, masks, 0.0)}
    rows |= {m.name: torch.where(masks, predictions(m, imgs, masks), truth) for m in methods}
    return rows | {"ground truth": truth}, masks


def masked_examples(study: Section, mask_cfg: MaskConfig, title: str) -> tuple[dict[str, Tensor], str]:
    """({"original", "occluded"} example images, `title` with the masks' label and their
    measured occluded fraction) for a figure of the study's test masks."""
    imgs, masks = study.examples(mask_cfg)
    frac = occluded_fraction(masks).mean().item()
    rows = {"original": imgs, "occluded": apply_masks(imgs.float() / 255, masks, 0.0)}
    return rows, f"{title} ({mask_cfg.label}, {frac:.1%} occluded)"


def reconstructions(study: Section, methods: list[Method], mask_cfg: MaskConfig,
                    images: Tensor | None = None) -> dict[str, Tensor]:
    """{row label: (n, 3, H, W) in [0, 1]}: the masked input, each method's prediction and
    the ground truth, on the study's example images and their evaluation masks."""
    imgs, masks = study.examples(mask_cfg, images=images)
    rows = {"input": apply_masks(imgs.float() / 255, masks, 0.0)}
    rows |= {m.name: predictions(m, imgs, masks) for m in methods}
    return rows | {"ground truth": imgs.float() / 255}


def occlusion_grid(study: Section, network: Method, images: Tensor) -> dict[str, Tensor]:
    """Input and network prediction at each generalisation-test mask count, on the first
    examples, with the ground truth (Figures 25-26)."""
    ev = study.params.evaluation
    n, side = ev.n_examples, images.shape[-1]
    grid = {}
    for cfg in study.level_masks():
        masks = fixed_masks(len(images), side, side, cfg, ev.mask_seed)[:n]
        count = cfg.count
        grid[f"{count} masks: input"] = apply_masks(images[:n].float() / 255, masks, 0.0)
        grid[f"{count} masks: {network.name}"] = predictions(network, images[:n], masks)
    return grid | {"ground truth": images[:n].float() / 255}


def mask_coverage(study: Section, cfgs: dict[str, MaskConfig], n: int = 2048) -> pd.DataFrame:
    """Measured occluded pixels of `n` masks per strategy (overlaps counted once) vs the
    naive count·k²/HW estimate, at the study's image size."""
    rows, height = [], study.splits.image_size
    width = height
    for name, cfg in cfgs.items():
        pixels = fixed_masks(n, height, width, cfg, study.params.evaluation.mask_seed).sum(
            dim=(1, 2, 3)).double()  # (N,)
        lo, hi = naive_fraction(cfg, height, width)
        rows.append({"strategy": name, "configuration": cfg.label,
                     "occluded px (mean)": pixels.mean().item(), "min": int(pixels.min()),
                     "max": int(pixels.max()),
                     "% of image (measured)": 100 * pixels.mean().item() / (height * width),
                     "% naive count·k²/HW": f"{100 * lo:.1f}" + (f"-{100 * hi:.1f}" if hi != lo else "")})
    return pd.DataFrame(rows)


def phase_schedule(study: Section, chain: list[tuple[SectionParams, Run]]) -> pd.DataFrame:
    """The ViT phases as trained (after profile scaling), with measured occlusion."""
    rows, side = [], study.splits.image_size
    for params, run in chain:
        c = run.config
        masks = fixed_masks(256, side, side, c.mask, study.params.evaluation.mask_seed)
        lo, hi = naive_fraction(c.mask, side, side)
        ramp = c.loss.ramp_epochs if c.loss.ramp_to is not None else None
        # with a ramp, its own start and end (a profile may compress it into one epoch, where
        # the weights in force at the phase's epochs would hide it)
        w0 = (LossWeights(mse=c.loss.mse, mae=c.loss.mae, perceptual=c.loss.perceptual) if ramp
              else c.loss.weights_at(c.epoch_range[0]))
        w1 = c.loss.ramp_to if ramp else c.loss.weights_at(c.epoch_range[1])
        rows.append({
            "phase": params.phase, "epochs": f"{c.epoch_range[0]}-{c.epoch_range[1]}",
            "LR": f"{c.optimizer.lr:g}" + "".join(f", {v:g} from epoch {e}" for e, v in c.lr_changes.items()),
            "masks": c.mask.label,
            "λ_MAE": f"{w0.mae:g}" + (f"→{w1.mae:g}" if w1.mae != w0.mae else ""),
            "λ_Perceptual": f"{w0.perceptual:g}" + (f"→{w1.perceptual:g}" if w1.perceptual != w0.perceptual else ""),
            "weight ramp": "-" if not ramp else (
                f"linear, epochs {ramp[0]}-{ramp[1]}" if ramp[1] > ramp[0]
                else f"compressed: a step at epoch {ramp[0]}"),
            "grad clip": c.grad_clip or "-", "LR plateau scheduler": "on" if c.plateau else "off",
            "occluded, naive N·k²/HW": f"{100 * lo:.0f}%" + (f"-{100 * hi:.0f}%" if hi != lo else ""),
            "occluded, measured": f"{100 * occluded_fraction(masks).mean().item():.1f}%",
        })
    return pd.DataFrame(rows)


def chain_seconds(chain: list[tuple[SectionParams, Run]]) -> float:
    """Training seconds of a whole phase chain."""
    return sum(run.info.get("train_seconds", 0.0) for _, run in chain)


def step_times(study: Section, names: list[str], steps: int = 3) -> pd.DataFrame:
    """Seconds per training step of runs a reduced profile defers (`SectionParams.deferred`)
    against the study's base configuration, measured on the study's data after one warm-up
    step, untrained: what one run would cost here."""
    from .train import Trainer

    rows = []
    base = SectionParams.model_validate({**study.params.model_dump(), "runs": {"_base": {}}})
    for name, params in [("the study's ViT configuration", base),
                         *[(n, SectionParams.model_validate(
                             {**study.params.model_dump(), "runs": {n: study.params.deferred[n]}}))
                           for n in names]]:
        cfg = run_config(params, next(iter(params.runs)))
        trainer = Trainer(cfg.model_copy(update={"epochs": 1}), study.splits, study.device)
        trainer.train_images = study.splits.train[: cfg.batch_size].to(study.device)
        trainer.train_epoch(1)  # one warm-up step
        trainer.train_images = study.splits.train[: cfg.batch_size * steps].to(study.device)
        trainer.steps_per_epoch = steps
        start = time.perf_counter()
        trainer.train_epoch(1)
        seconds = (time.perf_counter() - start) / steps
        rows.append({"run": name, "seconds per step": seconds,
                     "seconds per epoch (estimated)": seconds * math.ceil(len(study.splits.train)
                                                                          / cfg.batch_size),
                     "epochs": cfg.num_epochs})
    table = pd.DataFrame(rows)
    table["× the study's step"] = table["seconds per step"] / table["seconds per step"].iloc[0]
    table["one run (estimated s)"] = table["seconds per epoch (estimated)"] * table["epochs"]
    return table


def full_history(chain: list[tuple[SectionParams, Run]]) -> tuple[list[dict[str, float]], list[tuple[int, str]]]:
    """Concatenated per-epoch history of all phases, and the phase start epochs."""
    history, bounds = [], []
    for params, run in chain:
        bounds.append((run.config.epoch_range[0], f"phase {params.phase}"))
        history += run.history
    return history, bounds


def first_seed(runs: dict[str, list[Run]]) -> dict[str, Run]:
    """{run name: its first seed's run} (figures show one seed)."""
    return {name: seeded[0] for name, seeded in runs.items()}


def same_masks(runs: dict[str, Run]) -> dict[str, tuple[MaskConfig, dict[str, Run]]]:
    """Runs grouped by their training masks: {label: (mask config, {name: run})}, in order."""
    groups: dict[str, tuple[MaskConfig, dict[str, Run]]] = {}
    for name, run in runs.items():
        groups.setdefault(run.config.mask.label, (run.config.mask, {}))[1][name] = run
    return groups


def loss_histories(runs: dict[str, Run]) -> dict[str, list[dict[str, float]]]:
    return {name: run.history for name, run in runs.items()}


def histories(runs: dict[str, list[Run]], names: list[str]) -> dict[str, list[dict[str, float]]]:
    """Per-epoch history of the first seed of each named run."""
    return {name: runs[name][0].history for name in names}


def last_epochs(runs: dict[str, list[Run]]) -> pd.DataFrame:
    """Train and held-out loss at the last epoch of each run (first seed), and their gap."""
    rows = []
    for name, run in first_seed(runs).items():
        last = run.history[-1]
        held = next(k for k in last if k in ("val_loss", "test_loss"))
        rows.append({"run": name, "epoch": last["epoch"], "train": last["train_loss"],
                     "held out": last[held], "gap": last[held] - last["train_loss"]})
    return pd.DataFrame(rows).set_index("run")


def per_image(study: Section, networks: dict[str, list[Run]], mask_cfg: MaskConfig, metric: str,
              images: Tensor | None = None, data_id: str | None = None) -> pd.DataFrame:
    """Per-image `metric` of every network (one block per seed) and every classical method on
    the same images and masks (cached scores, see `Section.score`): one row per (method, seed,
    image) with the run's directory (its identity) and the setting (data and masks), for
    `tables.paired_comparisons`. A
    classical method too slow for every image is scored on some spread over the set (its
    "image" column is each one's index); the pairing keeps the common ones."""
    blocks = []
    setting = f"{data_id or study.splits.fingerprint} | {mask_cfg.model_dump_json()}"

    total = len(study.splits.test if images is None else images)

    def block(name: str, kind: str, values: Tensor, **extra: object) -> None:
        # a classical method limited to some images has them spread over the set
        index = scored_images(total, len(values)).numpy()
        blocks.append(pd.DataFrame({"method": name, "kind": kind, "image": index,
                                    "value": values.numpy(), "setting": setting, **extra}))

    for name, seeded in networks.items():
        for run in seeded:
            block(name, "network", study.score(study.method(run, name), mask_cfg, images,
                                               data_id)[metric],
                  seed=run.config.seed, run=run.dir.name,
                  train_seconds=run.info.get("train_seconds", float("nan")))
    for m in study.classical():
        block(m.name, "classical", study.score(m, mask_cfg, images, data_id)[metric], seed=-1,
              run=m.name, train_seconds=0.0)
    return pd.concat(blocks, ignore_index=True)


# ------------------------------------------------------- the study's own scale
def _study_scale_found(study: Section) -> dict[str, list[tuple[int, Committed | None, list[Committed]]]]:
    """{run name: [(seed, the run served as committed or None, the other runs found)]} of this
    section at the study's scale (`study_scale.served_run`); only runs trained on this
    section's test split and image size. Empty at the full profile itself, for Part B, and
    where the section's data is not the study's (the smoke profile's generated images)."""
    if study.profile == STUDY_PROFILE or study.params.part != "A":
        return {}
    full = load_params(study.params.source_file, STUDY_PROFILE)
    if full.data.dataset != study.params.data.dataset:
        return {}

    def fits(c: Committed) -> bool:
        return (c.info.get("sizes", {}).get("test") == len(study.splits.test)
                and c.info.get("image_size") == study.splits.image_size)

    out: dict[str, list[tuple[int, Committed | None, list[Committed]]]] = {}
    for name in study.params.runs:
        for seed in seeds_for(full, name):
            served, others = served_run(chained_run_config(with_seed(full, name, seed), name,
                                                           STUDY_PROFILE))
            served = served if served is not None and fits(served) else None
            others = [c for c in others if fits(c)]
            if served is not None or others:
                out.setdefault(name, []).append((seed, served, others))
    return out


def study_scale_runs(study: Section) -> dict[str, list[tuple[Run, Committed]]]:
    """This section's runs as trained at the study's own scale: the full-profile runs served
    as committed (`study_scale.served_run`: matched by config, never by today's code; git
    tracks them and they are what results/full/study-scale.json records), by run name, every
    seed found. The others found are named by `study_scale_unused`, never used."""
    out: dict[str, list[tuple[Run, Committed]]] = {}
    for name, found in _study_scale_found(study).items():
        served = [(c.run(name), c) for _, c, _ in found if c is not None]
        if served:
            out[name] = served
    return out


def study_scale_unused(study: Section) -> list[dict[str, object]]:
    """The full-profile runs of this section found on disk but not served as committed: an
    untracked run (a developer's own, not recorded), or one that is not what its record says.
    One record each: run name, seed, run directory, status, why, and its test MSE as its own
    scores.json says (not re-scored: it is not used)."""
    out = []
    for name, found in _study_scale_found(study).items():
        for seed, _, others in found:
            for c in others:
                out.append({"method": name, "seed": seed, "run": c.dir.name, "status": c.status,
                            "why": "; ".join(c.problems()),
                            "mse": (c.scores or {}).get("means", {}).get("mse")})
    return out


def phase_at_study_scale(study: Section) -> Committed | None:
    """The committed run at the study's scale of this ViT phase (`study_scale.PLAN`: phase 1,
    `study_scale_vit`), matched by config and never by code, if it is committed as recorded
    (`study_scale.served_run`) and scored;
    None at the full profile itself, for a section that is not a phase, and where the
    committed run was not trained on this section's dataset (the smoke profile's shapes)."""
    if study.profile == STUDY_PROFILE or study.params.part != "B" or study.params.phase is None:
        return None
    full = load_params(study.params.source_file, STUDY_PROFILE)
    if full.data.dataset != study.params.data.dataset:
        return None
    c, _ = served_run(chained_run_config(full, next(iter(full.runs)), STUDY_PROFILE))
    return c if c is not None and c.scores is not None else None


def at_study_scale(study: Section) -> pd.DataFrame:
    """`results_table` rows (networks only) of the runs trained at the study's scale
    (`study_scale_runs`), scored now on this section's test images and masks by today's
    scoring code, with what trained each: commit, training code, whether it is today's,
    precision, the epochs trained by processes whose commit and precision were not recorded
    (`study_scale.unrecorded_epochs`), and the data set its config.json records. Empty (with
    the columns) when none is committed."""
    rows = []
    for name, found in study_scale_runs(study).items():
        for run, c in found:
            rows.append(_row(name, "network", study.score(study.method(run), run.config.mask),
                             seed=run.config.seed, setting=run.config.mask.label,
                             parameters=run.parameter_count(),
                             train_seconds=c.info.get("train_seconds", math.nan),
                             run=run.dir.name, commit=c.commit, code=c.code,
                             current_code=c.current_code, precision=c.precision,
                             unrecorded_epochs=unrecorded_epochs(c),
                             dataset=c.info.get("dataset", "unrecorded"),
                             epochs=run.config.epoch_range[1], batch_size=run.config.batch_size,
                             train_images=c.info.get("sizes", {}).get("train")))
    return pd.DataFrame(rows, columns=["method", "kind", "seed", "setting", "mse"] if not rows else None)


def base_references(study: Section) -> dict[str, float]:
    """The study's test MSE for every run of its Part A sections that is its base
    configuration (the baseline, Adam, latent 128, one 10x10 square: one configuration
    trained four times under four names), by name: the study's own run-to-run spread."""
    out = {}
    for path in sorted(Path(study.params.source_file).parent.glob("a[0-9]_*.yaml")):
        params = load_params(path, study.profile)
        for name, ref in params.reference.items():
            if ref.test_mse is not None and name in params.runs and is_base_run(params, name):
                topic = path.stem.split("_", 1)[-1]  # a bare number names itself by its section
                out[f"{topic} {name}" if name.isdigit() else name] = ref.test_mse
    return out


def study_scale_per_image(study: Section, metric: str) -> pd.DataFrame:
    """`per_image` rows of the runs committed at the study's scale (`study_scale_runs`, every
    seed found) and of the classical methods, on each training-mask setting of those runs,
    with a "comparison" column (title · masks · "at the study's scale"): for
    `tables.paired_comparisons`. Empty when none is committed."""
    found = study_scale_runs(study)
    frames = []
    runs = {name: [run for run, _ in seeded] for name, seeded in found.items()}
    for label, (mask_cfg, group) in same_masks({n: r[0] for n, r in runs.items()}).items():
        per = per_image(study, {n: runs[n] for n in group}, mask_cfg, metric)
        per["comparison"] = f"{study.params.title} · {label} · at the study's scale"
        frames.append(per)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
