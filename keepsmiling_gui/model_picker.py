"""The toolbar's model chooser: lists ``ModelEntry`` items and says which one the user picked.

It only shows entries; what picking means (load an editor, show SimpleGAN samples) is the window's
business, so a pick never changes the shown entry by itself: the window confirms with ``show_entry``
once a model really loaded.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QWidget

from .model_catalog import ModelEntry

NO_MODEL = "No model yet — Settings ▸ Train…"


class ModelPicker(QComboBox):
    picked = Signal(object)  # ModelEntry

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.models: list[ModelEntry] = []
        self.setMinimumContentsLength(24)  # compact on the toolbar; the open list shows full names
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.setToolTip("Which trained model edits the faces (SimpleGAN shows sampled smiles)")
        self.activated.connect(self._activated)
        self.set_models([])

    def set_models(self, models: list[ModelEntry]) -> None:
        self.models = list(models)
        self.blockSignals(True)
        self.clear()
        for entry in self.models:
            self._add(entry)
        if not self.models:
            self.addItem(NO_MODEL, "")
        self.blockSignals(False)
        self._fit_list()

    def _fit_list(self) -> None:
        """The open list is as wide as its longest name, even where the closed box elides it."""
        view = self.view()
        view.setMinimumWidth(view.sizeHintForColumn(0) + view.verticalScrollBar().sizeHint().width())

    def _add(self, entry: ModelEntry) -> None:
        self.addItem(entry.label, str(entry.path))
        self.setItemData(self.count() - 1, str(entry.path), Qt.ItemDataRole.ToolTipRole)

    def show_entry(self, entry: ModelEntry | None) -> None:
        """Show ``entry`` as the current model, adding it when it was loaded from elsewhere."""
        if entry is None:
            return
        if all(Path(m.path) != Path(entry.path) for m in self.models):
            if not self.models:
                self.clear()
            self.models.append(entry)
            self._add(entry)
            self._fit_list()
        index = self.findData(str(entry.path))
        if index >= 0:
            self.setCurrentIndex(index)

    def _activated(self, index: int) -> None:
        if 0 <= index < len(self.models):
            self.picked.emit(self.models[index])
