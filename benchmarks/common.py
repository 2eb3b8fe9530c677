"""Shared helpers: device description, synchronised timing, peak-memory probes, output.

Timing: every measured call is bracketed by a device synchronisation (CUDA), run
after warm-up, and summarised by the median of its repeats. Peak memory: on CPU
the process's resident high-water mark (VmHWM, reset per case through
/proc/self/clear_refs when the kernel allows it); on CUDA also the allocator's
peak (`torch.cuda.max_memory_allocated`, reset per case).
"""

from __future__ import annotations

import json
import os
import re
import resource
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

Quantity = dict[str, Any]  # {"value": float, "unit": str}


def q(value: float, unit: str) -> Quantity:
    """A number with its unit, as every number in the results is stored."""
    return {"value": float(value), "unit": unit}


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def device_slug(device: torch.device) -> str:
    """'cpu-<n>cores' or the CUDA device's name, lower-case with dashes."""
    if device.type == "cuda":
        name = torch.cuda.get_device_name(device)
        return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return f"cpu-{os.cpu_count()}cores"


def time_once(fn: Callable[[], Any], device: torch.device) -> float:
    """Wall seconds of one synchronised call of `fn`."""
    sync(device)
    t0 = time.perf_counter()
    fn()
    sync(device)
    return time.perf_counter() - t0


def time_repeats(fn: Callable[[], Any], device: torch.device, repeats: int,
                 warmup: int = 0) -> list[float]:
    """Seconds of `repeats` synchronised calls, after `warmup` untimed ones."""
    for _ in range(warmup):
        fn()
    return [time_once(fn, device) for _ in range(repeats)]


def time_interleaved(fns: dict[str, Callable[[], Any]], device: torch.device,
                     repeats: int) -> dict[str, list[float]]:
    """Seconds per call of each function, timed round-robin (a, b, c, a, b, c, ...).

    Interleaving spreads slow drifts of a shared machine's load over all cases
    instead of biasing whichever case happened to run during a busy spell.
    """
    out: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            out[name].append(time_once(fn, device))
    return out


def median(xs: list[float]) -> float:
    return statistics.median(xs)


def spread(xs: list[float]) -> float:
    """(max - min) / median of the repeats: how noisy a measurement was."""
    m = median(xs)
    return (max(xs) - min(xs)) / m if m > 0 else 0.0


def timing_entry(seconds: list[float], items: int, item_unit: str = "img") -> dict[str, Quantity]:
    """Median time per call and throughput (and best-of throughput) for `items` per call."""
    m, best = median(seconds), min(seconds)
    return {
        "time_per_call": q(m, "s"),
        "throughput": q(items / m, f"{item_unit}/s"),
        "best_throughput": q(items / best, f"{item_unit}/s"),
        "items_per_call": q(items, item_unit),
        "repeats": q(len(seconds), "calls"),
        "spread": q(spread(seconds), "fraction of median"),
    }


def atomic_write_text(path: Path, text: str) -> None:
    """Write via a temporary file in the same folder and os.replace (readers never see half)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_json(path: Path, obj: Any) -> None:
    atomic_write_text(path, json.dumps(obj, indent=2) + "\n")


def load_average() -> list[float]:
    """1, 5, 15-minute load averages: how busy the (shared) machine was."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


# ----------------------------------------------------------------- memory
def _status_kib(field_name: str) -> int | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field_name + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_hwm() -> bool:
    """Reset the resident high-water mark (Linux >= 4.0); False if not permitted or ignored."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        return False
    hwm, rss = _status_kib("VmHWM"), _status_kib("VmRSS")
    return hwm is not None and rss is not None and hwm <= rss * 1.02 + 1024


def _rss_kib() -> int:
    value = _status_kib("VmRSS")
    if value is not None:
        return value
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux


def _hwm_kib() -> int:
    value = _status_kib("VmHWM")
    return value if value is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


@dataclass
class MemoryProbe:
    """Peak memory of the code run inside `probe()`; one instance per benchmark run."""

    device: torch.device
    reset_ok: bool | None = None
    results: dict[str, dict[str, Quantity]] = field(default_factory=dict)

    @property
    def method(self) -> str:
        cpu = ("VmHWM per case, reset through /proc/self/clear_refs" if self.reset_ok else
               "process-wide peak so far (VmHWM could not be reset): cases are cumulative, "
               "in the order run")
        if self.device.type == "cuda":
            return cpu + ("; CUDA: torch.cuda.max_memory_allocated, reset per case (cuda_increase: "
                          "above what was allocated when the case started)")
        return cpu

    @contextmanager
    def probe(self, name: str) -> Iterator[None]:
        sync(self.device)
        self.reset_ok = _reset_hwm()
        rss_before = _rss_kib()
        if self.device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(self.device)
            cuda_before = torch.cuda.memory_allocated(self.device)
        yield
        sync(self.device)
        peak = _hwm_kib()
        entry = {
            "peak_rss": q(peak / 1024, "MiB"),
            "rss_increase": q(max(peak - rss_before, 0) / 1024, "MiB"),
        }
        if self.device.type == "cuda":
            cuda_peak = torch.cuda.max_memory_allocated(self.device)
            entry["cuda_peak_allocated"] = q(cuda_peak / 2**20, "MiB")
            entry["cuda_increase"] = q(max(cuda_peak - cuda_before, 0) / 2**20, "MiB")
        self.results[name] = entry


def process_peak_rss_mib(pid: int) -> float | None:
    """Peak resident size (VmHWM) of a live process, e.g. a DataLoader worker."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None
