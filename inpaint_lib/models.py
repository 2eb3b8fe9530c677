"""The two inpainting networks of the study.

- `CAE`: Part A's convolutional autoencoder, exactly the study's code block
  (186,371 parameters at latent_channels=128). Inputs/outputs in [-1, 1].
- `ViTInpainter`: Part B's Vision Transformer. Inputs/outputs in [0, 1].
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .schema import CAEConfig, ViTConfig


class CAE(nn.Module):
    """Three stride-2 convolutions down to (latent_channels, 4, 4), three transposed up."""

    def __init__(self, latent_channels: int = 128) -> None:
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Conv2d(3, 32, kernel_size=3, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(32, 64, kernel_size=3, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(64, latent_channels, kernel_size=3, stride=2, padding=1), nn.ReLU(),
        )  # fmt: skip
        self.decoder = nn.Sequential(
            nn.ConvTranspose2d(latent_channels, 64, kernel_size=3, stride=2, padding=1, output_padding=1), nn.ReLU(),
            nn.ConvTranspose2d(64, 32, kernel_size=3, stride=2, padding=1, output_padding=1), nn.ReLU(),
            nn.ConvTranspose2d(32, 3, kernel_size=3, stride=2, padding=1, output_padding=1), nn.Tanh(),
        )  # fmt: skip

    def forward(self, masked: Tensor, holes: Tensor | None = None) -> Tensor:
        """masked: (N, 3, H, W) in [-1, 1], holes black (-1); holes: unused (the study's CAE
        does not know where the hole is) -> (N, 3, H, W) in [-1, 1]. H, W: multiples of 8."""
        return self.decoder(self.encoder(masked))


class Block(nn.Module):
    """Pre-norm transformer block: x + MHSA(LN(x)), then x + MLP(LN(x))."""

    def __init__(self, dim: int, heads: int, mlp_dim: int, dropout: float) -> None:
        super().__init__()
        self.heads = heads
        self.dropout = dropout
        self.norm1 = nn.LayerNorm(dim)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(
            nn.Linear(dim, mlp_dim), nn.GELU(), nn.Dropout(dropout),
            nn.Linear(mlp_dim, dim), nn.Dropout(dropout),
        )  # fmt: skip
        self.proj_drop = nn.Dropout(dropout)

    def forward(self, x: Tensor) -> Tensor:
        """x: (N, L, D) -> (N, L, D)."""
        n, length, dim = x.shape
        qkv = self.qkv(self.norm1(x)).view(n, length, 3, self.heads, dim // self.heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4)  # each (N, heads, L, D/heads)
        drop = self.dropout if self.training else 0.0
        attn = F.scaled_dot_product_attention(q, k, v, dropout_p=drop)
        x = x + self.proj_drop(self.proj(attn.transpose(1, 2).reshape(n, length, dim)))
        return x + self.mlp(self.norm2(x))


class ViTInpainter(nn.Module):
    """Patch embedding + learnable positions -> `depth` blocks -> per-patch MLP head.

    The head is Linear(dim, 2*dim) -> GELU -> LayerNorm -> Linear(2*dim, p*p*3)
    -> Sigmoid, and the output is clamped to [0, 1], as the study describes.
    """

    def __init__(self, image_size: int = 224, patch_size: int = 16, dim: int = 256, depth: int = 8,
                 heads: int = 8, mlp_dim: int = 1024, dropout: float = 0.1) -> None:
        super().__init__()
        if image_size % patch_size:
            raise ValueError(f"patch_size {patch_size} must divide image_size {image_size}")
        self.patch_size = patch_size
        self.grid = image_size // patch_size
        self.patch_embed = nn.Conv2d(3, dim, kernel_size=patch_size, stride=patch_size)
        self.pos_embed = nn.Parameter(torch.zeros(1, self.grid**2, dim))
        nn.init.trunc_normal_(self.pos_embed, std=0.02)
        self.pos_drop = nn.Dropout(dropout)
        self.blocks = nn.ModuleList(Block(dim, heads, mlp_dim, dropout) for _ in range(depth))
        self.head = nn.Sequential(
            nn.Linear(dim, 2 * dim), nn.GELU(), nn.LayerNorm(2 * dim),
            nn.Linear(2 * dim, patch_size * patch_size * 3), nn.Sigmoid(),
        )  # fmt: skip

    def unpatchify(self, patches: Tensor) -> Tensor:
        """patches: (N, L, p*p*3) -> imgs: (N, 3, H, W)."""
        n, p, g = patches.shape[0], self.patch_size, self.grid
        x = patches.view(n, g, g, p, p, 3)
        return torch.einsum("nhwpqc->nchpwq", x).reshape(n, 3, g * p, g * p)

    def forward(self, masked: Tensor, holes: Tensor | None = None) -> Tensor:
        """masked: (N, 3, H, W) in [0, 1], holes black (0); holes: unused -> (N, 3, H, W) in [0, 1]."""
        x = self.patch_embed(masked).flatten(2).transpose(1, 2)  # (N, L, D)
        x = self.pos_drop(x + self.pos_embed)
        for block in self.blocks:
            x = block(x)
        return self.unpatchify(self.head(x)).clamp(0, 1)


def build_model(cfg: CAEConfig | ViTConfig, image_size: int) -> nn.Module:
    if isinstance(cfg, CAEConfig):
        return CAE(cfg.latent_channels)
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
