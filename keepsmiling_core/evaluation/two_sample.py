"""Detectability: can a fresh network tell edited faces from real ones? (a classifier two-sample test)

Two sets of mouth crops — e.g. non-smiling faces edited to smile, and real smiling faces of the same
source — are balanced, split into folds, and a small CNN that has never seen either is trained on all
folds but one and tested on the held-out one. The mean held-out accuracy is the measure: 50 % means
the sets cannot be told apart; a white blob, a stain or a blurred patch is learned within a few epochs
and drives it towards 100 %. It judges the finished crops only, never a model's internals, so the same
test serves every editor (Lopez-Paz & Oquab, "Revisiting classifier two-sample tests", ICLR 2017).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn


@dataclass(frozen=True)
class TwoSampleResult:
    accuracy: float          # mean held-out accuracy over the folds (0.5 = indistinguishable)
    stderr: float            # its standard error over the folds
    per_class: int           # crops of each set used (the smaller set's size)
    folds: int


def _critic(channels: int = 3) -> nn.Module:
    """Small enough to train in seconds on a CPU, deep enough to see texture and colour at 64²."""
    def block(cin: int, cout: int) -> list[nn.Module]:
        return [nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.LeakyReLU(0.2), nn.MaxPool2d(2)]

    # A strided first layer keeps full-resolution detail (blur, specks) at a quarter of the cost.
    return nn.Sequential(nn.Conv2d(channels, 8, 4, stride=2, padding=1), nn.LeakyReLU(0.2),
                         *block(8, 16), *block(16, 32), *block(32, 32),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.3), nn.Linear(32, 1))


def _tensor(images: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float().div(127.5).sub(1.0)


def detectability(first: np.ndarray, second: np.ndarray, *, folds: int = 5, steps: int = 200,
                  seed: int = 0, batch_size: int = 32) -> TwoSampleResult:
    """Held-out accuracy of a fresh CNN telling ``first`` from ``second`` ((N, S, S, 3) uint8 crops)."""
    n = min(len(first), len(second))
    if n < 2 * folds:
        raise ValueError(f"detectability needs at least {2 * folds} crops in each set, got {len(first)} and {len(second)}")
    rng = np.random.default_rng(seed)
    a = first[rng.permutation(len(first))[:n]]
    b = second[rng.permutation(len(second))[:n]]
    images = _tensor(np.concatenate([a, b]))
    labels = torch.cat([torch.zeros(n), torch.ones(n)])
    fold_of = np.concatenate([rng.permutation(n) % folds, rng.permutation(n) % folds])
    accuracies = []
    generator = torch.Generator().manual_seed(seed)
    for fold in range(folds):
        train = torch.from_numpy(np.flatnonzero(fold_of != fold))
        test = torch.from_numpy(np.flatnonzero(fold_of == fold))
        torch.manual_seed(seed * 100 + fold)
        net = _critic(images.shape[1])
        opt = torch.optim.Adam(net.parameters(), lr=2e-3)
        net.train()
        # A fixed number of steps, not epochs: small sets must get as many updates as large ones.
        for _ in range(steps):
            idx = train[torch.randint(len(train), (batch_size,), generator=generator)]
            x = images[idx]
            flip = torch.rand(len(idx), generator=generator) < 0.5   # a mirrored face is still a face
            x = torch.where(flip[:, None, None, None], x.flip(3), x)
            loss = nn.functional.binary_cross_entropy_with_logits(net(x)[:, 0], labels[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        net.eval()
        with torch.no_grad():
            predicted = torch.cat([net(images[test[s:s + 256]])[:, 0] for s in range(0, len(test), 256)]) > 0
        accuracies.append(float((predicted.float() == labels[test]).float().mean()))
    acc = np.asarray(accuracies)
    return TwoSampleResult(accuracy=float(acc.mean()), stderr=float(acc.std(ddof=1) / np.sqrt(folds)),
                           per_class=n, folds=folds)
