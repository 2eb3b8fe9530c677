"""The one evaluation function every notebook uses.

`evaluate()` scores inpainting methods — trained networks and the classical
baselines — on exactly the same test images and the same seeded masks, and
returns per-image metrics (see `metrics.per_image_metrics`). Results are cached
under ``results/<profile>/eval/`` keyed by method, images and masks, so a
re-executed notebook never re-scores. `summary_table()` turns them into rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import torch
from torch import Tensor, nn

from .baselines import CLASSICAL_METHODS, SLOW_METHODS
from .config import MaskConfig, config_hash
from .io import atomic_torch_save
from .masks import apply_masks, fixed_masks
from .metrics import METRIC_LABELS, per_image_metrics, summarise
from .train import default_device

# predict(masked, masks) -> prediction; masked: (N, 3, H, W) in [0, 1], holes black;
# masks: (N, 1, H, W) bool, True = missing; prediction: (N, 3, H, W) in [0, 1].
Predictor = Callable[[Tensor, Tensor], Tensor]


@dataclass(frozen=True)
class Method:
    name: str
    predict: Predictor
    identity: str  # what makes its output unique (run key, or the baseline's name)
    slow: bool = False  # score on `subset` images only


def network_method(name: str, model: nn.Module, identity: str, signed: bool,
                   device: torch.device | None = None) -> Method:
    """Wrap a trained network: [0, 1] in/out, whatever scale it works on."""
    device = device or default_device()
    model = model.to(device).eval()

    @torch.no_grad()
    def predict(masked: Tensor, masks: Tensor) -> Tensor:
        x = masked.to(device)
        if signed:  # CAE: [-1, 1], holes at -1 (black), as in training
            x = x * 2 - 1
        with torch.autocast(device.type, dtype=torch.float16, enabled=device.type == "cuda"):
            out = model(x.contiguous(memory_format=torch.channels_last)).float()
        return ((out + 1) / 2 if signed else out).clamp(0, 1)

    return Method(name, predict, identity)


def classical_methods(names: list[str] | None = None) -> list[Method]:
    names = list(CLASSICAL_METHODS) if names is None else names
    return [Method(n, CLASSICAL_METHODS[n], f"classical:{n}", n in SLOW_METHODS) for n in names]


def evaluate(method: Method, images: Tensor, mask_cfg: MaskConfig, seed: int, cache: Path,
             value_range: tuple[float, float], data_id: str, subset: int | None = None,
             batch: int = 500) -> dict[str, Tensor]:
    """Per-image metrics of one method on one masking setting (cached).

    images: (N, 3, H, W) uint8 test images; masks are drawn with `seed` from
    `mask_cfg`, so every method sees the same holes. Slow methods are scored on
    the first `subset` images (the same images for every method).
    """
    n = len(images) if not (method.slow and subset) else min(subset, len(images))
    key = config_hash({"method": method.identity, "data": data_id, "mask": mask_cfg.model_dump(),
                       "seed": seed, "range": value_range, "n": n, "metrics": sorted(METRIC_LABELS)})
    path = cache / f"{key}.pt"
    if path.exists():
        return torch.load(path, weights_only=True)
    h, w = images.shape[-2:]
    masks = fixed_masks(len(images), h, w, mask_cfg, seed)[:n]
    parts: list[dict[str, Tensor]] = []
    for start in range(0, n, batch):
        target = images[start:start + batch].float() / 255
        m = masks[start:start + batch]
        pred = method.predict(apply_masks(target, m, 0.0), m).cpu().float()
        parts.append(per_image_metrics(pred, target, m, value_range))
    result = {k: torch.cat([p[k] for p in parts]) for k in parts[0]}
    atomic_torch_save(result, path)
    return result


def predictions(method: Method, images: Tensor, masks: Tensor) -> Tensor:
    """images: (N, 3, H, W) uint8; masks: (N, 1, H, W) -> (N, 3, H, W) in [0, 1]."""
    target = images.float() / 255
    return method.predict(apply_masks(target, masks, 0.0), masks).cpu().float().clamp(0, 1)


def summary_table(results: dict[tuple[str, str], dict[str, Tensor]]) -> pd.DataFrame:
    """{(method, setting): per-image metrics} -> one row per (method, setting)."""
    rows = []
    for (method, setting), per_image in results.items():
        rows.append({"method": method, "setting": setting, "images": len(per_image["mse"]),
                     **summarise(per_image)})
    return pd.DataFrame(rows)
