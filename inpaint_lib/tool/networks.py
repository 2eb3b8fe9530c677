"""The trained networks of a profile's run cache, named for the inpaint command, and the
rule that applies a network trained at one size to an image of any size.

A network trained on native-resolution crops (``data.crop``, the crossover section's photo
network, fully convolutional) runs at the image's own resolution instead, nothing resized
(`at_native_resolution`)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor

from ..device import signed_scale
from ..io import read_json
from ..masks import apply_masks
from ..methods import Method, at_native_resolution, network_method
from ..provenance import provenance_dir
from ..runs import Run, results_root
from ..schema import RunConfig

ARCH_NAMES = {"cae": "CAE", "vit": "ViT"}


def at_full_resolution(method: Method, size: int) -> Method:
    """A fixed-size network as a method for any image size (the rule in the module doc)."""

    def predict(masked: Tensor, masks: Tensor) -> Tensor:
        # masked: (N, 3, H, W) in [0, 1], holes black; masks: (N, 1, H, W) bool
        h, w = masked.shape[-2:]
        if (h, w) == (size, size):
            return method.predict(masked, masks)
        small_masks = F.interpolate(masks.float(), size=(size, size), mode="area") > 0  # (N, 1, s, s)
        small = apply_masks(F.interpolate(masked, size=(size, size), mode="area"), small_masks, 0.0)
        pred = method.predict(small, small_masks).float()  # (N, 3, s, s) in [0, 1]
        return F.interpolate(pred, size=(h, w), mode="bicubic", align_corners=False).clamp(0, 1)

    return Method(method.name, predict, f"{method.identity}@any-size", method.classical)


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


@dataclass(frozen=True)
class Network:
    """A trained network of a profile's run cache, as the tool names it."""

    name: str  # "cae", "cae-rmsprop", "vit"
    notebook: str  # the params file (stem) whose notebook trained it
    run: Run

    @property
    def image_size(self) -> int:
        return int(self.run.info["image_size"])

    @property
    def native(self) -> bool:
        """Trained on native-resolution crops: runs at any image's own resolution."""
        return self.run.config.data.crop is not None

    def describe(self) -> str:
        arch = ARCH_NAMES[self.run.config.model.arch]
        size = (f"any size (fully convolutional, trained on {self.image_size} px native-resolution "
                f"crops)" if self.native else f"{self.image_size}x{self.image_size} px")
        return (f"{arch} {size}, {self.run.dataset}; "
                f"{self.notebook} :: {self.run.name} (seed {self.run.config.seed}), "
                f"run {self.run.dir.name}")

    def method(self, device: torch.device) -> Method:
        model = self.run.load_model(device)  # weights_only=True
        net = network_method(self.name, model, self.run.dir.name, signed_scale(self.run.config), device)
        return at_native_resolution(net) if self.native else at_full_resolution(net, self.image_size)


def _provenance(profile: str) -> Iterator[tuple[str, dict]]:
    folder = provenance_dir(profile)
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        yield path.stem, read_json(path)


def _load_run(run_dir: Path, name: str) -> Run | None:
    if not (run_dir / "final.pt").exists() or not (run_dir / "config.json").exists():
        return None
    info = read_json(run_dir / "config.json")
    return Run(name, RunConfig.model_validate(info["config"]), run_dir, info.get("dataset", "?"))


def trained_networks(profile: str) -> list[Network]:
    """The trained networks of `results/<profile>/`, named from the notebooks' provenance.

    Every run a notebook used, first seed of each run name, each run directory once (in
    notebook order, so the shared baseline is a1_baseline's): the baseline of a1_baseline is
    ``cae``, the others ``<arch>-<slug of the run name>`` (``cae-best-combination``,
    ``vit-softadapt``). The ViT phase chain (runs named ``vit``) is ``vit``: its last phase
    (the run with the highest last epoch), which the report evaluates.
    """
    runs_dir = results_root(profile) / "runs"
    nets: list[Network] = []
    seen: set[str] = set()
    last_vit: tuple[int, Network] | None = None
    for notebook, prov in _provenance(profile):
        by_name: dict[str, list[tuple[int, str]]] = {}  # Part A run name -> [(seed, run dir)]
        for dir_name, meta in prov.get("runs", {}).items():
            if dir_name.startswith("vit-") and meta["name"] == "vit":  # a phase of the ViT chain
                run = _load_run(runs_dir / dir_name, meta["name"])
                last = run.config.epoch_range[1] if run is not None else -1
                if run is not None and (last_vit is None or last > last_vit[0]):
                    last_vit = (last, Network("vit", notebook, run))
            else:
                by_name.setdefault(meta["name"], []).append((meta["seed"], dir_name))
        for run_name, seeded in by_name.items():
            dir_name = min(seeded)[1]  # the first seed
            run = _load_run(runs_dir / dir_name, run_name)
            if run is None or dir_name in seen:
                continue
            seen.add(dir_name)
            arch = dir_name.split("-")[0]  # run directories are <arch>-<key>
            name = "cae" if (notebook == "a1_baseline" and run_name == "baseline") \
                else f"{arch}-{slug(run_name)}"
            if all(n.name != name for n in nets):
                nets.append(Network(name, notebook, run))
    return nets + ([last_vit[1]] if last_vit else [])
