"""Part A's convolutional autoencoder (study section 1.3)."""

from __future__ import annotations

from torch import Tensor, nn


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
