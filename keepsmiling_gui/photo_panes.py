"""The photo area: the edited photo, and beside it (Side by side) the original, zoomed and panned together.

Either pane leads: zooming or panning one moves the other the same way. Holding Compare (or Space)
hides the edits in the edited pane.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QSplitter, QWidget

from .photo_view import PhotoScene, PhotoView

PLACEHOLDER = "Open a photo (File ▸ Open, Ctrl+O) or drop one here"


class PhotoPanes(QSplitter):
    zoomChanged = Signal(float)  # noqa: N815 - the leading pane's zoom (1.0 = actual pixels)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.scene = PhotoScene(self)
        self.view = PhotoView(self.scene)
        self.view.placeholder = PLACEHOLDER
        self.original_scene = PhotoScene(self)
        self.original_view = PhotoView(self.original_scene)
        self.original_view.setVisible(False)
        self._syncing = False
        for source, target in ((self.view, self.original_view), (self.original_view, self.view)):
            def sync(*_args, s=source, t=target) -> None:
                self.sync(s, t)

            source.horizontalScrollBar().valueChanged.connect(sync)
            source.verticalScrollBar().valueChanged.connect(sync)
            source.zoomChanged.connect(sync)
            source.zoomChanged.connect(self.zoomChanged)
        self.addWidget(self.original_view)
        self.addWidget(self.view)

    def set_photo(self, rgb: np.ndarray) -> None:
        """A new photo in both panes (the original without face markers), fitted to the window."""
        self.scene.set_photo(rgb)
        self.original_scene.set_photo(rgb)
        self.original_scene.set_show_markers(False)
        self.view.fit_photo()
        self.sync()

    def set_split(self, on: bool) -> None:
        self.original_view.setVisible(on)
        self.original_view.set_caption("Original" if on else "")
        self.view.set_caption("Edited" if on else "")
        if on:
            half = max(1, self.width() // 2)
            self.setSizes([half, half])
            self.view.fit_photo()
        self.sync()

    def show_original(self, show: bool) -> None:
        self.scene.set_show_edits(not show)

    def sync(self, source: PhotoView | None = None, target: PhotoView | None = None) -> None:
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
        self.zoomChanged.emit(source.zoom())

    def displayed_image(self) -> np.ndarray:
        """The photo as the edited pane shows it now (edits included, markers excluded), as RGB."""
        return self.scene.render_photo(with_markers=False)
