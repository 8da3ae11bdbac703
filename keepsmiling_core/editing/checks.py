"""Whether a detected face can be edited at all: the geometry checks every edit backend runs first.

Kept free of torch so the landmark warp (and the CLI that uses it) never pays for importing it.
"""

from __future__ import annotations

import numpy as np

from keepsmiling_core.errors import EditError

MIN_MOUTH_PX = 24.0   # a network crop stretched over a smaller mouth is mostly blur


def face_points(face: object) -> np.ndarray | None:
    """The face's 68 dlib points as float64, or None where there are none to trust (faces from datasets,
    or from detections cached before the 68 points were kept)."""
    points = getattr(face, "points", None)
    if points is None or np.asarray(points).shape != (68, 2) or not np.all(np.isfinite(points)):
        return None
    return np.asarray(points, np.float64)


def check_face(face: object, photo_shape: tuple[int, ...], min_mouth_px: float = MIN_MOUTH_PX) -> None:
    """Raise EditError when the face's geometry does not allow a believable mouth edit."""
    landmarks = getattr(face, "landmarks", None)
    if landmarks is None or np.asarray(landmarks).shape != (5, 2) or not np.all(np.isfinite(landmarks)):
        raise EditError("This face has no usable mouth corners (landmarks missing), so it cannot be edited.")
    pts = np.asarray(landmarks, np.float64)
    left_eye, right_eye, nose, left_mouth, right_mouth = pts
    mouth_w = float(np.linalg.norm(right_mouth - left_mouth))
    if mouth_w < min_mouth_px:
        raise EditError(f"This face is too small to edit: its mouth is {mouth_w:.0f} px wide, at least "
                        f"{min_mouth_px:.0f} px are needed. Use a larger photo or zoom in.")
    height, width = photo_shape[:2]
    centre = (left_mouth + right_mouth) / 2
    if not (0 <= centre[0] < width and 0 <= centre[1] < height):
        raise EditError(f"This face's mouth ({centre[0]:.0f}, {centre[1]:.0f}) lies outside the "
                        f"{width}x{height} photo; it cannot be edited.")
    eye_vec = right_eye - left_eye
    interocular = float(np.linalg.norm(eye_vec))
    if interocular < 1e-3:
        raise EditError("This face looks like a profile (the eyes coincide); only faces turned towards the "
                        "camera can be edited.")
    axis = eye_vec / interocular
    # Position of the nose and of the mouth centre along the eye line: 0 = left eye, 1 = right eye.
    nose_t = float(np.dot(nose - left_eye, axis)) / interocular
    mouth_t = float(np.dot((left_mouth + right_mouth) / 2 - left_eye, axis)) / interocular
    corners_along = float(np.dot(right_mouth - left_mouth, axis))
    eye_mouth = float(np.linalg.norm((left_mouth + right_mouth) / 2 - (left_eye + right_eye) / 2))
    if not (-0.15 <= nose_t <= 1.15 and -0.15 <= mouth_t <= 1.15) or interocular < 0.35 * eye_mouth:
        raise EditError("This face is turned too far to the side (profile); only faces looking roughly "
                        "towards the camera can be edited.")
    if corners_along <= 0.2 * mouth_w:
        raise EditError("This face's mouth corners are implausible (crossed or vertical relative to the eyes); "
                        "it cannot be edited.")
