"""Build the networks of a setup by name, so checkpoints, the trainer and the editor agree on shapes.

``build_setup(setup, preset, size)`` is the only constructor the rest of the code uses; a checkpoint
stores (setup, preset, size, arch) and ``load_model`` rebuilds exactly the same modules from them.
"""

from __future__ import annotations

import copy
from typing import Any

from torch import nn

SETUPS = ("simplegan", "complexgan", "splitgan")
# Networks that measure rather than edit, built by the same registry so the one checkpoint format serves
# them: "classifier" judges mouth crops (training losses, crop-level evaluation); "judge" judges the
# aligned whole face of a finished photo (evaluation/face_judge.py). Both are a SmileClassifier.
JUDGE_SETUPS = ("classifier", "judge")
PRESETS = ("default", "original")

# Architecture knobs per (setup, preset). "original" reproduces docs/original-setups.md;
# "default" is narrower so that a 64x64, batch-32 step stays in the 0.2–0.4 s range on 2 CPU cores.
ARCHITECTURES: dict[str, dict[str, dict[str, Any]]] = {
    "simplegan": {
        "original": {"nz": 100, "ngf": 64, "ndf": 64},
        # The DCGAN BatchNorm critic: on MTFL at 32px it gives mouths after 500 steps, where the patch critic
        # (with R1 or spectral norm) stayed at chance and the generator drew stripes.
        # The original's DCGAN widths (the narrower 32/32 lost to it at equal steps) plus a generator
        # weight average, which the samples are drawn from.
        "default": {"nz": 100, "ngf": 64, "ndf": 64, "d_batchnorm": True, "spectral_norm": False, "ema": True},
    },
    "complexgan": {
        "original": {"conv_dim": 32, "res_blocks": 2, "ngf": 64, "ndf": 64},
        "default": {"conv_dim": 16, "res_blocks": 2, "ndf": 32},
    },
    "splitgan": {
        "original": {"conv_dim": 32, "res_blocks": 2, "ngf": 64, "ndf": 64},
        # The critic's smile head teaches the decoder what z ± (μ_smile − μ_non) must look like.
        "default": {"width": 32, "latent_channels": 16, "res_blocks": 1, "ndf": 32, "smile_head": True},
    },
}


# Knobs added after checkpoints already existed, with the value that reproduces those older networks:
# a stored arch without the knob was built the old way.
LEGACY_KNOBS: dict[str, dict[str, dict[str, Any]]] = {
    "simplegan": {"default": {"d_batchnorm": False, "spectral_norm": False, "ema": False}},
    "splitgan": {"default": {"smile_head": False}},
}


def stored_architecture(setup: str, preset: str, stored: dict[str, Any]) -> dict[str, Any]:
    """The arch of a saved run or checkpoint, completed for knobs newer than it (see LEGACY_KNOBS)."""
    legacy = LEGACY_KNOBS.get(setup, {}).get(preset, {})
    return {**{k: v for k, v in legacy.items() if k not in stored}, **stored}


def architecture(setup: str, preset: str = "default", **overrides: Any) -> dict[str, Any]:
    """The resolved architecture knobs (preset values updated by ``overrides``), as stored in checkpoints."""
    setup, preset = check_setup(setup, preset)
    if setup in JUDGE_SETUPS:
        return dict(overrides)
    arch = dict(ARCHITECTURES[setup][preset])
    unknown = set(overrides) - set(arch)
    if unknown:
        raise ValueError(f"unknown architecture option(s) for {setup}/{preset}: {', '.join(sorted(unknown))}")
    arch.update(overrides)
    return arch


def check_setup(setup: str, preset: str) -> tuple[str, str]:
    if setup not in SETUPS and setup not in JUDGE_SETUPS:
        raise ValueError(f"unknown setup {setup!r}; choose one of {', '.join(SETUPS)}")
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; choose one of {', '.join(PRESETS)}")
    return setup, preset


def build_setup(setup: str, preset: str = "default", size: int = 64, **overrides: Any) -> dict[str, nn.Module]:
    """Fresh networks of a setup: simplegan/complexgan -> generator + discriminator,
    splitgan -> encoder + decoder + discriminator, classifier -> classifier, judge -> judge."""
    arch = architecture(setup, preset, **overrides)
    if setup in JUDGE_SETUPS:
        from .classifier import SmileClassifier  # owned by the editing part; imported only when asked for

        return {setup: SmileClassifier(size, **arch)}
    if setup == "simplegan":
        from .discriminators import DCGANDiscriminator, PatchDiscriminator
        from .simplegan import DCGANGenerator

        generator = DCGANGenerator(size, nz=arch["nz"], ngf=arch["ngf"])
        if preset == "original" or arch["d_batchnorm"]:
            discriminator: nn.Module = DCGANDiscriminator(size, ndf=arch["ndf"], batchnorm=True)
        else:
            discriminator = PatchDiscriminator(size, ndf=arch["ndf"], spectral_norm=arch["spectral_norm"])
        nets = {"generator": generator, "discriminator": discriminator}
        if arch.get("ema"):
            nets["generator_ema"] = copy.deepcopy(generator).requires_grad_(False)
        return nets
    if setup == "complexgan":
        from .complexgan import OriginalComplexGenerator, StarGenerator
        from .discriminators import DCGANDiscriminator, PatchDiscriminator

        if preset == "original":
            return {
                "generator": OriginalComplexGenerator(size, arch["conv_dim"], arch["res_blocks"], arch["ngf"]),
                "discriminator": DCGANDiscriminator(size, ndf=arch["ndf"], batchnorm=True, smile_head=True),
            }
        return {
            "generator": StarGenerator(size, arch["conv_dim"], arch["res_blocks"]),
            "discriminator": PatchDiscriminator(size, ndf=arch["ndf"], smile_head=True, slope=0.01),
        }
    from .discriminators import DCGANDiscriminator, PatchDiscriminator
    from .splitgan import Decoder, Encoder, OriginalDecoder, OriginalEncoder

    if preset == "original":
        return {
            "encoder": OriginalEncoder(size, arch["conv_dim"], arch["res_blocks"]),
            "decoder": OriginalDecoder(size, arch["conv_dim"], arch["ngf"]),
            "discriminator": DCGANDiscriminator(size, ndf=arch["ndf"], batchnorm=True),
        }
    return {
        "encoder": Encoder(size, arch["width"], arch["latent_channels"], arch["res_blocks"]),
        "decoder": Decoder(size, arch["width"], arch["latent_channels"], arch["res_blocks"]),
        "discriminator": PatchDiscriminator(size, ndf=arch["ndf"], smile_head=arch["smile_head"]),
    }
