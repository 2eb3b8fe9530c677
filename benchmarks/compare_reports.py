"""Are two builds of a report the same science? Every table and the findings, timings aside.

    python -m benchmarks.compare_reports RESULTS_A RESULTS_B [--profile quick]

For each notebook executed in both results folders: its tables (HTML tables, pandas' random
ids dropped, and the rows of Markdown tables) and its Markdown text, with every duration masked
(a number followed by s, min, h, seconds, minutes or hours, and the training-time columns'
cells); then the rendered reports' findings. Prints each difference (notebook, the two lines)
and exits 1 if there is one, 0 if the two builds agree everywhere but in their timings: what a
speed change must leave alone (issue: the two commands at the speed of an ordinary CPU).
"""

from __future__ import annotations

import argparse
import difflib
import json
import re
import sys
from html import unescape
from pathlib import Path

DURATION = re.compile(r"\b\d+(?:[.,]\d+)*(?:\s|&nbsp;)*(?:s|min|h|ms|seconds?|minutes?|hours?)\b")
# columns whose cells are durations (a duration without its unit in the cell)
TIME_COLUMNS = re.compile(r"(training s|seconds|× seven-phase time|time \(s\)|s per|wall)", re.IGNORECASE)


def _mask(text: str) -> str:
    return DURATION.sub("<duration>", text)


def _html_tables(html: str) -> list[str]:
    """Each table as rows of cells, the cells of duration columns masked."""
    out = []
    for table in re.findall(r"<table.*?</table>", html, re.DOTALL):
        table = re.sub(r' id="[^"]*"|T_[0-9a-f]{5}(_\w+)?', "", table)
        rows = [re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", r, re.DOTALL)
                for r in re.findall(r"<tr.*?</tr>", table, re.DOTALL)]
        header = next((r for r in rows if r), [])
        timed = {i for i, h in enumerate(header) if TIME_COLUMNS.search(unescape(h))}
        for r in rows:
            out.append(" | ".join("<duration>" if i in timed and i < len(header) and r is not header
                                  else _mask(unescape(re.sub(r"<[^>]+>", "", c)).strip())
                                  for i, c in enumerate(r)))
    return out


def notebook_lines(path: Path) -> list[str]:
    """What a reader reads in an executed notebook's outputs (tables and text), timings masked."""
    cells = json.loads(path.read_text())["cells"]
    lines: list[str] = []
    for out in (o for c in cells for o in c.get("outputs", [])):
        data = out.get("data", {})
        html = "".join(data.get("text/html", ""))
        if html:
            lines += _html_tables(html)
        md = "".join(data.get("text/markdown", ""))
        if md:
            header: list[str] = []
            for line in md.splitlines():
                if line.startswith("|") and not header:
                    header = [h.strip() for h in line.strip("|").split("|")]
                if line.startswith("|"):
                    cells_ = [c.strip() for c in line.strip("|").split("|")]
                    lines.append(" | ".join("<duration>" if i < len(header) and TIME_COLUMNS.search(header[i])
                                            and cells_ != header else _mask(c)
                                            for i, c in enumerate(cells_)))
                else:
                    header = []
                    if line.strip():
                        lines.append(_mask(line.strip()))
    return lines


def findings(report: Path) -> list[str]:
    """The rendered report's findings, as text lines, timings masked."""
    html = report.read_text()
    m = re.search(r'id="findings"(.*?)id="terms"', html, re.DOTALL)
    if not m:
        return []
    text = unescape(re.sub(r"<[^>]+>", "\n", re.sub(r"<img[^>]*>", "", m.group(1))))
    return [_mask(line.strip()) for line in text.splitlines() if line.strip()]


def compare(a: Path, b: Path) -> list[str]:
    """Every difference between two profile folders' notebooks and findings, timings aside."""
    diffs = []
    names = sorted({p.name for p in (a / "notebooks").glob("*.ipynb")}
                   & {p.name for p in (b / "notebooks").glob("*.ipynb")})
    pairs = [(n, notebook_lines(a / "notebooks" / n), notebook_lines(b / "notebooks" / n)) for n in names]
    if (a / "report.html").exists() and (b / "report.html").exists():
        pairs.append(("findings", findings(a / "report.html"), findings(b / "report.html")))
    for name, x, y in pairs:
        for line in difflib.unified_diff(x, y, lineterm="", n=0):
            if not line.startswith(("---", "+++", "@@")):
                diffs.append(f"{name}: {line}")
    return diffs


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.compare_reports", description=__doc__.split("\n")[0])
    p.add_argument("a", type=Path)
    p.add_argument("b", type=Path)
    p.add_argument("--profile", default="quick")
    args = p.parse_args(argv)
    a, b = args.a / args.profile, args.b / args.profile
    diffs = compare(a, b)
    n = len({p.name for p in (a / "notebooks").glob("*.ipynb")} & {p.name for p in (b / "notebooks").glob("*.ipynb")})
    for d in diffs:
        print(d)
    print(f"{n} notebooks and the findings compared: "
          + (f"{len(diffs)} differing lines" if diffs else "identical but for their timings"))
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
