"""The one evaluation function every notebook uses.

`evaluate()` scores an inpainting `Method` on test images under seeded masks
and returns per-image metrics (see `metrics.per_image_metrics`). Every method
sees exactly the same images and holes. Results are cached under
``results/<profile>/eval/`` keyed by method, images and masks, so a
re-executed notebook never re-scores; the key includes the scoring code's
fingerprint (`code_version.scoring_code`), so edited metrics or masks re-score.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import Tensor

from .code_version import scoring_code
from .io import atomic_torch_save
from .masks import apply_masks, fixed_masks
from .methods import Method
from .metrics import METRIC_LABELS, per_image_metrics
from .schema import MaskConfig, config_hash
from .timings import phase


def scored_images(total: int, subset: int | None) -> Tensor:
    """The indices of the images `evaluate` scores out of `total` with `subset`: all, or
    `subset` of them spread evenly (a method's per-image results are in this order)."""
    if subset is None or subset >= total:
        return torch.arange(total)
    return torch.linspace(0, total - 1, subset).round().long()


def evaluate(method: Method, images: Tensor, mask_cfg: MaskConfig, seed: int, cache: Path,
             value_range: tuple[float, float], data_id: str, subset: int | None = None,
             batch: int = 500, patch: int | None = None) -> dict[str, Tensor]:
    """Per-image metrics of one method on one masking setting (cached).

    images: (N, 3, H, W) uint8 test images; masks are drawn with `seed` from
    `mask_cfg`, so every method sees the same holes. With `subset`, only `subset` images
    spread evenly over the set are scored (`scored_images`: a slow classical method; the
    same images for every such method, and test sets may be ordered by class). With `patch`, the
    patch-grid measure at that period is added (`metrics.per_image_metrics`).
    Returns {metric: (n,) float64}.
    """
    idx = scored_images(len(images), subset)
    n = len(idx)
    key = config_hash({"method": method.identity, "data": data_id, "mask": mask_cfg.cache_dump(),
                       "seed": seed, "range": value_range, "n": n, "metrics": sorted(METRIC_LABELS),
                       "patch": patch, "code": scoring_code()})
    path = cache / f"{key}.pt"
    if path.exists():
        return torch.load(path, weights_only=True)
    with phase("scoring"):
        h, w = images.shape[-2:]
        masks = fixed_masks(len(images), h, w, mask_cfg, seed)[idx]
        parts: list[dict[str, Tensor]] = []
        for start in range(0, n, batch):
            target = images[idx[start:start + batch]].float() / 255
            m = masks[start:start + batch]
            pred = method.predict(apply_masks(target, m, 0.0), m).cpu().float()
            parts.append(per_image_metrics(pred, target, m, value_range, patch))
        result = {k: torch.cat([p[k] for p in parts]) for k in parts[0]}
    atomic_torch_save(result, path)
    return result


def predictions(method: Method, images: Tensor, masks: Tensor) -> Tensor:
    """images: (N, 3, H, W) uint8; masks: (N, 1, H, W) bool -> (N, 3, H, W) in [0, 1]."""
    with phase("scoring"):
        target = images.float() / 255
        return method.predict(apply_masks(target, masks, 0.0), masks).cpu().float().clamp(0, 1)
