"""Where a notebook's time goes: start-up, data, training, scoring, classical fills, the rest.

``with phase("training"): ...`` times a block. Nested phases count toward the innermost one
only (a classical fill inside a scoring call is "classical", not "scoring"), so the phases of a
process never overlap and add up to at most its wall time. The totals go, as JSON, to the file
that ``INPAINT_TIMINGS`` names (the Makefile sets one per notebook) each time an outermost phase
ends; without it nothing is recorded and a phase costs two clock reads.

Start-up is measured from ``INPAINT_T0`` (the Makefile's start time of the notebook, seconds since
the epoch) to `ready()`, which `section.open_section` calls once its imports and parameters are
done: the kernel's launch, its imports and the params' validation. Whatever the notebook does
outside the phases (tables, figures, pandas) is the wall time's remainder, which
`benchmarks.report_time` reports as "notebook cells".
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PHASES = ("data", "training", "scoring", "classical")

_totals: dict[str, float] = {}
_stack: list[list] = []  # [name, start of its current slice]
_ready: float | None = None  # wall-clock time of ready()


def _target() -> Path | None:
    path = os.environ.get("INPAINT_TIMINGS")
    return Path(path) if path else None


def _write() -> None:
    path = _target()
    if path is None:
        return
    t0 = os.environ.get("INPAINT_T0")
    record = {"phases": {k: round(v, 3) for k, v in _totals.items()},
              "start_up": round(_ready - float(t0), 3) if (t0 and _ready) else None,
              "pid": os.getpid(), "written": time.time()}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(record))
    os.replace(tmp, path)  # atomic: a reader never sees half a record


def ready() -> None:
    """The notebook's imports and parameters are done: its start-up ends here (first call)."""
    global _ready
    if _ready is None:
        _ready = time.time()
        _write()


@contextmanager
def phase(name: str) -> Iterator[None]:
    """Time the block as `name` (one of `PHASES`), exclusive of the phases nested inside it."""
    if name not in PHASES:
        raise ValueError(f"unknown phase {name!r}; one of {PHASES}")
    now = time.perf_counter()
    if _stack:  # pause the enclosing phase
        outer = _stack[-1]
        _totals[outer[0]] = _totals.get(outer[0], 0.0) + now - outer[1]
    _stack.append([name, now])
    try:
        yield
    finally:
        end = time.perf_counter()
        inner = _stack.pop()
        _totals[name] = _totals.get(name, 0.0) + end - inner[1]
        if _stack:
            _stack[-1][1] = end  # the enclosing phase resumes
        else:
            _write()


def totals() -> dict[str, float]:
    """Seconds per phase so far in this process (outermost phases closed only)."""
    return dict(_totals)
