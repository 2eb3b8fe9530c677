"""The run cache: train once, reuse everywhere.

A run lives in ``results/<profile>/runs/<arch>-<key>/`` where the key hashes the
effective RunConfig, the exact images it trains on and the fingerprint of the code that
trains it (`code_version.training_code`): edited training code trains a new run, and a run
trained by other code is never found as current. The baseline appears in
four Part A studies and is trained once; a ViT phase continues from its parent
phase's final weights, found (or trained) through the same cache. Directory:

- ``config.json``   effective config, dataset name/source, code fingerprint, git commit,
                    device, threads and what else was training beside it
- ``state.pt``      resumable checkpoint (written every epoch, atomically)
- ``final.pt``      final model + optimiser state (children continue from it)
- ``history.json``  per-epoch losses, learning rate, loss weights, seconds
- ``train.log``     the per-epoch lines, appended across resumes
- ``segments.json`` one record per training process (commit, code, precision, threads, start,
                    end, epochs): a resumed run keeps every one (`segments`)
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import torch
from torch import nn

from . import data as data_mod
from . import segments
from .code_version import training_code
from .data import Splits
from .device import default_device, precision_name
from .io import atomic_torch_save, atomic_write_json, read_json
from .models import build_model, count_parameters
from .paths import REPO_ROOT
from .progress import TrainingProgress
from .resolve import chained_run_config, load_params, run_config
from .schema import RunConfig, SectionParams, config_hash
from .train import Trainer, restore_checkpoint


def results_root(profile: str) -> Path:
    return Path(os.environ.get("INPAINT_RESULTS_DIR", REPO_ROOT / "results")) / profile


@cache
def git_commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT,
                             capture_output=True, text=True, timeout=10, check=False)
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "inpaint_lib"], cwd=REPO_ROOT,
                               capture_output=True, text=True, timeout=10, check=False).stdout.strip()
        return (out.stdout.strip() or "unknown") + ("+dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


_SPLITS: dict[str, Splits] = {}


def load_splits(study: SectionParams) -> Splits:
    """Dataset of a study, loaded once per process (notebooks share it across runs)."""
    key = study.data.model_dump_json()
    if key not in _SPLITS:
        _SPLITS[key] = data_mod.load(study.data)
    return _SPLITS[key]


@dataclass
class Run:
    name: str
    config: RunConfig
    dir: Path
    dataset: str

    @property
    def history(self) -> list[dict[str, float]]:
        return read_json(self.dir / "history.json")

    @property
    def info(self) -> dict[str, Any]:
        return read_json(self.dir / "config.json")

    def load_model(self, device: torch.device | str = "cpu") -> nn.Module:
        state = torch.load(self.dir / "final.pt", map_location=device, weights_only=True)
        model = build_model(self.config.model, self.info["image_size"])
        model.load_state_dict(state["model"])
        return model.to(device).eval()

    def parameter_count(self) -> int:
        return count_parameters(build_model(self.config.model, self.info["image_size"]))


@contextmanager
def _locked(run_dir: Path) -> Iterator[None]:
    """Exclusive lock so two processes never train the same run at once."""
    run_dir.mkdir(parents=True, exist_ok=True)
    with open(run_dir / ".lock", "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def run_dir_for(cfg: RunConfig, splits: Splits, profile: str) -> Path:
    key = config_hash({"config": cfg.key(), "data": splits.fingerprint, "code": training_code()})
    return results_root(profile) / "runs" / f"{cfg.model.arch}-{key}"


def trained_run(study: SectionParams, name: str, profile: str) -> Run | None:
    """The finished run `name` of `study` if the cache holds it (nothing is trained)."""
    splits = load_splits(study)
    cfg = chained_run_config(study, name, profile)
    run = Run(name, cfg, run_dir_for(cfg, splits, profile), splits.name)
    return run if (run.dir / "final.pt").exists() else None


def get_run(study: SectionParams, name: str, profile: str, device: torch.device | None = None,
            log: Any = None) -> Run:
    """The finished run `name` of `study`, training it (and its parents) if needed."""
    device = device or default_device()
    splits = load_splits(study)
    parent_run = None
    if study.parent is not None:
        parent_study = load_params(Path(study.source_file).parent / study.parent, profile)
        parent_name = next(iter(parent_study.runs))
        parent_run = get_run(parent_study, parent_name, profile, device, log)
    cfg = run_config(study, name, parent=parent_run.config if parent_run else None)
    run_dir = run_dir_for(cfg, splits, profile)
    run = Run(name, cfg, run_dir, splits.name)
    if (run_dir / "final.pt").exists():
        return run
    with _locked(run_dir):
        if (run_dir / "final.pt").exists():  # trained by another process meanwhile
            return run
        init = None
        if parent_run is not None:
            init = torch.load(parent_run.dir / "final.pt", map_location="cpu", weights_only=True)
        if log is None:  # notebooks: epochs, ETA on the terminal, not in the stored notebook
            log = TrainingProgress(f"{Path(study.source_file).stem} :: {name} (seed {cfg.seed})")
        train_run(cfg, splits, run_dir, device, init, log=log)
    return run


def train_run(cfg: RunConfig, splits: Splits, run_dir: Path, device: torch.device,
              init: dict[str, Any] | None = None, stop_after: int | None = None,
              log: Any = print) -> Trainer:
    """Train (or resume) one run into `run_dir`; writes final.pt when complete. config.json
    describes this process; every process's own record is kept in segments.json (appended:
    `segments`)."""
    run_dir.mkdir(parents=True, exist_ok=True)
    segments.sync(run_dir)  # the processes before this one stay recorded
    info = {
        "config": cfg.model_dump(mode="json"), "key": cfg.key(), "dataset": splits.name,
        "source": splits.source, "sizes": splits.sizes(), "image_size": splits.image_size,
        "data": splits.fingerprint,
        "code": training_code(), "git_commit": git_commit(), "device": str(device),
        "precision": precision_name(cfg, device), "torch": torch.__version__,
        # its seconds depend on what ran beside it: its threads, make's parallel jobs
        # (INPAINT_JOBS, set by the Makefile) and the 1-minute load average when it started
        "threads": torch.get_num_threads(), "parallel_jobs": int(os.environ.get("INPAINT_JOBS", "1")),
        "load_average_start": round(os.getloadavg()[0], 2),
        "started": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    atomic_write_json(run_dir / "config.json", info)
    segments.begin(run_dir, info)
    log_file = open(run_dir / "train.log", "a")  # noqa: SIM115 - closed below

    def log_both(line: str) -> None:
        log_file.write(line + "\n")
        log_file.flush()
        if log is not None:
            log(line)

    try:
        return _train(cfg, splits, run_dir, device, init, stop_after, log_both)
    finally:
        log_file.close()
        segments.end(run_dir)


def _train(cfg: RunConfig, splits: Splits, run_dir: Path, device: torch.device,
           init: dict[str, Any] | None, stop_after: int | None, log: Any) -> Trainer:
    trainer = Trainer(cfg, splits, device, init)
    checkpoint = run_dir / "state.pt"
    if checkpoint.exists():
        restore_checkpoint(trainer, torch.load(checkpoint, map_location="cpu", weights_only=True))
        log(f"resuming {run_dir.name} after epoch {trainer.epoch}")
    every = 1 if cfg.model.arch == "cae" else max(1, cfg.num_epochs // 10)
    t0 = time.perf_counter()
    trainer.fit(checkpoint, every=every, stop_after=stop_after, log=log)
    if trainer.epoch < cfg.epoch_range[1]:
        return trainer  # interrupted on purpose (tests)
    atomic_write_json(run_dir / "history.json", trainer.history)
    atomic_torch_save({"model": trainer.model.state_dict(),
                       "optimizer": trainer.optimizer.state_dict()}, run_dir / "final.pt")
    info = read_json(run_dir / "config.json")
    info["train_seconds"] = sum(h["seconds"] for h in trainer.history)
    info["wall_seconds_this_process"] = time.perf_counter() - t0
    info["load_average_end"] = round(os.getloadavg()[0], 2)
    atomic_write_json(run_dir / "config.json", info)
    checkpoint.unlink(missing_ok=True)
    return trainer
