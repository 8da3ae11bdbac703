"""Models ▸ Sample smiles: what a SimpleGAN draws from noise (it cannot edit photos)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from .edit_jobs import sample_smiles
from .image_convert import rgb_to_pixmap
from .workers import TaskRunner


class SamplesDialog(QDialog):
    def __init__(self, model_path: Path, label: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(f"Sample smiles — {label}")
        self.model_path = Path(model_path)
        self.tasks = TaskRunner(self)
        self.grid: np.ndarray | None = None
        self.error: str | None = None
        self.image = QLabel("Drawing mouths from noise…")
        self.image.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.image.setMinimumSize(520, 520)
        note = QLabel("SimpleGAN draws new smiling mouths from random noise. It cannot change a face in a "
                      "photo; use a SplitGAN or ComplexGAN model for that.")
        note.setWordWrap(True)
        self.again = QPushButton("New samples")
        self.again.clicked.connect(self.generate)
        close = QPushButton("Close")
        close.clicked.connect(self.accept)
        buttons = QHBoxLayout()
        buttons.addWidget(self.again)
        buttons.addStretch(1)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(note)
        layout.addWidget(self.image, 1)
        layout.addLayout(buttons)
        self.generate()

    def generate(self) -> None:
        self.again.setEnabled(False)
        self.tasks.start(sample_smiles, self.model_path, on_success=self._show, on_failure=self._failed)

    def _show(self, grid: np.ndarray) -> None:
        self.grid = grid
        self.again.setEnabled(True)
        pixmap = rgb_to_pixmap(grid)
        side = min(self.image.width(), self.image.height())
        scale = max(1, side // max(grid.shape[:2]))
        self.image.setPixmap(pixmap.scaled(grid.shape[1] * scale, grid.shape[0] * scale,
                                           Qt.AspectRatioMode.KeepAspectRatio,
                                           Qt.TransformationMode.FastTransformation))

    def _failed(self, message: str) -> None:
        self.error = message
        self.again.setEnabled(True)
        self.image.setText(message)
