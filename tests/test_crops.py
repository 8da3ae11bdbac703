"""Mouth-crop geometry and paste-back on real MTFL photos."""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from keepsmiling_core.data.cache import load_crop_cache
from keepsmiling_core.data.crops import (
    CropConfig,
    apply_matrix,
    crop_matrix,
    crop_mouth,
    paste_back,
    warp_to_photo,
)
from keepsmiling_core.data.mtfl import load_mtfl
from keepsmiling_core.errors import CropError
from keepsmiling_core.imageio import read_photo


@pytest.fixture(scope="module")
def faces(mtfl_subset: Path) -> list:
    records = load_mtfl(mtfl_subset, "training")
    smiling = [r for r in records if r.smiling][:4]
    neutral = [r for r in records if not r.smiling][:4]
    return smiling + neutral


def _expected_corners(record, config: CropConfig) -> np.ndarray:
    """Where the corners must land, computed from the framing rule itself (not from the returned matrix)."""
    lm = record.landmarks.astype(np.float64)
    interocular = np.linalg.norm(lm[1] - lm[0])
    eye_mouth = np.linalg.norm((lm[3] + lm[4]) / 2 - (lm[0] + lm[1]) / 2)
    corners = np.linalg.norm(lm[4] - lm[3])
    side = max(config.scale * max(interocular, eye_mouth / 1.08), config.min_corner_margin * corners)
    half = corners / 2 * config.size / side
    c = (config.size - 1) / 2
    v = c + config.shift * config.size
    return np.array([[c - half, v], [c + half, v]])


def _mark_corners(image: np.ndarray, corners: np.ndarray) -> np.ndarray:
    """Paint a small pure-magenta disc on each mouth corner so the crop can be searched for them."""
    marked = image.copy()
    for x, y in corners:
        cv2.circle(marked, (round(x * 16), round(y * 16)), 2 * 16, (255, 0, 255), -1, cv2.LINE_AA, shift=4)
    return marked


def _blob_centres(crop: np.ndarray) -> np.ndarray:
    rgb = crop.astype(np.int32)
    weight = np.clip((rgb[..., 0] + rgb[..., 2]) / 2 - rgb[..., 1] - 90, 0, None).astype(np.float64)
    h, w = weight.shape
    ys, xs = np.mgrid[0:h, 0:w]
    centres = []
    for half in (xs < w / 2, xs >= w / 2):
        wsum = (weight * half).sum()
        centres.append([(xs * weight * half).sum() / wsum, (ys * weight * half).sum() / wsum])
    return np.array(centres)


@pytest.mark.parametrize("roll_deg", [0.0, 23.0, -31.0])
def test_corners_level_and_at_expected_positions_in_the_pixels(faces, roll_deg: float) -> None:
    config = CropConfig(size=128)
    for record in faces[::2]:
        image = read_photo(record.image_path).rgb
        landmarks = record.landmarks.copy()
        if roll_deg:
            h, w = image.shape[:2]
            rot = cv2.getRotationMatrix2D((w / 2, h / 2), roll_deg, 1.0)
            image = cv2.warpAffine(image, rot, (w, h), borderMode=cv2.BORDER_REFLECT)
            landmarks = apply_matrix(rot, landmarks).astype(np.float32)
        marked = _mark_corners(image, landmarks[3:5])
        crop = crop_mouth(marked, landmarks, config)
        found = _blob_centres(crop.image)
        expected = _expected_corners(record, config)
        assert abs(found[0, 1] - found[1, 1]) < 0.5, f"corners not level for {record.where()}: {found}"
        np.testing.assert_allclose(found, expected, atol=0.5, err_msg=record.where())
        # the matrix agrees with the pixels
        np.testing.assert_allclose(crop.to_crop(landmarks[3:5]), expected, atol=1e-3)


def test_crop_is_square_at_every_model_size_and_rejects_degenerate_faces(faces) -> None:
    image = read_photo(faces[0].image_path).rgb
    for size in (32, 64, 128):
        for mode in ("aligned", "original"):
            crop = crop_mouth(image, faces[0].landmarks, CropConfig(size=size, mode=mode))
            assert crop.image.shape == (size, size, 3) and crop.image.dtype == np.uint8
    lm = faces[0].landmarks.copy()
    collapsed = lm.copy()
    collapsed[4] = collapsed[3]
    with pytest.raises(CropError, match="coincide"):
        crop_mouth(image, collapsed)
    with pytest.raises(CropError, match="non-number"):
        crop_mouth(image, np.where(np.arange(10).reshape(5, 2) == 3, np.nan, lm))
    with pytest.raises(CropError, match="outside"):
        crop_mouth(image, lm + 5000)
    tiny = lm.copy()
    tiny[:] = lm[3] + (lm - lm[3]) * 0.02
    with pytest.raises(CropError):
        crop_mouth(image, tiny)
    with pytest.raises(CropError, match="crop mode"):
        CropConfig(mode="square")


def test_original_mode_is_the_nose_to_chin_box_with_bugs_fixed(faces) -> None:
    record = faces[1]
    lm = record.landmarks.astype(np.float64)
    matrix = crop_matrix(lm, CropConfig(size=64, mode="original"))
    f0 = (lm[3] + lm[4]) / 2
    e, b = lm[4] - f0, f0 - lm[2]
    extent = np.abs(b + np.hypot(np.linalg.norm(e), np.linalg.norm(b)) * e / np.linalg.norm(e))
    # centred on the mouth, spanning +- (b + a_vec): nose height at the top for an upright face
    np.testing.assert_allclose(apply_matrix(matrix, f0)[0], [31.5, 31.5], atol=1e-6)
    np.testing.assert_allclose(np.diag(matrix[:, :2]), 64 / (2 * extent), rtol=1e-6)
    assert apply_matrix(matrix, lm[2])[0, 1] < 31.5 - 10
    # inverted boxes (docs/original-setups.md#b6): nose *below* the mouth used to produce a negative height;
    # now a valid box
    flipped = lm.copy()
    flipped[2, 1] = f0[1] + (f0[1] - lm[2, 1])
    flipped_matrix = crop_matrix(flipped, CropConfig(size=64, mode="original"))
    assert flipped_matrix[0, 0] > 0 and flipped_matrix[1, 1] > 0


def test_paste_back_of_unedited_crop_reproduces_photo(faces) -> None:
    for record in faces:
        photo = read_photo(record.image_path).rgb
        for config in (CropConfig(size=64), CropConfig(size=32), CropConfig(size=64, mode="original")):
            crop = crop_mouth(photo, record.landmarks, config)
            restored = paste_back(photo, crop.image, crop.matrix)
            assert np.abs(restored.astype(int) - photo.astype(int)).max() <= 1


def test_paste_back_puts_an_edit_exactly_where_it_came_from(faces) -> None:
    record = faces[2]
    photo = read_photo(record.image_path).rgb
    crop = crop_mouth(photo, record.landmarks, CropConfig(size=64))
    edited = crop.image.copy()
    edited[24:40, 24:40] = (0, 255, 0)
    for keep_detail in (True, False):
        out = paste_back(photo, edited, crop.matrix, mask=np.ones((64, 64), np.float32), keep_detail=keep_detail)
        # photo point that maps to the centre of the green square
        inv = cv2.invertAffineTransform(crop.matrix)
        x, y = np.rint(apply_matrix(inv, [[31.5, 31.5]])[0]).astype(int)
        assert tuple(int(c) for c in out[y, x]) == pytest.approx((0, 255, 0), abs=40 if keep_detail else 2)
        # far outside the crop nothing moves
        region = warp_to_photo(np.ones((64, 64), np.float32), crop.matrix, photo.shape) > 0
        assert np.array_equal(out[~region], photo[~region])
    # the covered area is the crop square scaled back to photo pixels
    side = 64 / math.sqrt(abs(np.linalg.det(crop.matrix[:, :2])))
    area = (warp_to_photo(np.ones((64, 64), np.float32), crop.matrix, photo.shape) > 0.5).sum()
    assert area == pytest.approx(side * side, rel=0.1)


def test_grid_of_cached_crops_is_saved_and_mouths_sit_where_the_framing_puts_them(
    small_cache_64: Path, tmp_path: Path
) -> None:
    cache = load_crop_cache(small_cache_64)
    config = CropConfig(size=64)
    rows = []
    for label in (True, False):
        tiles = cache.images[cache.smiling == label][:16]
        rows.append(np.concatenate(list(tiles), axis=1))
    grid = tmp_path / "mouth_grid.png"
    Image.fromarray(np.concatenate(rows, axis=0)).save(grid)
    assert Image.open(grid).size == (16 * 64, 2 * 64)
    corners = cache.landmarks[:, 3:5]
    assert np.abs(corners[:, 0, 1] - corners[:, 1, 1]).max() < 0.5
    expected_v = 31.5 + config.shift * 64
    np.testing.assert_allclose(corners[:, :, 1], expected_v, atol=0.5)
    np.testing.assert_allclose(corners.mean(axis=1)[:, 0], 31.5, atol=0.5)
    # the whole mouth fits with skin beside it, for smiling and neutral mouths alike
    width = corners[:, 1, 0] - corners[:, 0, 0]
    assert width.max() <= 64 / config.min_corner_margin + 0.5
    assert np.median(width[cache.smiling]) > np.median(width[~cache.smiling])
