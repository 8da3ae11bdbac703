"""SplitGAN: an autoencoder generator whose latent is edited linearly (z + α·direction).

The latent is a spatial feature map left unnormalised (no activation or norm after the last layer),
so class means and directions computed from it are meaningful and a linear step stays decodable.
No labels enter the encoder.
"""

from __future__ import annotations

import torch
from torch import nn

from .blocks import ResidualBlock, check_size, dcgan_init
from .complexgan import original_decoder, original_encoder
from .shape_texture import ShapeTexture, ShapeTextureHead


class Encoder(nn.Module):
    """Image (B, 3, S, S) -> latent (B, C, S/4, S/4). No normalisation: train() and eval() agree
    (docs/original-setups.md#w4)."""

    def __init__(self, size: int = 64, width: int = 32, latent_channels: int = 16, res_blocks: int = 1) -> None:
        super().__init__()
        check_size(size)
        w = width
        self.net = nn.Sequential(
            nn.Conv2d(3, w, 3, 1, 1), nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(w, 2 * w, 4, 2, 1), nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(2 * w, 4 * w, 4, 2, 1), nn.LeakyReLU(0.2, inplace=True),
            *[ResidualBlock(4 * w, norm=False) for _ in range(res_blocks)],
            nn.Conv2d(4 * w, latent_channels, 1),
        )
        self.latent_shape = (latent_channels, size // 4, size // 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class Decoder(nn.Module):
    """Latent (B, C, S/4, S/4) -> image in [-1, 1]; mirror of ``Encoder``."""

    def __init__(self, size: int = 64, width: int = 32, latent_channels: int = 16, res_blocks: int = 1) -> None:
        super().__init__()
        check_size(size)
        w = width
        self.net = nn.Sequential(
            nn.Conv2d(latent_channels, 4 * w, 3, 1, 1), nn.LeakyReLU(0.2, inplace=True),
            *[ResidualBlock(4 * w, norm=False) for _ in range(res_blocks)],
            nn.ConvTranspose2d(4 * w, 2 * w, 4, 2, 1), nn.LeakyReLU(0.2, inplace=True),
            nn.ConvTranspose2d(2 * w, w, 4, 2, 1), nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(w, 3, 3, 1, 1), nn.Tanh(),
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)


class ShapeDecoder(nn.Module):
    """Latent (B, C, S/4, S/4) -> ``ShapeTexture`` (field, paint mask, colour): what the latent asks of
    the input crop, not a new picture. ``deliver(x, De(z))`` is the reconstruction, ``deliver(x, De(z + d))``
    the edit (``models/shape_texture``)."""

    edits_shape = True

    def __init__(self, size: int = 64, width: int = 32, latent_channels: int = 16, res_blocks: int = 1) -> None:
        super().__init__()
        check_size(size)
        w = width
        self.trunk = nn.Sequential(
            nn.Conv2d(latent_channels, 4 * w, 3, 1, 1), nn.LeakyReLU(0.2, inplace=True),
            *[ResidualBlock(4 * w, norm=False) for _ in range(res_blocks)],
        )
        self.head = ShapeTextureHead(size, 4 * w, w)

    def forward(self, z: torch.Tensor) -> ShapeTexture:
        return self.head(self.trunk(z))


class OriginalEncoder(nn.Module):
    """The original Encoder (docs/original-setups.md#splitgan): 64x64 -> 128x5x5 through a stride-3 stem;
    64x64 only (its weakness W5)."""

    def __init__(self, size: int = 64, conv_dim: int = 32, res_blocks: int = 2) -> None:
        super().__init__()
        if size != 64:
            raise ValueError("the original SplitGAN architecture only works at 64x64 crops; use the default preset")
        self.net = original_encoder(3, conv_dim, res_blocks)
        self.latent_shape = (4 * conv_dim, 5, 5)
        self.apply(dcgan_init)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class OriginalDecoder(nn.Module):
    """The original Decoder (docs/original-setups.md#splitgan): DCGAN transposed convs with BatchNorm,
    128x5x5 -> 3x64x64."""

    def __init__(self, size: int = 64, conv_dim: int = 32, ngf: int = 64) -> None:
        super().__init__()
        if size != 64:
            raise ValueError("the original SplitGAN architecture only works at 64x64 crops; use the default preset")
        self.net = original_decoder(4 * conv_dim, ngf)
        self.apply(dcgan_init)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)


def encode(encoder: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Latent of a batch of crops in [-1, 1]; a plain call, named for readers of the editing code."""
    return encoder(x)


def decode(decoder: nn.Module, z: torch.Tensor) -> torch.Tensor:
    """Crops in [-1, 1] from a batch of latents (e.g. z + α·direction)."""
    return decoder(z)
