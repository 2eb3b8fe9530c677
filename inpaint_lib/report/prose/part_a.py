"""Part A's sentences (the CAE studies): parameters, losses, rankings against the seed
noise, the classical methods, the ablation, the mask sweep and the resolution study."""

from __future__ import annotations

import math

import pandas as pd

from ...metrics import METRIC_LABELS, TABLE_METRICS
from ...schema import Reference
from ...stats import Step, difference_threshold, mean_ci
from ..tables import beats, best, claimed_ordering, gap, seed_noise, seed_summary, split_methods
from .common import count_of


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
    noise = ("" if math.isnan(sd) else
             f" Each step below is judged against the seed noise: pooled standard deviation {sd:.6f}"
             f" of test MSE ({df} degrees of freedom, from the configurations trained with several"
             f" seeds).")
    lines = [(f"Lowest test MSE among the networks: **{top.method}** ({top['test MSE']:.6f}, "
              f"{top['test masks']}).{noise}")]
    for (_, a), (_, b) in zip(nets.iloc[:-1].iterrows(), nets.iloc[1:].iterrows()):
        lines.append(f"- {b.method} vs {a.method}: +{b['test MSE'] - a['test MSE']:.6f} MSE "
                     f"({b['test MSE'] / a['test MSE']:.2f}x); "
                     f"{noise_verdict(b['test MSE'] - a['test MSE'], int(a.seeds), int(b.seeds), sd, df)}.")
    ref = nets.dropna(subset=["study's test MSE"])
    if len(ref) >= 2:
        ours = list(ref.sort_values("test MSE").method)
        theirs = list(ref.sort_values("study's test MSE").method)
        same = "the same" if ours == theirs else "a different"
        claim = claimed_ordering(long, dict(zip(ref.method, ref["study's test MSE"])))
        lines.append(f"\nRanking by test MSE: ours {' < '.join(ours)}; the study's "
                     f"{' < '.join(theirs)} — {same} order. Step by step against the seed noise, "
                     f"the study's ordering here: **{claim.describe()}**.")
    lines.append(versus_baselines(long))
    return "\n".join(lines)


def noise_verdict(diff: float, n1: int, n2: int, sd: float, df: int) -> str:
    """Whether a difference of two seed means is beyond the 95% seed-noise threshold."""
    step = Step("", "", diff, difference_threshold(n1, n2, sd, df))
    threshold = step.threshold
    if not step.judged:
        return "no seed spread measured, so this gap cannot be judged"
    if step.beyond_noise:
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
        out.append(f"\n<details><summary><b>Against classical inpainting ({setting})</b>: "
                   f"{best_network_wins(nets, classical)}</summary>\n")
        out += [f"- {line}" for line in compare_to_best(nets, classical)]
        out.append("\n</details>")
    return "\n".join(out)


def best_network_wins(nets: pd.DataFrame, classical: pd.DataFrame) -> str:
    """One line: on how many metrics the best network's mean beats the best classical one
    (the paired verdicts are the conclusions')."""
    won = sum(beats(nets[m].loc[best(nets[m], m)], classical[m].loc[best(classical[m], m)], m)
              for m in TABLE_METRICS)
    return (f"the best network's mean beats the best classical method's on {won} of "
            f"{len(TABLE_METRICS)} metrics")


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
    return ("**Train/validation gap at the last epoch** (positive = validation worse): "
            + "; ".join(f"{name}: gap {r.gap:+.6f} (train {r.train:.6f}, validation {r['held out']:.6f})"
                        for name, r in last.iterrows()) + ".")


def mask_sweep(sweep: pd.DataFrame, per_image: pd.DataFrame) -> str:
    """The network's growth in test MSE over the sweep, per image (Figure 12's matrix,
    rows images, columns mask counts), and against the best classical method per count."""
    net = sweep[sweep.kind == "network"].sort_values("masks")
    first, last = net.iloc[0], net.iloc[-1]
    k = int(first.seeds) if "seeds" in net and pd.notna(first.seeds) else 1

    def value(r: pd.Series) -> str:
        half = r.get("mse ±95%", math.nan)
        return f"{r.mse:.6f}" + (f" ± {half:.6f}" if k > 1 and pd.notna(half) else "")

    seeds = f" (the mean of its {k} seeds, ± the 95% interval over them)" if k > 1 else ""
    lines = [(f"Network test MSE grows from {value(first)} with 1 mask ({first.occluded:.1%} "
              f"occluded) to {value(last)} with {int(last.masks)} masks ({last.occluded:.1%}): "
              f"{last.mse / first.mse:.1f}x{seeds}.")]
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


def classical_shown_in(where: str, masks: str = "", best_elsewhere: bool = False) -> str:
    """The line under a Part A table that leaves out classical rows shown before (`where`: a
    link to the section that scores them): each classical result appears once per mask setting;
    `best_elsewhere`: on the table's other masks only the best classical method is shown."""
    if best_elsewhere:
        return (f"Classical methods on {masks or 'these masks'}: in {where}; on the other masks, "
                "the one with the lowest test MSE on each (two where tied); all in the full table.")
    return f"Classical methods on {masks or 'these masks'}: in {where} and the full table."
