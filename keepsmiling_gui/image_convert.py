"""Conversions between the core's RGB uint8 arrays and Qt images, kept in one place.

QImage does not own numpy memory, so every conversion copies: a pixmap must stay valid after the
array it came from is reused or freed by a worker thread.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QImage, QPixmap


def rgb_to_qimage(rgb: np.ndarray) -> QImage:
    """(H, W, 3) uint8 RGB -> a QImage that owns its pixels."""
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError(f"expected (H, W, 3) uint8 RGB, got {rgb.shape} {rgb.dtype}")
    data = np.ascontiguousarray(rgb)
    height, width = data.shape[:2]
    image = QImage(data.data, width, height, data.strides[0], QImage.Format.Format_RGB888)
    return image.copy()


def rgb_to_pixmap(rgb: np.ndarray) -> QPixmap:
    return QPixmap.fromImage(rgb_to_qimage(rgb))


def qimage_to_rgb(image: QImage) -> np.ndarray:
    """Any QImage -> (H, W, 3) uint8 RGB copy (used to check what the view really shows)."""
    converted = image.convertToFormat(QImage.Format.Format_RGB888)
    height, width = converted.height(), converted.width()
    stride = converted.bytesPerLine()
    buffer = np.frombuffer(converted.constBits(), dtype=np.uint8, count=stride * height)
    return buffer.reshape(height, stride)[:, : width * 3].reshape(height, width, 3).copy()
