"""Part B: one ViT + perceptual-loss training step, its FLOPs and achieved FLOP/s.

The step mirrors `Trainer.train_epoch`'s body: draw `random_squares` masks for a
uint8 batch resident on the device, scale to [0, 1], black out the holes, then
forward, loss = 0.5*MAE + 0.5*Perceptual(VGG-16 features[:16]), backward, Adam.
The VGG is randomly initialised (`PerceptualLoss('random')`): pretrained weights
are not available offline, and FLOPs and timings do not depend on the weights.

FLOPs are counted with `torch.utils.flop_counter.FlopCounterMode` over forward +
loss + backward (both VGG passes and the VGG backward to its input included; the
mask drawing and the optimiser's elementwise update are not counted), on one
image and scaled by the batch (every op is per image). CPU attention
(`_scaled_dot_product_flash_attention_for_cpu`), which the counter does not know,
is counted with its standard SDPA formulas.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
import yaml
from torch import Tensor
from torch.utils.flop_counter import FlopCounterMode, sdpa_backward_flop_count, sdpa_flop_count

from inpaint_lib.data import synthetic_images
from inpaint_lib.losses import InpaintingLoss
from inpaint_lib.masks import apply_masks, make_generator, random_squares
from inpaint_lib.models import ViTInpainter
from inpaint_lib.schema import LossWeights, MaskConfig, OptimizerConfig
from inpaint_lib.train import make_optimizer, to_model_scale

from .cae import autocast_for
from .common import (
    MemoryProbe,
    Quantity,
    median,
    q,
    time_interleaved,
    time_once,
    time_repeats,
    timing_entry,
)

QUICK_PROFILE = Path(__file__).resolve().parent.parent / "params" / "profiles" / "quick.yaml"
WEIGHTS = LossWeights(mae=0.5, perceptual=0.5)
aten = torch.ops.aten


@dataclass(frozen=True)
class ViTShape:
    image: int = 224
    patch: int = 16
    dim: int = 256
    depth: int = 8
    heads: int = 8
    mlp: int = 1024
    batch: int = 64

    def describe(self) -> dict[str, Quantity]:
        units = {"image": "px", "patch": "px", "batch": "img"}
        return {k: q(v, units.get(k, "")) for k, v in asdict(self).items()}


FALLBACK_QUICK = ViTShape(image=64, patch=8, dim=128, depth=4, heads=4, mlp=256, batch=32)
_YAML_KEYS = {"image_size": "image", "patch_size": "patch", "dim": "dim", "depth": "depth",
              "heads": "heads", "mlp_dim": "mlp", "batch_size": "batch"}


def _find_keys(doc: Any, found: dict[str, int]) -> None:
    """Collect shape keys anywhere in a profile section (data.image_size, train.model.dim...)."""
    if isinstance(doc, dict):
        for k, v in doc.items():
            if k in _YAML_KEYS and isinstance(v, int) and _YAML_KEYS[k] not in found:
                found[_YAML_KEYS[k]] = v
            else:
                _find_keys(v, found)


def quick_profile_shape(path: Path = QUICK_PROFILE) -> tuple[ViTShape, str]:
    """The quick profile's ViT shape from its `vit:` section, else the documented fallback."""
    try:
        section = (yaml.safe_load(path.read_text()) or {}).get("vit") or {}
    except (OSError, yaml.YAMLError):
        section = {}
    found: dict[str, int] = {}
    _find_keys(section, found)
    if not found:
        return FALLBACK_QUICK, (f"{path.name} has no vit section: used the fallback "
                                "image 64, patch 8, dim 128, depth 4, heads 4, mlp 256, batch 32")
    shape = ViTShape(**{**asdict(FALLBACK_QUICK), **found})
    missing = sorted(set(asdict(shape)) - set(found))
    note = f"quick-profile ViT shape read from {path.name} vit section {asdict(shape)}" + (
        f"; fallback used for {', '.join(missing)}" if missing else "")
    return shape, note


def scaled_mask(image: int) -> MaskConfig:
    """300 squares of 12x12 at 224 px; the same occluded fraction at other sizes."""
    size = max(1, round(12 * image / 224))
    return MaskConfig(size=size, count=300)


def build_loss(device: torch.device) -> InpaintingLoss:
    """MAE + perceptual with a randomly initialised VGG-16 (shared by all ViT cases)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return InpaintingLoss("random").to(device)


@dataclass(frozen=True)
class Variant:
    """One way of running the step; `precision` in fp32 / fp16-amp / bf16."""

    name: str
    precision: str = "fp32"
    compile_model: bool = False
    cudnn_benchmark: bool = False
    time_eval: bool = True


def _cpu_sdpa_flops(q_shape: Any, k_shape: Any, v_shape: Any, *_: Any, **__: Any) -> int:
    return sdpa_flop_count(q_shape, k_shape, v_shape)


def _cpu_sdpa_backward_flops(grad_shape: Any, q_shape: Any, k_shape: Any, v_shape: Any, *_: Any,
                             **__: Any) -> int:
    return sdpa_backward_flop_count(grad_shape, q_shape, k_shape, v_shape)


@contextmanager
def _cudnn_benchmark(on: bool) -> Iterator[None]:
    """cudnn.benchmark for one call only (variants are timed interleaved)."""
    previous = torch.backends.cudnn.benchmark
    torch.backends.cudnn.benchmark = on or previous
    try:
        yield
    finally:
        torch.backends.cudnn.benchmark = previous


class ViTStep:
    """One Part B training step (see module docstring); `precision` in fp32/fp16-amp/bf16."""

    def __init__(self, shape: ViTShape, loss_fn: InpaintingLoss, device: torch.device,
                 variant: Variant = Variant("fp32"), seed: int = 0) -> None:
        torch.manual_seed(seed)
        self.shape, self.device, self.precision = shape, device, variant.precision
        self.cudnn_benchmark = variant.cudnn_benchmark
        self.model = ViTInpainter(shape.image, shape.patch, shape.dim, shape.depth, shape.heads,
                                  shape.mlp).to(device).to(memory_format=torch.channels_last)
        self.loss_fn = loss_fn
        self.forward = torch.compile(self.model) if variant.compile_model else self.model
        self.loss = torch.compile(self.loss_fn) if variant.compile_model else self.loss_fn
        self.optimizer = make_optimizer(self.model.parameters(), OptimizerConfig(lr=1e-4), device)
        self.scaler = torch.amp.GradScaler(device.type, enabled=variant.precision == "fp16-amp")
        self.mask_cfg = scaled_mask(shape.image)
        self.generator = make_generator(seed, device)
        # (B, 3, S, S) uint8, resident on the device like Trainer.train_images
        self.images = synthetic_images(shape.batch, shape.image, seed).to(device)

    def prepare(self) -> tuple[Tensor, Tensor]:
        """-> (masked, target): (B, 3, S, S) float in [0, 1], channels_last."""
        s = self.shape.image
        masks = random_squares(self.shape.batch, s, s, self.mask_cfg, self.generator)
        target = to_model_scale(self.images, False)
        return apply_masks(target, masks, 0.0), target

    def forward_backward(self, masked: Tensor, target: Tensor) -> Tensor:
        with autocast_for(self.device, self.precision):
            loss, _ = self.loss(self.forward(masked), target, WEIGHTS)
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        return loss

    def __call__(self) -> None:
        with _cudnn_benchmark(self.cudnn_benchmark):
            self.model.train()
            self.forward_backward(*self.prepare())
            self.scaler.step(self.optimizer)
            self.scaler.update()

    @torch.no_grad()
    def held_out(self) -> None:
        """The per-epoch held-out pass on one batch: eval-mode forward + loss."""
        with _cudnn_benchmark(self.cudnn_benchmark):
            self._held_out()

    def _held_out(self) -> None:
        self.model.eval()
        masked, target = self.prepare()
        with autocast_for(self.device, self.precision):
            self.loss(self.forward(masked), target, WEIGHTS)

    def count_flops(self) -> tuple[float, float]:
        """(training FLOPs, held-out FLOPs) per image, counted on one image."""
        masked, target = (t[:1] for t in self.prepare())
        mapping = {
            aten._scaled_dot_product_flash_attention_for_cpu: _cpu_sdpa_flops,
            aten._scaled_dot_product_flash_attention_for_cpu_backward: _cpu_sdpa_backward_flops,
        }
        self.model.train()
        with FlopCounterMode(display=False, custom_mapping=mapping) as train_fc:
            with autocast_for(self.device, self.precision):
                loss, _ = self.loss_fn(self.model(masked), target, WEIGHTS)
            loss.backward()
        self.optimizer.zero_grad(set_to_none=True)
        self.model.eval()
        with (torch.no_grad(), FlopCounterMode(display=False, custom_mapping=mapping) as eval_fc,
              autocast_for(self.device, self.precision)):
            self.loss_fn(self.model(masked), target, WEIGHTS)
        return float(train_fc.get_total_flops()), float(eval_fc.get_total_flops())


MATMUL_DTYPES = {"fp32": torch.float32, "fp16-amp": torch.float16, "bf16": torch.bfloat16}


def matmul_flops_per_s(size: int, dtype: torch.dtype, device: torch.device,
                       repeats: int) -> dict[str, Quantity]:
    """A (size x size) @ (size x size) product: 2*size^3 FLOPs, median of `repeats`."""
    a = torch.randn(size, size, device=device).to(dtype)
    b = torch.randn(size, size, device=device).to(dtype)
    seconds = time_repeats(lambda: a @ b, device, repeats, warmup=2)
    entry = timing_entry(seconds, 1, "matmul")
    entry["size"] = q(size, "n (n x n @ n x n)")
    entry["flop_per_s"] = q(2 * size**3 / entry["time_per_call"]["value"], "FLOP/s")
    return entry


def run_variants(shape: ViTShape, loss_fn: InpaintingLoss, device: torch.device,
                 variants: list[Variant], repeats: int, eval_repeats: int, memory: MemoryProbe,
                 label: str, matmul: dict[str, Any]) -> dict[str, Any]:
    """Time every step variant at one shape, round-robin, and relate each to its FLOPs.

    Each variant is built and warmed up inside its own memory probe (the first call
    includes compilation, if any); then the training steps of all variants are
    timed interleaved, then their held-out passes. FLOPs are counted once (they do
    not depend on precision, optimiser or layout). The first variant is the baseline.
    """
    steps: dict[str, ViTStep] = {}
    out: dict[str, Any] = {}
    firsts: dict[str, float] = {}
    for v in variants:
        try:
            with memory.probe(f"vit_{label}_{v.name}"), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                step = ViTStep(shape, loss_fn, device, v)
                firsts[v.name] = time_once(step, device)  # warm-up
                if repeats > 1:  # a second warm-up step unless the run is a smoke test
                    step()
                if v.time_eval:
                    step.held_out()
            steps[v.name] = step
        except Exception as e:  # noqa: BLE001 - an optional backend may be missing (compiler, kernels)
            out[v.name] = {"error": f"{type(e).__name__}: {str(e)[:300]}"}
    if not steps:
        return out
    train_flops, eval_flops = next(iter(steps.values())).count_flops()
    times = time_interleaved(dict(steps), device, repeats)
    eval_times = time_interleaved({v.name: steps[v.name].held_out for v in variants
                                   if v.time_eval and v.name in steps}, device, eval_repeats)
    base = variants[0].name
    for v in variants:
        if v.name not in steps:
            continue
        entry: dict[str, Any] = timing_entry(times[v.name], shape.batch)
        entry["first_call"] = q(firsts[v.name], "s (includes compilation, if any)")
        entry["flop_per_image"] = q(train_flops, "FLOP")
        entry["flop_per_step"] = q(train_flops * shape.batch, "FLOP")
        entry["achieved"] = q(train_flops * shape.batch / entry["time_per_call"]["value"], "FLOP/s")
        ref = matmul.get(v.precision)
        if ref is not None:
            entry["fraction_of_matmul"] = q(entry["achieved"]["value"] / ref["flop_per_s"]["value"],
                                            f"of {v.precision} matmul FLOP/s")
        if v.name in eval_times:
            entry["held_out"] = timing_entry(eval_times[v.name], shape.batch)
            entry["held_out"]["flop_per_image"] = q(eval_flops, "FLOP")
        if v.name != base and base in times:
            entry[f"speedup_vs_{base}"] = q(
                median(times[base]) / median(times[v.name]), "x (same round-robin)")
        out[v.name] = entry
    del steps
    return out
