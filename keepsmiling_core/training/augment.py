"""On-device augmentation of a batch in [-1, 1]: horizontal flip and a small colour jitter.

It runs where the batch already lives (GPU when training there), so no CPU worker is needed, and it
draws from the global torch RNG, whose state the checkpoints save, so a resumed run sees the same flips.
With several ranks each draws for the whole global batch and keeps its slice (``Shard.take``): the RNG
streams stay equal on every rank and a 2 x B run flips exactly the crops a 1 x 2B run flips.
"""

from __future__ import annotations

import torch

from .distributed import SINGLE, Shard


def augment(batch: torch.Tensor, *, hflip: bool = True, jitter: float = 0.05, shard: Shard = SINGLE) -> torch.Tensor:
    """Randomly mirror half of the crops and shift brightness/contrast/saturation by up to ``jitter``."""
    n = batch.shape[0]

    def rand(*shape: int) -> torch.Tensor:
        return shard.take(torch.rand(shape[0] * shard.world, *shape[1:], device=batch.device))

    if hflip:
        flip = rand(n) < 0.5
        batch = torch.where(flip.view(n, 1, 1, 1), batch.flip(3), batch)
    if jitter > 0:
        shape = (n, 1, 1, 1)
        brightness = (rand(*shape) * 2 - 1) * jitter * 2
        contrast = 1 + (rand(*shape) * 2 - 1) * jitter * 2
        saturation = 1 + (rand(*shape) * 2 - 1) * jitter * 2
        grey = batch.mean(dim=1, keepdim=True)
        batch = grey + (batch - grey) * saturation
        mean = batch.mean(dim=(1, 2, 3), keepdim=True)
        batch = ((batch - mean) * contrast + mean + brightness).clamp(-1, 1)
    return batch
