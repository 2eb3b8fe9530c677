"""The report's first screen as data, and every rendered report's check against the published
copy.

The conclusions notebook records what the first screen is computed from (`collect`, written by
`record` to ``results/<profile>/findings.json``): the paired comparisons behind each verdict,
the study's orderings step by step, the scorecard's test MSEs with their seed noise, the mask
sweep, the photo network's table, and what made the runs (commit, precision, CPU, threads). The
report renders its first screen from that file alone (`render`), and `make publish` copies it
beside the published page (`published_path`: ``docs/report.findings.json``), so the published
page and its data are one.

`findings` reads the first screen's findings out of a record, each with its value, 95% interval,
seeds, label and the profile that made it, by today's rules (a verdict from its interval,
`stats.paired_verdict`; an ordering from its steps, `stats.Ordering`): a record published by
another commit is judged by the same rules as this run's. `compare` sets this run's findings
beside the published copy's: a finding *agrees* (same label, every number within noise),
*moved within seed and precision noise* (another label, every number within noise) or *did
not reproduce* (a number beyond noise, or a label that has no interval changed). Two
estimates differ beyond noise when their difference exceeds their own 95% half-widths added in
quadrature (`stats.noise_of_difference`): the rule of every step of the study's orderings.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ..io import atomic_write_json, read_json
from ..metrics import LOWER_IS_BETTER, METRIC_LABELS
from ..paths import REPO_ROOT
from ..provenance import provenance_dir
from ..runs import git_commit, results_root
from ..stats import (
    Ordering,
    Step,
    beyond_noise,
    noise_of_difference,
    paired_verdict,
)
from . import prose, tables

FORMAT = 1  # a record of another format is not compared (`load` says so)
PUBLISHED = REPO_ROOT / "docs" / "report.html"  # the published copy (`make publish`)

AGREES = "agrees"
WITHIN_NOISE = "moved within seed and precision noise"
NOT_REPRODUCED = "did not reproduce"


class FindingsMissing(RuntimeError):
    """A side of the comparison has no findings record (one line says which and why)."""


def findings_path(profile: str) -> Path:
    return results_root(profile) / "findings.json"


def published_path(report: Path = PUBLISHED) -> Path:
    """The findings of a published copy, beside it: docs/report.html -> docs/report.findings.json."""
    report = Path(report)
    return report.with_name(report.stem + ".findings.json")


def record(profile: str, data: dict[str, Any]) -> None:
    """Called by the conclusions notebook: what the report's first screen is rendered from."""
    atomic_write_json(findings_path(profile), data)


def load(path: Path, what: str) -> dict[str, Any]:
    """A findings record, or `FindingsMissing` with one line (`what`: whose findings)."""
    if not path.exists():
        raise FindingsMissing(f"{what}: no findings at {path}")
    data = read_json(path)
    if data.get("format") != FORMAT:
        raise FindingsMissing(f"{what}: {path} is of findings format {data.get('format')}, not "
                              f"{FORMAT} (written by commit {data.get('host', {}).get('commit', '?')}): "
                              "re-render it with this code")
    return data


# ------------------------------------------------------------------ the record
def _rows(frame: pd.DataFrame | None) -> list[dict[str, Any]]:
    """A DataFrame as JSON records (NaN as null, numpy numbers as plain ones)."""
    if frame is None or frame.empty:
        return []
    return json.loads(frame.to_json(orient="records", double_precision=15))


def _frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    return pd.DataFrame(rows)


def host(profile: str) -> dict[str, Any]:
    """What made the runs the report shows, from its notebooks' provenance: the commit (of
    this checkout), the precisions and thread counts its runs record, the CPUs and devices its
    notebooks ran on."""
    precisions, threads, cpus, devices = set(), set(), set(), set()
    for path in sorted(provenance_dir(profile).glob("*.json")):
        prov = read_json(path)
        devices.add(str(prov.get("device", "unrecorded")))
        if prov.get("cpu"):
            cpus.add(prov["cpu"])
        for run in prov.get("runs", {}).values():
            precisions.add(run.get("precision") or "unrecorded")
            if run.get("threads"):
                threads.add(int(run["threads"]))
    return {"commit": git_commit(), "precision": sorted(precisions), "cpu": sorted(cpus),
            "threads": sorted(threads), "device": sorted(devices)}


def _ordering_record(o: Ordering | None) -> dict[str, Any] | None:
    if o is None:
        return None
    return {"names": list(o.names), "steps": [{"better": s.better, "worse": s.worse, "diff": s.diff,
                                               "threshold": s.threshold} for s in o.steps]}


def _ordering(data: dict[str, Any] | None) -> Ordering | None:
    if data is None:
        return None
    return Ordering(tuple(data["names"]), tuple(
        Step(s["better"], s["worse"], float(s["diff"]),
             math.nan if s["threshold"] is None else float(s["threshold"])) for s in data["steps"]))


def collect(conclusions: Any, paired: pd.DataFrame, scorecard: pd.DataFrame) -> dict[str, Any]:
    """Everything the first screen shows, as data (`verdicts.Conclusions` `conclusions`, its
    `paired` table and `scorecard`): nothing is computed again at render time but words."""
    profile = conclusions.profile
    at_scale = conclusions.paired_at_study_scale()
    shown = scorecard[~scorecard.quantity.str.startswith(("parameters", "occluded"))]
    shown = shown.merge(conclusions.test_mse_seeds(), on=["notebook", "run"], how="left")
    sweep = conclusions.mask_sweep()
    photo = conclusions.photo_network()
    return {
        "format": FORMAT, "profile": profile, "description": conclusions.profile_description,
        "written": time.strftime("%Y-%m-%d %H:%M %Z"), "host": host(profile),
        "conclusions": Path(conclusions.params.source_file).name,
        "study_networks": conclusions.study_networks(),
        "paired": _rows(paired), "paired_at_scale": _rows(at_scale),
        "scorecard": _rows(shown),
        "orderings": [{"section": o["section"], "notebook": o["notebook"], "names": o["names"],
                       "here": _ordering_record(o["here"]), "at_scale": _ordering_record(o["at_scale"]),
                       "trained": list(o["trained"])} for o in conclusions.orderings()],
        "gap": {k: list(v) for k, v in conclusions.scale_gap().items()},
        "study_spread": list(conclusions.study_spread()),
        "part_a_done": list(conclusions.part_a_done()),
        "part_b_at_scale": conclusions.part_b_at_scale(),
        "patch_sizes": list(conclusions.patch_sizes() or []) or None,
        "test_sets": conclusions.test_sets(),
        "sweep": None if sweep is None else {"notebook": conclusions.params.mask_sweep,
                                             "rows": _rows(sweep[0])},
        "photo": None if photo is None else {
            "network": photo[0], "rows": photo[1], "images": photo[2], "photos": photo[3],
            "profile": photo[4], "notebook": "d1_crossover.yaml"},
    }


# ------------------------------------------------------------------ read back
def relabelled(paired: pd.DataFrame) -> pd.DataFrame:
    """Paired comparisons with each verdict from its interval by today's rule
    (`stats.paired_verdict`), whatever the code that recorded them said."""
    if paired.empty:
        return paired
    key = {label: m for m, label in METRIC_LABELS.items()}
    return paired.assign(verdict=[paired_verdict(r.low, r.high, LOWER_IS_BETTER[key[r.metric]])
                                  for r in paired.itertuples()])


@dataclass(frozen=True)
class Screen:
    """A findings record read back as the frames and values the first screen's words take."""

    profile: str
    description: str
    conclusions: str
    paired: pd.DataFrame
    networks: pd.DataFrame
    at_scale: pd.DataFrame | None
    scorecard: pd.DataFrame
    orderings: list[dict[str, Any]]
    data: dict[str, Any]

    @property
    def sweep(self) -> pd.DataFrame | None:
        s = self.data.get("sweep")
        return _frame(s["rows"]) if s else None


def screen(data: dict[str, Any]) -> Screen:
    paired = relabelled(_frame(data["paired"]))
    at_scale = relabelled(_frame(data["paired_at_scale"]))
    orderings = [{**o, "here": _ordering(o["here"]), "at_scale": _ordering(o["at_scale"]),
                  "trained": tuple(o["trained"])} for o in data["orderings"]]
    return Screen(data["profile"], data.get("description", ""), data["conclusions"], paired,
                  tables.by_network(paired) if len(paired) else paired,
                  tables.by_network(at_scale) if len(at_scale) else None,
                  _frame(data["scorecard"]), orderings, data)


def render(data: dict[str, Any], against: str = "") -> str:
    """The first screen (Markdown and HTML) from a findings record alone: the findings with
    `against` (the block on the published copy) under their lede, Figure 27 beside them, the
    Terms."""
    from . import figures
    from .show import figure_html

    s = screen(data)
    d = s.data
    photo = d.get("photo")
    own = d["study_networks"]
    sweep = s.sweep
    text = prose.findings(
        s.networks, s.scorecard, s.profile, s.conclusions,
        gap={k: tuple(v) for k, v in d["gap"].items()}, study_networks=own,
        study_spread=tuple(d["study_spread"]), at_scale=s.at_scale,
        photo=prose.photo_advice(photo["rows"], photo["network"], photo["notebook"],
                                 photo["images"], photo["photos"], photo["profile"]) if photo else "",
        not_run=prose.not_at_scale(d["part_b_at_scale"], tuple(d["part_a_done"])),
        sweep=sweep if sweep is not None and len(sweep) else None,
        sweep_notebook=d["sweep"]["notebook"] if d.get("sweep") else "",
        done=tuple(d["part_a_done"]), claims=s.orderings, against=against,
        test_sets=d.get("test_sets", {}))
    headline = tables.headline_networks(s.networks, own, s.at_scale)
    figure = figure_html(figures.findings_forest(
        headline,
        "Figure 27 (beyond the study). The study's own network and the best other one of each part "
        "against the best method that needs no training, on the same images and masks: the "
        "difference in % of that method's error, with its 95% interval over images and seeds "
        "(green: better in every comparison; red: worse in every one; grey: tied or mixed). "
        + prose.forest_scope(s.networks), own), beside=True)
    full = figure_html(figures.findings_forest(
        s.networks, "Figure 27, every network: as above, one row per trained network of this "
        "profile. Every comparison is in the conclusions' tables.", own))
    terms = prose.terms(s.profile, s.description, s.paired,
                        tuple(d["patch_sizes"]) if d.get("patch_sizes") else None)
    blocks = [text, figure, "<details><summary>Figure 27 in full: every trained network</summary>",
              full, "</details>",
              # one click away (the findings spell out what they need inline): the page stays short
              "<details><summary>Terms: every word and metric of the report, defined</summary>",
              terms, "</details>"]
    return "\n\n".join(blocks)


# ------------------------------------------------------------------ the findings
@dataclass(frozen=True)
class Estimate:
    """One number of a finding, with its 95% interval (NaN ends: no interval known)."""

    name: str
    value: float
    low: float = math.nan
    high: float = math.nan
    unit: str = ""

    @property
    def has_interval(self) -> bool:
        return math.isfinite(self.low) and math.isfinite(self.high)

    def half_toward(self, other: float) -> float:
        """The half-width of its interval on the side of `other`."""
        return self.high - self.value if other > self.value else self.value - self.low


@dataclass(frozen=True)
class Finding:
    """One finding of the first screen: what it is (`key`, the same on every host) and the
    profile that made it, its label by today's rule ('' where the first screen gives none),
    its numbers as shown, the estimates judged against noise, and a count's networks."""

    key: str
    profile: str
    label: str
    shown: str
    estimates: tuple[Estimate, ...] = ()
    seeds: int | None = None
    notebook: str = ""
    members: tuple[Finding, ...] = ()

    @property
    def ident(self) -> tuple[str, str]:
        return self.key, self.profile


def _num(x: Any) -> float:
    """A recorded number, NaN where none was known (null in the record)."""
    return math.nan if x is None or pd.isna(x) else float(x)


def _seeds(k: int | None) -> str:
    return "" if not k else f", {k} seed{'s' if k != 1 else ''}"


def _network_findings(paired: pd.DataFrame, networks: pd.DataFrame, profile: str) -> list[Finding]:
    """One finding per distinct network (`tables.by_network` row): its verdict over its
    comparisons, each comparison's difference in % of the classical method's mean."""
    out = []
    for r in networks.itertuples():
        mine = paired[(paired.part == r.part) & (paired.notebook == r.notebook)
                      & (paired.network == r.network)]
        scale = 100 / mine["classical mean"].abs()
        est = tuple(Estimate(c, d, lo, hi, "%") for c, d, lo, hi in zip(
            mine.comparison, mine.difference * scale, mine.low * scale, mine.high * scale))
        first = est[0]
        out.append(Finding(
            f"Part {r.part}: {r.network} ({r.notebook}) against {r.classical}", profile, r.verdict,
            f"{first.value:+.0f}% [{first.low:+.0f}%, {first.high:+.0f}%]{_seeds(int(r.seeds))}",
            est, int(r.seeds), r.notebook))
    return out


def _counts(part: str, members: list[Finding], networks: pd.DataFrame, profile: str,
            notebook: str) -> Finding:
    c = networks.verdict.value_counts()
    better, worse, n = int(c.get("better", 0)), int(c.get("worse", 0)), len(networks)
    counts = f"{better} of {n} better, {worse} worse, {n - better - worse} tied or mixed"
    return Finding(f"Part {part}: trained networks against the best classical method", profile,
                   counts, counts, members=tuple(members), notebook=notebook)


def _headline(networks: pd.DataFrame, part: str, own: str) -> list[str]:
    """The networks the first screen names for a part: the best (or closest) and its own."""
    p = networks[networks.part == part]
    if p.empty:
        return []
    top = p.sort_values("relative %").iloc[0].network
    return list(dict.fromkeys([top, *([own] if own in set(p.network) else [])]))


def findings(data: dict[str, Any]) -> list[Finding]:
    """The first screen's findings of a record, by today's rules."""
    s = screen(data)
    d, profile = s.data, s.profile
    conclusions = Path(s.conclusions).stem
    out: list[Finding] = []
    for o in s.orderings:
        for side, made in (("at_scale", "full"), ("here", profile)):
            ordering = o[side]
            if ordering is None:
                continue
            out.append(Finding(
                f"{o['section']}: the study's ordering {' < '.join(o['names'])}", made,
                ordering.verdict, ordering.describe(", "),
                tuple(Estimate(st.label(), st.diff, st.diff - st.threshold, st.diff + st.threshold)
                      for st in ordering.steps), notebook=o["notebook"]))
    card = s.scorecard
    if len(card):
        claims = card[card.study.isna()]
        for _, r in claims.iterrows():
            text = str(r["study's claim holds"]).rsplit(" (", 1)[0]
            claim, _, verdict = text.rpartition(": ")
            value = float(r[f"ours ({profile})"])
            out.append(Finding(f"Part B's ViT: {claim}", profile, verdict,
                               f"{r.quantity} {value:.4g}",
                               (Estimate(r.quantity, value),), notebook=r.notebook))
        mse = card[card.quantity == "test MSE"]
        if len(mse):
            col = f"ours ({profile})"
            base = mse.iloc[0]
            h, v = _num(base.get("seed half-width")), float(base[col])
            out.append(Finding(
                f"Part A: the study's CAE ({base.run}), test MSE", profile, "",
                f"{v:.4f}" + (f" ± {h:.4f}" if math.isfinite(h) else "") + _seeds(int(base.seeds)),
                (Estimate("test MSE", v, v - h, v + h),), int(base.seeds), base.notebook))
            ends = []
            for name, r in (("lowest", mse.loc[mse["ours / study"].idxmin()]),
                            ("highest", mse.loc[mse["ours / study"].idxmax()])):
                ratio, half = float(r["ours / study"]), _num(r.get("seed half-width")) / float(r.study)
                ends.append(Estimate(f"{name} ({r.run})", ratio, ratio - half, ratio + half))
            out.append(Finding("Part A: our test MSE / the study's, over its configurations",
                               profile, "", f"{ends[0].value:.1f}x to {ends[1].value:.1f}x",
                               tuple(ends), notebook=conclusions))
            scale = mse.dropna(subset=["at scale / study"])
            if len(scale):
                text = (f"{scale['at scale / study'].min():.2f}x to "
                        f"{scale['at scale / study'].max():.2f}x")
                out.append(Finding("Part A: our test MSE / the study's, over its configurations",
                                   "full", text, text, notebook=conclusions))
    own = d["study_networks"]
    for part, networks, paired, made in (("A", s.at_scale, relabelled(_frame(d["paired_at_scale"])), "full"),
                                         ("A", s.networks, s.paired, profile),
                                         ("B", s.networks, s.paired, profile)):
        if networks is None or networks.empty or (networks.part == part).sum() == 0:
            continue
        p = networks[networks.part == part]
        members = _network_findings(paired, p, made)
        out.append(_counts(part, members, p, made, conclusions))
        named = _headline(networks, part, own.get(part, ""))
        out += [m for m in members if any(m.key.startswith(f"Part {part}: {n} (") for n in named)]
    sweep = s.sweep
    if sweep is not None and len(sweep):
        out.append(_sweep_finding(sweep, d["sweep"]["notebook"], profile))
    photo = d.get("photo")
    if photo:
        rows = photo["rows"]
        won = [f"{r['shape']} {r['setting']}" for r in rows if r["hole_psnr_low"] > 0]
        est = tuple(Estimate(f"{r['shape']} {r['setting']}", r["hole_psnr_margin"], r["hole_psnr_low"],
                             r["hole_psnr_high"]) for r in rows)
        margins = [e.value for e in est]
        out.append(Finding(f"On your own photo: the {photo['network']} against {rows[0]['best_classical']}",
                           photo.get("profile", profile), f"better at {len(won)} of {len(rows)} holes",
                           f"{min(margins):+.2f} to {max(margins):+.2f} dB", est, notebook="d1_crossover"))
    done, planned = d["part_a_done"]
    out.append(Finding("Part A: runs at the study's scale trained and committed", "full",
                       f"{done} of {planned}", f"{done} of {planned}", notebook=conclusions))
    return out


def _sweep_finding(sweep: pd.DataFrame, notebook: str, profile: str) -> Finding:
    """The mask sweep: the network's whole-image MSE at the fewest and the most masks, each
    with the 95% interval over its seeds (`scoring.mask_sweep`; none with one seed)."""
    net = sweep[sweep.kind == "network"].sort_values("masks")
    first, last = net.iloc[0], net.iloc[-1]
    lost = sum(not tables.beats(g[g.kind == "network"].mse.iloc[0], g[g.kind == "classical"].mse.min(),
                                "mse") for _, g in sweep.groupby("masks"))
    k = int(first.seeds) if "seeds" in net and pd.notna(first.seeds) else 1
    est = []
    for r in (first, last):
        h = _num(r.get("mse ±95%"))
        est.append(Estimate(f"{int(r.masks)} mask{'s' if r.masks > 1 else ''}", float(r.mse),
                            float(r.mse) - h, float(r.mse) + h))
    grows = "grows" if last.mse > first.mse else "does not grow"
    return Finding("Mask sweep: the CAE's whole-image test MSE from the fewest to the most masks",
                   profile, f"{grows}, classical better at {lost} of {len(net)} counts",
                   f"{first.mse:.4g} to {last.mse:.4g}, {last.mse / first.mse:.1f}x{_seeds(k)}",
                   tuple(est), k, Path(notebook).stem)


# ------------------------------------------------------------------ the comparison
@dataclass(frozen=True)
class Compared:
    """A finding of the published copy beside this run's (either None where it has none)."""

    published: Finding | None
    ours: Finding | None
    status: str
    why: str = ""

    @property
    def finding(self) -> Finding:
        return self.ours or self.published  # type: ignore[return-value]


def judge(pub: Finding, ours: Finding) -> tuple[str, str]:
    """(status, why) of one finding on two hosts (see the module doc)."""
    beyond = []
    theirs = {e.name: e for e in pub.estimates}
    for e in ours.estimates:
        p = theirs.get(e.name)
        if p is None or not (p.has_interval and e.has_interval):
            continue
        threshold = noise_of_difference(p.half_toward(e.value), e.half_toward(p.value))
        if beyond_noise(e.value - p.value, threshold):
            u = e.unit
            beyond.append(f"{e.name}: {p.value:.4g}{u} -> {e.value:.4g}{u}, a difference of "
                          f"{e.value - p.value:+.3g}{u} beyond the noise of the two, ±{threshold:.3g}{u}")
    pub_members = {m.ident: m for m in pub.members}
    our_members = {m.ident: m for m in ours.members}
    for ident in pub_members.keys() - our_members.keys():
        beyond.append(f"{ident[0]}: not in this run")
    for ident in our_members.keys() - pub_members.keys():
        beyond.append(f"{ident[0]}: not in the published copy")
    for ident in pub_members.keys() & our_members.keys():
        p, m = pub_members[ident], our_members[ident]
        if p.label != m.label:
            status, why = judge(p, m)
            if status == NOT_REPRODUCED:
                beyond.append(f"{m.key}: {p.label} -> {m.label} ({why})")
    same = pub.label == ours.label
    judged = any(e.has_interval for e in ours.estimates) or bool(ours.members)
    if not same and not judged:
        beyond.append("it has no interval, so any change of its label counts")
    if beyond:
        return NOT_REPRODUCED, "; ".join(beyond)
    return (AGREES if same else WITHIN_NOISE), ""


def _every(found: list[Finding]) -> dict[tuple[str, str], Finding]:
    """Findings by identity, a count's networks included (a network the other host names
    on its first screen is found among this host's counted ones)."""
    out: dict[tuple[str, str], Finding] = {}
    for f in found:
        for m in f.members:
            out.setdefault(m.ident, m)
    for f in found:
        out[f.ident] = f
    return out


def compare(published: dict[str, Any], ours: dict[str, Any]) -> list[Compared]:
    """This run's first-screen findings beside the published copy's, in this run's order
    (then any only the published copy has)."""
    pub, mine = findings(published), findings(ours)
    pub_all, mine_all = _every(pub), _every(mine)
    shown = list(dict.fromkeys([f.ident for f in mine] + [f.ident for f in pub]))
    out = []
    for ident in shown:
        p, m = pub_all.get(ident), mine_all.get(ident)
        if p is None:
            out.append(Compared(None, m, NOT_REPRODUCED, "not in the published copy"))
        elif m is None:
            out.append(Compared(p, None, NOT_REPRODUCED, "not in this run"))
        else:
            out.append(Compared(p, m, *judge(p, m)))
    return out


def host_line(data: dict[str, Any]) -> str:
    h = data.get("host", {})
    threads = "/".join(map(str, h.get("threads", []))) or "?"
    return (f"{' and '.join(h.get('precision', [])) or 'precision unrecorded'}, {threads} threads, "
            f"commit {h.get('commit', '?')}")


def _side(f: Finding | None) -> str:
    if f is None:
        return "-"
    return f.shown + (f" ({f.label})" if f.label and f.label != f.shown else "")


def table(rows: list[Compared], published: dict[str, Any], ours: dict[str, Any]) -> str:
    """The comparison as plain text for a terminal: the two hosts, one line per finding (what
    it is and the profile that made it, both sides, the verdict), why each that did not
    reproduce did not, and the counts."""
    def cpu(d: dict[str, Any]) -> str:
        return ", ".join(d.get("host", {}).get("cpu", [])) or "unrecorded"

    head = [f"published copy: {host_line(published)}; CPU (where its notebooks ran): {cpu(published)}",
            f"this run:       {host_line(ours)}; CPU (where its notebooks ran): {cpu(ours)}", ""]
    cells = [("finding", "profile", "published", "this run", "verdict")] + [
        (r.finding.key, r.finding.profile, _side(r.published), _side(r.ours), r.status) for r in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(4)]
    lines = ["  ".join(c[i].ljust(widths[i]) for i in range(4)) + "  " + c[4] for c in cells]
    notes = [f"- {r.finding.key} ({r.finding.profile}): {r.why}" for r in rows if r.why]
    counts = {s: sum(r.status == s for r in rows) for s in (AGREES, WITHIN_NOISE, NOT_REPRODUCED)}
    summary = (f"{counts[AGREES]} of {len(rows)} findings agree; {counts[WITHIN_NOISE]} "
               f"{WITHIN_NOISE}; {counts[NOT_REPRODUCED]} {NOT_REPRODUCED}")
    return "\n".join(head + lines + ([""] + notes if notes else []) + ["", summary])


def against_published(profile: str, published: Path = PUBLISHED) -> str:
    """The first screen's block on the published copy for a report of `profile` (Markdown):
    this run's findings beside it (`compare`), or one line where there is none to compare."""
    pub_path = published_path(published)
    where = (str(published.relative_to(REPO_ROOT)) if published.is_relative_to(REPO_ROOT)
             else str(published))
    if not pub_path.exists():
        return prose.against_published_missing(
            f"it has no findings beside it yet (the next `make publish` writes {pub_path.name})",
            where)
    try:
        theirs = load(pub_path, "the published copy")
    except FindingsMissing as e:
        return prose.against_published_missing(str(e).split(": ", 1)[1], where)
    if theirs["profile"] != profile:
        return prose.against_published_missing(
            f"it is of the `{theirs['profile']}` profile, this report of `{profile}`", where)
    ours = load(findings_path(profile), "this run")
    return prose.against_published(compare(theirs, ours), host_line(theirs), host_line(ours),
                                   profile, where)
