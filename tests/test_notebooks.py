"""Notebooks: stored clean; the whole smoke report end to end through the Makefile."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from html import unescape
from pathlib import Path

import nbformat
import pytest

from .conftest import REPO

NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
PART_A_FIGURES = [1, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]
PART_B_FIGURES = [13, 16, 18, 19, 20, 21, 22, 23, 24, 25, 26]


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


def _make(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "INPAINT_CACHE_DIR": str(tmp / "cache"), "INPAINT_DATA_DIR": str(tmp / "data")}
    env.pop("INPAINT_RESULTS_DIR", None)
    cmd = ["make", "--no-print-directory", f"RESULTS={tmp / 'results'}", f"PY={sys.executable}",
           "ENV=", "PROFILE=smoke", *args]
    return subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=1200, check=False)


@pytest.mark.slow
def test_smoke_report_end_to_end(tmp_path: Path) -> None:
    """`make report` on the smoke profile executes every notebook and renders one HTML."""
    out = _make(tmp_path, "report")
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    res = tmp_path / "results" / "smoke"
    executed = sorted(p.stem for p in (res / "notebooks").glob("*.ipynb"))
    assert executed == sorted(
        [p.stem for p in (REPO / "params").glob("a[0-9]_*.yaml")]
        + [p.stem for p in (REPO / "params").glob("b[0-9]_*.yaml")]
        + [p.stem for p in (REPO / "params").glob("c[0-9]_*.yaml")])
    html = unescape((res / "report.html").read_text())
    assert "Traceback" not in html
    for n in PART_A_FIGURES + PART_B_FIGURES:
        assert f"Figure {n}." in html, f"Figure {n} missing"
    # every table: the study's numbers, baselines and the four metrics
    for text in ["study's test MSE", "mean fill", "OpenCV Telea", "OpenCV Navier-Stokes",
                 "biharmonic", "hole MSE", "hole MAE", "hole PSNR (dB)", "SSIM (composited output)",
                 "MSE (composited output, whole image)", "±95% CI", "Cross-evaluation",
                 "7,091,712", "8,671,744", "occluded, measured", "tested on Multiple squares",
                 "Against classical inpainting", "Headline: best network against best classical",
                 "network vs classical"]:
        assert text in html, text
    assert html.count("<img") >= len(PART_A_FIGURES + PART_B_FIGURES)
    assert "SMOKE PROFILE" in html and "RANDOMLY INITIALISED VGG-16" in html
    assert not re.search(r"<script[^>]*src=\"https?://", html), "report must read offline"
    assert "Contents" in html and "git commit" in html

    # conclusions are the last section, computed from the other notebooks' results
    assert html.index("Headline: best network against best classical") > html.index("Figure 26.")

    # nothing changed: make has nothing to do
    assert _make(tmp_path, "-q", "report").returncode == 0
    # a notebook edit re-executes that notebook only, and never retrains
    runs_before = {p: p.stat().st_mtime for p in (res / "runs").glob("*/final.pt")}
    nb_before = {p.name: p.stat().st_mtime for p in (res / "notebooks").glob("*.ipynb")}
    os.utime(REPO / "notebooks" / "a2_optimizers.ipynb")
    again = _make(tmp_path, "report")
    assert again.returncode == 0, again.stderr[-2000:]
    nb_after = {p.name: p.stat().st_mtime for p in (res / "notebooks").glob("*.ipynb")}
    changed = {n for n in nb_after if nb_after[n] != nb_before[n]}
    assert changed == {"a2_optimizers.ipynb", "c1_conclusions.ipynb"}
    assert {p: p.stat().st_mtime for p in (res / "runs").glob("*/final.pt")} == runs_before
