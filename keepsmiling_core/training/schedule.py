"""Learning-rate schedules as a pure function of the step.

Because the factor depends only on (step, total steps), resuming from a checkpoint restores the
schedule exactly (the original's decay subtracted lr/70 a few times and reset on resume:
docs/original-setups.md#b11).
"""

from __future__ import annotations

import math

import torch

SCHEDULES = ("linear", "cosine", "constant")


def lr_factor(schedule: str, step: int, total_steps: int, decay_start: float = 0.5) -> float:
    """Multiplier of the base LR at ``step``: constant until ``decay_start``·total, then down to 0."""
    if schedule == "constant" or total_steps <= 0:
        return 1.0
    start = int(decay_start * total_steps)
    if step < start:
        return 1.0
    progress = min(1.0, (step - start) / max(1, total_steps - start))
    if schedule == "linear":
        return 1.0 - progress
    if schedule == "cosine":
        return 0.5 * (1.0 + math.cos(math.pi * progress))
    raise ValueError(f"unknown lr schedule {schedule!r}; choose one of {', '.join(SCHEDULES)}")


def apply_lr(optimizer: torch.optim.Optimizer, base_lr: float, factor: float) -> None:
    for group in optimizer.param_groups:
        group["lr"] = base_lr * factor
