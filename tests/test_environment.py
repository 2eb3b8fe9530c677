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
    assert makefile.count("scripts/install_lock.py $(LOCK)") == 2  # venv and conda
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


def _install_lock():
    import importlib.util

    spec = importlib.util.spec_from_file_location("install_lock", REPO / "scripts" / "install_lock.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_uv_installs_the_lock_from_pips_indexes_with_every_hash() -> None:
    """scripts/install_lock.py: pip installs the lock's own uv (its pin and all its hashes),
    then uv the lock, from the indexes and find-links pip is configured with (the winning
    scope of each setting: environment, then site, user, global), as pip would choose."""
    m = _install_lock()
    lock = (REPO / "requirements.lock").read_text()
    entry = m.uv_requirement(lock)
    assert entry.startswith("uv==") and entry.count("--hash=sha256:") == len(
        re.search(r"^uv==.*?(?=^\S)", lock, re.MULTILINE | re.DOTALL).group(0).split("--hash=")) - 1
    assert m.uv_requirement("numpy==2.0 \\\n    --hash=sha256:" + "0" * 64 + "\n") == ""
    listing = ("global.extra-index-url='\\nfile:///a/simple\\nfile:///b/simple'\n"  # a multi-line value
               "global.find-links='/global/wheels'\n:env:.find-links='/env/wheels'\n"
               "global.index-url='https://pypi.org/simple'\ninstall.index-url=\"https://mirror/simple\"\n"
               "global.cert='/etc/ca.crt'\nglobal.constraint='/etc/c.txt'\nnot a setting\n")
    settings = m.pip_settings(listing)
    assert settings["find-links"] == "/env/wheels"  # the environment's value wins
    assert settings["index-url"] == "https://mirror/simple"  # [install] over [global]
    args, env = m.uv_options(settings)
    assert args == ["--index-strategy", "unsafe-best-match", "--index-url", "https://mirror/simple",
                    "--extra-index-url", "file:///a/simple", "--extra-index-url", "file:///b/simple",
                    "--find-links", "/env/wheels"]
    assert env == {"UV_NATIVE_TLS": "1", "SSL_CERT_FILE": "/etc/ca.crt"}
    assert m.uv_options({}) == (["--index-strategy", "unsafe-best-match"], {"UV_NATIVE_TLS": "1"})


def test_without_uv_in_the_lock_pip_installs_it(tmp_path: Path) -> None:
    """A lock that pins no uv (or a uv that cannot install) leaves the install to pip, and says why."""
    m = _install_lock()
    lock = tmp_path / "requirements.lock"
    lock.write_text("# nothing pinned\n")
    assert m.with_uv(sys.executable, lock) == f"{lock} pins no uv"
