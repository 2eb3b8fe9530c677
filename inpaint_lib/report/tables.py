"""Report tables as pure functions: a long DataFrame of scores in, a DataFrame out.

The long tables come from `scoring` (one row per method, seed and setting, with
a ``kind`` of "network" or "classical" and every metric of `metrics.TABLE_METRICS`).
Nothing here trains, scores or displays.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from ..metrics import LOWER_IS_BETTER, METRIC_LABELS, TABLE_METRICS, WHOLE_IMAGE_METRICS
from ..schema import CAEConfig, Reference, RunConfig
from ..stats import (
    TIE,
    Ordering,
    mean_ci,
    ordering,
    paired_verdict,
    pooled_sd,
    pooled_seed_spread,
    seed_interval,
)


def best(values: pd.Series, metric: str) -> str:
    """Index label of the best value of `metric` (lowest, or highest for PSNR and SSIM)."""
    return values.idxmin() if LOWER_IS_BETTER[metric] else values.idxmax()


def best_of(long: pd.DataFrame, kind: str, metric: str = "hole_mse") -> str:
    """The method of `kind` ("network" or "classical") with the best mean `metric`."""
    means = long[long.kind == kind].groupby("method", sort=False)[metric].mean()
    return best(means, metric)


def best_classical_rows(summary: pd.DataFrame, by: str = "test masks") -> pd.Series:
    """The rows of a Part A summary (`seed_summary`) that are the best classical method, the
    lowest test MSE, among those scored on the same `by` (a kind of test mask; two where tied;
    none where no classical method has a score): a boolean Series, to show a table's networks
    beside the best classical method of each mask."""
    values = summary["test MSE"].where(summary.kind == "classical")
    return values.notna() & (values == values.groupby(summary[by]).transform("min"))


def split_methods(long: pd.DataFrame, by: str = "method") -> tuple[pd.DataFrame, pd.DataFrame]:
    """(networks, classical): mean metrics per method (over seeds), in first-seen order."""
    nets = long[long.kind == "network"].groupby(by, sort=False)[TABLE_METRICS].mean()
    classical = long[long.kind == "classical"].groupby(by, sort=False)[TABLE_METRICS].mean()
    return nets, classical


def seed_noise(long: pd.DataFrame, metric: str = "mse") -> tuple[float, int]:
    """Pooled seed standard deviation of `metric` over networks trained with >= 2 seeds,
    and its degrees of freedom ((nan, 0) when no network has two seeds)."""
    groups = [g[metric].tolist() for _, g in long[long.kind == "network"].groupby("method")]
    return pooled_sd(groups)


def claimed_ordering(long: pd.DataFrame, claimed: dict[str, float], metric: str = "mse") -> Ordering:
    """The study's ordering of the networks it gives a number for (`claimed`: {name: its
    value}, lowest first), tested on the networks of `long` (each a mean over its seeds) step
    by step against `long`'s own seed noise (`seed_noise`): `stats.ordering`, the one rule of
    the sections' rankings, the scorecard and the findings, at every scale."""
    nets = long[long.kind == "network"].groupby("method")[metric]
    means, seeds = nets.mean(), nets.size()
    names = sorted((m for m in claimed if m in means.index), key=lambda m: claimed[m])
    sd, df = seed_noise(long, metric)
    return ordering(names, means.to_dict(), seeds.to_dict(), sd, df)


STUDY_SCALE = "ours at the study's scale"  # the column of the committed full-profile runs
AT_STUDY_SCALE = " at the study's scale"  # a network's name, suffixed: its committed full-profile run


def seed_summary(long: pd.DataFrame, reference: dict[str, Reference] | None = None,
                 study_scale: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per (method, test masks): the study's metric (whole-image test MSE) as a
    mean with its 95% t-interval over seeds, the study's own number, ours at the study's scale
    (`scoring.at_study_scale`: mean over its seeds, NaN where none is committed), every
    other metric."""
    reference = reference or {}
    scale = (study_scale.groupby("method")["mse"].mean() if study_scale is not None
             and len(study_scale) else pd.Series(dtype=float))
    rows = []
    for (method, setting), g in long.groupby(["method", "setting"], sort=False):
        network = g.kind.iloc[0] == "network"
        mean, half = mean_ci(g["mse"].tolist())
        ref = reference.get(method)
        row = {"method": method, "kind": g.kind.iloc[0], "test masks": setting,
               "seeds": len(g) if network else "-", "test MSE": mean, "±95% CI": half,
               "study's test MSE": ref.test_mse if ref and ref.test_mse is not None else math.nan,
               STUDY_SCALE: float(scale.get(method, math.nan)) if network else math.nan}
        row |= {METRIC_LABELS[m]: g[m].mean() for m in TABLE_METRICS[1:]}
        rows.append(row | {"images": int(g["images"].iloc[0])})
    return pd.DataFrame(rows)


# The columns of `seed_summary` a section shows (the rest are one click away): the study's
# metric beside its number and ours at its scale, and the hole-only errors that compare a
# network with a classical fill.
SEED_SUMMARY_SHOWN = ["method", "seeds", "test MSE", "±95% CI", "study's test MSE", STUDY_SCALE,
                      "hole MSE", "hole PSNR (dB)"]


def with_latent_sizes(summary: pd.DataFrame, configs: dict[str, RunConfig],
                      image_size: int) -> pd.DataFrame:
    """`summary` with the latent size C·(H/8)² of each CAE run (`configs`) and its compression
    of the 3·H·W input values (the study's 16C against 3,072 at 32 px); '-' for other rows."""
    cells = (image_size // 8) ** 2  # three stride-2 convolutions
    values = 3 * image_size**2
    latent = {m: c.model.latent_channels * cells for m, c in configs.items()
              if isinstance(c.model, CAEConfig)}
    out = summary.copy()
    out.insert(1, f"latent size ({cells}C)",
               [f"{latent[m]:,}" if m in latent else "-" for m in out.method])
    out.insert(2, f"compression of {values:,}",
               [f"{values / latent[m]:.2f}x" if m in latent else "-" for m in out.method])
    return out


def gap(value: float, reference: float, metric: str) -> str:
    """'+0.12 dB' for PSNR, else the relative difference '+22%'."""
    if "psnr" in metric:
        return f"{value - reference:+.2f} dB"
    return f"{100 * (value - reference) / abs(reference):+.0f}%"


def beats(value: float, reference: float, metric: str) -> bool:
    return value < reference if LOWER_IS_BETTER[metric] else value > reference


def verdict(g: pd.DataFrame, classical: pd.DataFrame, metrics: list[str]) -> str:
    """One method's rows (`g`, mean over seeds) against the best classical method of each
    metric: "better on every metric", "worse on all N" or "worse on k of N: ..."; "-" for a
    classical method."""
    if g.kind.iloc[0] != "network":
        return "-"
    lost = [METRIC_LABELS[m] for m in metrics
            if not beats(g[m].mean(), classical[m].loc[best(classical[m], m)], m)]
    if not lost:
        return "better on every metric"
    n = len(metrics)
    return f"worse on all {n}" if len(lost) == n else f"worse on {len(lost)} of {n}: " + ", ".join(lost)


def ablation(long: pd.DataFrame) -> pd.DataFrame:
    """One row per method (networks, then the classical methods): parameters, training
    seconds, seeds, every metric (mean over seeds) with the 95% interval of hole MSE and hole
    PSNR, and the verdict against the best classical method of each metric."""
    _, classical = split_methods(long)
    rows = []
    for method, g in long.groupby("method", sort=False):
        network = g.kind.iloc[0] == "network"
        row = {"method": method, "kind": g.kind.iloc[0], "parameters": int(g["parameters"].iloc[0]),
               "training s": g["train_seconds"].mean() if network else 0.0,
               "seeds": len(g) if network else "-"}
        for m in TABLE_METRICS:
            row[METRIC_LABELS[m]] = g[m].mean()
            if m in ("hole_mse", "hole_psnr"):
                row[f"{METRIC_LABELS[m]} ±95%"] = mean_ci(g[m].tolist())[1]
        row["vs best classical"] = verdict(g, classical, TABLE_METRICS)
        rows.append(row)
    return pd.DataFrame(rows)


VARIANT_METRICS = ["hole_mae", "hole_mse", "hole_psnr", "ssim"]


def variants(levels: pd.DataFrame, reference: str) -> pd.DataFrame:
    """Part B's variant table from `scoring.occlusion_levels` rows: per occlusion level, each
    network (mean over seeds, hole MAE with its 95% interval), its parameters, training
    seconds and their ratio to `reference` (the study's ViT: equal epochs, so the step-time
    ratio), hole MAE/MSE/PSNR, SSIM, the patch-grid measure, and the verdict against the
    best classical method of each metric; then the classical methods."""
    ref_seconds = levels.loc[levels.method == reference, "train_seconds"].mean()
    rows = []
    for level, lv in levels.groupby("masks", sort=False):
        _, classical = split_methods(lv)
        for method, g in lv.groupby("method", sort=False):
            network = g.kind.iloc[0] == "network"
            row = {"masks": level, "method": method, "kind": g.kind.iloc[0],
                   "seeds": len(g) if network else "-", "parameters": int(g["parameters"].iloc[0]),
                   "training s": g["train_seconds"].mean() if network else 0.0,
                   "× seven-phase time": g["train_seconds"].mean() / ref_seconds if network else math.nan}
            for m in VARIANT_METRICS:
                row[METRIC_LABELS[m]] = g[m].mean()
            row[f"{METRIC_LABELS['hole_mae']} ±95%"] = mean_ci(g["hole_mae"].tolist())[1]
            row[METRIC_LABELS["grid"]] = g["grid"].mean() if "grid" in g else math.nan
            row["vs best classical"] = verdict(g, classical, VARIANT_METRICS)
            rows.append(row)
    return pd.DataFrame(rows)


def sweep_pivot(sweep: pd.DataFrame, metric: str = "mse") -> pd.DataFrame:
    """Mask count × method of `metric`, with the measured occluded fraction first."""
    pivot = sweep.pivot_table(index="masks", columns="method", values=metric, sort=False)
    pivot.insert(0, "occluded (measured)", sweep.groupby("masks")["occluded"].first())
    return pivot.reset_index()


def levels_table(levels: pd.DataFrame) -> pd.DataFrame:
    """Occlusion-level results as shown: level, measured occlusion, method, every metric."""
    cols = ["masks", "occluded", "method", "images", *TABLE_METRICS, *WHOLE_IMAGE_METRICS]
    cols += ["grid"] if "grid" in levels else []
    return levels[cols].rename(columns={**METRIC_LABELS, "occluded": "occluded (measured)"})


# Is a metric on a ratio scale (an error: its seed spread grows with it, so a pooled spread is
# carried as a fraction of a row's mean) or not (dB, SSIM: carried in its own units)?
RATIO_SCALE = {m: "psnr" not in m and m not in ("ssim", "grid") for m in METRIC_LABELS}


def best_classical(per_image: pd.DataFrame, metric: str) -> tuple[str, pd.Series]:
    """(the best classical method of one comparison's `scoring.per_image` rows by mean `metric`
    over the images every classical method was scored on, its per-image values by image index):
    a method too slow for every image (`Section.classical_images`) is chosen or not on the very
    images it shares with the others, and compared on all of its own."""
    classical = per_image[per_image.kind == "classical"]
    wide = classical.pivot_table(index="image", columns="method", values="value", sort=False)
    common = wide.dropna()
    name = best(common.mean() if len(common) else wide.mean(), metric)
    return name, wide[name].dropna().sort_index()


def paired_comparisons(per_image: pd.DataFrame, metric: str, n_boot: int = 2000) -> pd.DataFrame:
    """Each network against the best classical method (by mean `metric`) of its comparison, on
    the same images and masks: the mean per-image difference (network minus classical) with a
    95% interval that holds seed-to-seed variation as well as image sampling
    (`stats.seed_interval`), and its verdict: "better"/"worse" only when the interval excludes
    zero, else "tie (within noise)". The seed spread is the part's pooled one
    (`stats.pooled_seed_spread` over its networks with several seeds: one estimate with all
    their df, not 1 or 2 df per network; for an error a fraction of each network's own mean,
    for PSNR and SSIM in their own units, `RATIO_SCALE`), divided by each network's own seed
    count; its "seed spread" column says "pooled (df)".

    per_image: rows of `scoring.per_image` with a "comparison" column (e.g. "2.2 · 10×10"); a
    network run (its "run" column) already compared on the same "setting" (data and masks)
    in an earlier comparison is not compared again, so a run shared by several studies
    counts once. `n_boot` is unused (kept for callers); the interval is analytic."""
    lower = LOWER_IS_BETTER[metric]
    pending, seen = [], set()
    for comparison, g in per_image.groupby("comparison", sort=False):
        cls, cls_series = best_classical(g, metric)
        for method, net in g[g.kind == "network"].groupby("method", sort=False):
            setting = net["setting"].iloc[0] if "setting" in net else None
            runs = frozenset((r, setting) for r in net["run"])
            if runs & seen:
                continue
            seen |= runs
            wide = net.pivot_table(index="seed", columns="image", values="value").sort_index(axis=1)
            shared = wide.columns.intersection(cls_series.index)  # the images both have
            net_values = wide[shared].to_numpy()
            pending.append((comparison, method, cls, net_values, cls_series[shared].to_numpy(),
                            net["train_seconds"].groupby(net["seed"]).first().mean(),
                            frozenset(net["run"])))
    # the pool counts each network's seeds once, however many comparisons it appears in
    # (Part B compares each network on 2 test sets x 3 occlusion levels)
    first: dict[frozenset, Any] = {}
    for *_, net_values, _, _, runs in pending:
        first.setdefault(runs, net_values)
    spread = pooled_seed_spread([v.mean(axis=1).tolist() for v in first.values()],
                                relative=RATIO_SCALE[metric])
    df = spread.df
    rows = []
    for comparison, method, cls, net_values, cls_values, seconds, _ in pending:
        k = len(net_values)
        iv = seed_interval(net_values - cls_values, pooled_sd=spread.sd(net_values.mean()),
                           pooled_df=df)  # the part's pooled seed spread, for every network
        rows.append({"comparison": comparison, "network": method, "classical": cls,
                     "metric": METRIC_LABELS[metric], "network mean": net_values.mean(),
                     "classical mean": cls_values.mean(), "difference": iv.mean,
                     "low": iv.low, "high": iv.high, "verdict": paired_verdict(iv.low, iv.high, lower),
                     "seeds": k, "seed spread": (f"pooled ({df} df)" if "pooled" in iv.noise else
                                                 "its own" if "seeds" in iv.noise else "unknown"),
                     "noise": iv.noise, "images": net_values.shape[1], "training s": seconds})
    return pd.DataFrame(rows)


def verdict_counts(paired: pd.DataFrame) -> dict[str, int]:
    """{"better": k, "worse": l, "tie (within noise)": m} over the rows of `paired_comparisons`."""
    counts = paired["verdict"].value_counts()
    return {v: int(counts.get(v, 0)) for v in ("better", "worse", TIE)}


def paired_view(paired: pd.DataFrame) -> pd.DataFrame:
    """`paired_comparisons` rows of one part as shown (8 columns, fits 1024 px): comparison,
    network with its seed count (``†``: one seed, its seed spread the part's pooled one), best
    classical method, the two means, the difference with its interval, the verdict and the
    network's training seconds. The metric label is the rows' own (one metric per part)."""
    metrics = paired.metric.unique()
    if len(metrics) > 1:
        raise ValueError(f"paired_view: one metric at a time, not {', '.join(metrics)}: "
                         "select one part's rows")
    metric = metrics[0] if len(metrics) else "difference"
    seeds = ([f"{k} seed{'s' if k > 1 else ''}" + ("†" if k == 1 and str(sp).startswith("pooled") else "")
              for k, sp in zip(paired["seeds"], paired["seed spread"])]
             if "seed spread" in paired else [""] * len(paired))
    return pd.DataFrame({
        "comparison": paired.comparison, "network": [f"{n} · {s}" if s else n for n, s in
                                                      zip(paired.network, seeds)],
        "best classical": paired.classical, f"network {metric}": paired["network mean"],
        f"classical {metric}": paired["classical mean"],
        "difference [95% interval]": [f"{r.difference:+.3g} [{r.low:+.3g}, {r.high:+.3g}]"
                                      for r in paired.itertuples()],
        "verdict": paired.verdict, "training s": paired["training s"]})


def printed_decimals(value: float) -> int:
    """How many decimals a number as written has (0.008868 -> 6; 186371 -> 0): the shortest
    form that reads back as the same float, as the params files hold the study's numbers."""
    text = repr(float(value))
    if "e" in text or "E" in text:
        mantissa, exp = text.lower().split("e")
        frac = mantissa.split(".")[1].rstrip("0") if "." in mantissa else ""
        return max(len(frac) - int(exp), 0)
    decimals = text.split(".")[1].rstrip("0") if "." in text else ""
    return len(decimals)


def scorecard_view(card: pd.DataFrame) -> pd.DataFrame:
    """The scorecard (`Conclusions.scorecard`) as shown: the study's test MSE as the study
    printed it (0.008868, its own decimals) and ours, in this profile and at its scale, with
    as many decimals; parameter counts as integers; measured fractions (occlusion) and the
    ViT's claims to 4 significant digits; '-' where there is no number. The ratios stay
    numbers."""
    value_cols = [c for c in card.columns
                  if c == "study" or c.startswith("ours (") or c == STUDY_SCALE]
    out = card.copy()
    for col in value_cols:
        out[col] = out[col].astype(object)
    for i, r in card.iterrows():
        if r.quantity == "parameters":
            fmt = "{:,.0f}"
        elif r.quantity == "test MSE" and pd.notna(r.study):
            fmt = f"{{:.{printed_decimals(r.study)}f}}"
        else:
            fmt = "{:.4g}"
        for col in value_cols:
            v = r[col]
            out.at[i, col] = "-" if v is None or (isinstance(v, float) and math.isnan(v)) else fmt.format(v)
    return out


def recorded_dataset(study_scale: pd.DataFrame) -> str:
    """The data set the runs at the study's scale (`scoring.at_study_scale`) were trained and
    tested on, as their config.json records it ('' when none is committed)."""
    if study_scale is None or study_scale.empty or "dataset" not in study_scale:
        return ""
    return ", ".join(dict.fromkeys(str(d) for d in study_scale.dataset))


def seed_values(study_scale: pd.DataFrame, method: str, metric: str = "mse") -> list[float]:
    """`metric` of each committed seed of `method` at the study's scale (`scoring.at_study_scale`)."""
    if study_scale is None or study_scale.empty:
        return []
    return study_scale.loc[study_scale.method == method, metric].tolist()


def verdicts_by_metric(paired: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """`paired_comparisons` of the same networks on several metrics ({metric: table}) side by
    side: one row per network and comparison, with its seeds, and per metric the best
    classical method on that metric (it may differ between metrics), the two means, the
    difference with its 95% interval and the verdict."""
    out = None
    for metric, table in paired.items():
        label = METRIC_LABELS[metric]
        part = pd.DataFrame({
            "comparison": table.comparison, "network": table.network, "seeds": table.seeds,
            "seed spread": table["seed spread"], f"best classical ({label})": table.classical,
            f"network {label}": table["network mean"], f"classical {label}": table["classical mean"],
            f"{label} difference [95%]": [f"{r.difference:+.3g} [{r.low:+.3g}, {r.high:+.3g}]"
                                          for r in table.itertuples()],
            f"{label} verdict": table.verdict})
        keys = ["comparison", "network", "seeds", "seed spread"]
        out = part if out is None else out.merge(part, on=keys, how="outer")
    return out if out is not None else pd.DataFrame()


def with_patch_grid(verdicts: pd.DataFrame, levels: pd.DataFrame, network: str) -> pd.DataFrame:
    """`verdicts_by_metric` rows of one network with its patch-grid measure in each comparison
    (`levels`: `scoring.occlusion_levels` rows with a "comparison" column)."""
    grid = levels[levels.method == network].set_index("comparison")["grid"]
    return verdicts.assign(**{METRIC_LABELS["grid"]: verdicts.comparison.map(grid)})


def by_network(paired: pd.DataFrame) -> pd.DataFrame:
    """`paired_comparisons` rows (with "part" and "notebook") grouped by distinct network: one
    row per (part, notebook, network) with how many of its comparisons are better, worse and
    tied, its overall verdict ("better" or "worse" only when every comparison says so, else
    "mixed" or "tied"), its first comparison (Part B: held-out images at the first occlusion
    level) as the shown difference, in % of the classical method's mean too, and its seeds,
    seed spread and training seconds. A network tested in several settings counts once."""
    rows = []
    for (part, notebook, network), g in paired.groupby(["part", "notebook", "network"], sort=False):
        counts = g.verdict.value_counts()
        n = len(g)
        better, worse = int(counts.get("better", 0)), int(counts.get("worse", 0))
        verdict = ("better" if better == n else "worse" if worse == n else
                   TIE if counts.get(TIE, 0) == n else "mixed")
        first = g.iloc[0]
        scale = 100 / abs(first["classical mean"])
        rows.append({"part": part, "notebook": notebook, "network": network,
                     "comparisons": n, "better": better, "worse": worse, "tied": n - better - worse,
                     "verdict": verdict, "comparison": first.comparison, "metric": first.metric,
                     "classical": first.classical, "classical mean": first["classical mean"],
                     "difference": first.difference, "low": first.low, "high": first.high,
                     "relative %": first.difference * scale, "relative low %": first.low * scale,
                     "relative high %": first.high * scale,
                     "seeds": first.get("seeds", 1), "seed spread": first.get("seed spread", ""),
                     "images": first.get("images", 0), "training s": first["training s"]})
    return pd.DataFrame(rows)


def margins_side_by_side(margins: pd.DataFrame, metric: str = "hole_psnr") -> pd.DataFrame:
    """`crossover.margins` rows of several networks (a "method" column) as one row per mask
    setting: its shape, setting and hole width, the best classical method, and per network the
    margin over it with its 95% interval (dB for PSNR)."""
    unit = " dB" if "psnr" in metric else ""
    out = None
    for method, g in margins.groupby("method", sort=False):
        col = pd.DataFrame({
            "shape": g["shape"], "setting": g["setting"], "hole width (px)": g["hole_width"]
            if "hole_width" in g else g["width"], "best classical": g["best_classical"],
            f"{method}: margin [95%]": [f"{r[f'{metric}_margin']:+.2f}{unit} [{r[f'{metric}_low']:+.2f}, "
                                        f"{r[f'{metric}_high']:+.2f}]" for _, r in g.iterrows()]})
        keys = ["shape", "setting", "hole width (px)", "best classical"]
        out = col if out is None else out.merge(col, on=keys, how="outer", sort=False)
    return out.reset_index(drop=True) if out is not None else pd.DataFrame()


def headline_networks(networks: pd.DataFrame, own: dict[str, str],
                      at_scale: pd.DataFrame | None = None) -> pd.DataFrame:
    """The rows of `by_network` the findings' compact figure draws: per part, the study's own
    network and the best (or closest) other one; and Part A's at the study's scale (the same
    two, named "... at the study's scale"). The full per-network figure is one click away."""
    picked = []
    for frame, suffix in ((networks, ""), (at_scale, AT_STUDY_SCALE)):
        if frame is None or frame.empty:
            continue
        for part, g in frame.groupby("part", sort=False):
            best = g.sort_values("relative %").iloc[0]
            rows = [g[g.network == own.get(part)], g[g.network == best.network]]
            chosen = pd.concat(rows).drop_duplicates(["notebook", "network"])
            picked.append(chosen.assign(network=chosen.network + suffix))
    return pd.concat(picked, ignore_index=True) if picked else networks.iloc[:0]
