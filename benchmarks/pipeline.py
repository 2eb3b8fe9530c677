"""(a) the library's training pipeline vs (b) its bare step and (c) the conventional way, for
any `RunConfig`: how close the library's training loop gets to the model's own speed.

(a) pipeline: the real `Trainer` from the config, one timed call = one `train_epoch` on synthetic
    uint8 images of the config's side, resident on the device (per epoch: order and masks; per
    batch: index, scale, black out, step);
(b) bare step: the same model, loss, optimiser, scaler and precision, stepping on one batch made
    once by `trainer.prepare`, as many steps per call as (a): nothing else runs, so (b) is the
    limit of (a);
(c) conventional (Part A): a Dataset serving images as `torchvision.datasets.CIFAR10` does
    ((N, H, W, 3) uint8, `Image.fromarray` per item), ToTensor -> Normalize, one square per
    image from `random.randint` in `__getitem__`, fed by `DataLoader(shuffle=True, num_workers=2,
    persistent_workers=True)` (start-up not charged to every short epoch) to a plain fp32 NCHW
    step of the same model, optimiser and MSE loss; same images and steps as (a).
Also per variant the held-out pass, per case the data path alone ((a) without the model) and the
FLOPs of one step on one image (`FlopCounterMode`: forward + loss + backward, both VGG passes of
a perceptual loss; not the optimiser's update). Variants: the library's precision for the device,
fp32, and optionally compiled.
"""

from __future__ import annotations

import random
import warnings
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from PIL import Image
from torch import Tensor, nn
from torch.utils.data import DataLoader, Dataset
from torch.utils.flop_counter import FlopCounterMode, sdpa_backward_flop_count, sdpa_flop_count
from torchvision import transforms

from inpaint_lib.data import Splits, synthetic_images
from inpaint_lib.device import autocast_dtype
from inpaint_lib.masks import random_squares
from inpaint_lib.models import build_model
from inpaint_lib.resolve import deep_merge
from inpaint_lib.schema import LossWeights, RunConfig
from inpaint_lib.train import Trainer, make_optimizer

from .timing import MemoryProbe, q, status_kib, time_calls, timing_entry

PRECISIONS = {None: "fp32", torch.float16: "fp16-amp", torch.bfloat16: "bf16"}
DTYPES = {"fp32": torch.float32, "fp16-amp": torch.float16, "bf16": torch.bfloat16}
aten = torch.ops.aten
# The counter does not know the CPU's flash attention: count it with the standard SDPA formulas.
CPU_SDPA_FLOPS = {
    aten._scaled_dot_product_flash_attention_for_cpu:
        lambda q_, k, v, *_, **__: sdpa_flop_count(q_, k, v),
    aten._scaled_dot_product_flash_attention_for_cpu_backward:
        lambda g, q_, k, v, *_, **__: sdpa_backward_flop_count(g, q_, k, v),
}


def changed(cfg: RunConfig, **update: Any) -> RunConfig:
    """`cfg` with (nested) fields replaced and validated again: changed(cfg, batch_size=4)."""
    return RunConfig.model_validate(deep_merge(cfg.model_dump(), update))


def precision(cfg: RunConfig, device: torch.device) -> str:
    """How `Trainer` computes `cfg` on `device`: fp32, fp16-amp or bf16."""
    return PRECISIONS[autocast_dtype(cfg, device)]


def variants(cfg: RunConfig, device: torch.device, compiled: bool) -> dict[str, RunConfig]:
    """The library's precision first (as configured), fp32 beside it, compiled if asked."""
    base = precision(cfg, device)
    out = {base: cfg}
    out.setdefault("fp32", changed(cfg, amp=False, cpu_precision="fp32"))
    if compiled:
        out[f"{base}+compile"] = changed(cfg, compile=True)
    return out


def matmul_flop_per_s(label: str, size: int, device: torch.device, repeats: int) -> dict[str, Any]:
    """The FLOP/s reference: (size x size) @ (size x size) in `label`'s dtype, 2 size^3 FLOPs."""
    a, b = (torch.randn(size, size, device=device).to(DTYPES[label]) for _ in range(2))
    for _ in range(2):
        a @ b  # warm-up
    entry: dict[str, Any] = timing_entry(time_calls({"mm": lambda: a @ b}, device, repeats)["mm"],
                                         1, "matmul")
    entry["size"] = q(size, "n (n x n @ n x n)")
    entry["flop_per_s"] = q(2 * size**3 / entry["time_per_call"]["value"], "FLOP/s")
    return entry


class PipelineVsBare:
    """(a) and (b) of one RunConfig on `device`: `steps` optimiser steps per call."""

    def __init__(self, cfg: RunConfig, device: torch.device, steps: int, held_out: int) -> None:
        side = cfg.data.side  # 32 for CIFAR-10; 224 (full) or 64 (quick) for the Pet
        if side is None:
            raise ValueError(f"{cfg.data.dataset}: set data.image_size to benchmark it")
        self.n, self.held_out_n = cfg.batch_size * steps, held_out
        images = synthetic_images(self.n + held_out, side, seed=0)  # (n + held, 3, S, S) uint8
        splits = Splits(images[:self.n], images[self.n:], images[:0], "synthetic shapes",
                        "generated", "benchmark")
        self.trainer = Trainer(cfg, splits, device)
        self.epoch = cfg.epoch_range[0]
        self.weights = LossWeights(**self.trainer.weighting.weights(self.epoch))
        batch = self.trainer.train_images[:cfg.batch_size]  # (B, 3, S, S) uint8 on the device
        self.masks = random_squares(len(batch), side, side, cfg.mask_at(self.epoch),
                                    self.trainer.generator)  # (B, 1, S, S) bool
        self.masked, self.target = self.trainer.prepare(batch, self.masks)  # (B, 3, S, S) float

    def timers(self) -> dict[str, Callable[[], Any]]:
        return {"pipeline": self.pipeline, "bare_step": self.bare, "held_out": self.held_out}

    def pipeline(self) -> None:
        self.trainer.train_epoch(self.epoch)

    def held_out(self) -> None:
        self.trainer.held_out(self.epoch)

    def bare(self) -> None:
        """As many steps as one epoch of (a), each as `Trainer.train_epoch` takes it."""
        t = self.trainer
        t.model.train()
        for _ in range(len(t.train_images) // t.cfg.batch_size):
            with self.autocast():
                pred = t.forward(self.masked, self.masks)
                terms = t.loss_fn.terms(pred, self.target, self.masks, self.weights)
            t.optimizer.zero_grad(set_to_none=True)
            t.weighting.backward(terms, pred, self.epoch,
                                 t.scaler.get_scale() if t.scaler.is_enabled() else 1.0)
            if t.cfg.grad_clip is not None:
                t.scaler.unscale_(t.optimizer)
                nn.utils.clip_grad_norm_(t.model.parameters(), max_norm=t.cfg.grad_clip)
            t.scaler.step(t.optimizer)
            t.scaler.update()

    def autocast(self) -> torch.autocast:
        """The trainer's precision: autocast to its dtype, or off (fp32)."""
        t = self.trainer
        return torch.autocast(t.device.type, dtype=t.autocast_dtype, enabled=t.use_amp)

    def data_path(self) -> None:
        """`train_epoch`'s data work without the model: order, masks, index, scale, black out."""
        t, cfg = self.trainer, self.trainer.cfg
        images = t.train_images  # (N, 3, S, S) uint8 on the device
        n, (h, w), bs = len(images), images.shape[-2:], cfg.batch_size
        order = torch.randperm(n, generator=t.generator, device=t.device)
        mask_cfg = cfg.mask_at(self.epoch)
        per_batch = mask_cfg.draw == "per_batch"
        masks = None if per_batch else random_squares(n, h, w, mask_cfg, t.generator)
        for start in range(0, n, bs):
            idx = order[start:start + bs]
            batch_masks = (random_squares(len(idx), h, w, mask_cfg, t.generator) if per_batch
                           else masks[start:start + bs])  # (B, 1, S, S) bool
            t.prepare(images[idx], batch_masks)

    def flops(self) -> tuple[float, float]:
        """(training step, held-out pass) FLOPs per image, counted on one image in eager mode."""
        t = self.trainer
        masked, target, holes = self.masked[:1], self.target[:1], self.masks[:1]  # (1, ., S, S)
        t.model.train()
        with FlopCounterMode(display=False, custom_mapping=CPU_SDPA_FLOPS) as train:
            with self.autocast():
                loss, _ = t.loss_fn(t.model(masked, holes), target, self.weights, holes)
            loss.backward()
        t.optimizer.zero_grad(set_to_none=True)
        t.model.eval()
        with (torch.no_grad(), self.autocast(),
              FlopCounterMode(display=False, custom_mapping=CPU_SDPA_FLOPS) as held):
            t.loss_fn(t.model(masked, holes), target, self.weights, holes)
        return float(train.get_total_flops()), float(held.get_total_flops())


def measure(name: str, cfg: RunConfig, device: torch.device, steps: int, repeats: int,
            memory: MemoryProbe, compiled: bool, matmul: dict[str, Any],
            extra: dict[str, Callable[[], Any]]) -> tuple[dict[str, Any], dict[str, list[float]]]:
    """Time (a), (b) and the held-out pass of every variant of `cfg`, and the `extra`
    functions (e.g. the conventional loop), all round-robin in one loop, so any two are
    compared under the same load. Each variant is built and warmed up inside its memory
    probe. Returns the case's results section and the extra functions' seconds."""
    held_out = min(cfg.batch_size * max(1, steps // 4), 1000)
    base = precision(cfg, device)
    section: dict[str, Any] = {"library_variant": base, "variants": {}}
    benches: dict[str, PipelineVsBare] = {}
    first: dict[str, float] = {}
    for label, variant in variants(cfg, device, compiled).items():
        try:
            with memory.probe(f"{name}_{label}"), warnings.catch_warnings():
                warnings.simplefilter("ignore")  # the random VGG's, the compiler's
                bench = PipelineVsBare(variant, device, steps, held_out)
                first[label] = time_calls({label: bench.pipeline}, device, 1)[label][0]  # compiles
                bench.held_out()  # (b) runs (a)'s shapes: warm now too
            benches[label] = bench
        except Exception as e:  # an optional backend may be missing (compiler, kernels)
            if label == base:
                raise
            section["variants"][label] = {"error": f"{type(e).__name__}: {str(e)[:300]}"}
    library = benches[base]
    timers = {f"{label}/{part}": fn for label, bench in benches.items()
              for part, fn in bench.timers().items()}
    times = time_calls({**timers, "data_path": library.data_path, **extra}, device, repeats)
    train_flops, held_flops = library.flops()
    section["flop_per_image"] = {"train_step": q(train_flops, "FLOP"),
                                 "held_out": q(held_flops, "FLOP")}
    section["data_path_only"] = timing_entry(times["data_path"], library.n)
    for label, bench in benches.items():
        entry = {part: timing_entry(times[f"{label}/{part}"], bench.held_out_n
                                    if part == "held_out" else bench.n) for part in bench.timers()}
        pipe = entry["pipeline"]["throughput"]["value"]
        p = precision(bench.trainer.cfg, device)
        entry |= {
            "precision": p,
            "a_over_b": q(pipe / entry["bare_step"]["throughput"]["value"],
                          f"x (pipeline / bare step, both {label})"),
            "first_call": q(first[label], "s (first epoch: includes compilation, if any)"),
            "achieved": q(train_flops * pipe, "FLOP/s (pipeline)"),
            "fraction_of_matmul": q(train_flops * pipe / matmul[p]["flop_per_s"]["value"],
                                    f"of {p} matmul FLOP/s"),
        }
        section["variants"][label] = entry
    return section, {k: times[k] for k in extra}


def describe(cfg: RunConfig, source: str, steps: int) -> dict[str, Any]:
    """What a case trains, for the results: where it came from and the settings timed."""
    w = cfg.loss.weights_at(cfg.epoch_range[0])
    return {
        "source": source,
        "model": ", ".join(f"{k} {v}" for k, v in cfg.model.model_dump().items()),
        "image_size": q(cfg.data.side or 0, "px"), "batch_size": q(cfg.batch_size, "img"),
        "mask": cfg.mask.label, "optimizer": f"{cfg.optimizer.name} lr {cfg.optimizer.lr:g}",
        "loss": " + ".join(f"{v:g} {k}" for k, v in w.model_dump().items() if v),
        "steps_per_call": q(steps, "optimiser steps (one epoch of (a))"),
        "epochs": q(cfg.num_epochs, "epochs"), "last_epoch": q(cfg.epoch_range[1], "epoch"),
    }


class CIFARStyleInpaintingDataset(Dataset):
    """(c)'s (masked, target) pairs in [-1, 1], the textbook way (see the module docstring)."""

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
    """(c): one call of `epoch` = one pass over `n` images, as (a) does."""

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
