"""Assemble the executed notebooks of a profile into one self-contained HTML report.

The notebooks in ``results/<profile>/notebooks/`` (executed by papermill) are merged with
nbformat (fresh cell ids) and rendered once by nbconvert with code hidden. The page opens
with the title, the first screen rendered from the findings the conclusions notebook recorded
(`first_screen.render`, with its block on the published copy), the warnings (once), the
contents and a collapsed block of how the report was made.

Where a notebook lands (no notebook is named here): notebooks are grouped into parts by the
first letter of their file name (a: Part A, b: Part B, c, d, ...: further parts, e.g. a new
``c0_crossover`` or ``d1_crossover`` forms its own part after Part B), parts in letter order,
notebooks in name order within a part; a notebook whose first cell is a level-1 heading opens
its part (it moves to the part's front, so b8's "# Part B" heads the phase notebooks). A
conclusions notebook (its params file has ``part_a``) comes last, before the performance
appendix. Every heading gets an id made of its text (`anchor`), and the contents are built
from those ids after rendering, so every link resolves. Figures are embedded PNGs.
The run details name the code that trained the runs (`code_provenance`) and warn when a
run shown was trained by other code than this commit's.
The report reads offline: the CDN scripts nbconvert adds (require.js, MathJax)
are dropped, since the report uses neither widgets nor LaTeX.
"""

from __future__ import annotations

import html as _html
import json
import re
import time
import unicodedata
from pathlib import Path
from typing import Any

from ..code_version import training_code
from ..io import atomic_write_json, atomic_write_text, read_json
from ..paths import REPO_ROOT
from ..provenance import provenance_dir
from ..runs import git_commit, results_root
from . import first_screen

# Cells 2 px from their neighbours instead of JupyterLab's 5 (each cell's own margins stay):
# the published report 1,092 px shorter at 1400 px wide, nothing hidden (2026-12-07)
STYLE = """<style>
.warn{background:#fff3cd;border:2px solid #d39e00;padding:.6em 1em;font-weight:bold;margin:.5em 0}
.jp-RenderedHTMLCommon table{font-size:12px} .toc li{margin:0}
.toc ul{columns:2;column-gap:2em;list-style:none;padding-left:0} .toc li{margin:0}
.toc .sub{padding-left:1.2em;font-size:90%}
a.totop{position:fixed;right:.5em;bottom:.5em;background:#fff;border:1px solid #888;
  padding:.2em .5em;border-radius:4px;text-decoration:none;z-index:10;font-size:85%;opacity:.85}
@media (max-width:1279px){a.totop{display:none}}
details>summary{cursor:pointer;color:#245}
.jp-Notebook-cell{padding-top:2px;padding-bottom:2px}
.jp-OutputArea-output img{max-width:min(100%,640px);max-height:460px;width:auto;height:auto}
.jp-RenderedMarkdown img{max-width:min(100%,900px);max-height:760px;width:auto;height:auto}
p.caption{margin-top:0;font-size:92%;max-width:640px}
.figrow{display:flex;flex-wrap:wrap;align-items:center;gap:0 1.5em} .figrow img{flex:none} .figrow p.caption{flex:1 1 300px}
h3#terms + ul{columns:2;column-gap:2em;font-size:92%} h3#terms + ul li{break-inside:avoid}
</style>"""
TOC_MARK = "@@CONTENTS@@"


def summaries_path(profile: str) -> Path:
    return results_root(profile) / "summaries.json"


def record_summaries(profile: str, summaries: dict[str, str]) -> None:
    """Called by the conclusions notebook: each section's closing line (Markdown), keyed by
    its notebook's file stem; the report places each at the end of its notebook's cells."""
    atomic_write_json(summaries_path(profile), summaries)


def anchor(text: str) -> str:
    """The id of a heading: ASCII letters and digits joined by '-', lower case, so that it
    survives any punctuation (apostrophes, '%', '~', '·') in the heading and in a link."""
    ascii_text = "".join(c if c.isascii() else "" if unicodedata.combining(c) else " "
                         for c in unicodedata.normalize("NFKD", text))
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-") or "section"


def notebook_anchor(name: str) -> str:
    """The id of the place a notebook's part of the report starts (`name`: its file stem or
    its params file, e.g. "a5_mask_sweep" or "a5_mask_sweep.yaml"): links to a notebook need
    not know its headings."""
    return "notebook-" + anchor(Path(name).stem)


def _with_anchor(cells: list, stem: str) -> list:
    """A notebook's cells with its `notebook_anchor` first (after a part-opening heading)."""
    from nbformat.v4 import new_markdown_cell

    i = 1 if cells and cells[0].cell_type == "markdown" and cells[0].source.startswith("# ") else 0
    return [*cells[:i], new_markdown_cell(f"<a id='{notebook_anchor(stem)}'></a>"), *cells[i:]]


HEADING = re.compile(r"<h([1-6])([^>]*)>(.*?)</h\1>", re.DOTALL)


def link_headings(page: str) -> str:
    """Give every heading of the rendered page the id `anchor` makes of its text (a repeated
    one gets -2, -3, ...), point its ¶ link there, and put the contents (levels 1-2, from the
    same headings, so every link resolves) where the `TOC_MARK` paragraph stands."""
    seen: dict[str, int] = {}
    toc: list[str] = []
    toc_started = False  # the page's title (its first level-1 heading) is not listed

    def fix(m: re.Match) -> str:
        nonlocal toc_started
        level, attrs, inner = m.group(1), m.group(2), m.group(3)
        inner = re.sub(r"<a class=\"anchor-link\"[^>]*>.*?</a>", "", inner, flags=re.DOTALL)
        text = _html.unescape(re.sub(r"<[^>]+>", "", inner)).strip()
        base = anchor(text)
        seen[base] = seen.get(base, 0) + 1
        hid = base if seen[base] == 1 else f"{base}-{seen[base]}"
        attrs = re.sub(r"\s*id=\"[^\"]*\"", "", attrs)
        title, toc_started = level == "1" and not toc_started, True
        if level in "12" and text not in ("Contents", "Findings") and not title:
            cls = "" if level == "1" else " class='sub'"
            toc.append(f"<li{cls}><a href='#{hid}'>{_html.escape(text)}</a></li>")
        return (f"<h{level}{attrs} id=\"{hid}\">{inner}"
                f"<a class=\"anchor-link\" href=\"#{hid}\">¶</a></h{level}>")

    page = HEADING.sub(fix, page)
    contents = "<div class='toc'><ul>" + "".join(toc) + "</ul></div>"
    page = re.sub(rf"<p>\s*{TOC_MARK}\s*</p>", lambda _: contents, page)
    return page.replace("</body>", "<a class='totop' href='#contents'>↑ Contents</a></body>", 1)


def code_provenance(runs: dict[str, dict[str, Any]]) -> tuple[str, list[str]]:
    """Which training code made the runs (a notebook's provenance `runs`): a line naming each
    code fingerprint with its number of runs, and the runs NOT made by the current code."""
    current = training_code()
    by_code: dict[str, list[str]] = {}
    for run_dir, r in runs.items():
        by_code.setdefault(r.get("code", "unrecorded"), []).append(run_dir)
    parts, stale = [], []
    for code, dirs in sorted(by_code.items(), key=lambda kv: (kv[0] != current, kv[0])):
        if code == current:
            parts.append(f"`{code}` (this code) trained {len(dirs)} runs")
        else:
            parts.append(f"`{code}` (NOT this code) trained {len(dirs)}: " + ", ".join(sorted(dirs)))
            stale += dirs
    return "; ".join(parts) or "-", sorted(stale)


def shared_training_note(runs: dict[str, dict[str, Any]]) -> str:
    """What the training times include: runs trained beside other notebooks (`make -jN`)."""
    shared = [r for r in runs.values() if (r.get("parallel_jobs") or 1) > 1]
    if not shared:
        return ""
    jobs = max(r["parallel_jobs"] for r in shared)
    return (f"; {len(shared)} of them trained beside other notebooks (`make -j{jobs}`, "
            f"{min(r.get('threads') or 1 for r in shared)}+ threads each), so their times "
            "include the sharing")


def _header(profile: str, notebooks: list[Path]) -> tuple[str, str]:
    """(title and warnings, the run's details as a collapsed block) of the report."""
    prov = {p.stem: read_json(p) for p in sorted(provenance_dir(profile).glob("*.json"))
            if any(p.stem == nb.stem for nb in notebooks)}
    datasets = sorted({f"{p['dataset']} — {p['source']}" for p in prov.values()})
    devices = sorted({p["device"] for p in prov.values()})
    runs = {d: r for p in prov.values() for d, r in p.get("runs", {}).items()}  # each run once
    train_s = sum(r.get("train_seconds", 0.0) for r in runs.values())
    exec_s = 0.0
    for nb_path in notebooks:
        meta = json.loads(nb_path.read_text()).get("metadata", {}).get("papermill", {})
        exec_s += float(meta.get("duration") or 0.0)
    from ..resolve import load_profile

    note = load_profile(profile).get("description", "")
    smoke = any("synthetic" in d for d in datasets)
    random_vgg = [p.get("params", {}).get("title", name) for name, p in prov.items()
                  if p.get("random_vgg")]
    top = ["# Image inpainting with deep learning — reproduction report", ""]
    warnings = []
    code_line, stale = code_provenance(runs)
    if stale:
        warnings.append(f"{len(stale)} runs shown were trained by other code than this "
                        "commit's (see *Training code* in the details below): re-execute the "
                        "notebooks (`make report`) to retrain them.")
    if smoke:
        warnings.append("SMOKE PROFILE: trained and evaluated on generated shapes, not real "
                        "images. Every number here only checks the pipeline.")
    if random_vgg:
        warnings.append("The perceptual loss used a RANDOMLY INITIALISED VGG-16 (pretrained "
                        "weights were not available), so the runs with a perceptual term are "
                        "not trained with the study's loss, in: " + "; ".join(random_vgg) + ".")
    details = [
        "<details><summary>How this report was made: profile, data, device, code, time</summary>",
        "",
        f"- **Profile:** `{profile}` — {note}",
        "- **Datasets:** " + ("; ".join(datasets) or "-"),
        "- **Device:** " + (", ".join(devices) or "-"),
        f"- **Code:** git commit `{git_commit()}`",
        f"- **Training code** (fingerprint of `inpaint_lib`'s training files): {code_line}",
        (f"- **Time taken:** {exec_s / 60:.1f} min executing {len(notebooks)} notebooks; the "
         f"{len(runs)} training runs they use took {train_s / 60:.1f} min when trained "
         "(cached runs are not retrained)" + shared_training_note(runs)),
        f"- **Rendered:** {time.strftime('%Y-%m-%d %H:%M %Z')}",
        "",
        ("Specification: *Image Inpainting with Deep Learning: Convolutional Autoencoders and "
         "Vision Transformers* (the study). Where a table shows *study's* numbers, they are the "
         "study's own published values; every other number is computed by this run."),
        "", "</details>",
    ]
    warn = "".join(f"<div class='warn'>⚠ {w}</div>\n" for w in warnings)
    return "\n".join(top) + "\n\n" + STYLE, warn + "\n## Contents\n\n" + TOC_MARK + "\n\n" + \
        "\n".join(details)


def _number(value: float) -> str:
    if value == 0:
        return "0"
    if abs(value) >= 1e5 or abs(value) < 1e-2:
        return f"{value:.3g}"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"


def quantity_table(node: Any) -> list[str]:
    """Markdown table rows of every leaf under `node` (nested dicts of {"value", "unit"})."""
    rows = ["| quantity | value | unit |", "| --- | ---: | --- |"]

    def walk(path: str, n: Any) -> None:
        if isinstance(n, dict) and set(n) == {"value", "unit"}:
            rows.append(f"| {path} | {_number(n['value'])} | {n['unit']} |")
        elif isinstance(n, dict):
            for k, v in n.items():
                walk(f"{path}.{k}" if path else k, v)
        else:
            rows.append(f"| {path} | {'; '.join(map(str, n)) if isinstance(n, list) else n} |  |")

    walk("", node)
    return rows


def bench_summary(results: dict[str, Any], level: str = "###") -> str:
    """Targets, notes, ratios and projection of one benchmark's results, as Markdown."""
    lines = [f"{level} Targets (medians; best-of repeats in brackets)", "",
             "| target | measured | goal | pass |", "| --- | ---: | --- | --- |"]
    for t in results["targets"]:
        best = f" [{t['value_best_of']:.3g}x]" if "value_best_of" in t else ""
        lines.append(f"| {t['name']} | {t['value']:.3g}x{best} | {t['goal']} | "
                     f"{'PASS' if t['pass'] else 'FAIL'} |")
    lines += ["", f"{level} Notes", "", *[f"- {n}" for n in results["notes"]]]
    lines += ["", f"{level} Ratios", "", *quantity_table(results["ratios"])]
    lines += ["", f"{level} Projected wall time of the full profile", "",
              *quantity_table(results["projection"])]
    return "\n".join(lines)


def performance_appendix(devices: list[str], bench_dir: Path | None = None) -> str:
    """'Performance' appendix from the newest benchmark results (results/bench/<device>.json)
    of the report's kind of device (CUDA if any notebook ran on CUDA, else CPU)."""
    bench_dir = bench_dir or REPO_ROOT / "results" / "bench"
    kind = "cuda" if any(d.startswith("cuda") for d in devices) else "cpu"
    found = []
    for path in sorted(bench_dir.glob("*.json")):
        data = read_json(path)
        meta = data.get("meta", {})
        if meta.get("device_type", "cpu" if path.stem.startswith("cpu") else "cuda") == kind:
            found.append((meta.get("date", ""), path.name, data))
    head = "## Appendix: Performance\n\n"
    if not found:
        return head + (f"No benchmark results for a {kind.upper()} device yet: `make bench` "
                       "on one writes results/bench/<device>.json.")
    _, name, data = max(found, key=lambda f: (f[0], f[1]))
    if not data.get("complete") or not {"targets", "notes", "ratios", "projection"} <= set(data):
        return head + (f"`results/bench/{name}` is from an interrupted or much older benchmark: "
                       "rerun `make bench` for this appendix.")
    meta = data["meta"]
    quick = " in --quick mode (a smoke test: sizes too small to read)" if meta.get("quick") else ""
    rows = ["| what is compared | measured | goal | on this machine |", "| --- | ---: | --- | --- |"]
    for t in data["targets"]:
        best = f" (best of repeats {t['value_best_of']:.3g}x)" if "value_best_of" in t else ""
        rows.append(f"| {t['name']} | {t['value']:.3g}x{best} | {t['goal']} | "
                    f"{'meets the goal' if t['pass'] else '**misses the goal**'} |")
    met = sum(t["pass"] for t in data["targets"])
    return head + "\n".join([
        (f"From `results/bench/{name}` (`make bench` on {meta['device_name']}, "
         f"{meta['date'][:10]}, torch {meta['torch']}{quick}): {met} of {len(data['targets'])} "
         "speed goals met. Each goal is the ratio of two measurements taken side by side in one "
         "process (medians after warm-up); a missed goal is a speed target this machine did not "
         "reach, and no number of the report depends on it."),
        "", "<details><summary>The goals, measured</summary>", "", *rows, "", "</details>", "",
        ("<details><summary>The benchmark's notes, every ratio and the projected time of the "
        "full profile</summary>"), "", "#### Notes", "", *[f"- {n}" for n in data["notes"]],
        "", "#### Ratios", "", *quantity_table(data["ratios"]), "",
        "#### Projected wall time of the full profile", "", *quantity_table(data["projection"]),
        "", "</details>"])


PART_OPENING = "part-opening"  # the tag of an opening notebook's cells that precede its part


def _part_opener_first(part: list[list]) -> list:
    """The cells of one part's notebooks in order, with the part's opening cell (a notebook
    that starts with a level-1 heading, e.g. b8's "# Part B") moved to the front, so that the
    seven phase notebooks sit under Part B's heading, not Part A's; with it, that notebook's
    cells tagged `PART_OPENING` (b8's model and training schedule, the study's sections 4 and
    5, which the phases, 5.1-5.7, follow)."""
    openers = [i for i, cells in enumerate(part) if cells and cells[0].cell_type == "markdown"
               and cells[0].source.startswith("# ")]
    if openers and openers[0] > 0:
        first = openers[0]
        tagged = [PART_OPENING in c.metadata.get("tags", []) for c in part[first]]
        head = [part[first][0], *[c for c, t in zip(part[first][1:], tagged[1:]) if t]]
        rest = [c for c, t in zip(part[first][1:], tagged[1:]) if not t]
        part = [head, *part[:first], rest, *part[first + 1:]]
    return [cell for cells in part for cell in cells]


def _is_conclusions(notebook: Path) -> bool:
    """Whether an executed notebook is a conclusions notebook (its params file names the
    studies it concludes), which the report puts last whatever its name."""
    import yaml

    params = REPO_ROOT / "params" / f"{notebook.stem}.yaml"
    return params.exists() and "part_a" in (yaml.safe_load(params.read_text()) or {})


def build_report(profile: str, out: str | Path | None = None) -> Path:
    import nbformat  # imported here: notebooks record provenance without nbconvert
    from nbconvert import HTMLExporter
    from nbformat.v4 import new_markdown_cell

    nb_dir = results_root(profile) / "notebooks"
    notebooks = sorted(nb_dir.glob("*.ipynb"))
    if not notebooks:
        raise FileNotFoundError(f"no executed notebooks in {nb_dir}: run `make report PROFILE={profile}`")
    merged = nbformat.v4.new_notebook()
    parts: dict[str, list] = {}  # a, b, c, ...: the notebooks of each part, in order
    summaries = read_json(summaries_path(profile)) if summaries_path(profile).exists() else {}
    for path in sorted(notebooks, key=_is_conclusions):  # stable: the conclusions last
        nb = nbformat.read(path, as_version=4)
        cells = [c for c in nb.cells if not {"parameters", "injected-parameters", "notebook-only"}
                 & set(c.metadata.get("tags", []))]
        if path.stem in summaries:  # the section's closing line, written by the conclusions
            cells.append(new_markdown_cell(summaries[path.stem]))
        parts.setdefault("conclusions" if _is_conclusions(path) else path.name[0], []).append(
            _with_anchor(cells, path.stem))
    body = [cell for part in parts.values() for cell in _part_opener_first(part)]
    devices = [read_json(p)["device"] for p in provenance_dir(profile).glob("*.json")]
    body.append(new_markdown_cell(performance_appendix(devices)))
    title, contents = _header(profile, notebooks)
    findings = first_screen.findings_path(profile)
    opening = [title] + ([first_screen.render(first_screen.load(findings, "this run"),
                                              first_screen.against_published(profile))]
                         if findings.exists() else []) + [contents]
    merged.cells = [new_markdown_cell(c) for c in opening] + body
    for i, cell in enumerate(merged.cells):
        cell["id"] = f"cell-{i:04d}"
        cell.metadata.pop("papermill", None)
    merged.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    exporter = HTMLExporter(template_name="lab", exclude_input=True, exclude_input_prompt=True,
                            exclude_output_prompt=True)
    html, _ = exporter.from_notebook_node(merged)
    html = re.sub(r"<script[^>]*src=\"https?://[^\"]*\"[^>]*>\s*</script>", "", html)
    html = link_headings(html)
    html = re.sub(r"<title>.*?</title>", "<title>Inpainting study — reproduction report</title>", html, count=1)
    out_path = Path(out) if out else results_root(profile) / "report.html"
    atomic_write_text(out_path, html)
    return out_path
