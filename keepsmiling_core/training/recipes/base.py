"""What every setup's recipe provides to the trainer."""

from __future__ import annotations

import contextlib
import dataclasses
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ...compositing.tone import brightness
from ..distributed import SINGLE
from ..losses import d_nonsaturating, r1_penalty, smile_loss
from ..smile_motion import SmileMotion, motion_loss


@dataclasses.dataclass
class CommonHyperparameters:
    """Fields every setup has; setups extend this dataclass with their loss weights."""

    lr_g: float = 2e-4
    lr_d: float = 2e-4
    beta1: float = 0.5
    beta2: float = 0.999
    batch_size: int = 32
    schedule: str = "linear"       # linear | cosine | constant (see training/schedule.py)
    decay_start: float = 0.5       # fraction of the run after which the LR decays to 0
    hflip: bool = True
    jitter: float = 0.05


@dataclasses.dataclass
class SmileHeadOptions:
    """How a generator's smile loss is judged by the critic's smile head (SplitGAN and ComplexGAN)."""

    cls_blur: int = 1              # the head judges crops average-pooled by this factor (1 = sharp)
    judge_delivered: bool = False  # the loss sees the edit as pasted: x + its brightness change inside the mouth mask
    edit_margin: float = 0.0       # the loss keeps pulling until the head's logit is this far on the target side
    cls_shape_view: bool = False   # the head judges ``shape_view``: brightness alone cannot flip it


@dataclasses.dataclass
class ShapeEditWeights:
    """Loss weights of a generator that emits shape × texture edits (``models/shape_texture``); only read
    when the run's ``arch`` has ``shape_output: true``."""

    lambda_fold: float = 1.0     # no fold: the backward map's area ratio stays above 0.4 ...
    fold_reach: float = 1.0      # ... with the field scaled by this (2: strength 2 must not fold either)
    lambda_move: float = 2.0     # mean squared move in crop-side units: no move it does not need
    lambda_paint: float = 0.5    # mean paint mask: paint only what the parted lips reveal
    lambda_shape: float = 0.0    # the unit edit moves the corners as the data's mean smile does (smile_motion)
    shape_away: bool = True      # ... and an edit away from a smile moves them back (False: towards a smile only)


class Recipe(ABC):
    """Owns a setup's networks and optimizers and knows how to do one training step.

    ``train_step`` returns detached loss tensors (no ``.item()``, so a GPU is not synchronised every
    step); the trainer reads them only when it logs.
    """

    setup: ClassVar[str]   # its hyper-parameter presets live in the setup's spec (keepsmiling_core/setups)

    def __init__(self, nets: dict[str, nn.Module], hp: Any, device: torch.device) -> None:
        self.nets = nets
        self.hp = hp
        self.device = device
        self.amp_dtype = _amp_dtype(device)
        self.optimizers = self.make_optimizers()
        self.base_lrs = {name: self.base_lr(name) for name in self.optimizers}
        # (1, 1, S, S) typical mouth mask, set by the trainer when the setup judges edits as delivered.
        self.edit_mask: torch.Tensor | None = None
        # Set by the trainer while it runs: raises StopRequested once a stop was asked for.
        self.stop_check: Callable[[], None] | None = None
        # This process's slice of each global batch (training/distributed.py); set by the trainer.
        self.shard = SINGLE
        # The crop cache's mean smile (``smile_motion``), set by the trainer when ``lambda_shape`` > 0.
        self.smile_motion: SmileMotion | None = None

    def between_updates(self) -> None:
        """Called by ``train_step`` after the critic's update, before the generator's: a stop asked
        for meanwhile abandons the step here (the trainer undoes the critic's update)."""
        if self.stop_check is not None:
            self.stop_check()

    def noise(self, n: int, dim: int, device: torch.device) -> torch.Tensor:
        """Gaussian noise for this rank's ``n`` samples, drawn for the global batch (see ``Shard.take``)."""
        return self.shard.take(torch.randn(n * self.shard.world, dim, device=device))

    def delivered(self, images: torch.Tensor, change: torch.Tensor) -> torch.Tensor:
        """An edit as the photo will receive it: the brightness of ``change``, inside the mouth mask.

        The editor pastes only that (``EditOptions`` defaults); a smile head shown the raw network
        output rewards colour shifts and cheek shading that never reach the photo - the shipped
        SplitGAN's own output was 92 % smiling at α = 1, its delivered edit 76 %."""
        if self.edit_mask is None:
            raise RuntimeError("judging delivered edits needs the trainer to set edit_mask")
        return images + self.edit_mask.to(change.dtype) * brightness(change)

    @property
    def needs_edit_mask(self) -> bool:
        """Whether this recipe judges edits as delivered (``delivered``): the trainer then sets
        ``edit_mask`` from the crop cache's landmarks. Recipes with such an option override this."""
        return False

    @property
    def needs_smile_motion(self) -> bool:
        """Whether ``add_motion_penalty`` is on: the trainer then sets ``smile_motion`` from the cache."""
        return getattr(self.hp, "lambda_shape", 0.0) > 0

    def add_motion_penalty(self, loss: torch.Tensor, edit, towards_smile: torch.Tensor,
                           losses: dict) -> torch.Tensor:
        """``loss`` plus ``lambda_shape`` × how far this ``ShapeTexture`` edit's corners miss the mean
        smile's move (``smile_motion.motion_loss``); ``towards_smile`` (B,) says each edit's direction."""
        if not self.needs_smile_motion:
            return loss
        if self.smile_motion is None:
            raise RuntimeError("lambda_shape needs the trainer to set smile_motion")
        start, move = self.smile_motion.targets(towards_smile)
        weight = None if self.hp.shape_away else (towards_smile > 0.5).float()
        value = motion_loss(edit.field.float(), start, move, weight)
        losses["motion"] = losses.get("motion", 0) + value.detach()
        return loss + self.hp.lambda_shape * value

    @property
    def twice_differentiated(self) -> set[str]:
        """Nets whose loss takes a gradient of a gradient (R1, a gradient penalty): a data-parallel GPU run
        cannot give them SyncBatchNorm. Recipes with such a penalty override this."""
        return set()

    def adam(self, params, lr: float) -> torch.optim.Adam:
        return torch.optim.Adam(params, lr=lr, betas=(self.hp.beta1, self.hp.beta2))

    def base_lr(self, optimizer_name: str) -> float:
        return self.hp.lr_d if optimizer_name == "discriminator" else self.hp.lr_g

    def autocast(self):
        """bf16/fp16 autocast on CUDA only; on the CPU full float32 is both faster and reproducible."""
        if self.amp_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device.type, dtype=self.amp_dtype)

    def nonsaturating_critic_step(self, D: nn.Module, images: torch.Tensor, fake: torch.Tensor,
                                  step: int, smiling: torch.Tensor | None = None, lambda_cls: float = 0.0,
                                  cls_r1_gamma: float = 0.0, cls_view: Callable[[torch.Tensor], torch.Tensor] | None = None
                                  ) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
        """One non-saturating discriminator update with lazy zero-centred R1 (every ``r1_every`` steps).

        Shared by SimpleGAN and SplitGAN; returns the logged losses and the real logits. A critic with a
        smile head (returning ``(real/fake, smile)`` logits) also learns the real crops' labels, weighted
        by ``lambda_cls``, with its own R1 weight ``cls_r1_gamma``; ``cls_view`` (e.g. a blur) is what the
        smile head is shown instead of the crop itself."""
        hp = self.hp
        regularise = hp.r1_gamma > 0 and step % hp.r1_every == 0
        real = images.detach().requires_grad_(regularise)
        set_requires_grad(D, True)
        with self.autocast():
            real_logits, real_cls = critic_outputs(D, real, cls_view)
            fake_logits, _ = critic_outputs(D, fake.detach())
            loss_d = d_nonsaturating(real_logits.float(), fake_logits.float())
        losses = {"d": loss_d.detach()}
        if real_cls is not None and smiling is not None and lambda_cls > 0:
            cls_logits = real_cls.float()
            cls = smile_loss(cls_logits, smiling)
            loss_d = loss_d + lambda_cls * cls
            losses["d_cls"] = cls.detach()
            losses["d_cls_acc"] = ((cls_logits.detach() > 0).float() == smiling).float().mean()
        if regularise:
            r1 = r1_penalty(real_logits.float(), real)
            loss_d = loss_d + 0.5 * hp.r1_gamma * hp.r1_every * r1
            losses["r1"] = r1.detach()
            if real_cls is not None and cls_r1_gamma > 0:
                # A smooth smile head cannot be flipped by a faint pattern, so the generator has to draw a smile.
                r1_cls = r1_penalty(real_cls.float(), real)
                loss_d = loss_d + 0.5 * cls_r1_gamma * hp.r1_every * r1_cls
                losses["r1_cls"] = r1_cls.detach()
        zero_step(self.optimizers["discriminator"], loss_d)
        return losses, real_logits

    @classmethod
    def select_training_indices(cls, smiling: np.ndarray) -> np.ndarray:
        """Indices of the crops this setup trains on (all by default); a classmethod so ``--epochs`` can
        count them before any network exists."""
        return np.arange(len(smiling))

    @abstractmethod
    def make_optimizers(self) -> dict[str, torch.optim.Optimizer]: ...

    @abstractmethod
    def train_step(self, images: torch.Tensor, smiling: torch.Tensor, step: int) -> dict[str, torch.Tensor]: ...

    @abstractmethod
    def sample_grid(self, fixed_images: torch.Tensor, fixed_smiling: torch.Tensor,
                    fixed_noise: torch.Tensor) -> tuple[torch.Tensor, int]:
        """Images in [-1, 1] for the progress grid and the number per row; called in eval mode."""

    def noise_dim(self) -> int:
        return 0


def critic_outputs(D: nn.Module, x: torch.Tensor, cls_view: Callable[[torch.Tensor], torch.Tensor] | None = None,
                   cls_input: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
    """(real/fake logits, smile logits or None) of a critic with or without a smile head.

    The smile head judges ``cls_input`` when given (e.g. ``Recipe.delivered``: the edit as pasted),
    else ``x``; with ``cls_view`` (see ``pooled_view``) it judges that view of it."""
    out = D(x)
    if not isinstance(out, tuple):
        return out, None
    src, cls = out
    if cls_view is not None or cls_input is not None:
        judged = x if cls_input is None else cls_input
        cls = D(judged if cls_view is None else cls_view(judged))[1]
    return src, cls


def pooled_view(factor: int) -> Callable[[torch.Tensor], torch.Tensor] | None:
    """What a critic's smile head is shown when ``factor`` > 1: the crop average-pooled by ``factor`` and
    scaled back up. Only a change visible at that resolution - the shape of the mouth, teeth, corners -
    can then flip the head's verdict; coloured specks and checkerboards, which fool a sharp head, earn
    the generator nothing. None (the sharp crop) for factor <= 1."""
    if factor <= 1:
        return None

    def view(x: torch.Tensor) -> torch.Tensor:
        return F.interpolate(F.avg_pool2d(x, factor), scale_factor=factor, mode="bilinear", align_corners=False)

    return view


def smile_head_view(hp: SmileHeadOptions) -> Callable[[torch.Tensor], torch.Tensor] | None:
    """The view a recipe's smile head judges: ``shape_view`` when ``hp.cls_shape_view``, else ``pooled_view``."""
    return shape_view(hp.cls_blur) if hp.cls_shape_view else pooled_view(hp.cls_blur)


def add_shape_penalties(loss: torch.Tensor, hp: Any, edits: list, losses: dict) -> torch.Tensor:
    """``loss`` plus the weighted fold / move / paint penalties of these ``ShapeTexture`` edits
    (``ShapeEditWeights``); each penalty's mean over the edits goes to ``losses`` for the log."""
    from ...models.shape_texture import field_penalties

    for edit in edits:
        for name, value in field_penalties(edit, reach=hp.fold_reach).items():
            loss = loss + getattr(hp, f"lambda_{name}") * value
            losses[name] = losses.get(name, 0) + value.detach() / len(edits)
    return loss


def shape_view(blur: int = 2) -> Callable[[torch.Tensor], torch.Tensor]:
    """What a smile head sees when it must judge shape, not brightness: each crop's grey level with its
    own mean and contrast removed (a brighter or paler mouth looks the same), pooled by ``blur``. Lifted
    corners, a curved lip line and the dark-light pattern of teeth in a gap still show; a uniformly
    lighter blob of lips does not. Three equal channels, so any critic takes it."""
    pooled = pooled_view(blur)

    def view(x: torch.Tensor) -> torch.Tensor:
        grey = x.mean(dim=1, keepdim=True)
        mean = grey.mean(dim=(2, 3), keepdim=True)
        spread = grey.std(dim=(2, 3), keepdim=True).clamp(min=0.05)
        normalised = ((grey - mean) / spread * 0.4).clamp(-1, 1).expand(-1, 3, -1, -1)
        return normalised if pooled is None else pooled(normalised)

    return view


def _amp_dtype(device: torch.device) -> torch.dtype | None:
    if device.type != "cuda":
        return None
    return torch.bfloat16 if torch.cuda.is_bf16_supported() else None


def set_requires_grad(net: nn.Module, flag: bool) -> None:
    """Freeze a network while the other side of the GAN is updated (saves its weight gradients)."""
    for p in net.parameters():
        p.requires_grad_(flag)


def zero_step(optimizer: torch.optim.Optimizer, loss: torch.Tensor) -> None:
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
