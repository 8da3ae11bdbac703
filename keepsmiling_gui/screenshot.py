"""Regenerate the README screenshot: ``python -m keepsmiling_gui.screenshot docs/screenshot.png [PHOTO]``.

Runs the real app (use a real display or ``xvfb-run``), opens the photo (default: the group sample),
makes every face smile at strength 1 (--strength) with the app's default edit or a shipped model (--model)
once the model and the faces are ready, grabs the screen area of the window, and quits.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from keepsmiling_core.paths import samples_dir

from .model_catalog import find_models

TIMEOUT_S = 180


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("photo", nargs="?", type=Path, default=samples_dir() / "group-composite.jpg")
    parser.add_argument("--strength", type=float, default=1.0)
    parser.add_argument("--split", action="store_true", help="show the original side by side")
    parser.add_argument("--model", default=None,
                        help="shipped model folder name to pick in the model list (default: the app's default)")
    args = parser.parse_args(argv)
    if args.model:  # before Qt and torch load: a mistyped name is answered at once
        shipped = [Path(entry.path).name for entry in find_models() if entry.shipped]
        if args.model not in shipped:
            print(f"no shipped model named {args.model!r} in the model list; choose one of {', '.join(shipped)}",
                  file=sys.stderr)
            return 1
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from .gui_thread_gc import collect_garbage_on_gui_thread
    from .main_window import MainWindow
    from .settings import configure_application_names, use_settings_folder

    configure_application_names()
    # A throw-away settings folder: the shot shows the default model and layout, not the user's last ones.
    settings_dir = tempfile.TemporaryDirectory(prefix="keepsmiling-shot-")
    use_settings_folder(Path(settings_dir.name))
    app = QApplication.instance() or QApplication(sys.argv[:1])
    collect_garbage_on_gui_thread(app)
    window = MainWindow()
    window.resize(1360, 860)
    window.show()
    window.open_photo(args.photo)
    started = time.monotonic()
    state = {"edited": False, "code": 1}

    def poll() -> None:
        if time.monotonic() - started > TIMEOUT_S:
            print("timed out waiting for the photo, the faces or the model", file=sys.stderr)
            app.quit()
            return
        if args.model and not state.get("picked"):
            index = next((i for i, m in enumerate(window.models) if m.shipped and Path(m.path).name == args.model), None)
            if index is None:
                print(f"no shipped model named {args.model!r} in the model list", file=sys.stderr)
                app.quit()
                return
            state["picked"] = True
            window.model_picker.activated.emit(index)
            return
        wanted = window.editor is not None and (
            not args.model or (window.model_entry is not None and Path(window.model_entry.path).name == args.model))
        ready = window.photo is not None and window.faces and wanted
        if ready and not state["edited"]:
            state["edited"] = True
            window.smile_all()
            window.strength_control.set_value(args.strength)
            if args.split:
                window.split_action.setChecked(True)
            return
        if state["edited"] and window.renderer.idle and len(window.scene.patches) == len(window.selected):
            window.view.fit_photo()
            app.processEvents()
            screen = window.screen()
            geometry = window.frameGeometry()
            shot = screen.grabWindow(0, geometry.x(), geometry.y(), geometry.width(), geometry.height())
            if shot.isNull() or shot.width() < 10:
                shot = window.grab()
            args.out.parent.mkdir(parents=True, exist_ok=True)
            state["code"] = 0 if shot.save(str(args.out)) else 1
            print(f"wrote {args.out} ({shot.width()}x{shot.height()})")
            window.undo_stack.setClean()
            app.quit()

    timer = QTimer()
    timer.timeout.connect(poll)
    timer.start(200)
    app.exec()
    return state["code"]


if __name__ == "__main__":
    raise SystemExit(main())
