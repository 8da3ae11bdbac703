"""How far a mouth may bend: the range real mouths span, so the slider stops before a grimace.

A shape edit's field can keep lifting the corners long after a real mouth would have stopped: past
strength 1 the shipped SplitGAN's corners kept rising until the lips bent into a U (the top of the upper
lip below the corners) or one corner hooked up towards the nose on a turned face. Neither folds the map,
so the fold limit let them through, and both are what a person sees first. Two measures of the mouth's
bend catch them, in the eye frame (``EyeFrame``) so that roll, size and position drop out:

- **corner lift**: the angle of each mouth corner (dlib points 48 and 54) above the middle of the lips'
  meeting line (points 62 and 66), over half the mouth's width, in degrees; a neutral mouth reads
  about 1°, a typical smile 12°;
- **lip sag**: how far the top of the upper lip (point 51) lies below the line between the corners, in
  mouth widths; a smile reads about −0.05 (the lip's top above its corners), a U-shaped mouth above 0.09.

``REAL_MOUTHS`` holds the range of both over real faces: the 1st percentile of non-smiling faces to the
99th of smiling ones, on GENKI-4K-dev's judge part (537 smiling and 449 non-smiling faces with dlib's 68
points; ``scripts/measure_mouth_range.py`` measures it again). An edit may move a measure anywhere inside
that range, and may not push it further out: a face that starts beyond it (a grin already) stays editable
in the direction that brings it back.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from keepsmiling_core.editing.smile_shape import EyeFrame

LEFT_CORNER, RIGHT_CORNER, UPPER_LIP_TOP, INNER_TOP, INNER_BOTTOM = 48, 54, 51, 62, 66


@dataclass(frozen=True)
class MouthBend:
    """The two bend measures of one 68-point face."""

    corner_lift: tuple[float, float]   # degrees, image-left and image-right corner; + = above the middle
    lip_sag: float                     # mouth widths; + = the upper lip's top below the corners' line

    @classmethod
    def of(cls, points: np.ndarray) -> MouthBend:
        frame = EyeFrame.of(points).to_frame(points)
        middle = (frame[INNER_TOP] + frame[INNER_BOTTOM]) / 2
        width = max(float(np.linalg.norm(frame[RIGHT_CORNER] - frame[LEFT_CORNER])), 1e-6)
        # Each corner's rise is read against half the mouth's whole width, not against its own half: on a
        # turned face the far half is foreshortened, and its own width would make its corner look steep.
        lifts = tuple(float(np.degrees(np.arctan2(middle[1] - frame[corner][1], width / 2)))   # frame y points down
                      for corner in (LEFT_CORNER, RIGHT_CORNER))
        chord = (frame[LEFT_CORNER] + frame[RIGHT_CORNER]) / 2
        return cls(corner_lift=lifts, lip_sag=float(frame[UPPER_LIP_TOP][1] - chord[1]) / width)


@dataclass(frozen=True)
class MouthRange:
    """The bends real mouths span (see the module's docstring for where the figures come from)."""

    corner_lift: tuple[float, float] = (-16.9, 23.6)
    lip_sag: tuple[float, float] = (-0.36, 0.09)

    def allows(self, before: MouthBend, after: MouthBend) -> bool:
        """Whether ``after`` lies inside the range, or no further outside it than ``before`` did."""
        pairs = [*zip(before.corner_lift, after.corner_lift, strict=True), (before.lip_sag, after.lip_sag)]
        bounds = [self.corner_lift, self.corner_lift, self.lip_sag]
        return all(_no_further_out(a, b, bound) for (b, a), bound in zip(pairs, bounds, strict=True))


REAL_MOUTHS = MouthRange()


def _no_further_out(after: float, before: float, bound: tuple[float, float]) -> bool:
    low, high = bound
    return min(low, before) <= after <= max(high, before)


def moved_by_backward_map(points: np.ndarray, source_map: np.ndarray, steps: int = 20) -> np.ndarray:
    """Where points of the photo land under a backward map (``source_map``: (H, W, 2) float32, the pixel
    each output pixel samples, as ``cv2.remap`` reads it; ``points`` in the same pixel frame): the p with
    source_map(p) = point, by fixed-point steps p <- point - (source_map(p) - p). Only the map's values
    at the points are read, so this costs nothing next to the map itself; outside the map nothing moves
    (an editor's map is the identity at its region's border)."""
    points = np.asarray(points, np.float32)
    height, width = source_map.shape[:2]
    at = points.copy()
    for _ in range(steps):
        offset = cv2.remap(source_map, at[None, :, 0], at[None, :, 1], cv2.INTER_LINEAR,
                           borderMode=cv2.BORDER_REPLICATE)[0] - at
        offset[(at[:, 0] < 0) | (at[:, 0] > width - 1) | (at[:, 1] < 0) | (at[:, 1] > height - 1)] = 0
        at = points - offset
    return at.astype(np.float64)


def bends_like_real_mouths(points: np.ndarray, source_map: np.ndarray, origin: tuple[int, int]) -> bool:
    """Whether the edit whose backward map is ``source_map`` ((H, W, 2) region pixels each output pixel
    samples; ``origin``: the region's top-left in the photo) keeps the face's mouth (``points``: the 68
    photo points) within ``REAL_MOUTHS``: what both shape editors ask before a strength is allowed."""
    at = np.asarray(origin, np.float64)
    moved = moved_by_backward_map(points - at, source_map) + at
    return REAL_MOUTHS.allows(MouthBend.of(points), MouthBend.of(moved))
