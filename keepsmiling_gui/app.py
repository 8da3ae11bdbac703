"""Start the desktop app: ``keepsmiling-gui [PHOTO]`` or ``python main.py [PHOTO]``."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from PySide6.QtCore import QSettings, QThreadPool
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from keepsmiling_core.paths import resources_dir

from .gui_thread_gc import collect_garbage_on_gui_thread
from .main_window import MainWindow, first_sample_photo
from .settings import configure_application_names


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="keepsmiling-gui", description="KeepSmiling desktop editor")
    parser.add_argument("photo", nargs="?", type=Path, help="photo to open (default: the first sample photo)")
    return parser.parse_args(argv)


def start(argv: list[str]) -> MainWindow:
    """Create the application objects and the window, and open the photo; no event loop yet."""
    args = parse_args(argv)
    configure_application_names()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    collect_garbage_on_gui_thread(app)
    icon = resources_dir() / "icons" / "keepsmiling.png"
    if icon.is_file():
        app.setWindowIcon(QIcon(str(icon)))
    window = MainWindow()
    window.show()
    photo = args.photo or first_sample_photo()
    if photo is not None:
        window.open_photo(photo)
    return window


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    window = start(sys.argv[1:] if argv is None else argv)  # noqa: F841 - kept alive while the loop runs
    code = QApplication.instance().exec()
    exit_promptly(code)
    return code


def exit_promptly(code: int, wait_ms: int = 10_000) -> None:
    """End the process as soon as the window has closed.

    Tearing down the interpreter with torch, dlib and Qt loaded takes seconds after the last window is
    gone (measured 2–6 s), so once nothing is left to finish the process ends here. The window already
    waited for a training run to stop and write its checkpoint; a save or export still running in the
    pool is waited for, so no file is left half-written; logs and settings are flushed first.
    """
    QThreadPool.globalInstance().waitForDone(wait_ms)
    QSettings().sync()
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (AttributeError, OSError, ValueError):
            pass
    os._exit(code)
