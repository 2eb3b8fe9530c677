"""What each executed notebook used (dataset, device, runs): one JSON file per notebook in
``results/<profile>/provenance/``, written by the study and read by the report header and
the inpaint command's list of trained networks."""

from __future__ import annotations

from pathlib import Path

from .io import atomic_write_json
from .runs import results_root


def host_cpu() -> str:
    """The CPU this process runs on, by its model name (/proc/cpuinfo; the platform's name
    where that is unreadable)."""
    import platform

    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def provenance_dir(profile: str) -> Path:
    return results_root(profile) / "provenance"


def record_provenance(profile: str, name: str, info: dict) -> None:
    """Called by each notebook: what it used (dataset, device, runs), for the header."""
    atomic_write_json(provenance_dir(profile) / f"{name}.json", info)
