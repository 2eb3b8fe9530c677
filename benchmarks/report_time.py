"""Where the time of the README's two commands goes, per notebook and per test.

    python -m benchmarks.report_time --results /tmp/rq [--profile quick] [--tests junit.xml]
                                     [--fresh] [--label NAME] [--out results/bench]

With ``--fresh`` it first builds the report from an empty results folder (``make report``,
the environment's ``INPAINT_OVERRIDES`` and ``MAKEFLAGS`` apply); otherwise it reads a report
already built there. Each executed notebook's time is split (``inpaint_lib/timings.py``, recorded
by the Makefile's papermill recipe) into start-up (kernel launch, imports, params), data loading,
training, scoring (network predictions and metrics), classical fills, and the notebook's own
cells (tables, figures: the remainder), then the report's rendering. ``--tests`` adds the test
suite per test and per file from a JUnit XML file (``pytest --junitxml``).

Saved as ``<out>/report-time-<label>.json`` and ``.md`` with the host: CPU, instruction sets, the
fp32 and bf16 matmul rates (2048^3, median of 10, on the threads the notebooks used) and the
precision the runs trained in. Hosts of this kind differ several times over: compare two
things measured on one host, not two hosts.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import torch

from inpaint_lib.timings import PHASES

COLUMNS = ("start-up", *PHASES, "notebook cells")


def matmul_gflops(dtype: torch.dtype, n: int = 2048, repeats: int = 10) -> float:
    """(n x n) @ (n x n) in `dtype`: GFLOP/s of the median call. Where one call takes over a
    second (bf16 on a CPU without bf16 instructions runs at a few GFLOP/s: minutes for ten
    calls), the rate of that one call."""
    a, b = torch.randn(n, n).to(dtype), torch.randn(n, n).to(dtype)
    t0 = time.perf_counter()
    a @ b
    first = time.perf_counter() - t0
    if first > 1.0:
        return 2 * n**3 / first / 1e9
    for _ in range(2):
        a @ b
    seconds = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        a @ b
        seconds.append(time.perf_counter() - t0)
    return 2 * n**3 / statistics.median(seconds) / 1e9


def cpu_facts() -> dict[str, Any]:
    """The CPU's name, the instruction sets that decide the precision, torch's kernels."""
    name, flags = "unknown", set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name") and name == "unknown":
                name = line.split(":", 1)[1].strip()
            elif line.startswith("flags") and not flags:
                flags = set(line.split(":", 1)[1].split())
    except OSError:
        pass
    wanted = ("avx2", "avx512f", "avx512_bf16", "amx_bf16")
    return {"cpu": name, "cores": os.cpu_count(), "isa": [f for f in wanted if f in flags],
            "torch_kernels": torch.backends.cpu.get_cpu_capability(),
            "onednn_isa_cap": os.environ.get("ONEDNN_MAX_CPU_ISA"),
            "aten_capability_cap": os.environ.get("ATEN_CPU_CAPABILITY")}


def precisions(res: Path) -> list[str]:
    """The precisions the profile's runs trained in (their config.json)."""
    found = set()
    for cfg in res.glob("runs/*/config.json"):
        try:
            found.add(json.loads(cfg.read_text()).get("precision", "unrecorded"))
        except (OSError, ValueError):
            continue
    return sorted(found)


def notebook_rows(res: Path) -> list[dict[str, Any]]:
    """One row per executed notebook (in the order they started): wall seconds and its split."""
    rows = []
    for wall_file in sorted((res / "timings").glob("*.wall.json")):
        name = wall_file.name.removesuffix(".wall.json")
        wall = json.loads(wall_file.read_text())
        phases_file = res / "timings" / f"{name}.json"
        rec = json.loads(phases_file.read_text()) if phases_file.exists() else {"phases": {}}
        row: dict[str, Any] = {"notebook": name, "start": wall["start"], "end": wall["end"],
                               "wall": wall["end"] - wall["start"],
                               "threads": wall.get("threads"), "jobs": wall.get("jobs")}
        if name == "report":  # the rendering of the HTML report: no kernel
            row.update({c: 0.0 for c in COLUMNS})
            row["notebook cells"] = row["wall"]
        else:
            row["start-up"] = rec.get("start_up") or 0.0
            for p in PHASES:
                row[p] = rec["phases"].get(p, 0.0)
            row["notebook cells"] = max(0.0, row["wall"] - sum(row[c] for c in COLUMNS[:-1]))
        rows.append(row)
    return sorted(rows, key=lambda r: r["start"])


def test_rows(junit: Path) -> tuple[list[dict[str, Any]], dict[str, float], float]:
    """(every test with its seconds, slowest first; seconds per file; the suite's total)."""
    root = ET.parse(junit).getroot()
    tests, per_file = [], {}
    for case in root.iter("testcase"):
        seconds = float(case.get("time", 0))
        file = case.get("classname", "").replace(".", "/") + ".py"
        tests.append({"test": f"{file}::{case.get('name')}", "seconds": seconds})
        per_file[file] = per_file.get(file, 0.0) + seconds
    suites = [float(s.get("time", 0)) for s in root.iter("testsuite")]
    return sorted(tests, key=lambda t: -t["seconds"]), per_file, max(suites or [0.0])


def human(seconds: float) -> str:
    s = round(seconds)
    return f"{s // 60}:{s % 60:02d}"


def markdown(r: dict[str, Any]) -> str:
    host = r["host"]
    out = [f"# Where the time goes: {r['label']}", "",
           (f"{r['date']} | {host['cpu']} | {host['cores']} cores | ISA {', '.join(host['isa'])} | "
           f"torch kernels {host['torch_kernels']} | fp32 matmul **{host['fp32_gflops']:.0f} "
           f"GFLOP/s**, bf16 **{host['bf16_gflops']:.3g} GFLOP/s** (2048^3, median of 10, "
           f"{host['threads']} threads) | trained in **{', '.join(r['precision']) or 'n/a'}**"), ""]
    if host.get("onednn_isa_cap") or host.get("aten_capability_cap"):
        out += [(f"Instruction sets capped to emulate a slower host: ONEDNN_MAX_CPU_ISA="
                f"{host.get('onednn_isa_cap')}, ATEN_CPU_CAPABILITY={host.get('aten_capability_cap')}."), ""]
    if r.get("command"):
        out += [f"Command: `{r['command']}`", ""]
    rows = r["notebooks"]
    if rows:
        total = max(x["end"] for x in rows) - min(x["start"] for x in rows)
        out += [(f"## The report ({r['profile']} profile): **{human(total)}** (min:s) from the first "
                f"notebook's start to the rendered HTML; notebooks summed {human(sum(x['wall'] for x in rows))}"),
                "", "| notebook | wall | " + " | ".join(COLUMNS) + " | threads x jobs |",
                "|---|---:|" + "---:|" * len(COLUMNS) + "---|"]
        for x in rows:
            out.append(f"| {x['notebook']} | {x['wall']:.1f} | "
                       + " | ".join(f"{x[c]:.1f}" for c in COLUMNS)
                       + f" | {x.get('threads') or '-'} x {x.get('jobs') or '-'} |")
        sums = {c: sum(x[c] for x in rows) for c in COLUMNS}
        out.append(f"| **sum** | **{sum(x['wall'] for x in rows):.1f}** | "
                   + " | ".join(f"**{sums[c]:.1f}**" for c in COLUMNS) + " | |")
        out += ["", ("Seconds. Start-up: from make starting the notebook to its params validated "
                "(kernel launch, imports). Notebook cells: the rest (tables, figures, pandas).")]
    if r.get("tests"):
        t = r["tests"]
        out += ["", (f"## The test suite: **{human(t['total'])}** (pytest's own total; "
                f"environment not included)"), "", "| file | seconds |", "|---|---:|"]
        for f, s in sorted(t["per_file"].items(), key=lambda kv: -kv[1])[:15]:
            out.append(f"| {f} | {s:.1f} |")
        out += ["", "| slowest tests | seconds |", "|---|---:|"]
        for x in t["slowest"][:15]:
            out.append(f"| `{x['test']}` | {x['seconds']:.1f} |")
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(prog="python -m benchmarks.report_time", description=__doc__.split("\n")[0])
    p.add_argument("--results", type=Path, required=True, help="the RESULTS folder of the report")
    p.add_argument("--profile", default="quick")
    p.add_argument("--fresh", action="store_true", help="build the report from empty first")
    p.add_argument("--tests", type=Path, help="a JUnit XML file of a test-suite run")
    p.add_argument("--label", default=None, help="the file's name (default: cpu-<cores>cores-<precision>)")
    p.add_argument("--out", type=Path, default=Path("results/bench"))
    args = p.parse_args(argv)
    res = args.results / args.profile
    command = None
    if args.fresh:
        shutil.rmtree(res, ignore_errors=True)
        cmd = ["make", "report", f"PROFILE={args.profile}", f"RESULTS={args.results}"]
        command = " ".join(cmd)
        subprocess.run(cmd, check=True)
    threads = int(os.environ.get("OMP_NUM_THREADS", torch.get_num_threads()))
    torch.set_num_threads(threads)
    host = {**cpu_facts(), "threads": threads, "fp32_gflops": matmul_gflops(torch.float32),
            "bf16_gflops": matmul_gflops(torch.bfloat16)}
    result: dict[str, Any] = {"date": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "host": host,
                              "profile": args.profile, "precision": precisions(res),
                              "command": command, "notebooks": notebook_rows(res)}
    if args.tests:
        slowest, per_file, total = test_rows(args.tests)
        result["tests"] = {"total": total, "per_file": per_file, "slowest": slowest}
    label = args.label or f"cpu-{os.cpu_count()}cores-{'-'.join(result['precision']) or 'tests'}"
    result["label"] = label.replace(" ", "-")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"report-time-{result['label']}.json").write_text(json.dumps(result, indent=1))
    (args.out / f"report-time-{result['label']}.md").write_text(markdown(result))
    print(markdown(result))
    return result


if __name__ == "__main__":
    main(sys.argv[1:])
