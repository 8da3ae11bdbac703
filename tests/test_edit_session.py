"""The Qt-free edit session on real photos with the shipped landmark warp: per-face strengths, undo and
redo as data, the dirty flag, the save plan, and one render path shared with ``keepsmiling smile``
(overlapping faces included)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from keepsmiling_core.cli.main import main
from keepsmiling_core.detection import Face, detect_faces
from keepsmiling_core.editing.backends import open_editor
from keepsmiling_core.editing.compose import overlaps, render_edits
from keepsmiling_core.editing.session import (
    DEFAULT_STRENGTH,
    EditSession,
    EditState,
    SliderMove,
    save_target,
)
from keepsmiling_core.imageio import read_photo


@pytest.fixture(scope="module")
def warp():
    return open_editor()  # the shipped default: the landmark warp


@pytest.fixture(scope="module")
def two_faces(overlapping_faces: Path):
    photo = read_photo(overlapping_faces)
    return photo, detect_faces(photo.rgb)


def new_session(editor, photo, faces) -> EditSession:
    session = EditSession(editor=editor)
    session.open(photo, faces)
    return session


def test_clicks_and_one_slider_gesture_are_undo_steps_as_data(warp, two_faces):
    photo, faces = two_faces
    session = new_session(warp, photo, faces)
    assert not session.dirty and not session.history.can_undo

    step = session.click_face(0)
    assert step.text == "Smile face 1" and step.before == EditState() and step.after.strengths == {0: 1.0}
    assert session.strengths == {0: DEFAULT_STRENGTH} and session.focus == {0} and session.dirty
    # a drag: many live moves, one step holding the strength from before the gesture
    for value in (1.2, 1.6, 2.0, 2.5):
        assert session.move_strength(value) is SliderMove.MOVED
    assert session.strengths == {0: 2.5} and len(session.history.steps) == 1
    step = session.commit_strength()
    assert step.text == "Strength 1.00 → 2.50 (face 1)" and len(session.history.steps) == 2
    assert session.commit_strength() is None  # no gesture under way: nothing to record

    assert session.click_face(1).text == "Smile face 2"  # a new face starts at the default, 0 keeps 2.5
    assert session.strengths == {0: 2.5, 1: DEFAULT_STRENGTH} and session.focus == {1}
    assert session.click_face(0) is None  # smiling, not in focus: focus only, no step, photo unchanged
    assert session.focus == {0} and len(session.history.steps) == 3
    session.move_strength(-0.5)
    session.commit_strength()
    assert session.strengths == {0: -0.5, 1: 1.0}

    assert session.history.undo_text == "Strength 2.50 → -0.50 (face 1)"
    session.undo()  # the focus at the gesture's start comes back with the strength
    assert session.strengths == {0: 2.5, 1: 1.0} and session.focus == {0}
    session.undo()
    assert session.strengths == {0: 2.5} and session.focus == {0}
    assert session.history.redo_text == "Smile face 2"
    session.redo()
    session.redo()
    assert session.strengths == {0: -0.5, 1: 1.0} and not session.history.can_redo
    assert session.click_face(0).text == "Unselect face 1"  # the focused face clicked again
    assert session.strengths == {1: 1.0} and session.focus == frozenset()
    assert session.smile_all(0.75).text == "Smile all at 0.75"
    assert session.strengths == {0: 0.75, 1: 0.75} and session.focus == {0, 1}
    assert session.clear().text == "Unselect 2 faces" and session.strengths == {}


def test_dirty_flag_follows_saves_undo_and_lost_redo_steps(warp, two_faces, tmp_path: Path):
    photo, faces = two_faces
    session = new_session(warp, photo, faces)
    session.click_face(0)
    session.move_strength(2.0)
    session.commit_strength()
    written = session.save(tmp_path / "saved.png")
    assert written == tmp_path / "saved.png" and session.save_path == written and not session.dirty
    session.undo()
    assert session.dirty
    session.redo()
    assert not session.dirty, "back at the saved step"
    session.undo()
    session.undo()
    session.click_face(1)  # replaces the redo steps that led to the saved state
    assert session.history.saved_at is None and session.dirty
    session.undo()
    assert session.dirty, "the saved state can no longer be reached"
    session.open(photo, faces)
    assert not session.dirty and session.history.steps == [] and session.save_path is None


def test_lone_face_follows_the_slider_several_faces_need_a_click(warp, grace_hopper, two_faces):
    photo, faces = two_faces
    session = new_session(warp, photo, faces)
    assert session.move_strength(2.0) is SliderMove.CHOOSE and session.strengths == {}
    rgb, face = grace_hopper
    from keepsmiling_core.imageio import Photo

    single = new_session(warp, Photo(rgb=rgb, exif=None, path=None), [face])
    assert single.move_strength(1.5) is SliderMove.STARTED
    assert single.strengths == {0: 1.5} and single.focus == {0}
    assert single.commit_strength().text == "Strength 1.50 (face 1)"
    single.undo()
    assert single.strengths == {} and single.focus == frozenset()


def test_strength_zero_gives_the_photo_unchanged(warp, two_faces):
    photo, faces = two_faces
    session = new_session(warp, photo, faces)
    session.apply(EditState({0: 0.0, 1: 0.0}))
    assert np.array_equal(session.render(), photo.rgb)
    session.apply(EditState({0: 1.0, 1: 0.0}))
    edited = session.render()
    assert not np.array_equal(edited, photo.rgb)
    x0, y0, x1, y1 = session.prepared[0].region
    outside = np.ones(photo.rgb.shape[:2], bool)
    outside[y0:y1, x0:x1] = False
    assert np.array_equal(edited[outside], photo.rgb[outside]), "only face 1's region may change"


def test_unequal_strengths_render_like_the_core_in_face_order(warp, two_faces):
    photo, faces = two_faces
    session = new_session(warp, photo, faces)
    session.apply(EditState({1: -1.0, 0: 2.5}))
    shown = session.render()
    prepared = [warp.prepare(photo.rgb, face, i) for i, face in enumerate(faces)]
    edits = [(prepared[0], 2.5), (prepared[1], -1.0)]
    assert np.array_equal(shown, render_edits(warp, photo.rgb, edits))
    assert np.array_equal(shown, warp.apply_all(photo.rgb, edits)), "the editors' own compositing agrees"
    # the overlap matters: pasting each face's edit of the untouched photo (what the screen once did)
    # loses face 1's edit where face 2's region covers it
    assert overlaps(prepared[0].region, prepared[1].region)
    pasted = photo.rgb.copy()
    for face, alpha in edits:
        x0, y0, x1, y1 = face.region
        pasted[y0:y1, x0:x1] = warp.render(face, alpha)
    assert not np.array_equal(pasted, shown)
    # the screen's patches are the finished photo's pixels in each region, whichever lies on top
    outcome = session.plan().patches({0})
    assert set(outcome.patches) == {0, 1}, "a face overlapping the moved one renders with it"
    for x0, y0, patch in outcome.patches.values():
        assert np.array_equal(patch, shown[y0:y0 + patch.shape[0], x0:x0 + patch.shape[1]])


def test_saved_photo_equals_the_smile_cli_on_overlapping_faces(warp, two_faces, overlapping_faces: Path,
                                                               tmp_path: Path):
    """``keepsmiling smile`` applies one strength to the faces it edits: the same for the session."""
    photo, faces = two_faces
    session = new_session(warp, photo, faces)
    assert session.smile_all(1.5) is not None
    saved = session.save(tmp_path / "session.jpg")
    assert main(["smile", str(overlapping_faces), "--alpha", "1.5", "--out", str(tmp_path / "cli")]) == 0
    cli = tmp_path / "cli" / "two-faces_smile.jpg"
    assert cli.read_bytes() == saved.read_bytes(), "same pixels, same EXIF, same encoder settings"
    with Image.open(saved) as image:
        assert image.getexif().get(0x010F) == "KeepSmiling test camera"
    # losslessly too, against the session's own render (what the window shows)
    png = tmp_path / "two-faces.png"
    Image.fromarray(photo.rgb).save(png)
    assert main(["smile", str(png), "--alpha", "1.5", "--faces", "0,1", "--out", str(tmp_path / "cli")]) == 0
    rendered = session.render()
    assert np.array_equal(read_photo(tmp_path / "cli" / "two-faces_smile.png").rgb, rendered)
    assert not np.array_equal(rendered, photo.rgb)


def test_a_refused_face_stops_smiling_and_the_others_still_render(warp, two_faces):
    photo, faces = two_faces
    real = faces[0]
    points = real.points.copy()
    landmarks = real.landmarks.copy()
    landmarks[1] = landmarks[0]  # eyes coincide: a profile
    profile = Face(box=real.box, landmarks=landmarks, mouth=real.mouth, score=1.0, points=points)
    session = new_session(warp, photo, [profile, faces[1]])
    session.smile_all(1.0)
    refused = session.prepare_all()
    assert set(refused) == {0} and session.strengths == {1: 1.0} and session.focus == {1}
    assert session.click_face(0) is None and session.editable == {1}
    alone = new_session(warp, photo, faces)
    alone.apply(EditState({1: 1.0}))
    assert np.array_equal(session.render(), alone.render())


def test_save_plan_names_and_the_original(warp, two_faces, overlapping_faces: Path, tmp_path: Path):
    photo, faces = two_faces
    session = new_session(warp, photo, faces)
    assert session.suggested_path() == overlapping_faces.parent / "two-faces-smiling.jpg"
    assert session.suggested_path(tmp_path) == tmp_path / "two-faces-smiling.jpg"
    assert session.replaces_original(overlapping_faces) and not session.replaces_original(tmp_path / "x.jpg")
    assert save_target(tmp_path / "plain") == tmp_path / "plain.jpg"
    assert save_target(tmp_path / "p.png") == tmp_path / "p.png"
    unedited = session.save(tmp_path / "unedited.png")
    assert np.array_equal(read_photo(unedited).rgb, photo.rgb)
    session.smile_all(1.0)
    written = session.plan().export_faces(tmp_path)
    assert [p.name for p in written] == ["two-faces-face01-before.png", "two-faces-face01-after.png",
                                         "two-faces-face02-before.png", "two-faces-face02-after.png"]
