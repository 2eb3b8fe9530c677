"""The smoke report, built once per run of the suite through the Makefile, as a user would.

`build` runs ``make -j2 report`` on the smoke profile (two notebooks at a time), stops it
twice while a run is training (Ctrl-C once at least one run has finished, SIGKILL once three
have), then runs it to the end: the report every end-to-end test reads is one that was
interrupted and resumed. Each notebook gets one thread (OMP_NUM_THREADS=1), so a run trains
with the same bits whichever make job or process trains it, and a resumed run can be checked
against a fresh training of the same run.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from .conftest import REPO, env_of_a_fresh_make

MAKE_TIMEOUT = 1200


def make_cmd(tmp: Path, *args: str, results: str = "results") -> tuple[list[str], dict[str, str]]:
    """``make ... PROFILE=smoke`` into `tmp`/`results`, with the caches and data in `tmp`."""
    env = {**env_of_a_fresh_make(), "INPAINT_CACHE_DIR": str(tmp / "cache"),
           "INPAINT_DATA_DIR": str(tmp / "data")}
    env.pop("INPAINT_RESULTS_DIR", None)
    env["OMP_NUM_THREADS"] = "1"  # one thread per notebook whatever make's -j: the same bits
    cmd = ["make", "--no-print-directory", f"RESULTS={tmp / results}", f"PY={sys.executable}",
           "ENV=", "PROFILE=smoke", *args]
    return cmd, env


def make(tmp: Path, *args: str, results: str = "results") -> subprocess.CompletedProcess[str]:
    cmd, env = make_cmd(tmp, *args, results=results)
    return subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=MAKE_TIMEOUT, check=False)


def descendants(pid: int) -> list[int]:
    """Every live process below `pid` (Jupyter starts its kernels in a session of their own, so
    a signal to make's process group does not reach the kernel that trains)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _signal_all(pids: list[int], sig: int) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)


def mid_training(res: Path) -> list[Path]:
    """Runs with a checkpoint but no final weights (a run that has just written final.pt
    still holds state.pt for a moment, and would not resume)."""
    return [s.parent for s in res.glob("runs/*/state.pt") if not (s.parent / "final.pt").exists()]


def interrupt_mid_training(proc: subprocess.Popen, res: Path, after: int, sig: int) -> list[Path]:
    """Once `after` runs have finished and another has a checkpoint, freeze make and everything
    below it (SIGSTOP), confirm that the checkpoint is still there (a 0.1 s epoch can finish the
    run between a look and a signal), then send `sig` to all of them. Returns the runs that
    were mid-training; empty if make finished first."""
    deadline = time.monotonic() + 600
    while proc.poll() is None and time.monotonic() < deadline:
        if len(list(res.glob("runs/*/final.pt"))) >= after and mid_training(res):
            pids = [proc.pid, *descendants(proc.pid)]
            _signal_all(pids, signal.SIGSTOP)
            caught = mid_training(res)
            if caught:  # still mid-training, now frozen
                _signal_all(pids, sig)
                _signal_all(pids, signal.SIGCONT)
                return caught
            _signal_all(pids, signal.SIGCONT)
        time.sleep(0.05)
    return []


@dataclass
class SmokeReport:
    tmp: Path
    res: Path
    stdout: str  # every make invocation's, in order
    stderr: str
    final: subprocess.CompletedProcess[str]  # the invocation that ran to the end
    caught: dict[str, list[Path]] = field(default_factory=dict)  # signal -> runs mid-training
    finished_before_rerun: dict[Path, float] = field(default_factory=dict)  # final.pt -> mtime
    notebooks_before_rerun: list[str] = field(default_factory=list)

    @property
    def html(self) -> str:
        from html import unescape

        return unescape((self.res / "report.html").read_text())


def build(tmp: Path) -> SmokeReport:
    """`make -j2 report` (smoke) stopped by Ctrl-C, then by SIGKILL, mid-training, then run to
    the end (see the module's doc)."""
    res = tmp / "results" / "smoke"
    outs, errs, caught = [], [], {}
    for i, (sig, after) in enumerate(((signal.SIGINT, 1), (signal.SIGKILL, 3))):
        cmd, env = make_cmd(tmp, "-j2", "report")
        with open(tmp / f"make{i}.out", "w") as out, open(tmp / f"make{i}.err", "w") as err:
            proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=out, stderr=err,
                                    start_new_session=True)
            caught[sig.name] = interrupt_mid_training(proc, res, after, sig)
            proc.wait(timeout=120)
        time.sleep(2)  # a kernel whose papermill died exits within a second (ipykernel's poller)
        outs.append((tmp / f"make{i}.out").read_text())
        errs.append((tmp / f"make{i}.err").read_text())
    finished = {p: p.stat().st_mtime for p in res.glob("runs/*/final.pt")}
    notebooks = sorted(p.stem for p in (res / "notebooks").glob("*.ipynb"))
    final = make(tmp, "-j2", "report")
    return SmokeReport(tmp, res, "".join(outs) + final.stdout, "".join(errs) + final.stderr,
                       final, caught, finished, notebooks)


def output_text(notebook: Path) -> str:
    """Every text a stored notebook's outputs hold (streams, text, HTML, Markdown), without
    the base64 images, whose letters could spell anything."""
    cells = json.loads(notebook.read_text())["cells"]
    texts = []
    for out in (o for c in cells for o in c.get("outputs", [])):
        texts.append("".join(out.get("text", "")))
        texts += ["".join(v) for k, v in out.get("data", {}).items() if k.startswith("text/")]
    return "\n".join(texts)


def tables(notebook: Path) -> list[str]:
    """A stored notebook's tables: HTML tables (pandas' random element ids dropped) and the
    rows of Markdown tables."""
    cells = json.loads(notebook.read_text())["cells"]
    outs = [o.get("data", {}) for c in cells for o in c.get("outputs", [])]
    html = "".join("".join(d.get("text/html", "")) for d in outs)
    found = [re.sub(r' id="[^"]*"|T_[0-9a-f]{5}', "", t) for t in re.findall(r"<table.*?</table>", html, re.DOTALL)]
    md = "".join("".join(d.get("text/markdown", "")) for d in outs)
    return found + [line for line in md.splitlines() if line.startswith("|")]
