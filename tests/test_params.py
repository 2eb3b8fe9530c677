"""Params validation: one line naming file and field; profiles; shared run keys."""

from __future__ import annotations

import itertools
import subprocess
import sys
from pathlib import Path

import pytest

from inpaint_lib.resolve import PROFILES, ParamsError, load_params, run_config

from .conftest import REPO

STUDY_FILES = sorted(p for p in (REPO / "params").glob("[ab]*.yaml") if p.stem not in ("cae", "vit"))


def _write(tmp_path: Path, body: str, name: str = "bad.yaml") -> Path:
    (tmp_path / "cae.yaml").write_text((REPO / "params" / "cae.yaml").read_text())
    path = tmp_path / name
    path.write_text("extends: cae.yaml\ntitle: t\n" + body)
    return path


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("path", STUDY_FILES, ids=lambda p: p.stem)
def test_every_shipped_params_file_is_valid(path: Path, profile: str) -> None:
    study = load_params(path, profile)
    assert study.runs


@pytest.mark.parametrize("body, field, words", [
    ("runs:\n  a: {optimiser: {name: adam}}\n", "runs.a.optimiser", "unknown key"),
    ("runs:\n  a: {optimizer: {name: adamm}}\n", "runs.a.optimizer.name", "adam"),
    ("runs:\n  a: {optimizer: {lr: -0.1}}\n", "runs.a.optimizer.lr", "greater than 0"),
    ("runs:\n  a: {optimizer: {lr: fast}}\n", "runs.a.optimizer.lr", "number"),
    ("runs:\n  a: {mask: {size: 40}}\n", "runs.a", "do not fit 32 px"),
    ("runs:\n  a: {batch_size: 0}\n", "runs.a.batch_size", "greater than 0"),
    ("evaluation: {n_exmples: 3}\n", "evaluation.n_exmples", "unknown key"),
    ("data: {dataset: imagenet}\n", "data.dataset", "cifar10"),
    ("runs:\n  a: {cpu_precision: fp16}\n", "runs.a.cpu_precision", "bf16"),
    ("runs:\n  a: {compile: maybe}\n", "runs.a.compile", "bool"),
])
def test_bad_params_give_one_line_naming_file_and_field(tmp_path: Path, body: str, field: str,
                                                        words: str) -> None:
    path = _write(tmp_path, body)
    with pytest.raises(ParamsError) as err:
        load_params(path, "quick")
    msg = str(err.value)
    assert "\n" not in msg
    assert msg.startswith(f"{path}: {field}")
    assert words in msg


def test_cli_validate_exits_2_with_the_field(tmp_path: Path) -> None:
    path = _write(tmp_path, "runs:\n  a: {optimizer: {name: sgd, lr: 0}}\n")
    out = subprocess.run([sys.executable, "-m", "inpaint_lib", "validate", str(path)],
                         capture_output=True, text=True, cwd=REPO, check=False)
    assert out.returncode == 2
    assert "runs.a.optimizer.lr" in out.stderr and str(path) in out.stderr
    ok = subprocess.run([sys.executable, "-m", "inpaint_lib", "validate", "params/a1_baseline.yaml",
                         "--profile", "smoke"], capture_output=True, text=True, cwd=REPO, check=False)
    assert ok.returncode == 0, ok.stderr


def test_unknown_profile_and_missing_file() -> None:
    with pytest.raises(ParamsError, match="profile 'huge'"):
        load_params(REPO / "params/a1_baseline.yaml", "huge")
    with pytest.raises(ParamsError, match="file not found"):
        load_params("/nonexistent/x.yaml", "quick")


@pytest.mark.parametrize("profile", PROFILES)
def test_baseline_is_one_run_shared_by_four_studies(profile: str) -> None:
    keys = {
        run_config(load_params(REPO / f"params/{f}.yaml", profile), name).key()
        for f, name in [("a1_baseline", "baseline"), ("a2_optimizers", "Adam"),
                        ("a3_latent", "128"), ("a4_masking", "10x10 square"),
                        ("a5_mask_sweep", "baseline")]
    }
    assert len(keys) == 1


def test_full_profile_has_the_studys_settings() -> None:
    cfg = run_config(load_params(REPO / "params/a2_optimizers.yaml", "full"), "SGD + Momentum")
    assert cfg.epoch_range == (1, 200) and cfg.batch_size == 256
    assert (cfg.optimizer.name, cfg.optimizer.lr, cfg.optimizer.momentum) == ("sgd", 0.01, 0.9)
    assert cfg.data.val_size == 0.1 and cfg.data.subset.train is None


def test_vit_phase_chain_full_and_scaled() -> None:
    prev = None
    full = []
    for k in range(1, 8):
        cfg = run_config(load_params(REPO / f"params/b{k}_phase{k}.yaml", "full"), "vit", parent=prev)
        full.append(cfg)
        prev = cfg
    assert [c.epoch_range for c in full] == [(1, 20), (21, 40), (41, 135), (136, 200), (201, 270),
                                            (271, 350), (351, 400)]
    assert full[2].lr_changes == {110: 0.0002}
    assert full[1].loss.weights_at(21).perceptual == 0.0
    assert full[1].loss.weights_at(30).perceptual == pytest.approx(0.2 * 9 / 18)
    assert full[1].loss.weights_at(39).mae == pytest.approx(0.8)
    assert full[1].plateau is None and full[1].grad_clip == 1.0 and full[0].grad_clip is None
    assert full[6].mask.size == (9, 12) and full[6].mask.count == (175, 300)
    assert full[3].parent == full[2].key()
    # quick: each phase starts right after its parent, lr change kept inside phase 3
    prev, ranges = None, []
    for k in range(1, 8):
        cfg = run_config(load_params(REPO / f"params/b{k}_phase{k}.yaml", "quick"), "vit", parent=prev)
        ranges.append(cfg.epoch_range)
        if k == 3:
            (epoch,) = cfg.lr_changes
            assert cfg.epoch_range[0] < epoch <= cfg.epoch_range[1]
        prev = cfg
    assert all(b[0] == a[1] + 1 for a, b in itertools.pairwise(ranges))


def test_overrides_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INPAINT_OVERRIDES", "vit: {train: {loss: {perceptual_weights: random}}}")
    study = load_params(REPO / "params/b4_phase4.yaml", "quick")
    assert run_config(study, "vit").loss.perceptual_weights == "random"
    monkeypatch.setenv("INPAINT_OVERRIDES", "[1, 2]")
    with pytest.raises(ParamsError, match="INPAINT_OVERRIDES"):
        load_params(REPO / "params/b4_phase4.yaml", "quick")


def test_conclusions_params(tmp_path: Path) -> None:
    from inpaint_lib.resolve import load_conclusions

    summary = load_conclusions(REPO / "params/c1_conclusions.yaml")
    assert summary.part_a and summary.part_b == "b8_evaluation.yaml"
    bad = tmp_path / "c.yaml"
    bad.write_text("title: t\npart_a: [nope.yaml]\n")
    with pytest.raises(ParamsError, match="nope.yaml: no such params file"):
        load_conclusions(bad)
    bad.write_text("title: t\npart_a: x\nextra: 1\n")
    with pytest.raises(ParamsError, match="c.yaml: extra: unknown key"):
        load_conclusions(bad)


def test_verdict_scope_names_reduced_profiles_only() -> None:
    from inpaint_lib.report.prose import verdict_scope
    from inpaint_lib.resolve import load_profile

    assert verdict_scope("full", "the study's settings") == ""
    for profile in ("smoke", "quick"):
        text = verdict_scope(profile, load_profile(profile)["description"])
        assert f"`{profile}` profile" in text and load_profile(profile)["description"] in text


def test_a_misspelt_extends_is_reported_as_the_unknown_key(tmp_path: Path) -> None:
    (tmp_path / "cae.yaml").write_text((REPO / "params" / "cae.yaml").read_text())
    path = tmp_path / "bad.yaml"
    path.write_text("extend: cae.yaml\ntitle: t\nruns: {a: {}}\n")
    with pytest.raises(ParamsError) as err:
        load_params(path, "quick")
    assert str(err.value).startswith(f"{path}: extend: unknown key (did you mean 'extends'?)")


@pytest.mark.parametrize("body, field, words", [
    ("reference:\n  a: {test_mse: .nan}\n", "reference.a.test_mse", "finite"),
    ("reference:\n  a: {test_mse: -1}\n", "reference.a.test_mse", "greater than 0"),
    ("reference:\n  a: {test_mse: 0.01, tset_mse: 1}\n", "reference.a.tset_mse", "unknown key"),
    ("runs:\n  a: {mask: {size: [5, 40]}}\n", "runs.a", "40 px squares do not fit 32 px"),
    ("runs:\n  a: {mask: {size: [15, 5]}}\n", "runs.a.mask", "low 15 > high 5"),
    ("runs:\n  a: {mask: {size: 10, size_range: [5, 15]}}\n", "runs.a.mask.size_range", "unknown key"),
    ("runs:\n  a: {mask: {count: [2, 4]}}\n", "runs.a.mask", "draw: per_batch"),
])
def test_references_and_mask_ranges_are_checked(tmp_path: Path, body: str, field: str,
                                                 words: str) -> None:
    path = _write(tmp_path, ("runs:\n  a: {}\n" if not body.startswith("runs") else "") + body)
    with pytest.raises(ParamsError) as err:
        load_params(path, "quick")
    msg = str(err.value)
    assert "\n" not in msg and msg.startswith(f"{path}: {field}") and words in msg, msg


def test_setting_sources_say_which_layer_set_each_value(monkeypatch: pytest.MonkeyPatch) -> None:
    from inpaint_lib.setting_sources import setting_sources

    rows = {r["setting"]: r for r in setting_sources(REPO / "params/a2_optimizers.yaml", "quick")}
    epochs = rows["runs.Adam.epochs"]
    assert (epochs["base value"], epochs["value"]) == (200, 10)
    assert epochs["set by"] == "cae.yaml (200), rescaled by profile quick: epoch_scale 0.05"
    assert rows["runs.SGD + Momentum.optimizer.lr"]["set by"] == "a2_optimizers.yaml"
    assert rows["data.subset.train"]["set by"] == "profile quick"
    assert "runs.Adam.optimizer.lr" not in rows  # the base's own value is not listed
    assert setting_sources(REPO / "params/a1_baseline.yaml", "full") == [
        {"setting": "seeds", "base value": 1, "value": 3, "set by": "profile full"}]
    monkeypatch.setenv("INPAINT_OVERRIDES", "cae: {train: {batch_size: 128}}")
    rows = {r["setting"]: r for r in setting_sources(REPO / "params/a1_baseline.yaml", "full")}
    assert rows["runs.baseline.batch_size"]["set by"] == "INPAINT_OVERRIDES"
    phase = {r["setting"]: r for r in setting_sources(REPO / "params/b3_phase3.yaml", "quick")}
    assert phase["runs.vit.epochs"]["value"] == [3, 5]  # placed after phases 1 and 2
    assert phase["runs.vit.epochs"]["set by"].startswith("b3_phase3.yaml ([41, 135]), rescaled")
    monkeypatch.setenv("INPAINT_OVERRIDES", "cae: {train: {loss: {perceptual_weights: random}}}")
    rows = {r["setting"]: r for r in setting_sources(REPO / "params/a6_ablation.yaml", "quick")}
    vgg = "runs.+ L1 + VGG-16 perceptual.loss.perceptual_weights"
    assert rows[vgg] == {"setting": vgg, "base value": "imagenet", "value": "random",
                         "set by": "INPAINT_OVERRIDES"}
    assert "runs.+ L1 loss.loss.perceptual_weights" not in rows  # no VGG term: which VGG is moot


def test_run_keys_hash_what_differs_from_the_defaults() -> None:
    from inpaint_lib.schema import DataConfig, RunConfig

    data = DataConfig(dataset="cifar10")
    cae = RunConfig(data=data, model={"arch": "cae"})
    assert cae.key() == RunConfig(data=data, model={"arch": "cae", "latent_channels": 128}).key()
    assert cae.key() != RunConfig(data=data, model={"arch": "cae", "latent_channels": 64}).key()
    assert cae.key() != RunConfig(data=data, model={"arch": "vit"}).key()  # arch always counts
    random_vgg = RunConfig(data=data, model={"arch": "cae"}, loss={"mse": 1, "perceptual_weights": "random"})
    assert random_vgg.key() == cae.key()  # no perceptual term: which VGG cannot matter
    vgg = {"mae": 1, "perceptual": 0.1}
    assert (RunConfig(data=data, model={"arch": "cae"}, loss={**vgg, "perceptual_weights": "random"}).key()
            != RunConfig(data=data, model={"arch": "cae"}, loss=vgg).key())


def test_settings_of_a_rescaled_epoch_key_name_no_python_object() -> None:
    """An lr change whose epoch the profile rescaled has no declared value at the new epoch:
    the settings block says so, not an object's memory address (which differed per run)."""
    from inpaint_lib.setting_sources import setting_sources

    rows = setting_sources(REPO / "params/b3_phase3.yaml", "smoke")
    moved = [r for r in rows if r["setting"].startswith("runs.vit.lr_changes.")]
    assert moved and all("object at" not in r["set by"] for r in rows)
    assert any("(-), rescaled by profile smoke" in r["set by"] for r in moved)
