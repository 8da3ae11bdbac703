"""Issue 16, the window's half: nothing a user does breaks it or leaves them guessing.

One dialog for a failing render, a window that fits the screen, split panes that follow each other,
a slider that edits a lone face at once, Space that compares from anywhere, no tint over the edit,
Save in the unsaved-edits prompt, a title that follows Save As, and Help ▸ About.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from gui_helpers import click_face
from PySide6.QtCore import QRect, Qt
from PySide6.QtWidgets import QFileDialog, QMessageBox

from keepsmiling_gui.main_window import MainWindow

SINGLE_FACE = "lfw_5590/Aaron_Eckhart_0001.jpg"


def test_a_failing_render_opens_one_dialog_not_one_per_slider_move(qtbot, opened, messages, wait_until,
                                                                     monkeypatch):
    click_face(qtbot, opened, 0)
    wait_until(lambda: opened.renderer.idle and 0 in opened.scene.patches)

    def out_of_memory(*_args, **_kwargs):
        raise MemoryError()

    monkeypatch.setattr(opened.editor, "render", out_of_memory)
    for value in (1.2, 1.4, 1.6, 1.8, 2.0):
        opened.strength_control.set_value(value)
        wait_until(lambda: opened.renderer.idle)
    warnings = [m for m in messages.messages if m[1] == "Cannot edit"]
    assert len(warnings) == 1 and "Not enough memory" in warnings[0][2]
    assert opened.statusBar().currentMessage().startswith("Cannot edit: Not enough memory")


def _inside(outer: QRect, inner: QRect) -> bool:
    return outer.contains(inner.topLeft()) and outer.contains(inner.bottomRight())


def test_window_fits_the_available_screen_and_remembers_its_geometry(qtbot, messages):
    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    available = window.screen().availableGeometry()
    assert _inside(available, window.frameGeometry())
    bar = window.statusBar()
    assert _inside(available, QRect(bar.mapToGlobal(bar.rect().topLeft()), bar.size()))

    window.resize(available.width() // 2, available.height() // 2)
    size = window.size()
    window.close()
    again = MainWindow()
    qtbot.addWidget(again)
    again.show()
    assert again.size() == size, "the geometry is remembered"

    again.resize(available.width() * 3, available.height() * 3)  # remembered from a much larger screen
    again.close()
    third = MainWindow()
    qtbot.addWidget(third)
    third.show()
    assert _inside(available, third.frameGeometry())


def test_split_panes_follow_each_other_both_ways_with_the_zoom_figure(qtbot, opened):
    opened.resize(1000, 700)
    opened.split_action.setChecked(True)
    qtbot.wait(20)
    for leader, follower in ((opened.original_view, opened.view), (opened.view, opened.original_view)):
        leader.zoom_by(3.0)
        assert follower.zoom() == pytest.approx(leader.zoom())
        assert opened.zoom_label.text() == f"{leader.zoom() * 100:.0f} %"
        bar = leader.horizontalScrollBar()
        bar.setValue((bar.minimum() + bar.maximum()) // 3)
        assert follower.horizontalScrollBar().value() == bar.value()
        leader.verticalScrollBar().setValue(leader.verticalScrollBar().maximum())
        assert follower.verticalScrollBar().value() == leader.verticalScrollBar().value()
        leader.fit_photo()
        assert follower.zoom() == pytest.approx(leader.zoom())


def test_a_single_face_follows_the_slider_without_a_click(qtbot, window, wait_until, mtfl_root: Path):
    window.open_photo(mtfl_root / SINGLE_FACE)
    wait_until(lambda: window.photo is not None and len(window.scene.faces) == 1)
    assert "Drag to make the face smile" in window.strength_control.slider.toolTip()
    window.strength_control.spin.setValue(1.5)  # a typed value, no click on the face
    wait_until(lambda: window.renderer.idle and 0 in window.scene.patches)
    assert window.strengths == {0: 1.5} and window.focus == {0}
    assert not np.array_equal(window.displayed_image(), window.photo.rgb)
    window.undo_stack.undo()  # one undo step takes the smile away again
    wait_until(lambda: window.renderer.idle)
    assert window.strengths == {} and not window.scene.patches


def test_with_several_faces_the_slider_says_to_click_one(qtbot, opened):
    assert len(opened.faces) == 2
    assert "click a face" in opened.strength_control.slider.toolTip()
    opened.strength_control.spin.setValue(2.0)
    assert opened.strengths == {} and "Click a face" in opened.statusBar().currentMessage()
    click_face(qtbot, opened, 1)
    assert "face 2" in opened.strength_control.slider.toolTip()


def test_space_compares_wherever_the_keyboard_focus_is(qtbot, opened, wait_until):
    opened.smile_all()
    wait_until(lambda: opened.renderer.idle and len(opened.scene.patches) == 2)
    edited = opened.displayed_image()
    for widget in (opened.strength_control.spin, opened.strength_control.slider, opened.model_picker,
                   opened.view.viewport()):
        widget.setFocus()
        qtbot.keyPress(widget, Qt.Key.Key_Space)
        assert np.array_equal(opened.displayed_image(), opened.photo.rgb), type(widget).__name__
        qtbot.keyRelease(widget, Qt.Key.Key_Space)
        assert np.array_equal(opened.displayed_image(), edited), type(widget).__name__
    assert opened.strength_control.value() == 1.0  # Space did not reach the spin box or the slider


def test_no_tint_over_a_hovered_edited_face(qtbot, opened, wait_until):
    click_face(qtbot, opened, 0)
    wait_until(lambda: opened.renderer.idle and 0 in opened.scene.patches)
    item = opened.scene.faces[0]
    item.hovered = True
    plain = opened.scene.render_photo(with_markers=False)
    marked = opened.scene.render_photo(with_markers=True)
    x0, y0, x1, y1 = (int(v) for v in opened.faces[0].box)
    margin = max(6, (x1 - x0) // 10)  # away from the outline itself
    inner = (plain[y0 + margin:y1 - margin, x0 + margin:x1 - margin] !=
             marked[y0 + margin:y1 - margin, x0 + margin:x1 - margin]).any(-1)
    assert inner.mean() < 0.15, f"{inner.mean():.0%} of the face is covered (only landmarks and the lip line may be)"


def test_unsaved_edits_prompt_offers_save_and_save_then_quits(qtbot, opened, messages, wait_until, monkeypatch,
                                                             tmp_path: Path):
    target = tmp_path / "kept.jpg"
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        staticmethod(lambda *args: (str(target), "JPEG (*.jpg *.jpeg)")))
    click_face(qtbot, opened, 0)
    wait_until(lambda: opened.renderer.idle and 0 in opened.scene.patches)
    messages.answer = QMessageBox.StandardButton.Cancel
    assert not opened.close() and opened.isVisible()
    assert messages.messages[-1][1] == "Unsaved edits"
    messages.answer = QMessageBox.StandardButton.Save
    opened.close()  # saves in a worker, then quits
    wait_until(lambda: not opened.isVisible(), 60)
    assert target.is_file() and opened.undo_stack.isClean()


def test_title_follows_save_as(qtbot, opened, wait_until, monkeypatch, tmp_path: Path):
    assert "group.jpg" in opened.windowTitle()
    target = tmp_path / "renamed.png"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *args: (str(target), "PNG (*.png)")))
    click_face(qtbot, opened, 0)
    wait_until(lambda: opened.renderer.idle and 0 in opened.scene.patches)
    with qtbot.waitSignal(opened.saved, timeout=30_000):
        opened.save_as()
    assert opened.windowTitle().startswith("KeepSmiling — renamed.png") and "•" not in opened.windowTitle()


def test_about_names_versions_device_and_licences(opened, messages):
    import dlib
    import PySide6
    import torch

    from keepsmiling_core import __version__

    opened.show_about()
    kind, title, text = messages.messages[-1]
    assert (kind, title) == ("dialog", "About KeepSmiling")
    for expected in (__version__, torch.__version__, PySide6.__version__, dlib.__version__, opened.device_text,
                     "MTFL", "GENKI-4K", "300-W", "dlib"):
        assert expected in text, expected
