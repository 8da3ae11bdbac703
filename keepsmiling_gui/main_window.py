"""The editor window: open a photo, click faces, move the strength slider, save.

The window holds the state (photo, faces, each smiling face's own strength, model) and reacts to
signals; all image work goes through ``edit_jobs``/the core in worker threads. Renders go through a
``LatestOnlyRunner`` so a dragged slider only renders its newest position.

Every face keeps its own smile: clicking a face makes it smile at the default strength and puts it
in *focus*; the slider shows and moves only the focused face(s), so the others keep the strength they
had. Clicking a smiling face that is not in focus focuses it; clicking the focused face again leaves
it as it was. *Smile all* gives every face the slider's value and focuses them all.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QEvent, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence, QUndoStack
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSplitter,
    QToolBar,
    QWidget,
)

from keepsmiling_core.paths import samples_dir

from . import edit_jobs
from .model_catalog import ModelEntry, default_edit_model, describe_model, find_models
from .model_picker import ModelPicker
from .photo_view import PhotoScene, PhotoView
from .settings import AppSettings
from .strength import DEFAULT, StrengthControl
from .undo_commands import EditState, SelectFacesCommand, SetStrengthCommand
from .workers import LatestOnlyRunner, TaskRunner, dedicated_pool

IMAGE_FILTER = "Images (*.jpg *.jpeg *.png *.tif *.tiff *.bmp *.webp);;All files (*)"
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp", ".webp"}


PREFERRED_SIZE = QSize(1280, 820)  # on screens that have room for it

# The photo the app opens when started without one: a real portrait whose mouth does not smile yet, so
# the first slider drag shows what the app is for.
FIRST_SAMPLE = "grace-hopper.jpg"


def first_sample_photo() -> Path | None:
    folder = samples_dir()
    if not folder.is_dir():
        return None
    photos = [p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES]
    return min(photos, key=lambda p: (p.name != FIRST_SAMPLE, p.name), default=None)


class MainWindow(QMainWindow):
    """Signals for tests and other widgets; every change to what is shown ends in one of these."""

    photoLoaded = Signal(object)  # noqa: N815 - Photo
    facesChanged = Signal(int)  # noqa: N815 - number of faces found
    rendered = Signal()  # patches on screen match every smiling face's own strength
    modelChanged = Signal(object)  # noqa: N815 - ModelEntry or None
    saved = Signal(object)  # Path
    message = Signal(str)  # every status/dialog text, for tests and logs

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.settings = AppSettings()
        self.tasks = TaskRunner(self)
        # renders get a thread of their own: a slider never waits behind detection or a save
        self.renderer = LatestOnlyRunner(self, dedicated_pool(self))
        self.renderer.delivered.connect(self._on_rendered)
        self.renderer.failed.connect(self._render_failed)
        self._render_error_shown = False  # one dialog per photo and model; later failures go to the status bar
        self.undo_stack = QUndoStack(self)
        self.undo_stack.cleanChanged.connect(self._update_title)

        self.photo = None  # keepsmiling_core.imageio.Photo
        self.faces: list = []
        self.strengths: dict[int, float] = {}  # each smiling face's own strength; the keys are the selection
        self.focus: frozenset[int] = frozenset()  # the smiling faces the slider shows and moves
        self.shown: dict[int, float] = {}  # the strength of each face's patch on screen now
        self._unsettled: set[int] = set()  # faces in renders not delivered yet: they may still change
        self._gesture_before: EditState | None = None  # the state when the current slider gesture began
        self.blocked: dict[int, str] = {}
        self.prepared: dict[int, object] = {}
        self.editor = None
        self.model_entry: ModelEntry | None = None
        self.save_path: Path | None = None
        self.last_render = None  # RenderOutcome shown last
        self.training_dialog = None
        self.samples_dialog = None
        self._loading_photo: Path | None = None
        self._pending_model: ModelEntry | None = None
        self._shown_once = False
        self._quitting = False  # the user confirmed Quit; a second close (after training stopped) goes through
        self._after_save: Callable[[], None] | None = None  # what "Save" in the unsaved-edits prompt resumes

        self.scene = PhotoScene(self)
        self.scene.faceClicked.connect(self.toggle_face)
        self.view = PhotoView(self.scene)
        self.view.placeholder = "Open a photo (File ▸ Open, Ctrl+O) or drop one here"
        self.original_scene = PhotoScene(self)
        self.original_view = PhotoView(self.original_scene)
        self.original_view.setVisible(False)
        self._syncing = False
        for source, target in ((self.view, self.original_view), (self.original_view, self.view)):
            # either pane leads: zooming or panning one moves the other the same way
            def sync(*_args, s=source, t=target) -> None:
                self._sync_views(s, t)

            source.horizontalScrollBar().valueChanged.connect(sync)
            source.verticalScrollBar().valueChanged.connect(sync)
            source.zoomChanged.connect(sync)
        self.splitter = QSplitter()
        self.splitter.addWidget(self.original_view)
        self.splitter.addWidget(self.view)
        self.setCentralWidget(self.splitter)
        self.setAcceptDrops(True)

        self.strength_control = StrengthControl()
        self.strength_control.changed.connect(self._strength_moved)
        self.strength_control.committed.connect(self._strength_committed)
        self._build_actions()
        self._build_menus_and_toolbar()
        self._build_status_bar()
        self.refresh_models(select_default=True)
        self._update_title()
        self._update_actions()
        self._place_on_screen()
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)  # Space compares wherever the focus is (``eventFilter``)
        self.markers_action.setChecked(self.settings.value("view/markers", True, bool))

    # ----------------------------------------------------------------------------------- layout
    def _place_on_screen(self) -> None:
        """Restore the remembered geometry, or take most of the available screen; either way the whole
        window (status bar included) fits the screen's available area (taskbars, panels and scaling)."""
        geometry = self.settings.value("window/geometry")
        restored = geometry is not None and self.restoreGeometry(geometry)
        screen = self.screen() or QGuiApplication.primaryScreen()
        if screen is None:
            return
        available = screen.availableGeometry()
        if not restored:
            left, top, right, bottom = self._frame_margins()
            most = QSize(available.width() - left - right, available.height() - top - bottom)
            self.resize(min(PREFERRED_SIZE.width(), int(most.width() * 0.92)),
                        min(PREFERRED_SIZE.height(), int(most.height() * 0.92)))
            # move() places a top-level window's frame, not its contents
            self.move(available.left() + (available.width() - self.width() - left - right) // 2,
                      available.top() + (available.height() - self.height() - top - bottom) // 2)
        self._keep_on_screen()

    def _frame_margins(self) -> tuple[int, int, int, int]:
        """The window frame's left, top, right, bottom; before the first show a generous estimate."""
        frame, inner = self.frameGeometry(), self.geometry()
        if frame != inner:
            return (inner.left() - frame.left(), inner.top() - frame.top(), frame.right() - inner.right(),
                    frame.bottom() - inner.bottom())
        return 8, 36, 8, 8  # title bar and borders of common window managers

    def _keep_on_screen(self) -> None:
        """Shrink and move the window so that its frame lies inside the screen's available area."""
        screen = self.screen() or QGuiApplication.primaryScreen()
        if screen is None:
            return
        available = screen.availableGeometry()
        left, top, right, bottom = self._frame_margins()
        width = min(self.width(), available.width() - left - right)
        height = min(self.height(), available.height() - top - bottom)
        if (width, height) != (self.width(), self.height()):
            self.resize(width, height)
        # x(), y() and move() are the frame's top-left corner for a top-level window
        x = max(available.left(), min(self.x(), available.right() + 1 - (width + left + right)))
        y = max(available.top(), min(self.y(), available.bottom() + 1 - (height + top + bottom)))
        if (x, y) != (self.x(), self.y()):
            self.move(x, y)

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        if not self._shown_once:  # the real frame is known once shown: check the fit again
            self._shown_once = True
            QTimer.singleShot(0, self._keep_on_screen)

    def _action(self, text: str, slot, shortcut=None, tip: str = "", checkable: bool = False) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        if tip:
            action.setStatusTip(tip)
            action.setToolTip(tip)
        action.setCheckable(checkable)
        (action.toggled if checkable else action.triggered).connect(slot)
        return action

    def _build_actions(self) -> None:
        self.open_action = self._action("&Open…", lambda: self.open_dialog(), QKeySequence.StandardKey.Open,
                                        "Open a photo")
        self.save_action = self._action("&Save", lambda: self.save(), QKeySequence.StandardKey.Save,
                                        "Save the edited photo (asks before replacing the original)")
        self.save_as_action = self._action("Save &As…", lambda: self.save_as(), QKeySequence("Ctrl+Shift+S"),
                                           "Save the edited photo under a new name")
        self.export_action = self._action("&Export edited faces…", lambda: self.export_faces(), None,
                                          "Write each edited face before and after as PNG files")
        self.quit_action = self._action("&Quit", self.close, QKeySequence.StandardKey.Quit)
        # Own actions rather than QUndoStack.createUndoAction: a fixed label keeps the toolbar from
        # jumping while the tooltip names the step ("Undo Smile face 2").
        self.undo_action = self._action("&Undo", self.undo_stack.undo, QKeySequence("Ctrl+Z"))
        self.redo_action = self._action("&Redo", self.undo_stack.redo, None)
        self.redo_action.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        self.undo_action.setEnabled(False)
        self.redo_action.setEnabled(False)
        self.undo_stack.canUndoChanged.connect(self.undo_action.setEnabled)
        self.undo_stack.canRedoChanged.connect(self.redo_action.setEnabled)
        self.undo_stack.undoTextChanged.connect(lambda text: self._set_tip(self.undo_action, f"Undo {text}"))
        self.undo_stack.redoTextChanged.connect(lambda text: self._set_tip(self.redo_action, f"Redo {text}"))
        self.smile_all_action = self._action("Smile &all", lambda: self.smile_all(), QKeySequence("Ctrl+A"),
                                             "Make every editable face smile")
        self.clear_action = self._action("&Leave all as they were", lambda: self.clear_selection(),
                                         QKeySequence("Ctrl+Shift+A"), "Remove the edit from every face")
        self.split_action = self._action("Side by side", self.set_split, QKeySequence("Ctrl+D"),
                                         "Show the original beside the edited photo", checkable=True)
        self.markers_action = self._action("Face markers", self.scene.set_show_markers, QKeySequence("Ctrl+M"),
                                           "Show face outlines, mouth outlines and landmarks", checkable=True)
        self.markers_action.setChecked(True)
        self.fit_action = self._action("&Fit to window", self.view.fit_photo, QKeySequence("Ctrl+0"))
        self.actual_action = self._action("Actual &pixels", self.view.actual_size, QKeySequence("Ctrl+1"))
        self.zoom_in_action = self._action("Zoom &in", lambda: self.view.zoom_by(1.25), QKeySequence.StandardKey.ZoomIn)
        self.zoom_out_action = self._action("Zoom &out", lambda: self.view.zoom_by(0.8),
                                            QKeySequence.StandardKey.ZoomOut)
        self.train_action = self._action("&Train…", lambda: self.open_training(), None,
                                         "Train a SimpleGAN, ComplexGAN or SplitGAN model")
        self.samples_action = self._action("&Sample smiles…", lambda: self.open_samples(), None,
                                           "Show mouths a SimpleGAN draws from noise")
        self.reload_models_action = self._action("&Refresh model list", lambda: self.refresh_models(), None)
        self.about_action = self._action("&About KeepSmiling", lambda: self.show_about(), None,
                                         "Versions, the device in use and licence notes")

    def _build_menus_and_toolbar(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.addAction(self.open_action)
        self.recent_menu = file_menu.addMenu("Open &recent")
        self._rebuild_recent_menu()
        file_menu.addSeparator()
        for action in (self.save_action, self.save_as_action, self.export_action):
            file_menu.addAction(action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        edit_menu = bar.addMenu("&Edit")
        for action in (self.undo_action, self.redo_action):
            edit_menu.addAction(action)
        edit_menu.addSeparator()
        edit_menu.addAction(self.smile_all_action)
        edit_menu.addAction(self.clear_action)
        view_menu = bar.addMenu("&View")
        for action in (self.split_action, self.markers_action, self.fit_action, self.actual_action,
                       self.zoom_in_action, self.zoom_out_action):
            view_menu.addAction(action)
        model_menu = bar.addMenu("&Models")
        model_menu.addAction(self.samples_action)
        model_menu.addAction(self.reload_models_action)
        settings_menu = bar.addMenu("&Settings")
        settings_menu.addAction(self.train_action)
        help_menu = bar.addMenu("&Help")
        help_menu.addAction(self.about_action)

        # Short toolbar labels (the menus keep the full ones) keep the editing toolbar within an 800 px
        # window; the model list has a toolbar of its own that moves to a second row when both do not
        # fit (``_arrange_toolbars``), and narrower still Qt's extension button (») lists what is left.
        self.open_action.setIconText("Open")
        self.smile_all_action.setIconText("Smile all")
        self.split_action.setIconText("Split")
        toolbar = QToolBar("Edit")
        toolbar.setObjectName("main-toolbar")
        toolbar.setMovable(False)
        self.addToolBar(toolbar)
        self.toolbar = toolbar
        toolbar.addAction(self.open_action)
        toolbar.addAction(self.save_action)
        toolbar.addSeparator()
        toolbar.addAction(self.undo_action)
        toolbar.addAction(self.redo_action)
        toolbar.addSeparator()
        toolbar.addAction(self.smile_all_action)
        toolbar.addWidget(self.strength_control)
        self.compare_button = QPushButton("Compare")
        self.compare_button.setToolTip("Hold (or hold Space) to see the original photo")
        self.compare_button.pressed.connect(lambda: self.show_original(True))
        self.compare_button.released.connect(lambda: self.show_original(False))
        toolbar.addWidget(self.compare_button)
        toolbar.addAction(self.split_action)

        self.model_toolbar = QToolBar("Model")
        self.model_toolbar.setObjectName("model-toolbar")
        self.model_toolbar.setMovable(False)
        self.addToolBar(self.model_toolbar)
        self.model_toolbar.addWidget(QLabel(" Model "))
        self.model_picker = ModelPicker()
        self.model_picker.picked.connect(self._model_picked)
        self.model_toolbar.addWidget(self.model_picker)

    def _arrange_toolbars(self) -> None:
        """Keep the model list beside the editing tools while both fit; otherwise give it a row of its
        own, so that neither the slider nor the model list hides behind an extension button."""
        needed = self.toolbar.sizeHint().width() + self.model_toolbar.sizeHint().width()
        wrap = self.width() < needed
        if wrap != self.toolBarBreak(self.model_toolbar):
            if wrap:
                self.insertToolBarBreak(self.model_toolbar)
            else:
                self.removeToolBarBreak(self.model_toolbar)

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._arrange_toolbars()

    def _build_status_bar(self) -> None:
        from keepsmiling_core.device import device_name, pick_device

        self.zoom_label = QLabel()
        for view in (self.view, self.original_view):
            view.zoomChanged.connect(lambda z: self.zoom_label.setText(f"{z * 100:.0f} %"))
        self.device_text = device_name(pick_device(None))
        self.device_label = QLabel(f"Device: {self.device_text}")
        self.status_progress = QProgressBar()  # long background work (a smile direction) shows here
        self.status_progress.setMaximumWidth(160)
        self.status_progress.setVisible(False)
        self.statusBar().addPermanentWidget(self.status_progress)
        self.statusBar().addPermanentWidget(self.zoom_label)
        self.statusBar().addPermanentWidget(self.device_label)

    @staticmethod
    def _set_tip(action: QAction, text: str) -> None:
        try:
            action.setToolTip(text.strip())
        except RuntimeError:  # the stack clears itself while the window is being destroyed
            pass

    def _update_title(self) -> None:
        try:
            self.undo_stack.isClean()
        except RuntimeError:  # emitted by the stack's own destructor
            return
        if self.photo is None or not self.photo.path:
            name = "no photo"
        elif self.save_path is not None:  # after Save As the window shows the file it now writes
            name = f"{self.save_path.name} (from {self.photo.path.name})"
        else:
            name = self.photo.path.name
        dirty = "" if self.undo_stack.isClean() else " •"
        self.setWindowTitle(f"KeepSmiling — {name}{dirty}")

    def _update_actions(self) -> None:
        has_photo = self.photo is not None
        for action in (self.save_action, self.save_as_action, self.fit_action, self.actual_action):
            action.setEnabled(has_photo)
        self.smile_all_action.setEnabled(bool(self.faces))
        self.clear_action.setEnabled(bool(self.strengths))
        self.export_action.setEnabled(bool(self.strengths) and self.editor is not None)
        self._update_slider_hint()

    # ----------------------------------------------------------------------------------- messages
    def show_about(self) -> None:
        from .about import about_html

        box = QMessageBox(self)
        box.setWindowTitle("About KeepSmiling")
        box.setTextFormat(Qt.TextFormat.RichText)
        box.setText(about_html(self.device_text))
        box.setIconPixmap(self.windowIcon().pixmap(64, 64))
        box.exec()

    def notify(self, text: str, timeout_ms: int = 8000) -> None:
        self.statusBar().showMessage(text, timeout_ms)
        self.message.emit(text)

    def show_error(self, title: str, text: str) -> None:
        self.statusBar().showMessage(text, 15000)
        self.message.emit(text)
        QMessageBox.warning(self, title, text)

    # ----------------------------------------------------------------------------------- photos
    def open_dialog(self) -> None:
        start = str(self.settings.value("paths/open_dir", str(Path.home())))
        path, _ = QFileDialog.getOpenFileName(self, "Open a photo", start, IMAGE_FILTER)
        if path:
            self.open_photo(Path(path))

    def _rebuild_recent_menu(self) -> None:
        self.recent_menu.clear()
        files = self.settings.recent_files()
        for path in files:
            action = self.recent_menu.addAction(str(path))
            action.triggered.connect(lambda _=False, p=path: self.open_photo(p))
        if files:
            self.recent_menu.addSeparator()
            self.recent_menu.addAction("Clear list", self._clear_recent)
        self.recent_menu.setEnabled(bool(files))

    def _clear_recent(self) -> None:
        self.settings.clear_recent_files()
        self._rebuild_recent_menu()

    def open_photo(self, path: Path) -> None:
        """Read the photo in a worker; detection follows once it is on screen."""
        if not self.confirm_discard(then=lambda: self.open_photo(path)):
            return
        from keepsmiling_core.imageio import read_photo

        path = Path(path)
        self._loading_photo = path
        self.notify(f"Opening {path.name}…")
        self.tasks.start(read_photo, path, on_success=self._photo_read,
                         on_failure=lambda text: self.show_error("Cannot open the photo", text))

    def _photo_read(self, photo) -> None:
        if self._loading_photo is not None and Path(photo.path) != self._loading_photo:
            return  # another photo was asked for meanwhile
        self._cancel_renders()
        self.photo = photo
        self.faces = []
        self.strengths = {}
        self.focus = frozenset()
        self.shown = {}
        self._gesture_before = None
        self.strength_control.set_value(DEFAULT, notify=False)
        self.blocked = {}
        self.prepared = {}
        self.last_render = None
        self.save_path = None
        self._render_error_shown = False
        self.undo_stack.clear()
        self.scene.set_photo(photo.rgb)
        self.original_scene.set_photo(photo.rgb)
        self.original_scene.set_show_markers(False)
        self.view.fit_photo()
        self._sync_views()
        self.settings.add_recent_file(photo.path)
        self.settings.set_value("paths/open_dir", str(Path(photo.path).parent))
        self._rebuild_recent_menu()
        self._update_title()
        self._update_actions()
        self.photoLoaded.emit(photo)
        self.notify(f"Finding faces in {photo.path.name} ({photo.size[0]}×{photo.size[1]})…")
        from keepsmiling_core.detection import detect_faces

        rgb = photo.rgb
        self.tasks.start(detect_faces, rgb, on_success=lambda faces: self._faces_found(rgb, faces),
                         on_failure=lambda text: self.show_error("Face detection failed", text))

    def _faces_found(self, rgb, faces: list) -> None:
        if self.photo is None or self.photo.rgb is not rgb:
            return
        self.faces = list(faces)
        self.scene.set_faces(self.faces)
        self._update_actions()
        self.facesChanged.emit(len(self.faces))
        if not self.faces:
            text = (f"No faces found in {self.photo.path.name}. Faces must be roughly frontal and at least "
                    "about 80 pixels tall; try a larger or sharper photo.")
            self.notify(text, 20000)
            QMessageBox.information(self, "No faces found", text)
            return
        count = len(self.faces)
        hint = "Click a face to make it smile, or use Smile all." if self.editor is not None else \
            "Pick or train a model to edit them."
        self.notify(f"{count} face{'s' if count != 1 else ''} found. {hint}")

    def dragEnterEvent(self, event) -> None:  # noqa: N802
        if self._dropped_path(event) is not None:
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event) -> None:  # noqa: N802
        path = self._dropped_path(event)
        if path is not None:
            event.acceptProposedAction()
            self.open_photo(path)

    @staticmethod
    def _dropped_path(event) -> Path | None:
        mime = event.mimeData()
        if not mime.hasUrls():
            return None
        for url in mime.urls():
            if url.isLocalFile():
                return Path(url.toLocalFile())
        return None

    # ----------------------------------------------------------------------------------- models
    @property
    def models(self) -> list[ModelEntry]:
        return self.model_picker.models

    def refresh_models(self, select_default: bool = False) -> None:
        extra = self.settings.value("train/out_dir", None)
        self.model_picker.set_models(find_models(Path(extra) if extra else None))
        if select_default:
            remembered = self.settings.value("model/path", "")
            chosen = next((m for m in self.models if str(m.path) == remembered and m.missing_for_edit() is None), None)
            chosen = chosen or default_edit_model(self.models)
            if chosen is not None:
                self.load_model(chosen)
        self.model_picker.show_entry(self.model_entry)

    def _model_picked(self, entry: ModelEntry) -> None:
        if entry.setup == "simplegan":
            self.model_picker.show_entry(self.model_entry)
            self.open_samples(entry)
            return
        self.load_model(entry)

    def load_model(self, entry: ModelEntry) -> None:
        """Load an edit model in a worker; the cache of encoded faces is for the old model, so it goes."""
        if entry.setup == "splitgan" and not entry.has_direction and not entry.shipped:
            self.prepare_direction(entry)
            return
        reason = entry.missing_for_edit()
        if reason:
            self.show_error("This model cannot edit photos", reason)
            self.model_picker.show_entry(self.model_entry)
            return
        from keepsmiling_core.editing.backends import open_editor

        self._pending_model = entry
        self.notify(f"Loading {entry.label}…")
        self.tasks.start(open_editor, entry.path, on_success=lambda editor: self._model_loaded(entry, editor),
                         on_failure=lambda text: self._model_failed(entry, text))

    def prepare_direction(self, entry: ModelEntry) -> None:
        """A SplitGAN run stopped before its smile direction was computed: compute it now, in a worker,
        with its progress in the status bar, then load the model."""
        self._pending_model = entry
        self.notify(f"Computing the smile direction of {entry.label}…", 0)
        self.status_progress.setRange(0, 0)
        self.status_progress.setVisible(True)

        def progress(event) -> None:
            if event.fraction is not None:
                self.status_progress.setRange(0, 100)
                self.status_progress.setValue(int(100 * event.fraction))

        def done(_path) -> None:
            self.status_progress.setVisible(False)
            updated = describe_model(Path(entry.path))
            if self._pending_model is not entry:
                self.refresh_models()
            elif updated is None or not updated.has_direction:
                self._model_failed(entry, f"No smile direction could be stored in {entry.path}.")
            else:
                self.refresh_models()
                self.load_model(updated)

        def failed(text: str) -> None:
            self.status_progress.setVisible(False)
            self._model_failed(entry, text)

        self.tasks.start(edit_jobs.direction_for_run, Path(entry.path), on_progress=progress,
                         on_success=done, on_failure=failed)

    def _model_loaded(self, entry: ModelEntry, editor) -> None:
        if self._pending_model is not entry:
            return
        self._cancel_renders()
        self.editor = editor
        self.model_entry = entry
        self.prepared = {}
        self.shown = {}  # the patches on screen came from the old model: every face renders again
        self.blocked = {}
        self._render_error_shown = False
        for item in self.scene.faces:
            item.set_blocked(None)
        self.settings.set_value("model/path", str(entry.path))
        self.model_picker.show_entry(entry)
        self.modelChanged.emit(entry)
        self.notify(f"Model: {entry.label}")
        self._update_actions()
        self.request_render()

    def _model_failed(self, entry: ModelEntry, text: str) -> None:
        if self._pending_model is entry:
            self._pending_model = None
        self.model_picker.show_entry(self.model_entry)
        self.show_error("Cannot load the model", text)

    def offer_model(self) -> None:
        """No model to edit with: offer the shipped default or the training dialog."""
        shipped = next((m for m in self.models if m.shipped and m.missing_for_edit() is None), None)
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Icon.Information)
        box.setWindowTitle("No model yet")
        box.setText("Editing faces needs a trained SplitGAN or ComplexGAN model.")
        use = None
        if shipped is not None:
            use = box.addButton(f"Use {shipped.label}", QMessageBox.ButtonRole.AcceptRole)
        train = box.addButton("Train one…", QMessageBox.ButtonRole.ActionRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.exec()
        clicked = box.clickedButton()
        if use is not None and clicked is use:
            self.load_model(shipped)
        elif clicked is train:
            self.open_training()

    def open_samples(self, entry: ModelEntry | None = None) -> None:
        from .samples_dialog import SamplesDialog

        entry = entry or next((m for m in self.models if m.setup == "simplegan"), None)
        if entry is None:
            self.show_error("Sample smiles", "No SimpleGAN model found. Train one in Settings ▸ Train….")
            return
        dialog = SamplesDialog(entry.path, entry.label, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        self.samples_dialog = dialog

    def open_training(self) -> None:
        from .training_dialog import TrainingDialog

        if self.training_dialog is None:
            self.training_dialog = TrainingDialog(self)
            self.training_dialog.runFinished.connect(self._training_finished)
            self.training_dialog.runSaved.connect(lambda _run: self.refresh_models())
        self.training_dialog.show()
        self.training_dialog.raise_()

    def _training_finished(self, run_dir: Path) -> None:
        self.refresh_models()
        self.notify(f"New model available in the model list: {run_dir}")
        if self.editor is None:
            entry = next((m for m in self.models if Path(m.path) == Path(run_dir)), None)
            if entry is not None and entry.missing_for_edit() is None:
                self.load_model(entry)

    # ----------------------------------------------------------------------------------- editing
    @property
    def selected(self) -> frozenset[int]:
        """The faces that smile (each at its own strength in ``strengths``)."""
        return frozenset(self.strengths)

    def edit_state(self) -> EditState:
        return EditState(self.strengths, self.focus)

    def _push_edit(self, new: EditState, text: str | None = None) -> None:
        old = self.edit_state()
        if new != old:
            self.undo_stack.push(SelectFacesCommand(self, old, new, text))

    def toggle_face(self, index: int) -> None:
        """A click on a face: start its smile, focus it, or (when already focused) leave it as it was."""
        if index in self.blocked:
            self.show_error("This face cannot be edited", f"Face {index + 1}: {self.blocked[index]}")
            return
        if index in self.strengths and self.focus != {index}:
            self.set_focus(frozenset({index}))  # shows its strength; not an undo step, the photo is unchanged
            return
        strengths = dict(self.strengths)
        if index in strengths:
            del strengths[index]
            focus: frozenset[int] = frozenset()
        else:
            strengths[index] = DEFAULT
            focus = frozenset({index})
        self._push_edit(EditState(strengths, focus))
        if self.editor is None and strengths:
            self.offer_model()

    def smile_all(self) -> None:
        """Every editable face smiles at the slider's current value, and the slider then moves them all."""
        value = self.strength_control.value()
        editable = frozenset(i for i in range(len(self.faces)) if i not in self.blocked)
        new = EditState({i: value for i in editable}, editable)
        if new.strengths == self.strengths:
            self.set_focus(editable)
        else:
            self._push_edit(new, f"Smile all at {value:.2f}")
        if self.editor is None and editable:
            self.offer_model()

    def clear_selection(self) -> None:
        if self.strengths:
            self._push_edit(EditState())

    def set_focus(self, focus: frozenset[int]) -> None:
        """Let the slider drive these smiling faces, showing their strength."""
        self.focus = frozenset(focus) & self.strengths.keys()
        self._gesture_before = None
        self._show_edit_state()

    def apply_edit(self, state: EditState) -> None:
        """Called by undo commands: show exactly these strengths (never on a face known to be refused)."""
        self.strengths = {i: a for i, a in state.strengths.items() if i not in self.blocked}
        self.focus = state.focus & self.strengths.keys()
        self._gesture_before = None
        for index in list(self.scene.patches):
            if index not in self.strengths:
                self.scene.clear_patch(index)
                self.shown.pop(index, None)
        self._show_edit_state()
        self.request_render()

    def _show_edit_state(self) -> None:
        """Face outlines, tooltips and the slider follow ``strengths`` and ``focus``."""
        for item in self.scene.faces:
            item.set_edit(self.strengths.get(item.index), item.index in self.focus)
        if self.focus:
            self.strength_control.set_value(self.strengths[min(self.focus)], notify=False)
        self._update_actions()

    def _update_slider_hint(self) -> None:
        """The slider's hint says what it will move now, and what to do when that is nothing yet."""
        count = len(self.faces)
        if self.focus:
            faces = ", ".join(str(i + 1) for i in sorted(self.focus))
            hint = f"Smile strength of face {faces}" if len(self.focus) == 1 else f"Smile strength of faces {faces}"
            hint += (" (double outline; click another face to move that one instead)" if count > 1 else "")
        elif count == 1:
            hint = "Drag to make the face smile"
        elif count > 1:
            hint = f"{count} faces: click a face to choose which one the slider edits, or use Smile all"
        else:
            hint = "Open a photo with a face to edit"
        self.strength_control.set_hint(f"{hint}. 0 leaves the mouth as it is, negative values frown.")

    def _strength_moved(self, value: float) -> None:
        """The slider moved: only the focused faces follow. With a single face in the photo the slider
        needs no click; with several and none in focus the value waits for a click or Smile all."""
        if not self.focus:
            editable = [i for i in range(len(self.faces)) if i not in self.blocked]
            if len(self.faces) == 1 and editable:
                self._gesture_before = self.edit_state()
                self.strengths = {0: value}
                self.focus = frozenset({0})
                self._show_edit_state()
                if self.editor is None:
                    self.offer_model()
                self.request_render()  # the control's ``committed`` records the undo step
                return
            if len(self.faces) > 1:
                self.notify("Click a face to choose which one the slider edits, or use Smile all.", 8000)
            elif self.faces:
                self.notify(f"This face cannot be edited: {self.blocked[0]}", 15000)
            return
        if self._gesture_before is None:
            self._gesture_before = self.edit_state()
        for index in self.focus:
            self.strengths[index] = value
            self.scene.faces[index].set_edit(value, True)
        self.request_render()

    def _strength_committed(self, _old: float, _new: float) -> None:
        """One undo step per gesture, holding every face's strength from before it."""
        before, self._gesture_before = self._gesture_before, None
        if before is not None and before != self.edit_state():
            self.undo_stack.push(SetStrengthCommand(self, before, self.edit_state()))

    def _cancel_renders(self) -> None:
        self.renderer.cancel()
        self._unsettled = set()  # a cancelled render never lands, so it cannot change the screen

    def request_render(self) -> None:
        """Render each smiling face at its own strength; only the newest request survives.

        A face whose patch on screen already shows its strength is left alone (moving one face's
        slider re-renders that face only), unless a render still under way may change it."""
        if self.photo is None or self.editor is None:
            self._after_render_update()
            return
        wanted = {i: a for i, a in self.strengths.items() if i not in self.blocked}
        if not wanted:
            self._cancel_renders()
            self.scene.clear_patches()
            self.shown = {}
            self._after_render_update()
            return
        targets = {i: a for i, a in wanted.items() if self.shown.get(i) != a or i in self._unsettled}
        if not targets:
            self._cancel_renders()
            self._after_render_update()
            return
        self._unsettled |= targets.keys()
        editor, rgb, faces, cache = self.editor, self.photo.rgb, self.faces, dict(self.prepared)
        self.renderer.request(lambda: (editor, rgb, edit_jobs.render_faces(editor, rgb, faces, targets, cache)))

    def _on_rendered(self, _generation: int, result) -> None:
        editor, rgb, outcome = result
        if editor is not self.editor or self.photo is None or rgb is not self.photo.rgb:
            return
        self.prepared.update(outcome.prepared)
        refused = []
        for index, reason in outcome.blocked.items():
            if index not in self.blocked:
                self.blocked[index] = reason
                self.scene.faces[index].set_blocked(reason)
                refused.append(f"Face {index + 1} cannot be edited: {reason}")
        if self.strengths.keys() & outcome.blocked.keys():
            self.strengths = {i: a for i, a in self.strengths.items() if i not in outcome.blocked}
            self.focus = self.focus & self.strengths.keys()
            self._show_edit_state()
        for index, (x0, y0, patch) in outcome.patches.items():
            if index in self.strengths:
                self.scene.set_patch(index, x0, y0, patch)
                self.shown[index] = outcome.alphas[index]
        if self.renderer.idle:
            self._unsettled = set()
        self.last_render = outcome
        if refused:  # the reason matters more than the timing: it stays longer
            self.notify(" ".join(refused), 20000)
        elif outcome.patches:
            per_face = outcome.render_ms / len(outcome.patches)
            prepared = f", prepared in {outcome.prepare_ms:.0f} ms" if outcome.prepared else ""
            values = sorted({outcome.alphas[i] for i in outcome.patches})
            self.notify(f"Strength {', '.join(f'{v:+.2f}' for v in values)}: {len(outcome.patches)} face(s), "
                        f"{per_face:.0f} ms per face{prepared}", 5000)
        self._after_render_update()

    def _render_failed(self, _generation: int, text: str) -> None:
        """A render failed: the slider keeps moving, so say it once in a dialog and then in the status bar."""
        self._unsettled = set()
        if self._render_error_shown:
            self.notify(f"Cannot edit: {text}", 15000)
        else:
            self._render_error_shown = True
            self.show_error("Cannot edit", text)
        self._after_render_update()

    def _after_render_update(self) -> None:
        self._update_actions()
        if self.renderer.idle:
            self.rendered.emit()

    def show_original(self, show: bool) -> None:
        self.scene.set_show_edits(not show)

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

    def set_split(self, on: bool) -> None:
        self.original_view.setVisible(on)
        self.original_view.set_caption("Original" if on else "")
        self.view.set_caption("Edited" if on else "")
        if on:
            half = max(1, self.splitter.width() // 2)
            self.splitter.setSizes([half, half])
            self.view.fit_photo()
        self._sync_views()

    def _sync_views(self, source: PhotoView | None = None, target: PhotoView | None = None) -> None:
        """Give ``target`` the zoom and scroll position of ``source`` (default: the edited pane leads)."""
        source, target = source or self.view, target or self.original_view
        if self._syncing or not self.original_view.isVisible():
            return
        self._syncing = True
        try:
            if target.transform() != source.transform():
                target.setTransform(source.transform())
            target._fitted = source._fitted
            target.horizontalScrollBar().setValue(source.horizontalScrollBar().value())
            target.verticalScrollBar().setValue(source.verticalScrollBar().value())
        finally:
            self._syncing = False
        self.zoom_label.setText(f"{source.zoom() * 100:.0f} %")

    def displayed_image(self):
        """The photo as the view shows it now (edits included, markers excluded), as RGB."""
        return self.scene.render_photo(with_markers=False)

    # ----------------------------------------------------------------------------------- saving
    def _suggested_name(self) -> Path:
        original = Path(self.photo.path)
        suffix = original.suffix.lower() if original.suffix.lower() in (".jpg", ".jpeg", ".png") else ".jpg"
        folder = self.settings.value("paths/save_dir", str(original.parent))
        return Path(folder) / f"{original.stem}-smiling{suffix}"

    def save(self) -> bool:
        """Save (asking for a name the first time); False when nothing was started."""
        if self.photo is None:
            return False
        if self.save_path is None:
            return self.save_as()
        return self.write_to(self.save_path)

    def save_as(self) -> bool:
        if self.photo is None:
            return False
        path, _ = QFileDialog.getSaveFileName(self, "Save the edited photo", str(self._suggested_name()),
                                              "JPEG (*.jpg *.jpeg);;PNG (*.png)")
        return self.write_to(Path(path)) if path else False

    def write_to(self, path: Path) -> bool:
        """Save in a worker; replacing the original photo needs an explicit yes. False when not started."""
        path = Path(path)
        if path.suffix == "":
            path = path.with_suffix(".jpg")
        if self.photo.path is not None and path.resolve() == Path(self.photo.path).resolve():
            answer = QMessageBox.question(
                self, "Replace the original?",
                f"{path.name} is the original photo. Replace it with the edited version? This cannot be undone.",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.No)
            if answer != QMessageBox.StandardButton.Yes:
                self.notify("Not saved: the original was kept.")
                return False
        alphas = self._edited_alphas()
        self.notify(f"Saving {path.name}…")
        self.tasks.start(edit_jobs.save_edited_photo, path, self.editor, self.photo, self.faces, alphas,
                         dict(self.prepared), on_success=self._saved, on_failure=self._save_failed)
        return True

    def _save_failed(self, text: str) -> None:
        self._after_save = None  # whatever waited for the save (quit, another photo) does not happen
        self.show_error("Cannot save", text)

    def _edited_alphas(self) -> dict[int, float]:
        """Each editable smiling face with its own strength: what the view shows is what gets written."""
        return {i: a for i, a in sorted(self.strengths.items()) if i not in self.blocked}

    def _saved(self, path: Path) -> None:
        self.save_path = Path(path)
        self.settings.set_value("paths/save_dir", str(Path(path).parent))
        self.undo_stack.setClean()
        self._update_title()
        self.notify(f"Saved {path}")
        self.saved.emit(Path(path))
        then, self._after_save = self._after_save, None
        if then is not None:
            then()

    def export_faces(self, folder: Path | None = None) -> None:
        if self.photo is None or self.editor is None or not self.strengths:
            self.show_error("Nothing to export", "Select at least one face to smile before exporting.")
            return
        if folder is None:
            chosen = QFileDialog.getExistingDirectory(self, "Export edited faces into",
                                                      str(self.settings.value("paths/save_dir", str(Path.home()))))
            if not chosen:
                return
            folder = Path(chosen)
        self.tasks.start(edit_jobs.export_faces, folder, self.editor, self.photo, self.faces, self._edited_alphas(),
                         dict(self.prepared),
                         on_success=lambda paths: self.notify(f"Exported {len(paths)} images to {folder}"),
                         on_failure=lambda text: self.show_error("Cannot export", text))

    def confirm_discard(self, then: Callable[[], None] | None = None) -> bool:
        """True when the current edits may go. Save writes them first (in a worker) and returns False;
        once the photo is saved, ``then`` (what the user was doing: quit, open another photo) runs."""
        if self.photo is None or self.undo_stack.isClean():
            return True
        answer = QMessageBox.question(
            self, "Unsaved edits", "The edited photo has not been saved. Save it before going on?",
            QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Save)
        if answer == QMessageBox.StandardButton.Save:
            self._after_save = then
            if not self.save():  # the file dialog was cancelled: nothing happens
                self._after_save = None
            return False
        return answer == QMessageBox.StandardButton.Discard

    def closeEvent(self, event) -> None:  # noqa: N802
        """Quit without ever blocking the GUI thread: a running training is asked to stop (it abandons its
        step and writes a checkpoint within about a second) and the window closes once it has."""
        if not self._quitting:
            if not self.confirm_discard(then=self.close):
                event.ignore()
                return
            dialog = self.training_dialog
            if dialog is not None and dialog.running:
                answer = QMessageBox.question(
                    self, "Training is running",
                    "A training run is still going. Stop it and quit? A checkpoint is written, so it can be "
                    "resumed later from Settings ▸ Train… or with 'keepsmiling train --resume'.",
                    QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.No)
                if answer != QMessageBox.StandardButton.Yes:
                    event.ignore()
                    return
            self._quitting = True
        dialog = self.training_dialog
        if dialog is not None and dialog.running:
            self.notify("Stopping… the training run writes its checkpoint, then KeepSmiling quits.", 0)
            self.setEnabled(False)
            dialog.idle.connect(self.close, Qt.ConnectionType.QueuedConnection)
            dialog.request_stop()
            event.ignore()
            return
        if dialog is not None:
            dialog.hide()  # a visible dialog would keep the application running
        self._cancel_renders()
        self.settings.set_value("window/geometry", self.saveGeometry())
        self.settings.set_value("view/markers", self.markers_action.isChecked())
        super().closeEvent(event)
