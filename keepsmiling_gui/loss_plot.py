"""Live loss curves drawn with QPainter.

PySide6-Essentials ships without QtCharts, and a few hundred points per curve need nothing more than a
polyline: this keeps the app free of an extra plotting dependency.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

PALETTE = [
    QColor(31, 119, 180),
    QColor(255, 127, 14),
    QColor(44, 160, 44),
    QColor(214, 39, 40),
    QColor(148, 103, 189),
    QColor(140, 86, 75),
    QColor(227, 119, 194),
    QColor(127, 127, 127),
]
MAX_POINTS = 2000


def series_colour(index: int) -> QColor:
    """The ``index``-th series' colour: the palette first, then hues a golden angle apart at two
    lightnesses, so no two series of a plot ever share a colour (a SplitGAN logs ten losses)."""
    if index < len(PALETTE):
        return QColor(PALETTE[index])
    extra = index - len(PALETTE)
    hue = (extra * 137.508 + 20.0) % 360.0
    return QColor.fromHslF(hue / 360.0, 0.65, 0.38 if extra % 2 else 0.55)  # older points are thinned so painting stays cheap on long runs


class LossPlot(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.series: dict[str, list[tuple[float, float]]] = {}
        self.colours: dict[str, QColor] = {}  # fixed when a series first appears: colours never move
        self.setMinimumSize(320, 180)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def clear(self) -> None:
        self.series.clear()
        self.colours.clear()
        self.update()

    def add_point(self, step: float, losses: dict[str, float]) -> None:
        for name, value in losses.items():
            if value is None or not math.isfinite(float(value)):
                continue
            if name not in self.colours:
                self.colours[name] = series_colour(len(self.colours))
            points = self.series.setdefault(name, [])
            points.append((float(step), float(value)))
            if len(points) > MAX_POINTS:
                del points[1:-1:2]
        self.update()

    def _bounds(self) -> tuple[float, float, float, float]:
        xs = [x for pts in self.series.values() for x, _ in pts]
        ys = [y for pts in self.series.values() for _, y in pts]
        x0, x1 = min(xs), max(xs)
        y0, y1 = min(ys), max(ys)
        if x1 == x0:
            x1 = x0 + 1
        if y1 == y0:
            y0, y1 = y0 - 0.5, y1 + 0.5
        pad = (y1 - y0) * 0.05
        return x0, x1, y0 - pad, y1 + pad

    def paintEvent(self, event) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), self.palette().base())
        font = QFont(self.font())
        font.setPointSizeF(max(7.0, font.pointSizeF() * 0.85))
        painter.setFont(font)
        metrics = painter.fontMetrics()
        labels = {name: f"{name} {points[-1][1]:.3g}" for name, points in self.series.items() if points}
        legend_width = max((metrics.horizontalAdvance(text) for text in labels.values()), default=0)
        legend_width = legend_width + 24 if labels else 0
        left, right, top, bottom = metrics.horizontalAdvance("-00.000") + 8, 10 + legend_width, 8, metrics.height() + 8
        plot = QRectF(left, top, self.width() - left - right, self.height() - top - bottom)
        text_colour = self.palette().text().color()
        painter.setPen(QPen(text_colour.lighter(200) if text_colour.lightness() < 128 else text_colour, 1))
        painter.drawRect(plot)
        if not any(self.series.values()):
            painter.setPen(text_colour)
            painter.drawText(plot, Qt.AlignmentFlag.AlignCenter, "Loss curves appear when training starts")
            return
        x0, x1, y0, y1 = self._bounds()

        def to_screen(x: float, y: float) -> QPointF:
            return QPointF(
                plot.left() + (x - x0) / (x1 - x0) * plot.width(),
                plot.bottom() - (y - y0) / (y1 - y0) * plot.height(),
            )

        painter.setPen(text_colour)
        for fraction in (0.0, 0.5, 1.0):
            value = y0 + fraction * (y1 - y0)
            y = plot.bottom() - fraction * plot.height()
            painter.drawText(QRectF(0, y - metrics.height() / 2, left - 4, metrics.height()),
                             Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, f"{value:.3g}")
        painter.drawText(QRectF(plot.left(), plot.bottom() + 2, plot.width(), metrics.height()),
                         Qt.AlignmentFlag.AlignLeft, f"step {x0:.0f}")
        painter.drawText(QRectF(plot.left(), plot.bottom() + 2, plot.width(), metrics.height()),
                         Qt.AlignmentFlag.AlignRight, f"step {x1:.0f}")

        legend_x = plot.right() + 10
        legend_y = plot.top()
        for name, points in sorted(self.series.items()):
            colour = self.colours[name]
            path = QPainterPath()
            for i, (x, y) in enumerate(points):
                if i == 0:
                    path.moveTo(to_screen(x, y))
                else:
                    path.lineTo(to_screen(x, y))
            painter.save()
            painter.setClipRect(plot)
            painter.setPen(QPen(colour, 1.6))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawPath(path)
            painter.restore()
            painter.fillRect(QRectF(legend_x, legend_y + (metrics.height() - 10) / 2, 10, 10), colour)
            painter.setPen(text_colour)
            painter.drawText(QRectF(legend_x + 14, legend_y - 2, legend_width, metrics.height() + 6),
                             Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, labels[name])
            legend_y += metrics.height() + 2
