"""SplitGAN: an encoder/decoder whose latent holds a smile direction; edits decode z + α·direction."""

from __future__ import annotations

from typing import Any

from ..setup_spec import SetupSpec, TrainingPreset

ARCHITECTURES: dict[str, dict[str, Any]] = {
    "original": {"conv_dim": 32, "res_blocks": 2, "ngf": 64, "ndf": 64},
    # The critic's smile head teaches the decoder what z ± (μ_smile − μ_non) must look like.
    # shape_output: the decoder emits (field, paint mask, colour) for the input crop (models/shape_texture)
    "default": {"width": 32, "latent_channels": 16, "res_blocks": 1, "ndf": 32, "smile_head": True,
                "shape_output": False},
}


def build_networks(preset: str, size: int, arch: dict[str, Any]) -> dict[str, Any]:
    """encoder + decoder + discriminator."""
    from ..models.discriminators import DCGANDiscriminator, PatchDiscriminator
    from ..models.splitgan import Decoder, Encoder, OriginalDecoder, OriginalEncoder, ShapeDecoder

    if preset == "original":
        return {
            "encoder": OriginalEncoder(size, arch["conv_dim"], arch["res_blocks"]),
            "decoder": OriginalDecoder(size, arch["conv_dim"], arch["ngf"]),
            "discriminator": DCGANDiscriminator(size, ndf=arch["ndf"], batchnorm=True),
        }
    return {
        "encoder": Encoder(size, arch["width"], arch["latent_channels"], arch["res_blocks"]),
        "decoder": (ShapeDecoder if arch["shape_output"] else Decoder)(
            size, arch["width"], arch["latent_channels"], arch["res_blocks"]),
        "discriminator": PatchDiscriminator(size, ndf=arch["ndf"], smile_head=arch["smile_head"]),
    }


def recipe() -> type:
    from ..training.recipes.splitgan import SplitGANRecipe

    return SplitGANRecipe


def training_presets() -> dict[str, TrainingPreset]:
    from ..training.recipes.splitgan import SplitGANHyperparameters

    return {
        "original": TrainingPreset(SplitGANHyperparameters(
            batch_size=16, lambda_rec=0.0, lambda_cycle=9.0, lambda_adv=1.0, r1_gamma=3.0, r1_every=1,
            n_critic=2, decay_start=1.0, jitter=0.0,
        )),
        # The edit terms: with a sharp smile head and λ_edit_adv 0.1 the decoder fooled the head with
        # coloured specks and checkerboards (41 % success at α = 1 after 400 steps, and visibly damaged
        # mouths); showing the head a 4x-pooled crop, smoothing it with R1 and weighting the realism of
        # the edit 0.3 make the edit draw teeth and lip shapes instead.
        "default": TrainingPreset(SplitGANHyperparameters(
            batch_size=32, lr_g=5e-4, lr_d=2e-4, beta2=0.99, lambda_cls=1.0, lambda_edit=1.0,
            lambda_edit_adv=0.3, cls_r1_gamma=1.0, cls_blur=4,
        )),
    }


def edit_backend(model, options, *, direction=None, given=None):
    """Decode z + α·direction (the calibrated latent smile direction stored beside the checkpoint)."""
    from ..editing.network_edits import LatentShapeEdit, LatentShiftEdit
    from ..models.shape_texture import is_shape_net

    edit = LatentShapeEdit if is_shape_net(model.nets["decoder"]) else LatentShiftEdit
    return edit(model, options, direction=direction, given=given)


SPEC = SetupSpec(
    name="splitgan",
    display_name="SplitGAN",
    description="encoder/decoder with a smile direction — best for editing photos.",
    architectures=ARCHITECTURES,
    legacy_knobs={"default": {"smile_head": False, "shape_output": False}},
    build_networks=build_networks,
    recipe=recipe,
    training_presets=training_presets,
    edit_backend=edit_backend,
    needs_direction=True,
    listing_order=10,
)
