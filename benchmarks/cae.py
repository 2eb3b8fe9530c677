"""Part A: CAE training throughput, three ways, on the same synthetic uint8 images.

(a) pipeline: `Trainer.train_epoch` on a `Splits` held on the device as uint8
    (the epoch's masks drawn at once, then per batch: index, scale, mask, step),
    at the library's precision for the device (bf16 autocast on an AMX CPU);
(b) bare step: forward + MSE + backward + Adam on one pre-made (masked, target)
    float batch, repeated, at the same precision; nothing else runs, so this is
    the practical limit;
(c) conventional: a Dataset that serves images as `torchvision.datasets.CIFAR10`
    does (uint8 HWC array -> `Image.fromarray`), ToTensor/Normalize, one 10x10
    square drawn per image with `random.randint` in `__getitem__`, fed by
    `DataLoader(batch_size, shuffle=True, num_workers=2, persistent_workers=True)`
    to a plain fp32 NCHW step (persistent workers: start-up not charged to short epochs).
All three do the same number of optimiser steps per timed call (one epoch).
"""

from __future__ import annotations

import random
import warnings
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import Tensor
from torch.utils.data import DataLoader, Dataset
from torchvision import transforms

from inpaint_lib.data import Splits, synthetic_images
from inpaint_lib.masks import apply_masks, make_generator, random_squares
from inpaint_lib.models import CAE
from inpaint_lib.schema import (
    CAEConfig,
    DataConfig,
    LossConfig,
    MaskConfig,
    OptimizerConfig,
    RunConfig,
)
from inpaint_lib.train import Trainer, autocast_dtype, make_optimizer, to_model_scale

from .common import (
    MemoryProbe,
    process_peak_rss_mib,
    q,
    time_interleaved,
    time_once,
    timing_entry,
)

IMAGE_SIZE = 32
PRECISIONS = ("fp32", "fp16-amp", "bf16")


def baseline_config(batch_size: int = 256) -> RunConfig:
    """Part A's baseline run as params/cae.yaml sets it: CAE latent 128, one 10x10 square,
    Adam 1e-3, MSE, fp32 on CUDA (amp: false), the library's CPU precision (auto)."""
    return RunConfig(
        data=DataConfig(dataset="synthetic"),
        model=CAEConfig(latent_channels=128),
        optimizer=OptimizerConfig(name="adam", lr=1e-3),
        mask=MaskConfig(size=10, count=1),
        loss=LossConfig(mse=1.0),
        epochs=200,
        batch_size=batch_size,
        seed=0,
        amp=False,
    )


def make_splits(n_train: int, n_val: int) -> Splits:
    """Synthetic 32x32 uint8 images in the library's `Splits` (val doubles as test)."""
    train = synthetic_images(n_train, IMAGE_SIZE, seed=0)  # (n_train, 3, 32, 32) uint8
    val = synthetic_images(n_val, IMAGE_SIZE, seed=1)  # (n_val, 3, 32, 32) uint8
    return Splits(train, val, val, "synthetic shapes (benchmark)", "generated", "bench")


def autocast_for(device: torch.device, precision: str) -> Any:
    if precision == "fp16-amp":
        return torch.autocast(device.type, dtype=torch.float16)
    if precision == "bf16":
        return torch.autocast(device.type, dtype=torch.bfloat16)
    return nullcontext()


def library_precision(cfg: RunConfig, device: torch.device) -> str:
    """What `Trainer` uses for `cfg` on `device`, as a PRECISIONS label."""
    return {torch.float16: "fp16-amp", torch.bfloat16: "bf16"}.get(autocast_dtype(cfg, device),
                                                                   "fp32")


def with_precision(cfg: RunConfig, precision: str) -> RunConfig:
    """`cfg` changed so that `Trainer` computes in `precision` (on its device)."""
    return cfg.model_copy(update={"amp": precision == "fp16-amp",
                                  "cpu_precision": "bf16" if precision == "bf16" else "fp32"})


class CAEStep:
    """One optimiser step on a ready batch, as `Trainer.train_epoch` takes it."""

    def __init__(self, cfg: RunConfig, device: torch.device, precision: str = "fp32",
                 compile_mode: str | None = None, channels_last: bool = True) -> None:
        torch.manual_seed(cfg.seed)
        self.device, self.precision = device, precision
        self.memory_format = torch.channels_last if channels_last else torch.contiguous_format
        self.model = CAE(cfg.model.latent_channels).to(device).to(memory_format=self.memory_format)
        self.optimizer = make_optimizer(self.model.parameters(), cfg.optimizer, device)
        self.scaler = torch.amp.GradScaler(device.type, enabled=precision == "fp16-amp")
        self.forward: Callable[[Tensor], Tensor] = (
            torch.compile(self.model, mode=compile_mode) if compile_mode else self.model)

    def __call__(self, masked: Tensor, target: Tensor) -> Tensor:
        """masked, target: (N, 3, 32, 32) in [-1, 1] on the device -> detached loss."""
        with autocast_for(self.device, self.precision):
            loss = F.mse_loss(self.forward(masked), target)
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        self.scaler.step(self.optimizer)
        self.scaler.update()
        return loss.detach()


def premade_batch(images: Tensor, cfg: RunConfig, device: torch.device) -> tuple[Tensor, Tensor]:
    """images: (N, 3, 32, 32) uint8 -> (masked, target) float on the device, channels_last."""
    target = to_model_scale(images.to(device), signed=True)
    masks = random_squares(len(images), IMAGE_SIZE, IMAGE_SIZE, cfg.mask, make_generator(0, device))
    return apply_masks(target, masks, -1.0), target


# ------------------------------------------------------------ conventional
class CIFARStyleInpaintingDataset(Dataset):
    """The textbook way, as `torchvision.datasets.CIFAR10` serves images: an (N, H, W, 3)
    uint8 array, `Image.fromarray` per item, ToTensor -> Normalize, then one square
    per image drawn with `random.randint`."""

    def __init__(self, images_hwc: np.ndarray, square: int = 10) -> None:
        self.data, self.square = images_hwc, square
        self.transform = transforms.Compose([
            transforms.ToTensor(), transforms.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))])

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, i: int) -> tuple[Tensor, Tensor]:
        target = self.transform(Image.fromarray(self.data[i]))  # (3, H, W) in [-1, 1]
        _, h, w = target.shape
        top = random.randint(0, h - self.square)
        left = random.randint(0, w - self.square)
        masked = target.clone()
        masked[:, top:top + self.square, left:left + self.square] = -1.0
        return masked, target


def to_hwc(images: Tensor) -> np.ndarray:
    """images: (N, 3, H, W) uint8 -> (N, H, W, 3) uint8 array, CIFAR10.data's layout."""
    return images.permute(0, 2, 3, 1).contiguous().numpy()


def conventional_loader(images_hwc: np.ndarray, batch_size: int, workers: int,
                        pin_memory: bool) -> DataLoader:
    """persistent_workers: worker start-up is not charged to every (short) benchmark epoch."""
    return DataLoader(CIFARStyleInpaintingDataset(images_hwc), batch_size=batch_size, shuffle=True,
                      num_workers=workers, pin_memory=pin_memory,
                      persistent_workers=workers > 0)


# --------------------------------------------------------------- the case
@dataclass(frozen=True)
class CAESizes:
    n_train: int
    n_val: int
    repeats: int
    workers: int = 2
    batch_size: int = 256


def run(sizes: CAESizes, device: torch.device, memory: MemoryProbe,
        extra_precisions: list[str], try_compile: bool) -> dict[str, Any]:
    """Measure (a), (b), (c), the same at other precisions, and the pieces around them.

    (a) and (b) run at the library's precision for this device (`library_precision`);
    (c) is written as people write it: fp32, NCHW. Each extra precision adds an (a)
    and a (b) at that precision, so every a/b pair shares its settings. Every case is
    warmed up first (inside its memory probe), then all are timed round-robin in one
    loop, so ratios between any two are measured under the same machine load.
    Returns the `cae` results section.
    """
    cfg = baseline_config(sizes.batch_size)
    splits = make_splits(sizes.n_train, sizes.n_val)
    n, bs = sizes.n_train, sizes.batch_size
    steps = -(-n // bs)
    precision = library_precision(cfg, device)
    out: dict[str, Any] = {
        "config": {"model": "CAE latent 128", "mask": "one 10x10 square",
                   "optimizer": "Adam lr 1e-3", "loss": "MSE", "batch_size": q(bs, "img"),
                   "train_images": q(n, "img"), "image_size": q(IMAGE_SIZE, "px"),
                   "precision": precision, "conventional_precision": "fp32",
                   "channels_last": cfg.channels_last,
                   "data": "synthetic_images (uint8), same images for (a), (b), (c)",
                   "steps_per_call": q(steps, "optimiser steps (one epoch)")},
    }
    cases: dict[str, Callable[[], Any]] = {}

    # (a) the library's pipeline, end to end: one call = one epoch of Trainer.train_epoch.
    with memory.probe("cae_a_pipeline"):
        trainer = Trainer(cfg, splits, device)
        trainer.train_epoch(1)  # warm-up
    cases["a"] = partial(trainer.train_epoch, 2)

    # (b) the bare step on one pre-made batch, `steps` times per call.
    with memory.probe("cae_b_bare_step"):
        step = CAEStep(cfg, device, precision)
        masked, target = premade_batch(splits.train[:bs], cfg, device)  # (bs, 3, 32, 32) float
        for _ in range(3):
            step(masked, target)
    cases["b"] = partial(_repeat_step, step, masked, target, steps)

    # (c) conventional DataLoader into a plain fp32 NCHW step.
    pin = device.type == "cuda"
    with memory.probe("cae_c_conventional"):
        loader = conventional_loader(to_hwc(splits.train), bs, sizes.workers, pin)
        conv_step = CAEStep(cfg, device, "fp32", channels_last=False)
        cases["c"] = partial(_conventional_epoch, loader, conv_step, device, pin)
        cases["c"]()  # warm-up (starts the workers)
    workers = _worker_peaks_mib(loader)
    if workers:
        memory.results["cae_c_conventional"]["workers_peak_rss_total"] = q(
            sum(workers), f"MiB (VmHWM summed over {len(workers)} worker processes)")

    # the same (a) and (b) at other precisions; (b) compiled, if asked
    others = [p for p in extra_precisions if p != precision]
    for p in others:
        other = Trainer(with_precision(cfg, p), splits, device)
        other.train_epoch(1)
        cases[f"a:{p}"] = partial(other.train_epoch, 2)
        other_step = CAEStep(cfg, device, p)
        for _ in range(3):
            other_step(masked, target)
        cases[f"b:{p}"] = partial(_repeat_step, other_step, masked, target, steps)
    first_compiled: dict[str, float] = {}
    if try_compile:  # RunConfig.compile: the pipeline and its bare step, compiled
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                compiled = CAEStep(cfg, device, precision, "default")
                first_compiled["b"] = time_once(partial(compiled, masked, target), device)
                for _ in range(2):
                    compiled(masked, target)
                compiled_trainer = Trainer(cfg.model_copy(update={"compile": True}), splits, device)
                first_compiled["a"] = time_once(partial(compiled_trainer.train_epoch, 1), device)
            cases["b:compiled"] = partial(_repeat_step, compiled, masked, target, steps)
            cases["a:compiled"] = partial(compiled_trainer.train_epoch, 2)
        except Exception as e:  # noqa: BLE001 - a backend may be missing (compiler, kernels)
            out["compiled"] = {"error": f"{type(e).__name__}: {str(e)[:200]}"}

    times = time_interleaved(cases, device, sizes.repeats)
    out["a_pipeline_trainer"] = timing_entry(times["a"], n)
    out["b_bare_step"] = timing_entry(times["b"], steps * bs)
    out["c_conventional_dataloader"] = timing_entry(times["c"], n)
    out["c_conventional_dataloader"]["workers"] = q(sizes.workers, "processes (persistent)")
    if others:
        out["other_precisions"] = {p: {"a_pipeline_trainer": timing_entry(times[f"a:{p}"], n),
                                       "b_bare_step": timing_entry(times[f"b:{p}"], steps * bs)}
                                   for p in others}
    if "b:compiled" in times:
        out["compiled"] = {"a_pipeline_trainer": timing_entry(times["a:compiled"], n),
                           "b_bare_step": timing_entry(times["b:compiled"], steps * bs)}
        for k, first in first_compiled.items():
            out["compiled"][f"{k}_first_call"] = q(first, "s (includes compilation)")

    # Where the time goes: each data path alone, without the model (also round-robin).
    data = time_interleaved({"ours": _our_data_path(trainer, cfg, device, bs),
                             "conventional": partial(_drain, loader)}, device, sizes.repeats)
    out["data_path_only"] = {k: timing_entry(v, n) for k, v in data.items()}
    # Held-out pass as Trainer.fit runs it every epoch (batch 500, forward only).
    held = [time_once(partial(trainer.held_out, 1), device) for _ in range(sizes.repeats)]
    out["held_out_pass"] = timing_entry(held, len(splits.val))
    return out


def _tp(entry: dict[str, Any]) -> float:
    return entry["throughput"]["value"]


def _repeat_step(step: CAEStep, masked: Tensor, target: Tensor, steps: int) -> None:
    for _ in range(steps):
        step(masked, target)


def _conventional_epoch(loader: DataLoader, step: CAEStep, device: torch.device,
                        pin: bool) -> None:
    for masked, target in loader:  # each (bs, 3, 32, 32) float in [-1, 1]
        step(masked.to(device, non_blocking=pin).contiguous(memory_format=step.memory_format),
             target.to(device, non_blocking=pin).contiguous(memory_format=step.memory_format))


def _worker_peaks_mib(loader: DataLoader) -> list[float]:
    """Peak RSS of the loader's live (persistent) worker processes; [] if not reachable."""
    workers = getattr(getattr(loader, "_iterator", None), "_workers", [])  # private, best effort
    peaks = [process_peak_rss_mib(w.pid) for w in workers if getattr(w, "pid", None)]
    return [p for p in peaks if p is not None]


def _drain(loader: DataLoader) -> None:
    for _ in loader:
        pass


def _our_data_path(trainer: Trainer, cfg: RunConfig, device: torch.device,
                   bs: int) -> Callable[[], None]:
    """Trainer.train_epoch's data work minus the model: order, epoch masks, index, scale, mask."""
    images, g = trainer.train_images, trainer.generator  # (N, 3, 32, 32) uint8 on the device
    n = len(images)

    def epoch() -> None:
        order = torch.randperm(n, generator=g, device=device)
        masks = random_squares(n, IMAGE_SIZE, IMAGE_SIZE, cfg.mask, g)  # (N, 1, 32, 32) bool
        for start in range(0, n, bs):
            trainer.prepare(images[order[start:start + bs]], masks[start:start + bs])

    epoch()  # warm-up
    return epoch
