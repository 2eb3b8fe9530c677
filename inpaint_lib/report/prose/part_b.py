"""Part B's sentences (the ViT phases and their evaluation): titles, phase progress, the
parameter reconciliation, occlusion levels, the variants and the runs deferred to the full
profile."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

import pandas as pd

from ...metrics import METRIC_LABELS
from ...schema import Reference, RunConfig
from ...stats import mean_ci
from ..tables import beats, best, gap, split_methods
from .part_a import best_network_wins, compare_to_best

MODEL_SETTINGS = {"px": "data.image_size", "patch": "model.patch_size", "dim": "model.dim",
                  "depth": "model.depth", "heads": "model.heads"}


def model_comparison(settings: list[dict[str, Any]], ours: Mapping[str, Any], parameters: int,
                     study_parameters: int | None, profile: str) -> str:
    """'Our ViT (profile quick): 64 px, patch 8, ..., 909,123 parameters; the study's: 224 px,
    patch 16, ...': `ours` {label of `MODEL_SETTINGS`: value}; the study's values are the base
    values of the settings the profile changed (`Section.settings`), else ours."""
    def base(label: str) -> Any:
        key = MODEL_SETTINGS[label]
        row = next((r for r in settings if r["setting"] == key or r["setting"].endswith("." + key)),
                   None)
        return row["base value"] if row else ours[label]

    def line(values: Mapping[str, Any], n: int | None) -> str:
        parts = [f"{values['px']} px"] + [f"{k} {values[k]}" for k in values if k != "px"]
        return ", ".join(parts) + (f", {n:,} parameters" if n else "")

    theirs = {label: base(label) for label in ours}
    if theirs == dict(ours):
        return f"**Our ViT is the study's:** {line(ours, parameters)}."
    return (f"**Our ViT** (profile `{profile}`): {line(ours, parameters)}; **the study's**: "
            f"{line(theirs, study_parameters)}. Every Part B number below is of our ViT.")


def phase_heading(title: str, epochs: tuple[int, int]) -> str:
    """A phase's heading with the study's epochs and the epochs trained here:
    'Phase 1: Foundation (epochs 1-20)' -> 'Phase 1: Foundation (study: epochs 1-20; here: 1-1)'."""
    here = f"here: {epochs[0]}-{epochs[1]}"
    out, n = re.subn(r"\(epochs ([^)]*)\)", lambda m: f"(study: epochs {m.group(1)}; {here})", title)
    return out if n else f"{title} ({here})"


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
    """A bullet per classical method (`baselines.METHOD_DESCRIPTIONS`), one click away under
    a line that names them all."""
    names = ", ".join(descriptions)
    return (f"<details><summary>The {len(descriptions)} classical methods: {names} (what each "
            f"does, and its source)</summary>\n\n"
            + "\n".join(f"- **{name}**: {text}" for name, text in descriptions.items())
            + "\n\n</details>")


def classical_coverage(limits: Mapping[str, int], images: int, what: str = "test images",
                       why: bool = True) -> str:
    """Which classical methods a section ran on fewer than all its `images` (its
    `evaluation.classical_images`), and why (`why`; else where that is said, section 2.1): ''
    when it ran every one on every image."""
    if not limits:
        return ""
    skipped = [n for n, k in limits.items() if k == 0]
    some = {n: k for n, k in limits.items() if 0 < k < images}
    parts = []
    if some:
        parts.append("; ".join(f"**{n}** on {k:,} of the {images:,} {what}" for n, k in some.items())
                     + " of each setting, spread over them")
    if skipped:
        parts.append(", ".join(f"**{n}**" for n in skipped) + " not run in this section")
    if not parts:
        return ""
    lead = f"*Classical methods not run on all {images:,} {what}:* " + "; ".join(parts)
    if not why:
        from .findings import link

        return lead + f" (why: {link('2.1', 'a1_baseline')})."
    return (lead + ". Why: their time per image (README, *Classical methods*: FSR fast tens of milliseconds at 32 px, "
            "FSR best about ten times that, PatchMatch a few milliseconds at 32 px and growing "
            "with the image) times these images and settings is beyond this section's share of "
            "the report's time. The best classical method of each comparison is chosen on the "
            "images every classical method was scored on, and a network is compared with it on "
            "all the images that method has.")


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
        lines.append(f"\n<details><summary><em>{level} ({g.occluded.iloc[0]:.0%} occluded)</em>: "
                     f"{best_network_wins(nets, classical)}</summary>\n")
        lines += [f"- {line}" for line in compare_to_best(nets, classical)]
        lines.append("\n</details>")
    return "\n".join(lines)


def variants(levels: pd.DataFrame, reference: str, weightings: list[str], label: str) -> str:
    """Part B's variants on one test set: per occlusion level the best network against the
    best classical method (hole PSNR, SSIM) and its patch grid; then each automatic weighting
    against `reference` (the seven-phase chain) on hole MAE, judged by the seed intervals."""
    lines = [(f"\n<details><summary><b>{label}</b>, per occlusion level: the best network "
              "against the best classical method (hole PSNR, SSIM, patch grid)</summary>\n")]
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
    lines.append("\n</details>\n")
    lines.append(f"\n<details><summary><em>{label}</em>: automatic weighting in one run against "
                 f"{reference} (hole MAE, equal epochs)</summary>\n")
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
    return "\n".join([*lines, "\n</details>"])


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


def levels_shown(level: str, where: str, images: str) -> str:
    """The line under a Part B table cut to one occlusion level (`images`: the test set;
    `where`: a link to the section that scores the classical methods on it)."""
    return f"Shown: networks on {images} at {level}; every level in the full table; classical: {where}."
