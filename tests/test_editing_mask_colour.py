"""The mouth mask and the colour matching on real crops: what they promise the photo edit."""

from __future__ import annotations

import numpy as np
import pytest

from keepsmiling_core.compositing.mask import change_alpha, edit_window, mouth_mask, skin_weight
from keepsmiling_core.data.cache import load_crop_cache
from keepsmiling_core.editing.colour import match_colour
from keepsmiling_core.evaluation.metrics import skin_delta_e

IDENTITY = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])


@pytest.fixture(scope="module")
def crops(small_cache):
    return load_crop_cache(small_cache)


def test_mask_covers_the_mouth_and_is_exactly_zero_at_the_border(crops):
    coverage = []
    for landmarks in crops.landmarks[:20]:
        mask = mouth_mask(crops.size, IDENTITY, landmarks[3:5])
        centre = np.rint((landmarks[3] + landmarks[4]) / 2).astype(int)
        assert mask[centre[1], centre[0]] == pytest.approx(1.0)
        for corner in landmarks[3:5]:  # both mouth corners are fully editable
            assert mask[int(round(corner[1])), int(round(corner[0]))] > 0.9
        assert mask[0].max() == 0 and mask[-1].max() == 0 and mask[:, 0].max() == 0 and mask[:, -1].max() == 0
        coverage.append((mask > 0).mean())
    # The mouth spans about 57 % of an aligned crop's width; the mask adds the cheeks a smile lifts.
    assert 0.2 < np.median(coverage) < 0.75 and max(coverage) < 0.92


def test_mouth_points_grow_the_mask_for_an_open_mouth(crops):
    landmarks = crops.landmarks[0].astype(np.float64)
    left, right = landmarks[3], landmarks[4]
    width = np.linalg.norm(right - left)
    centre = (left + right) / 2
    # A wide-open mouth: outer lip reaching 0.6 mouth widths below the corners.
    t = np.linspace(0, 2 * np.pi, 12, endpoint=False)
    outer = np.stack([centre[0] + 0.5 * width * np.cos(t), centre[1] + 0.6 * width * np.sin(t)], 1)
    mouth = np.vstack([outer, outer[:8] * 0.9 + centre * 0.1])
    plain = mouth_mask(crops.size, IDENTITY, landmarks[3:5])
    grown = mouth_mask(crops.size, IDENTITY, landmarks[3:5], mouth)
    assert (grown > 0).sum() > (plain > 0).sum()
    assert np.all(grown >= plain - 1e-6) or (grown > 0.5).sum() > (plain > 0.5).sum()


def test_colour_match_restores_skin_tone_and_keeps_new_detail(crops):
    original = crops.images[3]
    mask = mouth_mask(crops.size, IDENTITY, crops.landmarks[3][3:5])
    skin = skin_weight(mask)
    # A "decoded" crop as the seed made it: lighter skin, plus new bright teeth in the mouth.
    decoded = np.clip(original.astype(int) + 35, 0, 255).astype(np.uint8)
    left, right = np.rint(crops.landmarks[3][3:5]).astype(int)
    y = (left[1] + right[1]) // 2
    decoded[y - 1:y + 2, left[0] + 3:right[0] - 3] = 250
    assert skin_delta_e(original, decoded, skin) > 8
    matched = match_colour(decoded, original, skin)
    assert skin_delta_e(original, matched, skin) < 2.0
    teeth = matched[y - 1:y + 2, left[0] + 3:right[0] - 3].astype(int).mean()
    around = original[y - 1:y + 2, left[0] + 3:right[0] - 3].astype(int).mean()
    assert teeth > around + 40  # the edit's new content survives the colour correction
    assert np.array_equal(match_colour(original, original, skin), original) or \
        np.abs(match_colour(original, original, skin).astype(int) - original).max() <= 2


def test_adaptive_weights_follow_the_edit_but_stay_in_the_window(crops):
    landmarks = crops.landmarks[5]
    mask = mouth_mask(crops.size, IDENTITY, landmarks[3:5])
    window = edit_window(crops.size, IDENTITY, landmarks[3:5])
    assert np.all(window >= mask - 1e-6) and (window > 0).sum() > (mask > 0).sum()
    nothing = change_alpha(mask, window, np.zeros(mask.shape, np.float32))
    assert np.array_equal(nothing, mask.astype(np.float32))  # no change: exactly the mouth mask
    change = np.zeros(mask.shape, np.float32)
    change[:, :] = 60.0  # the edit changed every pixel (cheeks, chin, forehead...)
    grown = change_alpha(mask, window, change)
    assert (grown > 0).sum() > (mask > 0).sum()
    assert np.all(grown[window == 0] == 0), "the edit leaked outside the lower-face window"
    assert np.all(grown >= mask - 1e-6)


def test_smoothing_the_change_removes_a_checkerboard_but_keeps_shapes() -> None:
    import torch

    from keepsmiling_core.editing.network_edits import _binomial_blur

    grid = ((torch.arange(16).view(1, -1) + torch.arange(16).view(-1, 1)) % 2 * 2.0 - 1.0).expand(1, 3, 16, 16)
    assert _binomial_blur(grid)[..., 1:-1, 1:-1].abs().max() < 1e-6
    teeth = torch.zeros(1, 3, 16, 16)
    teeth[..., 6:10, 3:13] = 1.0
    assert _binomial_blur(teeth)[0, 0, 7:9, 5:11].min() > 0.7
