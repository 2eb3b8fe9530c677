"""The check before `make report`: one line per missing item, exit 2, in seconds; and it
looks exactly where `inpaint_lib.data` looks."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from inpaint_lib import data, preflight
from inpaint_lib.__main__ import main
from inpaint_lib.schema import DataConfig

from .conftest import REPO, make_tree

RANDOM_VGG = "{cae: {train: {loss: {perceptual_weights: random}}}, vit: {train: {loss: {perceptual_weights: random}}}}"


def _offline(host: str) -> bool:
    return False


def _quick_trees(root: Path) -> None:
    """Tiny stand-ins for the three real image trees the quick profile reads."""
    make_tree(root / "cifar10", {"airplane": (12, 4), "ship": (12, 4)}, size=32)
    make_tree(root / "oxford-pet", {"Abyssinian": (10, 3), "beagle": (10, 3)}, size=40, seed=1)
    make_tree(root / "boats", {"kayak": (0, 5)}, size=24, seed=2)


def test_smoke_profile_needs_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    assert preflight.run_check("smoke", probe_fn=_offline) == 0
    out = capsys.readouterr()
    assert "missing" not in out.out + out.err
    assert "has everything it needs" in out.out
    assert "randomly initialised VGG-16" in out.out


def test_nothing_on_disk_is_one_line_per_item_and_exit_2_within_seconds(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "inpaint_lib", "check", "--profile", "quick",
                           "--offline", "--shared", str(tmp_path / "shared")],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=False)
    took = time.perf_counter() - t0
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr + proc.stdout
    lines = proc.stderr.strip().splitlines()
    missing = [ln for ln in lines if ln.startswith("missing: ")]
    assert [ln.split(" (for ")[0] for ln in missing] == [
        "missing: CIFAR-10", "missing: STL-10, and its stand-in Oxford-IIIT Pet",
        "missing: Oxford-IIIT Pet",
        "missing: ship photos (STL-10's ship class, or a ships/boats image tree)",
        "missing: the ImageNet VGG-16 weights of the perceptual loss"]
    for line in missing:
        assert "looked for " in line and "; fix: " in line
    data_dir = tmp_path / "data"  # conftest's INPAINT_DATA_DIR
    assert f"{data_dir}/cifar-10-batches-py/" in missing[0] and f"{data_dir}/cifar10/" in missing[0]
    assert "make shared-data SHARED=<folder holding cifar10-jpeg.tar.gz>" in missing[0]
    assert "a7_resolution" in missing[1] and "oxford-pet" in missing[1]
    assert "vgg16-397923af.pth" in missing[4] and "perceptual_weights: random" in missing[4]
    assert lines[-1].startswith("check: 5 item(s) missing for profile quick; nothing was run")
    assert took < 60  # seconds, not the minutes of training before the old failure


def test_one_missing_dataset_among_present_ones(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("INPAINT_OVERRIDES", RANDOM_VGG)
    _quick_trees(tmp_path / "data")
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "oxford-pet-subset.tar.gz").write_bytes(b"")
    assert main(["check", "--profile", "quick", "--offline", "--shared", str(shared)]) == 0
    out = capsys.readouterr().out
    assert "ok: CIFAR-10 (image folder): train 22, val 2, test 8 images" in out

    for p in sorted((tmp_path / "data" / "oxford-pet").rglob("*"), reverse=True):
        p.unlink() if p.is_file() else p.rmdir()
    assert main(["check", "--profile", "quick", "--offline", "--shared", str(shared)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 3 and err[1].startswith("missing: Oxford-IIIT Pet (for 10 notebooks: b1_phase1")
    assert err[0].startswith("missing: STL-10, and its stand-in Oxford-IIIT Pet (for a7_resolution)")
    assert f"fix: `make shared-data SHARED={shared}` (it holds oxford-pet-subset.tar.gz)" in err[1]


def test_unreadable_image_is_reported_before_any_training(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("INPAINT_OVERRIDES", RANDOM_VGG)
    _quick_trees(tmp_path / "data")
    (tmp_path / "data" / "boats" / "test" / "kayak" / "broken.jpg").write_text("not a photo")
    assert main(["check", "--profile", "quick", "--offline"]) == 2
    err = capsys.readouterr().err
    assert "unusable: 1 of 6 images under " in err and "boats/test/kayak cannot be decoded: broken.jpg (not an image" in err
    assert "Traceback" not in err


def test_vgg_is_needed_by_the_perceptual_phases_only(monkeypatch: pytest.MonkeyPatch) -> None:
    needing = {s.source_file.split("/")[-1] for s in preflight.studies("quick") if preflight.uses_vgg(s)}
    assert needing == ({f"b{i}_phase{i}.yaml" for i in range(2, 8)}
                       | {"b8_evaluation.yaml", "b9_variants.yaml", "a6_ablation.yaml"})
    monkeypatch.setenv("INPAINT_OVERRIDES", RANDOM_VGG)
    assert not any(preflight.uses_vgg(s) for s in preflight.studies("quick"))


@pytest.mark.parametrize("dataset", ["cifar10", "oxford_pet", "ships"])
def test_preflight_looks_where_data_py_looks(tmp_path: Path, dataset: str) -> None:
    """Every image tree preflight accepts is one `data.load` reads, and vice versa."""
    cfg = DataConfig(dataset=dataset, download=False, image_size=16, val_size=0)
    for tree in preflight.SOURCES[dataset].trees:
        root = tmp_path / "data"
        make_tree(root / tree, {"kind": (3, 2)}, size=16)
        assert preflight.locate(cfg, train=False) == root / tree
        assert len(data.load(cfg).test) == 2
        for p in sorted(root.rglob("*"), reverse=True):
            p.unlink() if p.is_file() else p.rmdir()
        assert preflight.locate(cfg, train=False) is None
        with pytest.raises(data.DataMissingError):
            data.load(cfg)


@pytest.mark.parametrize("error", ["data", "weights", "diverged", "other"])
def test_the_command_line_reports_the_library_errors_by_type(
        error: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import inpaint_lib.__main__ as cli
    from inpaint_lib.image_trees import DataMissingError
    from inpaint_lib.losses import WeightsMissingError
    from inpaint_lib.train import TrainingDiverged

    raised = {"data": DataMissingError, "weights": WeightsMissingError,
              "diverged": TrainingDiverged, "other": RuntimeError}[error]("one line")

    def fail(*_: object) -> int:
        raise raised

    monkeypatch.setattr(cli, "_train", fail)
    if error == "other":  # not one of the library's own: the traceback stays
        with pytest.raises(RuntimeError, match="one line"):
            main(["train", "params/a1_baseline.yaml"])
    else:
        assert main(["train", "params/a1_baseline.yaml"]) == 1
        assert capsys.readouterr().err == "error: one line\n"


def test_a_trained_phase_1_alone_does_not_hide_the_missing_vgg_weights(tmp_path: Path) -> None:
    """Phase 1 (MAE only) trained at the study's scale says nothing about the VGG-16 weights the
    later phases need; a trained run with the perceptual loss does (the fast pass's sign)."""
    from inpaint_lib.io import atomic_write_json

    runs = tmp_path / "results" / "full" / "runs"  # conftest's INPAINT_RESULTS_DIR
    for name, loss in (("vit-phase1", {"mae": 1.0, "perceptual": 0.0, "ramp_to": None}),
                       ("vit-phase2", {"mae": 1.0, "perceptual": 0.0, "ramp_to": {"perceptual": 0.3}})):
        atomic_write_json(runs / name / "config.json", {"config": {"loss": loss}})
        (runs / name / "final.pt").write_bytes(b"")
        if name == "vit-phase1":
            assert not preflight._any_trained("full", "vit")
    assert preflight._any_trained("full", "vit")
