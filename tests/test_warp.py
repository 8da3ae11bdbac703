"""The landmark warp: a smile made of the photo's own pixels, measured shape, exact where untouched."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from keepsmiling_core.detection import detect_faces
from keepsmiling_core.editing.backends import open_editor
from keepsmiling_core.editing.smile_shape import (
    EyeFrame,
    SmileShape,
    fit_smile_shape,
    load_smile_shape,
    save_smile_shape,
)
from keepsmiling_core.editing.warp import WarpEditor, WarpOptions, cheek_anchors, closed_lip_displacement
from keepsmiling_core.errors import EditError, KeepSmilingError
from keepsmiling_core.evaluation.photo_measures import face_areas, sharpness_kept
from keepsmiling_core.paths import shipped_models_dir


@pytest.fixture(scope="module")
def grace(grace_hopper):
    return grace_hopper


@pytest.fixture(scope="module")
def editor() -> WarpEditor:
    return WarpEditor()


def test_shipped_shape_is_a_smile(editor):
    """Measured on MTFL: smiling mouth corners sit higher and further apart than non-smiling ones."""
    move = editor.shape.displacement
    assert move[48, 1] < -0.05 and move[54, 1] < -0.05          # both corners up (frame y points down)
    assert move[48, 0] < -0.03 and move[54, 0] > 0.03           # and out
    assert np.abs(move[36:48]).max() < 0.02                     # the eyes, which define the frame, stay
    assert min(editor.shape.counts.values()) >= 1000


def test_closed_lips_keep_the_inner_gap(editor):
    move = closed_lip_displacement(editor.shape.displacement)
    for upper, lower in ((61, 67), (62, 66), (63, 65)):
        np.testing.assert_allclose(move[upper], move[lower])
    assert np.abs(editor.shape.displacement[62] - editor.shape.displacement[66]).max() > 0.02  # the data opens


def test_alpha_zero_is_the_photo_and_outside_the_window_is_untouched(grace, editor):
    photo, face = grace
    prepared = editor.prepare(photo, face)
    assert np.array_equal(editor.render(prepared, 0.0), prepared.base)
    for alpha in (-2.0, 0.5, 1.0, 3.0):
        result = editor.smile(photo, face, alpha)
        changed = np.any(result.image != photo, axis=2)
        x0, y0, x1, y1 = result.region
        outside = changed.copy()
        outside[y0:y1, x0:x1] = False
        assert not outside.any()                                 # nothing outside the region moves
        assert not changed[y0:y1, x0:x1][prepared.window <= 0].any()   # nor where the window is zero
        assert changed.sum() > 200                               # but the mouth does


def test_field_is_smooth_and_fold_free(grace, editor):
    """The mapping output -> source has a positive Jacobian everywhere, at every strength."""
    photo, face = grace
    prepared = editor.prepare(photo, face)
    for alpha in (-2.0, -1.0, 1.0, 2.0, 3.0):
        alpha = float(np.clip(alpha, *prepared.alpha_limits))  # what render uses
        coords = editor.inverse_map(prepared, alpha).astype(np.float64)
        dxx = np.diff(coords[..., 0], axis=1)[:-1]
        dxy = np.diff(coords[..., 0], axis=0)[:, :-1]
        dyx = np.diff(coords[..., 1], axis=1)[:-1]
        dyy = np.diff(coords[..., 1], axis=0)[:, :-1]
        det = dxx * dyy - dxy * dyx
        assert 0.29 < det.min() and det.max() < 3.4, alpha
    # smooth: at strength 1 neighbouring displacements differ by well under a pixel per pixel
    moved = editor.inverse_map(prepared, 1.0) - prepared.grid
    assert np.abs(np.diff(moved, axis=0)).max() < 0.5 and np.abs(np.diff(moved, axis=1)).max() < 0.5
    low, high = prepared.alpha_limits
    assert low <= -1.0 and high >= 1.25   # typical strengths (up to 1: the measured smile) are never cut short


def test_corners_move_up_and_out_by_the_measured_amount(grace, editor):
    photo, face = grace
    prepared = editor.prepare(photo, face)
    x0, y0 = prepared.region[:2]
    frame = EyeFrame.of(face.points)
    coords = editor.inverse_map(prepared, 1.0)
    for corner, outward in ((48, -1), (54, 1)):
        expected = face.points[corner] + frame.vectors_to_photo(editor.shape.displacement[corner])
        ex, ey = int(round(expected[0] - x0)), int(round(expected[1] - y0))
        source = coords[ey, ex] + (x0, y0)       # the output pixel at the target shows the corner
        # Strength 1 is the measured smile itself, within the smoothed spline's slack (a safety cap once
        # shrank it by a sixth unnoticed: 0.22-0.24 here).
        assert np.linalg.norm(source - face.points[corner]) < 0.15 * np.linalg.norm(expected - face.points[corner])
        assert (expected[0] - face.points[corner][0]) * outward > 0 and expected[1] < face.points[corner][1]


def test_the_cheeks_rise_with_the_corners(grace, editor):
    """The judge reads the lower cheeks as much as the lips, and a smile carries them with the corners: the
    shipped options move each cheek anchor (beside the corner) with its corner; without the lift it stays."""
    photo, face = grace
    frame = EyeFrame.of(face.points)

    def cheek_moves(warp: WarpEditor) -> list[tuple[np.ndarray, np.ndarray]]:
        prepared = warp.prepare(photo, face)
        x0, y0 = prepared.region[:2]
        coords = warp.inverse_map(prepared, 1.0)
        pairs = []
        for corner, cheek in zip((48, 54), cheek_anchors(face.points), strict=True):
            ix, iy = int(round(cheek[0] - x0)), int(round(cheek[1] - y0))
            moved = cheek - (coords[iy, ix] + (x0, y0))      # the smooth field's move there, to first order
            pairs.append((moved, frame.vectors_to_photo(warp.shape.displacement[corner])))
        return pairs

    assert editor.options.cheek_lift == 1.0
    for moved, corner in cheek_moves(editor):
        assert moved[1] < 0 and 0.85 < moved[1] / corner[1] < 1.15      # up, as far as the corner
        assert moved[0] * corner[0] > 0                                  # and out with it
    for moved, corner in cheek_moves(WarpEditor(options=WarpOptions(cheek_lift=0.0))):
        assert abs(moved[1]) < 0.3 * abs(corner[1])


def test_an_absurd_shape_file_is_capped_not_obeyed(grace):
    """A shape moving the mouth ten times the measured smile cannot tear the face: no point moves more
    than ``max_move`` inter-ocular distances at strength 1."""
    photo, face = grace
    shipped = load_smile_shape(shipped_models_dir() / "warp")
    mean_non = np.asarray(shipped.mean_non)
    absurd = SmileShape(mean_smile=mean_non + 10 * (np.asarray(shipped.mean_smile) - mean_non), mean_non=mean_non,
                        counts=shipped.counts, source="absurd")
    editor = WarpEditor(absurd)
    prepared = editor.prepare(photo, face)
    scale = EyeFrame.of(face.points).scale
    largest = np.abs(prepared.field).max() / scale    # coarse field at α = 1, photo pixels
    assert 0.5 * editor.options.max_move < largest <= 1.05 * editor.options.max_move


def test_sharpness_is_kept_at_full_resolution(grace, editor):
    """A warp resamples the photo itself: the mouth keeps its texture (a pasted low-res crop does not)."""
    photo, face = grace
    areas = face_areas(face.points, photo.shape)
    assert sharpness_kept(photo, editor.smile(photo, face, 1.0).image, areas) > 0.93
    x0, y0, x1, y1 = areas.box
    blurred = photo.copy()
    region = photo[y0:y1, x0:x1]
    blurred[y0:y1, x0:x1] = cv2.resize(cv2.resize(region, None, fx=0.25, fy=0.25, interpolation=cv2.INTER_AREA),
                                       region.shape[1::-1], interpolation=cv2.INTER_LINEAR)
    assert sharpness_kept(photo, blurred, areas) < 0.4   # the measure does see a stretched crop


def test_small_faces_are_edited(grace, editor):
    """Mouths far below a network crop (here ~12 px) still get a smile."""
    photo, _ = grace
    small = cv2.resize(photo, None, fx=0.25, fy=0.25, interpolation=cv2.INTER_AREA)
    padded = cv2.copyMakeBorder(small, 60, 60, 60, 60, cv2.BORDER_REPLICATE)
    faces = detect_faces(padded)
    assert faces
    result = editor.smile(padded, faces[0], 1.0)
    assert np.any(result.image != padded)


def test_faces_without_68_points_are_refused(grace, editor):
    photo, face = grace
    from keepsmiling_core.detection.face import Face

    bare = Face(box=face.box, landmarks=face.landmarks, mouth=face.mouth, score=face.score)
    with pytest.raises(EditError, match="68"):
        editor.prepare(photo, bare)


def test_open_editor_picks_the_backend(tiny_splitgan_run):
    assert isinstance(open_editor(None), WarpEditor)
    assert open_editor(shipped_models_dir() / "warp").setup == "warp"
    assert open_editor(tiny_splitgan_run).setup == "splitgan"


def test_fit_save_load_round_trip_and_bad_files(tmp_path):
    rng = np.random.default_rng(0)
    base = np.asarray(load_smile_shape(shipped_models_dir() / "warp").mean_non)
    samples = []
    for i in range(40):
        smiling = i % 2 == 0
        shape = base + (np.array([0.0, -0.1]) if smiling else 0.0) * (np.arange(68)[:, None] >= 48)
        # place each face anywhere, at any size and roll: the eye frame must undo it
        angle, scale, shift = rng.uniform(-0.4, 0.4), rng.uniform(20, 200), rng.uniform(0, 500, 2)
        rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
        samples.append((shape @ rot.T * scale + shift, smiling))
    fitted = fit_smile_shape(samples, source="synthetic")
    assert np.allclose(fitted.displacement[48:], [0.0, -0.1], atol=1e-6)
    assert np.allclose(fitted.displacement[:48], 0.0, atol=1e-6)
    save_smile_shape(fitted, tmp_path)
    assert np.allclose(load_smile_shape(tmp_path).mean_smile, fitted.mean_smile, atol=1e-5)

    data = json.loads((tmp_path / "smile_shape.json").read_text())
    data["mean_smile"][3][0] = float("nan")
    (tmp_path / "smile_shape.json").write_text(json.dumps(data))
    with pytest.raises(KeepSmilingError, match="non-finite"):
        load_smile_shape(tmp_path)
    (tmp_path / "smile_shape.json").write_text("{")
    with pytest.raises(KeepSmilingError, match="not valid JSON"):
        load_smile_shape(tmp_path)
    with pytest.raises(KeepSmilingError, match="Too few"):
        fit_smile_shape(samples[:6], source="few")
    assert isinstance(fitted, SmileShape)


def test_the_app_lists_the_warp_first_and_edits_with_it_by_default(tmp_path):
    from keepsmiling_gui.model_catalog import default_edit_model, find_models

    entries = find_models(extra_runs_dir=tmp_path)
    shipped = [e for e in entries if e.shipped]
    assert [e.setup for e in shipped[:3]] == ["warp", "splitgan", "complexgan"]
    assert shipped[0].label == "Landmark warp (shipped)"
    default = default_edit_model(entries)
    assert default is shipped[0] and default.missing_for_edit() is None
    assert open_editor(default.path).setup == "warp"
