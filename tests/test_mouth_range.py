"""The slider stops where a real mouth would stop bending: no U-shaped lips, no corner hooked up to the
nose, no caricatured frown - on the measures, and on a real GENKI photo where the shipped edits used to
go past it."""

from __future__ import annotations

import numpy as np
import pytest

from keepsmiling_core.editing.backends import open_editor
from keepsmiling_core.editing.mouth_range import (
    REAL_MOUTHS,
    MouthBend,
    MouthRange,
    bends_like_real_mouths,
    moved_by_backward_map,
)
from keepsmiling_core.paths import shipped_models_dir

# A GENKI evaluation photo whose rolled face the shipped SplitGAN twisted into an S at strength 2.
TWISTED = "file3871.jpg"


def _face_points(lift_deg: float, sag: float, roll_deg: float = 0.0, scale: float = 1.0) -> np.ndarray:
    """68 points with the eyes one unit apart and a mouth of the given bend, rolled and scaled."""
    points = np.zeros((68, 2))
    points[36:42] = (-0.5, 0.0)
    points[42:48] = (0.5, 0.0)
    middle = np.array([0.0, 1.0])
    points[62] = points[66] = middle
    rise = 0.4 * np.tan(np.radians(lift_deg))
    points[48], points[54] = middle + (-0.4, -rise), middle + (0.4, -rise)
    points[51] = (0.0, 1.0 - rise + sag * 0.8)
    turn = np.radians(roll_deg)
    rotation = np.array([[np.cos(turn), -np.sin(turn)], [np.sin(turn), np.cos(turn)]])
    return points @ rotation.T * scale + (200.0, 150.0)


def test_the_bend_is_read_in_the_eye_frame_whatever_the_roll_and_size():
    for roll, scale in ((0.0, 1.0), (25.0, 80.0), (-40.0, 13.0)):
        bend = MouthBend.of(_face_points(12.0, -0.05, roll, scale))
        assert bend.corner_lift == pytest.approx((12.0, 12.0), abs=1e-6)
        assert bend.lip_sag == pytest.approx(-0.05, abs=1e-6)


def test_an_edit_may_not_bend_a_mouth_past_real_mouths_but_may_bring_one_back():
    assert REAL_MOUTHS.corner_lift[0] < 0 < 12 < REAL_MOUTHS.corner_lift[1] <= 35
    assert REAL_MOUTHS.lip_sag[0] < -0.05 < REAL_MOUTHS.lip_sag[1] <= 0.15
    neutral, smile = MouthBend.of(_face_points(1.0, -0.1)), MouthBend.of(_face_points(15.0, -0.05))
    u_shape, hooked = MouthBend.of(_face_points(20.0, 0.2)), MouthBend.of(_face_points(40.0, -0.05))
    caricature = MouthBend.of(_face_points(-30.0, -0.1))
    assert REAL_MOUTHS.allows(neutral, smile) and REAL_MOUTHS.allows(smile, neutral)
    assert not REAL_MOUTHS.allows(neutral, u_shape) and not REAL_MOUTHS.allows(neutral, hooked)
    assert not REAL_MOUTHS.allows(neutral, caricature)
    # A face already past the range (a grin) may move back towards it, and not further out.
    assert REAL_MOUTHS.allows(hooked, smile)
    assert not REAL_MOUTHS.allows(MouthBend.of(_face_points(35.0, -0.05)), hooked)
    assert MouthRange(corner_lift=(-90, 90), lip_sag=(-1, 1)).allows(neutral, u_shape)


def test_points_move_against_a_backward_maps_offsets():
    ys, xs = np.mgrid[0:40, 0:50].astype(np.float32)
    source_map = np.dstack([xs + 1.5, ys - 1.0])   # each output pixel samples 1.5 px right, 1 px up
    points = np.array([[10.0, 10.0], [30.5, 20.25]])
    assert moved_by_backward_map(points, source_map) == pytest.approx(points + (-1.5, 1.0), abs=1e-4)
    # A smooth, non-uniform map: the point found is where the map samples the given point.
    bent = np.dstack([xs + 2.0 * np.sin(ys / 9.0), ys + 0.05 * (xs - 25.0)]).astype(np.float32)
    moved = moved_by_backward_map(points, bent)
    sampled = np.stack([moved[:, 0] + 2.0 * np.sin(moved[:, 1] / 9.0), moved[:, 1] + 0.05 * (moved[:, 0] - 25.0)], 1)
    assert sampled == pytest.approx(points, abs=0.05)   # bilinear sampling of the map: sub-pixel


@pytest.fixture(scope="module")
def twisted_face(genki_root):
    from keepsmiling_core.detection import detect_faces
    from keepsmiling_core.evaluation.photos import largest_face
    from keepsmiling_core.imageio import read_photo

    photo = read_photo(genki_root / "files" / TWISTED).rgb
    face = largest_face(detect_faces(photo))
    assert face is not None and face.points is not None
    return photo, face


@pytest.mark.parametrize("model, end", [("splitgan", 1), ("warp", 0)])
def test_the_shipped_slider_stops_where_the_mouth_would_bend_past_real_mouths(twisted_face, model, end):
    """SplitGAN's smile and the warp's frown both went past real mouths on this face at ±2; both now
    saturate inside the range, at the last strength before it (1/32 of the range, the bisection's step)."""
    photo, face = twisted_face
    editor = open_editor(shipped_models_dir() / model)
    prepared = editor.prepare(photo, face, 0)
    limit = prepared.alpha_limits[end]
    furthest = 2.0 if end == 1 else -2.0
    assert abs(limit) < 2.0

    def within(alpha: float) -> bool:
        return bends_like_real_mouths(face.points, editor.inverse_map(prepared, alpha), prepared.region[:2])

    assert within(limit) and not within(furthest)
    assert not within(limit + np.sign(furthest) * 4.0 / 32)
    # The slider saturates there: asking for ±2 renders the photo the limit renders.
    assert np.array_equal(editor.render(prepared, furthest), editor.render(prepared, limit))


def test_a_face_asked_past_its_limit_is_reported_with_the_strength_it_shows(grace_hopper, tmp_path, capsys):
    """The slider's stop is said, not silent: the render job, the session and the CLI name the strength
    the face shows when asked for more (shipped SplitGAN on Grace Hopper: its stop lies near 1.1)."""
    from keepsmiling_core.cli.main import main
    from keepsmiling_core.editing.compose import render_patches
    from keepsmiling_core.editing.session import EditSession, EditState
    from keepsmiling_core.imageio import read_photo
    from keepsmiling_core.paths import samples_dir

    photo, face = grace_hopper
    editor = open_editor(shipped_models_dir() / "splitgan")
    cache = {0: editor.prepare(photo, face, 0)}
    limit = cache[0].alpha_limits[1]
    assert 0.5 < limit < 2.0
    assert render_patches(editor, photo, [face], {0: 2.0}, [0], cache).held == {0: limit}
    assert render_patches(editor, photo, [face], {0: 0.5}, [0], cache).held == {}

    session = EditSession(editor=editor)
    session.open(read_photo(samples_dir() / "grace-hopper.jpg"), [face])
    session.apply(EditState({0: 2.0}))
    session.prepare_all()
    assert session.held() == {0: limit}

    assert main(["smile", str(samples_dir() / "grace-hopper.jpg"), "--model", str(shipped_models_dir() / "splitgan"),
                 "--alpha", "2", "--out", str(tmp_path), "--device", "cpu"]) == 0
    assert f"face 0 edited at strength {limit:+.2f}, not +2.00" in capsys.readouterr().err
