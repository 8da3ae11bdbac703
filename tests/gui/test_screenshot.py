"""Render the main window with edited faces offscreen (the README's screenshot comes from keepsmiling_gui.screenshot;
this test writes into its own temporary folder: tests never modify tracked files)."""

from __future__ import annotations

from pathlib import Path

from keepsmiling_core.paths import samples_dir


def test_screenshot_of_an_edited_photo(qtbot, window, wait_until, group_photo: Path, tmp_path: Path):
    sample = samples_dir() / "group-composite.jpg"
    window.resize(1280, 820)
    window.open_photo(sample if sample.is_file() else group_photo)
    wait_until(lambda: window.photo is not None and len(window.scene.faces) == len(window.faces) > 0)
    window.smile_all()
    window.strength_control.set_value(1.5)
    wait_until(lambda: window.renderer.idle and len(window.scene.patches) == len(window.selected) > 0)
    window.view.fit_photo()
    # a fixed message in place of the render timings ("... ms per face") the window shows after an edit
    window.statusBar().showMessage(f"{len(window.selected)} faces smiling at strength 1.50")
    qtbot.wait(50)
    pixmap = window.grab()
    shot = tmp_path / "screenshot-offscreen.png"
    assert pixmap.save(str(shot))
    assert pixmap.width() >= 1000 and pixmap.height() >= 600
    assert shot.stat().st_size > 20_000


def test_the_screenshot_tool_picks_a_shipped_model(qtbot, tmp_path: Path, capsys):
    from keepsmiling_gui import screenshot

    out = tmp_path / "shot.png"
    assert screenshot.main([str(out), str(samples_dir() / "grace-hopper.jpg"), "--model", "complexgan"]) == 0
    assert out.stat().st_size > 20_000
    assert screenshot.main([str(tmp_path / "no.png"), "--model", "no-such-model"]) == 1
    assert "no-such-model" in capsys.readouterr().err and not (tmp_path / "no.png").exists()
