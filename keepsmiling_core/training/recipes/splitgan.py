"""SplitGAN recipe: autoencoder generator with a direct L1 reconstruction term and a light adversarial term.

The original (§6) only had the cycle term |x − De(E(De(E(x))))| (W7) and a sigmoid BCE discriminator with
a WGAN gradient penalty (B9). The "original" preset keeps its weights (λ_cycle 9, λ_adv 1, n_critic 2)
with a consistent objective (logits + zero-centred R1); "default" reconstructs directly (λ_rec 10),
keeps the adversarial term light so edits stay sharp without hurting PSNR, and updates both nets every step.
"""

from __future__ import annotations

import dataclasses

import torch

from ..losses import g_nonsaturating
from .base import CommonHyperparameters, Recipe, set_requires_grad, zero_step


@dataclasses.dataclass
class SplitGANHyperparameters(CommonHyperparameters):
    lambda_rec: float = 10.0     # direct |x − De(E(x))|
    lambda_cycle: float = 0.0    # the original's |x − De(E(De(E(x))))|
    lambda_adv: float = 0.1
    r1_gamma: float = 1.0
    r1_every: int = 4
    n_critic: int = 1            # discriminator steps per autoencoder step


class SplitGANRecipe(Recipe):
    setup = "splitgan"
    presets = {
        "original": SplitGANHyperparameters(
            batch_size=16, lambda_rec=0.0, lambda_cycle=9.0, lambda_adv=1.0, r1_gamma=3.0, r1_every=1,
            n_critic=2, decay_start=1.0, jitter=0.0,
        ),
        "default": SplitGANHyperparameters(batch_size=32, lr_g=5e-4, lr_d=2e-4, beta2=0.99),
    }

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
        with torch.set_grad_enabled(update_g), self.autocast():
            recon = De(E(images))

        losses, _ = self.nonsaturating_critic_step(D, images, recon, step)
        rec_l1 = (recon.detach().float() - images).abs().mean()
        losses["rec_l1"] = rec_l1

        if update_g:
            set_requires_grad(D, False)
            with self.autocast():
                adv = g_nonsaturating(D(recon).float())
                loss_g = hp.lambda_adv * adv
                if hp.lambda_rec > 0:
                    loss_g = loss_g + hp.lambda_rec * (recon.float() - images).abs().mean()
                if hp.lambda_cycle > 0:
                    cycle = (De(E(recon)).float() - images).abs().mean()
                    loss_g = loss_g + hp.lambda_cycle * cycle
                    losses["cycle_l1"] = cycle.detach()
            zero_step(self.optimizers["generator"], loss_g)
            losses["g_adv"] = adv.detach()
            losses["g"] = loss_g.detach()
        return losses

    def sample_grid(self, fixed_images, fixed_smiling, fixed_noise):
        """Rows: inputs and their reconstructions De(E(x))."""
        recon = self.nets["decoder"](self.nets["encoder"](fixed_images))
        return torch.cat([fixed_images, recon]), fixed_images.shape[0]
