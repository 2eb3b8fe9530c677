"""Synchronised timing, round-robin repeats, peak memory, and numbers with units.

Every measured call is bracketed by a device synchronisation (CUDA), run after warm-up and
summarised by the median of its repeats. Peak memory: on CPU the process's resident high-water
mark (VmHWM, reset per case through /proc/self/clear_refs where the kernel allows it); on CUDA
also the allocator's peak.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import torch

from inpaint_lib.tool.networks import slug

Quantity = dict[str, Any]  # {"value": float, "unit": str}: every number in the results


def q(value: float, unit: str) -> Quantity:
    return {"value": float(value), "unit": unit}


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def device_slug(device: torch.device) -> str:
    """'cpu-<n>cores', or the CUDA device's name in lower case with dashes ('nvidia-h200')."""
    if device.type == "cuda":
        return slug(torch.cuda.get_device_name(device))
    return f"cpu-{os.cpu_count()}cores"


def time_calls(fns: dict[str, Callable[[], Any]], device: torch.device,
               repeats: int) -> dict[str, list[float]]:
    """Wall seconds of each synchronised call of each function, timed round-robin (a, b, c, a,
    b, c, ...): a shared machine's slow drifts of load fall on every case alike, so their
    ratios hold."""
    out: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            sync(device)
            t0 = time.perf_counter()
            fn()
            sync(device)
            out[name].append(time.perf_counter() - t0)
    return out


def timing_entry(seconds: list[float], items: int, unit: str = "img") -> dict[str, Quantity]:
    """Median time per call, throughput (and best-of throughput) for `items` per call."""
    m, best = statistics.median(seconds), min(seconds)
    return {
        "time_per_call": q(m, "s"),
        "throughput": q(items / m, f"{unit}/s"),
        "best_throughput": q(items / best, f"{unit}/s"),
        "items_per_call": q(items, unit),
        "repeats": q(len(seconds), "calls"),
        "spread": q((max(seconds) - best) / m, "fraction of median"),
    }


def load_average() -> list[float]:
    """1, 5, 15-minute load averages: how busy the (shared) machine was."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


def status_kib(name: str, pid: int | str = "self") -> int | None:
    """A /proc/<pid>/status field in KiB (VmHWM: peak resident, VmRSS: resident now)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(name + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


@dataclass
class MemoryProbe:
    """Peak memory of the code run inside `probe(name)`, collected in `results[name]`."""

    device: torch.device
    reset_ok: bool = True
    results: dict[str, dict[str, Quantity]] = field(default_factory=dict)

    @property
    def method(self) -> str:
        return (("VmHWM per case, reset through /proc/self/clear_refs" if self.reset_ok else
                 "process peak so far (VmHWM could not be reset): cumulative, in the order run")
                + ("; CUDA: max_memory_allocated per case" if self.device.type == "cuda" else ""))

    @contextmanager
    def probe(self, name: str) -> Iterator[None]:
        sync(self.device)
        try:  # reset VmHWM to VmRSS (Linux >= 4.0)
            with open("/proc/self/clear_refs", "w") as f:
                f.write("5")
        except OSError:
            self.reset_ok = False
        rss_before = status_kib("VmRSS") or 0
        if self.device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(self.device)
            cuda_before = torch.cuda.memory_allocated(self.device)
        yield
        sync(self.device)
        peak = status_kib("VmHWM") or 0
        entry = {"peak_rss": q(peak / 1024, "MiB"),
                 "rss_increase": q(max(peak - rss_before, 0) / 1024, "MiB")}
        if self.device.type == "cuda":
            cuda_peak = torch.cuda.max_memory_allocated(self.device)
            entry["cuda_peak_allocated"] = q(cuda_peak / 2**20, "MiB")
            entry["cuda_increase"] = q(max(cuda_peak - cuda_before, 0) / 2**20, "MiB")
        self.results[name] = entry
