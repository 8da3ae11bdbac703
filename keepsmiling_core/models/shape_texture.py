"""An edit as shape × texture: a smooth displacement field, a paint mask and a colour, all in crop space.

Why not an image: a network that outputs the edited crop recolours the whole mouth at 64², which the
photo receives as a 6× blur on large faces and as stains wherever the colour is off. A smile is first a
change of shape, so the networks here predict *where each output pixel takes its colour from* (a
backward field, moving the photo's own pixels) and paint only what the moved lips reveal:

    delivered = m · colour + (1 − m) · warp(x, α · field),    m = min(|α|, 1) · mask

Three things hold by construction, whatever the weights:
- the field is smooth: it is predicted on a 4× coarser grid and up-sampled bicubically;
- it is zero near the crop border (``support``), so the photo outside the crop never moves;
- the mask can only be non-zero inside a band around the lips' meeting line of the aligned crop
  (``paint_band``) *and* where the field stretches the image (the area a parting of the lips reveals),
  so no colour can land on skin, nose or chin.
The editor up-samples the same field to the face's size in the photo and resamples the photo itself,
so the edit is exactly as sharp as the photo (``editing/shape_editor.py``); training judges the same
``deliver`` output, so the critic sees what the photo will receive.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

MAX_OFFSET = 0.12       # the largest move, as a fraction of the crop side (7.7 px of a 64 px crop)
SUPPORT_MARGIN = 0.14   # the field fades to zero over this outer fraction of the crop
# The lips' meeting line in the aligned crop (``data/crops``: the corners are level, centred, and the
# crop is shifted 0.07 of its side towards the nose), and the half-axes of the band paint may use.
BAND_CENTRE = (0.5, 0.57)
BAND_HALF_AXES = (0.33, 0.12)
REVEAL_GAIN = 3.0       # mask gate = clamp(GAIN · (1 − area ratio), 0, 1): a third more area opens it fully


@dataclass
class ShapeTexture:
    """One batch of edits in crop space (S = crop side)."""

    field: torch.Tensor   # (B, 2, S, S) backward offsets in crop pixels: output p samples the input at p + field
    mask: torch.Tensor    # (B, 1, S, S) in [0, 1]: where ``colour`` replaces the warped input
    colour: torch.Tensor  # (B, 3, S, S) in [-1, 1]


def with_mirror_images(x: torch.Tensor) -> torch.Tensor:
    """The batch followed by its left-right mirror images: what ``mirror_averaged`` expects edits of."""
    return torch.cat([x, x.flip(-1)])


def mirror_averaged(edit: ShapeTexture) -> ShapeTexture:
    """Edits of ``with_mirror_images(x)`` -> one mirror-symmetric edit per crop of ``x``.

    The trained networks edit with a handedness: on GENKI's judge part both shipped networks bent the
    lips' meeting line into an S, the same way round on three faces in four (the cubic term of the
    line, corner to corner, rose on 75-77 % of faces; the landmark warp, symmetric by construction,
    on 49 %), and on turned faces that S is a visible twist of the lips. Averaging each crop's edit
    with the mirrored edit of its mirror image cancels any such bias exactly - a mirrored face now gets
    the mirrored edit - while the smile itself, the same in both, stays (its curvature did not change)."""
    n = len(edit.field) // 2
    field = edit.field[n:].flip(-1)
    field = torch.cat([-field[:, :1], field[:, 1:]], dim=1)   # mirrored x offsets change sign
    return ShapeTexture(field=(edit.field[:n] + field) / 2,
                        mask=(edit.mask[:n] + edit.mask[n:].flip(-1)) / 2,
                        colour=(edit.colour[:n] + edit.colour[n:].flip(-1)) / 2)


def support(size: int, device=None, dtype=torch.float32) -> torch.Tensor:
    """(1, 1, S, S): 1 in the middle of the crop, falling smoothly to exactly 0 at its border."""
    t = (torch.arange(size, device=device, dtype=dtype) + 0.5) / size
    edge = torch.minimum(t, 1 - t) / SUPPORT_MARGIN
    ramp = edge.clamp(0, 1)
    ramp = ramp * ramp * (3 - 2 * ramp)
    return (ramp[None, :] * ramp[:, None])[None, None]


def paint_band(size: int, device=None, dtype=torch.float32) -> torch.Tensor:
    """(1, 1, S, S): the soft ellipse around the lips' meeting line where paint is allowed at all."""
    t = (torch.arange(size, device=device, dtype=dtype) + 0.5) / size
    dx = (t[None, :] - BAND_CENTRE[0]) / BAND_HALF_AXES[0]
    dy = (t[:, None] - BAND_CENTRE[1]) / BAND_HALF_AXES[1]
    r = torch.sqrt(dx * dx + dy * dy)
    return ((1.3 - r) / 0.3).clamp(0, 1)[None, None]


def area_ratio(field: torch.Tensor) -> torch.Tensor:
    """(B, 1, S, S) determinant of the backward map p -> p + field (< 1: the output stretches the input,
    i.e. shows more area than the photo had there; <= 0: a fold). Central differences, replicated edges."""
    padded = F.pad(field, (1, 1, 1, 1), mode="replicate")
    dx = (padded[..., 1:-1, 2:] - padded[..., 1:-1, :-2]) / 2
    dy = (padded[..., 2:, 1:-1] - padded[..., :-2, 1:-1]) / 2
    return ((1 + dx[:, :1]) * (1 + dy[:, 1:]) - dy[:, :1] * dx[:, 1:])


def revealed(field: torch.Tensor) -> torch.Tensor:
    """(B, 1, S, S) in [0, 1]: where the field opens new area (a stretch), the only place paint may go."""
    return (REVEAL_GAIN * (1 - area_ratio(field))).clamp(0, 1)


def sampling_grid(x: torch.Tensor, y: torch.Tensor, size_h: int, size_w: int) -> torch.Tensor:
    """(..., 2) ``grid_sample`` coordinates (align_corners=False) of crop pixel coordinates ``x``, ``y``
    (pixel centres on integers, as in OpenCV and ``data/crops``): the one place for that convention."""
    return torch.stack([x * (2 / size_w) + (1 / size_w - 1), y * (2 / size_h) + (1 / size_h - 1)], dim=-1)


def warp(x: torch.Tensor, field: torch.Tensor) -> torch.Tensor:
    """x resampled at p + field (bilinear, edges replicated); a zero field returns x exactly."""
    size_h, size_w = x.shape[-2:]
    ys = torch.arange(size_h, device=x.device, dtype=x.dtype)
    xs = torch.arange(size_w, device=x.device, dtype=x.dtype)
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")
    grid = sampling_grid(gx + field[:, 0], gy + field[:, 1], size_h, size_w)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)


def deliver(x: torch.Tensor, edit: ShapeTexture, alpha: float = 1.0) -> torch.Tensor:
    """The crop as the photo receives it at strength α (α scales the field and opens the mask)."""
    moved = warp(x, alpha * edit.field) if alpha != 0 else x
    opacity = min(abs(float(alpha)), 1.0)
    if opacity == 0:
        return moved
    m = opacity * edit.mask
    return m * edit.colour + (1 - m) * moved


class ShapeTextureHead(nn.Module):
    """Features (B, C, S/4, S/4) -> ``ShapeTexture`` at S: the field from the coarse features (smooth by
    construction), the mask and colour from features up-sampled to full crop resolution."""

    def __init__(self, size: int, channels: int, width: int) -> None:
        super().__init__()
        self.size = size
        self.field = nn.Sequential(nn.Conv2d(channels, width, 3, 1, 1), nn.LeakyReLU(0.2, inplace=True),
                                   nn.Conv2d(width, 2, 3, 1, 1))
        self.texture = nn.Sequential(
            nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(channels, width, 3, 1, 1),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(width, width, 3, 1, 1),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(width, 4, 3, 1, 1),
        )
        nn.init.zeros_(self.field[-1].weight)   # start as the identity: no move, no paint
        nn.init.zeros_(self.field[-1].bias)
        nn.init.constant_(self.texture[-1].bias, 0.0)
        with torch.no_grad():
            self.texture[-1].bias[0] = -3.0
        self.register_buffer("support", support(size), persistent=False)
        self.register_buffer("band", paint_band(size), persistent=False)

    def forward(self, features: torch.Tensor) -> ShapeTexture:
        limit = MAX_OFFSET * self.size
        coarse = torch.tanh(self.field(features)) * limit
        # Bicubic up-sampling overshoots between alternating nodes; the clamp keeps the bound exact.
        field = F.interpolate(coarse, size=(self.size, self.size), mode="bicubic", align_corners=False)
        field = field.clamp(-limit, limit) * self.support.to(field.dtype)
        texture = self.texture(features)
        mask = torch.sigmoid(texture[:, :1]) * self.band.to(texture.dtype) * revealed(field)
        return ShapeTexture(field=field, mask=mask, colour=torch.tanh(texture[:, 1:]))


def field_penalties(edit: ShapeTexture, min_area: float = 0.4, reach: float = 1.0) -> dict[str, torch.Tensor]:
    """The regularisers every shape edit trains with: no fold (area ratio above ``min_area`` for the field
    scaled by ``reach``, so the slider can go that far before the editor caps it), a small mean move (in
    crop-side units), a sparse paint mask."""
    ratio = area_ratio(reach * edit.field)
    size = edit.field.shape[-1]
    return {
        "fold": F.relu(min_area - ratio).pow(2).mean() * 100,
        "move": (edit.field / size).pow(2).mean(),
        "paint": edit.mask.mean(),
    }


def is_shape_net(net: nn.Module) -> bool:
    """Whether a decoder or generator emits ``ShapeTexture`` edits rather than images."""
    return bool(getattr(net, "edits_shape", False))
