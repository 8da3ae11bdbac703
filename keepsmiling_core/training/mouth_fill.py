"""Train the mouth-fill network: cut real open mouths' inner-lip hole out and paint it back.

Unlike the GAN setups this is supervised: every training hole has its true content (the teeth and gap
that were there), so an L1 loss teaches colour and layout and a local patch critic keeps the teeth crisp
instead of the L1 average (grey). The hole is the inner-lip polygon grown by 1–2.5 px, so the network
always sees lips around it — as in the editor, where the hole is the gap the warp opens between lips.
Runs resume from their newest checkpoint (written atomically every ``checkpoint_every`` steps).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from keepsmiling_core.data.crops import CropConfig
from keepsmiling_core.errors import TrainingError
from keepsmiling_core.models.mouth_fill import HOLE_GROWTH_PX, grow_hole, mouth_band
from keepsmiling_core.training.losses import r1_penalty
from keepsmiling_core.training.mouth_fill_data import MouthSamples

SETUP = "mouthfill"


@dataclass
class MouthFillConfig:
    size: int = 64
    batch: int = 16
    steps: int = 6000
    lr: float = 2e-4
    l1_weight: float = 1.0
    coarse_weight: float = 1.0       # L1 of 4×-pooled colour: right overall tone of the teeth and gap
    # The hole is the whole inside of the mouth, so its content is mostly invented: L1 alone paints the
    # average (a grey band); the critic has to pull it to crisp teeth. 0.03 gave grey bands at 1,500 steps.
    adv_weight: float = 0.5
    r1_gamma: float = 1.0
    r1_every: int = 4
    min_opening: float = 0.08        # lips at least this far apart (share of mouth width) to train on
    min_samples: int = 50            # fewer open mouths than this cannot teach teeth
    checkpoint_every: int = 500
    seed: int = 0


def hole_masks(inner: np.ndarray, size: int, grow: np.ndarray) -> np.ndarray:
    """(N, size, size) float32: the inner-lip polygons, anti-aliased, grown by ``grow`` pixels each."""
    masks = np.zeros((len(inner), size, size), np.float32)
    for mask, polygon, g in zip(masks, inner, grow, strict=True):
        cv2.fillPoly(mask, [np.round(polygon * 16).astype(np.int32)], 1.0, lineType=cv2.LINE_AA, shift=4)
        mask[:] = grow_hole(mask, float(g))
    return masks


def _batch(samples: MouthSamples, rng: np.random.Generator, batch: int, size: int,
           device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    index = rng.integers(0, len(samples), batch)
    crops = samples.crops[index].astype(np.float32) / 127.5 - 1
    inner = samples.inner[index].copy()
    flip = rng.random(batch) < 0.5
    crops[flip] = crops[flip, :, ::-1]
    inner[flip, :, 0] = size - 1 - inner[flip, :, 0]
    # Light and colour cast of the whole crop, so the fill follows the photo's light, not MTFL's.
    gain = rng.uniform(0.8, 1.15, (batch, 1, 1, 1)) * rng.uniform(0.95, 1.05, (batch, 1, 1, 3))
    crops = np.clip((crops + 1) * gain - 1, -1, 1).astype(np.float32)
    holes = hole_masks(inner, size, rng.uniform(*HOLE_GROWTH_PX, batch))
    band = mouth_band(size)
    crops, holes = crops[:, band], holes[:, band]
    image = torch.from_numpy(np.ascontiguousarray(crops.transpose(0, 3, 1, 2))).to(device)
    hole = torch.from_numpy(holes[:, None]).to(device)
    return image, hole


def masked_l1(a: torch.Tensor, b: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    return ((a - b).abs() * mask).sum() / (mask.sum() * a.shape[1]).clamp_min(1.0)


def train_mouth_fill(samples: MouthSamples, out: Path, config: MouthFillConfig, *, device: torch.device,
                     progress: Callable[[int, dict], None] | None = None,
                     should_stop: Callable[[], bool] | None = None) -> Path:
    """Train (or resume) a run in ``out``; returns the newest checkpoint folder."""
    from keepsmiling_core.models.checkpoint import (
        checkpoint_dir_for,
        list_checkpoints,
        load_training_state,
        prune_checkpoints,
        save_checkpoint,
    )
    from keepsmiling_core.models.registry import build_setup

    samples = samples.select(samples.opening() >= config.min_opening)
    if len(samples) < config.min_samples:
        raise TrainingError(f"Only {len(samples)} open mouths to learn from; the mouth fill needs at least "
                            f"{config.min_samples}. Give more photos of smiling faces (--mtfl, --genki).")
    torch.manual_seed(config.seed)
    nets = build_setup(SETUP, "default", config.size)
    fill, critic = nets["fill"].to(device), nets["critic"].to(device)
    optim = {"fill": torch.optim.Adam(fill.parameters(), config.lr, betas=(0.5, 0.99)),
             "critic": torch.optim.Adam(critic.parameters(), config.lr, betas=(0.5, 0.99))}
    step = 0
    existing = list_checkpoints(out)
    if existing:
        meta, _ = load_training_state(existing[-1], nets, optim)
        step = int(meta["step"])
    latest = existing[-1] if existing else None
    started = time.perf_counter()
    while step < config.steps:
        if should_stop is not None and should_stop():
            break
        # Each step draws from its own seed, so a resumed run sees exactly the batches it would have seen.
        rng = np.random.default_rng([config.seed, step])
        image, hole = _batch(samples, rng, config.batch, config.size, device)
        painted = fill(image, hole)
        composite = hole * painted + (1 - hole) * image

        # Critic: real mouths against filled ones, hinge loss, R1 on the reals every few steps.
        critic.requires_grad_(True)
        real_in = image.detach().requires_grad_(step % config.r1_every == 0)
        real_score = critic(real_in, hole)
        loss_d = F.relu(1 - real_score).mean() + F.relu(1 + critic(composite.detach(), hole)).mean()
        if real_in.requires_grad:
            loss_d = loss_d + config.r1_gamma * config.r1_every / 2 * r1_penalty(real_score, real_in)
        optim["critic"].zero_grad(set_to_none=True)
        loss_d.backward()
        optim["critic"].step()

        # Fill: the true content, its overall tone, and teeth the critic cannot tell from real ones.
        critic.requires_grad_(False)
        l1 = masked_l1(painted, image, hole)
        coarse = masked_l1(F.avg_pool2d(painted * hole, 4), F.avg_pool2d(image * hole, 4), F.avg_pool2d(hole, 4))
        adv = -critic(composite, hole).mean()
        loss_g = config.l1_weight * l1 + config.coarse_weight * coarse + config.adv_weight * adv
        optim["fill"].zero_grad(set_to_none=True)
        loss_g.backward()
        optim["fill"].step()
        step += 1

        if progress is not None:
            progress(step, {"l1": l1.item(), "coarse": coarse.item(), "adv": adv.item(), "d": loss_d.item(),
                            "s_per_step": (time.perf_counter() - started) / max(1, step)})
        if step % config.checkpoint_every == 0 or step == config.steps:
            latest = save_checkpoint(checkpoint_dir_for(out, step), nets, setup=SETUP, preset="default",
                                     size=config.size, step=step, config=asdict(config), optimizers=optim,
                                     extra={"step": step, "samples": len(samples),
                                            "crop": CropConfig(size=config.size).to_json()})
            prune_checkpoints(out, keep=2)
    if latest is None:
        raise TrainingError("The mouth-fill run stopped before its first checkpoint.")
    return latest
