"""SimpleGAN: the DCGAN generator of docs/original-setups.md#simplegan (noise -> mouth crop), trained on
smiling crops only."""

from __future__ import annotations

import torch
from torch import nn

from .blocks import check_size, dcgan_init, down_steps


class DCGANGenerator(nn.Module):
    """Noise (B, nz) -> image (B, 3, size, size) in [-1, 1]: transposed convs + BatchNorm + ReLU, tanh.

    With ``ngf=64, nz=100, size=64`` this is exactly the original's (and the DCGAN tutorial's) generator;
    other sizes add or remove one doubling stage.
    """

    def __init__(self, size: int = 64, nz: int = 100, ngf: int = 64) -> None:
        super().__init__()
        self.nz = nz
        n_up = down_steps(check_size(size), 4)
        channels = ngf * 2 ** (n_up - 1)
        layers: list[nn.Module] = [
            nn.ConvTranspose2d(nz, channels, 4, 1, 0, bias=False),
            nn.BatchNorm2d(channels),
            nn.ReLU(True),
        ]
        for _ in range(n_up - 1):
            layers += [
                nn.ConvTranspose2d(channels, channels // 2, 4, 2, 1, bias=False),
                nn.BatchNorm2d(channels // 2),
                nn.ReLU(True),
            ]
            channels //= 2
        layers += [nn.ConvTranspose2d(channels, 3, 4, 2, 1, bias=False), nn.Tanh()]
        self.net = nn.Sequential(*layers)
        self.apply(dcgan_init)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z.reshape(z.shape[0], self.nz, 1, 1))


def sampling_generator(nets: dict[str, nn.Module]) -> nn.Module:
    """The generator to draw samples with: the weight average when the run kept one, else the trained one."""
    return nets["generator_ema"] if "generator_ema" in nets else nets["generator"]


@torch.no_grad()
def update_average(average: nn.Module, live: nn.Module, decay: float) -> None:
    """average <- decay·average + (1 − decay)·live for weights; BatchNorm statistics are copied as they are."""
    for avg, cur in zip(average.parameters(), live.parameters(), strict=True):
        avg.lerp_(cur, 1.0 - decay)
    for avg, cur in zip(average.buffers(), live.buffers(), strict=True):
        avg.copy_(cur)
