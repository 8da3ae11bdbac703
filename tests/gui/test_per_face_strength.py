"""Each face keeps its own smile strength (real photo, real model, the core's own compositing as the
reference), and the toolbar stays usable in a narrow window."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from gui_helpers import changed_box, click_face, inside
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QApplication, QMenu, QToolBar, QToolButton, QWidgetAction

from keepsmiling_core.imageio import read_photo
from keepsmiling_gui.strength import DEFAULT


def set_strength(window, value: float, wait_until) -> None:
    """Type a value into the spin box (one undo step) and wait until every face shows its strength."""
    window.strength_control.spin.setValue(value)
    wait_until(lambda: window.renderer.idle and window.shown == window.strengths)


def core_photo(window, alphas: dict[int, float]) -> np.ndarray:
    """The core's own result for these per-face strengths: the reference for the view and the saved file."""
    return window.editor.apply_all(window.photo.rgb, [(window.prepared[i], a) for i, a in sorted(alphas.items())])


def two_strengths(qtbot, window, wait_until) -> np.ndarray:
    """Both faces smiling at 1.0, then face 2 alone moved to 2.5; returns the single-strength view."""
    window.smile_all()
    wait_until(lambda: window.renderer.idle and window.shown == {0: DEFAULT, 1: DEFAULT})
    single = window.displayed_image()
    click_face(qtbot, window, 1)  # already smiling: focuses it, the photo does not change
    assert window.focus == {1} and window.strengths == {0: DEFAULT, 1: DEFAULT}
    set_strength(window, 2.5, wait_until)
    return single


def test_two_faces_keep_their_own_strength_and_only_the_moved_face_changes(qtbot, opened, wait_until):
    single = two_strengths(qtbot, opened, wait_until)
    assert opened.strengths == {0: 1.0, 1: 2.5}
    assert opened.last_render.alphas == {1: 2.5}, "moving face 2's strength must not re-render face 1"
    mixed = opened.displayed_image()
    assert np.array_equal(single, core_photo(opened, {0: 1.0, 1: 1.0}))
    assert np.array_equal(mixed, core_photo(opened, {0: 1.0, 1: 2.5})), "the view must match the core per face"
    box = changed_box(single, mixed)
    assert box is not None, "a stronger smile on face 2 must change the photo"
    region = opened.prepared[1].region
    assert inside(box, region), f"pixels changed at {box}, outside face 2's mouth region {region}"
    left = opened.prepared[0].region
    assert np.array_equal(mixed[:, : region[0]], single[:, : region[0]])  # face 1 kept its smile exactly
    assert not np.array_equal(mixed[left[1]:left[3], left[0]:left[2]], opened.photo.rgb[left[1]:left[3], left[0]:left[2]])


def test_selecting_a_face_shows_its_strength_on_the_slider(qtbot, opened, wait_until):
    control = opened.strength_control
    click_face(qtbot, opened, 0)
    assert opened.focus == {0} and control.value() == DEFAULT
    set_strength(opened, 2.0, wait_until)
    click_face(qtbot, opened, 1)  # a newly selected face starts at the default, the other keeps its own
    assert opened.strengths == {0: 2.0, 1: DEFAULT}
    assert control.value() == DEFAULT and control.slider.value() == round(DEFAULT * 100)
    steps = opened.undo_stack.count()
    click_face(qtbot, opened, 0)  # smiling already: the slider now shows and moves the first face
    assert opened.focus == {0} and control.value() == 2.0 and control.spin.value() == 2.0
    assert control.slider.value() == 200
    assert opened.scene.faces[0].focused and not opened.scene.faces[1].focused
    assert "2.00" in opened.scene.faces[0].toolTip()
    assert opened.undo_stack.count() == steps, "focusing a face changes nothing in the photo: no undo step"
    set_strength(opened, -0.5, wait_until)
    assert opened.strengths == {0: -0.5, 1: DEFAULT}
    click_face(qtbot, opened, 0)  # the focused face clicked again: left as it was
    assert opened.strengths == {1: DEFAULT} and opened.focus == frozenset()
    wait_until(lambda: opened.renderer.idle)
    assert set(opened.scene.patches) == {1}


def test_undo_restores_the_previous_per_face_strengths(qtbot, opened, wait_until):
    click_face(qtbot, opened, 0)
    set_strength(opened, 2.0, wait_until)
    click_face(qtbot, opened, 1)
    wait_until(lambda: opened.renderer.idle and opened.shown == opened.strengths)
    before_move = opened.displayed_image()
    set_strength(opened, -1.0, wait_until)
    mixed = opened.displayed_image()
    opened.smile_all_action.trigger()  # the slider's value for every face
    wait_until(lambda: opened.renderer.idle and opened.shown == {0: -1.0, 1: -1.0})
    assert opened.focus == {0, 1}
    assert "Smile all" in opened.undo_action.toolTip()

    opened.undo_action.trigger()
    wait_until(lambda: opened.renderer.idle and opened.shown == {0: 2.0, 1: -1.0})
    assert opened.strengths == {0: 2.0, 1: -1.0} and opened.strength_control.value() == -1.0
    assert np.array_equal(opened.displayed_image(), mixed)
    opened.undo_action.trigger()  # face 2's slider gesture: face 1 keeps 2.0
    wait_until(lambda: opened.renderer.idle and opened.shown == {0: 2.0, 1: DEFAULT})
    assert opened.strengths == {0: 2.0, 1: DEFAULT}
    assert opened.focus == {1} and opened.strength_control.value() == DEFAULT
    assert np.array_equal(opened.displayed_image(), before_move)
    opened.undo_action.trigger()  # face 2 unselected
    opened.undo_action.trigger()  # face 1 back to the default
    wait_until(lambda: opened.renderer.idle and opened.shown == {0: DEFAULT})
    assert opened.strengths == {0: DEFAULT} and opened.strength_control.value() == DEFAULT
    for _ in range(3):
        opened.redo_action.trigger()
    wait_until(lambda: opened.renderer.idle and opened.shown == {0: 2.0, 1: -1.0})
    assert np.array_equal(opened.displayed_image(), mixed)


def test_saving_and_exporting_write_each_face_at_its_own_strength(qtbot, opened, wait_until, tmp_path: Path):
    single = two_strengths(qtbot, opened, wait_until)
    shown = opened.displayed_image()
    target = tmp_path / "mixed.png"
    with qtbot.waitSignal(opened.saved, timeout=30_000):
        opened.write_to(target)
    saved = read_photo(target).rgb
    assert np.array_equal(saved, shown), "the saved photo must be exactly what the view shows"
    assert np.array_equal(saved, core_photo(opened, {0: 1.0, 1: 2.5}))
    assert not np.array_equal(saved, single)

    opened.export_faces(tmp_path)
    wait_until(lambda: "Exported 4 images" in opened.statusBar().currentMessage())
    for index, alpha in ((0, 1.0), (1, 2.5)):
        after = read_photo(tmp_path / f"group-face{index + 1:02d}-after.png").rgb
        assert np.array_equal(after, opened.editor.render(opened.prepared[index], alpha))


def test_changes_made_while_a_render_runs_settle_on_each_faces_own_strength(qtbot, opened, wait_until):
    """Renders skip faces already shown at their strength; one still under way must not leave a stale
    patch. No events are processed between the steps, so the first render is still to be delivered."""
    opened.toggle_face(0)
    wait_until(lambda: opened.renderer.idle and opened.shown == {0: DEFAULT})
    opened.strength_control.spin.setValue(2.0)  # renders the first face at 2.0 ...
    opened.toggle_face(1)  # the second face starts smiling
    opened.toggle_face(0)  # focus back on the first face ...
    opened.strength_control.spin.setValue(DEFAULT)  # ... which is back at the strength already on screen
    wait_until(lambda: opened.renderer.idle)
    assert opened.strengths == {0: DEFAULT, 1: DEFAULT} and opened.shown == opened.strengths
    assert np.array_equal(opened.displayed_image(), core_photo(opened, opened.strengths))


def menu_actions(menu: QMenu) -> list[QAction]:
    found = []
    for action in menu.actions():
        found.append(action)
        if action.menu() is not None:
            found.extend(menu_actions(action.menu()))
    return found


def test_every_toolbar_item_is_reachable_at_800_px(qtbot, window):
    toolbars = window.findChildren(QToolBar)
    assert len(toolbars) >= 1
    in_menus = [a for top in window.menuBar().actions() if top.menu() for a in menu_actions(top.menu())]
    window.resize(1280, 820)
    QApplication.processEvents()
    assert window.toolbar.y() == window.model_toolbar.y(), "a wide window keeps one toolbar row"

    window.resize(800, 700)
    QApplication.processEvents()
    assert window.width() == 800
    items = 0
    for toolbar in toolbars:
        extension = toolbar.findChild(QToolButton, "qt_toolbar_ext_button")
        assert extension is None or not extension.isVisible(), f"{toolbar.windowTitle()} overflows at 800 px"
        assert toolbar.geometry().right() < window.width()
        for action in toolbar.actions():
            if action.isSeparator():
                continue
            items += 1
            widget = toolbar.widgetForAction(action)
            assert widget is not None and widget.isVisible(), f"{action.iconText()!r} is hidden at 800 px"
            assert widget.geometry().right() <= toolbar.width(), f"{action.iconText()!r} is cut off"
            if not isinstance(action, QWidgetAction):  # plain actions are in a menu as well
                assert action in in_menus, f"{action.text()!r} is only on the toolbar"
    assert items >= 10
    assert window.strength_control.slider.width() >= 150 and window.model_picker.width() >= 150

    window.resize(560, 700)  # narrower still: whatever does not fit is behind the extension button
    QApplication.processEvents()
    for toolbar in toolbars:
        hidden = [a for a in toolbar.actions() if not a.isSeparator() and not toolbar.widgetForAction(a).isVisible()]
        if hidden:
            assert toolbar.findChild(QToolButton, "qt_toolbar_ext_button").isVisible()
