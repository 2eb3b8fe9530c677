"""(c) Part A the conventional way, to set beside the library's pipeline (a).

A Dataset that serves images as `torchvision.datasets.CIFAR10` does (an (N, H, W, 3)
uint8 array, `Image.fromarray` per item), ToTensor -> Normalize, one square per
image drawn with `random.randint` in `__getitem__`, fed by `DataLoader(batch,
shuffle=True, num_workers=2, persistent_workers=True)` to a plain fp32 NCHW step
of the same model, optimiser and MSE loss (persistent workers: their start-up is
not charged to every short benchmark epoch). Same images and steps as (a).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from PIL import Image
from torch import Tensor
from torch.utils.data import DataLoader, Dataset
from torchvision import transforms

from inpaint_lib.data import synthetic_images
from inpaint_lib.models import build_model
from inpaint_lib.schema import RunConfig
from inpaint_lib.train import make_optimizer

from .timing import q, status_kib, timing_entry


class CIFARStyleInpaintingDataset(Dataset):
    """(masked, target) pairs in [-1, 1], the textbook way (see the module docstring)."""

    def __init__(self, images_hwc: object, square: int) -> None:
        self.data, self.square = images_hwc, square  # (N, H, W, 3) uint8 array
        self.transform = transforms.Compose([
            transforms.ToTensor(), transforms.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))])

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, i: int) -> tuple[Tensor, Tensor]:
        target = self.transform(Image.fromarray(self.data[i]))  # (3, H, W) in [-1, 1]
        _, h, w = target.shape
        top, left = random.randint(0, h - self.square), random.randint(0, w - self.square)
        masked = target.clone()
        masked[:, top:top + self.square, left:left + self.square] = -1.0
        return masked, target


class ConventionalLoop:
    """One call of `epoch` = one pass over `n` images, as (a) does."""

    def __init__(self, cfg: RunConfig, n: int, device: torch.device, workers: int = 2) -> None:
        side = cfg.data.side or 32
        images = synthetic_images(n, side, seed=0)  # (n, 3, S, S) uint8: (a)'s images
        self.n, self.device, self.workers, self.pin = n, device, workers, device.type == "cuda"
        torch.manual_seed(cfg.seed)
        self.model = build_model(cfg.model, side).to(device)
        self.optimizer = make_optimizer(self.model.parameters(), cfg.optimizer, device)
        hwc = images.permute(0, 2, 3, 1).contiguous().numpy()  # CIFAR10.data's layout
        dataset = CIFARStyleInpaintingDataset(hwc, cfg.mask.sizes[0])
        self.loader = DataLoader(dataset, batch_size=cfg.batch_size, shuffle=True,
                                 num_workers=workers, pin_memory=self.pin,
                                 persistent_workers=workers > 0)
        self.epoch()  # warm-up: starts the workers

    def epoch(self) -> None:
        self.model.train()
        for masked, target in self.loader:  # each (B, 3, S, S) float in [-1, 1]
            masked = masked.to(self.device, non_blocking=self.pin)
            target = target.to(self.device, non_blocking=self.pin)
            loss = F.mse_loss(self.model(masked), target)
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()

    def data_path(self) -> None:
        """The loader alone, without the model."""
        for _ in self.loader:
            pass

    def timers(self) -> dict[str, Callable[[], Any]]:
        """Timed round-robin with the pipeline (a)."""
        return {"conventional": self.epoch, "conventional_data_path": self.data_path}

    def results(self, times: dict[str, list[float]]) -> dict[str, Any]:
        out = {"precision": "fp32", "workers": q(self.workers, "processes (persistent)"),
               "dataloader": timing_entry(times["conventional"], self.n),
               "data_path_only": timing_entry(times["conventional_data_path"], self.n)}
        # the workers' peak memory, read through a private attribute of the loader: best effort
        workers = getattr(getattr(self.loader, "_iterator", None), "_workers", [])
        peaks = [status_kib("VmHWM", w.pid) or 0 for w in workers if getattr(w, "pid", None)]
        if any(peaks):
            out["workers_peak_rss_total"] = q(sum(peaks) / 1024, "MiB (VmHWM summed over workers)")
        return out
