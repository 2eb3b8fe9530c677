"""Part B's Vision Transformer inpainter (study section 4), and its variants."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..schema import ViTConfig
from .practice import channels_in, network_input, network_output


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


class ConvHead(nn.Module):
    """Tokens back to pixels by convolutions instead of one tile per token (study 7.3): the
    token grid as a feature map, then per doubling Conv3x3 -> PixelShuffle(2) -> GELU, then
    two 3x3 convolutions to 3 channels. Neighbouring tokens share every output pixel's
    receptive field, so tiles cannot drift apart."""

    def __init__(self, dim: int, grid: int, image_size: int, width: int = 32) -> None:
        super().__init__()
        doublings = (image_size // grid).bit_length() - 1
        if grid << doublings != image_size:
            raise ValueError(f"conv head: image size {image_size} / token grid {grid} is not a power of 2")
        self.grid = grid
        self.norm = nn.LayerNorm(dim)
        layers: list[nn.Module] = []
        c = dim
        for i in range(doublings):
            out = max(width, dim // 2 ** (i + 1))
            layers += [nn.Conv2d(c, 4 * out, 3, padding=1), nn.PixelShuffle(2), nn.GELU()]
            c = out
        self.body = nn.Sequential(*layers, nn.Conv2d(c, c, 3, padding=1), nn.GELU(),
                                  nn.Conv2d(c, 3, 3, padding=1))

    def forward(self, tokens: Tensor) -> Tensor:
        """tokens: (N, L, D) -> (N, 3, H, W) raw (before the sigmoid or the residual)."""
        n, _, d = tokens.shape
        x = self.norm(tokens).transpose(1, 2).reshape(n, d, self.grid, self.grid)
        return self.body(x.contiguous(memory_format=torch.channels_last))


class Refiner(nn.Module):
    """A small CNN after the transformer (a coarse-to-fine hybrid): on the composited output
    and the hole mask, four 3x3 convolutions (dilations 1, 2, 4, 1) add a correction; the last
    starts at zero, so training begins from the transformer's output."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        c = channels
        self.body = nn.Sequential(
            nn.Conv2d(4, c, 3, padding=1), nn.GELU(),
            nn.Conv2d(c, c, 3, padding=2, dilation=2), nn.GELU(),
            nn.Conv2d(c, c, 3, padding=4, dilation=4), nn.GELU(),
            nn.Conv2d(c, 3, 3, padding=1),
        )  # fmt: skip
        nn.init.zeros_(self.body[-1].weight)
        nn.init.zeros_(self.body[-1].bias)

    def forward(self, image: Tensor, holes: Tensor) -> Tensor:
        """image: (N, 3, H, W); holes: (N, 1, H, W) bool -> image + correction."""
        return image + self.body(torch.cat([image, holes.to(image.dtype)], dim=1))


class InpaintingViT(nn.Module):
    """The study's ViT with the variants' options (`schema.ViTConfig`): finer or overlapping
    tokens, a convolutional head, a refiner, and the inpainting practice of `models.practice`
    (mask channel, a classical fill to correct, known pixels kept)."""

    def __init__(self, cfg: ViTConfig, image_size: int) -> None:
        super().__init__()
        self.cfg = cfg
        p = cfg.token_patch
        self.patch, self.stride = p, p // 2 if cfg.overlap else p
        self.pad = (p - self.stride) // 2
        self.image_size = image_size
        self.grid = (image_size + 2 * self.pad - p) // self.stride + 1
        if (self.grid - 1) * self.stride + p != image_size + 2 * self.pad:
            raise ValueError(f"patches of {p} px every {self.stride} px do not tile {image_size} px")
        self.patch_embed = nn.Conv2d(channels_in(cfg), cfg.dim, kernel_size=p, stride=self.stride,
                                     padding=self.pad)
        self.pos_embed = nn.Parameter(torch.zeros(1, self.grid**2, cfg.dim))
        nn.init.trunc_normal_(self.pos_embed, std=0.02)
        self.pos_drop = nn.Dropout(cfg.dropout)
        self.blocks = nn.ModuleList(Block(cfg.dim, cfg.heads, cfg.mlp_dim, cfg.dropout)
                                    for _ in range(cfg.depth))
        if cfg.head == "mlp":  # the study's head; its Sigmoid is applied in `network_output`
            self.head: nn.Module = nn.Sequential(
                nn.Linear(cfg.dim, 2 * cfg.dim), nn.GELU(), nn.LayerNorm(2 * cfg.dim),
                nn.Linear(2 * cfg.dim, p * p * 3))
            last = self.head[-1]
        else:
            self.head = ConvHead(cfg.dim, self.grid, image_size)
            last = self.head.body[-1]
        if cfg.residual:  # start exactly at the classical fill
            nn.init.zeros_(last.weight)
            nn.init.zeros_(last.bias)
        self.refiner = Refiner(cfg.refiner) if cfg.refiner else None
        if self.stride != p:  # how many patches cover each pixel, to average overlaps
            self.register_buffer("coverage", self._fold(torch.ones(1, p * p, self.grid**2)),
                                 persistent=False)

    def _fold(self, columns: Tensor) -> Tensor:
        """columns: (N, C*p*p, L) -> (N, C, H, W), each token's patch at its place, overlaps summed."""
        return F.fold(columns, (self.image_size, self.image_size), kernel_size=self.patch,
                      stride=self.stride, padding=self.pad)

    def _pixels(self, tokens: Tensor) -> Tensor:
        """tokens: (N, L, D) -> raw image (N, 3, H, W), before the sigmoid or the residual."""
        if self.cfg.head == "conv":
            return self.head(tokens)
        n, p = tokens.shape[0], self.patch
        patches = self.head(tokens).view(n, -1, p, p, 3)  # (N, L, p, p, 3), as the study's
        columns = patches.permute(0, 4, 2, 3, 1).reshape(n, 3 * p * p, -1)  # (N, 3*p*p, L)
        out = self._fold(columns)
        return out / self.coverage if self.stride != p else out

    def forward(self, masked: Tensor, holes: Tensor) -> Tensor:
        """masked: (N, 3, H, W) in [0, 1], holes black (0); holes: (N, 1, H, W) bool
        -> (N, 3, H, W) in [0, 1]."""
        x, base = network_input(masked, holes, self.cfg)
        tokens = self.pos_drop(self.patch_embed(x).flatten(2).transpose(1, 2) + self.pos_embed)
        for block in self.blocks:
            tokens = block(tokens)
        out = network_output(self._pixels(tokens), base, masked, holes, self.cfg, torch.sigmoid,
                             (0.0, 1.0))
        if self.refiner is not None:
            out = self.refiner(torch.where(holes, out, masked.float()), holes).clamp(0, 1)
            if self.cfg.composite:
                out = torch.where(holes, out, masked.float())
        return out
