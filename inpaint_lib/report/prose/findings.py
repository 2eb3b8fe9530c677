"""The conclusions notebook's sentences: each study and test set against the classical
methods, the mask sweep, the headline count and what the verdict is about."""

from __future__ import annotations

import pandas as pd

from ..tables import STUDY_SCALE, beats
from .common import plural


def verdict_scope(profile: str, description: str) -> str:
    """What a network-vs-classical verdict is about: '' at the study's settings, else the
    profile's own description of what it reduced."""
    if profile == "full":
        return ""
    return (f"These are the networks of the `{profile}` profile ({description}). The verdict is "
            "about these reduced networks, not about the architectures at the study's settings: "
            "`make report PROFILE=full` trains those.")



# The scale each part's metrics are computed on (images as the networks see them).
SCALE = {"A": "on the [-1, 1] pixel scale", "B": "on the [0, 1] pixel scale"}
PART_NAME = {"A": "Part A (the CAE on CIFAR-10)", "B": "Part B (the ViT on pets and ships)"}


def link(text: str, notebook: str) -> str:
    """A Markdown link to where a notebook starts in the report (`report.notebook_anchor`;
    `notebook`: its file stem or params file name)."""
    from ..build import notebook_anchor

    return f"[{text}](#{notebook_anchor(notebook)})"


def _interval(r: pd.Series) -> str:
    return f"{r.difference:+.3g} (95% interval {r.low:+.3g} to {r.high:+.3g})"


def paired_part(paired: pd.DataFrame, part: str) -> str:
    """One sentence: how many of a part's comparisons the networks win, lose and tie on the
    paired test, and the largest win (or the smallest loss)."""
    from ..tables import verdict_counts

    p = paired[paired.part == part]
    if p.empty:
        return ""
    c = verdict_counts(p)
    metric = p.metric.iloc[0]
    # the network with the most negative difference in "better" terms: lower-is-better metrics
    # here (hole MSE, hole MAE), so the smallest difference is the best network
    top = p.loc[p.difference.idxmin()]
    pct = 100 * top.difference / top["classical mean"]
    what = ("the best" if top.verdict == "better" else "even the closest")
    return (f"**{PART_NAME[part]}:** of {plural(len(p), 'comparison')} of a trained network with "
            f"the best classical method on the same images and masks, the network is better in "
            f"**{c['better']}**, worse in **{c['worse']}**, and tied within noise in "
            f"**{c['tie (within noise)']}** ({metric} {SCALE[part]}; per-image differences, "
            f"95% bootstrap interval over images and seeds). {what.capitalize()}, "
            f"**{top.network}** ({top.comparison}), differs from {top.classical} by "
            f"{_interval(top)}, {pct:+.0f}%, after {top['training s']:,.0f} s of training.")


def _orderings(scorecard: pd.DataFrame) -> str:
    rows = scorecard[scorecard["study's claim holds"].str.startswith("ordering")]
    by = rows.groupby(["section", "notebook"], sort=False)["study's claim holds"].first()
    holds = [link(s, nb) for (s, nb), v in by.items() if v.endswith(" holds")]
    fails = [link(s, nb) for (s, nb), v in by.items() if not v.endswith(" holds")]
    parts = []
    if holds:
        parts.append("holds in " + ", ".join(holds))
    if fails:
        parts.append("does **not** hold in " + ", ".join(fails))
    vit = scorecard[scorecard["study's claim holds"].str.contains(r": (?:yes|no) \(", regex=True)
                    & ~scorecard.quantity.str.startswith("occluded")]
    claims = [c.rsplit(" (", 1)[0].replace(": no", ": **no**") for c in vit["study's claim holds"]]
    if not parts and not claims:
        return ""
    text = ("its ordering of runs by test MSE " + "; it ".join(parts) + " (same runs, our "
            "reduced profile)") if parts else ""
    if claims:
        text += ("; " if text else "") + "its ViT's claims: " + "; ".join(claims)
    return "**The study's claims:** " + text + "."


def _distance(scorecard: pd.DataFrame, profile: str, conclusions: str) -> str:
    mse = scorecard[scorecard.quantity == "test MSE"]
    if mse.empty:
        return ""
    ours = f"ours ({profile})"
    first = mse.iloc[0]
    worst = mse.loc[mse["ours / study"].idxmax()]
    return (f"**How far from the study:** our test MSE is {mse['ours / study'].min():.1f}x to "
            f"{mse['ours / study'].max():.1f}x the study's: {first.run} {first[ours]:.4f} against "
            f"{first.study:.4f} ({first['ours / study']:.1f}x), {worst.run} "
            f"{worst[ours]:.4f} against {worst.study:.4f} ({worst['ours / study']:.1f}x); "
            f"see the {link('scorecard', conclusions)}.")


def _occlusion(scorecard: pd.DataFrame, conclusions: str) -> str:
    """The study's occlusion percentages that its own masks, measured with overlaps counted
    once, do not reach (the scorecard's occlusion rows)."""
    if scorecard.empty:
        return ""
    rows = scorecard[scorecard.quantity.str.startswith("occluded")
                     & scorecard["study's claim holds"].str.startswith("no")]
    rows = rows.drop_duplicates("quantity")
    if rows.empty:
        return ""
    naive = rows.quantity.str.extract(r"naive ([^)]*)\)")[0].fillna("")
    pairs = ", ".join(f"{n or format(r.study, '.0%')} {'averages' if '-' in n else 'is'} "
                      f"{r[STUDY_SCALE]:.1%}"
                      for n, (_, r) in zip(naive, rows.iterrows()))
    return ("**Occlusion:** the study's percentages (N·k²/HW) count overlapping squares twice; "
            f"its own masks measured with overlaps once: {pairs} (the "
            f"{link('scorecard', conclusions)}).")


def sweep_sentence(sweep: pd.DataFrame) -> str:
    """The mask sweep in one sentence: the network's whole-image MSE at the fewest and most
    masks, and at how many counts the best classical method beats it."""
    net = sweep[sweep.kind == "network"].sort_values("masks")
    first, last = net.iloc[0], net.iloc[-1]
    lost = sum(not beats(g[g.kind == "network"].mse.iloc[0], g[g.kind == "classical"].mse.min(),
                         "mse") for _, g in sweep.groupby("masks"))
    grows = last.mse > first.mse
    return (f"the CAE's whole-image test MSE goes from {first.mse:.4g} with 1 mask "
            f"({first.occluded:.1%} occluded) to {last.mse:.4g} with {int(last.masks)} "
            f"({last.occluded:.1%}), {last.mse / first.mse:.1f}x: "
            + ("it grows with the masks, as the study found" if grows else
               "it does **not** grow, unlike the study's")
            + f"; the best classical method beats it at {lost} of {len(net)} mask counts")


def crossover_sentence(rows: list[dict]) -> str:
    """The crossover section in one sentence (`rows`: `crossover.margins` records, as saved in
    ``crossover.json``): in how many mask settings the photo network beats the best classical
    method on hole PSNR (interval above zero), from which hole width, its best and worst margin."""
    if not rows:
        return ""
    def margin(r: dict) -> str:
        return (f"{r['shape']} {r['setting']}: {r['hole_psnr_margin']:+.2f} dB "
                f"[{r['hole_psnr_low']:+.2f}, {r['hole_psnr_high']:+.2f}]")
    won = [r for r in rows if r["hole_psnr_low"] > 0]
    lost = [r for r in rows if r["hole_psnr_high"] < 0]
    best = max(rows, key=lambda r: r["hole_psnr_margin"])
    worst = min(rows, key=lambda r: r["hole_psnr_margin"])
    where = (f", from holes about {min(r['width'] for r in won):.0f} px wide" if won else "")
    return (f"the photo network beats the best classical method on hole PSNR in {len(won)} of "
            f"{len(rows)} mask settings{where}, loses in {len(lost)} (best {margin(best)}; worst "
            f"{margin(worst)}; paired per image, 95% interval)")


def findings(paired: pd.DataFrame, scorecard: pd.DataFrame, profile: str, description: str,
             conclusions: str, sweep: str = "", sweep_notebook: str = "",
             crossover: str = "", crossover_notebook: str = "") -> str:
    """The report's opening: at most 8 one-sentence bullets, each with its number and a link
    to the notebook that shows it (`conclusions`, `sweep_notebook`: params file names; written
    by the conclusions notebook, placed by the report before the contents)."""
    scores = scorecard[~scorecard.quantity.str.startswith("occluded")] if len(scorecard) else \
        scorecard  # occlusion is measured at the study's settings without a full-profile run
    full = scores[STUDY_SCALE].notna().sum() if len(scores) else 0
    bullets = [
        (f"**What ran:** the `{profile}` profile ({description})." if profile != "full" else
         "**What ran:** the `full` profile, the study's own settings."),
        _orderings(scorecard),
        " ".join(filter(None, [_distance(scorecard, profile, conclusions),
                               _occlusion(scorecard, conclusions)])),
        f"**Mask sweep:** {sweep} ({link('section', sweep_notebook)})." if sweep else "",
        paired_part(paired, "A") + " " + link("Details", conclusions) + ".",
        paired_part(paired, "B") + " " + link("Details", conclusions) + "."
        if (paired.part == "B").any() else "",
        (f"**Hole size and shape (beyond the study):** on held-out pet photos at their own "
         f"resolution, {crossover} ({link('section', crossover_notebook)})." if crossover else ""),
        (f"**At the study's scale:** {plural(int(full), 'number')} of the scorecard measured with "
         "the `full` profile." if full else
         "**At the study's scale:** nothing here is measured at the study's own scale (no "
         "full-profile score files under `results/full*/` in this checkout); "
         "`make report PROFILE=full` trains it."),
    ]
    return "\n".join(["## Findings", "", *[f"- {b}" for b in bullets if b.strip()]])



def _distance_in_short(rows: pd.DataFrame, profile: str) -> str:
    """A section's test MSEs against the study's: the ratio (or its range) and whether the
    study's ordering of its runs holds (scorecard rows of one notebook)."""
    mse = rows[rows.quantity == "test MSE"]
    if mse.empty:
        return ""
    ratio = mse["ours / study"]
    times = (f"{ratio.iloc[0]:.1f}x" if len(ratio) == 1 else
             f"{ratio.min():.1f}x to {ratio.max():.1f}x")
    claim = mse["study's claim holds"].iloc[0]
    order = (f"; the study's {claim}" if claim.startswith("ordering") else "")
    return (f"Our `{profile}` test MSE is {times} the study's "
            f"({plural(len(mse), 'run')}){order}.")


def _claims_in_short(rows: pd.DataFrame) -> str:
    """The ViT's headline claims tested in a section, each as 'claim: yes/no'."""
    claims = rows[rows["study"].isna()]["study's claim holds"].map(lambda c: c.rsplit(" (", 1)[0])
    return ("The study's claims tested here: " + "; ".join(claims) + ".") if len(claims) else ""


def _paired_in_short(rows: pd.DataFrame, part: str) -> str:
    """A section's networks against the best classical method: the three counts and the
    closest (or best) network with its interval."""
    if rows.empty:
        return ""
    from ..tables import verdict_counts

    c = verdict_counts(rows)
    top = rows.loc[rows.difference.idxmin()]
    return (f"Against the best classical method on the same images and masks ({top.metric} "
            f"{SCALE[part]}), this section's networks are better in {c['better']}, worse in "
            f"{c['worse']} and tied in {c['tie (within noise)']} of "
            f"{plural(len(rows), 'comparison')}; {'best' if top.verdict == 'better' else 'closest'}"
            f": {top.network} ({top.comparison.split(' · ')[-1]}), {_interval(top)}.")


def section_summaries(paired: pd.DataFrame, scorecard: pd.DataFrame, profile: str,
                      extra: dict[str, str] | None = None) -> dict[str, str]:
    """Each section's closing line, keyed by notebook (file stem): how far its numbers are
    from the study's and whether the study's ordering and claims hold (from the scorecard),
    and how its networks fare against inpainting without training (from the paired test);
    `extra`: further sentences for a notebook (e.g. the crossover's). The report places each
    at the end of its section (`report.record_summaries`)."""
    extra = extra or {}
    cards = scorecard[~scorecard.quantity.str.startswith("occluded")] if len(scorecard) else scorecard
    notebooks = list(dict.fromkeys([*cards.get("notebook", []), *paired.get("notebook", []),
                                    *extra]))
    out = {}
    for nb in notebooks:
        mine = paired[paired.notebook == nb] if "notebook" in paired else paired.iloc[:0]
        card = cards[cards.notebook == nb] if len(cards) else cards
        text = " ".join(filter(None, [
            _distance_in_short(card, profile) if len(card) else "",
            _claims_in_short(card) if len(card) else "",
            _paired_in_short(mine, mine.part.iloc[0]) if len(mine) else "",
            extra.get(nb, "")]))
        if text:
            out[nb] = f"**In short.** {text}"
    return out
