"""``jobs --slurm`` on a live one-node Slurm cluster started for these tests.

The machine is controller and compute node: munged with a key made here, slurmctld and
slurmd in the foreground, configuration, state, spool and logs in a temporary directory, all
stopped and removed afterwards however the tests end. Debian's packages (`slurmctld`,
`slurmd`, `slurm-client`, `munge`; `.ci/run` installs them) and root are needed; without
them the tests skip saying which is missing, and fail instead under CI, where they must run.

What runs on it: a Part A run and a two-phase chain as one Slurm job per run, compared with
``jobs --workers 1`` (same run directories, files, weights and score table); a job cancelled
mid-training and one killed by its wall time, each resumed to the weights of an
uninterrupted run; a job without the project's Python and one without the data, each one
line. What it cannot show: several nodes (one file system here, shared by construction, its
locks local), GPUs on nodes (``--gpus-per-job`` is only in the job script), accounting
(no slurmdbd: ``squeue`` shows the jobs, for MinJobAge after they end).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch

from inpaint_lib.__main__ import main

from .conftest import REPO, make_tree

pytestmark = pytest.mark.slow  # about two minutes; make test (and so CI) runs it

PARAMS = REPO / "params"
# every test's runs: the Part A baseline with 30 one-step epochs (a checkpoint each, so a job
# paused after its first checkpoint is surely mid-training) and two phases of Part B
FAULT_FILE = str(PARAMS / "a1_baseline.yaml")
FILES = [FAULT_FILE, str(PARAMS / "b2_phase2.yaml")]
FAULT_EPOCHS = 30
FAULT = f"cae: {{epoch_scale: {FAULT_EPOCHS / 200}, data: {{synthetic_count: 96}}}}"
DAEMONS = ("munged", "slurmctld", "slurmd")
CLIENTS = ("sbatch", "squeue", "scancel", "scontrol")
# config.json fields that say when and beside what a run trained, not what it is
WHEN = {"started", "load_average_start", "load_average_end", "train_seconds",
        "wall_seconds_this_process"}
JOB_LINE = re.compile(r"^(.+) :: (.+) \(seed (\d+)\) -> (\S+) \((trained|cached), \d+ s, "
                      r"Slurm job (\d+)\)$", re.MULTILINE)


def _which(name: str) -> str | None:
    return shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin:/usr/bin")


def _unavailable() -> str | None:
    """Why a one-node Slurm cannot start here, or None."""
    if sys.platform != "linux":
        return "Slurm runs on Linux"
    missing = [name for name in (*DAEMONS, *CLIENTS) if _which(name) is None]
    if missing:
        return (f"Slurm is not installed ({', '.join(missing)} not found): apt-get install "
                f"slurmctld slurmd slurm-client munge, as .ci/run does")
    if os.geteuid() != 0:
        return "a one-node Slurm needs root here (slurmd runs each job as its user)"
    return None


def _skip(reason: str) -> None:
    if os.environ.get("CI"):  # .ci/run installs Slurm and runs as root: it must run there
        pytest.fail(f"the Slurm tests cannot run in CI: {reason}")
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Cluster:
    root: Path
    env: dict[str, str]  # SLURM_CONF for the clients

    def run(self, *args: str, timeout: float = 30) -> str:
        out = subprocess.run(args, env=self.env, capture_output=True, text=True, timeout=timeout,
                             check=False)
        if out.returncode:
            raise subprocess.SubprocessError(f"{' '.join(args)}: {out.stderr.strip()}")
        return out.stdout

    def jobs(self) -> dict[str, dict[str, str]]:
        """Every job the controller knows (ended ones for MinJobAge): id -> name, state,
        start and end."""
        out = self.run("squeue", "-h", "-t", "all", "-o", "%i|%j|%T|%S|%e")
        rows = [line.split("|") for line in out.splitlines() if line.strip()]
        return {r[0]: {"name": r[1], "state": r[2], "start": r[3], "end": r[4]} for r in rows}

    def pids(self, job_id: str) -> list[int]:
        """The job's processes on the node (its batch script's: the job's Python)."""
        listed = self.run("scontrol", "listpids", job_id, "inpaint").splitlines()[1:]
        return [int(line.split()[0]) for line in listed if line.strip()]

    def active(self) -> list[str]:
        """The jobs not ended yet."""
        return [i for i, j in self.jobs().items() if j["state"] in (
            "PENDING", "CONFIGURING", "RUNNING", "COMPLETING", "SUSPENDED", "STOPPED", "SIGNALING")]


def _write_config(root: Path) -> Path:
    host = socket.gethostname().split(".")[0]
    (root / "state").mkdir()
    (root / "spool").mkdir()
    conf = root / "slurm.conf"
    conf.write_text(f"""\
ClusterName=inpainttest
SlurmctldHost={host}(127.0.0.1)
SlurmctldPort={_free_port()}
SlurmdPort={_free_port()}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket={root}/munge.socket
CredType=cred/munge
StateSaveLocation={root}/state
SlurmdSpoolDir={root}/spool
SlurmctldPidFile={root}/slurmctld.pid
SlurmdPidFile={root}/slurmd.pid
SlurmctldLogFile={root}/slurmctld.log
SlurmdLogFile={root}/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc={root}/jobcomp.txt
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
MailProg=/bin/true
ReturnToService=2
KillWait=2
MinJobAge=900
SlurmdParameters=config_overrides
# four CPUs whatever the machine has (config_overrides): the paused wall-time job holds one
# while two others train
NodeName=inpaint NodeAddr=127.0.0.1 CPUs=4 RealMemory=2000 State=UNKNOWN
PartitionName=test Nodes=ALL Default=YES MaxTime=INFINITE State=UP
""")
    return conf


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    """A one-node Slurm in a temporary directory, torn down however the tests end."""
    reason = _unavailable()
    if reason:
        _skip(reason)
    # not pytest's tmp_path (0700) nor wherever TMPDIR points: munged wants every folder above
    # its socket searchable by all and writable by others only with the sticky bit, as /tmp is
    root = Path(tempfile.mkdtemp(prefix="inpaint-slurm-", dir="/tmp" if Path("/tmp").is_dir()
                                 else None))
    root.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLURM")}
    env["SLURM_CONF"] = str(_write_config(root))
    c, procs = Cluster(root, env), []
    key = root / "munge.key"
    key.write_bytes(os.urandom(1024))
    key.chmod(0o400)
    daemons = [[_which("munged"), "-F", f"--key-file={key}", f"--socket={root}/munge.socket",
                f"--pid-file={root}/munged.pid", f"--log-file={root}/munged.log",
                f"--seed-file={root}/munged.seed"],
               [_which("slurmctld"), "-D", "-i", "-f", env["SLURM_CONF"]],
               [_which("slurmd"), "-D", "-N", "inpaint", "-f", env["SLURM_CONF"]]]
    with open(root / "daemons.out", "wb") as out:
        try:
            for argv in daemons:
                procs.append(subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL,
                                              stdout=out, stderr=subprocess.STDOUT))
                if len(procs) == 1:  # munge's socket first: slurmctld and slurmd need it
                    _wait_for(lambda: (root / "munge.socket").exists(), 10)
            if not _wait_for(lambda: _node_idle(c), 30) or any(p.poll() is not None
                                                                for p in procs):
                logs = " | ".join(_tail(root / f) for f in (
                    "daemons.out", "munged.log", "slurmctld.log", "slurmd.log"))
                _skip(f"the one-node Slurm did not start within 30 s: {logs}")
            yield c
        finally:
            _teardown(c, procs)


def _teardown(c: Cluster, procs: list[subprocess.Popen[bytes]]) -> None:
    """Cancel every job and wait for them to end (their processes killed after 20 s), stop
    the daemons, remove the directory."""
    try:
        if c.active():
            c.run("scancel", *c.active())
            if not _wait_for(lambda: not c.active(), 20):
                for job_id in c.active():
                    for pid in c.pids(job_id):
                        os.kill(pid, signal.SIGKILL)
    except (subprocess.SubprocessError, OSError):
        pass
    for p in reversed(procs):  # slurmd, slurmctld, munged
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(15)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(5)
    shutil.rmtree(c.root, ignore_errors=True)


def _wait_for(condition: Callable[[], bool], timeout: float, every: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if condition():
                return True
        except (subprocess.SubprocessError, OSError):
            pass
        time.sleep(every)
    return False


def _node_idle(c: Cluster) -> bool:
    return c.run("sinfo", "-h", "-N", "-o", "%T", timeout=10).strip() == "idle"


def _tail(path: Path) -> str:
    lines = path.read_text(errors="replace").strip().splitlines() if path.exists() else []
    return f"{path.name}: {lines[-1] if lines else '(empty)'}"


# ------------------------------------------------------------------ helpers
def _env(c: Cluster, results: Path, overrides: str | None = None) -> dict[str, str]:
    """The command's environment: this checkout first on the path (the jobs get it too),
    its own results, cache and data directories."""
    env = {**c.env, "INPAINT_RESULTS_DIR": str(results), "INPAINT_CACHE_DIR": str(results / "cache"),
           "INPAINT_DATA_DIR": str(results / "data"), "INPAINT_DEVICE": "cpu",
           "PYTHONPATH": str(REPO)}
    env.pop("INPAINT_OVERRIDES", None)
    if overrides:
        env["INPAINT_OVERRIDES"] = overrides
    return env


def _jobs_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "inpaint_lib", "jobs", *args, "--profile", "smoke"]


SLURM = ("--cores", "1", "--memory", "200M", "--poll", "0.5", "--threads", "1")


def _start(cmd: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(cmd, env=env, cwd=REPO, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, stdin=subprocess.DEVNULL)


def _finish(p: subprocess.Popen[str], timeout: float = 300) -> tuple[int, str]:
    try:
        out, _ = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        out, _ = p.communicate()
        pytest.fail(f"timed out after {timeout} s: {p.args}\n{out}")
    return p.returncode, out


def _weights(run_dir: Path) -> dict[str, dict[str, torch.Tensor]]:
    return torch.load(run_dir / "final.pt", map_location="cpu", weights_only=True)


def _same_tensors(a: object, b: object) -> bool:
    if isinstance(a, torch.Tensor):
        return isinstance(b, torch.Tensor) and torch.equal(a, b)
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(
            _same_tensors(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple):
        return isinstance(b, list | tuple) and len(a) == len(b) and all(
            _same_tensors(x, y) for x, y in zip(a, b))
    return a == b


class Paused:
    """Pause a run's Slurm job (SIGSTOP to its processes) once it has written its first
    checkpoint, from a thread, while the test does other things: the job is then surely
    mid-training, and burns no CPU until Slurm stops it (with SIGCONT, then SIGTERM). The
    signal goes to the processes directly: Slurm's own (scancel --signal=STOP) can reach the
    job after a cancellation and leave it STOPPED for good."""

    def __init__(self, c: Cluster, results: Path) -> None:
        self.c, self.results = c, results
        self.job_id: str | None = None
        self.key: str | None = None
        self.error: str | None = None
        self.thread = threading.Thread(target=self._watch, daemon=True)
        self.thread.start()

    def _watch(self) -> None:
        logs = self.results / "smoke" / "slurm"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            found = sorted(logs.glob("*.log")) if logs.is_dir() else []
            if found:
                self.key, self.job_id = found[0].name.split(".")[:2]
                if (self.results / "smoke" / "runs" / self.key / "state.pt").exists():
                    try:
                        for pid in self.c.pids(self.job_id):
                            os.kill(pid, signal.SIGSTOP)
                    except (subprocess.SubprocessError, OSError) as e:
                        self.error = f"pausing job {self.job_id}: {e}"
                    return
            time.sleep(0.05)
        self.error = "no checkpoint within 120 s"

    def wait(self, timeout: float = 130) -> str:
        self.thread.join(timeout)
        assert self.job_id and self.key and self.error is None, self.error
        return self.job_id


class Background:
    """A ``jobs`` command started early, run to its end when a test needs its outcome."""

    def __init__(self, c: Cluster, results: Path, args: list[str], overrides: str,
                 pause: bool = False) -> None:
        self.results = results
        self.popen = _start(_jobs_cmd(*args), _env(c, results, overrides))
        self.paused = Paused(c, results) if pause else None
        self.outcome: tuple[int, str] | None = None

    def finish(self, timeout: float = 300) -> tuple[int, str]:
        if self.outcome is None:
            self.outcome = _finish(self.popen, timeout)
        return self.outcome

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.kill()
            self.popen.communicate()


@pytest.fixture(scope="module")
def walltime_job(cluster: Cluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Background]:
    """Started before the other tests, as Slurm's time limits are whole minutes (checked
    every 30 s): the baseline with one minute of wall time, paused after its first checkpoint."""
    job = Background(cluster, tmp_path_factory.mktemp("walltime"),
                     [FAULT_FILE, "--slurm", "1", *SLURM, "--walltime", "1", "--poll", "2"], FAULT,
                     pause=True)
    yield job
    job.stop()


@pytest.fixture(scope="module")
def local(cluster: Cluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Background]:
    """The runs trained without Slurm or interruption by ``jobs --workers 1`` (started
    early): what the Slurm jobs must give, and the weights each resumed job must end with."""
    job = Background(cluster, tmp_path_factory.mktemp("local"),
                     [*FILES, "--workers", "1", "--threads", "1"], FAULT)
    yield job
    job.stop()


# -------------------------------------------------------------------- tests
def test_slurm_jobs_train_what_local_workers_train_under_one_key(
        cluster: Cluster, walltime_job: Background, local: Background, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """``jobs --slurm 2``: one real Slurm job per run, named by the key ``--list`` prints
    and writing the run directory of that name, each phase's job started after its
    parent's ended; the same files, weights and score table as ``jobs --workers 1``.
    (It asks for `walltime_job`, which the last test reads, so that its minute passes
    meanwhile: that minute sets this file's floor.)"""
    on_slurm = tmp_path / "slurm"
    monkeypatch.setenv("INPAINT_OVERRIDES", FAULT)
    slurm_run = _start(_jobs_cmd(*FILES, "--slurm", "2", *SLURM), _env(cluster, on_slurm, FAULT))
    assert main(["jobs", *FILES, "--profile", "smoke", "--list"]) == 0
    listed = _keys(capsys.readouterr().out)
    (rc, out), (local_rc, local_out) = _finish(slurm_run), local.finish()
    assert rc == 0 and "3 runs: 3 trained, 0 cached, 0 failed" in out, out
    assert local_rc == 0 and "3 runs: 3 trained, 0 cached, 0 failed" in local_out, local_out

    # one identity: --list's key = the Slurm job's name = the run directory it wrote
    done = {job_id: (notebook, Path(run_dir)) for notebook, _, _, run_dir, how, job_id
            in JOB_LINE.findall(out) if how == "trained"}
    slurm_jobs = cluster.jobs()
    assert len(done) == len(listed) == 3, out
    assert sorted(slurm_jobs[i]["name"] for i in done) == sorted(listed) \
        == sorted(run_dir.name for _, run_dir in done.values())
    assert all(slurm_jobs[i]["name"] == run_dir.name and run_dir.parent == on_slurm / "smoke" / "runs"
               and slurm_jobs[i]["state"] == "COMPLETED" for i, (_, run_dir) in done.items())
    # the chain: phase 2's job started once phase 1's had ended
    phase = {notebook: slurm_jobs[i] for i, (notebook, _) in done.items() if notebook[0] == "b"}
    assert phase["b2_phase2"]["start"] >= phase["b1_phase1"]["end"], phase
    for i, (_, run_dir) in done.items():  # each job's log holds its epochs
        log = (on_slurm / "smoke" / "slurm" / f"{run_dir.name}.{i}.log").read_text()
        assert re.search(r"epoch \d+/\d+: train", log), log

    # again: every run is found in the cache, and no job is submitted for it
    rc, again = _finish(_start(_jobs_cmd(*FILES, "--slurm", "2", *SLURM),
                               _env(cluster, on_slurm, FAULT)))
    assert rc == 0 and "3 runs: 0 trained, 3 cached, 0 failed" in again, again
    assert "Slurm job" not in again and len(list((on_slurm / "smoke" / "slurm").iterdir())) == 3

    # the same files as one local worker: weights, histories and configs, bar the seconds
    runs, local_runs = on_slurm / "smoke" / "runs", local.results / "smoke" / "runs"
    assert sorted(p.name for p in runs.iterdir()) == sorted(p.name for p in local_runs.iterdir())
    timings = re.compile(r"\(\d+\.\d+s\)|\"seconds\": [0-9.e-]+")
    for d in runs.iterdir():
        twin = local_runs / d.name
        assert sorted(p.name for p in d.iterdir()) == sorted(p.name for p in twin.iterdir())
        assert _same_tensors(_weights(d), _weights(twin)), d.name
        for f in ("history.json", "train.log"):
            assert timings.sub("", (d / f).read_text()) == timings.sub("", (twin / f).read_text())
        config, twin_config = (json.loads((r / "config.json").read_text()) for r in (d, twin))
        assert {k: v for k, v in config.items() if k not in WHEN} \
            == {k: v for k, v in twin_config.items() if k not in WHEN}

    # and the same table where a notebook reads them (a1's, as `score` prints it), bar seconds
    tables = []
    for where in (on_slurm, local.results):
        monkeypatch.setenv("INPAINT_RESULTS_DIR", str(where))
        assert main(["score", FILES[0], "--profile", "smoke"]) == 0
        tables.append(capsys.readouterr().out)
    assert "baseline" in tables[0] and _without_seconds(tables[0]) == _without_seconds(tables[1])


def _keys(listing: str) -> list[str]:
    """The run keys ``jobs --list`` prints: each line's first (a phase's second is its parent's)."""
    keys = [re.search(r"\b(?:cae|vit)-[0-9a-f]{12}\b", line) for line in listing.splitlines()]
    return [k.group(0) for k in keys if k]


def _without_seconds(table: str) -> str:
    """The score table without its 'training s' column (seconds, not a result)."""
    return re.sub(r"\b(network|classical)( +\d+) +\d+\.\d+ ", r"\1\2 ", table)


def _interrupted(run_dir: Path) -> int:
    """The run was stopped mid-training and left nothing half-written: its checkpoint (the
    epoch it holds), no final weights or history, no temporary file."""
    files = {p.name for p in run_dir.iterdir()}
    assert "state.pt" in files and not files & {"final.pt", "history.json"}, files
    assert not [f for f in files if f.endswith(".tmp")], files
    state = torch.load(run_dir / "state.pt", map_location="cpu", weights_only=True)
    assert 1 <= state["epoch"] < FAULT_EPOCHS
    return state["epoch"]


def _resumes_to_uninterrupted(c: Cluster, results: Path, key: str, local: Background) -> None:
    """``jobs`` again resumes the run from its checkpoint, to the uninterrupted weights."""
    epoch = _interrupted(results / "smoke" / "runs" / key)
    rc, out = _finish(_start(_jobs_cmd(FAULT_FILE, "--slurm", "1", *SLURM),
                             _env(c, results, FAULT)))
    assert rc == 0 and "1 runs: 1 trained, 0 cached, 0 failed" in out, out
    run_dir = results / "smoke" / "runs" / key
    assert f"resuming {key} after epoch {epoch}\n" in (run_dir / "train.log").read_text()
    ref_rc, ref_out = local.finish()
    assert ref_rc == 0, ref_out
    reference = local.results / "smoke" / "runs" / key
    assert _same_tensors(_weights(run_dir), _weights(reference))


def _one_failure(out: str) -> str:
    failed = [line for line in out.splitlines() if line.startswith("failed: ")]
    assert len(failed) == 1 and "1 runs: 0 trained, 0 cached, 1 failed" in out, out
    return failed[0]


def test_a_cancelled_job_leaves_no_half_run_and_resumes_to_the_same_weights(
        cluster: Cluster, local: Background, tmp_path: Path) -> None:
    """scancel on a job mid-training (paused after its first checkpoint, so surely mid-way):
    one line saying so, the run keeps its checkpoint and nothing half-written, and ``jobs``
    again resumes it to the weights of an uninterrupted run."""
    results = tmp_path / "cancelled"
    p = _start(_jobs_cmd(FAULT_FILE, "--slurm", "1", *SLURM), _env(cluster, results, FAULT))
    paused = Paused(cluster, results)
    job_id = paused.wait()
    cluster.run("scancel", job_id)  # Slurm: SIGCONT, SIGTERM, SIGKILL after KillWait
    rc, out = _finish(p, 120)
    line = _one_failure(out)
    assert rc == 1 and "CANCELLED: stopped by SIGTERM" in line and paused.key in line, line
    assert cluster.jobs()[job_id]["state"] == "CANCELLED"
    _resumes_to_uninterrupted(cluster, results, paused.key, local)


def test_a_job_without_the_environment_or_the_data_fails_in_one_line(
        cluster: Cluster, tmp_path: Path) -> None:
    """A job whose Python lacks the project's packages, and one that cannot see the data
    (its data directory elsewhere, as on a node without the login node's disk): each ends at
    once, and ``jobs`` prints one line naming what is missing."""
    bare = tmp_path / "bare"  # a Python without torch or the project's other packages
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(bare)], check=True,
                   timeout=120, capture_output=True)
    no_env = _start(_jobs_cmd(FAULT_FILE, "--slurm", "1", *SLURM, "--python",
                              str(bare / "bin" / "python")), _env(cluster, tmp_path / "a"))
    images = tmp_path / "b"
    make_tree(images / "data" / "cifar10", {"airplane": (10, 5), "ship": (10, 5)})
    no_data = _start(_jobs_cmd(FAULT_FILE, "--slurm", "1", *SLURM, "--prologue",
                               "export INPAINT_DATA_DIR=/nonexistent/data"),
                     _env(cluster, images, "cae: {data: {dataset: cifar10, download: false}}"))
    (rc_env, out_env), (rc_data, out_data) = _finish(no_env, 120), _finish(no_data, 120)
    line = _one_failure(out_env)
    assert rc_env == 1 and "FAILED: error: cannot import torch with " in line, line
    assert str(bare / "bin" / "python") in line and "No module named 'torch'" in line
    line = _one_failure(out_data)
    assert rc_data == 1 and "FAILED: error: DataMissingError: CIFAR-10 not found" in line, line
    assert "INPAINT_DATA_DIR=/nonexistent/data" in line
    assert not (images / "smoke" / "runs").exists()  # it stopped before any run directory


def test_ctrl_c_cancels_the_jobs_it_submitted(cluster: Cluster, tmp_path: Path) -> None:
    """Interrupting ``jobs`` (SIGINT, as Ctrl-C does) cancels the jobs it has queued or
    running: nothing goes on training unwatched."""
    results = tmp_path / "interrupted"
    ignored = signal.getsignal(signal.SIGINT) is signal.SIG_IGN  # pytest as a shell's background
    if ignored:  # job: the command would inherit Ctrl-C ignored
        signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        p = _start(_jobs_cmd(FAULT_FILE, "--slurm", "1", *SLURM), _env(cluster, results, FAULT))
    finally:
        if ignored:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
    logs = results / "smoke" / "slurm"
    assert _wait_for(lambda: any(logs.glob("*.log")), 120, every=0.1)  # the job has started
    key, job_id = next(logs.glob("*.log")).name.split(".")[:2]
    p.send_signal(signal.SIGINT)
    rc, out = _finish(p, 60)
    assert rc == 130 and f"cancelled Slurm job(s) {job_id}," in out and "interrupted:" in out, out
    assert _wait_for(lambda: cluster.jobs()[job_id]["state"] == "CANCELLED", 30)
    assert not (results / "smoke" / "runs" / key / "final.pt").exists()


def test_a_job_out_of_wall_time_resumes_to_the_same_weights(
        cluster: Cluster, walltime_job: Background, local: Background) -> None:
    """The job started by `walltime_job` (one minute, paused): Slurm ends it (TIMEOUT) with
    SIGTERM, the run keeps its checkpoint, and ``jobs`` again finishes it."""
    rc, out = walltime_job.finish(200)
    assert walltime_job.paused is not None
    job_id = walltime_job.paused.wait()
    line = _one_failure(out)
    assert rc == 1 and "TIMEOUT: stopped by SIGTERM" in line, line
    assert cluster.jobs()[job_id]["state"] == "TIMEOUT"
    _resumes_to_uninterrupted(cluster, walltime_job.results, walltime_job.paused.key, local)
