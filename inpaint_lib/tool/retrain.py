"""``python -m inpaint_lib photo-network`` (``make photo-network``): train the shipped photo
network from scratch and write it, with its evidence, into `shipped.SHIPPED_DIR`.

The network is the crossover section's (``params/d1_crossover.yaml``) at the `full` profile:
the whole pet training split, two random 128 px native-resolution crops of each photo, its
epochs, trained through the run cache (so a stopped run resumes); then scored against the
classical methods on every held-out photo (a 128 px centre crop at native resolution) under
every crossover mask setting (`crossover.crossover_table`: every classical method, FSR best and
FSR fast on the photos the full profile's `evaluation.classical_images` names, with the network's
margin over each). The weights, the table and the provenance are written by `shipped.write`.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import torch

from ..code_version import scoring_code
from ..crossover import crossover_table, margins, targets, test_images
from ..resolve import PARAMS_DIR
from ..section import open_section
from ..shipped import SHIPPED_DIR, ShippedNetwork, write

PARAMS = PARAMS_DIR / "d1_crossover.yaml"


def retrain(profile: str = "full", folder: Path = SHIPPED_DIR, device: str | None = None,
            log: Any = print) -> ShippedNetwork:
    """Train (or find in the run cache) the photo network of `profile`, score its crossover
    table, and write the shipped folder. Returns the written network."""
    t0 = time.time()
    study = open_section(PARAMS, profile, device)
    run = study.run()  # trained through the run cache: epochs and ETA on the terminal
    log(f"photo-network: trained {run.dir} ({run.info.get('train_seconds', 0) / 60:.1f} min of "
        "training); scoring it against the classical methods")
    table = crossover_table(study, [study.method(run, "photo network")])
    images, _ = test_images(study)
    info = run.info
    provenance = {
        "profile": profile, "params": PARAMS.name, "run": run.dir.name,
        "commit": info.get("git_commit", "unknown"), "training_code": info.get("code", "unrecorded"),
        "epochs": run.config.epoch_range[1], "batch_size": run.config.batch_size,
        "dataset": info.get("dataset"), "data": info.get("data"),
        "train_photos": len(study.splits.train) // max(1, study.params.data.train_crops),
        "train_crops": len(study.splits.train), "crop": study.params.data.crop,
        "train_seconds": info.get("train_seconds"), "device": info.get("device"),
        "threads": info.get("threads"), "precision": info.get("precision"),
        "torch": info.get("torch"), "trained": info.get("started"),
        "parameters": run.parameter_count(),
    }
    crossover = {"images": len(images), "crop": study.params.data.crop,
                 "mask_seed": study.params.evaluation.mask_seed, "scoring_code": scoring_code(),
                 "rows": margins(table).to_dict(orient="records"), "targets": targets(table),
                 "classical": table[table.kind == "classical"][
                     ["shape", "setting", "method", "hole_psnr", "images"]].to_dict(orient="records")}
    state = torch.load(run.dir / "final.pt", map_location="cpu", weights_only=True)["model"]
    shipped = write(folder, state, run.config, int(info["image_size"]), provenance, crossover)
    log(f"photo-network: wrote {folder} in {(time.time() - t0) / 60:.1f} min "
        f"(sha256 {shipped.card['sha256'][:12]})")
    return shipped
