"""The two inpainting networks of the study and the variants built from them.

- `cae.CAE`: Part A's convolutional autoencoder, exactly the study's code block
  (186,371 parameters at latent_channels=128), inputs/outputs in [-1, 1].
- `vit.ViTInpainter`: Part B's Vision Transformer, inputs/outputs in [0, 1].

Every network is called as ``model(masked, holes)``: masked (N, 3, H, W) with the
holes black, holes (N, 1, H, W) bool, True = missing; the study's two ignore `holes`.
"""

from __future__ import annotations

from torch import nn

from ..schema import CAEConfig, ViTConfig
from .cae import CAE, InpaintingCAE
from .vit import InpaintingViT, ViTInpainter

__all__ = ["CAE", "InpaintingCAE", "InpaintingViT", "ViTInpainter", "build_model", "count_parameters",
           "vit_parameter_count", "vit_parameter_reconciliation"]


def build_model(cfg: CAEConfig | ViTConfig, image_size: int) -> nn.Module:
    """The study's network when `cfg` asks for nothing else, else the variant."""
    if isinstance(cfg, CAEConfig):
        return CAE(cfg.latent_channels) if cfg.is_study else InpaintingCAE(cfg)
    if not cfg.is_study:
        return InpaintingViT(cfg, image_size)
    return ViTInpainter(image_size, cfg.patch_size, cfg.dim, cfg.depth, cfg.heads, cfg.mlp_dim,
                        cfg.dropout)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def vit_parameter_reconciliation(cfg: ViTConfig, image_size: int, study_table: int) -> dict[str, int]:
    """Our ViT's parameter count beside the study's: what its text describes (224 px, 16 px
    patches, dim 256, 8 blocks, MLP 1024) and `study_table`, the count its table gives
    (8,671,744, which equals 10 such blocks plus a final LayerNorm)."""
    return {"image_size": image_size, "patch_size": cfg.patch_size, "dim": cfg.dim,
            "depth": cfg.depth, "mlp_dim": cfg.mlp_dim,
            "ours": count_parameters(build_model(cfg, image_size)),
            "study_text": vit_parameter_count(224, 16, 256, 8, 1024),
            "study_table": study_table,
            "ten_blocks": vit_parameter_count(224, 16, 256, 10, 1024, final_norm=True)}


def vit_parameter_count(image_size: int = 224, patch_size: int = 16, dim: int = 256, depth: int = 8,
                        mlp_dim: int = 1024, final_norm: bool = False) -> int:
    """Closed-form parameter count of `ViTInpainter` (optionally + a final LayerNorm).

    Used by the report to reconcile the study's 8,671,744 with its own description.
    """
    patches = (image_size // patch_size) ** 2
    embed = 3 * patch_size**2 * dim + dim + patches * dim
    block = 2 * 2 * dim + (dim * 3 * dim + 3 * dim) + (dim * dim + dim) + (dim * mlp_dim + mlp_dim) \
        + (mlp_dim * dim + dim)
    head = (dim * 2 * dim + 2 * dim) + 2 * 2 * dim + (2 * dim * patch_size**2 * 3 + patch_size**2 * 3)
    return embed + depth * block + head + (2 * dim if final_norm else 0)
