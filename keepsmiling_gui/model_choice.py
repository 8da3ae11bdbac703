"""Which model edits the faces: the model list, loading an editor in a worker, a stopped SplitGAN run's
smile direction, the offer of a model when an edit needs one, SimpleGAN samples and the training dialog.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QMessageBox

from . import edit_jobs
from .model_catalog import ModelEntry, default_edit_model, describe_model, find_models

if TYPE_CHECKING:
    from .main_window import MainWindow


class ModelChooser(QObject):
    def __init__(self, window: MainWindow):
        super().__init__(window)
        self.window = window
        self.entry: ModelEntry | None = None  # the model the session's editor came from
        self._pending: ModelEntry | None = None
        window.model_picker.picked.connect(self._picked)

    @property
    def models(self) -> list[ModelEntry]:
        return self.window.model_picker.models

    def refresh_models(self, select_default: bool = False) -> None:
        window = self.window
        extra = window.settings.value("train/out_dir", None)
        window.model_picker.set_models(find_models(Path(extra) if extra else None))
        if select_default:
            remembered = window.settings.value("model/path", "")
            chosen = next((m for m in self.models if str(m.path) == remembered and m.missing_for_edit() is None), None)
            chosen = chosen or default_edit_model(self.models)
            if chosen is not None:
                self.load_model(chosen)
        window.model_picker.show_entry(self.entry)

    def _picked(self, entry: ModelEntry) -> None:
        if _spec_says(entry.setup, "draws_samples"):
            self.window.model_picker.show_entry(self.entry)
            self.open_samples(entry)
            return
        self.load_model(entry)

    def load_model(self, entry: ModelEntry) -> None:
        """Load an edit model in a worker; the cache of encoded faces is for the old model, so it goes."""
        window = self.window
        if _spec_says(entry.setup, "needs_direction") and not entry.has_direction and not entry.shipped:
            self.prepare_direction(entry)
            return
        reason = entry.missing_for_edit()
        if reason:
            window.show_error("This model cannot edit photos", reason)
            window.model_picker.show_entry(self.entry)
            return
        from keepsmiling_core.editing.backends import open_editor

        self._pending = entry
        window.notify(f"Loading {entry.label}…")
        window.tasks.start(open_editor, entry.path, on_success=lambda editor: self._loaded(entry, editor),
                           on_failure=lambda text: self._failed(entry, text))

    def prepare_direction(self, entry: ModelEntry) -> None:
        """A SplitGAN run stopped before its smile direction was computed: compute it now, in a worker,
        with its progress in the status bar, then load the model."""
        window = self.window
        self._pending = entry
        window.notify(f"Computing the smile direction of {entry.label}…", 0)
        window.status_progress.setRange(0, 0)
        window.status_progress.setVisible(True)

        def progress(event) -> None:
            if event.fraction is not None:
                window.status_progress.setRange(0, 100)
                window.status_progress.setValue(int(100 * event.fraction))

        def done(_path) -> None:
            window.status_progress.setVisible(False)
            updated = describe_model(Path(entry.path))
            if self._pending is not entry:
                self.refresh_models()
            elif updated is None or not updated.has_direction:
                self._failed(entry, f"No smile direction could be stored in {entry.path}.")
            else:
                self.refresh_models()
                self.load_model(updated)

        def failed(text: str) -> None:
            window.status_progress.setVisible(False)
            self._failed(entry, text)

        window.tasks.start(edit_jobs.direction_for_run, Path(entry.path), on_progress=progress,
                           on_success=done, on_failure=failed)

    def _loaded(self, entry: ModelEntry, editor) -> None:
        if self._pending is not entry:
            return
        window = self.window
        window.screen_render.reset()  # the patches on screen came from the old model: every face renders again
        window.session.set_editor(editor)
        self.entry = entry
        for item in window.scene.faces:
            item.set_blocked(None)
        window.settings.set_value("model/path", str(entry.path))
        window.model_picker.show_entry(entry)
        window.modelChanged.emit(entry)
        window.notify(f"Model: {entry.label}")
        window.update_actions()
        window.screen_render.request()

    def _failed(self, entry: ModelEntry, text: str) -> None:
        if self._pending is entry:
            self._pending = None
        self.window.model_picker.show_entry(self.entry)
        self.window.show_error("Cannot load the model", text)

    def offer_model(self) -> None:
        """No model to edit with: offer the shipped default or the training dialog."""
        shipped = next((m for m in self.models if m.shipped and m.missing_for_edit() is None), None)
        box = QMessageBox(self.window)
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

        entry = entry or next((m for m in self.models if _spec_says(m.setup, "draws_samples")), None)
        if entry is None:
            self.window.show_error("Sample smiles", "No SimpleGAN model found. Train one in Settings ▸ Train….")
            return
        dialog = SamplesDialog(entry.path, entry.label, self.window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        self.window.samples_dialog = dialog

    def open_training(self) -> None:
        from .training_dialog import TrainingDialog

        window = self.window
        if window.training_dialog is None:
            window.training_dialog = TrainingDialog(window)
            window.training_dialog.runFinished.connect(self._training_finished)
            window.training_dialog.runSaved.connect(lambda _run: self.refresh_models())
        window.training_dialog.show()
        window.training_dialog.raise_()

    def _training_finished(self, run_dir: Path) -> None:
        self.refresh_models()
        self.window.notify(f"New model available in the model list: {run_dir}")
        if self.window.session.editor is None:
            entry = next((m for m in self.models if Path(m.path) == Path(run_dir)), None)
            if entry is not None and entry.missing_for_edit() is None:
                self.load_model(entry)


def _spec_says(setup: str, flag: str) -> bool:
    """A flag of the setup's registered spec; False for the warp and for setups no longer registered."""
    from keepsmiling_core.setups import find_setup

    spec = find_setup(setup)
    return bool(spec is not None and getattr(spec, flag))
