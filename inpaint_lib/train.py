"""One training loop for both networks, readable top to bottom.

Data live on the device as uint8 tensors; each step indexes a batch, converts it
to the model's scale, draws masks on the device and takes one optimiser step.
Per epoch it records train and held-out loss; every `checkpoint_every` epochs it
writes a resumable checkpoint (model, optimiser, scheduler, scaler, RNG states,
history) atomically, so an interrupted run resumes and ends bit-identical on CPU.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from .data import Splits
from .device import autocast_dtype, signed_scale, to_model_scale
from .io import atomic_torch_save
from .losses import InpaintingLoss
from .masks import HELD_OUT_SEED_OFFSET, apply_masks, fixed_masks, make_generator, random_masks
from .metrics import hole_psnr
from .models import build_model
from .schema import LossWeights, OptimizerConfig, RunConfig
from .weighting import build_weighting


class TrainingDiverged(RuntimeError):
    """The loss became NaN/Inf; the last good checkpoint is kept."""


def make_optimizer(params: Any, cfg: OptimizerConfig, device: torch.device) -> torch.optim.Optimizer:
    """The study's optimisers; Adam/AdamW use the fused CUDA kernel on a GPU (bench: +8-13%)."""
    fused = True if device.type == "cuda" else None
    if cfg.name == "adam":
        return torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay, fused=fused)
    if cfg.name == "adamw":
        return torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay or 0.01, fused=fused)
    if cfg.name == "rmsprop":
        return torch.optim.RMSprop(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    return torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)


def set_lr(optimizer: torch.optim.Optimizer, lr: float) -> None:
    for group in optimizer.param_groups:
        group["lr"] = lr


def cosine_lr(cfg: RunConfig, steps_per_epoch: int, epoch: int, step: int) -> float:
    """The cosine rule's lr (`cfg.cosine`) at `step` (0-based) of global `epoch`."""
    c, (first, last) = cfg.cosine, cfg.epoch_range
    total = steps_per_epoch * (last - first + 1)
    t = steps_per_epoch * (epoch - first) + step
    warm = c.warmup * total
    if t < warm:
        return cfg.optimizer.lr * (t + 1) / warm
    progress = (t - warm) / max(total - warm, 1)
    return cfg.optimizer.lr * (c.final + (1 - c.final) * 0.5 * (1 + math.cos(math.pi * progress)))


def plateau_scheduler(cfg: RunConfig, optimizer: torch.optim.Optimizer
                      ) -> torch.optim.lr_scheduler.ReduceLROnPlateau | None:
    """ReduceLROnPlateau on the held-out loss where `cfg.plateau` asks for it, else None."""
    if cfg.plateau is None:
        return None
    p = cfg.plateau
    return torch.optim.lr_scheduler.ReduceLROnPlateau(
        optimizer, factor=p.factor, patience=p.patience, min_lr=p.min_lr)


def held_out_set(splits: Splits, cfg: RunConfig) -> tuple[str, Tensor, Tensor]:
    """(name, images (N, 3, H, W) uint8, masks (N, 1, H, W) bool) of the held-out loss: the
    validation split ("val"), else the test split ("test"), under masks fixed per run. The
    masks are drawn on the CPU: the same on every device, so the classical methods can be
    scored on exactly these (`scoring.held_out_classical`)."""
    held_out = splits.val if len(splits.val) else splits.test
    name = "val" if len(splits.val) else "test"
    masks = fixed_masks(len(held_out), held_out.shape[-2], held_out.shape[-1], cfg.mask,
                        cfg.seed + HELD_OUT_SEED_OFFSET)
    return name, held_out, masks


def compiled(model: nn.Module, loss_fn: InpaintingLoss) -> Callable[[Tensor, Tensor], Tensor]:
    """torch.compile the network (returned: it shares the model's parameters, so checkpoints
    keep using the model) and, in place, the VGG of the perceptual loss."""
    forward = torch.compile(model)
    if loss_fn.perceptual is not None:
        loss_fn.perceptual.features = torch.compile(loss_fn.perceptual.features)
    return forward


# ---------------------------------------------------------------- checkpoints
def checkpoint_state(t: Trainer) -> dict[str, Any]:
    """Everything an interrupted run needs to resume bit-identically: model, weighting,
    optimiser, scheduler, scaler, epoch, history and the RNG states."""
    return {
        "model": t.model.state_dict(),
        "weighting": t.weighting.state_dict(),
        "optimizer": t.optimizer.state_dict(),
        "scheduler": t.scheduler.state_dict() if t.scheduler else None,
        "scaler": t.scaler.state_dict(),
        "epoch": t.epoch,
        "history": t.history,
        "generator": t.generator.get_state(),
        "cpu_rng": torch.get_rng_state(),
        "cuda_rng": torch.cuda.get_rng_state() if t.device.type == "cuda" else None,
    }


def restore_checkpoint(t: Trainer, state: dict[str, Any]) -> None:
    """Put a `checkpoint_state` (as `torch.load` reads it back) into trainer `t`."""
    t.model.load_state_dict(state["model"])
    t.weighting.load_state_dict(state["weighting"])
    t.optimizer.load_state_dict(state["optimizer"])
    if t.scheduler is not None and state["scheduler"] is not None:
        t.scheduler.load_state_dict(state["scheduler"])
    t.scaler.load_state_dict(state["scaler"])
    t.epoch = state["epoch"]
    t.history = state["history"]
    t.generator.set_state(state["generator"])
    torch.set_rng_state(state["cpu_rng"])
    if state["cuda_rng"] is not None and t.device.type == "cuda":
        torch.cuda.set_rng_state(state["cuda_rng"])


# -------------------------------------------------------------------- trainer
class Trainer:
    """Holds everything one run needs; `fit()` trains the remaining epochs."""

    def __init__(self, cfg: RunConfig, splits: Splits, device: torch.device,
                 init: dict[str, Any] | None = None) -> None:
        self.cfg, self.device = cfg, device
        self.signed = signed_scale(cfg)
        self.fill = -1.0 if self.signed else 0.0
        torch.manual_seed(cfg.seed)
        self.model = build_model(cfg.model, splits.image_size).to(device)
        self.memory_format = torch.channels_last if cfg.channels_last else torch.contiguous_format
        self.model = self.model.to(memory_format=self.memory_format)
        self.optimizer = make_optimizer(self.model.parameters(), cfg.optimizer, device)
        if init is not None:  # continue from the previous phase: weights and optimiser moments
            self.model.load_state_dict(init["model"])
            if "optimizer" in init:
                self.optimizer.load_state_dict(init["optimizer"])
        self.weighting = build_weighting(cfg.loss, self.model).to(device)
        learnt = list(self.weighting.parameters())  # uncertainty's log-variances
        if learnt:
            self.optimizer.add_param_group({"params": learnt, "weight_decay": 0.0})
        set_lr(self.optimizer, cfg.optimizer.lr)
        self.steps_per_epoch = math.ceil(len(splits.train) / cfg.batch_size)
        self.scheduler = plateau_scheduler(cfg, self.optimizer)
        self.autocast_dtype = autocast_dtype(cfg, device)  # None = fp32
        self.use_amp = self.autocast_dtype is not None
        # fp16 needs loss scaling; bf16 has fp32's exponent range and does not
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.autocast_dtype == torch.float16)
        vgg = cfg.loss.perceptual_weights if cfg.loss.uses_perceptual else None
        self.loss_fn = InpaintingLoss(vgg, cfg.loss.region, cfg.loss.known_weight, self.signed,
                                      cfg.loss.perceptual_images).to(device)
        self.forward: Callable[[Tensor, Tensor], Tensor] = (
            compiled(self.model, self.loss_fn) if cfg.compile else self.model)
        self.generator = make_generator(cfg.seed, device)
        self.train_images = splits.train.to(device)
        self.held_out_name, held_out, held_out_masks = held_out_set(splits, cfg)
        self.held_out_images = held_out.to(device)
        self.held_out_masks = held_out_masks.to(device)
        self.epoch = cfg.epoch_range[0] - 1  # last completed global epoch
        self.history: list[dict[str, float]] = []

    # --------------------------------------------------------------- one step
    def prepare(self, images: Tensor, masks: Tensor) -> tuple[Tensor, Tensor]:
        """images: (N, 3, H, W) uint8, masks: (N, 1, H, W) bool -> (masked input, target),
        both (N, 3, H, W) on the model's scale, holes black."""
        target = to_model_scale(images, self.signed, self.memory_format)
        return apply_masks(target, masks, self.fill), target

    def train_epoch(self, epoch: int) -> tuple[float, dict[str, float]]:
        """One epoch; returns the mean total loss and the mean of each unweighted term."""
        cfg, model = self.cfg, self.model
        mask_cfg = cfg.mask_at(epoch)
        weights = LossWeights(**self.weighting.weights(epoch))  # which terms to compute
        model.train()
        n, (h, w) = len(self.train_images), self.train_images.shape[-2:]
        order = torch.randperm(n, generator=self.generator, device=self.device)
        # One call draws the whole epoch's masks (fewer kernel launches); ranges drawn
        # per batch (phase 7) are drawn at each step instead.
        per_batch = mask_cfg.draw == "per_batch"
        epoch_masks = None if per_batch else random_masks(n, h, w, mask_cfg, self.generator)
        total = torch.zeros((), device=self.device)
        term_sums: dict[str, Tensor] = {}
        steps = 0
        for start in range(0, n, cfg.batch_size):
            if cfg.cosine is not None:
                set_lr(self.optimizer, cosine_lr(cfg, self.steps_per_epoch, epoch, steps))
            idx = order[start:start + cfg.batch_size]
            masks = (random_masks(len(idx), h, w, mask_cfg, self.generator) if per_batch
                     else epoch_masks[start:start + cfg.batch_size])
            masked, target = self.prepare(self.train_images[idx], masks)
            with torch.autocast(self.device.type, dtype=self.autocast_dtype, enabled=self.use_amp):
                pred = self.forward(masked, masks)
                terms = self.loss_fn.terms(pred, target, masks, weights)
            self.optimizer.zero_grad(set_to_none=True)
            scale = self.scaler.get_scale() if self.scaler.is_enabled() else 1.0
            loss = self.weighting.backward(terms, pred, epoch, scale)
            for name, value in terms.items():
                term_sums[name] = term_sums.get(name, 0.0) + value.detach().float()
            if cfg.grad_clip is not None:
                self.scaler.unscale_(self.optimizer)
                nn.utils.clip_grad_norm_(model.parameters(), max_norm=cfg.grad_clip)
            self.scaler.step(self.optimizer)
            self.scaler.update()
            total += loss.detach().float()
            steps += 1
        means = {name: (value / max(steps, 1)).item() for name, value in term_sums.items()}
        self.weighting.end_epoch(means)
        return (total / max(steps, 1)).item(), means

    @torch.no_grad()
    def held_out(self, epoch: int, batch: int = 500) -> tuple[float, float]:
        """(loss, mean per-image hole PSNR of the composited output) on the held-out split
        under its fixed masks; PSNR on the model's scale (peak-to-peak 2 for [-1, 1])."""
        weights = LossWeights(**self.weighting.weights(epoch))
        self.model.eval()
        total, psnr, n = 0.0, 0.0, len(self.held_out_images)
        peak = 2.0 if self.signed else 1.0
        for start in range(0, n, batch):
            sl = slice(start, start + batch)
            holes = self.held_out_masks[sl]
            masked, target = self.prepare(self.held_out_images[sl], holes)
            with torch.autocast(self.device.type, dtype=self.autocast_dtype, enabled=self.use_amp):
                pred = self.forward(masked, holes)
                loss, _ = self.loss_fn(pred, target, weights, holes)
            total += loss.float().item() * len(target)
            psnr += hole_psnr(pred, target, holes, peak).sum().item()
        return total / max(n, 1), psnr / max(n, 1)

    # ------------------------------------------------------------------- fit
    def fit(self, checkpoint: Path, every: int = 1, stop_after: int | None = None,
            log: Callable[[str], None] = print) -> list[dict[str, float]]:
        """Train from `self.epoch + 1` to the last epoch, checkpointing to `checkpoint`.

        `stop_after` (tests) stops after that many epochs, as an interruption would.
        """
        first, last = self.cfg.epoch_range
        done_now = 0
        while self.epoch < last:
            epoch = self.epoch + 1
            if epoch in self.cfg.lr_changes:
                set_lr(self.optimizer, self.cfg.lr_changes[epoch])
            t0 = time.perf_counter()
            weights = self.weighting.weights(epoch)  # in force during this epoch
            train_loss, terms = self.train_epoch(epoch)
            if not math.isfinite(train_loss):
                raise TrainingDiverged(
                    f"epoch {epoch}: training loss is {train_loss}; stopped, last good "
                    f"checkpoint (epoch {self.epoch}) kept at {checkpoint}")
            held_out, held_out_psnr = self.held_out(epoch)
            if self.scheduler is not None:
                self.scheduler.step(held_out)
            self.history.append({
                "epoch": epoch, "train_loss": train_loss, f"{self.held_out_name}_loss": held_out,
                f"{self.held_out_name}_hole_psnr": held_out_psnr,
                "lr": self.optimizer.param_groups[0]["lr"], "seconds": time.perf_counter() - t0,
                **{f"w_{t}": weights.get(t, 0.0) for t in ("mse", "mae", "perceptual")},
                **{f"loss_{t}": v for t, v in terms.items()},
            })
            self.epoch = epoch
            done_now += 1
            log(f"epoch {epoch}/{last}: train {train_loss:.5f}  {self.held_out_name} {held_out:.5f}"
                f"  ({self.history[-1]['seconds']:.1f}s)")
            if (epoch - first + 1) % every == 0 or epoch == last:
                atomic_torch_save(checkpoint_state(self), checkpoint)
            if stop_after is not None and done_now >= stop_after:
                break
        return self.history
