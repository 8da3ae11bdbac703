"""The window's actions, menus, toolbars and status bar (what each command is called, its shortcut and tip).

The actions become attributes of the window (``window.save_action`` …) so menus, toolbars and tests
reach the same objects. Short toolbar labels (the menus keep the full ones) keep the editing toolbar
within an 800 px window; the model list has a toolbar of its own that moves to a second row when both
do not fit (``window_layout.arrange_toolbars``), and narrower still Qt's extension button (») lists
what is left.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QLabel, QProgressBar, QPushButton, QToolBar

from .model_picker import ModelPicker
from .recent_files import RecentFiles

if TYPE_CHECKING:
    from .main_window import MainWindow


def _action(window: MainWindow, text: str, slot, shortcut=None, tip: str = "", checkable: bool = False) -> QAction:
    action = QAction(text, window)
    if shortcut is not None:
        action.setShortcut(QKeySequence(shortcut))
    if tip:
        action.setStatusTip(tip)
        action.setToolTip(tip)
    action.setCheckable(checkable)
    (action.toggled if checkable else action.triggered).connect(slot)
    return action


def _set_tip(action: QAction, text: str) -> None:
    try:
        action.setToolTip(text.strip())
    except RuntimeError:  # the stack clears itself while the window is being destroyed
        pass


def build_actions(w: MainWindow) -> None:
    key = QKeySequence.StandardKey
    w.open_action = _action(w, "&Open…", lambda: w.open_dialog(), key.Open, "Open a photo")
    w.save_action = _action(w, "&Save", lambda: w.save(), key.Save,
                            "Save the edited photo (asks before replacing the original)")
    w.save_as_action = _action(w, "Save &As…", lambda: w.save_as(), QKeySequence("Ctrl+Shift+S"),
                               "Save the edited photo under a new name")
    w.export_action = _action(w, "&Export edited faces…", lambda: w.export_faces(), None,
                              "Write each edited face before and after as PNG files")
    w.quit_action = _action(w, "&Quit", w.close, key.Quit)
    # Own actions rather than QUndoStack.createUndoAction: a fixed label keeps the toolbar from
    # jumping while the tooltip names the step ("Undo Smile face 2").
    stack = w.undo_stack
    w.undo_action = _action(w, "&Undo", stack.undo, QKeySequence("Ctrl+Z"))
    w.redo_action = _action(w, "&Redo", stack.redo, None)
    w.redo_action.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
    w.undo_action.setEnabled(False)
    w.redo_action.setEnabled(False)
    stack.canUndoChanged.connect(w.undo_action.setEnabled)
    stack.canRedoChanged.connect(w.redo_action.setEnabled)
    stack.undoTextChanged.connect(lambda text: _set_tip(w.undo_action, f"Undo {text}"))
    stack.redoTextChanged.connect(lambda text: _set_tip(w.redo_action, f"Redo {text}"))
    w.smile_all_action = _action(w, "Smile &all", lambda: w.smile_all(), QKeySequence("Ctrl+A"),
                                 "Make every editable face smile")
    w.clear_action = _action(w, "&Leave all as they were", lambda: w.clear_selection(),
                             QKeySequence("Ctrl+Shift+A"), "Remove the edit from every face")
    w.split_action = _action(w, "Side by side", w.set_split, QKeySequence("Ctrl+D"),
                             "Show the original beside the edited photo", checkable=True)
    w.markers_action = _action(w, "Face markers", w.scene.set_show_markers, QKeySequence("Ctrl+M"),
                               "Show face outlines, mouth outlines and landmarks", checkable=True)
    w.markers_action.setChecked(True)
    w.fit_action = _action(w, "&Fit to window", w.view.fit_photo, QKeySequence("Ctrl+0"))
    w.actual_action = _action(w, "Actual &pixels", w.view.actual_size, QKeySequence("Ctrl+1"))
    w.zoom_in_action = _action(w, "Zoom &in", lambda: w.view.zoom_by(1.25), key.ZoomIn)
    w.zoom_out_action = _action(w, "Zoom &out", lambda: w.view.zoom_by(0.8), key.ZoomOut)
    w.train_action = _action(w, "&Train…", lambda: w.open_training(), None,
                             "Train a SimpleGAN, ComplexGAN or SplitGAN model")
    w.samples_action = _action(w, "&Sample smiles…", lambda: w.open_samples(), None,
                               "Show mouths a SimpleGAN draws from noise")
    w.reload_models_action = _action(w, "&Refresh model list", lambda: w.refresh_models(), None)
    w.about_action = _action(w, "&About KeepSmiling", lambda: w.show_about(), None,
                             "Versions, the device in use and licence notes")


def build_menus_and_toolbars(w: MainWindow) -> None:
    bar = w.menuBar()
    file_menu = bar.addMenu("&File")
    file_menu.addAction(w.open_action)
    w.recent_menu = file_menu.addMenu("Open &recent")
    w.recent = RecentFiles(w.recent_menu, w.settings, lambda path: w.open_photo(path))
    file_menu.addSeparator()
    for action in (w.save_action, w.save_as_action, w.export_action):
        file_menu.addAction(action)
    file_menu.addSeparator()
    file_menu.addAction(w.quit_action)
    edit_menu = bar.addMenu("&Edit")
    for action in (w.undo_action, w.redo_action):
        edit_menu.addAction(action)
    edit_menu.addSeparator()
    edit_menu.addAction(w.smile_all_action)
    edit_menu.addAction(w.clear_action)
    view_menu = bar.addMenu("&View")
    for action in (w.split_action, w.markers_action, w.fit_action, w.actual_action, w.zoom_in_action,
                   w.zoom_out_action):
        view_menu.addAction(action)
    model_menu = bar.addMenu("&Models")
    model_menu.addAction(w.samples_action)
    model_menu.addAction(w.reload_models_action)
    bar.addMenu("&Settings").addAction(w.train_action)
    bar.addMenu("&Help").addAction(w.about_action)

    w.open_action.setIconText("Open")
    w.smile_all_action.setIconText("Smile all")
    w.split_action.setIconText("Split")
    toolbar = QToolBar("Edit")
    toolbar.setObjectName("main-toolbar")
    toolbar.setMovable(False)
    w.addToolBar(toolbar)
    w.toolbar = toolbar
    toolbar.addAction(w.open_action)
    toolbar.addAction(w.save_action)
    toolbar.addSeparator()
    toolbar.addAction(w.undo_action)
    toolbar.addAction(w.redo_action)
    toolbar.addSeparator()
    toolbar.addAction(w.smile_all_action)
    toolbar.addWidget(w.strength_control)
    w.compare_button = QPushButton("Compare")
    w.compare_button.setToolTip("Hold (or hold Space) to see the original photo")
    w.compare_button.pressed.connect(lambda: w.show_original(True))
    w.compare_button.released.connect(lambda: w.show_original(False))
    toolbar.addWidget(w.compare_button)
    toolbar.addAction(w.split_action)

    w.model_toolbar = QToolBar("Model")
    w.model_toolbar.setObjectName("model-toolbar")
    w.model_toolbar.setMovable(False)
    w.addToolBar(w.model_toolbar)
    w.model_toolbar.addWidget(QLabel(" Model "))
    w.model_picker = ModelPicker()
    w.model_toolbar.addWidget(w.model_picker)


def build_status_bar(w: MainWindow) -> None:
    from keepsmiling_core.device import device_name, pick_device

    w.zoom_label = QLabel()
    w.panes.zoomChanged.connect(lambda z: w.zoom_label.setText(f"{z * 100:.0f} %"))
    w.device_text = device_name(pick_device(None))
    w.device_label = QLabel(f"Device: {w.device_text}")
    w.status_progress = QProgressBar()  # long background work (a smile direction) shows here
    w.status_progress.setMaximumWidth(160)
    w.status_progress.setVisible(False)
    w.statusBar().addPermanentWidget(w.status_progress)
    w.statusBar().addPermanentWidget(w.zoom_label)
    w.statusBar().addPermanentWidget(w.device_label)
