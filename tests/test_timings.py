"""Where a notebook's time goes: phases are exclusive, add up, and reach the file make names."""

from __future__ import annotations

import importlib
import json
import time
from pathlib import Path

import pytest

from inpaint_lib import timings


@pytest.fixture
def fresh(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """A clean module state, recording into tmp_path/t.json, the notebook started 2 s ago."""
    monkeypatch.setenv("INPAINT_TIMINGS", str(tmp_path / "t.json"))
    monkeypatch.setenv("INPAINT_T0", str(time.time() - 2.0))
    yield importlib.reload(timings)
    importlib.reload(timings)


def test_nested_phases_count_toward_the_innermost_and_add_up(fresh, tmp_path: Path) -> None:
    t0 = time.perf_counter()
    with fresh.phase("scoring"):
        time.sleep(0.05)
        with fresh.phase("classical"):
            time.sleep(0.10)
        time.sleep(0.05)
    wall = time.perf_counter() - t0
    got = json.loads((tmp_path / "t.json").read_text())["phases"]
    assert got["classical"] == pytest.approx(0.10, abs=0.03)
    assert got["scoring"] == pytest.approx(0.10, abs=0.03)  # the classical part excluded
    assert got["scoring"] + got["classical"] == pytest.approx(wall, abs=0.01)


def test_start_up_runs_from_make_to_ready_and_a_raising_block_still_counts(fresh, tmp_path) -> None:
    fresh.ready()
    fresh.ready()  # the first call counts
    with pytest.raises(KeyError), fresh.phase("data"):
        raise KeyError("x")
    record = json.loads((tmp_path / "t.json").read_text())
    assert record["start_up"] == pytest.approx(2.0, abs=0.5)
    assert record["phases"]["data"] >= 0
    with pytest.raises(ValueError, match="unknown phase"), fresh.phase("lunch"):
        pass


def test_without_a_target_nothing_is_written(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.delenv("INPAINT_TIMINGS", raising=False)
    mod = importlib.reload(timings)
    with mod.phase("training"):
        pass
    assert mod.totals()["training"] >= 0 and not list(tmp_path.iterdir())
    importlib.reload(timings)
