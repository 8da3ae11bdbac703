"""Small helpers shared by the GUI tests: real clicks on faces and where a photo changed."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPoint, Qt


def click_face(qtbot, window, index: int) -> None:
    """A real mouse click on the face's centre in the view (hit-testing, item signal, undo command)."""
    centre = window.scene.faces[index].face_rect.center()
    point = window.view.mapFromScene(centre)
    qtbot.mouseClick(window.view.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(point.x(), point.y()))


def changed_box(before: np.ndarray, after: np.ndarray) -> tuple[int, int, int, int] | None:
    """Bounding box (x0, y0, x1, y1) of the pixels that differ; None when none do."""
    ys, xs = np.nonzero((before != after).any(axis=-1))
    if len(xs) == 0:
        return None
    return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1


def inside(box, region) -> bool:
    return box[0] >= region[0] and box[1] >= region[1] and box[2] <= region[2] and box[3] <= region[3]
