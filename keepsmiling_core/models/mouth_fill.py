"""The mouth-fill network: paints what parted lips reveal (teeth, the dark gap), and nothing else.

A smile is first a change of shape, which the landmark warp makes by moving the photo's own pixels; it
cannot show teeth that a closed mouth hides. This network fills exactly that hole: it reads the aligned
mouth crop with the hole blanked out plus the hole's mask, and returns colour for every pixel; the editor
keeps only the hole (``mask · colour + (1 − mask) · warped photo``), so skin and lips are never
recoloured. A small U-Net: the skips carry the lips' exact colour and light to the hole's rim, the
dilated bottleneck sees the whole mouth so both halves of a smile get matching teeth.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
import torch
from torch import nn

from keepsmiling_core.models.blocks import check_size


def _conv(cin: int, cout: int, stride: int = 1, dilation: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, dilation, dilation=dilation), nn.LeakyReLU(0.2, inplace=True))


class _Up(nn.Module):
    """Nearest up-sampling then a conv on [up, skip]: no checkerboard on flat teeth."""

    def __init__(self, cin: int, cskip: int, cout: int) -> None:
        super().__init__()
        self.up = nn.Upsample(scale_factor=2, mode="nearest")
        self.conv = nn.Sequential(_conv(cin + cskip, cout), _conv(cout, cout))

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        return self.conv(torch.cat([self.up(x), skip], dim=1))


def mouth_band(size: int) -> slice:
    """The rows of a ``size`` mouth crop the fill works on: the lips and a margin (rows 20–52 of 64).

    In the aligned crop the inner lips of MTFL and GENKI faces lie in rows 29–51 (1st–99th percentile),
    and the fill only ever paints between them, so the skin above and below costs time and adds nothing."""
    return slice(size * 5 // 16, size * 13 // 16)


HOLE_GROWTH_PX = (1.0, 2.5)   # crop pixels the inner-lip hole is grown by: its rim is always lips


def grow_hole(mask: np.ndarray, pixels: float) -> np.ndarray:
    """``mask`` (float32, 0..1) grown by a fractional number of pixels (a blend of two dilations).

    Training grows the true inner-lip polygon by a random amount in ``HOLE_GROWTH_PX`` and the editor
    grows the gap the warp opens by the range's middle, so the network always paints a hole whose rim is
    lips, as it learned to."""
    if pixels <= 0:
        return mask
    k = 2 * math.ceil(pixels) + 1
    grown = cv2.dilate(mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
    share = pixels / math.ceil(pixels)
    return (share * grown + (1 - share) * mask).astype(np.float32)


class MouthFillNet(nn.Module):
    """(mouth band with the hole blanked, hole mask) -> RGB in [-1, 1] for the hole.

    Works on any height and width divisible by 8 (the editor and the training use ``mouth_band``)."""

    def __init__(self, size: int = 64, width: int = 32) -> None:
        super().__init__()
        check_size(size)
        w = width
        self.e1 = nn.Sequential(_conv(4, w), _conv(w, w))                 # size
        self.e2 = _conv(w, 2 * w, stride=2)                               # size/2
        self.e3 = _conv(2 * w, 4 * w, stride=2)                           # size/4
        self.e4 = _conv(4 * w, 4 * w, stride=2)                           # size/8
        self.middle = nn.Sequential(_conv(4 * w, 4 * w, dilation=2), _conv(4 * w, 4 * w, dilation=4),
                                    _conv(4 * w, 4 * w))
        self.d3 = _Up(4 * w, 4 * w, 2 * w)
        self.d2 = _Up(2 * w, 2 * w, w)
        self.d1 = _Up(w, w, w)
        self.to_rgb = nn.Conv2d(w, 3, 3, 1, 1)

    def forward(self, image: torch.Tensor, hole: torch.Tensor) -> torch.Tensor:
        """``image`` (N, 3, S, S) in [-1, 1], ``hole`` (N, 1, S, S) in [0, 1]; the hole's pixels are ignored."""
        x = torch.cat([image * (1 - hole), hole], dim=1)
        s1 = self.e1(x)
        s2 = self.e2(s1)
        s3 = self.e3(s2)
        y = self.middle(self.e4(s3))
        y = self.d1(self.d2(self.d3(y, s3), s2), s1)
        return torch.tanh(self.to_rgb(y))


class MouthFillCritic(nn.Module):
    """Judges the filled mouth where it was filled: an 8×8 grid of patch scores, averaged over the hole.

    Teeth are small; a critic that pooled the whole crop would be won by the lips and skin, which the
    fill never touches. The hole mask is an input too, so the critic knows where to look."""

    def __init__(self, size: int = 64, ndf: int = 32) -> None:
        super().__init__()
        check_size(size)
        layers: list[nn.Module] = []
        channels, cin = ndf, 4
        while size > 8:
            layers += [nn.Conv2d(cin, channels, 4, 2, 1), nn.LeakyReLU(0.2, inplace=True)]
            cin, channels, size = channels, min(channels * 2, 4 * ndf), size // 2
        self.trunk = nn.Sequential(*layers, nn.Conv2d(cin, cin, 3, 1, 1), nn.LeakyReLU(0.2, inplace=True))
        self.score = nn.Conv2d(cin, 1, 3, 1, 1)

    def forward(self, image: torch.Tensor, hole: torch.Tensor) -> torch.Tensor:
        scores = self.score(self.trunk(torch.cat([image, hole], dim=1)))
        weight = nn.functional.adaptive_max_pool2d(hole, scores.shape[-2:]) + 0.05
        return (scores * weight).flatten(1).sum(1) / weight.flatten(1).sum(1)
