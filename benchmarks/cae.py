"""Part A: CAE training throughput, three ways, on the same synthetic uint8 images.

(a) pipeline: `Trainer.train_epoch` on a `Splits` held on the device as uint8
    (index a batch, draw masks with `random_squares`, scale, mask, step);
(b) bare step: forward + MSE + backward + Adam on one pre-made (masked, target)
    float batch, repeated; nothing else runs, so this is the practical limit;
(c) conventional: a `Dataset` over in-memory PIL images with ToTensor/Normalize
    and one 10x10 square drawn per image with `random.randint` in `__getitem__`,
    fed by `DataLoader(batch_size, shuffle=True, num_workers=2)` to the same step as (b).
All three do the same number of optimiser steps per timed call (one epoch).
"""

from __future__ import annotations

import random
import warnings
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from PIL import Image
from torch import Tensor
from torch.utils.data import DataLoader, Dataset
from torchvision import transforms

from inpaint_lib.config import (
    CAEConfig,
    DataConfig,
    LossConfig,
    MaskConfig,
    OptimizerConfig,
    RunConfig,
)
from inpaint_lib.data import Splits, synthetic_images
from inpaint_lib.masks import apply_masks, make_generator, random_squares
from inpaint_lib.models import CAE
from inpaint_lib.train import Trainer, make_optimizer, to_model_scale

from .common import MemoryProbe, Quantity, largest_child_rss_mib, q, time_interleaved, \
    time_once, timing_entry

IMAGE_SIZE = 32
PRECISIONS = ("fp32", "fp16-amp", "bf16")


def baseline_config(batch_size: int = 256) -> RunConfig:
    """Part A's baseline run (params/cae.yaml): CAE latent 128, one 10x10 square, Adam 1e-3, MSE."""
    return RunConfig(
        data=DataConfig(dataset="synthetic"),
        model=CAEConfig(latent_channels=128),
        optimizer=OptimizerConfig(name="adam", lr=1e-3),
        mask=MaskConfig(size=10, count=1),
        loss=LossConfig(mse=1.0),
        epochs=200,
        batch_size=batch_size,
        seed=0,
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


def trainer_precision(cfg: RunConfig, device: torch.device) -> str:
    """What `Trainer` uses: fp16 autocast + GradScaler on CUDA when cfg.amp, else fp32."""
    return "fp16-amp" if cfg.amp and device.type == "cuda" else "fp32"


def optimizer_for(params: Any, cfg: RunConfig, adam: str) -> torch.optim.Optimizer:
    """adam: "library" (make_optimizer's default Adam), "foreach" or "fused" Adam."""
    if adam == "library":
        return make_optimizer(params, cfg.optimizer)
    kwargs = {"fused": True} if adam == "fused" else {"foreach": True}
    return torch.optim.Adam(params, lr=cfg.optimizer.lr, weight_decay=cfg.optimizer.weight_decay,
                            **kwargs)


class CAEStep:
    """One optimiser step on a ready batch, exactly as `Trainer.train_epoch` takes it."""

    def __init__(self, cfg: RunConfig, device: torch.device, precision: str = "fp32",
                 compile_mode: str | None = None, adam: str = "library") -> None:
        torch.manual_seed(cfg.seed)
        self.device, self.precision = device, precision
        self.memory_format = torch.channels_last if cfg.channels_last else torch.contiguous_format
        self.model = CAE(cfg.model.latent_channels).to(device).to(memory_format=self.memory_format)
        self.optimizer = optimizer_for(self.model.parameters(), cfg, adam)
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
    fmt = torch.channels_last if cfg.channels_last else torch.contiguous_format
    target = to_model_scale(images.to(device), signed=True).contiguous(memory_format=fmt)
    masks = random_squares(len(images), IMAGE_SIZE, IMAGE_SIZE, cfg.mask, make_generator(0, device))
    return apply_masks(target, masks, -1.0), target


# ------------------------------------------------------------ conventional
class PILInpaintingDataset(Dataset):
    """The textbook way: PIL image -> ToTensor -> Normalize, one square per image in Python."""

    def __init__(self, images: list[Image.Image], square: int = 10) -> None:
        self.images, self.square = images, square
        self.transform = transforms.Compose([
            transforms.ToTensor(), transforms.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))])

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int) -> tuple[Tensor, Tensor]:
        target = self.transform(self.images[i])  # (3, H, W) in [-1, 1]
        _, h, w = target.shape
        top = random.randint(0, h - self.square)
        left = random.randint(0, w - self.square)
        masked = target.clone()
        masked[:, top:top + self.square, left:left + self.square] = -1.0
        return masked, target


def to_pil(images: Tensor) -> list[Image.Image]:
    """images: (N, 3, H, W) uint8 -> N RGB PIL images (in memory: no disk I/O is timed)."""
    return [Image.fromarray(img) for img in images.permute(0, 2, 3, 1).contiguous().numpy()]


def conventional_loader(images: list[Image.Image], batch_size: int, workers: int,
                        pin_memory: bool) -> DataLoader:
    return DataLoader(PILInpaintingDataset(images), batch_size=batch_size, shuffle=True,
                      num_workers=workers, pin_memory=pin_memory)


# --------------------------------------------------------------- the case
@dataclass(frozen=True)
class CAESizes:
    n_train: int
    n_val: int
    repeats: int
    variant_repeats: int = 3  # for the variants (b with one change, a with one change)
    workers: int = 2
    batch_size: int = 256


def run(sizes: CAESizes, device: torch.device, memory: MemoryProbe,
        extra_precisions: list[str], try_compile: bool, try_adam: bool) -> dict[str, Any]:
    """Measure (a), (b), (c) and the pieces around them; returns the `cae` results section."""
    cfg = baseline_config(sizes.batch_size)
    splits = make_splits(sizes.n_train, sizes.n_val)
    n, bs = sizes.n_train, sizes.batch_size
    steps = -(-n // bs)
    precision = trainer_precision(cfg, device)
    out: dict[str, Any] = {
        "config": {"model": "CAE latent 128", "mask": "one 10x10 square", "optimizer": "Adam lr 1e-3",
                   "loss": "MSE", "batch_size": q(bs, "img"), "train_images": q(n, "img"),
                   "image_size": q(IMAGE_SIZE, "px"), "precision": precision,
                   "channels_last": cfg.channels_last,
                   "data": "synthetic_images (uint8), same images for (a), (b), (c)"},
    }

    # (a) the library's pipeline, end to end: one call = one epoch of Trainer.train_epoch.
    with memory.probe("cae_a_pipeline"):
        trainer = Trainer(cfg, splits, device)
        trainer.train_epoch(1)  # warm-up
    epoch = iter(range(2, 10**9))

    # (b) the bare step on one pre-made batch, `steps` times per call.
    with memory.probe("cae_b_bare_step"):
        step = CAEStep(cfg, device, precision)
        masked, target = premade_batch(splits.train[:bs], cfg, device)  # (bs, 3, 32, 32) float
        for _ in range(3):
            step(masked, target)

    def bare_epoch() -> None:
        for _ in range(steps):
            step(masked, target)

    # (c) conventional DataLoader into the same kind of step.
    pil = to_pil(splits.train)
    pin = device.type == "cuda"
    with memory.probe("cae_c_conventional"):
        loader = conventional_loader(pil, bs, sizes.workers, pin)
        conv_step = CAEStep(cfg, device, precision)

        def conventional_epoch() -> None:
            for m, t in loader:  # each (bs, 3, 32, 32) float in [-1, 1]
                conv_step(m.to(device, non_blocking=pin).contiguous(memory_format=step.memory_format),
                          t.to(device, non_blocking=pin).contiguous(memory_format=step.memory_format))

        conventional_epoch()  # warm-up
    memory.results["cae_c_conventional"]["largest_worker_rss"] = q(largest_child_rss_mib(), "MiB")

    times = time_interleaved({
        "a": lambda: trainer.train_epoch(next(epoch)),
        "b": bare_epoch,
        "c": conventional_epoch,
    }, device, sizes.repeats)
    out["a_pipeline_trainer"] = timing_entry(times["a"], n)
    out["b_bare_step"] = timing_entry(times["b"], steps * bs)
    out["c_conventional_dataloader"] = timing_entry(times["c"], n)
    out["c_conventional_dataloader"]["workers"] = q(sizes.workers, "processes")

    # Where the time goes: each data path alone, without the model.
    out["data_path_only"] = {
        "ours": timing_entry(_time_our_data_path(trainer, cfg, device, sizes), n),
        "conventional": timing_entry(
            [time_once(lambda: [None for _ in loader], device) for _ in range(sizes.repeats)], n),
    }
    # Held-out pass as Trainer.fit runs it every epoch (batch 500, forward only).
    out["held_out_pass"] = timing_entry(
        [time_once(lambda: trainer.held_out_loss(1), device) for _ in range(sizes.repeats)],
        len(splits.val))

    out["variants"] = _variants(cfg, device, masked, target, steps, bs, sizes.variant_repeats, precision,
                                extra_precisions, try_compile, try_adam, out["b_bare_step"])
    if try_adam:
        out["pipeline_variants"] = _pipeline_variants(cfg, splits, device, sizes, out)
    return out


def epoch_masks_train_epoch(trainer: Trainer, epoch: int) -> float:
    """`Trainer.train_epoch` with one change: the epoch's masks are drawn in one call.

    Per step that removes ~15 small kernel launches (random_squares), which matter
    when the step itself is launch-bound (the CAE on a GPU). Same masks distribution;
    a different random stream than today's per-step draws.
    """
    cfg, model, device = trainer.cfg, trainer.model, trainer.device
    weights = cfg.loss.weights_at(epoch)
    model.train()
    n, (h, w) = len(trainer.train_images), trainer.train_images.shape[-2:]
    order = torch.randperm(n, generator=trainer.generator, device=device)
    masks = random_squares(n, h, w, cfg.mask, trainer.generator)  # (N, 1, H, W) for the epoch
    total = torch.zeros((), device=device)
    steps = 0
    for start in range(0, n, cfg.batch_size):
        sl = slice(start, start + cfg.batch_size)
        masked, target = trainer._prepare(trainer.train_images[order[sl]], masks[sl])
        with torch.autocast(device.type, dtype=torch.float16, enabled=trainer.use_amp):
            loss, _ = trainer.loss_fn(model(masked), target, weights)
        trainer.optimizer.zero_grad(set_to_none=True)
        trainer.scaler.scale(loss).backward()
        trainer.scaler.step(trainer.optimizer)
        trainer.scaler.update()
        total += loss.detach()
        steps += 1
    return (total / max(steps, 1)).item()


def _pipeline_variants(cfg: RunConfig, splits: Splits, device: torch.device, sizes: CAESizes,
                       out: dict[str, Any]) -> dict[str, Any]:
    """(a) with suggested changes applied from outside the library, vs the matching bare step.

    - fused Adam (a one-line `make_optimizer` change): the Trainer's optimiser replaced by
      ``Adam(fused=True)`` (same lr / weight decay, fresh moments) before timing;
    - epoch masks: `epoch_masks_train_epoch` instead of `Trainer.train_epoch`;
    - amp off (CUDA only; a params change, ``amp: false`` for Part A): Trainer in fp32.
    """
    base = trainer_precision(cfg, device)
    cuda = device.type == "cuda"
    best = "fp32" if cuda else base  # the fastest precision measured on CUDA for this small CNN
    # (name, amp, fused Adam, epoch masks, matching bare-step variant)
    cases: list[tuple[str, bool, bool, bool, str | None]] = [
        (f"trainer_{base}+adam-fused", cfg.amp, True, False, f"{base}+adam-fused"),
        (f"trainer_{base}+epoch-masks", cfg.amp, False, True, None),
    ]
    if cuda:
        cases.append(("trainer_fp32", False, False, False, "fp32"))
    cases.append((f"trainer_{best}+adam-fused+epoch-masks", cfg.amp and not cuda, True, True,
                  f"{best}+adam-fused"))
    bare = dict(out["variants"])
    bare[base] = out["b_bare_step"]
    results: dict[str, Any] = {}
    for name, amp, fused, epoch_masks, bare_name in cases:
        run_cfg = cfg.model_copy(update={"amp": amp})
        trainer = Trainer(run_cfg, splits, device)
        if fused:
            trainer.optimizer = optimizer_for(trainer.model.parameters(), run_cfg, "fused")
        train = (lambda e, t=trainer: epoch_masks_train_epoch(t, e)) if epoch_masks else trainer.train_epoch
        train(1)
        seconds = [time_once(lambda: train(2), device) for _ in range(sizes.variant_repeats)]
        entry: dict[str, Any] = timing_entry(seconds, sizes.n_train)
        bare_name = bare_name or base
        match = bare.get(bare_name)
        if bare_name == "fp32+adam-fused" and match is None:
            match = bare[bare_name] = _bare_fp32_fused(cfg, device, splits, sizes)
        if match is not None and "error" not in match:
            entry["bare_step_match"] = bare_name
            entry["over_matching_bare_step"] = q(
                entry["throughput"]["value"] / match["throughput"]["value"], "x (a/b, same settings)")
        entry["over_a"] = q(entry["throughput"]["value"] / out["a_pipeline_trainer"]["throughput"]["value"],
                            "x (speed-up of the pipeline)")
        results[name] = entry
    return results


def _bare_fp32_fused(cfg: RunConfig, device: torch.device, splits: Splits,
                     sizes: CAESizes) -> dict[str, Any]:
    """Bare step in fp32 with fused Adam (the limit for trainer_fp32+adam-fused)."""
    step = CAEStep(cfg, device, "fp32", adam="fused")
    masked, target = premade_batch(splits.train[:sizes.batch_size], cfg, device)
    steps = -(-sizes.n_train // sizes.batch_size)
    for _ in range(3):
        step(masked, target)

    def epoch() -> None:
        for _ in range(steps):
            step(masked, target)

    return timing_entry([time_once(epoch, device) for _ in range(sizes.variant_repeats)],
                        steps * sizes.batch_size)


def _time_our_data_path(trainer: Trainer, cfg: RunConfig, device: torch.device,
                        sizes: CAESizes) -> list[float]:
    """The per-batch work of Trainer.train_epoch minus the model: index, masks, scale, mask."""
    images, g = trainer.train_images, trainer.generator  # (N, 3, 32, 32) uint8 on the device
    n, bs = len(images), sizes.batch_size

    def epoch() -> None:
        order = torch.randperm(n, generator=g, device=device)
        for start in range(0, n, bs):
            idx = order[start:start + bs]
            masks = random_squares(len(idx), IMAGE_SIZE, IMAGE_SIZE, cfg.mask, g)
            target = to_model_scale(images[idx], True).contiguous(memory_format=torch.channels_last)
            apply_masks(target, masks, -1.0)

    epoch()
    return [time_once(epoch, device) for _ in range(sizes.repeats)]


def _variants(cfg: RunConfig, device: torch.device, masked: Tensor, target: Tensor, steps: int,
              bs: int, repeats: int, base: str, extra_precisions: list[str], try_compile: bool,
              try_adam: bool, base_entry: dict[str, Quantity]) -> dict[str, Any]:
    """The bare step (b) with one thing changed, as speed-ups over (b).

    Each variant: (name, precision, torch.compile mode or None, Adam implementation).
    """
    variants: list[tuple[str, str, str | None, str]] = [
        (p, p, None, "library") for p in extra_precisions if p != base]
    if try_adam:
        variants += [(f"{base}+adam-foreach", base, None, "foreach"),
                     (f"{base}+adam-fused", base, None, "fused")]
    if try_compile:
        variants.append((f"{base}+compile", base, "default", "library"))
        if device.type == "cuda":  # CUDA graphs: the CAE step is launch-bound on a GPU
            variants.append((f"{base}+compile-cudagraphs", base, "reduce-overhead", "library"))
    out: dict[str, Any] = {}
    for name, precision, comp, adam in variants:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                step = CAEStep(cfg, device, precision, compile_mode=comp, adam=adam)
                first = time_once(lambda: step(masked, target), device)  # includes compilation
                for _ in range(2):
                    step(masked, target)

                def epoch() -> None:
                    for _ in range(steps):
                        step(masked, target)

                seconds = [time_once(epoch, device) for _ in range(repeats)]
        except Exception as e:  # a backend may be missing (no compiler, no bf16 kernels)
            out[name] = {"error": f"{type(e).__name__}: {str(e)[:200]}"}
            continue
        entry: dict[str, Any] = timing_entry(seconds, steps * bs)
        entry["first_call"] = q(first, "s")
        entry["speedup_vs_b"] = q(entry["throughput"]["value"] / base_entry["throughput"]["value"], "x")
        out[name] = entry
    return out
