"""How each network setup edits mouth crops at strength α: the part of ``Editor`` that differs per setup.

A setup's spec (``keepsmiling_core/setups``) returns one of these from its ``edit_backend`` factory;
``Editor`` owns everything the setups share (checking and cropping the face, colour matching,
blending into the photo) and asks the backend only for three things:

- ``encode(x)``: the α-independent state of a batch of crops (run once per face);
- ``decode(state, alpha)``: the edited crops at α (every slider move), float in [-1, 1];
- ``reconstruct(state, smiling)``: the network's plain reconstruction (the evaluation's PSNR/SSIM).

``keeps_input`` says whether α = 0 leaves the photo's own mouth in place; only then may colour matching
look at the skin alone (a full re-render needs the mouth too).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path

import torch

from keepsmiling_core.compositing.tone import brightness
from keepsmiling_core.errors import CheckpointError
from keepsmiling_core.models.shape_texture import ShapeTexture, deliver, mirror_averaged, with_mirror_images


class NetworkEdit(ABC):
    """One loaded model's edit of crops; ``decode`` is called under ``torch.no_grad``."""

    keeps_input: bool = True

    def __init__(self, model, options) -> None:
        self.model = model
        self.options = options
        first = next(iter(model.nets.values()))
        self.device = next(first.parameters()).device
        self.dtype = next(first.parameters()).dtype

    def tone(self, change: torch.Tensor) -> torch.Tensor:
        """The change as the photo receives it: its brightness only, when ``brightness_only`` is set."""
        if not self.options.brightness_only:
            return change
        return brightness(change).expand_as(change)

    @abstractmethod
    def encode(self, x: torch.Tensor) -> dict: ...

    @abstractmethod
    def decode(self, state: dict, alpha: float) -> torch.Tensor: ...

    @abstractmethod
    def reconstruct(self, state: dict, smiling: bool) -> torch.Tensor: ...


class LatentShiftEdit(NetworkEdit):
    """SplitGAN: decode z + α·direction; by default only the change it makes reaches the photo
    (``residual``: x + De(z + shift) − De(z), so α = 0 is the photo itself)."""

    def __init__(self, model, options, direction=None, given: Path | None = None) -> None:
        from keepsmiling_core.editing.latent import load_direction

        super().__init__(model, options)
        self.keeps_input = bool(options.residual)
        self.direction = direction or load_direction(Path(model.path), model.step, also=given)
        expected = tuple(getattr(model.nets["encoder"], "latent_shape", self.direction.latent_shape))
        if tuple(self.direction.latent_shape) != expected:
            raise CheckpointError(
                f"The smile direction of {model.path} has latent_shape {list(self.direction.latent_shape)}, "
                f"but the model's encoder gives {list(expected)}; recompute it with 'keepsmiling latent'.")
        self._unit = self.direction.unit.to(self.device, self.dtype).reshape(1, *self.direction.latent_shape)

    def encode(self, x):
        latent = self.model.nets["encoder"](x)
        return {"latent": latent, "x": x, "rec": self.model.nets["decoder"](latent)}

    def decode(self, state, alpha):
        latent = state["latent"] + alpha * self.direction.calibration * self._unit
        decoded = self.model.nets["decoder"](latent)
        if self.options.residual:  # only what the latent move changes reaches the photo
            change = decoded - state["rec"]
            if self.options.smooth_change:
                change = _binomial_blur(change)
            return (state["x"] + self.tone(change)).clamp(-1, 1)
        return decoded

    def reconstruct(self, state, smiling):
        return self.model.nets["decoder"](state["latent"])


class TranslationEdit(NetworkEdit):
    """ComplexGAN: α >= 0 interpolates x + α·(G(x, smiling) − x); α < 0 uses G(x, not smiling); α = 0 is
    the input. Only a generator with an attention mask keeps the input's mouth at α = 0 when colour matching."""

    def __init__(self, model, options) -> None:
        super().__init__(model, options)
        self.keeps_input = hasattr(model.nets.get("generator"), "forward_with_mask")

    def encode(self, x):
        gen = self.model.nets["generator"]
        ones = torch.ones(len(x), device=self.device, dtype=self.dtype)
        return {"x": x, "smile": gen(x, ones), "non_smile": gen(x, ones * 0)}

    def decode(self, state, alpha):
        x = state["x"]
        target = state["smile"] if alpha >= 0 else state["non_smile"]
        return (x + abs(alpha) * self.tone(target - x)).clamp(-1, 1)

    def reconstruct(self, state, smiling):
        return state["smile" if smiling else "non_smile"]


class ShapeEdit:
    """For networks that emit ``ShapeTexture``: one edit towards a smile (α > 0) and one away from it
    (α < 0) per face, each scaled by |α| (``deliver``). ``encode`` leaves them in ``state["up"]`` and
    ``state["down"]``; ``ShapeEditor`` up-samples them onto the photo, ``decode`` applies them to crops."""

    edits_shape = True
    keeps_input = True

    def decode(self, state, alpha):
        edit = state["up"] if alpha >= 0 else state["down"]
        return deliver(state["x"], edit, abs(alpha)).clamp(-1, 1)


class LatentShapeEdit(ShapeEdit, LatentShiftEdit):
    """SplitGAN with a shape decoder: the edits at z ± direction, each less the reconstruction's own
    move (so a decoder that moves a little even at z leaves the photo still at α = 0 and adds nothing)."""

    def encode(self, x):
        De = self.model.nets["decoder"]
        latents = self.model.nets["encoder"](with_mirror_images(x))   # each crop and its mirror image
        step = self.direction.calibration * self._unit
        zero = De(latents)
        return {"latent": latents[:len(x)], "x": x,
                "up": mirror_averaged(_less_move(De(latents + step), zero)),
                "down": mirror_averaged(_less_move(De(latents - step), zero))}

    def reconstruct(self, state, smiling):
        return deliver(state["x"], self.model.nets["decoder"](state["latent"]))


class TranslationShapeEdit(ShapeEdit, TranslationEdit):
    """ComplexGAN with a shape generator: its edits for the smiling and the non-smiling label."""

    def encode(self, x):
        gen = self.model.nets["generator"]
        both = with_mirror_images(x)   # each crop and its mirror image: ``mirror_averaged`` says why
        ones = torch.ones(len(both), device=self.device, dtype=self.dtype)
        return {"x": x, "up": mirror_averaged(gen.edit(both, ones)), "down": mirror_averaged(gen.edit(both, ones * 0))}

    def reconstruct(self, state, smiling):
        return deliver(state["x"], state["up" if smiling else "down"])


def _less_move(edit: ShapeTexture, zero: ShapeTexture) -> ShapeTexture:
    return ShapeTexture(field=edit.field - zero.field, mask=(edit.mask - zero.mask).clamp(min=0), colour=edit.colour)


def _binomial_blur(images: torch.Tensor) -> torch.Tensor:
    """3x3 binomial filter per channel: zero response at the 2-pixel period of transposed-convolution
    checkerboards, while mouth shapes and teeth (several pixels across) pass almost unchanged."""
    taps = torch.tensor([1.0, 2.0, 1.0], device=images.device, dtype=images.dtype)
    kernel = (taps[:, None] * taps[None, :] / 16.0).expand(images.shape[1], 1, 3, 3)
    padded = torch.nn.functional.pad(images, (1, 1, 1, 1), mode="replicate")
    return torch.nn.functional.conv2d(padded, kernel, groups=images.shape[1])
