"""Notebooks: stored clean, one per params file; make divides the cores among its jobs and knows
what each notebook depends on. (The smoke report end to end: test_smoke_report.py.)"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from .conftest import REPO, env_of_a_fresh_make

NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))



@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_stored_without_outputs_and_one_parameters_cell(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code), "outputs stored"
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1
    assert "params_file" in tagged[0].source and "profile" in tagged[0].source


def test_every_params_file_has_a_notebook() -> None:
    stems = {p.stem for p in NOTEBOOKS}
    for params in (REPO / "params").glob("*.yaml"):
        if params.stem in ("cae", "vit"):
            continue
        expected = "vit_phase" if re.match(r"b[1-7]_phase", params.stem) else params.stem
        assert expected in stems, params


def test_make_jn_keeps_a_thread_per_core_and_lets_idle_threads_sleep() -> None:
    """Under `make -jN` every notebook still computes with one thread per core (so a run has
    the same bits whatever N), knows N (its runs record it), and with N > 1 its idle OpenMP
    threads sleep rather than spin on a core another notebook needs; the environment wins."""
    env = env_of_a_fresh_make("OMP_NUM_THREADS", "OMP_WAIT_POLICY")
    cores = len(os.sched_getaffinity(0))
    target = "results/smoke/notebooks/a1_baseline.ipynb"
    for jobs, policy in ((1, "active"), (2, "passive"), (64, "passive")):
        out = subprocess.run(["make", "-n", "-B", f"-j{jobs}", "PROFILE=smoke", f"PY={sys.executable}",
                              "ENV=", target], cwd=REPO, env=env, capture_output=True, text=True,
                             timeout=60, check=True).stdout
        assert (f"OMP_NUM_THREADS=${{OMP_NUM_THREADS:-{cores}}} INPAINT_JOBS={jobs} "
                f"OMP_WAIT_POLICY=${{OMP_WAIT_POLICY:-{policy}}} ") in out, out[-600:]


def _prerequisites(profile: str, notebook: str) -> set[str]:
    """The files make lists as `notebook`'s prerequisites in `profile` (its database, -pn)."""
    target = f"results/{profile}/notebooks/{notebook}.ipynb"
    out = subprocess.run(["make", "-pn", f"PROFILE={profile}", f"PY={sys.executable}", "ENV=", target],
                         cwd=REPO, env=env_of_a_fresh_make(), capture_output=True, text=True,
                         timeout=60, check=False).stdout
    rule = next(line for line in out.splitlines() if line.startswith(f"{target}:"))
    return set(rule.split(":", 1)[1].replace("|", " ").split())


def test_a_newly_committed_study_scale_run_re_executes_part_a() -> None:
    """Part A's notebooks and the conclusions score the runs committed under results/full: each
    such run's scores.json is a prerequisite of every Part A notebook (so `make study-scale` or a
    pull that brings one refreshes the report), except in the full profile, which writes them."""
    committed = {str(p.relative_to(REPO)) for p in (REPO / "results" / "full" / "runs").glob("*/scores.json")}
    assert len(committed) >= 11  # the committed study-scale runs
    for notebook in ("a1_baseline", "a4_masking", "a6_ablation"):
        assert committed <= _prerequisites("smoke", notebook), notebook
    assert not committed & _prerequisites("full", "a1_baseline")
    assert "results/smoke/notebooks/a1_baseline.ipynb" in _prerequisites("smoke", "c1_conclusions")


def test_a_new_shipped_photo_network_re_executes_the_section_that_scores_it() -> None:
    """`make photo-network` rewrites the tool's network: the crossover section, which scores it
    beside its own (and so the conclusions, which quote the section), is out of date then."""
    shipped = {"inpaint_lib/photo_network/card.json", "inpaint_lib/photo_network/weights.pt"}
    assert shipped <= _prerequisites("smoke", "d1_crossover")
    assert "results/smoke/notebooks/d1_crossover.ipynb" in _prerequisites("smoke", "c1_conclusions")


def test_make_report_runs_one_notebook_at_a_time_unless_told_otherwise() -> None:
    """`make report` runs one notebook at a time (REPORT_JOBS, or an explicit -j, says
    otherwise: two at a time starved each other 70-fold on a bf16 host); each knows how many run
    beside it and computes with a thread per core whatever that number (the same bits)."""
    env = env_of_a_fresh_make("REPORT_JOBS", "OMP_NUM_THREADS")
    cores = len(os.sched_getaffinity(0))

    def jobs(*args: str) -> set[str]:
        out = subprocess.run(["make", "-n", "report", "PROFILE=smoke", "RESULTS=/nonexistent",
                              f"PY={sys.executable}", "ENV=", *args], cwd=REPO, env=env,
                             capture_output=True, text=True, timeout=60, check=True).stdout
        assert set(re.findall(r"OMP_NUM_THREADS=\$\{OMP_NUM_THREADS:-(\d+)\}", out)) == {str(cores)}
        return set(re.findall(r"INPAINT_JOBS=(\d+)", out))

    assert jobs() == {"1"} and jobs("-j1") == {"1"}
    assert jobs("REPORT_JOBS=2") == {"2"} and jobs("-j2") == {"2"}


def test_the_makefiles_papermill_executes_with_parameters_and_without_the_iri_grammar(tmp_path: Path) -> None:
    """`python -m inpaint_lib.report.execute` is papermill's command line (parameters injected,
    cells executed, outputs stored) in a process where jsonschema goes without the IRI-format
    module whose grammar cost 0.9 s of every notebook's start, with the kernel stopped at once
    after the last cell (its interpreter's teardown cost 0.7-1 s of every notebook's end)."""
    nb = nbformat.v4.new_notebook()
    exit_file = tmp_path / "atexit-ran"
    nb.cells = [nbformat.v4.new_code_cell("x = 1", metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell(
                    "import atexit, os, pathlib\n"
                    f"atexit.register(pathlib.Path({str(exit_file)!r}).write_text, 'ran')\n"
                    f"pathlib.Path({str(tmp_path / 'pid')!r}).write_text(str(os.getpid()))"),
                nbformat.v4.new_code_cell("print(x * 2)")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, tmp_path / "in.ipynb")
    subprocess.run([sys.executable, "-m", "inpaint_lib.report.execute", "-k", "python3",
                    "--log-level", "WARNING", "--no-progress-bar", "-p", "x", "21",
                    str(tmp_path / "in.ipynb"), str(tmp_path / "out.ipynb")],
                   cwd=REPO, check=True, capture_output=True, timeout=120)
    out = nbformat.read(tmp_path / "out.ipynb", as_version=4)
    assert any("injected-parameters" in c.metadata.get("tags", []) for c in out.cells)
    assert out.cells[-1].outputs[0]["text"] == "42\n"
    # the kernel was stopped at once after the last cell (its exit handlers never ran: nothing
    # a notebook needs may be left to them), and it is gone, not orphaned
    assert not exit_file.exists()
    assert not Path(f"/proc/{(tmp_path / 'pid').read_text()}").exists()

    probe = ("import sys\nfrom inpaint_lib.report import execute\nsys.argv = ['papermill', '--version']\n"
             "try:\n    execute.main()\nexcept SystemExit:\n    pass\n"
             "import jsonschema\nprint('iri' in jsonschema.Draft7Validator.FORMAT_CHECKER.checkers)")
    shown = subprocess.run([sys.executable, "-c", probe], cwd=REPO, check=True, capture_output=True,
                           text=True, timeout=60).stdout
    assert shown.strip().endswith("False")  # with the module, jsonschema checks IRIs: True
