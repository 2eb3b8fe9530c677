"""Part B's phase 1 at the study's scale: the study's own ViT at 224 px, trained on this CPU as
one run of `study_scale.PLAN` (epochs 1-20, MAE only: the one phase that needs neither a GPU
nor the VGG-16 weights), committed without its weights.

The weights are too big for git (28 MB, 85 MB with the AdamW moments phase 2 continues from),
so a finished run keeps `final.pt` on disk, uncommitted, and commits instead (`COMMITTED_FILES`):

- ``weights.json``: the weight file's size and SHA-256, and the command that retrains it from
  the pinned commit (`record_weights`);
- ``scores.json``: the network and the classical methods on the held-out pets and on the boats
  at the study's generalisation-test levels (`evaluation.mask_counts`), every metric's mean and
  the patch-grid measure, as every Part B network is scored (`scoring.occlusion_levels`), with
  the scoring code's fingerprint (`score`);
- ``per_image.pt``: their per-image hole MAE, hole PSNR and SSIM, from which the report
  computes the paired verdicts (`per_image`, for `report.tables.paired_comparisons`);
- ``reconstructions.jpg``: masked input, output and ground truth of a few held-out pets under
  the phase's training masks (the study's Figure 16), one JPEG (`reconstructions`).

A checkout without the weights still finds the run (`study_scale.finished`: its weights
record stands for them) and shows what was committed; only re-scoring needs the weights.
"""

from __future__ import annotations

import io
import shlex
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import torch
from torch import Tensor

from .code_version import scoring_code
from .io import atomic_torch_save, atomic_write_bytes, atomic_write_json, read_json, sha256_file
from .segments import SEGMENTS

if TYPE_CHECKING:
    from .study_scale import Committed, Planned

NETWORK = "ViT"  # the network's name in the scores (the report names it by its scale)
WEIGHTS_RECORD = "weights.json"
PER_IMAGE = "per_image.pt"
RECONSTRUCTIONS = "reconstructions.jpg"
JPEG_QUALITY = 90  # 6 pets x 3 rows at 224 px: about 0.25 MB (PNG: about 1.2 MB)
PAIRED_METRICS = ("hole_mae", "hole_psnr", "ssim")
SETS = ("pets", "boats")  # the held-out split of the training set, then `evaluation.ood`
COMMITTED_FILES = ("config.json", "history.json", "train.log", "scores.json", PER_IMAGE,
                   RECONSTRUCTIONS, WEIGHTS_RECORD, SEGMENTS)


# ------------------------------------------------------------------ the weights
def record_weights(run_dir: Path, retrain: str) -> dict[str, Any]:
    """Write ``weights.json`` beside the run's ``final.pt``: what it holds, its size and
    SHA-256, and `retrain`, the shell command that trains it again (unless the record already
    names this file's bytes)."""
    path = run_dir / "final.pt"
    record_file = run_dir / WEIGHTS_RECORD
    if record_file.exists():
        old = read_json(record_file)
        if old.get("bytes") == path.stat().st_size and old.get("sha256") == sha256_file(path):
            return old
    state = torch.load(path, map_location="cpu", weights_only=True)
    record = {"file": "final.pt", "bytes": path.stat().st_size, "sha256": sha256_file(path),
              "holds": sorted(state), "parameters": sum(v.numel() for v in state["model"].values()),
              "committed": False,
              "why": "too big for git; phase 2 continues from it (weights and AdamW moments)",
              "retrain": retrain,
              "reproduces": "the same run; bit-identical only with the same torch, kind of CPU "
                            "and threads"}
    atomic_write_json(record_file, record)
    return record


def retrain_command(commit: str, env: dict[str, str], cmd: list[str]) -> str:
    """The shell command that trains a planned run again in a fresh clone: a detached worktree at
    the pinned `commit`, then `cmd` there with the settings of `env` (paths relative to the
    clone)."""
    settings = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
    return (f"git worktree add --detach .study-scale {commit} && cd .study-scale && "
            f"{settings} {shlex.join(cmd)}")


# ------------------------------------------------------------------ scoring
def score(c: Committed, p: Planned) -> dict[str, Any]:
    """Score the finished run as every Part B network is scored, with today's scoring code:
    the network and the classical methods on the held-out pets and the boats at each
    generalisation-test level (`scoring.occlusion_levels`: every metric and the patch-grid
    measure), their per-image paired metrics (`per_image.pt`), and a few reconstructions under
    the phase's own masks; write ``scores.json`` last (its presence means scored)."""
    from . import scoring
    from .resolve import find_params
    from .section import open_ood, open_section
    from .study_scale import PROFILE

    section = open_section(find_params(f"{p.notebook}.yaml"), PROFILE)
    run = c.run(p.run)
    sets = {"pets": ("held-out", section.splits), "boats": ("out-of-distribution", open_ood(section))}
    rows, values = [], {}
    for key, (role, s) in sets.items():
        levels = scoring.occlusion_levels(section, {NETWORK: [run]}, s.test, s.fingerprint)
        rows += levels.assign(set=key).to_dict("records")
        for cfg in section.level_masks():
            for metric in PAIRED_METRICS:
                per = scoring.per_image(section, {NETWORK: [run]}, cfg, metric, s.test, s.fingerprint)
                for method, g in per.groupby("method", sort=False):
                    values[f"{key}|{cfg.label}|{metric}|{method}"] = torch.tensor(
                        g.sort_values("image")["value"].to_numpy(), dtype=torch.float32)
    atomic_torch_save(values, c.dir / PER_IMAGE)
    shown = scoring.reconstructions(section, [section.method(run, NETWORK)], run.config.mask)
    atomic_write_bytes(c.dir / RECONSTRUCTIONS, _jpeg(list(shown.values())))
    pets = [r for r in rows if r["set"] == "pets" and r["masks"] == rows[0]["masks"]]
    out = {"network": NETWORK, "scoring_code": scoring_code(),
           "sets": {key: {"role": role, "dataset": s.name, "data": s.fingerprint,
                          "images": len(s.test), "image_size": s.image_size}
                    for key, (role, s) in sets.items()},
           "levels": [cfg.label for cfg in section.level_masks()],
           "mask_seed": section.params.evaluation.mask_seed, "value_range": list(section.value_range),
           "grid_patch": section.params.evaluation.grid_patch,
           "rows": [{k: (v.item() if hasattr(v, "item") else v) for k, v in r.items()} for r in rows],
           "per_image": {"file": PER_IMAGE, "metrics": list(PAIRED_METRICS),
                         "sha256": sha256_file(c.dir / PER_IMAGE)},
           "reconstructions": {"file": RECONSTRUCTIONS, "rows": list(shown), "mask": run.config.mask.label,
                               "epoch": run.config.epoch_range[1], "images": len(shown["input"]),
                               "side": section.splits.image_size, "jpeg_quality": JPEG_QUALITY},
           "headline": _headline(pets)}
    atomic_write_json(c.dir / "scores.json", out)
    return out


def _jpeg(rows: list[Tensor]) -> bytes:
    """Rows of (n, 3, S, S) images in [0, 1] as one JPEG: row r, image i at (r*S, i*S)."""
    from PIL import Image

    grid = torch.cat([torch.cat(list(r.clamp(0, 1)), dim=2) for r in rows], dim=1)  # (3, R*S, n*S)
    pixels = (grid * 255).round().to(torch.uint8).permute(1, 2, 0).contiguous().numpy()
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, "JPEG", quality=JPEG_QUALITY)
    return buf.getvalue()


def _headline(rows: list[dict[str, Any]]) -> str:
    """'held-out pets, 150 × 11×11 px: hole MAE 0.0612 (biharmonic 0.0650)': the network and the
    best classical method on hole MAE at the first level (status lines, commit messages)."""
    net = next(r for r in rows if r["kind"] == "network")
    cls = min((r for r in rows if r["kind"] == "classical"), key=lambda r: r["hole_mae"])
    return (f"held-out pets, {net['masks']}: hole MAE {net['hole_mae']:.4f} "
            f"({cls['method']} {cls['hole_mae']:.4f})")


# ------------------------------------------------------------------ reading back
def comparison(info: dict[str, Any], level: str) -> str:
    """'held-out Oxford-IIIT Pet (...) · 150 × 11×11 px': a test set (`score`'s "sets" entry) and
    a level, as the report's Part B comparisons are named."""
    return f"{info['role']} {info['dataset']} · {level}"


def levels(c: Committed) -> pd.DataFrame:
    """The scored rows (`scoring.occlusion_levels`' columns, "set" and "comparison"), as
    committed."""
    rows = pd.DataFrame(c.scores["rows"])
    sets = c.scores["sets"]
    return rows.assign(comparison=[comparison(sets[k], m) for k, m in zip(rows["set"], rows["masks"])])


def per_image(c: Committed, metric: str) -> pd.DataFrame:
    """The committed per-image `metric` as `scoring.per_image` rows with a "comparison" column
    (test set · level), for `report.tables.paired_comparisons`; the network's run is its
    directory, its training seconds its own."""
    s = c.scores
    values = torch.load(c.dir / s["per_image"]["file"], map_location="cpu", weights_only=True)
    seed = c.info["config"].get("seed", 0)
    blocks = []
    for key in SETS:
        info = s["sets"][key]
        for level in s["levels"]:
            prefix = f"{key}|{level}|{metric}|"
            for name, v in values.items():
                if not name.startswith(prefix):
                    continue
                method = name[len(prefix):]
                network = method == NETWORK
                blocks.append(pd.DataFrame({
                    "method": method, "kind": "network" if network else "classical",
                    "image": np.arange(len(v)), "value": v.double().numpy(),
                    "setting": f"{info['data']} | {level}", "seed": seed if network else -1,
                    "run": c.dir.name if network else method,
                    "train_seconds": c.info.get("train_seconds", np.nan) if network else 0.0,
                    "comparison": comparison(info, level)}))
    return pd.concat(blocks, ignore_index=True)


def reconstructions(c: Committed) -> dict[str, Tensor]:
    """{row label: (n, 3, S, S) uint8} read back from the committed JPEG."""
    from PIL import Image

    info = c.scores["reconstructions"]
    side, n = info["side"], info["images"]
    with Image.open(c.dir / info["file"]) as im:
        grid = torch.from_numpy(np.asarray(im.convert("RGB")).copy()).permute(2, 0, 1)
    return {label: torch.stack([grid[:, r * side:(r + 1) * side, i * side:(i + 1) * side]
                                for i in range(n)])
            for r, label in enumerate(info["rows"])}
