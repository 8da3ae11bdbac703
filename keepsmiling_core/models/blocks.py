"""Building blocks shared by the three setups.

Normalisation is chosen so that ``eval()`` and ``train()`` behave the same at inference (the original's
weakness W4, docs/original-setups.md#w4): instance norm never tracks running statistics here, and the
critics use no normalisation at all because the gradient penalty is per-sample and BatchNorm would couple
the samples (W6 there).
"""

from __future__ import annotations

import torch
from torch import nn


def dcgan_init(module: nn.Module) -> None:
    """The original's DCGAN initialisation: conv weights ~ N(0, 0.02), BatchNorm scale ~ N(1, 0.02)."""
    name = type(module).__name__
    if "Conv" in name and getattr(module, "weight", None) is not None:
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif "BatchNorm" in name:
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


def instance_norm(channels: int) -> nn.InstanceNorm2d:
    """Affine instance norm without running statistics, so eval() cannot silently change the output."""
    return nn.InstanceNorm2d(channels, affine=True, track_running_stats=False)


class ResidualBlock(nn.Module):
    """StarGAN's residual block: two 3x3 convs with an identity shortcut (no activation after the add).

    ``norm=False`` drops the normalisation for networks whose output must stay linear-friendly
    (the SplitGAN latent) or whose batch statistics must not matter.
    """

    def __init__(self, channels: int, norm: bool = True) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Conv2d(channels, channels, 3, 1, 1, bias=not norm)]
        if norm:
            layers.append(instance_norm(channels))
        layers.append(nn.ReLU(inplace=True) if norm else nn.LeakyReLU(0.2, inplace=True))
        layers.append(nn.Conv2d(channels, channels, 3, 1, 1, bias=not norm))
        if norm:
            layers.append(instance_norm(channels))
        self.branch = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.branch(x)


def down_steps(size: int, bottom: int) -> int:
    """Number of stride-2 steps from ``size`` down to ``bottom``; sizes must be powers of two apart."""
    steps = 0
    while size > bottom:
        if size % 2:
            raise ValueError(f"crop size {size} cannot be halved down to {bottom}")
        size //= 2
        steps += 1
    if size != bottom:
        raise ValueError(f"crop size must be {bottom}·2^k, got {size}")
    return steps


def check_size(size: int) -> int:
    """Crop sizes the networks are designed for; anything else is a configuration mistake."""
    if size not in (32, 64, 128):
        raise ValueError(f"crop size must be 32, 64 or 128, not {size}")
    return size
