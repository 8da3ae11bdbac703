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
    monkeypatch.setattr(app_module, "exit_promptly", lambda code: None)  # it would end the test session
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


EXIT_SCRIPT = """
import sys, time
from PySide6.QtCore import QTimer
from keepsmiling_gui import app

real_start = app.start


def start(argv):
    window = real_start(argv)

    def close_once_faces_are_found(count):
        print("CLOSING", time.time(), flush=True)
        window.close()

    window.facesChanged.connect(close_once_faces_are_found)
    return window


app.start = start
app.main(sys.argv[1:])
print("NOT REACHED", flush=True)
"""


def test_the_process_ends_promptly_once_the_window_closes(tmp_path: Path):
    """Interpreter teardown with torch, dlib and Qt loaded took seconds; the process now ends at once."""
    import os
    import subprocess
    import sys
    import time

    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "KEEPSMILING_HOME": str(tmp_path / "home"),
           "XDG_CONFIG_HOME": str(tmp_path / "config"), "HOME": str(tmp_path)}
    process = subprocess.Popen([sys.executable, "-c", EXIT_SCRIPT], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True)
    closing = None
    for line in process.stdout:
        if line.startswith("CLOSING"):
            closing = float(line.split()[1])
            break
    assert closing is not None, "the app never found the sample photo's face"
    rest = process.stdout.read()
    process.wait(60)
    ended = time.time()
    print(f"process ended {ended - closing:.2f} s after the window closed")
    assert process.returncode == 0 and "NOT REACHED" not in rest
    assert ended - closing < 1.5
