"""Overlay of detections for ``keepsmiling detect --show`` and debugging (OpenCV, no Qt)."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from keepsmiling_core.detection.face import OUTER_LIP_POINTS, Face

BOX_COLOUR = (0, 200, 255)
LANDMARK_COLOURS = [(255, 60, 60), (255, 60, 60), (60, 220, 60), (255, 0, 255), (255, 0, 255)]
MOUTH_COLOUR = (255, 255, 0)


def draw_faces(image: np.ndarray, faces: Sequence[Face]) -> np.ndarray:
    """A copy of ``image`` (RGB uint8) with boxes, the 5 landmarks, lip outlines and face numbers.

    Line widths follow the photo size so the overlay is visible on thumbnails and 12 MP photos alike.
    """
    canvas = np.ascontiguousarray(image.copy())
    thickness = max(1, round(max(canvas.shape[:2]) / 500))
    for index, face in enumerate(faces):
        x0, y0, x1, y1 = (round(v) for v in face.box)
        cv2.rectangle(canvas, (x0, y0), (x1, y1), BOX_COLOUR, thickness, cv2.LINE_AA)
        cv2.putText(
            canvas,
            str(index),
            (x0, max(0, y0 - 3 * thickness)),
            cv2.FONT_HERSHEY_SIMPLEX,
            0.4 * thickness + 0.2,
            BOX_COLOUR,
            thickness,
            cv2.LINE_AA,
        )
        if face.mouth is not None:
            outer = np.round(face.mouth[:OUTER_LIP_POINTS]).astype(np.int32)
            inner = np.round(face.mouth[OUTER_LIP_POINTS:]).astype(np.int32)
            lip_thickness = max(1, min(thickness, round(face.inter_ocular / 40)))
            cv2.polylines(canvas, [outer, inner], True, MOUTH_COLOUR, lip_thickness, cv2.LINE_AA)
        radius = max(2, round(face.inter_ocular / 25))
        for (x, y), colour in zip(face.landmarks, LANDMARK_COLOURS, strict=True):
            cv2.circle(canvas, (round(float(x)), round(float(y))), radius, colour, -1, cv2.LINE_AA)
    return canvas
