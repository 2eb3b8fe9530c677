"""Shared fixtures: every test runs offline on data it makes itself."""

from __future__ import annotations

import os
from pathlib import Path

# Under `make test` two pytest workers (xdist) share the two cores: each computes with one thread,
# and so does every process it starts (a notebook, a benchmark, a Slurm job), unless the caller
# set OMP_NUM_THREADS. Two threads per worker put four on two cores, and a spinning OpenMP thread
# starves its neighbour: 577 s of pytest (941 s of CPU) against 372 s (542 s) with one thread each
# (2-core AMX Xeon, 2026-12-07). Set before anything imports torch.
if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ.setdefault("OMP_WAIT_POLICY", "passive")

import numpy as np
import pytest
from PIL import Image

REPO = Path(__file__).resolve().parent.parent

# what a make above this suite (`make test`) hands its children: a make started from a test
# with them would be a sub-make, with its parent's flags and not the defaults a user's make gets
PARENT_MAKE = ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES")


def env_of_a_fresh_make(*drop: str) -> dict[str, str]:
    """This process's environment as a user's own `make` would find it, less `drop`."""
    return {k: v for k, v in os.environ.items() if k not in PARENT_MAKE + drop}

# The suite's long poles, started first: `make test`'s workers (xdist, one file each at a time,
# --no-loadscope-reorder) take files in collection order, and the smoke report's file,
# collected late alphabetically (and by default given out after every file with more tests),
# used to start a third of the way in and end the suite alone (fresh clone, 2-core Xeon: smoke
# report 366 s, the live Slurm 160 s of mostly waiting, all else 234 s; 460 s of pytest).
LONG_POLES = ("test_smoke_report.py", "test_slurm.py")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The long poles' tests first, in LONG_POLES' order; every other test in its own order."""
    def rank(item: pytest.Item) -> int:
        name = item.path.name
        return LONG_POLES.index(name) if name in LONG_POLES else len(LONG_POLES)

    items.sort(key=rank)  # stable: each file's tests keep their order


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Results, cache and data go to a temp dir, never the repo's or ../shared."""
    monkeypatch.setenv("INPAINT_RESULTS_DIR", str(tmp_path / "results"))
    monkeypatch.setenv("INPAINT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("INPAINT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("INPAINT_OVERRIDES", raising=False)
    monkeypatch.setenv("INPAINT_DEVICE", "cpu")
    return tmp_path


def make_tree(root: Path, classes: dict[str, tuple[int, int]], size: int = 32, seed: int = 0) -> Path:
    """An image tree root/{train,test}/<class>/*.png with (n_train, n_test) images per class."""
    rng = np.random.default_rng(seed)
    for cls, counts in classes.items():
        for split, n in zip(("train", "test"), counts):
            d = root / split / cls
            d.mkdir(parents=True, exist_ok=True)
            for i in range(n):
                arr = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
                Image.fromarray(arr).save(d / f"{i:04d}.png")
    return root


@pytest.fixture(scope="session")
def smoke_report(tmp_path_factory: pytest.TempPathFactory):
    """The smoke report, built once per run of the suite (tests/smoke.py: `make -j2 report`,
    interrupted twice mid-training, resumed). Its tests live in one file, so under `make test`
    (`pytest -n 2 --dist loadfile`) one worker builds it while the other runs the rest."""
    from .smoke import build

    return build(tmp_path_factory.mktemp("smoke"))
