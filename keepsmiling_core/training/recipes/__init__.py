"""One training recipe per setup: its hyper-parameters (per preset), optimizers, step and sample grid.

The trainer owns everything else (data, schedule, logging, checkpoints, resume), so the three setups
share one loop and differ only in what happens inside a step.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from .base import Recipe


def recipe_class(setup: str) -> type[Recipe]:
    if setup == "simplegan":
        from .simplegan import SimpleGANRecipe

        return SimpleGANRecipe
    if setup == "complexgan":
        from .complexgan import ComplexGANRecipe

        return ComplexGANRecipe
    if setup == "splitgan":
        from .splitgan import SplitGANRecipe

        return SplitGANRecipe
    raise ValueError(f"no training recipe for setup {setup!r}")


def build_recipe(setup: str, preset: str, nets: dict[str, nn.Module], device: torch.device,
                 overrides: dict[str, Any] | None = None) -> Recipe:
    cls = recipe_class(setup)
    return cls(nets, cls.hyperparameters(preset, overrides or {}), device)


__all__ = ["Recipe", "build_recipe", "recipe_class"]
