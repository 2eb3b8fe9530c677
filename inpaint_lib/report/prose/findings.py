"""The report's opening and each section's closing line: the findings (what a reader new to
the report needs from its first screen: whether the study's orderings hold, how far our
numbers are from the study's and why, whether a trained network beats inpainting without
training in each part, what was not run at the study's scale, and what to use on one's own
photo), the Terms they use, and the "In short" line under each section."""

from __future__ import annotations

import math

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
PART_NAME = {"A": "Part A (the CAE on CIFAR-10)", "B": "Part B (the ViT on pets)"}
TERMS = "terms"  # the id the report gives the Terms heading (`build.anchor`)
COMMAND = "python -m inpaint_lib inpaint photo.jpg --mask mask.png --out filled.png"


def link(text: str, notebook: str) -> str:
    """A Markdown link to where a notebook starts in the report (`report.notebook_anchor`;
    `notebook`: its file stem or params file name)."""
    from ..build import notebook_anchor

    return f"[{text}](#{notebook_anchor(notebook)})"


def _interval(r: pd.Series) -> str:
    return f"{r.difference:+.3g} (95% interval {r.low:+.3g} to {r.high:+.3g})"


def _pct(r: pd.Series) -> str:
    """A network's difference in % of the classical method's mean, with its interval."""
    return f"{r['relative %']:+.0f}% [{r['relative low %']:+.0f}%, {r['relative high %']:+.0f}%]"


def _seeds(r: pd.Series) -> str:
    """'3 seeds', '1 seed†' (the part's pooled seed spread), or '1 seed, images only' (no
    seed spread known: the interval holds image sampling alone)."""
    k = int(r.seeds)
    spread = str(r.get("seed spread", ""))
    mark = ("†" if k == 1 and spread.startswith("pooled") else
            ", images only: no seed spread known yet" if spread == "unknown" else "")
    return plural(k, "seed") + mark


def _seconds(s: float) -> str:
    return f"{s:,.0f} s" if s < 120 else f"{s / 60:,.0f} min"


def _section_number(section: str) -> str:
    return section.split()[0] if section[:1].isdigit() else section


def orderings(scorecard: pd.DataFrame) -> str:
    """The study's orderings of its runs by test MSE, each spelled out (best first), whether it
    holds in this profile and at the study's scale; then its ViT's claims."""
    rows = scorecard[(scorecard.quantity == "test MSE")
                     & scorecard["study's claim holds"].str.startswith("ordering")]
    parts = []
    for (section, notebook), g in rows.groupby(["section", "notebook"], sort=False):
        order = " < ".join(g.sort_values("study").run)
        claim = g["study's claim holds"].iloc[0]
        here = "holds" if "test MSE holds" in claim else "does **not** hold"
        scale = claim.split("at the study's scale: ")[-1] if "at the study's scale" in claim else ""
        at_scale = ("" if not scale else
                    ", and at its scale" if scale == "holds" else
                    ", but **not** at its scale" if scale == "does not hold" else
                    f"; not yet testable at its scale ({scale})")
        topic = notebook.split("_", 1)[-1]
        parts.append(f"{link(_section_number(section) + ' ' + topic, notebook)}: {order}: "
                     f"{here} here{at_scale}")
    vit = scorecard[scorecard["study's claim holds"].str.contains(r": (?:yes|no) \(", regex=True)
                    & ~scorecard.quantity.str.startswith("occluded")]
    claims = [c.rsplit(" (", 1)[0].replace(": no", ": **no**") for c in vit["study's claim holds"]]
    if not parts and not claims:
        return ""
    text = ("**The study's orderings** (test MSE, lower is better, each network on its own "
            "training masks): " + "; ".join(parts) + "." if parts else "")
    if claims:
        text += " Its ViT's claims: " + "; ".join(claims) + "."
    return text.strip()


def distance(scorecard: pd.DataFrame, profile: str, gap: dict, conclusions: str,
             study_spread: tuple[float, int] = (math.nan, 0), done: tuple[int, int] = (0, 0)) -> str:
    """How far our test MSE is from the study's, at the study's scale and in this profile,
    and why (`gap`: {"epochs": (ours, the study's), "train": (ours, the study's or None)};
    `study_spread`: (half-range / mean, how many runs) of the study's repeated runs of one
    configuration; `done`: (our runs at its scale, planned))."""
    mse = scorecard[scorecard.quantity == "test MSE"]
    if mse.empty:
        return ""
    ours = f"ours ({profile})"
    worst = mse.loc[mse["ours / study"].idxmax()]
    first = mse.iloc[0]
    epochs, train = gap.get("epochs"), gap.get("train")
    why = []
    if epochs and epochs[0] != epochs[1]:
        why.append(f"{epochs[0]} of the study's {epochs[1]} epochs")
    if train and train[1] and train[0] != train[1]:
        why.append(f"{train[0]:,} of its {train[1]:,} training images")
    reason = (f", because this profile trains {' on '.join(why)}" if why else "")
    scale = mse.dropna(subset=[STUDY_SCALE])
    half, runs = study_spread
    if len(scale):
        at = scale["at scale / study"]
        configs = scale.drop_duplicates(STUDY_SCALE)  # the baseline's four names are one run
        base = scale[scale[STUDY_SCALE] == scale[STUDY_SCALE].iloc[0]]
        lo, hi = base.study.min(), base.study.max()
        value = base[STUDY_SCALE].iloc[0]
        where = ("within" if lo <= value <= hi else "below" if value < lo else "above")
        repeated = (f"; the study's {runs} runs of that configuration gave {lo:.4f} to {hi:.4f} "
                    f"(±{half:.0%}), ours is {where} that range" if len(base) > 1 and runs > 1 else "")
        trained = (f"all {done[1]} runs planned" if done[0] == done[1] and done[1]
                   else f"{done[0]} of the {done[1]} runs planned so far")
        lead = (f"**How far from the study, and why:** at the study's scale ({trained}, trained on "
                f"this CPU: "
                f"{plural(len(configs), 'configuration')}) our test MSE is {at.min():.2f}x to "
                f"{at.max():.2f}x the study's numbers for the same configurations ({base.run.iloc[0]} "
                f"{value:.4f}{repeated}). ")
    else:
        lead = ("**How far from the study, and why:** nothing is trained at the study's scale in "
                "this checkout yet (`make study-scale`). ")
    return (lead + f"In the `{profile}` profile shown below it is {mse['ours / study'].min():.1f}x "
            f"to {mse['ours / study'].max():.1f}x ({first.run} {first[ours]:.4f}; {worst.run} "
            f"{worst['ours / study']:.1f}x){reason}; the {link('scorecard', conclusions)} has "
            "every number.")


def part_verdict(networks: pd.DataFrame, part: str, study_network: str, conclusions: str,
                 at_scale: pd.DataFrame | None = None) -> str:
    """One part's networks against inpainting without training, counting distinct networks
    (`tables.by_network`; a network tested in several settings counts once): how many beat
    the best classical method, by how much (in % of its error) and at what training cost;
    where the study's own network stands; at the study's scale, where measured."""
    p = networks[networks.part == part]
    if p.empty:
        return ""
    n = len(p)
    won = p[p.verdict == "better"].sort_values("relative %")
    lost = int((p.verdict == "worse").sum())
    metric = p.metric.iloc[0]
    cls = " / ".join(dict.fromkeys(p.classical))
    images = int(p.images.max()) if "images" in p and p.images.max() else 0
    on = f"the same {images:,} test images and masks" if images else "the same images and masks"
    text = (f"**{PART_NAME[part]}, against inpainting without training** ({term(metric)}, lower "
            f"is better, on {on}): of {plural(n, 'trained network')}, "
            f"**{len(won)}** beat{'s' if len(won) == 1 else ''} the best classical method "
            f"({cls}), {lost} {'is' if lost == 1 else 'are'} worse, {n - len(won) - lost} tied or "
            "mixed.")
    top = won.iloc[0] if len(won) else p.sort_values("relative %").iloc[0]
    where = ("" if top.comparisons == 1 else
             f" (better in all {top.comparisons} of its settings)" if len(won) else
             f" ({top.comparison.split(' · ')[-1]})")
    text += (f" {'Best' if len(won) else 'Closest'}: **{term(top.network)}**, {_pct(top)}{where}, "
             f"{_seeds(top)}, after {_seconds(top['training s'])} of training in this profile.")
    own = p[p.network == study_network]
    if len(own):
        o = own.iloc[0]
        text += (f" The study's own network: {o.verdict if o.verdict != 'mixed' else 'mixed'}, "
                 f"{_pct(o)}, after {_seconds(o['training s'])} of training in this profile.")
    if at_scale is not None and len(at_scale):
        won_scale = at_scale[at_scale.verdict == "better"].sort_values("relative %")
        top = won_scale.iloc[0] if len(won_scale) else at_scale.sort_values("relative %").iloc[0]
        name = (f"the study's own CAE ({top.network})" if top.network == study_network
                else f"the {top.network}")
        text += (f" At the study's scale (committed runs): {len(won_scale)} of "
                 f"{plural(len(at_scale), 'network')} better; {'best' if len(won_scale) else 'closest'}: "
                 f"{name}, {_pct(top)}, {_seeds(top)}, after {_seconds(top['training s'])} of "
                 "training")
        own_scale = at_scale[at_scale.network == study_network]
        if len(own_scale) and top.network != study_network:
            o = own_scale.iloc[0]
            text += f"; the study's own CAE: {o.verdict}, {_pct(o)}, {_seeds(o)}"
        text += "."
    return text + f" {link('Details', conclusions)}."


def photo_advice(rows: list[dict], network: str, notebook: str, images: int = 0) -> str:
    """What to use on one's own photo, by hole size, from the photo network's crossover table
    (`crossover.margins` records: hole-PSNR margin over the best classical method with its
    interval), and the command that chooses per hole."""
    if not rows:
        return ""
    def setting(r: dict) -> str:
        return f"{r['shape'].replace('one box', 'a box')} {r['setting']}"
    key = lambda r: (r["shape"] == "strokes", r.get("hole_width", r["width"]))
    won = sorted((r for r in rows if r["hole_psnr_low"] > 0), key=key)
    rest = sorted((r for r in rows if r["hole_psnr_low"] <= 0), key=key)
    classical = " / ".join(dict.fromkeys(r["best_classical"] for r in rows))
    def span(rs: list[dict]) -> str:
        m = [r["hole_psnr_margin"] for r in rs]
        return f"{min(m):+.2f} to {max(m):+.2f} dB" if len(m) > 1 else f"{m[0]:+.2f} dB"
    photos = f"{images:,} held-out pet photos" if images else "held-out pet photos"
    text = f"**On your own photo** ({term('hole PSNR')} in dB, higher is better, on {photos}): "
    if rest:
        text += (f"use {classical} for {', '.join(setting(r) for r in rest)} (the network is "
                 f"{span(rest)} there, not better); ")
    if won and not rest:
        shapes = {}
        for r in won:
            shapes.setdefault(r["shape"].replace("one box", "boxes"), []).append(r["setting"])
        every = "; ".join(f"{k} {v[0]}" + (f" to {v[-1]}" if len(v) > 1 else "") for k, v in shapes.items())
        text += (f"the {network} (a {term('photo network', 'photo network')}: a CAE trained on "
                 f"photos, not Part B's ViT) beats {classical} on every hole measured ({every}), by "
                 f"{span(won)}. ")
    elif won:
        text += (f"use the {network} for {', '.join(setting(r) for r in won)} ({span(won)} over "
                 f"{classical}). ")
    return (text + f"`{COMMAND}` measures each hole, weighs that table with copies of your "
            f"holes on your own photo, picks per hole and says why ({link('section', notebook)}).")


def not_at_scale(part_b: str, part_a_done: tuple[int, int]) -> str:
    """What was not run at the study's scale in this checkout."""
    done, planned = part_a_done
    part_a = ("all of them are" if done == planned else f"{done} of them {'is' if done == 1 else 'are'}")
    rest = "" if done == planned else " (`make study-scale` trains the rest)"
    return ("**Not at the study's scale:** " + (f"{part_b}. " if part_b else "")
            + f"Part A: {planned} runs cover every number the study reports; {part_a} trained "
            f"and committed{rest}.")


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


def findings(paired: pd.DataFrame, networks: pd.DataFrame, scorecard: pd.DataFrame,
             profile: str, conclusions: str, gap: dict, study_networks: dict[str, str],
             study_spread: tuple[float, int] = (math.nan, 0), at_scale: pd.DataFrame | None = None,
             photo: str = "", not_run: str = "", sweep: str = "", sweep_notebook: str = "",
             done: tuple[int, int] = (0, 0)) -> str:
    """The report's opening: at most 8 one-sentence bullets, each with its numbers and a link
    to the notebook that shows it, metrics named in words, then the Terms they use.
    (`conclusions`, `sweep_notebook`: params file names; written by the conclusions notebook,
    placed by the report before the contents.)"""
    bullets = [
        orderings(scorecard),
        distance(scorecard, profile, gap, conclusions, study_spread, done),
        part_verdict(networks, "A", study_networks.get("A", ""), conclusions, at_scale),
        part_verdict(networks, "B", study_networks.get("B", ""), conclusions),
        photo,
        not_run,
        f"**Mask sweep:** {sweep} ({link('section', sweep_notebook)})." if sweep else "",
    ]
    lede = (f"What the {term(profile + ' profile', 'profile')} of this report found. A network is "
            f"*better* or *worse* than a {term('classical method', 'classical methods')} (one that "
            "needs no training) only where the 95% interval of the difference, over the same images "
            "and masks and over its training seeds, excludes zero. Hover a dotted word for its "
            f"meaning; all of them: [Terms](#{TERMS}).")
    return "\n".join(["## Findings", "", lede, "", *[f"- {b}" for b in bullets if b.strip()]])


# The report's own words, defined once: the Terms block lists them, `term` puts one on hover.
DEFINITIONS = {
    "profile": ("how much of the study is run: `quick` trains fewer images for fewer epochs on this "
                "CPU; `full` is the study's own settings; *at the study's scale* marks our runs of "
                "those"),
    "classical methods": ("inpainting without training: mean fill (each hole the image's mean "
                          "colour), OpenCV Telea (fast marching from the edge inward) and "
                          "Navier-Stokes (isophotes carried in), biharmonic (the smoothest surface "
                          "through the hole's edge), frequency-selective reconstruction, fast and "
                          "best (each block a sparse sum of Fourier patterns fitted to its known "
                          "pixels; OpenCV contrib), and PatchMatch (patches copied from the rest of "
                          "the image, as content-aware fill). Where they win (README, *Classical "
                          "methods*): on small, smooth holes biharmonic and FSR; on the boats, "
                          "Telea and FSR fast; PatchMatch on texture; mean fill nowhere"),
    "best classical": ("the classical method with the best mean on the very images and masks a "
                       "network is tested on"),
    "best combination": ("in Part A, the ablation's network: the study's CAE told where the hole "
                         "is (mask channel), correcting a fast fill, loss on the hole's composite, "
                         "skip connections, MSE + 0.5 L1; in Part B, the hybrid: a ViT correcting a "
                         "biharmonic fill, with a convolutional head and refiner"),
    "photo network": ("a fully convolutional CAE (the Part A best combination's ideas, at any image "
                      "size) trained on crops of pet photos at their own resolution; one is shipped "
                      "with the inpaint tool, and the crossover section trains its own"),
    "mosaic": ("the 16 px patch grid the study's ViT leaves in its output; the *patch grid* measure "
               "is 1 for an image without it"),
    "uncertainty weighting, GradNorm, SoftAdapt": ("three ways to set the loss weights "
                                                   "automatically during training, in place of the "
                                                   "study's seven hand-set phases"),
    "test MSE": ("the study's metric: mean squared error of the network's raw output over the "
                 "whole image, pixels on [-1, 1] (Part A); lower is better"),
    "hole MSE, hole MAE": ("the error over the missing pixels only, of the output with the known "
                           "pixels kept: on [-1, 1] in Part A, on [0, 1] in Part B (0.01 on [0, 1] "
                           "is 0.04 on [-1, 1] for MSE); lower is better; the findings also give "
                           "differences in % of the classical method's error"),
    "hole PSNR": ("10·log10(peak² / hole MSE), in dB: higher is better; +1 dB is about 21% less "
                  "squared error"),
    "SSIM": "structural similarity of the output with the original, 0 to 1, higher is better",
}


def term(text: str, key: str | None = None) -> str:
    """`text` with the definition of `key` (default: `text`) on hover (an HTML abbr, dotted)."""
    import html

    key = key or text
    found = next((v for k, v in DEFINITIONS.items() if key == k or key in k.split(", ")), None)
    return text if found is None else f"<abbr title=\"{html.escape(found)}\">{text}</abbr>"


def terms(profile: str, description: str, paired: pd.DataFrame) -> str:
    """The report's own words and its metrics, defined once (linked from the findings);
    which classical method is the best, and the seed counts, from `paired`."""
    best = paired.classical.value_counts() if len(paired) else pd.Series(dtype=int)
    best_text = ", ".join(f"{m} in {k} of {len(paired)}" for m, k in best.items())
    seeds = (f"{int(paired.seeds.min())} to {int(paired.seeds.max())}" if len(paired) and
             paired.seeds.min() != paired.seeds.max() else f"{int(paired.seeds.max()) if len(paired) else 1}")
    items = dict(DEFINITIONS)
    items["profile"] = (f"how much of the study is run: `{profile}` here ({description}); `full` "
                        "is the study's own settings; *at the study's scale* marks our runs of those")
    items["best classical"] += f": here {best_text} comparisons"
    items["seeds, intervals"] = (f"each configuration is trained with {seeds} random seeds here; "
                                 "an interval is 95%, over the test images and the seeds (the seed "
                                 "spread pooled over each part's networks with several seeds; "
                                 "† one seed)")
    return "\n".join(["### Terms", "",
                       *[f"- **{t}**: {d}." for t, d in items.items()]])


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


def forest_scope(networks: pd.DataFrame) -> str:
    """Which comparison each part's rows of the findings' figure show (a network tested in
    several settings is drawn at its first: `tables.by_network`)."""
    parts = []
    for part, g in networks.groupby("part", sort=False):
        settings = g.comparison.map(lambda c: c.split(" · ")[-1]).unique()
        many = (g.comparisons > 1).any()
        what = ("each network on its own training masks" if len(settings) > 1 and not many else
                f"{g.comparison.iloc[0]}" + (" (its first of several settings)" if many else ""))
        parts.append(f"Part {part}: {g.metric.iloc[0]}, {what}.")
    return " ".join(parts)
