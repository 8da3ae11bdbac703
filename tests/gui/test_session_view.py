"""The window shows what its edit session renders and saves, also where two faces' edit regions overlap
(real photo, the shipped landmark warp)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from gui_helpers import click_face

from keepsmiling_core.editing.compose import overlaps
from keepsmiling_core.imageio import read_photo
from keepsmiling_core.paths import shipped_models_dir


def set_strength(window, value: float, wait_until) -> None:
    window.strength_control.spin.setValue(value)
    wait_until(lambda: window.renderer.idle and window.shown == window.strengths)


def test_shown_image_is_the_session_render_with_overlapping_faces(qtbot, window, wait_until,
                                                                   overlapping_faces: Path, tmp_path: Path):
    from keepsmiling_gui.model_catalog import describe_model

    warp = describe_model(shipped_models_dir() / "warp", shipped=True)
    window.load_model(warp)
    wait_until(lambda: window.model_entry == warp and window.editor is not None)
    window.open_photo(overlapping_faces)
    wait_until(lambda: window.photo is not None and len(window.scene.faces) == len(window.faces) == 2)
    session = window.session

    window.smile_all()
    wait_until(lambda: window.renderer.idle and window.shown == {0: 1.0, 1: 1.0})
    assert overlaps(session.prepared[0].region, session.prepared[1].region)
    assert np.array_equal(window.displayed_image(), session.render())

    click_face(qtbot, window, 1)  # focus the right face and move it alone
    set_strength(window, 2.5, wait_until)
    assert window.last_render.alphas == {0: 1.0, 1: 2.5}, "the overlapping face renders with the moved one"
    shown = window.displayed_image()
    assert np.array_equal(shown, session.render())
    click_face(qtbot, window, 0)
    set_strength(window, -1.0, wait_until)
    assert np.array_equal(window.displayed_image(), session.render())

    click_face(qtbot, window, 0)  # the focused face clicked again: it stops smiling, its neighbour re-renders
    wait_until(lambda: window.renderer.idle and window.shown == {1: 2.5})
    assert np.array_equal(window.displayed_image(), session.render())
    window.undo_action.trigger()
    wait_until(lambda: window.renderer.idle and window.shown == {0: -1.0, 1: 2.5})
    assert np.array_equal(window.displayed_image(), session.render())

    target = tmp_path / "both.png"
    with qtbot.waitSignal(window.saved, timeout=30_000):
        window.write_to(target)
    assert np.array_equal(read_photo(target).rgb, window.displayed_image()), "saved = shown, overlap included"
    assert not session.dirty and "•" not in window.windowTitle()


def test_the_status_bar_says_where_a_faces_smile_stops(qtbot, window, wait_until):
    """Past a face's limit the photo stops changing; the window says so and shows the strength it holds."""
    from keepsmiling_core.paths import samples_dir
    from keepsmiling_gui.model_catalog import describe_model

    warp = describe_model(shipped_models_dir() / "warp", shipped=True)
    window.load_model(warp)
    wait_until(lambda: window.model_entry == warp and window.editor is not None)
    window.open_photo(samples_dir() / "grace-hopper.jpg")
    wait_until(lambda: window.photo is not None and len(window.scene.faces) == len(window.faces) == 1)
    click_face(qtbot, window, 0)
    set_strength(window, 1.0, wait_until)
    note = window.strength_control.limit_note
    assert window.last_render.held == {} and "shows" not in window.statusBar().currentMessage()
    assert not note.isVisible()
    set_strength(window, 3.0, wait_until)
    limit = window.session.prepared[0].alpha_limits[1]
    assert 1.0 < limit < 3.0 and window.last_render.held == {0: limit}
    message = window.statusBar().currentMessage()
    assert f"face 1 shows {limit:+.2f}" in message and "smile stops there" in message
    wait_until(note.isVisible)   # beside the slider too, where hover hints cannot cover it
    assert note.text() == f"stops at {limit:+.2f}"
    set_strength(window, 1.0, wait_until)
    wait_until(lambda: not note.isVisible())
