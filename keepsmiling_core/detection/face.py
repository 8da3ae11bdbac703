"""The ``Face`` record every part of KeepSmiling passes around, and the 68 → 5 landmark mapping.

The datasets (MTFL, CelebA) annotate five points, so the crop math and the models speak in those
five; dlib's 68-point model is richer, so we reduce it here, once, and keep the 20 mouth points
for drawing the mouth outline and shaping the paste-back mask.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# dlib's 68-point (iBUG 300-W) indices.
LEFT_EYE = slice(36, 42)  # image-left eye (the person's right eye)
RIGHT_EYE = slice(42, 48)
NOSE_TIP = 30
LEFT_MOUTH_CORNER = 48
RIGHT_MOUTH_CORNER = 54
MOUTH = slice(48, 68)  # 12 outer-lip points, then 8 inner-lip points
OUTER_LIP_POINTS = 12


def lip_opening(mouth: np.ndarray) -> np.ndarray:
    """How far the lips are apart: the mean distance of the facing inner-lip points (61-63 against
    67-65) over the mouth's width (48 to 54). ``mouth``: (..., 20, 2) points 48..67, as ``Face.mouth``;
    one value per mouth. Used to pick toothy smiles and the open mouths the mouth fill learns from."""
    mouth = np.asarray(mouth, np.float64)
    gap = np.linalg.norm(mouth[..., [13, 14, 15], :] - mouth[..., [19, 18, 17], :], axis=-1).mean(axis=-1)
    width = np.linalg.norm(mouth[..., 6, :] - mouth[..., 0, :], axis=-1)
    return gap / np.maximum(width, 1e-6)


@dataclass(frozen=True, eq=False)
class Face:
    """One detected face in photo pixel coordinates (EXIF orientation already applied).

    ``eq=False``: faces hold arrays, so identity is the only meaningful equality (and keeps them hashable).
    """

    box: tuple[float, float, float, float]  # x0, y0, x1, y1 in photo pixels
    landmarks: np.ndarray  # (5, 2) float32, dataset order
    mouth: np.ndarray | None  # (20, 2) float32: dlib points 48..67, outer lip then inner
    score: float
    points: np.ndarray | None = None  # (68, 2) float32: all of dlib's points (jaw, brows, nose, eyes,
                                      # mouth), the shape the landmark warp moves; None for datasets

    @property
    def inter_ocular(self) -> float:
        """Distance between the eye centres: the natural scale of a face."""
        return float(np.linalg.norm(self.landmarks[1] - self.landmarks[0]))

    def to_json(self) -> dict:
        """Plain JSON types (0.01 px precision is far below the detector's accuracy)."""
        return {
            "box": [round(float(v), 2) for v in self.box],
            "landmarks": _points_json(self.landmarks),
            "mouth": None if self.mouth is None else _points_json(self.mouth),
            "score": round(float(self.score), 4),
            "points": None if self.points is None else _points_json(self.points),
        }

    @classmethod
    def from_json(cls, data: dict) -> Face:
        """Inverse of ``to_json``, so front ends can cache detections."""
        mouth = data.get("mouth")
        points = data.get("points")
        return cls(
            box=tuple(float(v) for v in data["box"]),
            landmarks=np.asarray(data["landmarks"], dtype=np.float32).reshape(5, 2),
            mouth=None if mouth is None else np.asarray(mouth, dtype=np.float32).reshape(20, 2),
            score=float(data.get("score", 0.0)),
            points=None if points is None else np.asarray(points, dtype=np.float32).reshape(68, 2),
        )


def five_points_from_68(points: np.ndarray) -> np.ndarray:
    """Dataset-order landmarks (left eye, right eye, nose, left/right mouth corner) from dlib's 68."""
    points = np.asarray(points, dtype=np.float64)
    five = np.stack(
        [
            points[LEFT_EYE].mean(axis=0),
            points[RIGHT_EYE].mean(axis=0),
            points[NOSE_TIP],
            points[LEFT_MOUTH_CORNER],
            points[RIGHT_MOUTH_CORNER],
        ]
    )
    return five.astype(np.float32)


def mouth_points_from_68(points: np.ndarray) -> np.ndarray:
    return np.asarray(points, dtype=np.float32)[MOUTH].copy()


def _points_json(points: np.ndarray) -> list[list[float]]:
    return [[round(float(x), 2), round(float(y), 2)] for x, y in points]
