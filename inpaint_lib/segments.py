"""A run's segments: one per training process, kept beside the run in ``segments.json``.

A run that is stopped and resumed is trained by several processes, possibly from other
commits, in another precision, with other thread counts. Its ``config.json`` is rewritten by
each process (`runs.train_run`), so it describes only the last one; ``segments.json`` keeps
every process's commit, training code, precision, threads, device, start, end, the epochs it
trained and their seconds, appended, never overwritten. Each segment says how it was recorded:

- ``by the training process`` (`begin` and `end`, called by `runs.train_run`);
- ``by make study-scale around the process`` (the study-scale driver, whose training runs in a
  pinned commit's worktree whose code does not record segments: `append_process`);
- ``reconstructed``: a run trained before segments were recorded, or a process that ended
  without recording its end (killed): its epochs and seconds from ``train.log`` (one segment
  per "resuming" line), the last process's commit, precision and threads from ``config.json``,
  and for the processes before it only what ``train.log`` holds (commit, precision and threads
  unrecorded: ``None``).

Not part of the training-code fingerprint (`code_version`): it records, it shapes nothing.
"""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from .io import atomic_write_json, read_json

SEGMENTS = "segments.json"
# what a process records about itself in config.json, and a segment keeps
FIELDS = {"commit": "git_commit", "code": "code", "precision": "precision", "threads": "threads",
          "device": "device", "torch": "torch", "parallel_jobs": "parallel_jobs",
          "started": "started"}
BY_PROCESS = "by the training process"
BY_DRIVER = "by make study-scale around the process"
RECONSTRUCTED = "reconstructed from train.log and config.json"
RECONSTRUCTED_EARLY = ("reconstructed from train.log: a process before the last one, whose commit, "
                       "precision and threads were not recorded")
TIME = "%Y-%m-%d %H:%M:%S"

_EPOCH = re.compile(r"^epoch (\d+)/\d+:.*\((\d+(?:\.\d+)?)s\)", re.MULTILINE)
_RESUME = re.compile(r"^resuming \S+ after epoch (\d+)", re.MULTILINE)


def now() -> str:
    return time.strftime(TIME)


def load(run_dir: Path) -> list[dict[str, Any]]:
    """The run's recorded segments, oldest first ([] when none is recorded)."""
    path = run_dir / SEGMENTS
    return read_json(path)["segments"] if path.exists() else []


def _save(run_dir: Path, segments: list[dict[str, Any]]) -> None:
    atomic_write_json(run_dir / SEGMENTS, {"segments": segments})


def log_parts(text: str) -> list[dict[str, Any]]:
    """train.log's text cut at each "resuming" line: one part per process that logged
    anything, {"resumed_after": N or None, "epochs": [first, last] or None, "seconds": the
    sum of its epochs' seconds}."""
    cuts = [(m.start(), int(m.group(1))) for m in _RESUME.finditer(text)]
    starts = [(0, None), *cuts]
    parts = []
    for i, (at, after) in enumerate(starts):
        end = starts[i + 1][0] if i + 1 < len(starts) else len(text)
        epochs = [(int(e), float(s)) for e, s in _EPOCH.findall(text[at:end])]
        if at == 0 and not epochs and cuts and cuts[0][0] == 0:
            continue  # the log starts with a resume line: no part before it
        parts.append({"resumed_after": after,
                      "epochs": [epochs[0][0], epochs[-1][0]] if epochs else None,
                      "seconds": round(sum(s for _, s in epochs), 1)})
    return parts


def _from_config(info: dict[str, Any]) -> dict[str, Any]:
    return {k: info.get(v) for k, v in FIELDS.items()}


def _ended_from_config(info: dict[str, Any]) -> str | None:
    """A finished process's end: its start plus its recorded wall seconds (None if unknown)."""
    wall, started = info.get("wall_seconds_this_process"), info.get("started")
    if wall is None or not started:
        return None
    return (datetime.strptime(started, TIME) + timedelta(seconds=float(wall))).strftime(TIME)


def reconstruct(run_dir: Path) -> list[dict[str, Any]]:
    """The segments of a run trained before segments were recorded, from its train.log (one
    per process that logged: epochs and seconds) and config.json (the last process's commit,
    training code, precision, threads, start; its end from its wall seconds when it finished).
    The earlier processes' training code is the run's (its directory name hashes it); their
    commit, precision and threads are unrecorded (None). A process that died before logging
    anything left no trace: these are the processes that trained."""
    log = run_dir / "train.log"
    text = log.read_text() if log.exists() else ""
    info = read_json(run_dir / "config.json") if (run_dir / "config.json").exists() else {}
    parts = log_parts(text) or [{"resumed_after": None, "epochs": None, "seconds": 0.0}]
    out = []
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        seg = (_from_config(info) if last else
               {**dict.fromkeys(FIELDS), "code": info.get("code")})
        seg |= {"ended": _ended_from_config(info) if last else None, **part,
                "log": None, "recorded": RECONSTRUCTED if last else RECONSTRUCTED_EARLY}
        out.append(seg)
    return out


def _log_bytes(run_dir: Path) -> bytes:
    log = run_dir / "train.log"
    return log.read_bytes() if log.exists() else b""


def _parts_between(text: bytes, start: int, stop: int | None = None) -> dict[str, Any]:
    """The epochs and seconds of the train.log lines in bytes [start, stop): one process's."""
    parts = log_parts(text[start:stop].decode(errors="replace"))
    return _merge(parts) if parts else {"resumed_after": None, "epochs": None, "seconds": 0.0}


def _merge(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """The log parts of one process (one, unless it logged a resume twice): their span and
    total seconds."""
    epochs = [p["epochs"] for p in parts if p["epochs"]]
    return {"resumed_after": parts[0]["resumed_after"],
            "epochs": [epochs[0][0], epochs[-1][1]] if epochs else None,
            "seconds": round(sum(p["seconds"] for p in parts), 1)}


STOPPED = "; stopped before it recorded its end (epochs from train.log)"


def _close_stopped(run_dir: Path, segments: list[dict[str, Any]]) -> bool:
    """A process that recorded its start but not its end (stopped, killed): its epochs from
    the train.log lines after its start. True if one was closed."""
    changed = False
    text = _log_bytes(run_dir)
    for i, seg in enumerate(segments):
        log = seg.get("log")
        if seg.get("ended") is None and log and log[1] is None:
            nxt = next((s["log"][0] for s in segments[i + 1:] if s.get("log")), len(text))
            seg |= _parts_between(text, log[0], nxt) | {"log": [log[0], nxt]}
            seg["recorded"] = seg.get("recorded", BY_PROCESS) + STOPPED
            changed = True
    return changed


def sync(run_dir: Path) -> list[dict[str, Any]]:
    """Make sure every process that trained the run so far is recorded, before another one
    starts: reconstruct the segments of a run that has none (`reconstruct`); close a process
    that recorded its start but not its end (`STOPPED`); append the process config.json
    describes if no segment has its start (one that did not record itself: its end from its
    wall seconds if it finished, its epochs from the train.log lines after the last recorded
    segment's). Returns the segments."""
    if not (run_dir / "config.json").exists():
        return load(run_dir)
    if not (run_dir / SEGMENTS).exists():
        segments = reconstruct(run_dir)
        _save(run_dir, segments)
        return segments
    segments = load(run_dir)
    changed = _close_stopped(run_dir, segments)
    info = read_json(run_dir / "config.json")
    if info.get("started") not in {s.get("started") for s in segments}:
        ends = [s["log"][1] for s in segments if s.get("log") and s["log"][1] is not None]
        text = _log_bytes(run_dir)
        if ends:
            part = _parts_between(text, max(ends))
        else:
            parts = log_parts(text.decode(errors="replace"))
            part = parts[-1] if parts else _parts_between(b"", 0)
        segments.append({**_from_config(info), "ended": _ended_from_config(info), **part,
                         "log": [max(ends), len(text)] if ends else None,
                         "recorded": RECONSTRUCTED})
        changed = True
    if changed:
        _save(run_dir, segments)
    return segments


def begin(run_dir: Path, info: dict[str, Any]) -> None:
    """A training process records itself (`info`: the config.json it just wrote), after
    `sync` kept the processes before it: appended, open (its end unrecorded until `end`)."""
    segments = load(run_dir)
    segments.append({**_from_config(info), "ended": None, "resumed_after": None, "epochs": None,
                     "seconds": 0.0, "log": [len(_log_bytes(run_dir)), None],
                     "recorded": BY_PROCESS})
    _save(run_dir, segments)


def end(run_dir: Path) -> None:
    """The process that `begin` recorded last ends: its end time, and its epochs and seconds
    from the train.log lines it wrote."""
    segments = load(run_dir)
    if not segments or segments[-1].get("ended") is not None or not segments[-1].get("log"):
        return
    seg = segments[-1]
    text = _log_bytes(run_dir)
    seg |= _parts_between(text, seg["log"][0]) | {"ended": now(), "log": [seg["log"][0], len(text)]}
    _save(run_dir, segments)


def append_process(run_dir: Path, log_offset: int, ended: str,
                   recorded: str = BY_DRIVER) -> list[dict[str, Any]]:
    """Record the process that just trained the run, from outside it (`recorded`): what it
    wrote in config.json, its end `ended`, its train.log lines after `log_offset` bytes (the
    log's size before it started; `sync` first kept the processes before it). Nothing is
    appended when a segment already has its start. Returns the segments."""
    segments = load(run_dir)
    info = read_json(run_dir / "config.json")
    if info.get("started") in {s.get("started") for s in segments}:
        return segments
    text = _log_bytes(run_dir)
    segments.append({**_from_config(info), "ended": ended, **_parts_between(text, log_offset),
                     "log": [log_offset, len(text)], "recorded": recorded})
    _save(run_dir, segments)
    return segments


def log_size(run_dir: Path) -> int:
    """train.log's size in bytes now (0 when there is none): where a process's lines begin."""
    return len(_log_bytes(run_dir))
