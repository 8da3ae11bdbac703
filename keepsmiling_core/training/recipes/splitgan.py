"""SplitGAN recipe: autoencoder generator with a direct L1 reconstruction term and a light adversarial term.

The original (docs/original-setups.md#splitgan) only had the cycle term |x − De(E(De(E(x))))| (its
weakness W7) and a sigmoid BCE discriminator with a WGAN gradient penalty (its bug B9; both in
docs/original-setups.md#bugs). The "original" preset keeps its weights (λ_cycle 9, λ_adv 1, n_critic 2)
with a consistent objective (logits + zero-centred R1); "default" reconstructs directly (λ_rec 10),
keeps the adversarial term light so edits stay sharp without hurting PSNR, and updates both nets every step.

Why the default also trains the edit: a plain autoencoder has no reason to decode z + (μ_smile − μ_non)
as a smile. Its latent is nearly a picture, and the mean difference decodes to a faint ghost of an
average mouth (the shipped 1,400-step autoencoder turned 28 % of test mouths into smiles at α = 1).
So each step also moves every latent by the batch's own class-mean difference, towards the other
label, and asks the critic's smile head (trained on real crops only) to see the other label in the
decoded result, and its real/fake head to see a real mouth. The encoder still takes no label; at
inference the edit is exactly the seed's: z + α·(μ_smile − μ_non) with the means over the data.
"""

from __future__ import annotations

import dataclasses

import torch

from ...models.shape_texture import deliver, is_shape_net
from ..losses import g_nonsaturating, margin_smile_loss
from .base import (
    CommonHyperparameters,
    Recipe,
    ShapeEditWeights,
    SmileHeadOptions,
    add_shape_penalties,
    critic_outputs,
    set_requires_grad,
    smile_head_view,
    zero_step,
)


@dataclasses.dataclass
class SplitGANHyperparameters(SmileHeadOptions, ShapeEditWeights, CommonHyperparameters):
    lambda_rec: float = 10.0     # direct |x − De(E(x))|
    lambda_cycle: float = 0.0    # the original's |x − De(E(De(E(x))))|
    lambda_adv: float = 0.1
    r1_gamma: float = 1.0
    r1_every: int = 4
    n_critic: int = 1            # discriminator steps per autoencoder step
    lambda_cls: float = 0.0      # critic: smile head on real crops (needs arch smile_head)
    cls_r1_gamma: float = 0.0    # critic: R1 on the smile head too, so only a visible change can flip it
    lambda_edit: float = 0.0     # decoder: De(z ± (μ_smile − μ_non)) must show the other label
    lambda_edit_adv: float = 0.0  # decoder: ... and look real


class SplitGANRecipe(Recipe):
    setup = "splitgan"

    @property
    def needs_edit_mask(self) -> bool:
        return bool(self.hp.judge_delivered)

    @property
    def twice_differentiated(self) -> set[str]:
        return {"discriminator"} if self.hp.r1_gamma or self.hp.cls_r1_gamma else set()

    def make_optimizers(self):
        autoencoder = [*self.nets["encoder"].parameters(), *self.nets["decoder"].parameters()]
        return {
            "generator": self.adam(autoencoder, self.hp.lr_g),
            "discriminator": self.adam(self.nets["discriminator"].parameters(), self.hp.lr_d),
        }

    def train_step(self, images, smiling, step):
        E, De, D = self.nets["encoder"], self.nets["decoder"], self.nets["discriminator"]
        hp = self.hp
        update_g = step % hp.n_critic == hp.n_critic - 1
        editing = hp.lambda_edit > 0 or hp.lambda_edit_adv > 0
        shape = is_shape_net(De)
        with torch.set_grad_enabled(update_g), self.autocast():
            latent = E(images)
            recon = De(latent)
            edited = De(latent + self.edit_shift(latent, smiling)) if editing else None
            # A shape decoder says how to move and paint the input; what is judged is the input so edited.
            edits = [e for e in (recon, edited) if e is not None] if shape else []
            if shape:
                recon = deliver(images, recon)
                edited = None if edited is None else deliver(images, edited)

        fakes = recon if edited is None else torch.cat([recon, edited])
        cls_view = smile_head_view(hp)
        losses, _ = self.nonsaturating_critic_step(D, images, fakes, step, smiling, hp.lambda_cls,
                                                      hp.cls_r1_gamma, cls_view)
        rec_l1 = (recon.detach().float() - images).abs().mean()
        losses["rec_l1"] = rec_l1

        if update_g:
            self.between_updates()
            set_requires_grad(D, False)
            with self.autocast():
                adv = g_nonsaturating(critic_outputs(D, recon)[0].float())
                loss_g = hp.lambda_adv * adv
                if hp.lambda_rec > 0:
                    loss_g = loss_g + hp.lambda_rec * (recon.float() - images).abs().mean()
                if hp.lambda_cycle > 0:
                    cycle = (De(E(recon)).float() - images).abs().mean()
                    loss_g = loss_g + hp.lambda_cycle * cycle
                    losses["cycle_l1"] = cycle.detach()
                loss_g = add_shape_penalties(loss_g, hp, edits, losses)
                if shape and edited is not None:
                    loss_g = self.add_motion_penalty(loss_g, edits[1], 1.0 - smiling, losses)
                if edited is not None:
                    # The editor pastes x + (De(z + shift) - De(z)), toned and masked (a shape edit: as delivered).
                    judged = self.delivered(images, edited - recon) if hp.judge_delivered and not shape else None
                    src, cls = critic_outputs(D, edited, cls_view, judged)
                    edit_adv = g_nonsaturating(src.float())
                    edit_cls = margin_smile_loss(cls.float(), 1.0 - smiling, hp.edit_margin)  # the other label
                    loss_g = loss_g + hp.lambda_edit * edit_cls + hp.lambda_edit_adv * edit_adv
                    losses["edit_cls"] = edit_cls.detach()
                    losses["edit_flip_acc"] = ((cls.detach() > 0).float() != smiling).float().mean()
            zero_step(self.optimizers["generator"], loss_g)
            losses["g_adv"] = adv.detach()
            losses["g"] = loss_g.detach()
        return losses

    @staticmethod
    def edit_shift(latent: torch.Tensor, smiling: torch.Tensor) -> torch.Tensor:
        """Per-sample latent move to the other label: +(μ_smile − μ_non) for non-smiling crops, − for smiling.

        The means are the batch's (with gradient, so the encoder may pull the classes apart); a batch
        holding only one label moves nothing. Computed with masks on the device - no ``bool(tensor)``
        branch - so a GPU step is not synchronised by it. With several ranks the means are each rank's
        own batch's, as BatchNorm's statistics are without SyncBatchNorm."""
        shape = (-1, *([1] * (latent.dim() - 1)))
        weight = (smiling > 0.5).to(latent.dtype).view(shape)
        count_smile, count_non = weight.sum(), (1.0 - weight).sum()
        mean_smile = (latent * weight).sum(0) / count_smile.clamp(min=1.0)
        mean_non = (latent * (1.0 - weight)).sum(0) / count_non.clamp(min=1.0)
        both = ((count_smile > 0) & (count_non > 0)).to(latent.dtype)
        sign = (1.0 - 2.0 * smiling).to(latent.dtype).view(shape)
        return sign * (both * (mean_smile - mean_non))

    def sample_grid(self, fixed_images, fixed_smiling, fixed_noise):
        """Rows: inputs, their reconstructions De(E(x)) and, when the edit is trained, their edits to the
        other label with the fixed batch's mean difference."""
        De = self.nets["decoder"]
        latent = self.nets["encoder"](fixed_images)

        def decoded(z: torch.Tensor) -> torch.Tensor:
            return deliver(fixed_images, De(z)) if is_shape_net(De) else De(z)

        rows = [fixed_images, decoded(latent)]
        if self.hp.lambda_edit > 0 or self.hp.lambda_edit_adv > 0:
            rows.append(decoded(latent + self.edit_shift(latent, fixed_smiling)))
        return torch.cat(rows), fixed_images.shape[0]

