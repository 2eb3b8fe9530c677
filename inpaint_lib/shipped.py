"""The photo network shipped with the package: trained once at the full photo profile,
committed with its evidence, used by ``inpaint`` in a fresh clone with no training.

The folder `SHIPPED_DIR` (``inpaint_lib/photo_network/``) holds two files:

- ``weights.pt``: the network's weights only (``{"model": state_dict}``), a few MB;
- ``card.json``: what the network is and where it comes from: its run config and image size,
  the SHA-256 of ``weights.pt``, its provenance (commit, training-code fingerprint, profile,
  epochs, the photos it trained on, training seconds, precision, when) and its crossover
  table (hole-PSNR margin over the best classical method by mask shape and hole width on the
  test photos, with 95% intervals), from which the tool's default picks it per hole; and the
  same table on the validation photos, held out whole from the training photos, where its
  choices (fill, stem, epochs) are made (`tool.retrain`).

`load` checks the hash before reading a byte of the weights, loads them with
``weights_only=True`` and into the network its card describes; a wrong hash or shape is a
`ShippedNetworkError`, one line naming the file. ``make photo-network`` (`write`) retrains it
from scratch and rewrites both files.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from .io import atomic_torch_save, atomic_write_json, read_json, sha256_file
from .methods import Method
from .schema import RunConfig

SHIPPED_DIR = Path(__file__).resolve().parent / "photo_network"
WEIGHTS, CARD = "weights.pt", "card.json"
NAME = "photo-network"  # its name for --method and in the tool's messages
RETRAIN = "`make photo-network`"


class ShippedNetworkError(ValueError):
    """The shipped network's files do not match their card: one line naming the file (the
    inpaint command prints it and exits 2, as for any bad input)."""


@dataclass(frozen=True)
class ShippedNetwork:
    folder: Path
    card: dict[str, Any]

    @property
    def weights(self) -> Path:
        return self.folder / WEIGHTS

    @property
    def config(self) -> RunConfig:
        return RunConfig.model_validate(self.card["config"])

    @property
    def crossover(self) -> dict[str, Any]:
        """{"network_run", "rows"}: the card's crossover table, as `crossover.save_crossover`
        writes a report's, so the same default rule reads either."""
        return {"network_run": NAME, "rows": self.card["crossover"]["rows"],
                "images": self.card["crossover"]["images"]}

    def test_photos(self) -> str:
        """What its table's photos are: test photos never used to choose anything (a card
        with a validation table: its choices were checked on validation photos held out from
        the training photos), else held-out photos its fill and stem were chosen on in part."""
        x = self.card["crossover"]
        if "validation" in x:
            return (f"{x['images']:,} test pet photos never used to choose it (its choices were "
                    f"checked on {x['validation']['images']:,} validation photos held out from "
                    "its training photos)")
        return f"{x['images']:,} held-out pet photos, some of which chose its fill and stem"

    def describe(self) -> str:
        """One line: what it is, how it was trained, by which code, and its hash."""
        p = self.card["provenance"]
        return (f"CAE, any size (fully convolutional), shipped in {self.folder.name}/: "
                f"{p['epochs']} epochs on {p['train_crops']:,} crops of {p['train_photos']:,} "
                f"{p['dataset']} photos ({p['profile']} photo profile, {p['train_seconds'] / 60:.0f} min "
                f"on {p['device']}), commit {p['commit']}, training code {p['training_code']}, "
                f"sha256 {self.card['sha256'][:12]}")

    def method(self, device: torch.device) -> Method:
        """The network as an inpainting method at any image's own resolution: the hash is
        checked first, then the weights are loaded with weights_only=True."""
        from .device import signed_scale
        from .methods import at_native_resolution, network_method
        from .models import build_model

        try:
            blob = self.weights.read_bytes()  # hashed and loaded from the same bytes
        except OSError as e:
            raise ShippedNetworkError(f"{self.weights}: cannot read it ({e.strerror}); restore it "
                                      f"with `git checkout` or retrain it with {RETRAIN}") from None
        digest = hashlib.sha256(blob).hexdigest()
        if digest != self.card["sha256"]:
            raise ShippedNetworkError(
                f"{self.weights}: sha256 {digest[:12]}... does not match its card's "
                f"{self.card['sha256'][:12]}... (changed or damaged): restore it with "
                f"`git checkout -- {self.weights.name}` in {self.folder} "
                f"or retrain it with {RETRAIN}")
        state = torch.load(io.BytesIO(blob), map_location="cpu", weights_only=True)
        model = build_model(self.config.model, int(self.card["image_size"]))
        try:
            model.load_state_dict(state["model"])
        except (KeyError, RuntimeError) as e:
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise ShippedNetworkError(f"{self.weights}: the weights do not fit the network its "
                                      f"card describes ({first[:160]}); retrain with {RETRAIN}") from None
        net = network_method(NAME, model, f"shipped:{self.card['sha256'][:16]}",
                             signed_scale(self.config), device)
        return at_native_resolution(net)


def load(folder: Path | None = None) -> ShippedNetwork | None:
    """The shipped network's card (None when the folder, default `SHIPPED_DIR`, has none)."""
    folder = folder or SHIPPED_DIR
    card = folder / CARD
    if not card.exists():
        return None
    try:
        doc = read_json(card)
    except ValueError as e:
        raise ShippedNetworkError(f"{card}: not valid JSON ({e}); retrain with {RETRAIN}") from None
    missing = [k for k in ("config", "image_size", "sha256", "provenance", "crossover") if k not in doc]
    if missing:
        raise ShippedNetworkError(f"{card}: no {', '.join(missing)}; retrain with {RETRAIN}")
    return ShippedNetwork(folder, doc)


def write(folder: Path, state: dict[str, torch.Tensor], config: RunConfig, image_size: int,
          provenance: dict[str, Any], crossover: dict[str, Any]) -> ShippedNetwork:
    """Write the weights (only them) and the card with their hash, atomically each."""
    atomic_torch_save({"model": state}, folder / WEIGHTS)
    card = {"config": config.model_dump(mode="json"), "image_size": image_size,
            "sha256": sha256_file(folder / WEIGHTS), "provenance": provenance,
            "crossover": crossover}
    atomic_write_json(folder / CARD, card)
    return ShippedNetwork(folder, card)
