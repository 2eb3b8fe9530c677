"""Assemble the executed notebooks of a profile into one self-contained HTML report.

The notebooks in ``results/<profile>/notebooks/`` (executed by papermill, in file
name order) are merged with nbformat (fresh cell ids) behind a header cell that
states the profile, datasets, device, git commit, which code trained the runs, time taken and a table of
contents; nbconvert renders it once with code hidden. Figures are embedded PNGs.
The report reads offline: the CDN scripts nbconvert adds (require.js, MathJax)
are dropped, since the report uses neither widgets nor LaTeX.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

from .code_version import training_code
from .io import atomic_write_json, atomic_write_text, read_json
from .runs import REPO_ROOT, git_commit, results_root

STYLE = """<style>
.warn{background:#fff3cd;border:2px solid #d39e00;padding:.6em 1em;font-weight:bold;margin:.5em 0}
.jp-RenderedHTMLCommon table{font-size:12px} .toc li{margin:0}
</style>"""


def provenance_dir(profile: str) -> Path:
    return results_root(profile) / "provenance"


def record_provenance(profile: str, name: str, info: dict) -> None:
    """Called by each notebook: what it used (dataset, device, runs), for the header."""
    atomic_write_json(provenance_dir(profile) / f"{name}.json", info)


def _anchor(text: str) -> str:
    return re.sub(r"\s+", "-", text.strip())


def _toc(cells: list) -> str:
    lines = ["## Contents", "<ul class='toc'>"]
    for cell in cells:
        texts = [cell.source] if cell.cell_type == "markdown" else [
            "".join(o.get("data", {}).get("text/markdown", "")) for o in cell.get("outputs", [])]
        for line in "\n".join(texts).splitlines():
            m = re.match(r"^(#{1,2})\s+(.*)$", line)
            if m:
                indent = "" if len(m.group(1)) == 1 else "&nbsp;&nbsp;&nbsp;&nbsp;"
                lines.append(f"<li>{indent}<a href='#{_anchor(m.group(2))}'>{m.group(2)}</a></li>")
    return "\n".join(lines + ["</ul>"])


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


def _header(profile: str, notebooks: list[Path]) -> str:
    prov = [read_json(p) for p in sorted(provenance_dir(profile).glob("*.json"))
            if any(p.stem == nb.stem for nb in notebooks)]
    datasets = sorted({f"{p['dataset']} — {p['source']}" for p in prov})
    devices = sorted({p["device"] for p in prov})
    runs = {d: r for p in prov for d, r in p.get("runs", {}).items()}  # each run once
    train_s = sum(r.get("train_seconds", 0.0) for r in runs.values())
    exec_s = 0.0
    for nb_path in notebooks:
        meta = json.loads(nb_path.read_text()).get("metadata", {}).get("papermill", {})
        exec_s += float(meta.get("duration") or 0.0)
    from .resolve import load_profile

    note = load_profile(profile).get("description", "")
    smoke = any("synthetic" in d for d in datasets)
    random_vgg = [p.stem for p in sorted(provenance_dir(profile).glob("*.json"))
                  if any(p.stem == nb.stem for nb in notebooks) and read_json(p).get("random_vgg")]
    code_line, stale = code_provenance(runs)
    lines = ["# Image inpainting with deep learning — reproduction report", ""]
    if stale:
        lines.append(f"<div class='warn'>⚠ {len(stale)} runs shown were trained by other code "
                     "than this commit's (see *Training code* below): re-execute the notebooks "
                     "(`make report`) to retrain them.</div>\n")
    if smoke:
        lines.append("<div class='warn'>⚠ SMOKE PROFILE: trained and evaluated on generated shapes, "
                     "not real images. Every number here only checks the pipeline.</div>\n")
    if random_vgg:
        lines.append("<div class='warn'>⚠ The perceptual loss used a RANDOMLY INITIALISED VGG-16 "
                     "(pretrained weights were not available) in " + ", ".join(random_vgg) +
                     ": the runs with a perceptual term there are not trained with the study's "
                     "perceptual loss.</div>\n")
    lines += [
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
    ]
    return "\n".join(lines) + "\n\n" + STYLE


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
    return head + (f"From `results/bench/{name}` (`make bench` on {meta['device_name']}, "
                   f"{meta['date'][:10]}, torch {meta['torch']}{quick}): every ratio compares "
                   "things timed side by side in one process, medians after warm-up.\n\n"
                   + bench_summary(data))


def _part_opener_first(part: list[list]) -> list:
    """The cells of one part's notebooks in order, with the part's opening cell (a notebook
    that starts with a level-1 heading, e.g. b8's "# Part B") moved to the front, so that the
    seven phase notebooks sit under Part B's heading, not Part A's."""
    openers = [i for i, cells in enumerate(part) if cells and cells[0].cell_type == "markdown"
               and cells[0].source.startswith("# ")]
    if openers and openers[0] > 0:
        first = openers[0]
        part = [[part[first][0]], *part[:first], part[first][1:], *part[first + 1:]]
    return [cell for cells in part for cell in cells]


def build_report(profile: str, out: str | Path | None = None) -> Path:
    import nbformat  # imported here: notebooks record provenance without nbconvert
    from nbconvert import HTMLExporter
    from nbformat.v4 import new_markdown_cell

    nb_dir = results_root(profile) / "notebooks"
    notebooks = sorted(nb_dir.glob("*.ipynb"))
    if not notebooks:
        raise FileNotFoundError(f"no executed notebooks in {nb_dir}: run `make report PROFILE={profile}`")
    merged = nbformat.v4.new_notebook()
    parts: dict[str, list] = {}  # a, b, c: the notebooks of each part, in order
    for path in notebooks:
        nb = nbformat.read(path, as_version=4)
        parts.setdefault(path.name[0], []).append(
            [c for c in nb.cells if not {"parameters", "injected-parameters", "notebook-only"}
             & set(c.metadata.get("tags", []))])
    body = [cell for part in parts.values() for cell in _part_opener_first(part)]
    devices = [read_json(p)["device"] for p in provenance_dir(profile).glob("*.json")]
    body.append(new_markdown_cell(performance_appendix(devices)))
    merged.cells = [new_markdown_cell(_header(profile, notebooks)), new_markdown_cell(_toc(body))] + body
    for i, cell in enumerate(merged.cells):
        cell["id"] = f"cell-{i:04d}"
        cell.metadata.pop("papermill", None)
    merged.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    exporter = HTMLExporter(template_name="lab", exclude_input=True, exclude_input_prompt=True,
                            exclude_output_prompt=True)
    html, _ = exporter.from_notebook_node(merged)
    html = re.sub(r"<script[^>]*src=\"https?://[^\"]*\"[^>]*>\s*</script>", "", html)
    html = re.sub(r"<title>.*?</title>", "<title>Inpainting study — reproduction report</title>", html, count=1)
    out_path = Path(out) if out else results_root(profile) / "report.html"
    atomic_write_text(out_path, html)
    return out_path
