"""The mean smile's corner motion (training/smile_motion): measured from real crops, a loss with the
right signs, and wired into both shape recipes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from keepsmiling_core.data.cache import load_crop_cache
from keepsmiling_core.errors import TrainingError
from keepsmiling_core.models.shape_texture import warp
from keepsmiling_core.training.smile_motion import SmileMotion, motion_loss

SIZE = 64


@pytest.fixture(scope="module")
def motion(small_cache_64: Path) -> SmileMotion:
    cache = load_crop_cache(small_cache_64)
    return SmileMotion.from_landmarks(cache.landmarks, cache.smiling, cache.size)


def test_real_smiles_widen_the_mouth_and_raise_the_corners_towards_the_nose(motion):
    width = {name: pts[1, 0] - pts[0, 0] for name, pts in (("neutral", motion.neutral), ("smiling", motion.smiling))}
    assert width["smiling"] > 1.1 * width["neutral"]
    rise = (motion.neutral[0, 1] - motion.neutral[2, 1]) - (motion.smiling[0, 1] - motion.smiling[2, 1])
    assert rise > 1.0   # crop pixels: the corners come closer to the nose
    for pts in (motion.neutral, motion.smiling):   # mirror-symmetric: level corners, nose on the middle line
        assert pts[0, 1] == pytest.approx(pts[1, 1])
        assert pts[0, 0] + pts[1, 0] == pytest.approx(SIZE - 1)
        assert pts[2, 0] == pytest.approx((SIZE - 1) / 2)


def test_a_field_trained_on_the_loss_moves_the_corners_as_the_mean_smile_does(motion):
    """Signs and units end to end: fit a smooth free field to the loss, apply it with ``warp`` as
    ``deliver`` does to an image of each pixel's own coordinates, and read where the neutral corners
    land (relative to the nose): on the smiling corners."""
    field = torch.zeros(1, 2, SIZE, SIZE, requires_grad=True)
    optimiser = torch.optim.Adam([field], lr=0.2)
    start, move = motion.targets(torch.ones(1))

    def smooth(f: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.avg_pool2d(f, 9, 1, 4, count_include_pad=False)

    before = motion_loss(field.detach(), start, move).item()
    for _ in range(300):
        loss = motion_loss(smooth(field), start, move)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    fitted = smooth(field).detach()
    assert motion_loss(fitted, start, move).item() < 0.01 * before
    ys, xs = torch.meshgrid(torch.arange(SIZE, dtype=torch.float32), torch.arange(SIZE, dtype=torch.float32),
                            indexing="ij")
    source = warp(torch.stack([xs, ys])[None], fitted)   # output pixel -> the input pixel it shows
    landed = {}
    for k in range(3):   # the output pixel that shows input point k: search the nearest source
        distance = (source[0] - torch.as_tensor(motion.neutral[k], dtype=torch.float32).view(2, 1, 1)).norm(dim=0)
        y, x = np.unravel_index(int(distance.argmin()), distance.shape)
        landed[k] = np.array([x, y], np.float64)
    for corner in (0, 1):
        got = landed[corner] - landed[2]
        wanted = motion.smiling[corner] - motion.smiling[2]
        assert np.abs(got - wanted).max() <= 1.0   # crop pixels: the search lands on whole pixels
    zero = torch.zeros(1, 2, SIZE, SIZE)
    relative = (move[0, :2] - move[0, 2:]) / SIZE
    assert motion_loss(zero, start, move).item() == pytest.approx(relative.pow(2).sum(-1).mean().item(), rel=1e-5)


def test_an_edit_away_from_a_smile_is_asked_for_the_reverse_move(motion):
    start, move = motion.targets(torch.tensor([1.0, 0.0]))
    assert torch.allclose(start[0], torch.as_tensor(motion.neutral, dtype=torch.float32))
    assert torch.allclose(start[1], torch.as_tensor(motion.smiling, dtype=torch.float32))
    assert torch.allclose(move[0], -move[1])
    assert torch.allclose(start[1] + move[1], start[0])


def test_edits_away_from_a_smile_can_be_left_free(motion):
    """``shape_away`` false: only edits towards a smile are held, so removing one may move less."""
    start, move = motion.targets(torch.tensor([1.0, 0.0]))
    field = torch.randn(2, 2, SIZE, SIZE)
    both = motion_loss(field, start, move)
    towards = motion_loss(field, start, move, weight=torch.tensor([1.0, 0.0]))
    assert towards == pytest.approx(motion_loss(field[:1], start[:1], move[:1]).item())
    assert both == pytest.approx((towards + motion_loss(field[1:], start[1:], move[1:])).item() / 2)


@pytest.mark.parametrize("setup", ["splitgan", "complexgan"])
def test_both_shape_recipes_train_with_the_motion_loss(setup, small_cache, tmp_path):
    from keepsmiling_core.training.config import TrainConfig
    from keepsmiling_core.training.trainer import Trainer

    config = TrainConfig(setup=setup, data=str(small_cache), out=str(tmp_path / "run"), steps=4, batch_size=8,
                         device="cpu", checkpoint_every=100, sample_every=100, log_every=1, tensorboard=False,
                         seed=0, arch={"shape_output": True}, hparams={"lambda_shape": 100.0})
    run = Path(Trainer(config).run())
    logged = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    values = [row["motion"] for row in logged if "motion" in row]
    assert values and all(np.isfinite(values)) and max(values) > 0


def test_a_cache_with_one_label_says_why_the_motion_cannot_be_measured(small_cache, tmp_path):
    from keepsmiling_core.training.trainer import _smile_motion

    cache = load_crop_cache(small_cache)
    smiling_only = cache.subset(np.flatnonzero(cache.smiling))
    with pytest.raises(TrainingError, match="one label"):
        _smile_motion(smiling_only, smiling_only.size)


def test_the_smile_may_come_from_another_cache_of_the_same_crop_size(small_cache, small_test_cache,
                                                                      small_cache_64, tmp_path):
    from keepsmiling_core.training.config import TrainConfig
    from keepsmiling_core.training.trainer import Trainer

    def config(smile_from: Path, out: str) -> TrainConfig:
        return TrainConfig(setup="complexgan", data=str(small_cache), out=str(tmp_path / out), steps=2,
                           batch_size=8, device="cpu", checkpoint_every=100, sample_every=100, log_every=1,
                           tensorboard=False, arch={"shape_output": True}, hparams={"lambda_shape": 100.0},
                           smile_from=str(smile_from))

    run = Path(Trainer(config(small_test_cache, "other")).run())
    recorded = json.loads((run / "config.json").read_text())["resolved"]["smile_motion"]
    other = load_crop_cache(small_test_cache)
    expected = SmileMotion.from_landmarks(other.landmarks, other.smiling, other.size)
    assert np.allclose(recorded["smiling"], expected.smiling) and np.allclose(recorded["neutral"], expected.neutral)
    own = load_crop_cache(small_cache)
    assert not np.allclose(recorded["smiling"], SmileMotion.from_landmarks(own.landmarks, own.smiling, own.size).smiling)
    with pytest.raises(TrainingError, match="same size"):
        Trainer(config(small_cache_64, "wrong-size")).run()


def test_an_image_network_is_told_that_the_smile_loss_needs_shape_edits(small_cache, tmp_path):
    from keepsmiling_core.training.config import TrainConfig
    from keepsmiling_core.training.trainer import Trainer

    config = TrainConfig(setup="splitgan", data=str(small_cache), out=str(tmp_path / "run"), steps=2, batch_size=8,
                         device="cpu", tensorboard=False, hparams={"lambda_shape": 100.0})
    with pytest.raises(TrainingError, match="--shape-edits"):
        Trainer(config).run()
