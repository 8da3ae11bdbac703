"""Opening a photo: File ▸ Open, recent files and drops read it in a worker, show it, and find its faces
in another worker; a photo asked for later wins over one still being read.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QFileDialog, QMessageBox

from .strength import DEFAULT

if TYPE_CHECKING:
    from .main_window import MainWindow

IMAGE_FILTER = "Images (*.jpg *.jpeg *.png *.tif *.tiff *.bmp *.webp);;All files (*)"


class PhotoLoader(QObject):
    def __init__(self, window: MainWindow):
        super().__init__(window)
        self.window = window
        self._loading: Path | None = None

    def open_dialog(self) -> None:
        start = str(self.window.settings.value("paths/open_dir", str(Path.home())))
        path, _ = QFileDialog.getOpenFileName(self.window, "Open a photo", start, IMAGE_FILTER)
        if path:
            self.open_photo(Path(path))

    def open_photo(self, path: Path) -> None:
        """Read the photo in a worker; detection follows once it is on screen."""
        window = self.window
        if not window.save_flow.confirm_discard(then=lambda: self.open_photo(path)):
            return
        from keepsmiling_core.imageio import read_photo

        path = Path(path)
        self._loading = path
        window.notify(f"Opening {path.name}…")
        window.tasks.start(read_photo, path, on_success=self._photo_read,
                           on_failure=lambda text: window.show_error("Cannot open the photo", text))

    def _photo_read(self, photo) -> None:
        if self._loading is not None and Path(photo.path) != self._loading:
            return  # another photo was asked for meanwhile
        window = self.window
        window.screen_render.reset()
        window.screen_render.last_render = None
        window.session.open(photo)
        window.strength_control.set_value(DEFAULT, notify=False)
        window.undo_stack.clear()
        window.panes.set_photo(photo.rgb)
        window.recent.add(photo.path)
        window.settings.set_value("paths/open_dir", str(Path(photo.path).parent))
        window.update_title()
        window.update_actions()
        window.photoLoaded.emit(photo)
        window.notify(f"Finding faces in {photo.path.name} ({photo.size[0]}×{photo.size[1]})…")
        from keepsmiling_core.detection import detect_faces

        rgb = photo.rgb
        window.tasks.start(detect_faces, rgb, on_success=lambda faces: self.faces_found(rgb, faces),
                           on_failure=lambda text: window.show_error("Face detection failed", text))

    def faces_found(self, rgb, faces: list) -> None:
        window, session = self.window, self.window.session
        if session.photo is None or session.photo.rgb is not rgb:
            return
        session.set_faces(faces)
        window.scene.set_faces(session.faces)
        window.update_actions()
        window.facesChanged.emit(len(session.faces))
        if not session.faces:
            text = (f"No faces found in {session.photo.path.name}. Faces must be roughly frontal and at least "
                    "about 80 pixels tall; try a larger or sharper photo.")
            window.notify(text, 20000)
            QMessageBox.information(window, "No faces found", text)
            return
        count = len(session.faces)
        hint = "Click a face to make it smile, or use Smile all." if session.editor is not None else \
            "Pick or train a model to edit them."
        window.notify(f"{count} face{'s' if count != 1 else ''} found. {hint}")

    @staticmethod
    def dropped_path(event) -> Path | None:
        """The first local file of a drag or drop, if any."""
        mime = event.mimeData()
        if not mime.hasUrls():
            return None
        for url in mime.urls():
            if url.isLocalFile():
                return Path(url.toLocalFile())
        return None
