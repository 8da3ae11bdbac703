"""``python main.py [PHOTO]``: the real entry point opens the given photo, or the first sample photo."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication

from keepsmiling_core.paths import samples_dir
from keepsmiling_gui import app as app_module
from keepsmiling_gui.main_window import MainWindow, first_sample_photo


def run_main_until_faces(argv: list[str], qtbot, wait_until, monkeypatch) -> MainWindow:
    """Run ``main(argv)``; its event loop is replaced by waiting for the faces (a real QApplication.exec
    would leave Qt's quit flag set and stop every later event loop of the test session)."""
    seen: list[MainWindow] = []

    def fake_exec(*_args) -> int:
        def ready() -> bool:
            windows = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()]
            seen[:] = windows
            return bool(windows) and bool(windows[0].faces)

        wait_until(ready, 90)
        return 0

    monkeypatch.setattr(QApplication, "exec", fake_exec)
    assert app_module.main(argv) == 0
    window = seen[0]
    qtbot.addWidget(window)
    return window


def test_main_opens_the_photo_given(qtbot, messages, wait_until, monkeypatch, group_photo: Path):
    window = run_main_until_faces([str(group_photo)], qtbot, wait_until, monkeypatch)
    assert Path(window.photo.path) == group_photo and len(window.faces) == 2


def test_main_without_photo_opens_the_first_sample(qtbot, messages, wait_until, monkeypatch):
    sample = first_sample_photo()
    if sample is None:
        pytest.skip(f"no sample photos in {samples_dir()}")
    assert sample.name == "grace-hopper.jpg"  # the unsmiling portrait, not the alphabetically first
    window = run_main_until_faces([], qtbot, wait_until, monkeypatch)
    assert Path(window.photo.path) == sample and len(window.faces) == 1
