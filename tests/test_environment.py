"""The locked environment: every dependency pinned with hashes, one source for conda and venv."""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from .conftest import REPO


def _name(requirement: str) -> str:
    return re.split(r"[\[<>=~!; ]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def test_lock_pins_every_dependency_with_hashes() -> None:
    lock = (REPO / "requirements.lock").read_text()
    entries = re.findall(r"^([A-Za-z0-9_.\-]+)==(\S+)((?: \\\n    --hash=sha256:[0-9a-f]{64})+)",
                         lock, re.MULTILINE)
    pinned = {name.lower().replace("_", "-"): version for name, version, _ in entries}
    requirements = [line for line in lock.splitlines() if re.match(r"^[A-Za-z0-9]", line)]
    assert len(requirements) == len(entries) > 100  # every requirement has a version and hashes
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    declared = project["dependencies"] + project["optional-dependencies"]["dev"]
    missing = {_name(r) for r in declared} - set(pinned)
    assert not missing, f"not in requirements.lock (run `make lock`): {sorted(missing)}"
    assert pinned["torch"] == "2.14.1" and pinned["torchvision"] == "0.29.1"
    assert {"numpy", "pandas", "nvidia-cublas", "triton", "distributed"} <= set(pinned)  # transitive


def test_make_env_installs_the_lock_and_conda_only_supplies_python() -> None:
    makefile = (REPO / "Makefile").read_text()
    assert makefile.count("--require-hashes --no-deps --no-compile -r $(LOCK)") == 2  # venv and conda
    assert "-e '.[dev]'" not in makefile
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    assert all(isinstance(d, str) for d in env["dependencies"])  # no pip section of its own
    assert any(d.startswith("python=3.11") for d in env["dependencies"])


def test_the_environment_is_byte_compiled() -> None:
    """`make env` byte-compiles what it installs: where Python may not write its compiled
    modules (PYTHONDONTWRITEBYTECODE, as on this machine and in CI) every process would compile
    torch again (5 s of CPU each, a third of a fresh clone's `make test`). Only there does this
    test tell anything: elsewhere importing torch writes the files itself."""
    if not sys.flags.dont_write_bytecode:
        pytest.skip("Python writes compiled modules here (PYTHONDONTWRITEBYTECODE unset)")
    import importlib.util

    import torch
    import torch.testing

    for module in (torch, torch.testing, pytest):
        assert Path(importlib.util.cache_from_source(module.__file__)).exists(), module.__name__
