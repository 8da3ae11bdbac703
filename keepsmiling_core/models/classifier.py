"""SmileClassifier: a small CNN that tells smiling from non-smiling mouth crops.

It exists to *measure* the editors (edit success rate, and the feature space for KID), so it is
deliberately independent of the GAN architectures: a judge that shares the generator's encoder would
be fooled by the generator's own features. BatchNorm + global average pooling keep it small, fast on
CPU and size-agnostic (32 / 64 / 128 crops work with the same layers).
"""

from __future__ import annotations

import torch
from torch import nn

FEATURE_DIM = 128


def _block(c_in: int, c_out: int) -> nn.Sequential:
    """Downsample first, then refine: the full-resolution convolution is what makes a CNN slow on a CPU."""
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, stride=2, padding=1, bias=False),
        nn.BatchNorm2d(c_out),
        nn.LeakyReLU(0.1, inplace=True),
        nn.Conv2d(c_out, c_out, 3, stride=1, padding=1, bias=False),
        nn.BatchNorm2d(c_out),
        nn.LeakyReLU(0.1, inplace=True),
    )


class SmileClassifier(nn.Module):
    """Mouth crop in [-1, 1] (N, 3, size, size) -> smile logit (N,); positive means smiling."""

    def __init__(self, size: int = 64, width: int = 32) -> None:
        super().__init__()
        if size < 16 or size & (size - 1):
            raise ValueError(f"SmileClassifier needs a power-of-two crop size >= 16, got {size}")
        self.size = size
        # Downsample to 4x4 whatever the input size, so features mean the same thing at every size.
        n_blocks = max(2, (size // 4).bit_length() - 1)
        channels = [3] + [min(width * 2**i, FEATURE_DIM) for i in range(n_blocks)]
        channels[-1] = FEATURE_DIM
        self.trunk = nn.Sequential(*[_block(a, b) for a, b in zip(channels[:-1], channels[1:], strict=True)])
        self.dropout = nn.Dropout(0.2)
        self.head = nn.Linear(FEATURE_DIM, 1)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Pooled (N, 128) features: the space KID compares real and edited crops in."""
        return self.trunk(x).mean(dim=(2, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.dropout(self.features(x))).squeeze(1)
