"""Part B's phase 1 at the study's scale: its place in `make study-scale`'s plan with the study's
own settings, and the plan entry end to end at a tiny size on generated images (trained by the
train command in another process, as from the pinned commit; committed without its weights;
scored on pets and boats; read back by the report)."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from inpaint_lib import runs, scoring, study_scale
from inpaint_lib import study_scale_vit as vit
from inpaint_lib.code_version import training_code
from inpaint_lib.data import Splits
from inpaint_lib.io import atomic_write_json, read_json, sha256_file
from inpaint_lib.report import prose, show, tables
from inpaint_lib.resolve import load_params
from inpaint_lib.section import Section
from inpaint_lib.stats import TIE

from .conftest import make_tree

REPO = Path(__file__).resolve().parents[1]
PHASE_1 = study_scale.Planned("b1_phase1", "vit")


def test_phase_1_is_planned_with_the_studys_settings_after_the_part_a_seeds() -> None:
    """Last in the plan: the hours-long ViT after the best combination's and latent 256's
    seeds, each of which one session can finish."""
    labels = [p.label for p in study_scale.PLAN]
    assert labels[-5:] == ["a6_ablation :: best combination (seed 1)",
                           "a6_ablation :: best combination (seed 2)",
                           "a3_latent :: 256 (seed 1)", "a3_latent :: 256 (seed 2)", PHASE_1.label]
    assert study_scale.planned("B") == [PHASE_1] and PHASE_1 not in study_scale.planned("A")
    cfg = study_scale.planned_config(PHASE_1)
    m = cfg.model
    assert (m.arch, m.patch_size, m.dim, m.depth, m.heads, m.dropout) == ("vit", 16, 256, 8, 8, 0.1)
    assert cfg.data.image_size == 224 and cfg.data.subset.train is None  # every training photo
    assert cfg.epoch_range == (1, 20) and cfg.batch_size == 64 and cfg.seed == 0
    assert (cfg.optimizer.name, cfg.optimizer.lr) == ("adamw", 0.001)
    assert (cfg.mask.size, cfg.mask.count) == (9, 80)
    assert (cfg.loss.mae, cfg.loss.perceptual, cfg.loss.uses_perceptual) == (1.0, 0.0, False)
    # the training process gets exactly this seed of the ViT's section, over the caller's own
    env = study_scale.train_settings(PHASE_1, threads=2)
    assert env["OMP_NUM_THREADS"] == "2"
    assert "vit: {" in env["INPAINT_OVERRIDES"] and "run_seeds: {vit: 1}" in env["INPAINT_OVERRIDES"]


def test_a_run_committed_without_weights_is_finished_and_commits_its_record(tmp_path: Path) -> None:
    d = tmp_path / "vit-abc"
    d.mkdir()
    assert not study_scale.finished(d) and "final.pt" in study_scale.committed_files(d)
    (d / "final.pt").write_bytes(b"w")
    assert study_scale.finished(d) and "final.pt" in study_scale.committed_files(d)  # Part A
    (d / vit.WEIGHTS_RECORD).write_text("{}")
    (d / "final.pt").unlink()  # a fresh clone: the record stands for the weights
    assert study_scale.finished(d)
    assert "final.pt" not in study_scale.committed_files(d)
    assert vit.WEIGHTS_RECORD in study_scale.committed_files(d)


# the full profile's ViT shrunk to seconds: 32 px, one small block, 1 of 20 epochs, masks and
# test levels scaled, pets and boats as generated image trees
TINY = ("vit: {data: {image_size: 32}, epoch_scale: 0.05, mask_scale: 0.143, "
        "train: {model: {patch_size: 8, dim: 16, depth: 1, heads: 2, mlp_dim: 32}, batch_size: 16}, "
        "evaluation: {n_examples: 2, mask_counts: [3, 5], mask_size: 3, grid_patch: 8, batch_size: 16, "
        "ood: {dataset: ships, image_size: 32, val_size: 0}}}")


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True,
                          check=True).stdout


def test_the_part_b_plan_entry_end_to_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data"
    make_tree(data / "oxford-pet", {"cat": (16, 4), "dog": (16, 4)}, size=40)
    make_tree(data / "boats", {"boat": (0, 6)}, size=48, seed=1)
    monkeypatch.setenv("INPAINT_OVERRIDES", TINY)
    repo = tmp_path / "repo"  # the checkout the run is committed into
    repo.mkdir()
    _git(repo, "init", "-q")
    _git(repo, "config", "user.email", "test@example.com")
    _git(repo, "config", "user.name", "test")
    monkeypatch.setattr(study_scale, "REPO_ROOT", repo)
    # the pin: this checkout's commit, as its training process will record it (a run whose
    # process came from uncommitted code is refused by design, so a dirty checkout cannot run this)
    commit = runs.git_commit()
    if "+dirty" in commit or commit == "unknown":
        pytest.skip(f"inpaint_lib has uncommitted changes (or no git): commit {commit}")
    pin = {"commit": commit, "training_code": training_code()}
    (repo / "results" / "full").mkdir(parents=True)
    atomic_write_json(study_scale.pin_file(), pin)

    # trained by `python -m inpaint_lib train` in another process with this checkout's code,
    # each process recorded as a segment, the run recorded in the pin file and committed
    assert study_scale.complete(PHASE_1, REPO, code=None, threads=1, do_commit=True) == study_scale.DONE
    c = study_scale.committed_run(study_scale.planned_config(PHASE_1))
    assert c is not None and c.dir.parent == repo / "results" / "full" / "runs"
    assert c.info["sizes"] == {"train": 32, "val": 0, "test": 8} and c.info["image_size"] == 32

    # committed: everything but the weights, which their record names
    tracked = {Path(f).name for f in _git(repo, "ls-files").split()}
    assert tracked == {*vit.COMMITTED_FILES, "study-scale.json"} and "final.pt" not in tracked  # + its record
    assert "b1_phase1 :: vit (seed 0) at the study's scale" in _git(repo, "log", "-1", "--format=%s")
    weights = read_json(c.dir / vit.WEIGHTS_RECORD)
    assert weights["sha256"] == sha256_file(c.dir / "final.pt")
    assert weights["bytes"] == (c.dir / "final.pt").stat().st_size
    assert set(weights["holds"]) == {"model", "optimizer"}  # phase 2 continues from both
    assert weights["retrain"].startswith(f"git worktree add --detach .study-scale {c.commit} && ")
    assert "train params/b1_phase1.yaml --profile full --run vit" in weights["retrain"]
    assert "OMP_NUM_THREADS=1" in weights["retrain"] and "run_seeds: {vit: 1}" in weights["retrain"]

    # scored like every Part B network: both sets, each level, every method, the patch grid
    scores = c.scores
    assert {k: v["images"] for k, v in scores["sets"].items()} == {"pets": 8, "boats": 6}
    assert scores["levels"] == ["3 × 3×3 px", "5 × 3×3 px"]
    levels = vit.levels(c)
    from inpaint_lib.baselines import CLASSICAL_METHODS

    limits = load_params(REPO / "params" / "b1_phase1.yaml", "full").evaluation.classical_images
    classical = [n for n in CLASSICAL_METHODS if limits.get(n) != 0]  # those Part B runs
    assert len(levels) == 2 * 2 * (1 + len(classical)) and set(levels.kind) == {"network", "classical"}
    assert levels[levels.method == vit.NETWORK]["grid"].notna().all()
    lines, _ = study_scale.status_lines()
    assert any(line.startswith(f"done     {PHASE_1.label}: held-out pets, 3 × 3×3 px: hole MAE ")
               for line in lines)

    # a fresh clone has no weights: the run is still found, and nothing retrains
    (c.dir / "final.pt").unlink()
    assert study_scale.committed_run(study_scale.planned_config(PHASE_1)) is not None
    assert study_scale.complete(PHASE_1, REPO, code=None, do_commit=True) == 0
    assert "committed without its weights" in capsys.readouterr().out
    assert len(list(c.dir.parent.iterdir())) == 1

    # the report reads it back in a reduced profile's phase 1 section, from the committed files
    quick = load_params(REPO / "params" / "b1_phase1.yaml", "quick")
    fake = torch.zeros(4, 3, 64, 64, dtype=torch.uint8)
    section = Section(quick, "quick", torch.device("cpu"), Splits(fake, fake[:0], fake, "pets", "x", "f"))
    found = scoring.phase_at_study_scale(section)
    assert found is not None and found.dir == c.dir
    paired = {m: tables.paired_comparisons(vit.per_image(found, m), m) for m in vit.PAIRED_METRICS}
    for table in paired.values():
        assert len(table) == 4 and set(table.verdict) <= {"better", "worse", TIE}
        assert set(table.images) == {8, 6} and (table.noise == "images only (one seed, no seed "
                                                                "spread known)").all()
    mae = paired["hole_mae"]
    net = levels[(levels.method == vit.NETWORK) & (levels.set == "pets")]["hole_mae"]
    assert mae["network mean"].iloc[0] == pytest.approx(net.iloc[0], rel=1e-5)  # the same numbers
    shown = vit.reconstructions(found)
    assert list(shown) == ["input", vit.NETWORK, "ground truth"]
    assert all(v.shape == (2, 3, 32, 32) for v in shown.values())
    truth, _ = study_scale_section_examples(found)
    with Image.open(io.BytesIO(vit._jpeg([truth.float() / 255]))) as im:  # the same JPEG loss
        alone = torch.from_numpy(np.asarray(im).copy()).permute(2, 0, 1)
    assert (shown["ground truth"].float() - torch.stack(alone.split(32, dim=2))).abs().mean() < 2
    verdicts = tables.with_patch_grid(tables.verdicts_by_metric(paired), levels, vit.NETWORK)
    assert verdicts["patch grid (raw prediction; 1 = as the image)"].notna().all()
    text = prose.phase_verdicts(paired)
    assert "hole MAE: better in" in text and "images only (one seed" in text
    said: list[str] = []
    monkeypatch.setattr(show, "md", said.append)
    show.phase_at_study_scale(section, found.run("vit"))  # the report's block, end to end
    assert said[0].startswith("**Phase 1 at the study's scale** (committed; nothing trains here)")
    assert f"SHA-256 `{weights['sha256'][:12]}" in said[0] and "epochs 1-1, MAE only" in said[0]
    assert said[-1] == text
    # the findings' line on what is not at the study's scale names it, with a link
    assert ("phase 1 (epochs 1-1, MAE only) is trained at that scale on this CPU and committed "
            "([5.1](#") in _part_b_at_scale(monkeypatch, section.splits)
    # a smoke section (generated shapes) never shows it
    smoke = load_params(REPO / "params" / "b1_phase1.yaml", "smoke")
    assert scoring.phase_at_study_scale(Section(smoke, "smoke", torch.device("cpu"),
                                                section.splits)) is None


def study_scale_section_examples(c: study_scale.Committed) -> tuple[torch.Tensor, torch.Tensor]:
    """The example images and masks the committed reconstructions were drawn on."""
    from inpaint_lib.section import open_section

    full = open_section(REPO / "params" / "b1_phase1.yaml", "full")
    return full.examples(c.run("vit").config.mask)


def test_a_planned_phase_not_committed_says_how_to_train_it(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(study_scale, "REPO_ROOT", tmp_path)  # a checkout with nothing committed
    fake = torch.zeros(4, 3, 64, 64, dtype=torch.uint8)
    splits = Splits(fake, fake[:0], fake, "pets", "x", "f")
    said: list[str] = []
    monkeypatch.setattr(show, "md", said.append)
    for stem in ("b1_phase1", "b2_phase2"):
        params = load_params(REPO / "params" / f"{stem}.yaml", "quick")
        section = Section(params, "quick", torch.device("cpu"), splits)
        assert scoring.phase_at_study_scale(section) is None
        show.phase_at_study_scale(section, None)  # type: ignore[arg-type] - not read
    assert len(said) == 1  # phase 1 only: phase 2 is not in the plan
    assert said[0].startswith("**Phase 1 at the study's scale** (the study's ViT at its "
                              "resolution, epochs 1-20): not trained in this checkout yet")
    assert _part_b_at_scale(monkeypatch, splits).endswith(
        "phase 1 (epochs 1-20, MAE only) needs neither a GPU nor the VGG-16 weights and is in "
        "`make study-scale`'s plan, not trained yet; phases 2-7 need both and are not in this "
        "checkout (`make gpu-partb` prepares them)")


def _part_b_at_scale(monkeypatch: pytest.MonkeyPatch, splits: Splits) -> str:
    """`Conclusions.part_b_at_scale` of the quick report, its sections on `splits` and its phase
    chain as configs (nothing trains)."""
    from inpaint_lib.report.verdicts import Conclusions
    from inpaint_lib.resolve import load_conclusions

    conclusions = Conclusions(load_conclusions(REPO / "params" / "c1_conclusions.yaml"), "quick")
    monkeypatch.setattr(conclusions, "_open", lambda name: Section(
        load_params(REPO / "params" / Path(name).name, "quick"), "quick", torch.device("cpu"), splits))
    phases = sorted((REPO / "params").glob("b[1-7]_phase*.yaml"))
    monkeypatch.setattr(Section, "phase_chain",
                        lambda self: [(load_params(f, "quick"), None) for f in phases])
    return conclusions.part_b_at_scale()
