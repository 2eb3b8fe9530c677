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
    assert {"commit", "code", "current_code", "precision", "dataset"} <= set(full.columns)
    # the data set the committed runs record, not the reader's (here a stand-in)
    recorded = {c.info["dataset"] for _, c in found["baseline"]}
    assert tables.recorded_dataset(full) == ", ".join(recorded) != section.splits.name
    long = pd_long(full)
    summary = tables.seed_summary(long, params.reference, full).set_index("method")
    assert summary.loc["baseline", tables.STUDY_SCALE] == pytest.approx(full.mse.mean())
    note = prose.study_scale_note(full, ["baseline"])
    assert "45,000 training images, 200 epochs" in note and f"`{full.commit.iloc[0][:7]}`" in note
    assert note.startswith("Ours at the study's scale (baseline): ")  # which runs: no two sections alike
    assert "batch 256, 3 seeds (their mean), trained" in note  # the baseline's three committed seeds
    # a seed resumed from processes whose commit and precision were not recorded says so,
    # with their epochs, beside the commit that trained the rest
    gaps = {int(run.config.seed): study_scale.unrecorded_epochs(c) for run, c in found["baseline"]}
    assert gaps == {int(s): e for s, e in zip(full.seed, full.unrecorded_epochs)}
    for seed, epochs in gaps.items():
        assert (f"baseline seed {seed}: epochs {epochs}" in note) == bool(epochs)
    assert ("were not recorded" in note) == any(gaps.values())
    recorded = full.assign(unrecorded_epochs="")
    assert "not recorded" not in prose.study_scale_note(recorded, ["baseline"])
    one_gap = full.assign(unrecorded_epochs=["1-29"] + [""] * (len(full) - 1))
    assert (f"1 run resumed from earlier processes whose commit and precision were not recorded "
            f"(trained before each process was; the same training code, part of the run's key): "
            f"baseline seed {int(full.seed.iloc[0])}: epochs 1-29") in prose.study_scale_note(one_gap, ["baseline"])
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
    c = study_scale.committed_run(study_scale.planned_config(study_scale.PLAN[0]))
    mse = c.scores["means"]["mse"]
    cells = [x.strip() for x in baseline.split("|")]
    # ours as scored, the study's number, and their ratio computed from the two
    assert cells[3:6] == [f"{mse:.6f}", "0.008868", f"{mse / 0.008868:.2f}x"]


# ------------------------------------------------------------ provenance when served
def _pinned() -> dict:
    return study_scale.read_json(study_scale.pin_file())


def test_every_served_run_is_the_pinned_commit_s_and_what_its_record_says() -> None:
    """The committed runs served at the study's scale: their record names the pinned commit
    and training code, their config.json agrees with it field by field, their weights hash
    to the recorded SHA-256 and their scores give the recorded test MSE."""
    pin = _pinned()
    served = [study_scale.served_run(study_scale.planned_config(p))[0] for p in study_scale.PLAN]
    served = list({c.dir: c for c in served if c is not None}.values())
    assert len(served) >= 11
    for c in served:
        r = c.record
        assert r["commit"] == c.info["git_commit"] and pin["commit"].startswith(r["commit"])
        assert r["training_code"] == c.info["code"] == pin["training_code"]
        assert (r["precision"], r["data"]) == (c.info["precision"], c.info["data"])
        assert r["weights_sha256"] == study_scale.sha256_file(c.dir / "final.pt")
        assert r["test_mse"] == c.scores["means"]["mse"]
        assert c.status == study_scale.COMMITTED and c.problems() == []
        segs = c.segments  # every process recorded; the last one's commit is the pinned one
        assert len(segs) == r["segments"] >= 1 and segs[-1]["commit"] == r["commit"]
        # every segment: the pinned training code (the run's key), and the pinned commit or,
        # for a run trained before processes were recorded, unrecorded and said to be
        rebuilt = [s["recorded"].startswith("reconstructed") for s in segs]
        assert r["segments_reconstructed"] == sum(rebuilt)
        for s, old in zip(segs, rebuilt):
            assert s["code"] == pin["training_code"]
            assert (s["commit"] is not None and pin["commit"].startswith(s["commit"])) or (
                s["commit"] is None and old and s["precision"] is None)
        assert study_scale.unrecorded_epochs(c) == ", ".join(
            f"{s['epochs'][0]}-{s['epochs'][1]}" for s in segs if s["commit"] is None and s["epochs"])
        assert [s["epochs"][1] for s in segs if s["epochs"]][-1] == 200


def _copy(tmp_path: Path, plans: list[study_scale.Planned]) -> tuple[Path, list]:
    """A temp copy of results/full holding the planned runs `plans` (committed ones), their
    pin and nothing recorded yet."""
    import shutil

    root = tmp_path / "full"
    (root / "runs").mkdir(parents=True)
    pin = {k: v for k, v in _pinned().items() if k != "runs"}
    study_scale.atomic_write_json(root / "study-scale.json", pin)
    found = []
    for p in plans:
        c = study_scale.committed_run(study_scale.planned_config(p))
        shutil.copytree(c.dir, root / "runs" / c.dir.name,
                        ignore=shutil.ignore_patterns(study_scale.segments.SEGMENTS))
        found.append(p)
    return root, found


@pytest.fixture
def scored_today(monkeypatch: pytest.MonkeyPatch) -> None:
    """The committed runs' scores count as today's scoring code's (`finish` would otherwise
    score them again on CIFAR-10, which the tests do not have)."""
    c = study_scale.committed_run(study_scale.planned_config(study_scale.PLAN[0]))
    monkeypatch.setattr(study_scale, "scoring_code", lambda: c.scores["scoring_code"])


def _served(root: Path, p: study_scale.Planned):
    return study_scale.served_run(study_scale.planned_config(p), root)


def test_an_unrecorded_or_untracked_run_is_named_never_served_as_committed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, scored_today: None) -> None:
    baseline, latent = study_scale.PLAN[0], study_scale.PLAN[6]
    root, _ = _copy(tmp_path, [baseline, latent])
    monkeypatch.setattr(study_scale, "tracked", lambda r: {d.name for d in (r / "runs").iterdir()})
    served, others = _served(root, baseline)
    assert served is None and len(others) == 1  # a developer's own run: found, not recorded
    assert others[0].status == study_scale.UNTRACKED
    assert others[0].problems() == ["not recorded in results/full/study-scale.json"]
    # the command records it (from its config.json and train.log), then it is served
    pin = study_scale.read_json(root / "study-scale.json")
    out = study_scale.finish(others[0], baseline, pin, do_commit=False)
    assert out is not None and out.record["note"] == study_scale.MIGRATED
    served, others = _served(root, baseline)
    assert served is not None and served.status == study_scale.COMMITTED and others == []
    assert served.record["segments"] == len(served.segments) >= 1
    # recorded, but git does not track it: untracked, not served
    monkeypatch.setattr(study_scale, "tracked", lambda r: set())
    served, others = _served(root, baseline)
    assert served is None and others[0].status == study_scale.UNTRACKED
    assert others[0].problems() == ["git does not track it"]
    note = prose.study_scale_note(pd.DataFrame(), ["baseline"], unused=[
        {"method": "baseline", "seed": 0, "run": others[0].dir.name, "status": others[0].status,
         "why": "; ".join(others[0].problems()), "mse": others[0].scores["means"]["mse"]}])
    mse = others[0].scores["means"]["mse"]
    assert f"baseline seed 0 (`{others[0].dir.name}`): test MSE {mse:.6f} by its own scores.json, " \
        "**untracked** (git does not track it)" in note
    assert "committed" not in note.split("not used")[1].split("only runs committed")[0]


@pytest.mark.parametrize("change", ["precision", "commit", "data", "weights", "scores", "pin commit",
                                    "pin code"])
def test_a_run_that_is_not_what_its_record_says_is_not_served(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change: str, scored_today: None) -> None:
    """Each recorded field checked when served: the pinned commit and training code, the
    run's config.json (commit, precision, data), its weights against the recorded SHA-256
    (its scores belong to those weights) and its scores against the recorded test MSE."""
    baseline = study_scale.PLAN[0]
    root, _ = _copy(tmp_path, [baseline, study_scale.PLAN[6]])
    monkeypatch.setattr(study_scale, "tracked", lambda r: {d.name for d in (r / "runs").iterdir()})
    _, (c,) = _served(root, baseline)
    study_scale.finish(c, baseline, study_scale.read_json(root / "study-scale.json"), False)
    c, _ = _served(root, baseline)
    assert c is not None
    cfg_file = c.dir / "config.json"
    info = study_scale.read_json(cfg_file)
    if change in ("precision", "commit", "data"):
        key = {"precision": "precision", "commit": "git_commit", "data": "data"}[change]
        study_scale.atomic_write_json(cfg_file, {**info, key: "fp32" if key == "precision" else "0000000"})
    elif change == "weights":  # another run's weights under this run's scores
        other = study_scale.committed_run(study_scale.planned_config(study_scale.PLAN[6]), root=root)
        (c.dir / "final.pt").write_bytes((other.dir / "final.pt").read_bytes())
    elif change == "scores":
        scores = study_scale.read_json(c.dir / "scores.json")
        scores["means"]["mse"] *= 0.9
        study_scale.atomic_write_json(c.dir / "scores.json", scores)
    else:
        pin = study_scale.read_json(root / "study-scale.json")
        pin["commit" if change == "pin commit" else "training_code"] = "f" * 40
        study_scale.atomic_write_json(root / "study-scale.json", pin)
    served, (other,) = _served(root, baseline)
    assert served is None and other.status == study_scale.DIFFERS
    words = {"precision": "precision fp32", "commit": "commit 0000000", "data": "data 0000000",
             "weights": "weights are not the recorded ones", "scores": "scores.json test MSE",
             "pin commit": "is not the pinned ffffff", "pin code": "is not the pinned ffff"}[change]
    assert any(words in problem for problem in other.problems()), other.problems()


def test_only_runs_whose_every_segment_came_from_the_pin_are_recorded(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, scored_today: None) -> None:
    """A run git does not track yet is recorded (and so committed) only if every training
    process came from the pinned commit: one resumed from another commit, or with a
    segment whose commit was never recorded, is refused and named."""
    baseline = study_scale.PLAN[0]
    root, _ = _copy(tmp_path, [baseline])
    monkeypatch.setattr(study_scale, "tracked", lambda r: set())  # newly trained: not in git
    pin = study_scale.read_json(root / "study-scale.json")
    _, (c,) = _served(root, baseline)
    segs = study_scale.segments.sync(c.dir)  # reconstructed: the earlier processes' commit unknown
    if len(segs) == 1:  # a run trained in one process: add one from another commit
        segs = [{**segs[0], "commit": "1234567", "epochs": [1, 5]}, *segs]
        study_scale.atomic_write_json(c.dir / study_scale.segments.SEGMENTS, {"segments": segs})
    assert study_scale.unpinned(c, pin)
    assert study_scale.finish(c, baseline, pin, do_commit=False) is None
    assert "runs" not in study_scale.read_json(root / "study-scale.json")
    # every process from the pinned commit: recorded
    fixed = [{**s, "commit": pin["commit"][:7], "code": pin["training_code"]} for s in segs]
    study_scale.atomic_write_json(c.dir / study_scale.segments.SEGMENTS, {"segments": fixed})
    assert study_scale.unpinned(c, pin) == []
    out = study_scale.finish(c, baseline, pin, do_commit=False)
    assert out is not None and c.dir.name in study_scale.read_json(root / "study-scale.json")["runs"]
    assert "note" not in out.record  # trained and recorded by the command, not migrated


def test_a_run_by_other_training_code_than_today_s_is_served_and_says_so(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The "not today's" path: a committed run is matched by config, never by today's code;
    its provenance and the section's note say that today's code would retrain it."""
    from inpaint_lib.report.prose.study_scale import _codes

    c = study_scale.served_run(study_scale.planned_config(study_scale.PLAN[0]))[0]
    monkeypatch.setattr(study_scale, "training_code", lambda: "0123456789ab")
    assert not c.current_code and "(today's training code is 0123456789ab)" in c.provenance()
    frame = pd.DataFrame({"commit": [c.commit], "code": [c.code], "current_code": [c.current_code]})
    assert "**not today's**: today's would retrain it" in _codes(frame)
    monkeypatch.setattr(study_scale, "training_code", lambda: c.code)
    assert c.current_code and "today's training code" not in c.provenance()
    assert "(today's)" in _codes(frame.assign(current_code=True))
