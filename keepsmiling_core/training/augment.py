"""On-device augmentation of a batch in [-1, 1]: horizontal flip and a small colour jitter.

It runs where the batch already lives (GPU when training there), so no CPU worker is needed, and it
draws from the global torch RNG, whose state the checkpoints save, so a resumed run sees the same flips.
"""

from __future__ import annotations

import torch


def augment(batch: torch.Tensor, *, hflip: bool = True, jitter: float = 0.05) -> torch.Tensor:
    """Randomly mirror half of the crops and shift brightness/contrast/saturation by up to ``jitter``."""
    n = batch.shape[0]
    if hflip:
        flip = torch.rand(n, device=batch.device) < 0.5
        batch = torch.where(flip.view(n, 1, 1, 1), batch.flip(3), batch)
    if jitter > 0:
        shape = (n, 1, 1, 1)
        brightness = (torch.rand(shape, device=batch.device) * 2 - 1) * jitter * 2
        contrast = 1 + (torch.rand(shape, device=batch.device) * 2 - 1) * jitter * 2
        saturation = 1 + (torch.rand(shape, device=batch.device) * 2 - 1) * jitter * 2
        grey = batch.mean(dim=1, keepdim=True)
        batch = grey + (batch - grey) * saturation
        mean = batch.mean(dim=(1, 2, 3), keepdim=True)
        batch = ((batch - mean) * contrast + mean + brightness).clamp(-1, 1)
    return batch
