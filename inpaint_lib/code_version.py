"""Which code made a result: fingerprints of the library files that shape it.

A result is identified by its inputs *and* the code that computed it, as in DVC's run cache
and Snakemake's code rerun trigger. A run's key (`runs.run_dir_for`) includes the fingerprint
of the training code and an evaluation's key (`evaluate.evaluate`) that of the scoring code, so
editing a network, the training loop, a loss, the loss weighting, the masks, data loading or
the schema (whose defaults the config key leaves out) trains a new run / re-scores, and a run
made by other code is never found as current. Editing code that only presents results (prose,
tables, figures, the report, the tool) changes neither fingerprint: nothing retrains.

A fingerprint is the SHA-256 of the files' relative paths and bytes (line endings normalised),
computed once per process. A comment edit in a training file retrains too: the price of
never missing a real change. `make` re-executes every notebook on any library edit; the
fingerprints decide what that re-execution retrains or re-scores.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent

# what shapes a trained network: folders (every .py under them) and modules of the package
TRAINING_CODE = ("models", "schema", "train.py", "device.py", "runs.py", "losses.py",
                 "weighting.py", "masks.py", "metrics.py", "data.py", "image_trees.py")
# what shapes a method's scores on given images (a network's own code is in its run's key)
SCORING_CODE = ("evaluate.py", "metrics.py", "masks.py", "methods.py", "tool/networks.py",
                "baselines.py", "data.py", "image_trees.py")


def code_files(parts: tuple[str, ...], root: Path) -> list[Path]:
    """The .py files named by `parts` (files, or folders searched recursively), sorted."""
    files: set[Path] = set()
    for part in parts:
        path = root / part
        if path.is_dir():
            files.update(path.rglob("*.py"))
        elif path.is_file():
            files.add(path)
        else:
            raise FileNotFoundError(f"code_version: {path} does not exist")
    return sorted(files)


@cache
def fingerprint(parts: tuple[str, ...], root: Path) -> str:
    """12 hex digits identifying the contents of the files `parts` names under `root`."""
    digest = hashlib.sha256()
    for f in code_files(parts, root):
        digest.update(f.relative_to(root).as_posix().encode() + b"\0")
        digest.update(f.read_bytes().replace(b"\r\n", b"\n") + b"\0")
    return digest.hexdigest()[:12]


def training_code() -> str:
    """Fingerprint of the code that trains a run (part of every run's key)."""
    return fingerprint(TRAINING_CODE, PACKAGE)


def scoring_code() -> str:
    """Fingerprint of the code that scores a method (part of every evaluation's key)."""
    return fingerprint(SCORING_CODE, PACKAGE)
