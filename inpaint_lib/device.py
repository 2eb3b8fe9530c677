"""Where and at what precision the networks compute, and on which scale they see images.

The device (`default_device`, `INPAINT_DEVICE`), the mixed precision in force on it
(`autocast_dtype`, `precision_name`) and the model's value scale (`signed_scale`,
`to_model_scale`): used by training, the run cache, the study, the methods and the tool.
"""

from __future__ import annotations

import os

import torch
from torch import Tensor

from .schema import CAEConfig, RunConfig


def default_device() -> torch.device:
    name = os.environ.get("INPAINT_DEVICE")
    if name:
        return torch.device(name)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def cpu_has_bf16() -> bool:
    """True on CPUs with bf16 matrix instructions: AMX tiles (Intel Sapphire Rapids and later)
    or AVX512-BF16 (e.g. AMD Zen 4 and later). bf16 autocast measured 2.4-2.7x (ViT step) and
    1.6x (CAE pipeline) on an AMX Xeon, 1.16x on an AVX512-BF16 EPYC (`results/bench`)."""
    probes = [getattr(torch.cpu, name, None)
              for name in ("_is_amx_tile_supported", "_is_avx512_bf16_supported")]
    return any(bool(p and p()) for p in probes)


def autocast_dtype(cfg: RunConfig, device: torch.device) -> torch.dtype | None:
    """Mixed precision in force: fp16 on CUDA with `amp`, bf16 on a CPU with bf16 matrix
    instructions (or when `cpu_precision` asks for it), else None (fp32)."""
    if device.type == "cuda":
        return torch.float16 if cfg.amp else None
    if device.type == "cpu" and (cfg.cpu_precision == "bf16"
                                 or (cfg.cpu_precision == "auto" and cpu_has_bf16())):
        return torch.bfloat16
    return None


def precision_name(cfg: RunConfig, device: torch.device) -> str:
    """How a run on `device` computes: "fp16 autocast", "bf16 autocast" or "fp32"."""
    dtype = autocast_dtype(cfg, device)
    return {torch.float16: "fp16 autocast", torch.bfloat16: "bf16 autocast"}.get(dtype, "fp32")


def signed_scale(cfg: RunConfig) -> bool:
    """The CAE works on [-1, 1] (Tanh decoder); the ViT on [0, 1] (Sigmoid head)."""
    return isinstance(cfg.model, CAEConfig)


def to_model_scale(images: Tensor, signed: bool,
                   memory_format: torch.memory_format = torch.channels_last) -> Tensor:
    """images: (N, 3, H, W) uint8 -> float32 in [-1, 1] if signed else [0, 1], in
    `memory_format` (one conversion pass, then the affine map in place)."""
    x = images.to(torch.float32, memory_format=memory_format)
    return x.mul_(2 / 255).sub_(1) if signed else x.mul_(1 / 255)
