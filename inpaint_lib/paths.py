"""Where the repository is: the folder above the package, which holds params/, data/ and
results/ (each of the latter two may be moved by an environment variable)."""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
