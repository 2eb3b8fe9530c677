"""Part A at the study's scale: the plan covers every number the study reports, the committed
runs load with their provenance, and the report reads them (whatever today's training code)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import torch

from inpaint_lib import scoring, study_scale
from inpaint_lib.data import Splits
from inpaint_lib.models import build_model
from inpaint_lib.report import prose, tables
from inpaint_lib.report.prose.study_scale import seed_counts
from inpaint_lib.resolve import chained_run_config, load_params, with_seed
from inpaint_lib.schema import RunConfig
from inpaint_lib.section import Section

PARAMS = Path(__file__).resolve().parents[1] / "params"


def test_the_plan_covers_every_part_a_number_the_study_reports() -> None:
    keys = [study_scale.planned_config(p).key() for p in study_scale.PLAN]
    assert len(study_scale.PLAN) == 16 and len(set(keys)) == 16  # no run twice
    assert len(study_scale.planned("A")) == 15  # and Part B's phase 1 (test_study_scale_vit)
    for path in sorted(PARAMS.glob("a[1-4]_*.yaml")):
        params = load_params(path, "full")
        for name, ref in params.reference.items():
            if ref.test_mse is not None:  # seed 0 of the configuration behind each number
                cfg = chained_run_config(with_seed(params, name, 0), name, "full")
                assert cfg.key() in keys, (path.name, name)
                assert cfg.epoch_range[1] == 200 and cfg.batch_size == 256


def _committed() -> list[study_scale.Committed]:
    """The planned Part A runs found (each once: the baseline's other names are the same run)."""
    found = {}
    for p in study_scale.planned("A"):
        c = study_scale.committed_run(study_scale.planned_config(p))
        if c is not None:
            found[c.dir] = c
    assert found, f"no planned run committed under {study_scale.committed_root()}/runs"
    return list(found.values())


def test_committed_runs_load_with_their_provenance_and_scores() -> None:
    for c in _committed():
        info = c.info
        assert info["sizes"] == {"train": 45000, "val": 5000, "test": 10000}, c.dir
        for field in ("code", "git_commit", "precision", "data", "train_seconds", "threads"):
            assert info.get(field) not in (None, ""), (c.dir, field)
        state = torch.load(c.dir / "final.pt", map_location="cpu", weights_only=True)
        assert set(state) == {"model"}  # the weights only: no optimiser state committed
        cfg = RunConfig.model_validate(info["config"])
        build_model(cfg.model, info["image_size"]).load_state_dict(state["model"])
        assert cfg.epoch_range[1] == len(c.run("x").history) == 200
        scores = c.scores
        assert scores["images"] == 10000 and 0 < scores["means"]["mse"] < 0.05
        assert c.provenance().startswith(f"commit {c.commit}, training code {c.code}")


def test_the_report_reads_the_committed_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A quick-profile section on a stand-in for CIFAR-10's test split (random images of its
    size: the committed networks are scored on them, nothing is trained)."""
    monkeypatch.setenv("INPAINT_RESULTS_DIR", str(tmp_path / "results"))
    params = load_params(PARAMS / "a1_baseline.yaml", "quick")
    g = torch.Generator().manual_seed(0)
    test = torch.randint(0, 256, (10000, 3, 32, 32), dtype=torch.uint8, generator=g)
    splits = Splits(test[:8], test[:8], test, "CIFAR-10 stand-in", "random", "fake-cifar")
    section = Section(params, "quick", torch.device("cpu"), splits)
    found = scoring.study_scale_runs(section)
    assert "baseline" in found and all(c.info["sizes"]["train"] == 45000 for _, c in found["baseline"])
    full = scoring.at_study_scale(section)
    assert set(full.method) == {"baseline"} and len(full) == len(found["baseline"])
    assert {"commit", "code", "current_code", "precision"} <= set(full.columns)
    long = pd_long(full)
    summary = tables.seed_summary(long, params.reference, full).set_index("method")
    assert summary.loc["baseline", tables.STUDY_SCALE] == pytest.approx(full.mse.mean())
    note = prose.study_scale_note(full, ["baseline"])
    assert "45,000 training images, 200 epochs" in note and f"`{full.commit.iloc[0][:7]}`" in note
    assert note.startswith("Ours at the study's scale (baseline): ")  # which runs: no two sections alike
    assert "batch 256, 3 seeds (their mean), trained" in note  # the baseline's three committed seeds
    seeds = pd.Series({"Adam": 3, "RMSprop": 1, "SGD": 1})
    assert seed_counts(seeds) == "one seed each, 3 for Adam (their mean)"
    assert seed_counts(seeds[1:]) == "one seed each"
    assert seed_counts(pd.Series({"Adam": 3, "RMSprop": 2})) == "3 for Adam, 2 for RMSprop (their mean)"
    assert seed_counts(pd.Series({"Adam": 3, "RMSprop": 3})) == "3 seeds each (their mean)"
    # a section with none trained names its own runs (no two sections print the same line)
    empty = full.iloc[:0]
    a2, a3 = (prose.study_scale_note(empty, names) for names in (["RMSprop", "SGD"], ["16", "64"]))
    assert "none of RMSprop, SGD is trained" in a2 and a2 != a3
    assert "baseline is not trained" in prose.study_scale_note(empty, ["baseline"])
    # the ablation's one-change rows are not in the plan: no promise that the command trains them
    a6 = prose.study_scale_note(full, ["best combination", "+ mask channel"],
                                study_scale.planned_runs("a6_ablation"))
    assert "Not trained at that scale yet: best combination (`make study-scale` trains it)" in a6
    assert "not trained at that scale here: + mask channel (`make report PROFILE=full`" in a6
    # a smoke section (generated shapes) never shows them
    smoke = load_params(PARAMS / "a1_baseline.yaml", "smoke")
    assert scoring.study_scale_runs(Section(smoke, "smoke", torch.device("cpu"), splits)) == {}


def pd_long(full):
    """`full` as a results table of this profile (the committed rows stand in for ours)."""
    return full.assign(images=10000)


def test_status_and_table_name_what_is_done() -> None:
    lines, to_do = study_scale.status_lines()
    done = [line for line in lines if line.startswith("done ")]
    assert len(done) == len(study_scale.PLAN) - to_do >= 1
    assert lines[-1].startswith(f"{len(study_scale.PLAN) - to_do} of {len(study_scale.PLAN)} runs done")
    table = study_scale.markdown_table()
    baseline = next(r for r in table.splitlines() if r.startswith("| a1_baseline :: baseline | 0 |"))
    assert "0.008868" in baseline and "x |" in baseline  # the study's number and the ratio
