"""The full profile as Dask jobs: the job list, the local engine, the run cache's lock."""

from __future__ import annotations

import importlib
import os
import re
from pathlib import Path
from types import ModuleType

import pytest

from inpaint_lib import jobs
from inpaint_lib.__main__ import main
from inpaint_lib.preflight import study_files
from inpaint_lib.resolve import load_params, seeds_for, with_seed
from inpaint_lib.runs import trained_run

REPO = Path(__file__).resolve().parent.parent
PARAMS = REPO / "params"
EPOCH = re.compile(r"epoch (\d+)/\d+")


def need(module: str) -> ModuleType:
    """Dask is a dependency (pyproject): CI must have it; an older local venv skips."""
    if os.environ.get("CI"):
        return importlib.import_module(module)
    return pytest.importorskip(module)


def test_list_every_run_once_with_the_phase_chain() -> None:
    listed = jobs.list_jobs(study_files(), "smoke")
    ids = [j.id for j in listed]
    assert len(ids) == len(set(ids))
    by_id = {j.id: j for j in listed}
    # the Part A baseline is one job however many notebooks share it
    baseline = [j for j in listed if j.name == "baseline"]
    assert len(baseline) == 1 and {"a1_baseline", "a2_optimizers"} <= set(baseline[0].notebooks)
    # every seed is a job: b9's SoftAdapt has run_seeds 2
    assert sorted(j.seed for j in listed if j.notebook == "b9_variants" and j.name == "SoftAdapt") \
        == [0, 1]
    # phases: b7 <- b6 <- ... <- b1, each parent listed before its child; nothing else waits
    chain, job = [], next(j for j in listed if "b7_phase7" in j.notebooks)
    while job.parent is not None:
        assert ids.index(job.parent) < ids.index(job.id)
        chain.append(job.notebook)
        job = by_id[job.parent]
    chain.append(job.notebook)
    assert chain == [f"b{i}_phase{i}" for i in range(7, 0, -1)]
    assert all(j.parent is None for j in listed if not j.notebook.startswith("b"))


def test_a_phase_brings_its_parents(capsys: pytest.CaptureFixture[str]) -> None:
    listed = jobs.list_jobs([PARAMS / "b3_phase3.yaml"], "smoke")
    assert [j.notebook for j in listed] == ["b1_phase1", "b2_phase2", "b3_phase3"]
    assert main(["jobs", str(PARAMS / "b3_phase3.yaml"), "--profile", "smoke", "--list"]) == 0
    out = capsys.readouterr().out
    assert "3 runs, 2 of them phases" in out and listed[1].id in out


def test_bad_worker_count_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["jobs", "--profile", "smoke", "--workers", "0"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--workers" in err


def test_gpu_workers_see_one_device_each() -> None:
    need("distributed")
    specs = jobs.gpu_workers(3)
    assert [s["options"]["env"]["CUDA_VISIBLE_DEVICES"] for s in specs.values()] == ["0", "1", "2"]
    assert all(s["options"]["nthreads"] == 1 for s in specs.values())


def test_slurm_job_script_names_the_job_by_its_run(monkeypatch: pytest.MonkeyPatch,
                                                    tmp_path: Path) -> None:
    """One job per run: named by the key --list prints, its log beside the run cache, the
    settings of the command that submits it (the results directory absolute), the user's
    prologue lines after them, and the job's Python checking its imports first. The live
    cluster's tests are tests/test_slurm.py."""
    monkeypatch.setenv("INPAINT_OVERRIDES", "{vit: {train: {batch_size: 8}}}")
    job = jobs.list_jobs([PARAMS / "b2_phase2.yaml"], "smoke")[1]
    slurm = jobs.Slurm(cores=8, memory="32GB", walltime="12:00:00", partition="gpu",
                       account="proj", gpus_per_job=1, python="/opt/py/bin/python",
                       prologue=("module load cuda", "export INPAINT_DATA_DIR=/scratch/data"))
    script = jobs.job_script(job, "smoke", slurm)
    for line in (f"#SBATCH --job-name={job.id}", f"#SBATCH --chdir={REPO}",
                 f"#SBATCH --output={tmp_path}/results/smoke/slurm/{job.id}.%j.log",
                 "#SBATCH --partition=gpu", "#SBATCH --account=proj", "#SBATCH --gres=gpu:1",
                 "#SBATCH --time=12:00:00", "#SBATCH --cpus-per-task=8", "#SBATCH --mem=32GB",
                 f"export INPAINT_RESULTS_DIR={tmp_path}/results", "export OMP_NUM_THREADS=8",
                 "export INPAINT_OVERRIDES='{vit: {train: {batch_size: 8}}}'",
                 "exec /opt/py/bin/python -c "):
        assert line in script, (line, script)
    lines = script.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("exec "))
    assert lines[start - 2:start] == list(slurm.prologue)  # after the exports: the user's last
    assert lines[-1].endswith(f"{job.file} vit 0 {job.id} smoke '' ''")
    assert "cannot import" in script  # the job's first step: one line if it cannot


def test_local_cluster_trains_each_run_once_phases_in_order(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Dask's local mode on the smoke profile: a Part A pair sharing the baseline and a
    three-phase chain. The command trains a1 first (its baseline is then cached); a second
    job for RMSprop at the same time stands for a second worker (or a notebook) reaching the
    same run: the cache's lock lets one of them train it."""
    distributed = need("distributed")
    a1 = str(PARAMS / "a1_baseline.yaml")
    assert main(["jobs", a1, "--profile", "smoke", "--workers", "1"]) == 0
    assert "1 runs: 1 trained, 0 cached, 0 failed" in capsys.readouterr().out
    files = [PARAMS / "a1_baseline.yaml", PARAMS / "a2_optimizers.yaml", PARAMS / "b3_phase3.yaml"]
    listed = jobs.list_jobs(files, "smoke")
    assert len(listed) == 6  # baseline, RMSprop, SGD + Momentum, b1, b2, b3
    base, rms = listed[0], next(j for j in listed if j.name == "RMSprop")
    lines: list[str] = []
    with jobs.local_cluster(2) as cluster, distributed.Client(cluster) as client:
        twin = client.submit(jobs.train_job, rms.file, rms.name, rms.seed, "smoke", None, 1,
                             key="twin-of-RMSprop", pure=False)
        results = jobs.run_jobs(listed, client, "smoke", threads=1, echo=lines.append)
        twin_result = twin.result()
        again = jobs.run_jobs(listed, client, "smoke", threads=1, echo=lines.append)
    assert len(results) == 6 and not any("error" in r for r in results.values()), lines
    dirs = {Path(r["dir"]) for r in results.values()}
    assert len(dirs) == 6 and all((d / "final.pt").exists() for d in dirs)
    # the key --list prints is the directory the run lives in (one identity per run)
    assert all(Path(r["dir"]).name == job_id for job_id, r in results.items())
    assert len(list((tmp_path / "results" / "smoke" / "runs").iterdir())) == 6
    # each run trained exactly once: one process says it trained it, each epoch logged once
    assert not results[base.id]["trained"]  # the command trained it
    assert twin_result["dir"] == results[rms.id]["dir"]
    assert [twin_result["trained"], results[rms.id]["trained"]].count(True) == 1
    assert all(r["trained"] for j, r in results.items() if j not in (base.id, rms.id))
    for d in dirs:
        epochs = [int(m.group(1)) for m in EPOCH.finditer((d / "train.log").read_text())]
        assert epochs and len(epochs) == len(set(epochs)), (d, epochs)
    # phases in order: a phase starts after its parent's final weights are written
    for job in listed:
        if job.parent is not None:
            parent, child = results[job.parent], results[job.id]
            assert parent["end"] <= child["start"]
            assert (Path(parent["dir"]) / "final.pt").stat().st_mtime <= child["start"]
    # a second pass trains nothing: every job finds its run in the cache
    assert {j: r["dir"] for j, r in again.items()} == {j: r["dir"] for j, r in results.items()}
    assert not any(r["trained"] for r in again.values())
    assert sum("(cached" in line for line in lines) == 6 + sum(not r["trained"]
                                                              for r in results.values())
    # the notebooks only read the cache: every run they declare is there
    for f in files:
        study = load_params(f, "smoke")
        for name in study.runs:
            for seed in seeds_for(study, name):
                assert trained_run(with_seed(study, name, seed), name, "smoke") is not None


def test_a_failed_job_fails_its_children_one_line_each(tmp_path: Path) -> None:
    distributed = need("distributed")
    bad = jobs.Job("vit-bad", str(tmp_path / "missing.yaml"), "vit", 0, None, ("b1_phase1",))
    child = jobs.Job("vit-child", str(PARAMS / "b2_phase2.yaml"), "vit", 0, bad.id, ("b2_phase2",))
    lines: list[str] = []
    with distributed.Client(processes=False, n_workers=1, threads_per_worker=1,
                            dashboard_address=None) as client:
        results = jobs.run_jobs([bad, child], client, "smoke", echo=lines.append)
    assert set(results) == {bad.id, child.id}
    assert all("missing.yaml" in r["error"] for r in results.values())
    assert sorted(line.split(":")[0] for line in lines) == ["failed", "failed"]
    assert not (tmp_path / "results" / "smoke" / "runs").exists()  # the child never ran


def test_counting_the_full_profile_needs_no_images(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The benchmark's projection counts the full profile's Part A runs where no image is at
    hand (CI, a fresh clone); the run-directory ids need the images and say so."""
    from inpaint_lib import runs
    from inpaint_lib.image_trees import DataMissingError

    monkeypatch.setenv("INPAINT_DATA_DIR", str(tmp_path))
    monkeypatch.setattr(runs, "_SPLITS", {})
    files = sorted(PARAMS.glob("a*.yaml"))
    counted = jobs.list_jobs(files, "full", run_directories=False)
    names = {(j.notebook, j.name, j.seed) for j in counted}
    assert ("a1_baseline", "baseline", 0) in names and ("a2_optimizers", "RMSprop", 0) in names
    assert len({j.id for j in counted}) == len(counted)
    with pytest.raises(DataMissingError):
        jobs.list_jobs(files[:1], "full")
