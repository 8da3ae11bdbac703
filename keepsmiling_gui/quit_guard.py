"""Quitting: unsaved edits are offered a save, a running training run is asked to stop first.

Quit never blocks the GUI thread: a running training is asked to stop (it abandons its step and writes
a checkpoint within about a second) and the window closes once the run is idle.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QMessageBox

if TYPE_CHECKING:
    from .main_window import MainWindow


class QuitGuard(QObject):
    def __init__(self, window: MainWindow):
        super().__init__(window)
        self.window = window
        self.quitting = False  # the user confirmed Quit; a second close (after training stopped) goes through

    def may_close(self) -> bool:
        """Whether the window may close now; False leaves it open (asked, saving, or waiting for training)."""
        window = self.window
        dialog = window.training_dialog
        if not self.quitting:
            if not window.save_flow.confirm_discard(then=window.close):
                return False
            if dialog is not None and dialog.running:
                answer = QMessageBox.question(
                    window, "Training is running",
                    "A training run is still going. Stop it and quit? A checkpoint is written, so it can be "
                    "resumed later from Settings ▸ Train… or with 'keepsmiling train --resume'.",
                    QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.No)
                if answer != QMessageBox.StandardButton.Yes:
                    return False
            self.quitting = True
        if dialog is not None and dialog.running:
            window.notify("Stopping… the training run writes its checkpoint, then KeepSmiling quits.", 0)
            window.setEnabled(False)
            dialog.idle.connect(window.close, Qt.ConnectionType.QueuedConnection)
            dialog.request_stop()
            return False
        if dialog is not None:
            dialog.hide()  # a visible dialog would keep the application running
        return True
