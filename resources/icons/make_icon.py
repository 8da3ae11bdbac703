"""Draw the app icon (resources/icons/keepsmiling.png): ``.venv/bin/python resources/icons/make_icon.py``."""

from pathlib import Path

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QGuiApplication, QImage, QPainter, QPen

SIZE = 256


def draw() -> QImage:
    image = QImage(SIZE, SIZE, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    p = QPainter(image)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setPen(QPen(QColor(120, 80, 0), 8))
    p.setBrush(QBrush(QColor(255, 205, 40)))
    p.drawEllipse(QRectF(12, 12, SIZE - 24, SIZE - 24))
    p.setBrush(QBrush(QColor(60, 40, 10)))
    p.setPen(Qt.PenStyle.NoPen)
    p.drawEllipse(QPointF(SIZE * 0.36, SIZE * 0.38), 16, 22)
    p.drawEllipse(QPointF(SIZE * 0.64, SIZE * 0.38), 16, 22)
    p.setPen(QPen(QColor(60, 40, 10), 14, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
    p.setBrush(Qt.BrushStyle.NoBrush)
    p.drawArc(QRectF(SIZE * 0.25, SIZE * 0.30, SIZE * 0.5, SIZE * 0.45), -20 * 16, -140 * 16)
    p.end()
    return image


if __name__ == "__main__":
    app = QGuiApplication([])
    out = Path(__file__).with_name("keepsmiling.png")
    draw().save(str(out))
    print(f"wrote {out}")
