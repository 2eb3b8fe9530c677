"""The whole profile as independent training jobs on Dask (one machine or a cluster).

``python -m inpaint_lib jobs --profile P --list`` prints every run the profile's params
files declare (every seed), once each however many notebooks share it (the Part A
baseline appears in four): notebook, run name, seed, key, and the parent run it continues
from. A Part B phase is a chain link: it waits for its parent phase; every other run is
independent.

``... jobs --profile P --workers N`` trains them over N single-threaded worker processes
of a Dask ``LocalCluster`` (``--gpus K``: one worker per CUDA device, each seeing only its
own through CUDA_VISIBLE_DEVICES); ``--scheduler ADDRESS`` uses a running Dask scheduler;
``--slurm`` starts workers as Slurm jobs through dask-jobqueue's ``SLURMCluster``. Each job
is `train_job`, the code path of ``python -m inpaint_lib train FILE --run NAME``
(`runs.get_run`); the run cache's lock keeps two workers (or a worker and a notebook) off
the same run, and a finished run is found, not retrained. The notebooks then only read the
cache. Dask does the scheduling: a phase is submitted with its parent's future as an
argument, so it starts when the parent is trained.
"""

from __future__ import annotations

import logging
import os
import shlex
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .resolve import chained_run_config, load_params, seeds_for, with_seed
from .schema import SectionParams, config_hash


@dataclass(frozen=True)
class Job:
    """One run to train: where it is declared, and the job it waits for (its parent phase)."""

    id: str  # the run cache's directory name: "<arch>-<hash of config, images and training code>"
    file: str  # the params file (absolute path) that declares it first
    name: str  # the run's name in that file
    seed: int
    parent: str | None  # id of the parent phase's job
    notebooks: tuple[str, ...]  # every params file (stem) that declares the same run

    @property
    def notebook(self) -> str:
        return self.notebooks[0]


def _job_id(study: SectionParams, name: str, profile: str) -> str:
    """The run's directory name in the run cache (`runs.run_dir_for`): the key a user reads
    is the folder the run lives in (this loads the study's images, once per process, for
    their fingerprint)."""
    from .runs import load_splits, run_dir_for

    return run_dir_for(chained_run_config(study, name, profile), load_splits(study), profile).name


def _config_id(study: SectionParams, name: str, profile: str) -> str:
    """The run's identity from its config and data config alone (no images, no code):
    enough to count and order the runs where the images are not at hand."""
    cfg = chained_run_config(study, name, profile)
    return f"{cfg.model.arch}-{config_hash({'config': cfg.key(), 'data': study.data.model_dump_json()})}"


def list_jobs(files: list[str | Path], profile: str, *, run_directories: bool = True) -> list[Job]:
    """Every run of the files (every seed), deduplicated, each parent before its children.

    A phase's parent (the first run of its ``parent`` file) is listed even where that
    file is not among `files`, so the chain is complete. Each job's id is its run-cache
    directory (which reads the images for their fingerprint); with
    ``run_directories=False`` it is a key of config and data config only, for counting
    runs without the images.
    """
    job_key = _job_id if run_directories else _config_id
    jobs: dict[str, Job] = {}

    def add(study: SectionParams, name: str, seed: int) -> str:
        seeded = with_seed(study, name, seed)
        job_id = job_key(seeded, name, profile)
        stem = Path(study.source_file).stem
        if job_id in jobs:
            old = jobs[job_id]
            if stem not in old.notebooks:
                jobs[job_id] = Job(old.id, old.file, old.name, old.seed, old.parent,
                                   (*old.notebooks, stem))
            return job_id
        parent = None
        if study.parent is not None:
            parent_study = load_params(Path(study.source_file).parent / study.parent, profile)
            parent_name = next(iter(parent_study.runs))
            parent = add(parent_study, parent_name, seeds_for(parent_study, parent_name)[0])
        jobs[job_id] = Job(job_id, str(Path(study.source_file).resolve()), name, seed, parent,
                           (stem,))
        return job_id

    for f in files:
        study = load_params(f, profile)
        for name in study.runs:
            for seed in seeds_for(study, name):
                add(study, name, seed)
    return list(jobs.values())


def train_job(file: str, name: str, seed: int, profile: str, device: str | None = None,
              threads: int | None = None, _parent: Any = None) -> dict[str, Any]:
    """Train (or find in the cache) one run: what ``train FILE --run NAME`` does for `seed`.

    `_parent` is the parent job's result; it is only there so that Dask starts this job
    after it. Returns the run directory, whether this call trained it, and when it ran.
    """
    import torch

    from .device import default_device
    from .progress import TrainingProgress
    from .runs import get_run

    if threads:
        torch.set_num_threads(threads)
    start = time.time()
    study = with_seed(load_params(file, profile), name, seed)
    dev = torch.device(device) if device else default_device()
    progress, lines = TrainingProgress(f"{Path(file).stem} :: {name} (seed {seed})"), []

    def log(line: str) -> None:  # called only for epochs this process trains
        lines.append(line)
        progress(line)

    run = get_run(study, name, profile, dev, log)
    return {"dir": str(run.dir), "trained": bool(lines), "start": start, "end": time.time(),
            "pid": os.getpid()}


# ------------------------------------------------------------------- engines
def local_cluster(workers: int, gpus: int = 0) -> Any:
    """N single-threaded worker processes on this machine; with `gpus`, one per device,
    each seeing only its own (CUDA_VISIBLE_DEVICES)."""
    from distributed import LocalCluster, Scheduler, SpecCluster

    if gpus:
        return SpecCluster(workers=gpu_workers(gpus), scheduler={"cls": Scheduler, "options": {
            "dashboard_address": None}}, silence_logs=logging.ERROR)
    # memory_limit=0: a training job's memory is torch's, not Dask's to spill or cap
    return LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                        memory_limit=0, dashboard_address=None, silence_logs=logging.ERROR)


def gpu_workers(gpus: int) -> dict[int, dict[str, Any]]:
    """Dask worker specs: one single-threaded worker process per CUDA device."""
    from distributed import Nanny

    return {i: {"cls": Nanny, "options": {"nthreads": 1, "env": {
        "CUDA_VISIBLE_DEVICES": str(i), "OMP_NUM_THREADS": str(worker_threads(gpus))}}}
        for i in range(gpus)}


def slurm_cluster(cores: int, memory: str, walltime: str, queue: str | None,
                  account: str | None, gpus_per_job: int, python: str | None = None) -> Any:
    """dask-jobqueue's SLURMCluster of one single-task worker per Slurm job of `cores` CPUs
    (``cluster.scale(jobs=N)`` submits them); the job script exports the run cache, data
    and overrides settings."""
    from dask_jobqueue import SLURMCluster

    extra = [f"--gres=gpu:{gpus_per_job}"] if gpus_per_job else []
    env = [f"export {k}={shlex.quote(os.environ[k])}" for k in
           ("INPAINT_RESULTS_DIR", "INPAINT_DATA_DIR", "INPAINT_OVERRIDES", "PYTHONPATH")
           if k in os.environ]
    # one task at a time per job (cores=1 -> --nthreads 1), the job's `cores` CPUs for torch
    return SLURMCluster(cores=1, processes=1, job_cpu=cores, memory=memory, walltime=walltime,
                        queue=queue, account=account, job_extra_directives=extra,
                        job_script_prologue=env, python=python,
                        scheduler_options={"dashboard_address": None})


def worker_threads(workers: int) -> int:
    """Torch threads per worker: this machine's cores shared out, at least one."""
    return max(1, (os.cpu_count() or 1) // max(1, workers))


def run_jobs(jobs: list[Job], client: Any, profile: str, device: str | None = None,
             threads: int | None = None, echo: Any = print) -> dict[str, dict[str, Any]]:
    """Submit every job (each phase with its parent's future as an argument) and wait.

    Returns {job id: train_job's result, or {"error": one line}}; a job whose parent
    failed fails too.
    """
    from distributed import as_completed

    futures: dict[str, Any] = {}
    for job in jobs:  # parents first (list_jobs)
        parent = futures[job.parent] if job.parent else None
        futures[job.id] = client.submit(train_job, job.file, job.name, job.seed, profile, device,
                                        threads, parent, key=f"train-{job.id}", pure=False)
    by_key = {f.key: job for job, f in zip(jobs, futures.values())}
    results: dict[str, dict[str, Any]] = {}
    for future in as_completed(list(futures.values())):
        job = by_key[future.key]
        label = f"{job.notebook} :: {job.name} (seed {job.seed})"
        if future.status == "finished":
            results[job.id] = res = future.result()
            how = "trained" if res["trained"] else "cached"
            echo(f"{label} -> {res['dir']} ({how}, {res['end'] - res['start']:.0f} s)")
        else:
            err = future.exception()
            first = (str(err).splitlines() or [""])[0][:200]
            results[job.id] = {"error": f"{type(err).__name__}: {first}"}
            echo(f"failed: {label}: {results[job.id]['error']}")
    return results


def describe(jobs: list[Job]) -> list[str]:
    """One line per job for ``--list``: notebook(s), run, seed, key, parent."""
    width = max((len(",".join(j.notebooks)) for j in jobs), default=9)
    run_w = max((len(j.name) for j in jobs), default=3)
    lines = [f"{'notebooks':<{width}}  {'run':<{run_w}} {'seed':>4}  {'run directory':<17} parent"]
    for j in jobs:
        lines.append(f"{','.join(j.notebooks):<{width}}  {j.name:<{run_w}} {j.seed:>4}  "
                     f"{j.id:<17} {j.parent or '-'}")
    return lines


# ---------------------------------------------------------------------- CLI
def add_parser(sub: Any, profiles: tuple[str, ...]) -> None:
    p = sub.add_parser("jobs", help="list or train every run of the profile as parallel Dask jobs",
                       description="Every run of the profile's params files as one Dask job each "
                                   "(Part B phases chained). See inpaint_lib/jobs.py.")
    p.add_argument("params", nargs="*", help="params files (default: every study of the report)")
    p.add_argument("--profile", default="quick", choices=profiles)
    p.add_argument("--list", action="store_true", help="print the jobs, train nothing")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, default=None, metavar="N",
                       help="N worker processes on this machine (default: one per CPU core)")
    where.add_argument("--gpus", type=int, default=None, metavar="K",
                       help="one worker per CUDA device, K devices")
    where.add_argument("--scheduler", default=None, metavar="ADDRESS",
                       help="a running Dask scheduler, e.g. tcp://host:8786")
    where.add_argument("--slurm", type=int, default=None, metavar="JOBS",
                       help="start JOBS Slurm jobs of one worker each (dask-jobqueue)")
    p.add_argument("--device", default=None, help="cpu, cuda (default: cuda if the worker has one)")
    p.add_argument("--threads", type=int, default=None,
                   help="torch threads per worker (default: cores / workers here, --cores with "
                        "--slurm, torch's own default with --scheduler)")
    slurm = p.add_argument_group("Slurm (with --slurm)")
    slurm.add_argument("--cores", type=int, default=4, help="CPU cores per job (default 4)")
    slurm.add_argument("--memory", default="16GB", help="memory per job (default 16GB)")
    slurm.add_argument("--walltime", default="24:00:00", help="per job (default 24:00:00)")
    slurm.add_argument("--partition", default=None, help="Slurm partition (queue)")
    slurm.add_argument("--account", default=None)
    slurm.add_argument("--gpus-per-job", type=int, default=0, help="--gres=gpu:N (default 0)")


def main(args: Any) -> int:
    """``python -m inpaint_lib jobs``: params are read (and validated) before any work."""
    import sys

    from .preflight import study_files

    for name in ("workers", "gpus", "slurm", "threads"):
        value = getattr(args, name)
        if value is not None and value < 1:
            print(f"invalid: jobs --{name} {value}: must be at least 1", file=sys.stderr)
            return 2
    jobs = list_jobs(args.params or study_files(), args.profile)
    if args.list:
        print("\n".join(describe(jobs)))
        print(f"{len(jobs)} runs, {sum(j.parent is not None for j in jobs)} of them phases "
              f"waiting for a parent; profile {args.profile}")
        return 0
    try:
        from distributed import Client
    except ImportError:
        print("error: jobs needs Dask: pip install 'dask[distributed]' dask-jobqueue",
              file=sys.stderr)
        return 2
    threads = args.threads
    if args.scheduler:
        cluster, address = None, args.scheduler
    elif args.slurm:
        cluster = slurm_cluster(args.cores, args.memory, args.walltime,
                                args.partition, args.account, args.gpus_per_job, sys.executable)
        cluster.scale(jobs=args.slurm)
        threads = threads or args.cores
    else:
        n = args.gpus or args.workers or os.cpu_count() or 1
        cluster = local_cluster(n, args.gpus or 0)
        threads = threads or worker_threads(n)
    try:
        with Client(cluster if cluster is not None else address) as client:
            print(f"{len(jobs)} runs on {client.scheduler.address}",
                  file=sys.stderr)
            results = run_jobs(jobs, client, args.profile, args.device, threads)
    finally:
        if cluster is not None:
            cluster.close()
    failed = sum("error" in r for r in results.values())
    trained = sum(bool(r.get("trained")) for r in results.values())
    print(f"{len(jobs)} runs: {trained} trained, {len(jobs) - trained - failed} cached, "
          f"{failed} failed")
    return 1 if failed else 0
