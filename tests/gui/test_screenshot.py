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


def test_the_screenshot_tool_picks_a_shipped_model(tmp_path: Path):
    """Run as a user runs it (its own process and QApplication, offscreen here)."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "KEEPSMILING_HOME": str(tmp_path / "home")}
    out = tmp_path / "shot.png"
    done = subprocess.run([sys.executable, "-m", "keepsmiling_gui.screenshot", str(out),
                           str(samples_dir() / "grace-hopper.jpg"), "--model", "complexgan"],
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert out.stat().st_size > 20_000
    wrong = subprocess.run([sys.executable, "-m", "keepsmiling_gui.screenshot", str(tmp_path / "no.png"),
                            "--model", "no-such-model"], env=env, capture_output=True, text=True, timeout=300)
    assert wrong.returncode == 1 and "no-such-model" in wrong.stderr and not (tmp_path / "no.png").exists()
