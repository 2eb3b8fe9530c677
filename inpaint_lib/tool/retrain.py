"""``python -m inpaint_lib photo-network`` (``make photo-network``): train the shipped photo
network from scratch and write it, with its evidence, into `shipped.SHIPPED_DIR`.

The network is the crossover section's (``params/d1_crossover.yaml``) at the `full` profile:
the pet training photos less the validation photos held out whole (`data.val_size`), two random
128 px native-resolution crops of each, its epochs, trained through the run cache (so a stopped
run resumes); then scored against the classical methods under every crossover mask setting
(`crossover.crossover_table`: every classical method, FSR best and FSR fast on the photos the
full profile's `evaluation.classical_images` names, with the network's margin over each; a
128 px centre crop of each photo at native resolution) twice: on the validation photos, where
its choices (fill, stem, epochs) are made and checked, and on the test photos, never used to
choose anything: the card's and the tool's table. The weights, both tables and the provenance
are written by `shipped.write`.

``--validate`` (e.g. ``INPAINT_OVERRIDES='{photo: {train: {model: {stem: 0}}}}' python -m
inpaint_lib photo-network --profile quick --validate``): train a variant and print its table
on the validation photos only, writing nothing: how a choice is made without the test photos.
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


def validation(study: Any, run: Any, table: Any) -> dict[str, Any]:
    """What the choices rest on: the network's crossover table on the validation photos (its
    rows and targets), how many photos, and the epoch of its lowest validation loss."""
    history = run.history
    best = min(history, key=lambda h: h["val_loss"])["epoch"] if history else None
    images, _ = test_images(study, "val")
    return {"images": len(images), "photos": len(study.splits.val),
            "rows": margins(table).to_dict(orient="records"), "targets": targets(table),
            "epochs": run.config.epoch_range[1], "lowest_validation_loss_epoch": best}


def retrain(profile: str = "full", folder: Path = SHIPPED_DIR, device: str | None = None,
            log: Any = print, validate: bool = False) -> ShippedNetwork | None:
    """Train (or find in the run cache) the photo network of `profile`, score its crossover
    table on the validation photos and on the test photos, and write the shipped folder.
    Returns the written network; with `validate`, print the validation table only, write
    nothing and return None."""
    t0 = time.time()
    study = open_section(PARAMS, profile, device)
    run = study.run()  # trained through the run cache: epochs and ETA on the terminal
    log(f"photo-network: trained {run.dir} ({run.info.get('train_seconds', 0) / 60:.1f} min of "
        "training); scoring it against the classical methods on the validation photos")
    network = study.method(run, "photo network")
    chosen_on = validation(study, run, crossover_table(study, [network], split="val"))
    if validate:
        for r in chosen_on["rows"]:
            log(f"{r['shape']} {r['setting']}: {r['hole_psnr_margin']:+.2f} dB "
                f"[{r['hole_psnr_low']:+.2f}, {r['hole_psnr_high']:+.2f}] over {r['best_classical']}")
        met = sum(t["met"] for t in chosen_on["targets"])
        log(f"photo-network: on {chosen_on['images']} validation photos, {met} of "
            f"{len(chosen_on['targets'])} targets met; lowest validation loss at epoch "
            f"{chosen_on['lowest_validation_loss_epoch']} of {chosen_on['epochs']} (nothing written)")
        return None
    log("photo-network: scoring it on the test photos (the card's table)")
    table = crossover_table(study, [network])
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
        "parameters": run.parameter_count(), "validation_photos": len(study.splits.val),
    }
    crossover = {"images": len(images), "crop": study.params.data.crop,
                 "mask_seed": study.params.evaluation.mask_seed, "scoring_code": scoring_code(),
                 "rows": margins(table).to_dict(orient="records"), "targets": targets(table),
                 "classical": table[table.kind == "classical"][
                     ["shape", "setting", "method", "hole_psnr", "images"]].to_dict(orient="records"),
                 "split": "test"}  # photos never used to choose anything
    crossover["validation"] = chosen_on
    state = torch.load(run.dir / "final.pt", map_location="cpu", weights_only=True)["model"]
    shipped = write(folder, state, run.config, int(info["image_size"]), provenance, crossover)
    log(f"photo-network: wrote {folder} in {(time.time() - t0) / 60:.1f} min "
        f"(sha256 {shipped.card['sha256'][:12]})")
    return shipped
