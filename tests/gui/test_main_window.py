"""The editor window end to end on a real photo with a real model: detect, click, slider, undo, save."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from gui_helpers import changed_box, click_face, inside
from PIL import Image
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QUndoStack
from PySide6.QtWidgets import QApplication

from keepsmiling_core.imageio import read_photo


def test_open_photo_shows_every_face_with_landmarks(opened):
    photo = opened.photo
    assert len(opened.faces) == 2  # two real MTFL faces side by side
    width = photo.rgb.shape[1]
    for item, face in zip(opened.scene.faces, opened.faces, strict=True):
        assert item.face_rect.width() > 40
        assert np.allclose(item._landmarks, face.landmarks)
        assert item._landmarks.shape == (5, 2)
        assert item.mouth_rect.intersects(item.face_rect)
    # sorted left to right: the first face is in the left half, the second in the right half
    assert opened.scene.faces[0].face_rect.center().x() < width / 2 < opened.scene.faces[1].face_rect.center().x()
    assert "2 faces found" in opened.statusBar().currentMessage()
    assert "Device:" in opened.device_label.text()


def test_click_selects_face_and_changes_only_its_mouth(qtbot, opened, wait_until):
    before = opened.displayed_image()
    assert np.array_equal(before, opened.photo.rgb)
    click_face(qtbot, opened, 1)
    assert opened.selected == {1}
    assert opened.scene.faces[1].selected and not opened.scene.faces[0].selected
    wait_until(lambda: 1 in opened.scene.patches and opened.renderer.idle)
    after = opened.displayed_image()
    box = changed_box(before, after)
    assert box is not None, "selecting a face must change the photo"
    region = opened.prepared[1].region
    assert inside(box, region), f"pixels changed at {box}, outside the mouth region {region}"
    face_box = opened.faces[1].box
    assert region[0] >= face_box[0] - 5 and region[2] <= face_box[2] + 5  # the mouth is within the face
    # the whole left face is untouched
    assert np.array_equal(after[:, : region[0]], before[:, : region[0]])


def test_slider_renders_newest_strength_and_skips_stale_requests(qtbot, opened, wait_until):
    click_face(qtbot, opened, 0)
    wait_until(lambda: opened.renderer.idle and 0 in opened.scene.patches)
    at_one = opened.displayed_image()
    runner = opened.renderer
    started, skipped = runner.started, runner.skipped
    slider = opened.strength_control.slider
    slider.setSliderDown(True)  # a drag: many moves, one undo step
    for value in range(100, 301, 5):
        slider.setValue(value)
    slider.setSliderDown(False)
    assert opened.strengths == {0: 3.0}
    assert opened.strength_control.spin.value() == 3.0
    wait_until(lambda: runner.idle)
    assert runner.started - started < 41 / 2, "the slider queued a render per move instead of dropping stale ones"
    assert runner.skipped - skipped > 20
    assert opened.last_render.alphas == {0: 3.0}, "the last render shown must be the newest strength"
    at_three = opened.displayed_image()
    assert not np.array_equal(at_one, at_three)
    assert inside(changed_box(at_one, at_three), opened.prepared[0].region)
    assert opened.undo_stack.count() == 2  # select + one strength gesture
    # the spin box drives the slider as well
    opened.strength_control.spin.setValue(-1.5)
    assert slider.value() == -150
    wait_until(lambda: runner.idle and opened.last_render.alphas == {0: -1.5})


def test_stale_result_after_cancel_is_dropped(qtbot, opened, wait_until):
    click_face(qtbot, opened, 0)
    wait_until(lambda: opened.renderer.idle)
    dropped = opened.renderer.dropped
    opened.strength_control.set_value(2.0)
    opened.renderer.cancel()  # e.g. another photo opened while rendering
    wait_until(lambda: opened.renderer.idle)
    assert opened.renderer.dropped == dropped + 1
    assert opened.last_render.alphas == {0: 1.0}


def test_undo_and_redo_restore_images(qtbot, opened, wait_until):
    original = opened.displayed_image()
    click_face(qtbot, opened, 0)
    wait_until(lambda: opened.renderer.idle and 0 in opened.scene.patches)
    edited = opened.displayed_image()
    opened.strength_control.spin.setValue(2.5)
    wait_until(lambda: opened.renderer.idle and opened.last_render.alphas == {0: 2.5})
    stronger = opened.displayed_image()
    assert not np.array_equal(edited, stronger)

    opened.undo_action.trigger()  # strength back to 1
    wait_until(lambda: opened.renderer.idle and opened.last_render.alphas == {0: 1.0})
    assert opened.strength_control.value() == 1.0
    assert np.array_equal(opened.displayed_image(), edited)
    opened.undo_action.trigger()  # unselect
    wait_until(lambda: opened.renderer.idle)
    assert opened.selected == frozenset()
    assert np.array_equal(opened.displayed_image(), original)
    opened.redo_action.trigger()
    wait_until(lambda: opened.renderer.idle and 0 in opened.scene.patches)
    assert np.array_equal(opened.displayed_image(), edited)
    shortcuts = [s.toString() for s in opened.redo_action.shortcuts()]
    assert "Ctrl+Shift+Z" in shortcuts and opened.undo_action.shortcut().toString() == "Ctrl+Z"
    assert isinstance(opened.undo_stack, QUndoStack)


def test_hold_to_compare_and_split_view(qtbot, opened, wait_until):
    opened.smile_all()
    assert opened.selected == {0, 1}
    wait_until(lambda: opened.renderer.idle and len(opened.scene.patches) == 2)
    edited = opened.displayed_image()
    assert not np.array_equal(edited, opened.photo.rgb)
    opened.compare_button.pressed.emit()
    assert np.array_equal(opened.displayed_image(), opened.photo.rgb)
    opened.compare_button.released.emit()
    assert np.array_equal(opened.displayed_image(), edited)
    qtbot.keyPress(opened, Qt.Key.Key_Space)
    assert np.array_equal(opened.displayed_image(), opened.photo.rgb)
    qtbot.keyRelease(opened, Qt.Key.Key_Space)
    assert np.array_equal(opened.displayed_image(), edited)
    opened.split_action.setChecked(True)
    assert opened.original_view.isVisible()
    assert np.array_equal(opened.original_scene.render_photo(), opened.photo.rgb)
    opened.split_action.setChecked(False)
    assert not opened.original_view.isVisible()


def test_save_as_keeps_size_and_exif_and_never_silently_overwrites(qtbot, opened, messages, wait_until,
                                                                    tmp_path: Path, group_photo: Path):
    click_face(qtbot, opened, 0)
    wait_until(lambda: opened.renderer.idle and 0 in opened.scene.patches)
    shown = opened.displayed_image()
    target = tmp_path / "out.png"
    with qtbot.waitSignal(opened.saved, timeout=30_000):
        opened.write_to(target)
    saved = read_photo(target)
    assert saved.rgb.shape == opened.photo.rgb.shape
    assert np.array_equal(saved.rgb, shown), "the saved photo must be exactly what the view shows"
    assert Image.open(target).getexif().get(0x010F) == "KeepSmiling test camera"
    assert opened.undo_stack.isClean()

    original_bytes = group_photo.read_bytes()
    opened.write_to(group_photo)  # the recorder answers "No"
    assert any("original" in text for _, _, text in messages.messages)
    assert group_photo.read_bytes() == original_bytes

    opened.export_faces(tmp_path)
    wait_until(lambda: any("Exported 2 images" in m for m in [opened.statusBar().currentMessage()]))
    before = read_photo(tmp_path / "group-face01-before.png").rgb
    after = read_photo(tmp_path / "group-face01-after.png").rgb
    assert before.shape == after.shape and not np.array_equal(before, after)


def test_bad_files_give_messages_not_exceptions(qtbot, window, messages, wait_until, tmp_path: Path):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 this is not really a JPEG")
    window.open_photo(broken)
    wait_until(lambda: len(messages.messages) == 1)
    kind, title, text = messages.messages[0]
    assert kind == "warning" and "broken.jpg" in text and "Traceback" not in text
    window.open_photo(tmp_path / "missing.png")
    wait_until(lambda: len(messages.messages) == 2)
    assert "does not exist" in messages.messages[1][2]
    assert window.photo is None

    blank = tmp_path / "no-face.png"
    Image.fromarray(np.full((120, 160, 3), 200, np.uint8)).save(blank)
    window.open_photo(blank)
    wait_until(lambda: len(messages.messages) == 3)
    assert messages.messages[2][1] == "No faces found"
    assert "No faces found" in window.statusBar().currentMessage()

    run_without_direction = tmp_path / "home" / "broken-model"
    run_without_direction.mkdir(parents=True)
    (run_without_direction / "checkpoint.json").write_text("{ not json")
    from keepsmiling_gui.model_catalog import describe_model

    assert describe_model(run_without_direction) is None  # a damaged model is not offered at all


def test_recent_files_and_drop(qtbot, window, group_photo: Path, wait_until):
    from PySide6.QtCore import QMimeData, QPointF, QUrl
    from PySide6.QtGui import QDropEvent

    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(group_photo))])
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton,
                       Qt.KeyboardModifier.NoModifier)
    window.dropEvent(event)
    wait_until(lambda: window.photo is not None and len(window.scene.faces) == 2)
    assert window.settings.recent_files()[0] == group_photo.resolve()
    assert [a.text() for a in window.recent_menu.actions()][0] == str(group_photo.resolve())


def test_face_that_cannot_be_edited_says_why(qtbot, opened, messages, wait_until):
    """A profile face (both eyes on one spot) is refused by the core; the window explains, never crashes."""
    from keepsmiling_core.detection import Face

    real = opened.faces[0]
    landmarks = real.landmarks.copy()
    landmarks[1] = landmarks[0]  # eyes coincide: a profile
    profile = Face(box=real.box, landmarks=landmarks, mouth=None, score=1.0)
    opened.loader.faces_found(opened.photo.rgb, [profile, opened.faces[1]])
    opened.smile_all()
    wait_until(lambda: opened.renderer.idle and 0 in opened.blocked)
    assert "profile" in opened.blocked[0]
    assert opened.selected == {1} and 1 in opened.scene.patches and 0 not in opened.scene.patches
    assert opened.scene.faces[0].blocked_reason and "cannot be edited" in opened.scene.faces[0].toolTip()
    assert "Face 1 cannot be edited" in opened.statusBar().currentMessage()
    click_face(qtbot, opened, 0)  # clicking it again explains instead of selecting
    assert opened.selected == {1}
    assert messages.messages[-1][1] == "This face cannot be edited"


def test_hover_highlights_and_wheel_zooms(qtbot, opened):
    item = opened.scene.faces[0]
    centre = opened.view.mapFromScene(item.face_rect.center())
    qtbot.mouseMove(opened.view.viewport(), QPoint(centre.x(), centre.y()))
    qtbot.waitUntil(lambda: item.hovered, timeout=3000)
    assert item.colour() != opened.scene.faces[1].colour()
    from PySide6.QtCore import QPointF
    from PySide6.QtGui import QWheelEvent

    zoom = opened.view.zoom()
    point = QPointF(centre.x(), centre.y())
    wheel = QWheelEvent(point, opened.view.viewport().mapToGlobal(point), QPoint(0, 0), QPoint(0, 240),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase,
                        False)
    QApplication.sendEvent(opened.view.viewport(), wheel)
    assert abs(opened.view.zoom() / zoom - 1.15**2) < 1e-6
    opened.fit_action.trigger()
    assert abs(opened.view.zoom() - zoom) < 1e-6


def test_save_as_and_save_actions_through_the_file_dialog(qtbot, opened, wait_until, monkeypatch, tmp_path: Path):
    from PySide6.QtWidgets import QFileDialog

    suggested: list[str] = []

    def fake_dialog(parent, caption, start, filters):
        suggested.append(start)
        return str(tmp_path / "picked.jpg"), filters

    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(fake_dialog))
    opened.smile_all()
    wait_until(lambda: opened.renderer.idle and len(opened.scene.patches) == 2)
    with qtbot.waitSignal(opened.saved, timeout=30_000):
        opened.save_action.trigger()  # first Save asks for a name
    assert suggested[0].endswith("group-smiling.jpg")
    saved = read_photo(tmp_path / "picked.jpg")
    assert saved.rgb.shape == opened.photo.rgb.shape
    assert np.abs(saved.rgb.astype(int) - opened.displayed_image()).mean() < 3  # JPEG, quality 95
    assert "•" not in opened.windowTitle()
    opened.strength_control.spin.setValue(2.0)
    assert "•" in opened.windowTitle()
    with qtbot.waitSignal(opened.saved, timeout=30_000):
        opened.save_action.trigger()  # later Saves reuse the name
    assert len(suggested) == 1
