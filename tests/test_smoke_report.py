"""The whole smoke report end to end through the Makefile (built once: `smoke_report`,
tests/smoke.py), then what a user does with it: rerun make, edit a notebook, explore, inpaint,
publish."""

from __future__ import annotations

import base64
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest
import torch
from PIL import Image

from .conftest import REPO
from .smoke import SmokeReport, make, output_text

PART_A_FIGURES = [1, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]
PART_B_FIGURES = [13, 16, 18, 19, 20, 21, 22, 23, 24, 25, 26]

pytestmark = pytest.mark.slow


def _env(report: SmokeReport, monkeypatch: pytest.MonkeyPatch, results: Path | None = None) -> None:
    """This process reads (or writes, with `results`) the smoke report's caches."""
    monkeypatch.setenv("INPAINT_RESULTS_DIR", str(results or report.tmp / "results"))
    monkeypatch.setenv("INPAINT_CACHE_DIR", str(report.tmp / "cache"))
    monkeypatch.setenv("INPAINT_DATA_DIR", str(report.tmp / "data"))


def test_make_report_executes_every_notebook_and_renders_one_html(smoke_report: SmokeReport) -> None:
    """`make report` on the smoke profile executes every notebook and renders one HTML."""
    r = smoke_report
    assert r.final.returncode == 0, r.final.stdout[-3000:] + r.final.stderr[-3000:]
    res = r.res
    # the terminal: the check first, which run trains (epoch k/N, ETA), each notebook's time;
    # none of it in the stored notebooks
    assert r.stdout.index("check: profile smoke has everything it needs") < r.stdout.index("== a1_baseline")
    # (which notebook trains a shared run depends on make -j2's order: a2's Adam is a1's
    # baseline; an epoch line printed just before a SIGKILL can die in the pipe with its reader)
    assert re.search(r"training a\d_\w+ :: .+ \(seed \d\) epoch \d+/\d+: .* (ETA|done)", r.stderr)
    assert re.search(r"training b1_phase1 :: vit \(seed 0\) epoch 1/1: .* done, 1 epochs in", r.stderr)
    assert re.search(r"== a1_baseline: done in \d+ min \d\d s", r.stdout)
    assert "running over TCP" not in r.stderr and "Executing:" not in r.final.stderr
    stored = "".join(output_text(res / "notebooks" / f"{n}.ipynb") for n in ("a1_baseline", "b1_phase1"))
    assert "ETA" not in stored and "training a1_baseline" not in stored
    assert (res / "methods.json").exists()
    executed = sorted(p.stem for p in (res / "notebooks").glob("*.ipynb"))
    assert executed == sorted(p.stem for p in (REPO / "params").glob("[abcd][0-9]_*.yaml"))
    # where each notebook's time went (inpaint_lib/timings.py): every phase accounted for
    for n in executed:
        wall = json.loads((res / "timings" / f"{n}.wall.json").read_text())
        phases = json.loads((res / "timings" / f"{n}.json").read_text())
        assert 0 < phases["start_up"] < wall["end"] - wall["start"], n
        assert sum(phases["phases"].values()) <= wall["end"] - wall["start"], n
    html = r.html
    assert "Traceback" not in html
    assert "Template for the seven ViT training phases" not in html  # a notebook-only cell
    assert html.index("Part B · Vision Transformer") < html.index("4. Model and masks") \
        < html.index("5. Training strategy") < html.index("5.1 Phase 1") < html.index("6.1 Full training")
    for n in PART_A_FIGURES + PART_B_FIGURES:
        assert f"Figure {n}." in html, f"Figure {n} missing"
    # every table: the study's numbers, baselines and the four metrics
    for text in ["study's test MSE", "mean fill", "OpenCV Telea", "OpenCV Navier-Stokes",
                 "biharmonic", "hole MSE", "hole MAE", "hole PSNR (dB)", "SSIM (composited output)",
                 "MSE (composited output, whole image)", "±95% CI", "Cross-evaluation",
                 "7,091,712", "8,671,744", "occluded, measured", "tested on Multiple squares",
                 "Against classical inpainting", "Every network against the best classical method",
                 "Reproduction scorecard", "difference [95% interval]", "download as CSV",
                 "learns to inpaint, better than mean fill: ", "measured at the study's setting", "weight ramp"]:
        assert text in html, text
    # each Part A study and the ViT's evaluation end with their own 'In short' line
    assert html.count("In short.</strong>") >= 6 and "In short.</strong> Our <code>smoke</code>" in html
    assert html.count("<img") >= len(PART_A_FIGURES + PART_B_FIGURES)
    assert html.count("SMOKE PROFILE") == 1 and html.count("perceptual loss used a RANDOMLY INITIALISED") == 1
    assert not re.search(r"<script[^>]*src=\"https?://", html), "report must read offline"
    assert "Contents" in html and "git commit" in html
    assert "(this code) trained" in html and "NOT this code" not in html  # which code made the runs
    # Part B's phase 1 at the study's scale: its place in the phase 1 section and the findings
    assert "Phase 1 at the study's scale</strong> (the study's ViT at its resolution, epochs 1-20)" in html
    assert "needs neither a GPU nor the VGG-16 weights" in html
    # claims as strong as their evidence: orderings by the noise rule, the study's own digits,
    # parameter counts as integers, the mosaic's period from the runs
    assert "an ordering holds only where every step is beyond the seed noise" in html
    assert "0.008868" in html and "186,371" in html and "186371.0000" not in html
    assert "its period is the patch size" in html
    # the first screen as data (compared with the published copy's)
    f = json.loads((res / "findings.json").read_text())
    assert f["format"] == 1 and f["profile"] == "smoke" and f["host"]["precision"]
    # conclusions are the last section, computed from the other notebooks' results
    assert html.index('id="reproduction-scorecard"') > html.index("Figure 26.")
    _readable(html)


def _readable(html: str) -> None:
    """As a reader meets it: the findings (at most 8 bullets) before Part A and the contents,
    every in-page link lands on an id, and no paragraph of 80+ characters repeats."""
    text = re.sub(r"<[^>]+>", " ", re.sub(r"<(script|style)\b.*?</\1>", "", html, flags=re.DOTALL))
    findings = text.index("Findings")
    assert findings < text.index("Contents") < text.index("Part A · Convolutional autoencoder")
    findings_html = re.search(r"id=\"findings\"(.*?)id=\"terms\"", html, re.DOTALL).group(1)
    bullets = re.search(r"<ul>(.*?)</ul>", findings_html, re.DOTALL).group(1)
    assert 4 <= bullets.count("<li>") <= 8
    assert "95% interval" in findings_html and "href=\"#terms\"" in findings_html
    # which method to use on one's own photo, and the command: second, above the fold at 1024x768
    assert "On your own photo" in bullets and "python -m inpaint_lib inpaint photo.jpg" in bullets
    assert bullets.index("python -m inpaint_lib inpaint photo.jpg") < bullets.index("Part A (the CAE")
    # against the published copy: the smoke profile has none, and says so before the findings
    block = re.search(r"<p><strong>Against the published copy</strong>(.*?)</p>", findings_html, re.DOTALL)
    assert block and findings_html.index(block.group(0)) < findings_html.index("<ul>")
    assert "nothing to compare" in block.group(1)
    # Figure 27 beside them: at its natural size no wider than the page's 900 px cap on images
    # and no taller than 760 px, so its 10 pt labels show at about 13 px (never scaled down)
    png = re.search(r"<img [^>]*src=\"data:image/png;base64,([^\"]+)\"", findings_html).group(1)
    width, height = Image.open(io.BytesIO(base64.b64decode(png))).size
    assert width <= 900 and height <= 760, (width, height)
    ids = set(re.findall(r"\bid=[\"']([^\"']+)[\"']", html))
    links = set(re.findall(r"href=[\"']#([^\"']*)[\"']", html))
    assert links and not links - ids, sorted(links - ids)[:5]
    paragraphs = [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", p)).strip()
                  for p in re.findall(r"<(?:p|li)\b[^>]*>(.*?)</(?:p|li)>", html, flags=re.DOTALL)]
    long = [p for p in paragraphs if len(p) >= 80]
    repeated = {p[:90] for p in long if long.count(p) > 1}
    assert not repeated, sorted(repeated)[:3]


def _find_run(key: str) -> tuple[Path, str, int]:
    """(params file, run name, seed) of the smoke profile's run with config key `key`."""
    from inpaint_lib.resolve import chained_run_config, load_params, seeds_for, with_seed

    for path in sorted((REPO / "params").glob("[abd][0-9]_*.yaml")):
        params = load_params(path, "smoke")
        for name in params.runs:
            for seed in seeds_for(params, name):
                if chained_run_config(with_seed(params, name, seed), name, "smoke").key() == key:
                    return path, name, seed
    raise LookupError(key)


def test_an_interrupted_parallel_make_resumes_and_ends_as_an_uninterrupted_run(
        smoke_report: SmokeReport, monkeypatch: pytest.MonkeyPatch) -> None:
    """`make -j2` (two notebooks at once) stopped by Ctrl-C while a run trains, then killed
    (SIGKILL) while another trains, then rerun: no notebook looked done early, no finished run
    retrained, an interrupted run resumed from its checkpoint and ends with exactly the weights
    of the same run trained without interruption (so every table it feeds is the same)."""
    from inpaint_lib.resolve import load_params, with_seed
    from inpaint_lib.runs import get_run

    r = smoke_report
    assert r.caught["SIGINT"] and r.caught["SIGKILL"], f"make ended before it was interrupted: {r.caught}"
    assert len(r.finished_before_rerun) >= 3
    assert sorted(r.notebooks_before_rerun) != sorted(p.stem for p in (r.res / "notebooks").glob("*.ipynb"))
    for p, mtime in r.finished_before_rerun.items():
        assert p.stat().st_mtime == mtime, f"{p.parent.name} was retrained"
    resumed = [d for d in r.res.glob("runs/*") if "resuming" in (d / "train.log").read_text()]
    assert resumed, "no interrupted run resumed from its checkpoint"
    # the resumed run against the same run trained in one go, in this process, one thread
    run_dir = resumed[0]
    info = json.loads((run_dir / "config.json").read_text())
    path, name, seed = _find_run(info["key"])
    _env(r, monkeypatch, results=r.tmp / "uninterrupted")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        fresh = get_run(with_seed(load_params(path, "smoke"), name, seed), name, "smoke",
                        torch.device("cpu"), log=lambda line: None)
    finally:
        torch.set_num_threads(threads)
    assert fresh.dir.name == run_dir.name
    a = torch.load(run_dir / "final.pt", map_location="cpu", weights_only=True)["model"]
    b = torch.load(fresh.dir / "final.pt", map_location="cpu", weights_only=True)["model"]
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a), run_dir.name


def test_nothing_to_do_then_a_notebook_edit_re_executes_it_only(smoke_report: SmokeReport) -> None:
    """A rerun has nothing to do; an edited notebook re-executes with the conclusions that
    read it, and nothing retrains."""
    r, res = smoke_report, smoke_report.res
    assert make(r.tmp, "-q", "report").returncode == 0
    runs_before = {p: p.stat().st_mtime for p in (res / "runs").glob("*/final.pt")}
    nb_before = {p.name: p.stat().st_mtime for p in (res / "notebooks").glob("*.ipynb")}
    os.utime(REPO / "notebooks" / "a2_optimizers.ipynb")
    again = make(r.tmp, "report")
    assert again.returncode == 0, again.stderr[-2000:]
    nb_after = {p.name: p.stat().st_mtime for p in (res / "notebooks").glob("*.ipynb")}
    changed = {n for n in nb_after if nb_after[n] != nb_before[n]}
    assert changed == {"a2_optimizers.ipynb", "c1_conclusions.ipynb"}
    assert {p: p.stat().st_mtime for p in (res / "runs").glob("*/final.pt")} == runs_before


def test_paired_labels_and_chain_seconds(smoke_report: SmokeReport, monkeypatch) -> None:
    """The conclusions' paired tables, re-read from the caches (nothing trains): each part's
    view is labelled with its own metric (hole MSE in Part A, hole MAE in Part B), and the
    seven-phase ViT's training seconds are its whole chain's, not its last phase's."""
    from inpaint_lib import scoring
    from inpaint_lib.report import tables
    from inpaint_lib.report.verdicts import open_conclusions

    _env(smoke_report, monkeypatch)
    conclusions = open_conclusions(REPO / "params" / "c1_conclusions.yaml", "smoke")
    paired = conclusions.paired()
    part_a = tables.paired_view(paired[paired.part == "A"])
    part_b = tables.paired_view(paired[paired.part == "B"])
    assert "network hole MSE" in part_a and "network hole MAE" in part_b
    with pytest.raises(ValueError, match="one metric at a time"):
        tables.paired_view(paired)
    chain = conclusions._open("b8_evaluation.yaml").phase_chain()
    vit = paired[(paired.part == "B") & (paired.network == "ViT")]["training s"]
    assert len(chain) == 7 and vit.round(6).eq(round(scoring.chain_seconds(chain), 6)).all()
    assert scoring.chain_seconds(chain) > chain[-1][1].info["train_seconds"]


def test_the_explorer_runs_on_the_smoke_runs(smoke_report: SmokeReport) -> None:
    """notebooks/explore.ipynb runs on the smoke run cache: a test image, then a file with a mask."""
    tmp = smoke_report.tmp
    env = {**os.environ, "INPAINT_RESULTS_DIR": str(tmp / "results"), "INPAINT_CACHE_DIR": str(tmp / "cache")}
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (40, 56, 3), dtype=np.uint8)).save(tmp / "photo.png")
    hole = np.zeros((40, 56), dtype=np.uint8)
    hole[10:20, 30:44] = 255
    Image.fromarray(hole).save(tmp / "hole.png")
    for i, params in enumerate([[], ["-p", "image", str(tmp / "photo.png"), "-p", "mask", str(tmp / "hole.png")]]):
        out = tmp / f"explore{i}.ipynb"
        proc = subprocess.run([sys.executable, "-m", "inpaint_lib.report.execute", "--cwd", str(REPO),
                               "-k", "python3", "--no-progress-bar", "-p", "profile", "smoke", *params,
                               str(REPO / "notebooks" / "explore.ipynb"), str(out)],
                              cwd=REPO, env=env, capture_output=True, text=True, timeout=600, check=False)
        assert proc.returncode == 0, proc.stderr[-3000:]
        nb = nbformat.read(out, as_version=4)
        outputs = [o for c in nb.cells for o in c.get("outputs", [])]
        assert not [o for o in outputs if o.output_type == "error"]
        assert any("image/png" in o.get("data", {}) for o in outputs)
        html = "".join(o.get("data", {}).get("text/html", "") for o in outputs)
        for name in ("biharmonic", "cae", "vit", "hole PSNR (dB)"):
            assert name in html, name


def test_the_tool_uses_the_smoke_runs_and_its_computed_default(smoke_report: SmokeReport) -> None:
    """The inpaint command with the smoke profile's trained networks and its computed default."""
    tmp = smoke_report.tmp
    env = {**os.environ, "INPAINT_RESULTS_DIR": str(tmp / "results"), "PYTHONPATH": str(REPO)}
    photo, hole_file = tmp / "tool-photo.png", tmp / "tool-hole.png"
    Image.fromarray(np.random.default_rng(1).integers(0, 256, (40, 56, 3), dtype=np.uint8)).save(photo)
    hole = np.zeros((40, 56), dtype=np.uint8)
    hole[10:20, 30:44] = 255
    Image.fromarray(hole).save(hole_file)
    tool = [sys.executable, "-m", "inpaint_lib", "inpaint", "--profile", "smoke"]
    listing = subprocess.run([*tool, "--list-methods"], env=env, capture_output=True, text=True,
                             timeout=300, check=True).stdout
    ranking = json.loads((tmp / "results" / "smoke" / "methods.json").read_text())
    assert set(ranking["networks"]) >= {"cae", "vit"}  # every trained network was scored
    # the crossover section (d1_crossover) has run: the listing states the per-hole rule, and
    # which photo network it uses, the shipped one or the report's own, and why (here the
    # smoke profile's own, trained on shapes for a few steps, loses to the shipped one)
    assert "default: per hole: each connected hole of the mask is measured" in listing
    assert "photo network: photo-network, shipped" in listing
    assert "the report's own cae-photo measures" in listing and "so it is not used" in listing
    filled_run = subprocess.run([*tool, str(photo), "--mask", str(hole_file),
                                 "--out", str(tmp / "filled.png")], env=env, capture_output=True,
                                text=True, timeout=300, check=True)
    done = filled_run.stdout
    assert "with the default per hole (photo-network or a classical method) in" in done
    # why each hole got its method: one line per image (on stderr, beside the progress)
    assert re.search(r"tool-photo.png: 1 hole \d+ px wide by (photo-network|biharmonic) \(",
                     filled_run.stderr)
    src, filled = np.asarray(Image.open(photo)), np.asarray(Image.open(tmp / "filled.png"))
    assert np.array_equal(src[hole == 0], filled[hole == 0])


def test_publish_the_smoke_report(smoke_report: SmokeReport) -> None:
    tmp = smoke_report.tmp
    published = tmp / "docs" / "report.html"
    out = make(tmp, "publish", "PUBLISH_PROFILE=smoke", f"PUBLISHED={published}", f"SHARED={tmp / 'no-shared'}")
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert "published " in out.stdout and "figures re-encoded" in out.stdout
    page = published.read_text()
    assert published.stat().st_size < min(15 * 2**20, (tmp / "results" / "smoke" / "report.html").stat().st_size)
    assert "Data credits and licences" in page and "synthetic shapes" in page
    from html import unescape

    assert "Figure 26." in unescape(page) and page.count("<img") >= len(PART_A_FIGURES + PART_B_FIGURES)
    # the published copy's findings as data beside it, the same the page was rendered from;
    # the page says it is the published copy, and a report compares with it
    data = tmp / "docs" / "report.findings.json"
    assert json.loads(data.read_text()) == json.loads((tmp / "results" / "smoke" / "findings.json").read_text())
    assert "This is the published copy</strong>" in page and "Against the published copy" not in page
    cp = subprocess.run([sys.executable, "-m", "inpaint_lib", "compare-published", "--profile", "smoke",
                         "--published", str(published)], cwd=REPO, capture_output=True, text=True,
                        env={**os.environ, "INPAINT_RESULTS_DIR": str(tmp / "results")}, timeout=120,
                        check=False)
    assert cp.returncode == 0 and "findings agree; 0 moved" in cp.stdout, cp.stdout + cp.stderr
