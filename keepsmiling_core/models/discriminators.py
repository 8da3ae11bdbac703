"""Critics shared by the setups: the original DCGAN discriminator and our PatchGAN without normalisation.

All of them return logits (the original's sigmoid outputs fed to a logits loss were its bugs B8 and B9,
docs/original-setups.md#b8);
losses apply ``binary_cross_entropy_with_logits`` or use the raw scores as a Wasserstein critic.
"""

from __future__ import annotations

import torch
from torch import nn

from .blocks import check_size, dcgan_init, down_steps


class DCGANDiscriminator(nn.Module):
    """The original's discriminator (DCGAN tutorial, docs/original-setups.md#simplegan): strided convs to
    4x4, BN except the first layer.

    ``smile_head=True`` adds the ComplexGAN class head on the same trunk; unlike the original the trunk
    runs once per call (docs/original-setups.md#w6). Output: real/fake logits of shape (B,), plus smile
    logits (B,) with the head.
    """

    def __init__(self, size: int = 64, ndf: int = 64, batchnorm: bool = True, smile_head: bool = False) -> None:
        super().__init__()
        n_down = down_steps(check_size(size), 4)
        layers: list[nn.Module] = [nn.Conv2d(3, ndf, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, inplace=True)]
        channels = ndf
        for _ in range(n_down - 1):
            layers.append(nn.Conv2d(channels, channels * 2, 4, 2, 1, bias=False))
            if batchnorm:
                layers.append(nn.BatchNorm2d(channels * 2))
            layers.append(nn.LeakyReLU(0.2, inplace=True))
            channels *= 2
        self.trunk = nn.Sequential(*layers)
        self.src = nn.Conv2d(channels, 1, 4, 1, 0, bias=False)
        self.cls = nn.Conv2d(channels, 1, 4, 1, 0, bias=False) if smile_head else None
        self.apply(dcgan_init)

    def forward(self, x: torch.Tensor) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        h = self.trunk(x)
        src = self.src(h).flatten(1).mean(1)
        if self.cls is None:
            return src
        return src, self.cls(h).flatten(1).mean(1)


class PatchDiscriminator(nn.Module):
    """StarGAN-style PatchGAN critic without normalisation, sized to the crop (down to 4x4).

    The real/fake head scores every 4x4 patch (mean over patches is the score); the optional smile head
    sees the whole 4x4 map. No BatchNorm: gradient penalties are per sample and eval()==train().
    """

    def __init__(self, size: int = 64, ndf: int = 32, smile_head: bool = False, slope: float = 0.2,
                 spectral_norm: bool = False) -> None:
        super().__init__()
        n_down = down_steps(check_size(size), 4)
        # Spectral norm bounds the critic's Lipschitz constant without coupling samples (unlike BN).
        conv = _spectral_conv if spectral_norm else nn.Conv2d
        layers: list[nn.Module] = [conv(3, ndf, 4, 2, 1), nn.LeakyReLU(slope, inplace=True)]
        channels = ndf
        for _ in range(n_down - 1):
            out = min(channels * 2, ndf * 8)
            layers += [conv(channels, out, 4, 2, 1), nn.LeakyReLU(slope, inplace=True)]
            channels = out
        self.trunk = nn.Sequential(*layers)
        self.src = conv(channels, 1, 3, 1, 1)
        self.cls = nn.Conv2d(channels, 1, 4, 1, 0) if smile_head else None

    def forward(self, x: torch.Tensor) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        h = self.trunk(x)
        src = self.src(h).flatten(1).mean(1)
        if self.cls is None:
            return src
        return src, self.cls(h).flatten(1)[:, 0]


def _spectral_conv(*args, **kwargs) -> nn.Module:
    return nn.utils.parametrizations.spectral_norm(nn.Conv2d(*args, **kwargs))
