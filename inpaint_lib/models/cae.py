"""Part A's convolutional autoencoder (study section 1.3), and its variants for the ablation."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from ..schema import CAEConfig
from .practice import channels_in, network_input, network_output


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


def _conv(cin: int, cout: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, kernel_size=3, stride=stride, padding=1), nn.ReLU())


def _up(cin: int, cout: int) -> nn.Sequential:
    """The study's 2x upsampling: ConvTranspose2d(k3, s2, p1, output_padding 1) + ReLU."""
    return nn.Sequential(nn.ConvTranspose2d(cin, cout, kernel_size=3, stride=2, padding=1,
                                            output_padding=1), nn.ReLU())


class FourierUnit(nn.Module):
    """LaMa's spectral transform: a 1x1 convolution (+ ReLU) on the real and imaginary parts
    of the image's 2-D FFT, so every output position depends on the whole input.
    (N, C, H, W) -> (N, C, H, W), any H, W."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv = nn.Sequential(nn.Conv2d(2 * channels, 2 * channels, kernel_size=1), nn.ReLU())

    def forward(self, x: Tensor) -> Tensor:
        h, w = x.shape[-2:]
        spectrum = torch.fft.rfft2(x.float(), norm="ortho")  # (N, C, H, W/2+1) complex
        y = self.conv(torch.cat([spectrum.real, spectrum.imag], dim=1).to(x.dtype))
        real, imag = y.float().chunk(2, dim=1)
        return torch.fft.irfft2(torch.complex(real, imag), s=(h, w), norm="ortho").to(x.dtype)


class Bottleneck(nn.Module):
    """`blocks` residual blocks at H/8 that widen the receptive field (`CAEConfig.bottleneck`):
    x + conv1x1(ReLU(F(x))), F a dilated 3x3 convolution (dilation 2, 4, 8, ...) or a
    `FourierUnit` (global). (N, C, H/8, W/8) -> same."""

    def __init__(self, channels: int, kind: str, blocks: int) -> None:
        super().__init__()
        def inner(i: int) -> nn.Module:
            if kind == "fourier":
                return FourierUnit(channels)
            d = 2 ** (i + 1)
            return nn.Sequential(nn.Conv2d(channels, channels, 3, padding=d, dilation=d), nn.ReLU())
        self.blocks = nn.ModuleList(
            nn.Sequential(inner(i), nn.Conv2d(channels, channels, kernel_size=1)) for i in range(blocks))

    def forward(self, x: Tensor) -> Tensor:
        for block in self.blocks:
            x = x + block(x)
        return x


class InpaintingCAE(nn.Module):
    """The study's CAE with the ablation's options (`schema.CAEConfig`).

    Encoder: three stride-2 3x3 convolutions, 32, 64 and `latent_channels` wide (H/2, H/4,
    H/8). Decoder: transposed convolutions back, as the study's. `skips` links the encoder
    to the decoder at H/4 and H/2 (a small U-Net): by a sum ("add"), or by concatenating
    and merging with a 3x3 convolution ("concat"). `bottleneck` adds residual blocks at H/8
    that see farther than the three 3x3 layers (`Bottleneck`). `stem` adds a 3x3 convolution
    of that many channels at full resolution before the encoder, and ends the decoder at that
    width, linked to the stem as `skips` links the rest, then a 3x3 convolution to the image
    (the study's CAE sees each pixel only through stride-2 layers). Around it, `models.practice`: the mask
    channel, the classical fill it starts from and corrects, the known pixels kept.
    """

    def __init__(self, cfg: CAEConfig) -> None:
        super().__init__()
        self.cfg = cfg
        c0, c1, c2 = 32, 64, cfg.latent_channels
        cs = cfg.stem
        self.stem = _conv(channels_in(cfg), cs) if cs else nn.Identity()
        self.down1 = _conv(cs or channels_in(cfg), c0, 2)
        self.down2 = _conv(c0, c1, 2)
        self.down3 = _conv(c1, c2, 2)
        self.middle = (Bottleneck(c2, cfg.bottleneck, cfg.bottleneck_blocks)
                       if cfg.bottleneck != "none" else nn.Identity())
        self.up3 = _up(c2, c1)
        self.up2 = _up(c1, c0)
        if cfg.skips == "concat":
            self.merge2 = _conv(2 * c1, c1)
            self.merge1 = _conv(2 * c0, c0)
            if cs:
                self.merge0 = _conv(2 * cs, cs)
        if cs:
            self.up1 = _up(c0, cs)
            self.head = nn.Conv2d(cs, 3, kernel_size=3, padding=1)
        else:
            self.up1 = nn.ConvTranspose2d(c0, 3, kernel_size=3, stride=2, padding=1, output_padding=1)

    def _link(self, decoded: Tensor, encoded: Tensor, merge: str) -> Tensor:
        if self.cfg.skips == "add":
            return decoded + encoded
        if self.cfg.skips == "concat":
            return getattr(self, merge)(torch.cat([decoded, encoded], dim=1))
        return decoded

    def forward(self, masked: Tensor, holes: Tensor) -> Tensor:
        """masked: (N, 3, H, W) in [-1, 1], holes black (-1); holes: (N, 1, H, W) bool
        -> (N, 3, H, W) in [-1, 1]. H, W: multiples of 8."""
        x, base = network_input(masked, holes, self.cfg)
        e0 = self.stem(x)  # (N, stem, H, W), or x itself without a stem
        e1 = self.down1(e0)  # (N, 32, H/2, W/2)
        e2 = self.down2(e1)  # (N, 64, H/4, W/4)
        y = self._link(self.up3(self.middle(self.down3(e2))), e2, "merge2")  # (N, 64, H/4, W/4)
        y = self._link(self.up2(y), e1, "merge1")  # (N, 32, H/2, W/2)
        if self.cfg.stem:
            y = self.head(self._link(self.up1(y), e0, "merge0"))  # (N, 3, H, W)
        else:
            y = self.up1(y)  # (N, 3, H, W)
        return network_output(y, base, masked, holes, self.cfg, torch.tanh, (-1.0, 1.0))
