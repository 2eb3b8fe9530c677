"""The whole profile as independent training jobs on Dask (one machine or a cluster).

``python -m inpaint_lib jobs --profile P --list`` prints every run the profile's params
files declare (every seed), once each however many notebooks share it (the Part A
baseline appears in four): notebook, run name, seed, key, and the parent run it continues
from. A Part B phase is a chain link: it waits for its parent phase; every other run is
independent.

``... jobs --profile P --workers N`` trains them over N single-threaded worker processes
of a Dask ``LocalCluster`` (``--gpus K``: one worker per CUDA device, each seeing only its
own through CUDA_VISIBLE_DEVICES); ``--scheduler ADDRESS`` uses a running Dask scheduler.
Each job is `train_job`, the code path of ``python -m inpaint_lib train FILE --run NAME``
(`runs.get_run`); the run cache's lock keeps two workers (or a worker and a notebook) off
the same run, and a finished run is found, not retrained. The notebooks then only read the
cache. Dask does the scheduling: a phase is submitted with its parent's future as an
argument, so it starts when the parent is trained.

``... jobs --profile P --slurm N`` makes each run one Slurm job (`slurm_job`), named by
the run's key: the name ``--list`` prints, the name ``squeue`` shows and the run directory
the job writes are one string. A run the cache holds is found here, with no job. Dask (N
threads here) submits a run when its parent is trained and keeps at most N of the profile's
jobs in Slurm's queue; each thread waits for
its job and reads its end from ``squeue`` and the job's log (``results/<profile>/slurm/
<key>.<job id>.log``). In the job `slurm_worker` trains the run and turns SIGTERM (scancel,
pre-emption, the wall time) into a clean stop: the run keeps its last checkpoint and no
half-written file, and ``jobs`` run again resumes it. A job that cannot import the package
or find the data ends with one line naming what is missing; that line is what ``jobs``
prints for it.
"""

from __future__ import annotations

import json
import logging
import os
import shlex
import subprocess
import sys
import threading
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


def worker_threads(workers: int) -> int:
    """Torch threads per worker: this machine's cores shared out, at least one."""
    return max(1, (os.cpu_count() or 1) // max(1, workers))


# --------------------------------------------------------------------- Slurm
# A job's end as squeue (or sacct) names it; anything else is still queued or running.
SLURM_ENDED = frozenset({"COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "PREEMPTED",
                         "OUT_OF_MEMORY", "BOOT_FAIL", "DEADLINE", "REVOKED", "SPECIAL_EXIT"})
RESULT = "inpaint-job-result: "  # the worker's last stdout line: train_job's result as JSON

# Run in the job before anything else: the job's Python must import the package and what it
# needs, or the job ends with one line naming what is missing (not a traceback, not a hang).
_WORKER = """import socket, sys
try:
    import torch
    from inpaint_lib.jobs import slurm_worker
except ImportError as e:
    sys.exit(f"error: cannot import {e.name or e} with {sys.executable} on {socket.gethostname()} "
             f"({e}): the job needs the environment of the project (jobs --python, --prologue)")
sys.exit(slurm_worker(*sys.argv[1:]))
"""


@dataclass(frozen=True)
class Slurm:
    """What each run's Slurm job asks for and how it starts (``jobs --slurm`` options)."""

    cores: int = 4
    memory: str = "16GB"
    walltime: str = "24:00:00"
    partition: str | None = None
    account: str | None = None
    gpus_per_job: int = 0
    python: str = sys.executable  # the Python the job runs (the same path on every node)
    prologue: tuple[str, ...] = ()  # shell lines the job runs first (module load, source ...)
    poll: float = 5.0  # seconds between two looks at a job's state


class SlurmJobFailed(RuntimeError):
    """A run's Slurm job ended without a trained run; the message is one line."""


class Submitted:
    """The Slurm jobs one ``jobs`` command has submitted and not yet seen end: cancelled
    (scancel) when the command stops early (Ctrl-C, an error), and none submitted after.
    Dask serialises a task's arguments even for threads: a task names its `Submitted` by
    a token that `_SUBMITTED` maps back to it in this process."""

    def __init__(self) -> None:
        self.ids: set[str] = set()
        self.closed = False
        self.lock = threading.Lock()
        self.token = f"{os.getpid()}-{id(self)}"

    def submit(self, script: str) -> str:
        with self.lock:
            if self.closed:
                raise SlurmJobFailed("not submitted: the jobs command is stopping")
            out = _slurm_command(["sbatch", "--parsable"], stdin=script)
            job_id = out.strip().split(";")[0]
            self.ids.add(job_id)
            return job_id

    def ended(self, job_id: str) -> None:
        with self.lock:
            self.ids.discard(job_id)

    def cancel(self) -> list[str]:
        with self.lock:
            self.closed = True
            ids, self.ids = sorted(self.ids), set()
        _SUBMITTED.pop(self.token, None)
        if ids:
            try:
                _slurm_command(["scancel", *ids])
            except SlurmJobFailed as e:
                print(f"warning: {e}", file=sys.stderr)
        return ids


_SUBMITTED: dict[str, Submitted] = {}


def _submitted(token: str | None) -> Submitted:
    """The `Submitted` that `token` names (a fresh one for None)."""
    if token is None:
        return Submitted()
    if token not in _SUBMITTED:
        raise SlurmJobFailed("not submitted: the jobs command is stopping")
    return _SUBMITTED[token]


def slurm_log_dir(profile: str) -> Path:
    """Where the jobs' logs go: beside the run cache, on the file system the jobs share."""
    from .runs import results_root

    return results_root(profile) / "slurm"


def job_script(job: Job, profile: str, slurm: Slurm, device: str | None = None,
               threads: int | None = None) -> str:
    """The batch script of one run: named by its key, its log in `slurm_log_dir`, this
    repository as working directory and this process's INPAINT_* settings (absolute results
    directory included) exported, so that the job trains the run ``--list`` names."""
    from .paths import REPO_ROOT
    from .runs import results_root

    log = slurm_log_dir(profile) / f"{job.id}.%j.log"
    # --open-mode=append: a job requeued after pre-emption adds to its log
    directives = [f"--job-name={job.id}", f"--output={log}", "--open-mode=append",
                  f"--chdir={REPO_ROOT}",
                  "--nodes=1", "--ntasks=1", f"--cpus-per-task={slurm.cores}",
                  f"--mem={slurm.memory}", f"--time={slurm.walltime}"]
    directives += [f"--partition={slurm.partition}"] if slurm.partition else []
    directives += [f"--account={slurm.account}"] if slurm.account else []
    directives += [f"--gres=gpu:{slurm.gpus_per_job}"] if slurm.gpus_per_job else []
    env = {k: v for k, v in os.environ.items() if k.startswith("INPAINT_") or k == "PYTHONPATH"}
    env["INPAINT_RESULTS_DIR"] = str(results_root(profile).parent.resolve())
    env |= {"PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": str(threads or slurm.cores)}
    args = [job.file, job.name, str(job.seed), job.id, profile, device or "", str(threads or "")]
    return "\n".join([
        "#!/bin/bash",
        *(f"#SBATCH {d}" for d in directives),
        f"# {', '.join(job.notebooks)} :: {job.name} (seed {job.seed}), profile {profile}",
        *(f"export {k}={shlex.quote(v)}" for k, v in sorted(env.items())),
        *slurm.prologue,
        " ".join(["exec", shlex.quote(slurm.python), "-c", shlex.quote(_WORKER),
                  *map(shlex.quote, args)]),
        "",
    ])


def _slurm_command(args: list[str], stdin: str | None = None, timeout: float = 60) -> str:
    """Run a Slurm client command; its one-line complaint as a `SlurmJobFailed`."""
    try:
        out = subprocess.run(args, input=stdin, capture_output=True, text=True, timeout=timeout,
                             check=False)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise SlurmJobFailed(f"{args[0]}: {e}") from None
    if out.returncode != 0:
        lines = (out.stderr or out.stdout).strip().splitlines() or [f"exit {out.returncode}"]
        said = lines[-1].removeprefix(f"{args[0]}: ")  # sbatch names itself already
        raise SlurmJobFailed(f"{args[0]}: {said}")
    return out.stdout


def slurm_state(job_id: str) -> str | None:
    """The job's state (RUNNING, COMPLETED, CANCELLED, TIMEOUT, ...), or None once Slurm has
    forgotten it (squeue keeps an ended job for MinJobAge; sacct, where the cluster keeps
    accounting, for longer)."""
    try:
        state = _slurm_command(["squeue", "-h", "-t", "all", "-j", job_id, "-o", "%T"]).split()
    except SlurmJobFailed as e:
        if "Invalid job id" not in str(e):
            raise
        state = []
    if not state:
        try:
            state = _slurm_command(["sacct", "-n", "-X", "-P", "-j", job_id, "-o", "State"]).split()
        except SlurmJobFailed:
            state = []
    return state[0] if state else None


def _wait_for(job_id: str, poll: float, patience: float = 600) -> str:
    """Poll the job until it ends; its final state ("ENDED" where Slurm no longer knows it).
    squeue failing for `patience` seconds in a row (the controller gone) is an error."""
    failing_since = None
    while True:
        try:
            state = slurm_state(job_id)
            failing_since = None
        except SlurmJobFailed:
            failing_since = failing_since or time.monotonic()
            if time.monotonic() - failing_since > patience:
                raise
            state = "UNKNOWN"
        if state is None:
            return "ENDED"
        if state in SLURM_ENDED:
            return state
        time.sleep(poll)


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "(the job wrote nothing)"


def slurm_job(job: Job, profile: str, slurm: Slurm, device: str | None = None,
              threads: int | None = None, _parent: Any = None,
              token: str | None = None) -> dict[str, Any]:
    """Submit one run as a Slurm job and wait for it: train_job's result from the job, with
    its Slurm job id and log; a job that ends otherwise raises one line: its state and the
    last line of its log (what it could not import or find, or how it was stopped). A run
    the cache already holds is found here, with no job (and no wait in the queue)."""
    from .runs import results_root

    run_dir = results_root(profile) / "runs" / job.id
    if (run_dir / "final.pt").exists():
        now = time.time()
        return {"dir": str(run_dir), "trained": False, "start": now, "end": now,
                "pid": os.getpid()}
    log_dir = slurm_log_dir(profile)
    log_dir.mkdir(parents=True, exist_ok=True)  # Slurm does not make the log's folder
    submitted = _submitted(token)
    job_id = submitted.submit(job_script(job, profile, slurm, device, threads))
    try:
        state = _wait_for(job_id, slurm.poll)
    finally:
        submitted.ended(job_id)
    log = log_dir / f"{job.id}.{job_id}.log"
    text = log.read_text(errors="replace") if log.exists() else ""
    results = [line[len(RESULT):] for line in text.splitlines() if line.startswith(RESULT)]
    if results and state in ("COMPLETED", "ENDED"):
        return {**json.loads(results[-1]), "slurm_job": job_id, "log": str(log)}
    raise SlurmJobFailed(f"{state}: {_last_line(text)} (Slurm job {job_id}, {log})")


class _Stopped(BaseException):
    """SIGTERM in a Slurm job: not an Exception, so no library handler takes it for an error."""


def slurm_worker(file: str, name: str, seed: str, key: str, profile: str, device: str = "",
                 threads: str = "") -> int:
    """In the Slurm job: train the run `key` names, and print train_job's result.

    SIGTERM (scancel, pre-emption, the wall time; Slurm sends it first and SIGKILL only
    after the cluster's KillWait) ends the training between two Python steps: each file
    is written atomically (the temporary file is removed, the lock released), so the run
    keeps its last checkpoint and nothing half-written. Stopped inside a library (torch.save
    turns the interruption into an error of its own), it is still reported as the stop.
    Any error is one line, the log's last.
    """
    import signal
    import traceback

    stopped: list[str] = []

    def stop(signum: int, _frame: Any) -> None:
        stopped.append(signal.Signals(signum).name)
        raise _Stopped

    signal.signal(signal.SIGTERM, stop)
    try:
        study = with_seed(load_params(file, profile), name, int(seed))
        found = _job_id(study, name, profile)  # reads the images, as the login node did
        if found != key:
            print(f"error: this job's run is {found}, not {key}: the job sees other code, "
                  f"data or settings than the command that submitted it", file=sys.stderr)
            return 1
        result = train_job(file, name, int(seed), profile, device or None,
                           int(threads) if threads else None)
    except BaseException as e:  # the traceback in the log, then one line
        if stopped:
            print(f"stopped by {stopped[0]} (scancel, pre-emption or the wall time): {key} "
                  f"keeps its last checkpoint; run jobs again to resume it", file=sys.stderr)
            return 128 + signal.SIGTERM
        if not isinstance(e, Exception):
            raise
        traceback.print_exc()
        first = (str(e).splitlines() or [""])[0]
        print(f"error: {type(e).__name__}: {first}", file=sys.stderr)
        return 1
    print(RESULT + json.dumps(result), flush=True)
    return 0


def run_jobs(jobs: list[Job], client: Any, profile: str, device: str | None = None,
             threads: int | None = None, echo: Any = print,
             slurm: Slurm | None = None) -> dict[str, dict[str, Any]]:
    """Submit every job (each phase with its parent's future as an argument) and wait.

    With `slurm`, each task submits its run as a Slurm job and waits for it (`slurm_job`).
    Returns {job id: train_job's result, or {"error": one line}}; a job whose parent
    failed fails too.
    """
    futures: dict[str, Any] = {}
    submitted = Submitted()
    if slurm is not None:
        _SUBMITTED[submitted.token] = submitted
    for job in jobs:  # parents first (list_jobs)
        parent = futures[job.parent] if job.parent else None
        if slurm is not None:
            futures[job.id] = client.submit(slurm_job, job, profile, slurm, device, threads, parent,
                                            submitted.token, key=f"slurm-{job.id}", pure=False)
            continue
        futures[job.id] = client.submit(train_job, job.file, job.name, job.seed, profile, device,
                                        threads, parent, key=f"train-{job.id}", pure=False)
    try:
        return _collect(jobs, futures, echo)
    finally:  # stopped early (Ctrl-C): the jobs it submitted are not left running
        cancelled = submitted.cancel()
        if cancelled:
            echo(f"cancelled Slurm job(s) {' '.join(cancelled)}, still queued or running")


def _collect(jobs: list[Job], futures: dict[str, Any], echo: Any) -> dict[str, dict[str, Any]]:
    """Each job's result (or one-line error) as its future completes."""
    from distributed import as_completed

    by_key = {f.key: job for job, f in zip(jobs, futures.values())}
    results: dict[str, dict[str, Any]] = {}
    for future in as_completed(list(futures.values())):
        job = by_key[future.key]
        label = f"{job.notebook} :: {job.name} (seed {job.seed})"
        if future.status == "finished":
            results[job.id] = res = future.result()
            how = "trained" if res["trained"] else "cached"
            where = f", Slurm job {res['slurm_job']}" if "slurm_job" in res else ""
            echo(f"{label} -> {res['dir']} ({how}, {res['end'] - res['start']:.0f} s{where})")
        else:
            err = future.exception()
            first = (str(err).splitlines() or [""])[0][:400]
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
                                   "(Part B phases chained), or one Slurm job each (--slurm). "
                                   "See inpaint_lib/jobs.py.")
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
                       help="one Slurm job per run, named by its key; at most JOBS queued at once")
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
    slurm.add_argument("--python", default=sys.executable,
                       help="the Python each job runs (default: this one, %(default)s)")
    slurm.add_argument("--prologue", action="append", default=[], metavar="LINE",
                       help="a shell line each job runs first, e.g. 'module load cuda' "
                            "(repeatable)")
    slurm.add_argument("--poll", type=float, default=5.0, metavar="SECONDS",
                       help="seconds between two looks at a job's state (default 5)")


def main(args: Any) -> int:
    """``python -m inpaint_lib jobs``: params are read (and validated) before any work."""
    import shutil

    from .preflight import study_files

    for name in ("workers", "gpus", "slurm", "threads", "cores", "poll"):
        value = getattr(args, name)
        if value is not None and value <= 0:
            print(f"invalid: jobs --{name} {value}: must be positive", file=sys.stderr)
            return 2
    if args.slurm and not args.list and shutil.which("sbatch") is None:
        print("error: jobs --slurm: sbatch not found: run it where Slurm's commands are (a "
              "login node)", file=sys.stderr)
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
        print("error: jobs needs Dask: pip install 'dask[distributed]'",
              file=sys.stderr)
        return 2
    threads, slurm = args.threads, None
    if args.scheduler:
        cluster, address = None, args.scheduler
    elif args.slurm:  # N threads here, each submitting one run's job and waiting for it
        from distributed import LocalCluster

        slurm = Slurm(args.cores, args.memory, args.walltime, args.partition, args.account,
                      args.gpus_per_job, args.python, tuple(args.prologue), args.poll)
        # its one-line failures are ours to print: Dask's own report of them is silenced
        cluster = LocalCluster(n_workers=1, threads_per_worker=args.slurm, processes=False,
                               dashboard_address=":0", silence_logs=logging.CRITICAL)
        threads = threads or args.cores
    else:
        n = args.gpus or args.workers or os.cpu_count() or 1
        cluster = local_cluster(n, args.gpus or 0)
        threads = threads or worker_threads(n)
    try:
        with Client(cluster if cluster is not None else address) as client:
            where = (f"Slurm, at most {args.slurm} jobs queued at once (logs in "
                     f"{slurm_log_dir(args.profile)})" if slurm else client.scheduler.address)
            print(f"{len(jobs)} runs on {where}", file=sys.stderr)
            results = run_jobs(jobs, client, args.profile, args.device, threads, slurm=slurm)
    except KeyboardInterrupt:  # run_jobs has cancelled the Slurm jobs it submitted
        print("interrupted: finished runs are in the cache; run jobs again to resume the others",
              file=sys.stderr)
        return 130
    finally:
        if cluster is not None:
            cluster.close()
    failed = sum("error" in r for r in results.values())
    trained = sum(bool(r.get("trained")) for r in results.values())
    print(f"{len(jobs)} runs: {trained} trained, {len(jobs) - trained - failed} cached, "
          f"{failed} failed")
    return 1 if failed else 0
