"""SimpleGAN recipe: DCGAN with the non-saturating loss on logits, smiling crops only.

The original trained on every mouth: its smile filter kept all rows (bug B1 in docs/original-setups.md#b1).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ...models.simplegan import sampling_generator, update_average
from ..losses import g_nonsaturating
from .base import CommonHyperparameters, Recipe, set_requires_grad, zero_step


@dataclasses.dataclass
class SimpleGANHyperparameters(CommonHyperparameters):
    r1_gamma: float = 0.0      # zero-centred gradient penalty on real crops (0 = off)
    r1_every: int = 4          # lazy regularisation: penalise every N steps with weight x N
    ema_decay: float = 0.995   # generator weight average (arch "ema"); ramped up over the first steps


class SimpleGANRecipe(Recipe):
    setup = "simplegan"

    @property
    def twice_differentiated(self) -> set[str]:
        return {"discriminator"} if self.hp.r1_gamma else set()

    def make_optimizers(self):
        return {
            "generator": self.adam(self.nets["generator"].parameters(), self.hp.lr_g),
            "discriminator": self.adam(self.nets["discriminator"].parameters(), self.hp.lr_d),
        }

    def noise_dim(self) -> int:
        return self.nets["generator"].nz

    @classmethod
    def select_training_indices(cls, smiling: np.ndarray) -> np.ndarray:
        return np.flatnonzero(smiling)

    def train_step(self, images, smiling, step):
        G, D = self.nets["generator"], self.nets["discriminator"]
        z = self.noise(images.shape[0], G.nz, images.device)
        with self.autocast():
            fake = G(z)
        losses, real_logits = self.nonsaturating_critic_step(D, images, fake, step)

        self.between_updates()
        set_requires_grad(D, False)
        with self.autocast():
            loss_g = g_nonsaturating(D(fake))
        zero_step(self.optimizers["generator"], loss_g)
        if "generator_ema" in self.nets:
            # Averaging the generator's recent weights smooths out the oscillation of GAN training
            # (Yazıcı et al., 2019); the ramp keeps the average from clinging to the random start.
            update_average(self.nets["generator_ema"], G, min(self.hp.ema_decay, (1 + step) / (10 + step)))
        losses["g"] = loss_g.detach()
        losses["d_real"] = real_logits.detach().float().mean()
        return losses

    def sample_grid(self, fixed_images, fixed_smiling, fixed_noise):
        return sampling_generator(self.nets)(fixed_noise), 8
