"""GAN objectives on logits, written once so the three setups cannot drift apart.

Discriminators always return logits: the non-saturating loss uses softplus (BCE-with-logits with
float targets: the original's bugs B8 and B10), the Wasserstein critic uses the raw scores (its bug B9 was a
sigmoid critic); docs/original-setups.md#bugs-training describes them.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F


def d_nonsaturating(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """BCE(D(real), 1) + BCE(D(fake), 0) on logits."""
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()


def g_nonsaturating(fake_logits: torch.Tensor) -> torch.Tensor:
    """BCE(D(fake), 1): the generator's non-saturating loss."""
    return F.softplus(-fake_logits).mean()


def d_wasserstein(real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
    return fake_scores.mean() - real_scores.mean()


def g_wasserstein(fake_scores: torch.Tensor) -> torch.Tensor:
    return -fake_scores.mean()


def gradient_penalty(critic: Callable[[torch.Tensor], torch.Tensor], real: torch.Tensor,
                     fake: torch.Tensor, alpha: torch.Tensor | None = None) -> torch.Tensor:
    """WGAN-GP: mean (||grad critic(x_hat)|| - 1)^2 at per-sample random interpolates of real and fake.

    ``alpha`` (B, 1, 1, 1) are the interpolation weights; drawn here when not given (a data-parallel
    recipe passes its slice of weights drawn for the global batch)."""
    if alpha is None:
        alpha = torch.rand(real.shape[0], 1, 1, 1, device=real.device, dtype=real.dtype)
    x_hat = (alpha * real.detach() + (1 - alpha) * fake.detach()).requires_grad_(True)
    scores = critic(x_hat)
    (grad,) = torch.autograd.grad(scores.sum(), x_hat, create_graph=True)
    return ((grad.flatten(1).norm(2, dim=1) - 1) ** 2).mean()


def r1_penalty(real_logits: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
    """Zero-centred R1: mean ||grad D(x_real)||^2 (``real`` must require grad when scored)."""
    (grad,) = torch.autograd.grad(real_logits.sum(), real, create_graph=True)
    return grad.pow(2).flatten(1).sum(1).mean()


def smile_loss(logits: torch.Tensor, smiling: torch.Tensor) -> torch.Tensor:
    """Domain classification on logits with float targets (1 = smiling)."""
    return F.binary_cross_entropy_with_logits(logits, smiling.to(logits.dtype))


def margin_smile_loss(logits: torch.Tensor, target: torch.Tensor, margin: float) -> torch.Tensor:
    """softplus(margin − the logit signed towards ``target`` (1 = smiling)): ``smile_loss`` when the margin
    is 0; a margin keeps pulling after the smile head is just barely convinced, so an edit at strength 1
    draws a clear smile, not a hint."""
    signed = logits * (2.0 * target - 1.0)
    return F.softplus(margin - signed).mean()
