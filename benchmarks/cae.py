"""Part A: CAE training throughput, three ways, on the same synthetic uint8 images.

(a) pipeline: `Trainer.train_epoch` on a `Splits` held on the device as uint8
    (index a batch, draw masks with `random_squares`, scale, mask, step);
(b) bare step: forward + MSE + backward + Adam on one pre-made (masked, target)
    float batch, repeated; nothing else runs, so this is the practical limit;
(c) conventional: a `Dataset` over in-memory PIL images with ToTensor/Normalize
    and one 10x10 square drawn per image with `random.randint` in `__getitem__`,
    fed by `DataLoader(batch_size, shuffle=True, num_workers=2, persistent_workers=True)`
    to the same step as (b) (persistent workers: start-up not charged to short epochs).
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


def optimizer_for(params: Any, cfg: RunConfig, adam: str,
                  device: torch.device = torch.device("cpu")) -> torch.optim.Optimizer:
    """adam: "library" (make_optimizer's choice for `device`), "foreach" or "fused" Adam."""
    if adam == "library":
        return make_optimizer(params, cfg.optimizer, device)
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
        self.optimizer = optimizer_for(self.model.parameters(), cfg, adam, device)
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
    """persistent_workers: worker start-up is not charged to every (short) benchmark epoch."""
    return DataLoader(PILInpaintingDataset(images), batch_size=batch_size, shuffle=True,
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


@dataclass(frozen=True)
class BareVariant:
    """(b) with one thing changed: precision, torch.compile mode, Adam implementation."""

    name: str
    precision: str
    compile_mode: str | None = None
    adam: str = "library"


@dataclass(frozen=True)
class PipelineVariant:
    """(a) with suggested changes applied from outside the library.

    amp: RunConfig.amp (a params change); fused_adam: `make_optimizer` returning
    Adam(fused=True); epoch_masks: `epoch_masks_train_epoch`. `bare` names the
    bare-step variant with the same settings (its practical limit).
    """

    name: str
    amp: bool
    fused_adam: bool
    epoch_masks: bool
    bare: str


def variants_for(cfg: RunConfig, device: torch.device, extra_precisions: list[str],
                 try_compile: bool, try_changes: bool) -> tuple[list[BareVariant],
                                                                list[PipelineVariant]]:
    """Which (b) and (a) variants to time on this device."""
    base = trainer_precision(cfg, device)
    cuda = device.type == "cuda"
    bare = [BareVariant(p, p) for p in extra_precisions if p != base]
    pipes: list[PipelineVariant] = []
    if try_changes:
        if not cuda:  # CUDA's default Adam is already foreach; CPU's is a per-tensor loop
            bare.append(BareVariant(f"{base}+adam-foreach", base, adam="foreach"))
        bare.append(BareVariant(f"{base}+adam-fused", base, adam="fused"))
        pipes += [PipelineVariant(f"trainer_{base}+adam-fused", cfg.amp, True, False,
                                  f"{base}+adam-fused"),
                  PipelineVariant(f"trainer_{base}+epoch-masks", cfg.amp, False, True, base)]
        if cuda:  # AMP is slower than fp32 for this small CNN on a GPU: try without, and all
            bare.append(BareVariant("fp32+adam-fused", "fp32", adam="fused"))
            if "fp32" not in extra_precisions:
                bare.append(BareVariant("fp32", "fp32"))
            pipes += [PipelineVariant("trainer_fp32", False, False, False, "fp32"),
                      PipelineVariant("trainer_fp32+adam-fused+epoch-masks", False, True, True,
                                      "fp32+adam-fused")]
    if try_compile:
        bare.append(BareVariant(f"{base}+compile", base, "default"))
        if cuda:  # CUDA graphs: the CAE step is launch-bound on a GPU
            bare.append(BareVariant(f"{base}+compile-cudagraphs", base, "reduce-overhead"))
    return bare, pipes


def run(sizes: CAESizes, device: torch.device, memory: MemoryProbe,
        extra_precisions: list[str], try_compile: bool, try_changes: bool) -> dict[str, Any]:
    """Measure (a), (b), (c), their variants and the pieces around them.

    Every training case is warmed up first (inside its memory probe), then all are
    timed round-robin in one loop, so ratios between any two are measured under the
    same machine load. Returns the `cae` results section.
    """
    cfg = baseline_config(sizes.batch_size)
    splits = make_splits(sizes.n_train, sizes.n_val)
    n, bs = sizes.n_train, sizes.batch_size
    steps = -(-n // bs)
    precision = trainer_precision(cfg, device)
    bare_variants, pipe_variants = variants_for(cfg, device, extra_precisions, try_compile,
                                                try_changes)
    out: dict[str, Any] = {
        "config": {"model": "CAE latent 128", "mask": "one 10x10 square",
                   "optimizer": "Adam lr 1e-3", "loss": "MSE", "batch_size": q(bs, "img"),
                   "train_images": q(n, "img"), "image_size": q(IMAGE_SIZE, "px"),
                   "precision": precision, "channels_last": cfg.channels_last,
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

    # (c) conventional DataLoader into the same kind of step.
    pil = to_pil(splits.train)
    pin = device.type == "cuda"
    with memory.probe("cae_c_conventional"):
        loader = conventional_loader(pil, bs, sizes.workers, pin)
        conv_step = CAEStep(cfg, device, precision)
        cases["c"] = partial(_conventional_epoch, loader, conv_step, device, pin)
        cases["c"]()  # warm-up (starts the workers)
    workers = _worker_peaks_mib(loader)
    if workers:
        memory.results["cae_c_conventional"]["workers_peak_rss_total"] = q(
            sum(workers), f"MiB (VmHWM summed over {len(workers)} worker processes)")

    firsts: dict[str, float] = {}
    for v in bare_variants:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                vstep = CAEStep(cfg, device, v.precision, v.compile_mode, v.adam)
                firsts[v.name] = time_once(partial(vstep, masked, target), device)  # + compile
                for _ in range(2):
                    vstep(masked, target)
            cases[f"b:{v.name}"] = partial(_repeat_step, vstep, masked, target, steps)
        except Exception as e:  # noqa: BLE001 - a backend may be missing (compiler, kernels)
            error = f"{type(e).__name__}: {str(e)[:200]}"
            out.setdefault("variants", {})[v.name] = {"error": error}
    for v in pipe_variants:
        cases[f"a:{v.name}"] = _pipeline_case(cfg, splits, device, v)

    times = time_interleaved(cases, device, sizes.repeats)
    out["a_pipeline_trainer"] = timing_entry(times["a"], n)
    out["b_bare_step"] = timing_entry(times["b"], steps * bs)
    out["c_conventional_dataloader"] = timing_entry(times["c"], n)
    out["c_conventional_dataloader"]["workers"] = q(sizes.workers, "processes (persistent)")

    variants = out.setdefault("variants", {})
    for v in bare_variants:
        if f"b:{v.name}" not in times:
            continue
        entry: dict[str, Any] = timing_entry(times[f"b:{v.name}"], steps * bs)
        entry["first_call"] = q(firsts[v.name], "s (includes compilation, if any)")
        entry["speedup_vs_b"] = q(_tp(entry) / _tp(out["b_bare_step"]), "x")
        variants[v.name] = entry
    pipes = out.setdefault("pipeline_variants", {}) if pipe_variants else {}
    bare_by_name = {**variants, precision: out["b_bare_step"]}
    for v in pipe_variants:
        entry = timing_entry(times[f"a:{v.name}"], n)
        entry["over_a"] = q(_tp(entry) / _tp(out["a_pipeline_trainer"]), "x (pipeline speed-up)")
        match = bare_by_name.get(v.bare)
        if match is not None and "error" not in match:
            entry["bare_step_match"] = v.bare
            entry["over_matching_bare_step"] = q(_tp(entry) / _tp(match), "x (a/b, same settings)")
        pipes[v.name] = entry

    # Where the time goes: each data path alone, without the model (also round-robin).
    data = time_interleaved({"ours": _our_data_path(trainer, cfg, device, bs),
                             "conventional": partial(_drain, loader)}, device, sizes.repeats)
    out["data_path_only"] = {k: timing_entry(v, n) for k, v in data.items()}
    # Held-out pass as Trainer.fit runs it every epoch (batch 500, forward only).
    held = [time_once(partial(trainer.held_out_loss, 1), device) for _ in range(sizes.repeats)]
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


def _pipeline_case(cfg: RunConfig, splits: Splits, device: torch.device,
                   v: PipelineVariant) -> Callable[[], float]:
    """A warmed-up Trainer with variant `v` applied; calling it trains one epoch."""
    run_cfg = cfg.model_copy(update={"amp": v.amp})
    trainer = Trainer(run_cfg, splits, device)
    if v.fused_adam:  # what make_optimizer would return with fused=True (fresh moments)
        trainer.optimizer = optimizer_for(trainer.model.parameters(), run_cfg, "fused")
    train: Callable[[int], float] = (
        partial(epoch_masks_train_epoch, trainer) if v.epoch_masks else trainer.train_epoch)
    train(1)
    return partial(train, 2)


def epoch_masks_train_epoch(trainer: Trainer, epoch: int) -> float:
    """`Trainer.train_epoch` with one change: the epoch's masks are drawn in one call.

    Per step that removes ~15 small kernel launches (random_squares), which matter
    when the step itself is launch-bound (the CAE on a GPU). Same mask distribution;
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


def _our_data_path(trainer: Trainer, cfg: RunConfig, device: torch.device,
                   bs: int) -> Callable[[], None]:
    """The per-batch work of Trainer.train_epoch minus the model: index, masks, scale, mask."""
    images, g = trainer.train_images, trainer.generator  # (N, 3, 32, 32) uint8 on the device
    n = len(images)

    def epoch() -> None:
        order = torch.randperm(n, generator=g, device=device)
        for start in range(0, n, bs):
            idx = order[start:start + bs]
            masks = random_squares(len(idx), IMAGE_SIZE, IMAGE_SIZE, cfg.mask, g)
            target = to_model_scale(images[idx], True).contiguous(memory_format=torch.channels_last)
            apply_masks(target, masks, -1.0)

    epoch()  # warm-up
    return epoch
