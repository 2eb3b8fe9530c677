"""No stale result: a run's and an evaluation's keys cover the code that shapes them."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from inpaint_lib import code_version, runs
from inpaint_lib.evaluate import evaluate
from inpaint_lib.methods import Method
from inpaint_lib.report.build import code_provenance, shared_training_note
from inpaint_lib.resolve import load_params
from inpaint_lib.schema import MaskConfig

from .conftest import REPO, env_of_a_fresh_make

DEVICE = torch.device("cpu")


@pytest.fixture
def package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of inpaint_lib whose files the fingerprints read (edit it, then `refresh()`)."""
    pkg = tmp_path / "pkg"
    shutil.copytree(code_version.PACKAGE, pkg, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(code_version, "PACKAGE", pkg)
    refresh()
    yield pkg
    refresh()


def refresh() -> None:
    code_version.fingerprint.cache_clear()  # a process computes it once; a test edits between


def _append(path: Path, text: str) -> None:
    path.write_text(path.read_text() + text)
    refresh()


def test_fingerprints_follow_the_files_that_shape_results(package: Path) -> None:
    train, score = code_version.training_code(), code_version.scoring_code()
    assert re.fullmatch(r"[0-9a-f]{12}", train) and train != score
    _append(package / "report" / "prose" / "part_a.py", "\n\ndef unrelated() -> str:\n    return 'prose'\n")
    for name in ("report/tables.py", "report/figures.py", "report/build.py",
                 "tool/command.py"):
        _append(package / name, "\nUNRELATED = 1\n")
    assert (code_version.training_code(), code_version.scoring_code()) == (train, score)
    # line endings are not code
    cae = package / "models" / "cae.py"
    cae.write_bytes(cae.read_bytes().replace(b"\n", b"\r\n"))
    refresh()
    assert code_version.training_code() == train
    _append(cae, "\nEDITED = True\n")
    edited = code_version.training_code()
    assert edited != train and code_version.scoring_code() == score
    _append(package / "metrics.py", "\nEDITED = True\n")  # metrics shape both
    assert code_version.training_code() not in (train, edited)
    assert code_version.scoring_code() != score


def test_every_training_module_is_fingerprinted(package: Path) -> None:
    files = {f.relative_to(package).as_posix()
             for f in code_version.code_files(code_version.TRAINING_CODE, package)}
    assert {"models/cae.py", "models/vit.py", "train.py", "device.py", "losses.py", "weighting.py",
            "masks.py", "data.py", "image_trees.py", "schema/run.py"} <= files
    assert not {f for f in files if f.startswith("report/")}


def test_model_edit_trains_a_new_run_and_a_prose_edit_retrains_nothing(
        package: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    study = load_params(REPO / "params/a1_baseline.yaml", "smoke")
    first = runs.get_run(study, "baseline", "smoke", DEVICE, log=lambda _: None)
    assert first.info["code"] == code_version.training_code()
    assert first.info["threads"] == torch.get_num_threads() and first.info["parallel_jobs"] >= 1
    trained: list[Path] = []
    monkeypatch.setattr(runs, "train_run", lambda cfg, splits, run_dir, *a, **k: trained.append(run_dir))

    _append(package / "report" / "prose" / "part_a.py", "\n\ndef unrelated() -> str:\n    return 'prose'\n")
    assert runs.get_run(study, "baseline", "smoke", DEVICE).dir == first.dir and trained == []

    _append(package / "models" / "cae.py", "\nEDITED = True\n")
    assert runs.trained_run(study, "baseline", "smoke") is None  # the old run is not current
    again = runs.get_run(study, "baseline", "smoke", DEVICE)
    assert trained == [again.dir] and again.dir != first.dir


def test_edited_scoring_code_rescores(package: Path, tmp_path: Path) -> None:
    images = torch.randint(0, 256, (4, 3, 8, 8), dtype=torch.uint8)
    calls: list[int] = []

    def predict(x: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
        calls.append(1)
        return x

    method = Method("same", predict, "same")
    args = (images, MaskConfig(size=2, count=1), 0, tmp_path / "eval", (0.0, 1.0), "d")
    first = evaluate(method, *args)
    evaluate(method, *args)
    assert len(calls) == 1
    _append(package / "masks.py", "\nEDITED = True\n")
    again = evaluate(method, *args)
    assert len(calls) == 2 and len(list((tmp_path / "eval").glob("*.pt"))) == 2
    assert torch.equal(first["hole_mse"], again["hole_mse"])


def test_report_names_runs_trained_by_other_code() -> None:
    now = code_version.training_code()
    line, stale = code_provenance({"cae-1": {"code": now}, "vit-2": {"code": now},
                                   "cae-3": {"code": "0123456789ab"}, "cae-4": {}})
    assert stale == ["cae-3", "cae-4"]
    assert f"`{now}` (this code) trained 2 runs" in line
    assert "`0123456789ab` (NOT this code) trained 1: cae-3" in line and "unrecorded" in line
    assert code_provenance({"cae-1": {"code": now}})[1] == []


def test_every_library_file_is_a_notebook_prerequisite() -> None:
    """Every .py under inpaint_lib (subpackages too) is a prerequisite of every notebook."""
    out = subprocess.run(["make", "-pn", "help", f"PY={sys.executable}", "ENV="], cwd=REPO,
                         env=env_of_a_fresh_make(), capture_output=True, text=True, timeout=60,
                         check=True).stdout
    library = {p.relative_to(REPO).as_posix() for p in (REPO / "inpaint_lib").rglob("*.py")
               if "__pycache__" not in p.parts}
    assert "inpaint_lib/models/cae.py" in library
    rules = [line for line in out.splitlines()
             if re.match(r"results/quick/notebooks/\w+\.ipynb:", line)]
    assert len(rules) == len(list((REPO / "params").glob("[a-z][0-9]_*.yaml")))
    for rule in rules:
        assert library <= set(rule.split(":", 1)[1].split()), rule[:60]


def test_report_says_which_training_times_were_shared() -> None:
    assert shared_training_note({"a": {"parallel_jobs": 1}, "b": {}}) == ""
    said = shared_training_note({"a": {"parallel_jobs": 2, "threads": 1}, "b": {"parallel_jobs": 1}})
    assert "1 of them trained beside other notebooks (`make -j2`, 1+ threads each)" in said
