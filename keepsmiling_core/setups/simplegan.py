"""SimpleGAN: a DCGAN that draws smiling mouths from noise (it cannot edit photos)."""

from __future__ import annotations

import copy
from typing import Any

from ..setup_spec import SetupSpec, TrainingPreset

ARCHITECTURES: dict[str, dict[str, Any]] = {
    "original": {"nz": 100, "ngf": 64, "ndf": 64},
    # The DCGAN BatchNorm critic: on MTFL at 32px it gives mouths after 500 steps, where the patch critic
    # (with R1 or spectral norm) stayed at chance and the generator drew stripes.
    # The original's DCGAN widths (the narrower 32/32 lost to it at equal steps) plus a generator
    # weight average, which the samples are drawn from.
    "default": {"nz": 100, "ngf": 64, "ndf": 64, "d_batchnorm": True, "spectral_norm": False, "ema": True},
}


def build_networks(preset: str, size: int, arch: dict[str, Any]) -> dict[str, Any]:
    """generator + discriminator (+ "generator_ema", the weight average samples come from)."""
    from torch import nn

    from ..models.discriminators import DCGANDiscriminator, PatchDiscriminator
    from ..models.simplegan import DCGANGenerator

    generator = DCGANGenerator(size, nz=arch["nz"], ngf=arch["ngf"])
    if preset == "original" or arch["d_batchnorm"]:
        discriminator: nn.Module = DCGANDiscriminator(size, ndf=arch["ndf"], batchnorm=True)
    else:
        discriminator = PatchDiscriminator(size, ndf=arch["ndf"], spectral_norm=arch["spectral_norm"])
    nets = {"generator": generator, "discriminator": discriminator}
    if arch.get("ema"):
        nets["generator_ema"] = copy.deepcopy(generator).requires_grad_(False)
    return nets


def recipe() -> type:
    from ..training.recipes.simplegan import SimpleGANRecipe

    return SimpleGANRecipe


def training_presets() -> dict[str, TrainingPreset]:
    from ..training.recipes.simplegan import SimpleGANHyperparameters

    return {
        # docs/original-setups.md#simplegan: Adam 2e-4 (0.5, 0.999), batch 16, BCE; only the bugs are fixed
        # (filter, logits, float labels).
        "original": TrainingPreset(SimpleGANHyperparameters(batch_size=16, schedule="linear", decay_start=1.0,
                                                            jitter=0.0)),
        # DCGAN as it works best on mouths, with a larger batch, mirrored crops, an LR decaying over the
        # second half and samples drawn from the generator's weight average (arch "ema"). No colour jitter:
        # it is applied to real crops only, so the generator would learn to imitate it. (R1 is available
        # but off: with it the critic stayed at chance.)
        "default": TrainingPreset(SimpleGANHyperparameters(batch_size=32, r1_gamma=0.0, lr_d=2e-4, lr_g=2e-4,
                                                           jitter=0.0)),
    }


SPEC = SetupSpec(
    name="simplegan",
    display_name="SimpleGAN",
    description="draws new smiling mouths from noise (no photo edits).",
    architectures=ARCHITECTURES,
    legacy_knobs={"default": {"d_batchnorm": False, "spectral_norm": False, "ema": False}},
    build_networks=build_networks,
    recipe=recipe,
    training_presets=training_presets,
    draws_samples=True,
    cannot_edit="SimpleGAN only draws new mouths from noise; pick a SplitGAN or ComplexGAN model to edit faces.",
    listing_order=30,
)
