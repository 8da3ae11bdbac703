"""ComplexGAN: a StarGAN-style translator G(x, c) conditioned on the target smile label.

Label convention everywhere: c = 1.0 means "smiling", 0.0 "not smiling" (the original used the
inverted 0 = smiling; we follow the crop cache's ``smiling`` flags).
"""

from __future__ import annotations

import torch
from torch import nn

from .blocks import ResidualBlock, check_size, dcgan_init, instance_norm
from .shape_texture import ShapeTexture, ShapeTextureHead, deliver


def _label_plane(x: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    """Broadcast per-sample labels (B,) to a (B, 1, H, W) plane to concatenate with the image."""
    return c.to(x.dtype).view(-1, 1, 1, 1).expand(x.shape[0], 1, x.shape[2], x.shape[3])


class LabelledDownsampler(nn.Module):
    """The front both ComplexGAN generators share: a 7x7 stride-1 stem over the image and its label plane,
    two stride-2 downsamplings to S/4 with 4·conv_dim channels. The label also enters as a learned
    per-channel shift after the stem and at the bottleneck, because instance norm removes a constant input
    plane everywhere except at the borders (both shifts start at zero)."""

    def __init__(self, size: int, conv_dim: int) -> None:
        super().__init__()
        check_size(size)
        w = conv_dim
        self.stem = nn.Sequential(nn.Conv2d(4, w, 7, 1, 3, bias=False), instance_norm(w))
        self.stem_label = nn.Linear(1, w)
        self.down = nn.Sequential(
            nn.ReLU(inplace=True),
            nn.Conv2d(w, 2 * w, 4, 2, 1, bias=False), instance_norm(2 * w), nn.ReLU(inplace=True),
            nn.Conv2d(2 * w, 4 * w, 4, 2, 1, bias=False), instance_norm(4 * w),
        )
        self.bottleneck_label = nn.Linear(1, 4 * w)
        nn.init.zeros_(self.stem_label.weight)
        nn.init.zeros_(self.bottleneck_label.weight)

    def encode(self, x: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        """Features (B, 4·conv_dim, S/4, S/4) of ``x`` for the target label ``c`` (B,)."""
        c = c.to(x.dtype).view(-1, 1)
        h = self.stem(torch.cat([x, _label_plane(x, c)], dim=1)) + self.stem_label(c)[:, :, None, None]
        return self.down(h) + self.bottleneck_label(c)[:, :, None, None]


class StarGenerator(LabelledDownsampler):
    """Our ComplexGAN generator: 7x7 stride-1 stem, 2 downsamplings, residual blocks, 2 upsamplings, 7x7 heads.

    GANimation-style output: a colour image C and an attention mask M in [0, 1];
    output = M·C + (1 − M)·x, so pixels the edit does not need stay exactly as they were, which is
    what lets it converge on a CPU budget. The label enters as in ``LabelledDownsampler``.
    """

    def __init__(self, size: int = 64, conv_dim: int = 32, res_blocks: int = 3) -> None:
        super().__init__(size, conv_dim)
        w = conv_dim
        self.blocks = nn.Sequential(*[ResidualBlock(4 * w) for _ in range(res_blocks)])
        # Nearest upsampling + 3x3 conv instead of transposed convs: no checkerboard in the attention mask.
        self.up = nn.Sequential(
            nn.Upsample(scale_factor=2, mode="nearest"),
            nn.Conv2d(4 * w, 2 * w, 3, 1, 1, bias=False), instance_norm(2 * w), nn.ReLU(inplace=True),
            nn.Upsample(scale_factor=2, mode="nearest"),
            nn.Conv2d(2 * w, w, 3, 1, 1, bias=False), instance_norm(w), nn.ReLU(inplace=True),
        )
        self.colour = nn.Sequential(nn.Conv2d(w, 3, 7, 1, 3), nn.Tanh())
        self.mask = nn.Conv2d(w, 1, 7, 1, 3)
        nn.init.constant_(self.mask.bias, -1.0)  # start mostly "keep the input"

    def forward_with_mask(self, x: torch.Tensor, c: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return (translated image, attention mask (B, 1, H, W)); the mask feeds the sparsity/smoothness losses."""
        h = self.up(self.blocks(self.encode(x, c)))
        mask = torch.sigmoid(self.mask(h))
        return mask * self.colour(h) + (1 - mask) * x, mask

    def forward(self, x: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        return self.forward_with_mask(x, c)[0]

    def translate(self, x: torch.Tensor, c: torch.Tensor, alpha: float = 1.0) -> torch.Tensor:
        """The editor's strength hook: x + α·(G(x, c) − x); α = 0 is the input, 1 the full edit."""
        return translate_with_alpha(self, x, c, alpha)


class ShapeStarGenerator(LabelledDownsampler):
    """``StarGenerator``'s front (``LabelledDownsampler``) and residual blocks, ending in a ``ShapeTextureHead``: for the
    target label it returns how to move the input's pixels and what to paint where the lips part.
    ``forward`` returns the delivered crop, so the recipe's losses (cycle, critic) see what the photo gets."""

    edits_shape = True

    def __init__(self, size: int = 64, conv_dim: int = 32, res_blocks: int = 3) -> None:
        super().__init__(size, conv_dim)
        w = conv_dim
        self.blocks = nn.Sequential(*[ResidualBlock(4 * w) for _ in range(res_blocks)], nn.ReLU(inplace=True))
        self.head = ShapeTextureHead(size, 4 * w, 2 * w)

    def edit(self, x: torch.Tensor, c: torch.Tensor) -> ShapeTexture:
        return self.head(self.blocks(self.encode(x, c)))

    def forward_with_edit(self, x: torch.Tensor, c: torch.Tensor) -> tuple[torch.Tensor, ShapeTexture]:
        edit = self.edit(x, c)
        return deliver(x, edit), edit

    def forward(self, x: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        return self.forward_with_edit(x, c)[0]


class OriginalComplexGenerator(nn.Module):
    """The original ComplexGenerator (docs/original-setups.md#complexgan) with bugs fixed: stride-3 7x7 stem,
    2 residual blocks at 5x5, DCGAN BatchNorm decoder. Hard-wired to 64x64 like the original (its weakness
    W5). Instance norm without running stats reproduces the original's train-mode behaviour in eval() too
    (W4; both in docs/original-setups.md#bugs-models)."""

    def __init__(self, size: int = 64, conv_dim: int = 32, res_blocks: int = 2, ngf: int = 64) -> None:
        super().__init__()
        if size != 64:
            raise ValueError("the original ComplexGAN architecture only works at 64x64 crops; use the default preset")
        self.encoder = original_encoder(in_channels=4, conv_dim=conv_dim, res_blocks=res_blocks)
        self.decoder = original_decoder(in_channels=conv_dim * 4, ngf=ngf)
        self.apply(dcgan_init)

    def forward(self, x: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(torch.cat([x, _label_plane(x, c)], dim=1)))

    def translate(self, x: torch.Tensor, c: torch.Tensor, alpha: float = 1.0) -> torch.Tensor:
        return translate_with_alpha(self, x, c, alpha)


def translate_with_alpha(generator: nn.Module, x: torch.Tensor, c: torch.Tensor, alpha: float) -> torch.Tensor:
    """Residual interpolation between input and translation; values outside [0, 1] extrapolate."""
    out = generator(x, c)
    return (x + alpha * (out - x)).clamp(-1, 1)


def original_encoder(in_channels: int, conv_dim: int = 32, res_blocks: int = 2) -> nn.Sequential:
    """The original's encoder path (docs/original-setups.md#splitgan): 7x7 stride-3 conv, two 4x4 stride-2
    convs, residual blocks; 64 -> 5x5."""
    w = conv_dim
    layers: list[nn.Module] = [
        nn.Conv2d(in_channels, w, 7, 3, 3, bias=False), instance_norm(w), nn.ReLU(inplace=True),
        nn.Conv2d(w, 2 * w, 4, 2, 1, bias=False), instance_norm(2 * w), nn.ReLU(inplace=True),
        nn.Conv2d(2 * w, 4 * w, 4, 2, 1, bias=False), instance_norm(4 * w), nn.ReLU(inplace=True),
    ]
    layers += [ResidualBlock(4 * w) for _ in range(res_blocks)]
    return nn.Sequential(*layers)


def original_decoder(in_channels: int = 128, ngf: int = 64) -> nn.Sequential:
    """The original's DCGAN-style decoder (docs/original-setups.md#splitgan): 5x5 -> 8 -> 16 -> 32 -> 64,
    BatchNorm + ReLU, tanh."""
    return nn.Sequential(
        nn.ConvTranspose2d(in_channels, ngf * 8, 4, 1, 0, bias=False), nn.BatchNorm2d(ngf * 8), nn.ReLU(True),
        nn.ConvTranspose2d(ngf * 8, ngf * 4, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf * 4), nn.ReLU(True),
        nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf * 2), nn.ReLU(True),
        nn.ConvTranspose2d(ngf * 2, 3, 4, 2, 1, bias=False), nn.Tanh(),
    )
