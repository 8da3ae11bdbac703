"""Save, Save As, Export and the unsaved-edits prompt.

The pixels come from the session's ``EditPlan`` (the core's one compositing path), written in a worker;
the window only asks for names and confirmations: replacing the original photo needs an explicit yes.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QFileDialog, QMessageBox

from keepsmiling_core.editing.session import save_target

if TYPE_CHECKING:
    from .main_window import MainWindow


class SaveFlow(QObject):
    def __init__(self, window: MainWindow):
        super().__init__(window)
        self.window = window
        self._after_save: Callable[[], None] | None = None  # what "Save" in the unsaved-edits prompt resumes

    def suggested_name(self) -> Path:
        session = self.window.session
        folder = self.window.settings.value("paths/save_dir", str(Path(session.photo.path).parent))
        return session.suggested_path(Path(folder))

    def save(self) -> bool:
        """Save (asking for a name the first time); False when nothing was started."""
        session = self.window.session
        if session.photo is None:
            return False
        if session.save_path is None:
            return self.save_as()
        return self.write_to(session.save_path)

    def save_as(self) -> bool:
        if self.window.session.photo is None:
            return False
        path, _ = QFileDialog.getSaveFileName(self.window, "Save the edited photo", str(self.suggested_name()),
                                              "JPEG (*.jpg *.jpeg);;PNG (*.png)")
        return self.write_to(Path(path)) if path else False

    def write_to(self, path: Path) -> bool:
        """Save in a worker; replacing the original photo needs an explicit yes. False when not started."""
        window, session = self.window, self.window.session
        path = save_target(path)
        if session.replaces_original(path):
            answer = QMessageBox.question(
                window, "Replace the original?",
                f"{path.name} is the original photo. Replace it with the edited version? This cannot be undone.",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.No)
            if answer != QMessageBox.StandardButton.Yes:
                window.notify("Not saved: the original was kept.")
                return False
        plan = session.plan()
        window.notify(f"Saving {path.name}…")
        window.tasks.start(plan.save, path, on_success=self._saved, on_failure=self._save_failed)
        return True

    def _save_failed(self, text: str) -> None:
        self._after_save = None  # whatever waited for the save (quit, another photo) does not happen
        self.window.show_error("Cannot save", text)

    def _saved(self, path: Path) -> None:
        window = self.window
        path = Path(path)
        window.session.mark_saved(path)
        window.settings.set_value("paths/save_dir", str(path.parent))
        window.undo_stack.setClean()
        window.update_title()
        window.notify(f"Saved {path}")
        window.saved.emit(path)
        then, self._after_save = self._after_save, None
        if then is not None:
            then()

    def export_faces(self, folder: Path | None = None) -> None:
        window, session = self.window, self.window.session
        if session.photo is None or session.editor is None or not session.strengths:
            window.show_error("Nothing to export", "Select at least one face to smile before exporting.")
            return
        if folder is None:
            chosen = QFileDialog.getExistingDirectory(window, "Export edited faces into",
                                                      str(window.settings.value("paths/save_dir", str(Path.home()))))
            if not chosen:
                return
            folder = Path(chosen)
        window.tasks.start(session.plan().export_faces, folder,
                           on_success=lambda paths: window.notify(f"Exported {len(paths)} images to {folder}"),
                           on_failure=lambda text: window.show_error("Cannot export", text))

    def confirm_discard(self, then: Callable[[], None] | None = None) -> bool:
        """True when the current edits may go. Save writes them first (in a worker) and returns False;
        once the photo is saved, ``then`` (what the user was doing: quit, open another photo) runs."""
        window = self.window
        if not window.session.dirty:
            return True
        answer = QMessageBox.question(
            window, "Unsaved edits", "The edited photo has not been saved. Save it before going on?",
            QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Save)
        if answer == QMessageBox.StandardButton.Save:
            self._after_save = then
            if not self.save():  # the file dialog was cancelled: nothing happens
                self._after_save = None
            return False
        return answer == QMessageBox.StandardButton.Discard
