"""Build the networks of a setup by name, so checkpoints, the trainer and the editor agree on shapes.

``build_setup(setup, preset, size)`` is the only constructor the rest of the code uses; a checkpoint
stores (setup, preset, size, arch) and ``load_model`` rebuilds exactly the same modules from them.
The GAN setups themselves - their architectures per preset, the knobs older checkpoints lack and their
network builders - are registered in ``keepsmiling_core/setups`` (one module per setup); the helper
networks below (judges, the mouth fill) are this module's own small entries.
"""

from __future__ import annotations

from typing import Any

from torch import nn

from ..setup_spec import PRESETS, get_setup, setup_names

# Networks that measure rather than edit, built here so the one checkpoint format serves them:
# "classifier" judges mouth crops (training losses, crop-level evaluation); "judge" judges the aligned
# whole face of a finished photo (evaluation/face_judge.py). Both are a SmileClassifier.
JUDGE_SETUPS = ("classifier", "judge")
# The landmark warp's texture source: paints teeth into the parted lips (models/mouth_fill.py).
FILL_SETUPS = ("mouthfill",)
HELPER_SETUPS = (*JUDGE_SETUPS, *FILL_SETUPS)   # not GAN setups: no recipe, no edit backend

__all__ = ["FILL_SETUPS", "HELPER_SETUPS", "JUDGE_SETUPS", "PRESETS", "architecture", "build_setup", "check_setup",
           "known_setups", "setup_names", "stored_architecture"]


def known_setups() -> tuple[str, ...]:
    """Every name a checkpoint may store: the registered setups and the helper networks."""
    return (*setup_names(), *HELPER_SETUPS)


def stored_architecture(setup: str, preset: str, stored: dict[str, Any]) -> dict[str, Any]:
    """The arch of a saved run or checkpoint, completed for knobs newer than it (the spec's legacy knobs)."""
    if setup in HELPER_SETUPS:
        return dict(stored)
    return get_setup(setup).stored_architecture(preset, stored)


def architecture(setup: str, preset: str = "default", **overrides: Any) -> dict[str, Any]:
    """The resolved architecture knobs (preset values updated by ``overrides``), as stored in checkpoints."""
    setup, preset = check_setup(setup, preset)
    if setup in JUDGE_SETUPS:
        return dict(overrides)
    if setup in FILL_SETUPS:
        return {"width": 16, "ndf": 32, **overrides}
    return get_setup(setup).architecture(preset, **overrides)


def check_setup(setup: str, preset: str) -> tuple[str, str]:
    if setup not in HELPER_SETUPS:
        spec = get_setup(setup)   # ValueError naming the registered setups
        if preset not in spec.presets:
            choices = ", ".join(name for name in PRESETS if name in spec.presets)
            raise ValueError(f"unknown preset {preset!r}; choose one of {choices}")
    elif preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; choose one of {', '.join(PRESETS)}")
    return setup, preset


def build_setup(setup: str, preset: str = "default", size: int = 64, **overrides: Any) -> dict[str, nn.Module]:
    """Fresh networks of a setup (its spec's ``build_networks``): e.g. simplegan/complexgan -> generator +
    discriminator, splitgan -> encoder + decoder + discriminator; classifier -> classifier, judge -> judge,
    mouthfill -> fill + critic."""
    arch = architecture(setup, preset, **overrides)
    if setup in JUDGE_SETUPS:
        from .classifier import SmileClassifier  # owned by the editing part; imported only when asked for

        return {setup: SmileClassifier(size, **arch)}
    if setup in FILL_SETUPS:
        from .mouth_fill import MouthFillCritic, MouthFillNet

        return {"fill": MouthFillNet(size, arch["width"]), "critic": MouthFillCritic(size, arch["ndf"])}
    return get_setup(setup).build_networks(preset, size, arch)
