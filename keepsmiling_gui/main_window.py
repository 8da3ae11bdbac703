"""The editor window: open a photo, click faces, move the strength slider, save.

The window only wires views and actions to an ``EditSession`` (keepsmiling_core.editing.session), which
holds the photo, the faces, each face's own strength, the undo history and the render/save plan.
Each job has a module of its own: ``photo_loading`` (open, detect), ``face_editing`` (clicks, slider,
undo), ``screen_render`` (patches on screen), ``model_choice``, ``save_flow``, ``quit_guard``,
``menus`` (actions, menus, toolbars), ``photo_panes`` (edited and original views), ``recent_files``
and ``window_layout``. Long work runs in worker threads; renders on a thread of their own.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QEvent, Qt, QTimer, Signal
from PySide6.QtGui import QUndoStack
from PySide6.QtWidgets import QApplication, QMainWindow, QMessageBox, QWidget

from keepsmiling_core.editing.session import EditSession
from keepsmiling_core.paths import samples_dir

from . import menus, window_layout
from .face_editing import FaceEditing
from .model_choice import ModelChooser
from .photo_loading import PhotoLoader
from .photo_panes import PhotoPanes
from .quit_guard import QuitGuard
from .save_flow import SaveFlow
from .screen_render import ScreenRender
from .settings import AppSettings
from .strength import StrengthControl
from .workers import LatestOnlyRunner, TaskRunner, dedicated_pool

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp", ".webp"}

# The photo the app opens when started without one: a real portrait whose mouth does not smile yet, so
# the first slider drag shows what the app is for.
FIRST_SAMPLE = "grace-hopper.jpg"


def first_sample_photo() -> Path | None:
    folder = samples_dir()
    if not folder.is_dir():
        return None
    photos = [p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES]
    return min(photos, key=lambda p: (p.name != FIRST_SAMPLE, p.name), default=None)


class _Part:
    """A window attribute that lives in one of its parts, so ``window.strengths`` or ``window.save()``
    read and call the part that owns them (one owner, no copies to keep in step)."""

    def __init__(self, part: str, name: str | None = None):
        self.part, self.name = part, name

    def __set_name__(self, owner, name: str) -> None:
        self.name = self.name or name

    def __get__(self, window, owner=None):
        return self if window is None else getattr(getattr(window, self.part), self.name)


class MainWindow(QMainWindow):
    """Signals for tests and other widgets; every change to what is shown ends in one of these."""

    photoLoaded = Signal(object)  # noqa: N815 - Photo
    facesChanged = Signal(int)  # noqa: N815 - number of faces found
    rendered = Signal()  # patches on screen match every smiling face's own strength
    modelChanged = Signal(object)  # noqa: N815 - ModelEntry or None
    saved = Signal(object)  # Path
    message = Signal(str)  # every status/dialog text, for tests and logs

    # the session's state, read through the window
    photo, faces, editor = _Part("session"), _Part("session"), _Part("session")
    strengths, focus, selected = _Part("session"), _Part("session"), _Part("session")
    blocked, prepared = _Part("session"), _Part("session")
    shown, last_render = _Part("screen_render"), _Part("screen_render")
    request_render = _Part("screen_render", "request")
    # user commands, owned by the part named for their job
    toggle_face, smile_all = _Part("face_editing"), _Part("face_editing")
    clear_selection, set_focus = _Part("face_editing"), _Part("face_editing")
    open_dialog, open_photo = _Part("loader"), _Part("loader")
    save, save_as, write_to = _Part("save_flow"), _Part("save_flow"), _Part("save_flow")
    export_faces, confirm_discard = _Part("save_flow"), _Part("save_flow")
    models, model_entry = _Part("model_choice"), _Part("model_choice", "entry")
    load_model, refresh_models = _Part("model_choice"), _Part("model_choice")
    offer_model, prepare_direction = _Part("model_choice"), _Part("model_choice")
    open_samples, open_training = _Part("model_choice"), _Part("model_choice")
    displayed_image, set_split, show_original = _Part("panes"), _Part("panes"), _Part("panes")

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.settings = AppSettings()
        self.session = EditSession()
        self.tasks = TaskRunner(self)
        # renders get a thread of their own: a slider never waits behind detection or a save
        self.renderer = LatestOnlyRunner(self, dedicated_pool(self))
        self.undo_stack = QUndoStack(self)
        self.training_dialog = None
        self.samples_dialog = None
        self._shown_once = False

        self.panes = PhotoPanes()
        self.scene, self.view = self.panes.scene, self.panes.view
        self.original_scene, self.original_view = self.panes.original_scene, self.panes.original_view
        self.setCentralWidget(self.panes)
        self.setAcceptDrops(True)
        self.strength_control = StrengthControl()
        self.screen_render = ScreenRender(self.session, self.scene, self.renderer, self.notify, self.show_error)
        self.screen_render.settled.connect(self._render_settled)
        self.face_editing = FaceEditing(self.session, self.scene, self.strength_control, self.undo_stack,
                                        self.screen_render, self.notify, self.show_error)
        self.face_editing.changed.connect(self.update_actions)
        self.face_editing.needs_model.connect(lambda: self.offer_model())
        self.loader = PhotoLoader(self)
        self.save_flow = SaveFlow(self)
        self.quit_guard = QuitGuard(self)
        menus.build_actions(self)
        menus.build_menus_and_toolbars(self)
        menus.build_status_bar(self)
        self.model_choice = ModelChooser(self)
        self.undo_stack.cleanChanged.connect(self._clean_changed)

        self.refresh_models(select_default=True)
        self.update_title()
        self.update_actions()
        window_layout.place_on_screen(self, self.settings.value("window/geometry"))
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)  # Space compares wherever the focus is (``eventFilter``)
        self.markers_action.setChecked(self.settings.value("view/markers", True, bool))

    # ----------------------------------------------------------------------------------- state shown
    def _clean_changed(self, clean: bool) -> None:
        if clean:  # the undo stack reached the saved step: so did the session's history
            self.session.history.mark_saved()
        self.update_title()

    def update_title(self) -> None:
        try:
            self.undo_stack.isClean()
        except RuntimeError:  # emitted by the stack's own destructor
            return
        photo, save_path = self.session.photo, self.session.save_path
        if photo is None or not photo.path:
            name = "no photo"
        elif save_path is not None:  # after Save As the window shows the file it now writes
            name = f"{save_path.name} (from {photo.path.name})"
        else:
            name = photo.path.name
        dirty = " •" if self.session.dirty else ""
        self.setWindowTitle(f"KeepSmiling — {name}{dirty}")

    def update_actions(self) -> None:
        session = self.session
        for action in (self.save_action, self.save_as_action, self.fit_action, self.actual_action):
            action.setEnabled(session.photo is not None)
        self.smile_all_action.setEnabled(bool(session.faces))
        self.clear_action.setEnabled(bool(session.strengths))
        self.export_action.setEnabled(bool(session.strengths) and session.editor is not None)
        self.face_editing.update_hint()

    def _render_settled(self) -> None:
        self.update_actions()
        if self.renderer.idle:
            self.rendered.emit()

    # ----------------------------------------------------------------------------------- messages
    def notify(self, text: str, timeout_ms: int = 8000) -> None:
        self.statusBar().showMessage(text, timeout_ms)
        self.message.emit(text)

    def show_error(self, title: str, text: str) -> None:
        self.statusBar().showMessage(text, 15000)
        self.message.emit(text)
        QMessageBox.warning(self, title, text)

    def show_about(self) -> None:
        from .about import about_html

        box = QMessageBox(self)
        box.setWindowTitle("About KeepSmiling")
        box.setTextFormat(Qt.TextFormat.RichText)
        box.setText(about_html(self.device_text))
        box.setIconPixmap(self.windowIcon().pixmap(64, 64))
        box.exec()

    # ----------------------------------------------------------------------------------- window events
    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        if not self._shown_once:  # the real frame is known once shown: check the fit again
            self._shown_once = True
            QTimer.singleShot(0, lambda: window_layout.keep_on_screen(self))

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        window_layout.arrange_toolbars(self, self.toolbar, self.model_toolbar)

    def dragEnterEvent(self, event) -> None:  # noqa: N802
        if PhotoLoader.dropped_path(event) is not None:
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event) -> None:  # noqa: N802
        path = PhotoLoader.dropped_path(event)
        if path is not None:
            event.acceptProposedAction()
            self.open_photo(path)

    def eventFilter(self, watched, event) -> bool:  # noqa: N802
        """Hold Space to compare, wherever the keyboard focus is in this window (slider, spin box,
        model list, a toolbar button): an application-wide filter sees the key before any widget."""
        kind = event.type()
        if kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease) and event.key() == Qt.Key.Key_Space \
                and event.modifiers() == Qt.KeyboardModifier.NoModifier \
                and isinstance(watched, QWidget) and watched.window() is self:
            if not event.isAutoRepeat():
                self.show_original(kind == QEvent.Type.KeyPress)
            return True
        return False  # every other event goes on untouched (and cheaply: this sees all of them)

    def closeEvent(self, event) -> None:  # noqa: N802
        """Quit without ever blocking the GUI thread (``QuitGuard``: unsaved edits, a running training)."""
        if not self.quit_guard.may_close():
            event.ignore()
            return
        self.screen_render.cancel()
        self.settings.set_value("window/geometry", self.saveGeometry())
        self.settings.set_value("view/markers", self.markers_action.isChecked())
        super().closeEvent(event)
