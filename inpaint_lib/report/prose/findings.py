"""The report's opening and each section's closing line: the findings (what a reader new to
the report needs from its first screen: whether the study's orderings hold, how far our
numbers are from the study's and why, whether a trained network beats inpainting without
training in each part, what was not run at the study's scale, and what to use on one's own
photo), the Terms they use, and the "In short" line under each section."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from ...stats import HOLDS
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


def _ordering_at(o) -> str:
    """An ordering's verdict in the findings' words (`stats.Ordering.describe`)."""
    return o.describe(", ").replace("does not hold", "does **not** hold")


def orderings(claims: list[dict], scorecard: pd.DataFrame, profile: str) -> str:
    """The study's orderings of its runs by test MSE (`claims`: `Conclusions.orderings`), each
    spelled out (best first) with whether it holds at the study's scale and in this profile
    (each step beyond its own scale's seed noise, else which steps are within it); then its
    ViT's claims (from the scorecard)."""
    parts = []
    for o in claims:
        order = " < ".join(o["names"])
        here, scale = o["here"], o["at_scale"]
        where = f"{link(_section_number(o['section']) + ' ' + o['notebook'].split('_', 1)[-1], o['notebook'])}"
        ours = f"in the `{profile}` profile"
        if scale is not None and scale.verdict == here.verdict == HOLDS:
            text = f"holds at the study's scale and {ours}"
        elif scale is not None:
            text = f"at the study's scale {_ordering_at(scale)}; {ours} {_ordering_at(here)}"
        else:
            k, n = o["trained"]
            text = (f"{ours} {_ordering_at(here)}; not yet testable at the study's scale "
                    f"({k} of {n} runs trained)")
        parts.append(f"{where}: {order}: {text}")
    vit = scorecard[scorecard["study's claim holds"].str.contains(r": (?:yes|no) \(", regex=True)
                    & ~scorecard.quantity.str.startswith("occluded")] if len(scorecard) else scorecard
    claims_b = [c.rsplit(" (", 1)[0].replace(": no", ": **no**") for c in vit["study's claim holds"]] \
        if len(vit) else []
    if not parts and not claims_b:
        return ""
    text = ("**The study's orderings** (test MSE, lower is better, each network on its own "
            "training masks; an ordering holds only where every step is beyond the seed noise of "
            "its scale): " + "; ".join(parts) + "." if parts else "")
    if claims_b:
        text += " Its ViT's claims: " + "; ".join(claims_b) + "."
    return text.strip()


def ordering_steps(claims: list[dict], profile: str) -> str:
    """Under the scorecard: each of the study's orderings (`Conclusions.orderings`) step by
    step, at each scale, with the gap and the seed-noise threshold it is judged against
    (`stats.Step`), then the verdict; one line a section."""

    def steps(o) -> str:
        each = []
        for st in o.steps:
            if not st.judged:
                each.append(f"{st.label()} {st.diff:+.6f} (no seed spread measured)")
                continue
            where = "beyond" if st.beyond_noise else "within"
            each.append(f"{st.label()} {st.diff:+.6f} ({where} the threshold {st.threshold:.6f})")
        return "; ".join(each) + f": **{o.describe(', ')}**"

    lines = []
    for o in claims:
        scale = (f" At the study's scale: {steps(o['at_scale'])}." if o["at_scale"] is not None
                 else f" At the study's scale: {o['trained'][0]} of {o['trained'][1]} runs trained.")
        lines.append(f"{_section_number(o['section'])} ordering {' < '.join(o['names'])}, step by "
                     f"step (test MSE, ours minus the next better's): `{profile}`: "
                     f"{steps(o['here'])}.{scale}")
    return "\n\n".join(lines)


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


# "best combination", spelled out once on the first screen and in the Terms
BEST_COMBINATION = {
    "A": ("the study's CAE told where the hole is (mask channel), correcting a fast fill, loss "
          "on the hole's composite, skip connections, MSE + 0.5 L1"),
    "B": "a ViT correcting a biharmonic fill, with a convolutional head and refiner"}
OWN = {"A": "CAE", "B": "ViT"}
AT_SCALE = "at the study's scale (`full`, committed runs)"


def _name(network: str, part: str, own: str, spelled: set[str]) -> str:
    """A network as the first screen names it: the study's own as such, and the best
    combination spelled out the first time (`spelled`: the parts already spelled out)."""
    if network == own:
        return f"the study's own {OWN[part]}"
    if network == "best combination" and part not in spelled:
        spelled.add(part)
        return f"the best combination ({BEST_COMBINATION[part]})"
    return f"the {network}" if network == "best combination" else f"**{term(network)}**"


def counted(p: pd.DataFrame, part: str, own: str) -> str:
    """What a verdict counts, in one phrase: distinct networks, the runs behind them and their
    seeds ('9 networks from 11 runs: 3 seeds of the study's own CAE, 1 of each other')."""
    runs = int(p.seeds.sum())
    by_seeds: dict[int, list[str]] = {}
    for r in p.itertuples():
        by_seeds.setdefault(int(r.seeds), []).append(
            f"the study's own {OWN[part]}" if r.network == own else
            f"the {r.network}" if r.network == "best combination" else r.network)
    many = [f"{k} seeds of {' and '.join(names)}" for k, names in sorted(by_seeds.items(), reverse=True)
            if k > 1]
    if not many:
        return f"{plural(len(p), 'network')}, one seed each" if len(p) > 1 else "one network, one seed"
    ones = len(by_seeds.get(1, []))
    rest = [] if not ones else ["1 of the other" if ones == 1 else "1 of each other"]
    return f"{plural(len(p), 'network')} from {plural(runs, 'run')}: " + ", ".join([*many, *rest])


def _verdict(p: pd.DataFrame, part: str, own: str, spelled: set[str], seconds: bool = True) -> str:
    """One scale's verdict of a part: how many distinct networks beat the best classical method,
    the best (or closest) and the study's own, each with its interval and seeds."""
    n = len(p)
    won = p[p.verdict == "better"].sort_values("relative %")
    lost = int((p.verdict == "worse").sum())
    top = won.iloc[0] if len(won) else p.sort_values("relative %").iloc[0]
    where = ("" if top.comparisons == 1 else
             f" (better in all {top.comparisons} of its settings)" if len(won) else
             f" ({top.comparison.split(' · ')[-1]})")
    cost = (lambda r: f", after {_seconds(r['training s'])} of training") if seconds else (lambda r: "")
    text = (f"**{len(won)} of {n}** better than the best classical method "
            f"({' / '.join(dict.fromkeys(p.classical))}), {lost} worse, {n - len(won) - lost} tied "
            f"or mixed; {'best' if len(won) else 'closest'}: {_name(top.network, part, own, spelled)}, "
            f"{_pct(top)}{where}, {_seeds(top)}{cost(top)}")
    mine = p[p.network == own]
    if len(mine) and top.network != own:
        o = mine.iloc[0]
        text += (f"; the study's own {OWN[part]}: {o.verdict}, {_pct(o)}, {_seeds(o)}{cost(o)}")
    return text + f" ({counted(p, part, own)})"


def part_verdict(networks: pd.DataFrame, part: str, study_network: str, conclusions: str,
                 at_scale: pd.DataFrame | None = None, profile: str = "quick",
                 test_set: str = "", spelled: set[str] | None = None) -> str:
    """One part's networks against inpainting without training, counting distinct networks
    (`tables.by_network`; a network tested in several settings counts once): at the study's
    scale first where measured (committed runs), then in this profile, each tagged with its
    profile: how many beat the best classical method, by how much (in % of its error), the
    best (or closest) and the study's own network with their seeds and training cost, and what
    each count is made of (`counted`). `test_set`: what the images are (e.g. "CIFAR-10's test
    split"); `spelled`: the parts whose best combination the first screen has spelled out."""
    p = networks[networks.part == part]
    if p.empty:
        return ""
    spelled = set() if spelled is None else spelled
    metric = p.metric.iloc[0]
    images = int(p.images.max()) if "images" in p and p.images.max() else 0
    on = (f"the same {images:,} test images" if images else "the same test images") \
        + (f" of {test_set}" if test_set else "") + " and masks for every method"
    text = (f"**{PART_NAME[part]}, against inpainting without training** ({term(metric)}, lower is "
            f"better, on {on}): ")
    scale = at_scale[at_scale.part == part] if at_scale is not None and len(at_scale) else None
    clauses = []
    if scale is not None and len(scale):
        n = int(scale.images.max()) if "images" in scale and scale.images.max() else images
        where = "" if n == images else f", on {n:,} test images"
        clauses.append(f"{AT_SCALE[:-1]}{where}): " + _verdict(scale, part, study_network, spelled))
    clauses.append(f"in the `{profile}` profile: " + _verdict(p, part, study_network, spelled))
    text += ". ".join(c if i == 0 else c[0].upper() + c[1:] for i, c in enumerate(clauses))
    return text + f". {link('Details', conclusions)}."


def photo_advice(rows: list[dict], network: str, notebook: str, images: int = 0,
                 photos: str = "", made: str = "") -> str:
    """What to use on one's own photo, by hole size, from the photo network's crossover table
    (`crossover.margins` records: hole-PSNR margin over the best classical method with its
    interval), and the command that chooses per hole (`photos`: what the table's photos are,
    e.g. `ShippedNetwork.test_photos`; `made`: the profile that trained the network)."""
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
    photos = photos or (f"{images:,} held-out pet photos" if images else "held-out pet photos")
    tag = f"`{made}` photo profile; " if made else ""
    text = (f"**On your own photo:** `{COMMAND}` measures each hole, weighs the table that follows "
            f"with copies of your holes on your own photo, fills each hole with whichever method wins "
            f"there and says why ({link('section', notebook)}). The table ({tag}{term('hole PSNR')} "
            f"in dB, higher is better, on {photos}): ")
    if rest:
        text += (f"use {classical} for {', '.join(setting(r) for r in rest)} (the network is "
                 f"{span(rest)} there, not better)" + ("; " if won else "."))
    if won and not rest:
        shapes = {}
        for r in won:
            shapes.setdefault(r["shape"].replace("one box", "boxes"), []).append(r["setting"])
        every = "; ".join(f"{k} {v[0]}" + (f" to {v[-1]}" if len(v) > 1 else "") for k, v in shapes.items())
        text += (f"the {network} (a {term('photo network', 'photo network')}: a CAE trained on "
                 f"photos, not Part B's ViT) beats {classical} on every hole measured ({every}), by "
                 f"{span(won)}.")
    elif won:
        text += (f"use the {network} for {', '.join(setting(r) for r in won)} ({span(won)} over "
                 f"{classical}).")
    return text.strip()


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
    masks (with the 95% interval over its seeds where it has several: `scoring.mask_sweep`),
    and at how many counts the best classical method beats it."""
    net = sweep[sweep.kind == "network"].sort_values("masks")
    first, last = net.iloc[0], net.iloc[-1]
    lost = sum(not beats(g[g.kind == "network"].mse.iloc[0], g[g.kind == "classical"].mse.min(),
                         "mse") for _, g in sweep.groupby("masks"))
    grows = last.mse > first.mse

    def value(r: pd.Series) -> str:
        half = r.get("mse ±95%", math.nan)
        return f"{r.mse:.4g}" + (f" ± {half:.2g}" if pd.notna(half) else "")

    return (f"the CAE's whole-image test MSE goes from {value(first)} with 1 mask "
            f"({first.occluded:.1%} occluded) to {value(last)} with {int(last.masks)} "
            f"({last.occluded:.1%}), {last.mse / first.mse:.1f}x: "
            + ("it grows with the masks, as the study found" if grows else
               "it does **not** grow, unlike the study's")
            + f"; the best classical method beats it at {lost} of {len(net)} mask counts")


def _sweep_bullet(sweep: pd.DataFrame, profile: str, notebook: str) -> str:
    net = sweep[sweep.kind == "network"]
    k = int(net.seeds.iloc[0]) if "seeds" in net and pd.notna(net.seeds.iloc[0]) else 1
    seeds = f"mean of {k} seeds, ± their 95% interval" if k > 1 else "one seed"
    return (f"**Mask sweep** (`{profile}`, the study's CAE, {seeds}, on {int(net.images.iloc[0]):,} "
            f"test images): {sweep_sentence(sweep)} ({link('section', notebook)}).")


def findings(networks: pd.DataFrame, scorecard: pd.DataFrame, profile: str, conclusions: str,
             gap: dict, study_networks: dict[str, str],
             study_spread: tuple[float, int] = (math.nan, 0), at_scale: pd.DataFrame | None = None,
             photo: str = "", not_run: str = "", sweep: pd.DataFrame | None = None,
             sweep_notebook: str = "", done: tuple[int, int] = (0, 0),
             claims: list[dict] | None = None, against: str = "",
             test_sets: dict[str, str] | None = None) -> str:
    """The report's opening: a lede that says how each number is tagged with the profile that
    made it and what † means, the block on the published copy (`against`), then at most 8
    one-sentence bullets, each with its numbers and a link to the notebook that shows it,
    metrics named in words. (`conclusions`, `sweep_notebook`: params file names; `claims`: the
    study's orderings, `Conclusions.orderings`; `test_sets`: per part, what its test images
    are. Rendered by the report from the conclusions notebook's record, `first_screen`.)"""
    test_sets = test_sets or {}
    spelled: set[str] = set()
    bullets = [
        orderings(claims or [], scorecard, profile),
        photo,  # second: its command is on the first screen at 1024x768
        distance(scorecard, profile, gap, conclusions, study_spread, done),
        part_verdict(networks, "A", study_networks.get("A", ""), conclusions, at_scale, profile,
                     test_sets.get("A", ""), spelled),
        part_verdict(networks, "B", study_networks.get("B", ""), conclusions, None, profile,
                     test_sets.get("B", ""), spelled),
        not_run,
        _sweep_bullet(sweep, profile, sweep_notebook) if sweep is not None and len(sweep) else "",
    ]
    scale = ("" if profile == "full" else
             f" Each number names the profile that made it: *at the study's scale* (`full`, "
             f"committed runs) or `{profile}` (the {term(profile + ' profile', 'profile')}).")
    lede = ("What this report found." + scale
            + f" A network is *better* or *worse* than a {term('classical method', 'classical methods')} "
            "(no training) only where the 95% interval of the difference, over the same images and "
            "masks and over training seeds, excludes zero; † marks one seed, whose interval borrows "
            f"its part's pooled seed spread. Hover a dotted word; all of them: [Terms](#{TERMS}).")
    return "\n".join(["## Findings", "", lede, "", *([against, ""] if against else []),
                      *[f"- {b}" for b in bullets if b.strip()]])


def _finding_line(r: Any) -> str:
    """A finding on two hosts in words: 'Part A: ... (`quick`): -10% [-22%, +2%], tied ->
    -10% [-12%, -8%], better' (the published copy's first)."""
    def side(x: Any) -> str:
        if x is None:
            return "none"
        label = f", {x.label}" if x.label and x.label != x.shown else ""
        return f"{x.shown}{label}"

    return f"{r.finding.key} (`{r.finding.profile}`): {side(r.published)} → {side(r.ours)}"


def against_published(rows: list[Any], published_host: str, our_host: str, profile: str,
                      where: str) -> str:
    """The first screen's block on the published copy (`first_screen.compare` rows, each with
    `finding`, `published`, `ours`, `status`, `why`): how many findings agree; each that moved
    within seed and precision noise, and each that did not reproduce, with both values and
    their intervals (published → this run), why and what to look at; both hosts' precision."""
    moved = [r for r in rows if r.status == "moved within seed and precision noise"]
    failed = [r for r in rows if r.status == "did not reproduce"]
    agree = len(rows) - len(moved) - len(failed)
    text = (f"**Against the published copy** (`{where}`: {published_host}; this run: {our_host}): "
            f"**{agree} of {plural(len(rows), 'finding')} agree** in label and within noise.")
    if moved:
        text += (" *Moved within seed and precision noise* (published → this run): "
                 + "; ".join(_finding_line(r) for r in moved) + ".")
    if failed:
        looks = sorted({r.finding.notebook for r in failed if r.finding.notebook})
        def why(r: Any) -> str:
            one = ("; one seed: its interval borrows its part's pooled seed spread (†)"
                   if r.finding.seeds == 1 else "")
            return f"{_finding_line(r)} ({r.why}{one})"

        text += (" ***Did not reproduce***: " + "; ".join(why(r) for r in failed)
                 + ". Look at " + ", ".join(link("its section" if len(looks) == 1 else
                                                  n.split("_", 1)[-1].replace("_", " "), n)
                                             for n in looks)
                 + ", and at the two hosts' precision and seeds.")
    return (text + f" `python -m inpaint_lib compare-published --profile {profile}` prints all "
            f"{len(rows)}.")


def against_published_missing(why: str, where: str) -> str:
    """The block where there is nothing to compare with (one line)."""
    return f"**Against the published copy** (`{where}`): nothing to compare: {why}."


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
    "best combination": (f"in Part A, the ablation's network: {BEST_COMBINATION['A']}; in Part B, "
                         f"the hybrid: {BEST_COMBINATION['B']}"),
    "photo network": ("a fully convolutional CAE (the Part A best combination's ideas, at any image "
                      "size) trained on crops of pet photos at their own resolution; one is shipped "
                      "with the inpaint tool, and the crossover section trains its own"),
    "mosaic": ("the grid of patch edges a ViT leaves in its output, one square per patch; the "
               "*patch grid* measure is 1 for an image without it"),
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


def terms(profile: str, description: str, paired: pd.DataFrame,
          patch_sizes: tuple[int, int] | None = None) -> str:
    """The report's own words and its metrics, defined once (linked from the findings);
    which classical method is the best, and the seed counts, from `paired`; the ViT's patch
    size here and the study's (`patch_sizes`, from the runs' configs) in the mosaic's."""
    best = paired.classical.value_counts() if len(paired) else pd.Series(dtype=int)
    best_text = ", ".join(f"{m} in {k} of {len(paired)}" for m, k in best.items())
    seeds = (f"{int(paired.seeds.min())} to {int(paired.seeds.max())}" if len(paired) and
             paired.seeds.min() != paired.seeds.max() else f"{int(paired.seeds.max()) if len(paired) else 1}")
    items = dict(DEFINITIONS)
    items["profile"] = (f"how much of the study is run: `{profile}` here ({description}); `full` "
                        "is the study's own settings; *at the study's scale* marks our runs of those")
    items["best classical"] += f": here {best_text} comparisons"
    if patch_sizes is not None:
        ours, theirs = patch_sizes
        items["mosaic"] += (f"; its period is the patch size: {ours} px here, {theirs} px in the "
                            "study's ViT")
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
