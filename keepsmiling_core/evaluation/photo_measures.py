"""What a person sees in a finished photo, as numbers a pasted blob cannot satisfy.

Each measure compares the photo before and after an edit, in the photo's own pixels and at its native
resolution, in regions defined by the face's 68 points — never by the edit itself, so every editor is
measured on the same pixels:
- *sharpness kept*: variance of the Laplacian inside the mouth area, after ÷ before (a 64² crop
  stretched over a large mouth drops it well below 1; moving the photo's own pixels keeps it near 1);
- *stains*: CIEDE2000 between the mean CIELAB colours of the skin ring around the lips (cheeks,
  philtrum, chin, nose wings; lips and mouth interior excluded), over the whole ring and in its worst
  sixth, so a stain beside the nose is not averaged away by clean cheeks;
- *untouched elsewhere*: the share of pixels outside the face's edit region that are byte-identical;
- *lips parted*: the gap between the inner lips, as dlib's 68 points read it on the finished photo, in
  mouth widths. 82 % of GENKI's smiling evaluation faces part their lips by at least ``LIPS_PARTED``, and
  the face judge calls only 68 % of the closed-lip real smiles smiling (``evaluate-photos`` reports
  both), so this says whether an edit's shape could reach the success target at all;
- *teeth detail*: where the lips are parted, the fine detail between the inner lips (read back by dlib)
  over that of the skin around the mouth (``compositing.detail``): real smiles are the reference, and a
  blurred or flat row of teeth on a sharp face reads well below them.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from skimage.color import deltaE_ciede2000

from keepsmiling_core.compositing.detail import laplacian_variance

OUTER_LIP = list(range(48, 60))
# Lower-face outline: jaw from cheekbone to cheekbone, then back over the nose wings (raised by
# ``WING_LIFT`` inter-ocular distances, so the wings themselves are in) and under the nose tip.
JAW_OUTLINE = list(range(1, 16))
WING_LIFT = 0.15
RING_SECTORS = 6
LIP_MARGIN = 0.25     # lips dilated by this share of the mouth's width: a moved corner stays excluded
MOUTH_MARGIN = 0.15   # the sharpness area: lips plus this share of the mouth's width
LIPS_PARTED = 0.10    # inner-lip gap, in mouth widths, from which a mouth shows its teeth or its inside


@dataclass(frozen=True)
class FaceAreas:
    """Boolean masks over a box of the photo, from one face's 68 points."""

    box: tuple[int, int, int, int]    # x0, y0, x1, y1 in photo pixels
    mouth: np.ndarray                 # lips and a thin margin: where sharpness is measured
    ring: np.ndarray                  # skin around the lips: where stains are measured
    sectors: np.ndarray               # (H, W) int: the ring's angular sector (-1 outside the ring)


def mouth_width(points: np.ndarray) -> float:
    return float(np.linalg.norm(np.asarray(points)[54] - np.asarray(points)[48]))


def points_read_back(photo: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
    """dlib's 68 points (photo pixels) found on ``photo`` inside the face's detection ``box`` — the same
    box before and after an edit, so only the pixels decide where the points land. They read the
    mouth's shape, not its realism: a white bar over the lips reads as parted lips too, which the sheets
    and the sharpness and ring measures catch. (dlib's shape prior also shrinks a move: it reads about
    80 % of the landmark warp's corner move.)"""
    from keepsmiling_core.detection.detector import landmarks_in_box

    return landmarks_in_box(photo, box)


def lips_parting(photo: np.ndarray, box: tuple[float, float, float, float]) -> float:
    """The inner lips' mean gap over the mouth's width (0 when closed), read back by dlib's points."""
    from keepsmiling_core.editing.smile_shape import lip_opening

    return lip_opening(points_read_back(photo, box))


def face_areas(points: np.ndarray, photo_shape: tuple[int, ...]) -> FaceAreas:
    """Masks of the mouth area and the skin ring of a face (68 photo points) inside a tight box."""
    points = np.asarray(points, np.float64)
    width = max(mouth_width(points), 2.0)
    eyes = points[42:48].mean(axis=0) - points[36:42].mean(axis=0)
    up = np.array([eyes[1], -eyes[0]])   # perpendicular to the eye line, towards the brows
    outline = np.concatenate([points[JAW_OUTLINE], [points[35] + WING_LIFT * up, points[33],
                                                    points[31] + WING_LIFT * up]])
    height_px, width_px = photo_shape[:2]
    lo = np.floor(np.minimum(outline.min(axis=0), points[OUTER_LIP].min(axis=0)) - 2).astype(int)
    hi = np.ceil(np.maximum(outline.max(axis=0), points[OUTER_LIP].max(axis=0)) + 3).astype(int)
    x0, y0 = max(0, lo[0]), max(0, lo[1])
    x1, y1 = min(width_px, hi[0]), min(height_px, hi[1])
    shape = (max(1, y1 - y0), max(1, x1 - x0))
    offset = np.array([x0, y0])

    def polygon(pts: np.ndarray) -> np.ndarray:
        mask = np.zeros(shape, np.uint8)
        cv2.fillPoly(mask, [np.round((pts - offset) * 16).astype(np.int32)], 1, lineType=cv2.LINE_8, shift=4)
        return mask

    def dilated(mask: np.ndarray, radius: float) -> np.ndarray:
        r = max(1, int(round(radius)))
        return cv2.dilate(mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1)))

    lips = polygon(points[OUTER_LIP])
    mouth = dilated(lips, MOUTH_MARGIN * width).astype(bool)
    ring = polygon(outline).astype(bool) & ~dilated(lips, LIP_MARGIN * width).astype(bool)
    centre = (points[48] + points[54]) / 2 - offset
    ys, xs = np.mgrid[0:shape[0], 0:shape[1]]
    angle = np.arctan2(ys - centre[1], xs - centre[0])
    sectors = np.floor((angle + np.pi) / (2 * np.pi) * RING_SECTORS).astype(int) % RING_SECTORS
    sectors[~ring] = -1
    return FaceAreas(box=(x0, y0, x1, y1), mouth=mouth, ring=ring, sectors=sectors)


def _cut(photo: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    x0, y0, x1, y1 = box
    return photo[y0:y1, x0:x1]


def sharpness_kept(before: np.ndarray, after: np.ndarray, areas: FaceAreas) -> float:
    """Laplacian variance in the mouth area after ÷ before (1 = as sharp as the photo)."""
    reference = laplacian_variance(_cut(before, areas.box), areas.mouth)
    if reference <= 1e-6:
        return float("nan")   # a flat mouth area: sharpness cannot be judged
    return laplacian_variance(_cut(after, areas.box), areas.mouth) / reference


def _lab(image: np.ndarray) -> np.ndarray:
    """CIELAB (D65, L 0..100) like skimage's rgb2lab, at OpenCV's speed."""
    return cv2.cvtColor(np.ascontiguousarray(image).astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab)


def ring_delta_e(before: np.ndarray, after: np.ndarray, areas: FaceAreas) -> tuple[float, float]:
    """(whole ring, worst sector) CIEDE2000 between mean skin colours before and after."""
    if not areas.ring.any():
        return float("nan"), float("nan")
    lab_before, lab_after = _lab(_cut(before, areas.box)), _lab(_cut(after, areas.box))

    def delta(mask: np.ndarray) -> float:
        return float(deltaE_ciede2000(lab_before[mask].mean(axis=0).astype(np.float64),
                                      lab_after[mask].mean(axis=0).astype(np.float64)))

    whole = delta(areas.ring)
    minimum = max(4, int(0.05 * areas.ring.sum()))   # a sliver at the photo's edge says nothing
    sectors = [delta(areas.sectors == s) for s in range(RING_SECTORS) if (areas.sectors == s).sum() >= minimum]
    return whole, max(sectors, default=whole)


def untouched_share(before: np.ndarray, after: np.ndarray, region: tuple[int, int, int, int]) -> float:
    """Share of the pixels outside the edit's region that are byte-identical to the input (1.0 = all)."""
    same = np.all(before == after, axis=2)
    x0, y0, x1, y1 = region
    outside = np.ones(same.shape, bool)
    outside[y0:y1, x0:x1] = False
    total = int(outside.sum())
    return 1.0 if total == 0 else float(same[outside].sum()) / total
