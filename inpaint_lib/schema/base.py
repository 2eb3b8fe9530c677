"""What every schema model shares: strictness (unknown keys are errors, values frozen) and
the stable hash that names runs and evaluation caches."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from pydantic import BaseModel, ConfigDict


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def config_hash(obj: Any) -> str:
    """Stable 12-hex-digit hash of a JSON-able object (run keys, evaluation cache keys)."""
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]
