"""GUI test set-up: isolated settings and user folder, recorded message boxes, a real group photo, a model.

Message boxes are replaced by recorders (a modal box would block an offscreen test forever); the
recorder answers questions with a configurable button so tests can drive "replace the original?".
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtWidgets import QApplication, QMessageBox

from keepsmiling_gui.gui_thread_gc import collect_garbage_on_gui_thread
from keepsmiling_gui.settings import configure_application_names, use_settings_folder

GROUP_IMAGES = ("lfw_5590/Aaron_Eckhart_0001.jpg", "lfw_5590/Abdullah_Gul_0001.jpg")


class MessageRecorder:
    def __init__(self) -> None:
        self.messages: list[tuple[str, str, str]] = []  # (kind, title, text)
        self.answer = QMessageBox.StandardButton.No

    def texts(self) -> list[str]:
        return [text for _, _, text in self.messages]

    def record(self, kind: str):
        def box(parent, title, text, *args, **kwargs):
            self.messages.append((kind, title, text))
            return self.answer if kind == "question" else QMessageBox.StandardButton.Ok

        return box


@pytest.fixture(scope="session", autouse=True)
def garbage_collected_on_the_gui_thread(qapp):
    """As in the app: a worker thread never runs the collector (it could destroy a GUI-thread Qt object)."""
    return collect_garbage_on_gui_thread(qapp)


@pytest.fixture(autouse=True)
def isolated_app_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Settings, runs and caches of each test live in its own temp folder, never in the user's."""
    home = tmp_path / "home"
    monkeypatch.setenv("KEEPSMILING_HOME", str(home))
    configure_application_names()
    use_settings_folder(tmp_path / "settings")
    return home


@pytest.fixture
def messages(monkeypatch: pytest.MonkeyPatch) -> MessageRecorder:
    recorder = MessageRecorder()
    for kind in ("warning", "information", "critical", "question"):
        monkeypatch.setattr(QMessageBox, kind, staticmethod(recorder.record(kind)))

    def exec_box(box: QMessageBox) -> int:
        recorder.messages.append(("dialog", box.windowTitle(), box.text()))
        return int(QMessageBox.StandardButton.Cancel.value)

    monkeypatch.setattr(QMessageBox, "exec", exec_box)
    return recorder


@pytest.fixture(scope="session")
def group_photo(mtfl_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two real MTFL faces side by side in one JPEG (with an EXIF block), so selection can be told apart."""
    from PIL import Image

    from keepsmiling_core.imageio import read_photo

    images = [read_photo(mtfl_root / name).rgb for name in GROUP_IMAGES]
    height = min(i.shape[0] for i in images)
    group = np.concatenate([i[:height] for i in images], axis=1)
    path = tmp_path_factory.mktemp("photos") / "group.jpg"
    exif = Image.Exif()
    exif[0x010F] = "KeepSmiling test camera"  # Make
    Image.fromarray(group).save(path, quality=95, exif=exif.tobytes())
    return path


@pytest.fixture(scope="session")
def splitgan_model(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real SplitGAN run with its smile direction: the shared tiny trained run when the fixture
    module provides it, otherwise a freshly initialised network saved in the checkpoint format with a
    direction computed on the real small crop cache (the GUI tests check plumbing, not smile quality)."""
    try:
        return Path(request.getfixturevalue("tiny_splitgan_run"))
    except pytest.FixtureLookupError:
        pass
    from keepsmiling_core.editing.latent import compute_direction
    from keepsmiling_core.models.checkpoint import checkpoint_dir_for, save_checkpoint
    from keepsmiling_core.models.registry import build_setup

    cache = request.getfixturevalue("small_cache")
    run = tmp_path_factory.mktemp("gui_splitgan")
    save_checkpoint(checkpoint_dir_for(run, 1), build_setup("splitgan", size=32), setup="splitgan",
                    preset="default", size=32, step=1, config={})
    compute_direction(run, cache)
    return run


@pytest.fixture
def wait_until(qtbot):
    """Process events until ``condition()`` holds (workers report through queued signals)."""

    def wait(condition, timeout_s: float = 60.0) -> None:
        deadline = time.monotonic() + timeout_s
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"condition not met within {timeout_s} s")
            qtbot.wait(10)
        QApplication.processEvents()

    return wait


@pytest.fixture
def window(qtbot, messages, splitgan_model: Path, wait_until):
    """The main window with the test SplitGAN loaded (shipped models may exist; this one wins)."""
    from keepsmiling_gui.main_window import MainWindow
    from keepsmiling_gui.model_catalog import describe_model

    win = MainWindow()
    qtbot.addWidget(win)
    win.show()
    entry = describe_model(splitgan_model)
    assert entry is not None and entry.missing_for_edit() is None
    win.load_model(entry)
    wait_until(lambda: win.model_entry == entry and win.editor is not None)
    yield win
    win.undo_stack.setClean()  # closing must not ask about unsaved edits
    win.renderer.cancel()
    win.tasks.wait(30_000)


@pytest.fixture
def opened(window, group_photo: Path, wait_until):
    """The window showing the group photo with its faces detected."""
    window.open_photo(group_photo)
    wait_until(lambda: window.photo is not None and len(window.scene.faces) == len(window.faces) > 0)
    return window
