"""Part B's Vision Transformer inpainter (study section 4)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn


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
