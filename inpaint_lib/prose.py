"""The report's generated sentences as pure functions: DataFrames (or plain values) in,
Markdown out. Every number in a sentence is read from its arguments; a yes/no is
written as words, never as ``True``/``False``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

from .metrics import METRIC_LABELS, TABLE_METRICS
from .schema import Reference, RunConfig
from .stats import difference_threshold, mean_ci
from .tables import beats, best, gap, seed_noise, seed_summary, split_methods


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def count_of(k: int, n: int, what: str) -> str:
    """'all 10 images', 'none of the 10 images', '7 of 10 images'."""
    if k == n:
        return f"all {n} {what}" if n > 1 else f"the {what}"
    return f"none of the {n} {what}" if k == 0 else f"{k} of {n} {what}"


# ------------------------------------------------------------------ provenance
def provenance(facts: Mapping[str, Any]) -> str:
    """Warning banners and the provenance line of a notebook (`Study.facts`)."""
    out = []
    if "synthetic" in facts["dataset"]:
        out.append("<div class='warn'>⚠ SMOKE PROFILE: generated shapes, not real images. "
                   "Numbers below only check the pipeline.</div>")
    if facts.get("random_vgg"):
        out.append("<div class='warn'>⚠ The perceptual loss here uses a RANDOMLY INITIALISED VGG-16 "
                   "(pretrained ImageNet weights were not available): not the study's loss.</div>")
    sizes = ", ".join(f"{k} {v:,}" for k, v in facts["sizes"].items() if v)
    counts = sorted(set(facts["seeds"].values()))
    seeds = (plural(counts[0], "seed") + " per run" if len(counts) == 1 else
             ", ".join(f"{name}: {plural(n, 'seed')}" for name, n in facts["seeds"].items()))
    first, last = facts["epochs"]
    side = facts["image_size"]
    out.append(f"**Provenance.** profile `{facts['profile']}` · dataset **{facts['dataset']}** "
               f"({sizes}; {side}x{side} px) · epochs {first}-{last} · batch {facts['batch_size']} · "
               f"{seeds} · test masks seed {facts['mask_seed']} · device `{facts['device']}`, "
               f"training in {facts['precision']}")
    return "\n\n".join(out)


def settings_block(rows: list[dict[str, Any]], source: str, profile: str, effective_yaml: str) -> str:
    """A collapsible block: each setting that differs from the study's base and what set it
    (the params file, the profile, INPAINT_OVERRIDES, a rescaling), then the full params."""
    lines = [(f"<details><summary>Settings: what differs from the study's base and why "
              f"({source}, profile {profile})</summary>\n")]
    if rows:
        lines += ["| setting | base value | here | set by |", "|---|---|---|---|"]
        lines += [f"| `{r['setting']}` | {_cell(r['base value'])} | {_cell(r['value'])} | {r['set by']} |"
                  for r in rows]
    else:
        lines.append("Every setting is the study's base value.")
    lines += ["\nAll effective parameters:\n", f"```yaml\n{effective_yaml}```", "</details>"]
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    return f"`{value}`".replace("|", "\\|")


# ------------------------------------------------------------------- Part A text
def parameter_count(ours: int, study: int | None) -> str:
    theirs = f" (study: {study:,})" if study else ""
    return f"Trainable parameters: **{ours:,}**{theirs}."


def final_epoch(history: list[dict[str, float]]) -> str:
    """The last epoch's train and validation loss, their gap, and the best validation epoch."""
    last = history[-1]
    best_epoch = min(history, key=lambda h: h["val_loss"])["epoch"]
    return (f"Final epoch {last['epoch']}: train {last['train_loss']:.6f}, validation "
            f"{last['val_loss']:.6f} (gap {last['val_loss'] - last['train_loss']:+.6f}); lowest "
            f"validation loss at epoch {best_epoch}.")


def ranking(long: pd.DataFrame, reference: dict[str, Reference] | None = None) -> str:
    """Networks ranked by test MSE, each step judged against the seed noise, the ranking
    compared with the study's, then every network against the classical methods."""
    summary = seed_summary(long, reference)
    nets = summary[summary.kind == "network"].sort_values("test MSE")
    sd, df = seed_noise(long)
    top = nets.iloc[0]
    lines = [(f"Lowest test MSE among the networks: **{top.method}** ({top['test MSE']:.6f}, "
              f"{top['test masks']}).")]
    for (_, a), (_, b) in zip(nets.iloc[:-1].iterrows(), nets.iloc[1:].iterrows()):
        lines.append(f"- {b.method} vs {a.method}: +{b['test MSE'] - a['test MSE']:.6f} MSE "
                     f"({b['test MSE'] / a['test MSE']:.2f}x); "
                     f"{noise_verdict(b['test MSE'] - a['test MSE'], int(a.seeds), int(b.seeds), sd, df)}.")
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
    lines.append(versus_baselines(long))
    return "\n".join(lines)


def noise_verdict(diff: float, n1: int, n2: int, sd: float, df: int) -> str:
    """Whether a difference of two seed means is beyond the 95% seed-noise threshold."""
    threshold = difference_threshold(n1, n2, sd, df)
    if math.isnan(threshold):
        return "no seed spread measured, so this gap cannot be judged"
    if abs(diff) > threshold:
        return f"a real difference (exceeds the 95% seed-noise threshold {threshold:.6f})"
    return f"within noise (threshold {threshold:.6f})"


def compare_to_best(nets: pd.DataFrame, classical: pd.DataFrame) -> list[str]:
    """One line per metric: each network (rows of `nets`) against the best classical row."""
    lines = []
    for m in TABLE_METRICS:
        name = best(classical[m], m)
        ref = classical.loc[name, m]
        verdicts, losers = [], 0
        for net, value in nets[m].items():
            wins = beats(value, ref, m)
            losers += not wins
            verdicts.append(f"{net} {value:.4g} ({gap(value, ref, m)}, "
                            f"{'better' if wins else '**worse**'})")
        head = ("every network beats it" if losers == 0 else
                "**every network loses to it**" if losers == len(nets) else
                f"**{losers} of {len(nets)} networks lose to it**")
        lines.append(f"{METRIC_LABELS[m]}: best classical **{name}** {ref:.4g}; {head}: "
                     + "; ".join(verdicts))
    return lines


def versus_baselines(long: pd.DataFrame) -> str:
    """Per mask setting: does each network beat the best classical method, per metric?"""
    out = []
    for setting, g in long.groupby("setting", sort=False):
        nets, classical = split_methods(g)
        if classical.empty or nets.empty:
            continue
        out.append(f"\n**Against classical inpainting ({setting})**\n")
        out += [f"- {line}" for line in compare_to_best(nets, classical)]
    return "\n".join(out)


def ablation(long: pd.DataFrame, baseline: str) -> str:
    """What each change did to hole MSE against `baseline` (judged against the seed noise),
    what it cost, and how the best network compares with the best classical method on every
    metric, with the seed interval of its hole MSE."""
    summary = long[long.kind == "network"].groupby("method", sort=False)
    mean = summary["hole_mse"].mean()
    n = summary.size()
    sd, df = seed_noise(long, "hole_mse")
    base = mean[baseline]
    seconds = summary["train_seconds"].mean()
    params = summary["parameters"].first()
    lines = [(f"**Each change against {baseline}** (hole MSE {base:.4g}, {params[baseline]:,} "
             f"parameters, {seconds[baseline]:.0f} s of training per seed):")]
    for name in mean.index.drop(baseline):
        diff = mean[name] - base
        lines.append(f"- {name}: hole MSE {mean[name]:.4g} ({100 * diff / base:+.0f}%; "
                     f"{noise_verdict(diff, int(n[baseline]), int(n[name]), sd, df)}); "
                     f"{params[name]:,} parameters, {seconds[name] / seconds[baseline]:.1f}x the "
                     "training time.")
    top = best(mean, "hole_mse")
    nets, classical = split_methods(long)
    wins = [m for m in TABLE_METRICS if beats(nets.loc[top, m], classical[m].loc[best(classical[m], m)], m)]
    cls = best(classical["hole_mse"], "hole_mse")
    values = long[long.method == top]["hole_mse"].tolist()
    half = mean_ci(values)[1]
    interval = ("" if math.isnan(half) else
                f"; its 95% seed interval is ±{half:.4g}, so the gap to {cls} is "
                + ("beyond the seed noise" if classical.loc[cls, "hole_mse"] - mean[top] > half
                   else "within the seed noise"))
    lines.append(f"\n**Best network: {top}.** Against the best classical method of each metric it is "
                 f"better on {count_of(len(wins), len(TABLE_METRICS), 'metrics')}"
                 + ("" if len(wins) == len(TABLE_METRICS) else
                    " (worse on " + ", ".join(METRIC_LABELS[m] for m in TABLE_METRICS
                                              if m not in wins) + ")")
                 + f". Hole MSE {mean[top]:.4g} against {cls}'s {classical.loc[cls, 'hole_mse']:.4g} "
                 f"({gap(mean[top], classical.loc[cls, 'hole_mse'], 'hole_mse')}){interval}.")
    return "\n".join(lines)


def generalisation_gaps(last: pd.DataFrame) -> str:
    """From `tables.last_epochs`: each run's train/validation gap at its last epoch."""
    lines = ["**Train/validation gap at the last epoch** (positive = validation worse):"]
    lines += [f"- {name}: train {r.train:.6f}, validation {r['held out']:.6f}, gap {r.gap:+.6f}"
              for name, r in last.iterrows()]
    return "\n".join(lines)


def mask_sweep(sweep: pd.DataFrame, per_image: pd.DataFrame) -> str:
    """The network's growth in test MSE over the sweep, per image (Figure 12's matrix,
    rows images, columns mask counts), and against the best classical method per count."""
    net = sweep[sweep.kind == "network"].sort_values("masks")
    first, last = net.iloc[0], net.iloc[-1]
    lines = [(f"Network test MSE grows from {first.mse:.6f} with 1 mask ({first.occluded:.1%} "
              f"occluded) to {last.mse:.6f} with {int(last.masks)} masks ({last.occluded:.1%}): "
              f"{last.mse / first.mse:.1f}x.")]
    n = len(per_image)
    steps = per_image.diff(axis=1).iloc[:, 1:]
    monotone = int((steps >= 0).all(axis=1).sum())
    worse = int((per_image.iloc[:, -1] > per_image.iloc[:, 0]).sum())
    lines.append(f"Per image (Figure 12), {count_of(monotone, n, 'images')} get worse at every "
                 f"added mask, and {count_of(worse, n, 'images')} are worse at "
                 f"{per_image.columns[-1]} masks than at 1.")
    beaten = []
    for count, g in sweep.groupby("masks"):
        classical = g[g.kind == "classical"].set_index("method")["mse"]
        if not beats(g[g.kind == "network"].mse.iloc[0], classical.min(), "mse"):
            beaten.append(str(count))
    total = sweep.masks.nunique()
    if beaten:
        lines.append(f"**The best classical method beats the CAE (whole-image MSE) at "
                     f"{len(beaten)} of {total} mask counts** ({', '.join(beaten)}).")
    else:
        lines.append("The CAE has lower whole-image MSE than every classical method at every "
                     "mask count.")
    return " ".join(lines)


def more_context(high: pd.DataFrame, low: pd.DataFrame, high_label: str, low_label: str) -> str:
    """Did more context help? The best network's gap to the best classical method on hole MSE
    and hole PSNR in two long results tables (e.g. 96 px and 32 px), each on its own images."""
    rel, lines = [], []
    for label, long in ((low_label, low), (high_label, high)):
        nets, classical = split_methods(long)
        net, cls = best(nets["hole_mse"], "hole_mse"), best(classical["hole_mse"], "hole_mse")
        nv, cv = nets.loc[net, "hole_mse"], classical.loc[cls, "hole_mse"]
        pnet, pcls = best(nets["hole_psnr"], "hole_psnr"), best(classical["hole_psnr"], "hole_psnr")
        pv, pc = nets.loc[pnet, "hole_psnr"], classical.loc[pcls, "hole_psnr"]
        rel.append((nv - cv) / cv)
        lines.append(f"- {label}: {net} hole MSE {nv:.4g} against {cls}'s {cv:.4g} "
                     f"({gap(nv, cv, 'hole_mse')}); hole PSNR {pv:.2f} dB against {pcls}'s "
                     f"{pc:.2f} dB ({gap(pv, pc, 'hole_psnr')}).")
    helped = rel[1] < rel[0]
    verdict = (f"The best network's hole MSE is {100 * rel[1]:+.0f}% against the best classical "
               f"method at {high_label}, {100 * rel[0]:+.0f}% at {low_label}: more context "
               + ("**helped** the network against the methods that need no training."
                  if helped else "**did not help** the network against the methods that need no "
                                 "training.")
               + " The two sets hold different images, so this compares each network's gap to the "
                 "classical methods on its own images, not raw errors.")
    return "\n".join([verdict, "", *lines])


# ------------------------------------------------------------------- Part B text
def phase_loss_title(phase: int) -> str:
    return f"Phase {phase} loss (weighted MAE + perceptual; objective changes between phases)"


def dataset_line(what: str, name: str, images: int, side: int) -> str:
    return f"{what}: **{name}** ({images:,} images, resized to {side}×{side})."


def phase_progress(phase: int, history: list[dict[str, float]]) -> str:
    first, last = history[0], history[-1]
    return (f"Phase {phase}: train loss {first['train_loss']:.4f} → {last['train_loss']:.4f}, "
            f"test loss {first['test_loss']:.4f} → {last['test_loss']:.4f} over epochs "
            f"{first['epoch']}-{last['epoch']}; learning rate at the end {last['lr']:g}.")


def classical_methods(descriptions: Mapping[str, str]) -> str:
    """A bullet per classical method (`baselines.METHOD_DESCRIPTIONS`)."""
    return "\n".join(f"- **{name}**: {text}" for name, text in descriptions.items())


def study_caption(reference: Reference | None) -> str:
    return f"Study's caption: *{reference.figure}*" if reference and reference.figure else ""


def phase_figure_title(reference: Reference | None, cfg: RunConfig) -> str:
    """'Figure 18. Reconstruction at epoch 40 (80 × 9×9 px)': the study's figure number,
    the phase's last epoch and its training masks."""
    caption = (reference.figure if reference else None) or ""
    number = caption.split(".")[0] + ". " if caption.startswith("Figure") else ""
    return f"{number}Reconstruction at epoch {cfg.epoch_range[1]} ({cfg.mask.label})"


def vit_parameters(counts: Mapping[str, Any]) -> str:
    """From `models.vit_parameter_reconciliation`: our count and the study's discrepancy."""
    c = counts
    return (f"Trainable parameters of the ViT built here (image {c['image_size']}, patch "
            f"{c['patch_size']}, dim {c['dim']}, depth {c['depth']}, MLP {c['mlp_dim']}): "
            f"**{c['ours']:,}**.\n\n*Reconciliation.* The study's text (224 px, 16 px patches, dim "
            f"256, 8 blocks, MLP 1024, head 256→512→768) gives **{c['study_text']:,}** parameters; "
            f"its table says **{c['study_table']:,}**, which is exactly 10 such blocks plus a final "
            f"LayerNorm ({c['ten_blocks']:,}). We build what the text describes.")


def occlusion_levels(levels: pd.DataFrame, label: str) -> str:
    """Per occlusion level: the network against the best classical method on every metric."""
    lines = [f"**{label}**"]
    for level, g in levels.groupby("masks", sort=False):
        nets, classical = split_methods(g)
        lines.append(f"\n*{level} ({g.occluded.iloc[0]:.0%} occluded)*\n")
        lines += [f"- {line}" for line in compare_to_best(nets, classical)]
    return "\n".join(lines)


def variants(levels: pd.DataFrame, reference: str, weightings: list[str], label: str) -> str:
    """Part B's variants on one test set: per occlusion level the best network against the
    best classical method (hole PSNR, SSIM) and its patch grid; then each automatic weighting
    against `reference` (the seven-phase chain) on hole MAE, judged by the seed intervals."""
    lines = [f"**{label}**"]
    for level, g in levels.groupby("masks", sort=False):
        nets, classical = split_methods(g)
        top = best(nets["hole_psnr"], "hole_psnr")
        cls = best(classical["hole_psnr"], "hole_psnr")
        scls = best(classical["ssim"], "ssim")
        grid = g[g.method == top]["grid"].mean() if "grid" in g else math.nan
        grid_note = ("" if math.isnan(grid) else
                     f"; its patch grid is {grid:.2f} ({'within' if abs(grid - 1) <= 0.1 else 'not within'}"
                     " 10% of the ground truth's own)")
        lines.append(f"- *{level}*: best network **{top}**, hole PSNR {nets.loc[top, 'hole_psnr']:.2f} dB "
                     f"against {cls}'s {classical.loc[cls, 'hole_psnr']:.2f} dB "
                     f"({gap(nets.loc[top, 'hole_psnr'], classical.loc[cls, 'hole_psnr'], 'hole_psnr')}), "
                     f"SSIM {nets.loc[top, 'ssim']:.4f} against {scls}'s {classical.loc[scls, 'ssim']:.4f} "
                     f"({'better' if beats(nets.loc[top, 'ssim'], classical.loc[scls, 'ssim'], 'ssim') else '**worse**'})"
                     f"{grid_note}.")
    lines.append(f"\n*Automatic weighting in one run against {reference} (hole MAE, equal epochs):*")
    for name in weightings:
        verdicts = []
        for level, g in levels.groupby("masks", sort=False):
            ours, theirs = g[g.method == name]["hole_mae"], g[g.method == reference]["hole_mae"]
            half = max((mean_ci(v.tolist())[1] for v in (ours, theirs) if len(v) > 1), default=math.nan)
            diff = ours.mean() - theirs.mean()
            verdict = ("better" if diff < 0 else
                       "no seed interval to judge it" if math.isnan(half) else
                       "within the seed interval" if diff <= half else "**worse**")
            verdicts.append(f"{level}: {ours.mean():.4f} vs {theirs.mean():.4f} ({verdict})")
        lines.append(f"- {name}: " + "; ".join(verdicts))
    return "\n".join(lines)


def deferred(steps: pd.DataFrame, profile: str, reference_seconds: float) -> str:
    """Why runs are left to the full profile here, from `scoring.step_times`."""
    if len(steps) < 2:
        return ""
    base = steps.iloc[0]
    lines = [(f"Not trained at the `{profile}` profile, measured instead (seconds per training step "
             f"on this machine, against {base['run']}'s {base['seconds per step']:.2f} s):")]
    ratio = "× the study's step"
    for _, r in steps.iloc[1:].iterrows():
        lines.append(f"- {r['run']}: {r['seconds per step']:.2f} s per step "
                     f"({r[ratio]:.1f}x), so one run of {int(r['epochs'])} epochs "
                     f"would take about {r['one run (estimated s)'] / 60:.1f} min, "
                     f"{r['one run (estimated s)'] / reference_seconds:.1f}x the training of the "
                     f"study's whole seven-phase chain here ({reference_seconds / 60:.1f} min). "
                     "`make report PROFILE=full` trains it.")
    return "\n".join(lines)


def shift_between_sets(ours: pd.DataFrame, other: pd.DataFrame, network: str, metric: str,
                       label: str) -> str:
    """The network's `metric` per occlusion level on another set against ours."""
    a = ours[ours.method == network].set_index("masks")[metric]
    b = other[other.method == network].set_index("masks")[metric]
    return (f"{label}, {network} {METRIC_LABELS[metric]} per level: "
            + ", ".join(f"{k}: {b[k]:.4f} vs {a[k]:.4f} ({b[k] / a[k]:.2f}x)" for k in a.index))


# ------------------------------------------------------------------ conclusions
def verdict_scope(profile: str, description: str) -> str:
    """What a network-vs-classical verdict is about: '' at the study's settings, else the
    profile's own description of what it reduced."""
    if profile == "full":
        return ""
    return (f"These are the networks of the `{profile}` profile ({description}). The verdict is "
            "about these reduced networks, not about the architectures at the study's settings: "
            "`make report PROFILE=full` trains those.")


def studies_against_classical(part_a: Mapping[str, pd.DataFrame]) -> str:
    """`versus_baselines` for each study: {title: long results table}."""
    return "\n\n".join(f"**{title}**" + versus_baselines(long) for title, long in part_a.items())


def sweep_paragraph(sweep: tuple[pd.DataFrame, pd.DataFrame] | None) -> str:
    """`mask_sweep` for the conclusions ('' when no sweep was run)."""
    return "" if sweep is None else "**Test-time mask sweep.** " + mask_sweep(*sweep)


def sets_against_classical(part_b: Mapping[str, pd.DataFrame], network: str = "ViT") -> str:
    """`occlusion_levels` for each test set: {set name: levels table}."""
    return "\n\n".join(occlusion_levels(levels, f"{network} on {name}")
                        for name, levels in part_b.items())


def headline(table: pd.DataFrame) -> str:
    """How many (comparison, metric) pairs of `tables.headline` rows the network wins."""
    wins = int((table.winner == "network").sum())
    return (f"The best trained network beats the best classical method in **{wins} of "
            f"{len(table)}** (comparison, metric) pairs; the classical method wins "
            f"**{len(table) - wins}**.")
