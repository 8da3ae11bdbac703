"""Teeth as detailed as a real smile's: the shared measure (``compositing.detail``), the editor's sharpening
of painted teeth up to it, and the evaluation's reading of it."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from keepsmiling_core.compositing.detail import (
    log_response,
    sharpened,
    sharpening_for,
    skin_around_mouth,
    skin_detail,
    teeth_detail,
    teeth_region,
    unsharp_detail,
)


def _detail(image: np.ndarray, mask: np.ndarray) -> float:
    return float(log_response(image)[mask].std())


def test_the_sharpening_gain_reaches_the_wanted_detail_and_no_further():
    rng = np.random.default_rng(0)
    layer = cv2.GaussianBlur(rng.uniform(60, 200, (40, 90, 3)).astype(np.float32), (0, 0), 2.0)
    mask = np.zeros((40, 90), bool)
    mask[8:32, 10:80] = True
    before = _detail(layer, mask)
    extra = unsharp_detail(layer, 2.0)
    k = sharpening_for(layer, extra, mask, 2.0 * before, most=10.0)
    assert k > 0
    assert _detail(sharpened(layer, k, 2.0), mask) == pytest.approx(2.0 * before, rel=0.1)
    assert sharpening_for(layer, extra, mask, 0.9 * before, most=10.0) == 0.0, "detailed enough already"
    assert sharpening_for(layer, extra, mask, 100 * before, most=1.5) == 1.5, "never past the cap"
    assert sharpening_for(layer, extra, np.zeros_like(mask), 2.0 * before, most=10.0) == 0.0
    assert sharpened(layer, k, 2.0).max() <= layer.max(), "no glint brighter than the layer's brightest pixel"
    assert sharpened(layer, 0.0, 2.0) is layer


def test_teeth_lie_inside_the_inner_lips_and_the_skin_outside_the_lips(astronaut_face):
    photo, face = astronaut_face
    points = np.asarray(face.points, np.float64)
    teeth = teeth_region(points, photo.shape)
    assert teeth.sum() >= 20, "the astronaut's grin shows its teeth"
    inner = np.zeros(photo.shape[:2], np.uint8)
    cv2.fillPoly(inner, [np.round(points[60:68]).astype(np.int32)], 1)
    assert inner[teeth].all()
    box, skin = skin_around_mouth(points, photo.shape)
    lips = np.zeros(photo.shape[:2], np.uint8)
    cv2.fillPoly(lips, [np.round(points[48:60]).astype(np.int32)], 1)
    assert not (lips[box] & skin).any(), "the skin compared with holds no lip"
    assert skin.mean() > 0.3


def test_blurred_teeth_read_as_less_detailed_than_real_ones(astronaut_face):
    photo, face = astronaut_face
    points = np.asarray(face.points, np.float64)
    skin = skin_detail(photo, points)
    real = teeth_detail(photo, points, skin)
    inner = np.zeros(photo.shape[:2], np.uint8)
    cv2.fillPoly(inner, [np.round(points[60:68]).astype(np.int32)], 1)
    blurred = np.where(inner[..., None] > 0, cv2.GaussianBlur(photo, (0, 0), 3.0), photo)
    assert real is not None and real > 0.8
    assert teeth_detail(blurred, points, skin) < 0.5 * real
    closed = points.copy()
    closed[60:68] = closed[[60, 61, 62, 63, 64, 63, 62, 61]]   # the lower inner lip on the upper one
    assert teeth_detail(photo, closed, skin) is None, "nothing shows between closed lips"


@pytest.fixture(scope="module")
def parted_grace(grace_hopper):
    """ComplexGAN's parted smile on Grace Hopper, a sharp portrait whose mouth is larger than most mouths
    the teeth bank was cut from."""
    from keepsmiling_core.editing.backends import open_editor
    from keepsmiling_core.editing.editor import default_model_path

    photo, face = grace_hopper
    editor = open_editor(default_model_path("complexgan"))
    return photo, face, editor, editor.prepare(photo, face)


def _painted_detail(prepared, editor, alpha: float = 1.0) -> float:
    """LoG detail of the rendered teeth (opaque, 2 px in from the lips) over the skin's around the mouth."""
    from keepsmiling_core.editing.checks import face_points

    out = editor.render(prepared, alpha)
    _, opacity = prepared.up.paint_at(alpha)
    inside = cv2.erode((opacity >= 0.99).astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    x0, y0 = prepared.region[:2]
    return _detail(out, inside) / skin_detail(prepared.base, face_points(prepared.face) - (x0, y0))


def test_painted_teeth_on_a_sharp_face_are_sharpened_towards_real_teeth(parted_grace, monkeypatch):
    from keepsmiling_core.editing import teeth

    _, _, editor, prepared = parted_grace
    teeth_paint = prepared.up.teeth
    assert teeth_paint.sharpening(1.0) > 0.5
    # A narrow gap squeezes the whole strip into a few rows: detail enough, so less sharpening, none at all
    # at a quarter smile (sharpened, those rows turned into bright and dark streaks).
    assert teeth_paint.sharpening(0.5) < 0.5 * teeth_paint.sharpening(1.0)
    assert teeth_paint.sharpening(0.25) == 0.0
    sharp = _painted_detail(prepared, editor)
    # A half smile's narrower row of teeth is no softer than a full one's.
    half = _painted_detail(prepared, editor, 0.6)
    monkeypatch.setattr(teeth, "MAX_SHARPEN", 0.0)
    soft = _painted_detail(prepared, editor)
    assert soft < 0.7, "the bank's strip alone is softer than Grace Hopper's skin"
    assert sharp > 1.6 * soft and sharp <= teeth.TEETH_DETAIL * 1.1
    assert half >= 0.95 * min(sharp, teeth.TEETH_DETAIL)


def test_teeth_on_a_soft_photo_are_not_sharpened(grace_hopper):
    from keepsmiling_core.detection import detect_faces
    from keepsmiling_core.editing.backends import open_editor
    from keepsmiling_core.editing.editor import default_model_path

    photo, _ = grace_hopper
    soft = cv2.GaussianBlur(photo, (0, 0), 2.5)
    face = detect_faces(soft)[0]
    prepared = open_editor(default_model_path("complexgan")).prepare(soft, face)
    assert prepared.up.teeth is not None and prepared.up.teeth.sharpening(1.0) == 0.0


def test_the_sliders_limits_read_the_same_opacity_the_render_paints(parted_grace):
    """``acceptable`` asks only where the teeth cover the photo (``opacity_at``); it must be the opacity
    ``render`` blends with at every strength, towards a smile and away from it."""
    _, _, _, prepared = parted_grace
    for alpha in (0.0, 0.25, 0.6, 1.0, 1.4, -0.5, -1.0):
        direction = prepared.up if alpha >= 0 else prepared.down
        assert np.array_equal(direction.opacity_at(alpha), direction.paint_at(alpha)[1])
