"""A run's segments: every training process of a run is kept (commit, precision, threads,
start, end, epochs), appended across resumes, recorded by the process itself, by the
study-scale driver around a process it cannot change, or reconstructed from train.log."""

from __future__ import annotations

import json
from pathlib import Path

import torch

from inpaint_lib import runs, segments

from .test_train import DEVICE, _cfg, _splits


def test_a_resumed_run_keeps_every_process(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    runs.train_run(_cfg(), _splits(), run_dir, DEVICE, stop_after=2, log=None)
    first = segments.load(run_dir)
    assert len(first) == 1 and first[0]["epochs"] == [1, 2] and first[0]["ended"] is not None
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the second process runs with another thread count
    try:
        runs.train_run(_cfg(), _splits(), run_dir, DEVICE, log=None)
    finally:
        torch.set_num_threads(threads)
    segs = segments.load(run_dir)
    assert [s["epochs"] for s in segs] == [[1, 2], [3, 3]]
    assert [s["resumed_after"] for s in segs] == [None, 2]
    assert [s["threads"] for s in segs][1] == 1 and segs[0] == first[0]  # appended, not overwritten
    assert all(s["recorded"] == segments.BY_PROCESS and s["commit"] and s["precision"]
               and s["code"] for s in segs)
    info = json.loads((run_dir / "config.json").read_text())
    assert info["started"] == segs[-1]["started"] and info["threads"] == 1  # the last process only


LOG = "".join(f"epoch {e}/6: train 0.1  val 0.1  (2.0s)\n" for e in (1, 2)) + \
    "resuming r after epoch 2\nresuming r after epoch 2\n" + \
    "".join(f"epoch {e}/6: train 0.1  val 0.1  (3.0s)\n" for e in (3, 4, 5, 6))
CONFIG = {"git_commit": "6ea29f4", "code": "a093c22367e8", "precision": "bf16 autocast",
          "threads": 2, "device": "cpu", "torch": "2", "parallel_jobs": 1,
          "started": "2026-12-06 19:47:31", "wall_seconds_this_process": 272.0}


def _old_run(root: Path) -> Path:
    """A run trained before segments were recorded: resumed twice after epoch 2 (the first
    resumed process stopped before it finished an epoch)."""
    root.mkdir(parents=True)
    (root / "train.log").write_text(LOG)
    (root / "config.json").write_text(json.dumps(CONFIG))
    return root


def test_a_run_trained_before_segments_were_recorded_is_reconstructed(tmp_path: Path) -> None:
    segs = segments.sync(_old_run(tmp_path / "old"))
    assert [s["epochs"] for s in segs] == [[1, 2], None, [3, 6]]
    assert [s["seconds"] for s in segs] == [4.0, 0.0, 12.0]
    last = segs[-1]
    assert (last["commit"], last["precision"], last["threads"]) == ("6ea29f4", "bf16 autocast", 2)
    assert last["ended"] == "2026-12-06 19:52:03" and last["recorded"] == segments.RECONSTRUCTED
    assert all(s["commit"] is None and s["precision"] is None and s["code"] == "a093c22367e8"
               and s["recorded"] == segments.RECONSTRUCTED_EARLY for s in segs[:2])
    assert segments.sync(tmp_path / "old") == segs  # written once, kept


def test_the_driver_records_a_process_it_cannot_change_and_a_stopped_one(tmp_path: Path) -> None:
    run_dir = _old_run(tmp_path / "run")
    (run_dir / "train.log").write_text(LOG.split("resuming")[0])  # one process so far, epochs 1-2
    segments.sync(run_dir)
    offset = segments.log_size(run_dir)
    # a process of the pinned commit: it rewrites config.json, logs, records nothing itself
    with open(run_dir / "train.log", "a") as f:
        f.write("resuming r after epoch 2\nepoch 3/6: train 0.1  val 0.1  (5.0s)\n")
    (run_dir / "config.json").write_text(json.dumps({**CONFIG, "threads": 1, "started": "2026-12-07 10:00:00"}))
    segs = segments.append_process(run_dir, offset, "2026-12-07 10:05:00")
    assert [s["epochs"] for s in segs] == [[1, 2], [3, 3]] and segs[1]["threads"] == 1
    assert segs[1]["recorded"] == segments.BY_DRIVER and segs[1]["ended"] == "2026-12-07 10:05:00"
    # the driver is killed during the next process: the next start records it from config.json
    with open(run_dir / "train.log", "a") as f:
        f.write("resuming r after epoch 3\nepoch 4/6: train 0.1  val 0.1  (6.0s)\n")
    (run_dir / "config.json").write_text(json.dumps({**CONFIG, "precision": "fp32",
                                                     "started": "2026-12-07 11:00:00"}))
    segs = segments.sync(run_dir)
    assert [s["epochs"] for s in segs] == [[1, 2], [3, 3], [4, 4]]
    assert segs[2]["precision"] == "fp32" and segs[2]["recorded"] == segments.RECONSTRUCTED
    assert [s["precision"] for s in segs[:2]] == ["bf16 autocast"] * 2


def test_a_process_stopped_before_it_recorded_its_end_is_closed_from_its_log(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    info = {**CONFIG, "started": "2026-12-07 09:00:00"}
    (run_dir / "config.json").write_text(json.dumps(info))
    segments.begin(run_dir, info)
    (run_dir / "train.log").write_text(LOG.split("resuming")[0])  # it logged 2 epochs, then died
    segs = segments.sync(run_dir)
    assert segs[0]["epochs"] == [1, 2] and segs[0]["ended"] is None
    assert segs[0]["recorded"] == segments.BY_PROCESS + segments.STOPPED
