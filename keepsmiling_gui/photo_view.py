"""The photo on screen: zoomable, pannable, with each detected face drawn as a clickable item.

The original photo is one pixmap; each edited face is a small pixmap laid over it at the face's
touched region, so a slider move only converts and repaints a patch, not the whole photo. Showing the
original (hold to compare) simply hides those patches.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QPainter, QPainterPath, QPen, QPolygonF, QWheelEvent
from PySide6.QtWidgets import (
    QGraphicsObject,
    QGraphicsPixmapItem,
    QGraphicsScene,
    QGraphicsView,
    QStyleOptionGraphicsItem,
    QWidget,
)

from .image_convert import qimage_to_rgb, rgb_to_pixmap

NORMAL = QColor(255, 214, 10)
HOVER = QColor(0, 200, 255)
SELECTED = QColor(40, 220, 90)
BLOCKED = QColor(235, 60, 60)


def mouth_polygon(landmarks: np.ndarray, mouth: np.ndarray | None) -> QPolygonF:
    """The outer lip line when the detector found it, otherwise a box spanned by the two mouth corners."""
    if mouth is not None and len(mouth) >= 12:
        return QPolygonF([QPointF(float(x), float(y)) for x, y in mouth[:12]])
    (lx, ly), (rx, ry) = landmarks[3], landmarks[4]
    width = float(np.hypot(rx - lx, ry - ly))
    half = 0.3 * width
    cy = (ly + ry) / 2
    x0, x1 = min(lx, rx), max(lx, rx)
    return QPolygonF(QRectF(x0, cy - half, x1 - x0, 2 * half))


class FaceItem(QGraphicsObject):
    """One detected face: outline, mouth outline, five landmarks; hover highlights, a click reports it.

    A smiling face keeps its own strength; the face(s) the slider drives are ``focused`` and drawn
    with a double outline, so it is clear which smile the slider changes."""

    clicked = Signal(int)

    def __init__(self, index: int, box, landmarks: np.ndarray, mouth: np.ndarray | None):
        super().__init__()
        self.index = index
        x0, y0, x1, y1 = (float(v) for v in box)
        self._box = QRectF(x0, y0, x1 - x0, y1 - y0)
        self._landmarks = np.asarray(landmarks, dtype=np.float32)
        self._mouth = mouth_polygon(self._landmarks, mouth)
        self.selected = False
        self.focused = False
        self.strength: float | None = None  # its own smile strength while selected
        self.hovered = False
        self.blocked_reason: str | None = None
        self._press_pos: QPointF | None = None
        self.setAcceptHoverEvents(True)
        self.setAcceptedMouseButtons(Qt.MouseButton.LeftButton)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setZValue(2)
        self._update_tooltip()

    # geometry -------------------------------------------------------------------------------------
    @property
    def face_rect(self) -> QRectF:
        return QRectF(self._box)

    @property
    def mouth_rect(self) -> QRectF:
        return self._mouth.boundingRect()

    def _pen_width(self) -> float:
        return max(1.5, min(self._box.width(), self._box.height()) / 90)

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt override
        rect = self._box.united(self._mouth.boundingRect())
        for x, y in self._landmarks:
            rect = rect.united(QRectF(float(x) - 1, float(y) - 1, 2, 2))
        margin = 5 * self._pen_width() + 2  # room for the focus outline
        return rect.adjusted(-margin, -margin, margin, margin)

    def shape(self) -> QPainterPath:
        path = QPainterPath()
        path.addRect(self._box)
        return path

    # state ----------------------------------------------------------------------------------------
    def set_selected(self, selected: bool) -> None:
        self.selected = selected
        self._update_tooltip()
        self.update()

    def set_edit(self, strength: float | None, focused: bool) -> None:
        """Show the face smiling at ``strength`` (None: left as it was), and whether the slider drives it."""
        self.selected = strength is not None
        self.strength = strength
        self.focused = focused and self.selected
        self._update_tooltip()
        self.update()

    def set_blocked(self, reason: str | None) -> None:
        """Mark a face that cannot be edited; the reason shows as its tooltip."""
        self.blocked_reason = reason
        self._update_tooltip()
        self.update()

    def _update_tooltip(self) -> None:
        if self.blocked_reason:
            self.setToolTip(f"Face {self.index + 1} cannot be edited: {self.blocked_reason}")
        elif self.selected and self.focused:
            at = f" at strength {self.strength:.2f}" if self.strength is not None else ""
            self.setToolTip(f"Face {self.index + 1}: smiling{at}; the slider sets it. "
                            "Click again to leave it as it was.")
        elif self.selected:
            at = f" at strength {self.strength:.2f}" if self.strength is not None else ""
            self.setToolTip(f"Face {self.index + 1}: smiling{at}. Click to set its strength with the slider.")
        else:
            self.setToolTip(f"Face {self.index + 1}: click to make it smile.")

    def colour(self) -> QColor:
        if self.blocked_reason:
            return BLOCKED
        if self.hovered:
            return HOVER
        return SELECTED if self.selected else NORMAL

    # painting and events ---------------------------------------------------------------------------
    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        colour = self.colour()
        width = self._pen_width() * (1.6 if self.hovered or self.selected else 1.0)
        pen = QPen(colour, width)
        if self.blocked_reason:
            pen.setStyle(Qt.PenStyle.DashLine)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)  # outlines only: a fill would tint the edit being judged
        painter.drawRoundedRect(self._box, 4, 4)
        if self.focused:
            gap = 2 * width
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(self._box.adjusted(-gap, -gap, gap, gap), 6, 6)
        if self.selected and not self.hovered:
            return  # keep the edited mouth in clear view; hovering shows the landmarks again
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.setPen(QPen(colour, max(1.0, width * 0.6)))
        painter.drawPolygon(self._mouth)
        radius = max(1.5, self._pen_width() * 1.2)
        painter.setBrush(QBrush(colour))
        painter.setPen(QPen(QColor(0, 0, 0, 160), max(0.5, radius / 3)))
        for x, y in self._landmarks:
            painter.drawEllipse(QPointF(float(x), float(y)), radius, radius)

    def hoverEnterEvent(self, event) -> None:  # noqa: N802
        self.hovered = True
        self.update()

    def hoverLeaveEvent(self, event) -> None:  # noqa: N802
        self.hovered = False
        self.update()

    def mousePressEvent(self, event) -> None:  # noqa: N802
        self._press_pos = event.scenePos()
        event.accept()

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802
        start, self._press_pos = self._press_pos, None
        if start is not None and (event.scenePos() - start).manhattanLength() < 6:
            self.clicked.emit(self.index)
        event.accept()


class PhotoScene(QGraphicsScene):
    """The photo, its per-face edited patches and the face items, in photo pixel coordinates."""

    faceClicked = Signal(int)  # noqa: N815 - Qt naming

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setBackgroundBrush(QColor(40, 40, 44))
        self.photo_item: QGraphicsPixmapItem | None = None
        self.faces: list[FaceItem] = []
        self.patches: dict[int, QGraphicsPixmapItem] = {}
        self._show_edits = True
        self._show_markers = True

    def set_photo(self, rgb: np.ndarray | None) -> None:
        self.clear()
        self.faces = []
        self.patches = {}
        self.photo_item = None
        if rgb is None:
            return
        self.photo_item = self.addPixmap(rgb_to_pixmap(rgb))
        self.photo_item.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
        self.photo_item.setZValue(0)
        self.setSceneRect(QRectF(0, 0, rgb.shape[1], rgb.shape[0]))

    def set_faces(self, faces) -> None:
        for item in self.faces:
            self.removeItem(item)
        self.faces = []
        for index, face in enumerate(faces):
            item = FaceItem(index, face.box, face.landmarks, face.mouth)
            item.clicked.connect(self.faceClicked)
            item.setVisible(self._show_markers)
            self.addItem(item)
            self.faces.append(item)

    def set_patch(self, index: int, x0: int, y0: int, patch: np.ndarray) -> None:
        """Show ``patch`` (RGB) over the photo with its top-left corner at (x0, y0)."""
        item = self.patches.get(index)
        pixmap = rgb_to_pixmap(patch)
        if item is None:
            item = self.addPixmap(pixmap)
            item.setZValue(1)
            self.patches[index] = item
        else:
            item.setPixmap(pixmap)
        item.setPos(x0, y0)
        item.setVisible(self._show_edits)

    def clear_patch(self, index: int) -> None:
        item = self.patches.pop(index, None)
        if item is not None:
            self.removeItem(item)

    def clear_patches(self) -> None:
        for index in list(self.patches):
            self.clear_patch(index)

    def set_show_edits(self, show: bool) -> None:
        self._show_edits = show
        for item in self.patches.values():
            item.setVisible(show)

    def set_show_markers(self, show: bool) -> None:
        self._show_markers = show
        for item in self.faces:
            item.setVisible(show)

    def render_photo(self, with_markers: bool = False) -> np.ndarray:
        """What the photo area shows, at photo resolution, as RGB (markers off unless asked)."""
        from PySide6.QtGui import QImage

        rect = self.sceneRect()
        image = QImage(int(rect.width()), int(rect.height()), QImage.Format.Format_RGB888)
        image.fill(QColor(0, 0, 0))
        markers = self._show_markers
        self.set_show_markers(with_markers)
        painter = QPainter(image)
        self.render(painter, QRectF(image.rect()), rect)
        painter.end()
        self.set_show_markers(markers)
        return qimage_to_rgb(image)


class PhotoView(QGraphicsView):
    """Wheel zooms around the cursor, dragging the background pans, a double click fits the photo."""

    zoomChanged = Signal(float)  # noqa: N815

    MIN_ZOOM = 0.02
    MAX_ZOOM = 40.0

    def __init__(self, scene: QGraphicsScene, parent: QWidget | None = None):
        super().__init__(scene, parent)
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.SmoothPixmapTransform)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        self.setAcceptDrops(False)  # drops are handled by the main window
        self.setFrameShape(QGraphicsView.Shape.NoFrame)
        self._fitted = True
        self.caption = ""  # e.g. "Original" / "Edited" in the side-by-side split

    def set_caption(self, text: str) -> None:
        self.caption = text
        self.viewport().update()

    placeholder = ""  # shown while the scene holds no photo

    def drawForeground(self, painter: QPainter, rect: QRectF) -> None:  # noqa: N802
        scene = self.scene()
        if self.placeholder and isinstance(scene, PhotoScene) and scene.photo_item is None:
            painter.save()
            painter.resetTransform()
            painter.setPen(QColor(200, 200, 205))
            painter.drawText(QRectF(self.viewport().rect()), Qt.AlignmentFlag.AlignCenter, self.placeholder)
            painter.restore()
        if not self.caption:
            return
        painter.save()
        painter.resetTransform()
        metrics = painter.fontMetrics()
        box = QRectF(8, 8, metrics.horizontalAdvance(self.caption) + 16, metrics.height() + 8)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(0, 0, 0, 150))
        painter.drawRoundedRect(box, 4, 4)
        painter.setPen(QColor(255, 255, 255))
        painter.drawText(box, Qt.AlignmentFlag.AlignCenter, self.caption)
        painter.restore()

    def zoom(self) -> float:
        return self.transform().m11()

    def zoom_by(self, factor: float) -> None:
        target = min(self.MAX_ZOOM, max(self.MIN_ZOOM, self.zoom() * factor))
        factor = target / self.zoom()
        if abs(factor - 1) > 1e-6:
            self.scale(factor, factor)
            self._fitted = False
            self.zoomChanged.emit(self.zoom())

    def fit_photo(self) -> None:
        rect = self.sceneRect()
        if rect.isEmpty():
            return
        self.fitInView(rect, Qt.AspectRatioMode.KeepAspectRatio)
        self._fitted = True
        self.zoomChanged.emit(self.zoom())

    def actual_size(self) -> None:
        self.resetTransform()
        self._fitted = False
        self.zoomChanged.emit(self.zoom())

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802
        steps = event.angleDelta().y() / 120
        if steps:
            self.zoom_by(1.15**steps)
        event.accept()

    def mouseDoubleClickEvent(self, event) -> None:  # noqa: N802
        item = self.itemAt(event.position().toPoint())
        if not isinstance(item, FaceItem):
            self.fit_photo()
        super().mouseDoubleClickEvent(event)

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        if self._fitted:
            self.fit_photo()

