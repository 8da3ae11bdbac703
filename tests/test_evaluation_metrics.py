"""Metric sanity on real MTFL mouth crops: each number must react to the defect it is meant to catch."""

from __future__ import annotations

import math

import numpy as np
import pytest

from keepsmiling_core.data.cache import load_crop_cache
from keepsmiling_core.evaluation.evaluate import crop_masks
from keepsmiling_core.evaluation.metrics import kid, psnr, skin_delta_e, ssim


@pytest.fixture(scope="module")
def crops(small_cache):
    return load_crop_cache(small_cache)


def test_psnr_and_ssim_rank_degradations(crops):
    image = crops.images[0]
    rng = np.random.default_rng(0)
    light = np.clip(image + rng.normal(0, 3, image.shape), 0, 255).astype(np.uint8)
    heavy = np.clip(image + rng.normal(0, 25, image.shape), 0, 255).astype(np.uint8)
    assert psnr(image, image) == math.inf
    assert ssim(image, image) == pytest.approx(1.0)
    assert psnr(image, light) > 35 > psnr(image, heavy) > 15
    assert 1.0 > ssim(image, light) > ssim(image, heavy)
    with pytest.raises(ValueError):
        psnr(image, image[:-1])


def test_skin_delta_e_sees_a_tint_but_not_the_mouth(crops):
    image = crops.images[1]
    skin = 1.0 - (crop_masks(crops.subset([1]))[0] > 0)
    assert skin_delta_e(image, image, skin) == pytest.approx(0.0, abs=1e-9)
    lighter = np.clip(image.astype(int) + 25, 0, 255).astype(np.uint8)  # the seed's "dark skin made light"
    assert skin_delta_e(image, lighter, skin) > 5
    mouth_only = image.copy()
    mouth_only[skin == 0] = 255  # repaint the mouth (e.g. teeth): the skin colour has not changed
    assert skin_delta_e(image, mouth_only, skin) < 0.5


def test_kid_near_zero_within_a_class_and_larger_across_a_shift(crops):
    features = crops.images.reshape(len(crops.images), -1).astype(np.float64)[:, ::7] / 255.0
    half = len(features) // 2
    same, _ = kid(features[:half], features[half:], subsets=8, subset_size=80)
    shifted, _ = kid(features[:half], features[half:] + 0.3, subsets=8, subset_size=80)
    assert abs(same) < 0.05
    assert shifted > 10 * max(abs(same), 1e-3)
