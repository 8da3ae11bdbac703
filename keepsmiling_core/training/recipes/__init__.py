"""One training recipe per setup: its hyper-parameters (per preset), optimizers, step and sample grid.

The trainer owns everything else (data, schedule, logging, checkpoints, resume), so the setups share
one loop and differ only in what happens inside a step. The presets live in each setup's spec
(``keepsmiling_core/setups``).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from .base import Recipe


def recipe_class(setup: str) -> type[Recipe]:
    """The training recipe of a registered setup (``keepsmiling_core/setups``)."""
    from ...setup_spec import find_setup

    spec = find_setup(setup)
    if spec is None:
        raise ValueError(f"no training recipe for setup {setup!r}")
    return spec.recipe_class()


def build_recipe(setup: str, preset: str, nets: dict[str, nn.Module], device: torch.device,
                 overrides: dict[str, Any] | None = None) -> Recipe:
    from ...setup_spec import get_setup

    spec = get_setup(setup)
    return spec.recipe_class()(nets, spec.hyperparameters(preset, overrides or {}), device)


__all__ = ["Recipe", "build_recipe", "recipe_class"]
