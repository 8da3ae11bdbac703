"""``face_view`` frames the whole face the same way whatever its roll, size and landmark order."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from keepsmiling_core.errors import CropError
from keepsmiling_core.evaluation.face_judge import (
    CENTRE_BELOW_EYES,
    FACE_VIEW_SIZE,
    VIEW_SIDE,
    face_view,
    face_view_matrix,
    view_points,
)

# An upright synthetic face: eyes 60 px apart, mouth 65 px below them (eye-mouth / inter-ocular ≈ 1.08).
LANDMARKS = np.array([[170, 150], [230, 150], [200, 185], [178, 215], [222, 215]], np.float32)
COLOURS = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0), (0, 255, 255)]


def _synthetic_photo(landmarks: np.ndarray, shape=(400, 420)) -> np.ndarray:
    photo = np.full((*shape, 3), 90, np.uint8)
    for (x, y), colour in zip(landmarks, COLOURS, strict=True):
        cv2.circle(photo, (round(float(x)), round(float(y))), 5, colour, -1, lineType=cv2.LINE_AA)
    return photo


def _dot_centre(view: np.ndarray, colour: tuple[int, int, int]) -> np.ndarray:
    distance = np.abs(view.astype(int) - np.array(colour)).sum(axis=2)
    weight = np.clip(200 - distance, 0, None).astype(float)
    ys, xs = np.mgrid[: view.shape[0], : view.shape[1]]
    return np.array([(xs * weight).sum(), (ys * weight).sum()]) / weight.sum()


def test_landmarks_land_on_the_template() -> None:
    size = FACE_VIEW_SIZE
    points = view_points(LANDMARKS, size)
    face = max(60.0, 65.0 / 1.08)
    k = size / (VIEW_SIDE * face)
    centre = (size - 1) / 2
    np.testing.assert_allclose(points[:2, 1], centre - CENTRE_BELOW_EYES * face * k, atol=1e-4)  # eyes level
    np.testing.assert_allclose(points[:2, 0], [centre - 30 * k, centre + 30 * k], atol=1e-4)  # centred
    assert 0.6 * size < points[3, 1] < 0.7 * size  # the mouth in the lower third, chin room below
    view = face_view(_synthetic_photo(LANDMARKS), LANDMARKS, size)
    assert view.shape == (size, size, 3) and view.dtype == np.uint8
    for point, colour in zip(points, COLOURS, strict=True):
        np.testing.assert_allclose(_dot_centre(view, colour), point, atol=0.6)


@pytest.mark.parametrize("angle", [35.0, -50.0, 180.0])
def test_rotated_face_comes_out_upright(angle: float) -> None:
    rotation = cv2.getRotationMatrix2D((205.0, 190.0), angle, 1.0)
    rotated_landmarks = (LANDMARKS @ rotation[:, :2].T + rotation[:, 2]).astype(np.float32)
    rotated = cv2.warpAffine(_synthetic_photo(LANDMARKS), rotation, (420, 400), flags=cv2.INTER_LINEAR,
                             borderMode=cv2.BORDER_REPLICATE)
    np.testing.assert_allclose(view_points(rotated_landmarks), view_points(LANDMARKS), atol=1e-3)
    upright = face_view(_synthetic_photo(LANDMARKS), LANDMARKS)
    turned = face_view(rotated, rotated_landmarks)
    assert np.abs(turned.astype(int) - upright.astype(int)).mean() < 3.0
    # Eyes given in reversed order do not flip the face upside down.
    swapped = rotated_landmarks[[1, 0, 2, 3, 4]]
    np.testing.assert_allclose(view_points(swapped)[[1, 0]], view_points(LANDMARKS)[:2], atol=1e-3)


def test_large_face_is_area_averaged_not_aliased() -> None:
    """A 1-px checkerboard on a face 10× larger than the view must come out as flat grey."""
    scale = 10.0
    landmarks = LANDMARKS * scale
    photo = np.zeros((4000, 4200, 3), np.uint8)
    photo[(np.add.outer(np.arange(4000), np.arange(4200)) % 2) == 0] = 255
    view = face_view(photo, landmarks)
    assert abs(float(view.mean()) - 127.5) < 3 and float(view.std()) < 6
    # Point sampling would have aliased into stripes and blotches of black and white.
    aliased = cv2.warpAffine(photo, face_view_matrix(landmarks), (FACE_VIEW_SIZE, FACE_VIEW_SIZE))
    assert float(aliased.std()) > 40


def test_degenerate_faces_are_refused() -> None:
    with pytest.raises(CropError, match="too small"):
        face_view(_synthetic_photo(LANDMARKS), LANDMARKS * 0.02)
    with pytest.raises(CropError, match="5 finite landmarks"):
        face_view(_synthetic_photo(LANDMARKS), np.full((5, 2), np.nan))
    with pytest.raises(CropError, match="RGB uint8"):
        face_view(np.zeros((50, 50), np.uint8), LANDMARKS)
