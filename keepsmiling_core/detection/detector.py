"""``detect_faces``: every frontal face in a photo with its 5 dataset landmarks and mouth outline.

The HOG detector's cost grows with the pixel count and it only sees faces of at least ~80 px, so
it runs on a copy scaled to at most ``max_side`` (12 MP phone photos: ~150 ms instead of seconds)
and, for small photos, on a 2× upsampled pyramid. The shape predictor then runs on the
full-resolution photo with the rectangle mapped back, so landmarks keep full precision.

HOG detections with a low score are confirmed by dlib's CNN (MMOD) face detector on a small crop
around them: scores alone cannot separate weak true faces from face-like texture (the sample
portrait's mission patch scores 0.0–0.15 depending on the crop, as do ~3 % of real MTFL faces),
while the CNN rejects the patch and confirmed 48 of 49 such MTFL faces. Running the CNN on the whole
photo instead would cost seconds per photo on a CPU; on one 160 px crop it costs ~0.1 s.
"""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np

from keepsmiling_core.detection.face import Face, five_points_from_68, mouth_points_from_68
from keepsmiling_core.detection.models import dlib_module, face_detector, face_verifier, shape_predictor

# Below this long side (after any downscaling) the detector also looks at a 2× upsampled image.
# MTFL-sized photos (150–250 px) fall below; a 512 px portrait does not (upsampling it costs 4× and
# brings false positives on clothing patterns at low scores).
UPSAMPLE_BELOW = 400
# HOG detections scoring below MIN_SCORE are dropped; those below VERIFY_BELOW are kept only when the
# CNN detector also finds a face in a VERIFY_SIDE px crop around them (the face then spans ~90 px,
# comfortably above the CNN's ~80 px minimum).
MIN_SCORE = 0.0
VERIFY_BELOW = 0.3
VERIFY_SIDE = 160
VERIFY_CONTEXT = 1.8  # crop side relative to the box side
# A face that fills the frame (a tight portrait crop, an avatar) leaves the HOG window no margin: its
# score drops below zero or it is not found at all. Only when the first pass finds nothing, the photo is
# padded by BORDER_FRACTION of its long side (mirrored edges) on every side and searched again down to
# BORDER_MIN_SCORE; the CNN still confirms every detection below VERIFY_BELOW, which keeps false alarms out.
# Only faces at least BORDER_MIN_FACE of the photo's shorter side are taken from that pass: it is meant for
# faces that fill the frame, and the low threshold would otherwise also accept a small, half-hidden face the
# plain pass rightly skips (the camera man of scikit-image's sample scores -0.46 there).
# Measured on the first 300 MTFL test faces (150 px AFLW crops): misses 29 -> 7; GENKI-4K-dev photos with a
# face 95.5 -> 98.3 % (benchmarks/detection_coverage.py); the common path (a face found at once) is unchanged.
BORDER_FRACTION = 0.25
BORDER_MIN_SCORE = -0.5
BORDER_MIN_FACE = 0.4


def detect_faces(
    image: np.ndarray,
    max_side: int = 1600,
    *,
    upsample: int | None = None,
    min_score: float = MIN_SCORE,
    verify: bool = True,
    border_retry: bool = True,
) -> list[Face]:
    """Faces in ``image`` (RGB uint8, or 2-D grayscale), sorted left to right by box centre.

    ``upsample`` overrides the automatic choice (0 or 1 for photos below ``UPSAMPLE_BELOW`` px)
    of how many times dlib doubles the image to find faces smaller than ~80 px; ``min_score`` is the
    detector confidence (SVM margin) a face needs; ``verify=False`` skips the CNN confirmation of
    low-scoring faces (faster, more false alarms); ``border_retry=False`` skips the padded second pass
    for frame-filling faces (see ``BORDER_FRACTION``).
    Raises ``DetectionError`` when dlib or its model is unavailable.
    """
    if border_retry:
        return _detect_with_border_retry(image, max_side, upsample, min_score, verify)
    rgb = _as_rgb(image)
    height, width = rgb.shape[:2]
    shape_predictor()   # loaded up front (cached): a missing model fails before any detection work
    detector = face_detector()

    scale = min(1.0, float(max_side) / max(height, width)) if max_side else 1.0
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    if scale < 1.0:
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        gray = cv2.resize(gray, size, interpolation=cv2.INTER_AREA)
        scale_x, scale_y = size[0] / width, size[1] / height
    else:
        scale_x = scale_y = 1.0
    if upsample is None:
        upsample = 1 if max(gray.shape) < UPSAMPLE_BELOW else 0

    rects, scores, _ = detector.run(gray, int(upsample), float(min_score))
    faces = []
    for rect, score in zip(rects, scores, strict=True):
        # dlib rectangles are inclusive pixel indices; map pixel edges back to the full photo.
        x0, y0 = rect.left() / scale_x, rect.top() / scale_y
        x1, y1 = (rect.right() + 1) / scale_x, (rect.bottom() + 1) / scale_y
        if verify and score < VERIFY_BELOW and not _confirmed_by_cnn(rgb, (x0, y0, x1, y1)):
            continue
        points = landmarks_in_box(rgb, (x0, y0, x1, y1))
        box = (
            float(np.clip(x0, 0, width)),
            float(np.clip(y0, 0, height)),
            float(np.clip(x1, 0, width)),
            float(np.clip(y1, 0, height)),
        )
        faces.append(
            Face(
                box=box,
                landmarks=five_points_from_68(points),
                mouth=mouth_points_from_68(points),
                score=float(score),
                points=points.astype(np.float32),
            )
        )
    faces.sort(key=lambda face: (face.box[0] + face.box[2], face.box[1] + face.box[3]))
    return faces


def landmarks_in_box(rgb: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
    """dlib's 68 points (photo pixels, float64) of the face in ``box`` (x0, y0, x1, y1: pixel edges)."""
    x0, y0, x1, y1 = box
    shape = shape_predictor()(rgb, dlib_module().rectangle(round(x0), round(y0), round(x1) - 1, round(y1) - 1))
    return np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float64)


def _detect_with_border_retry(
    image: np.ndarray, max_side: int, upsample: int | None, min_score: float, verify: bool
) -> list[Face]:
    """The plain pass; when it finds nothing, a second pass on the photo padded with a mirrored border."""
    faces = detect_faces(image, max_side, upsample=upsample, min_score=min_score, verify=verify, border_retry=False)
    if faces:
        return faces
    rgb = _as_rgb(image)
    height, width = rgb.shape[:2]
    pad = max(1, round(BORDER_FRACTION * max(height, width)))
    if pad >= min(height, width):  # a mirror border wider than the photo is not defined: repeat edges then
        padded = cv2.copyMakeBorder(rgb, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    else:
        padded = cv2.copyMakeBorder(rgb, pad, pad, pad, pad, cv2.BORDER_REFLECT_101)
    # The padded photo is larger; scale max_side with it so the face is seen at the same resolution.
    padded_side = round(max_side * max(padded.shape[:2]) / max(height, width)) if max_side else max_side
    found = detect_faces(padded, padded_side, upsample=upsample, min_score=min(min_score, BORDER_MIN_SCORE),
                         verify=verify, border_retry=False)
    shifted = [_shift_face(face, -pad, -pad, width, height) for face in found]
    return [face for face in shifted if _centre_inside(face, width, height)
            and max(face.box[2] - face.box[0], face.box[3] - face.box[1]) >= BORDER_MIN_FACE * min(width, height)]


def _shift_face(face: Face, dx: float, dy: float, width: int, height: int) -> Face:
    """The face moved by (dx, dy): its box (clipped to the photo) and every (N, 2) point array it holds."""
    x0, y0, x1, y1 = face.box
    changes: dict = {
        "box": (
            float(np.clip(x0 + dx, 0, width)),
            float(np.clip(y0 + dy, 0, height)),
            float(np.clip(x1 + dx, 0, width)),
            float(np.clip(y1 + dy, 0, height)),
        )
    }
    for item in dataclasses.fields(face):
        value = getattr(face, item.name)
        if isinstance(value, np.ndarray) and value.ndim == 2 and value.shape[1] == 2:
            changes[item.name] = (value + np.asarray([dx, dy], dtype=value.dtype)).astype(value.dtype)
    return dataclasses.replace(face, **changes)


def _centre_inside(face: Face, width: int, height: int) -> bool:
    """A face found in the mirrored border alone (its reflection) lies outside the photo: dropped."""
    centre = face.landmarks.mean(axis=0)
    return 0 <= centre[0] < width and 0 <= centre[1] < height


def _confirmed_by_cnn(rgb: np.ndarray, box: tuple[float, float, float, float]) -> bool:
    """Whether the CNN detector sees a face centred where the HOG detector put one."""
    x0, y0, x1, y1 = box
    centre_x, centre_y = (x0 + x1) / 2, (y0 + y1) / 2
    side = max(x1 - x0, y1 - y0)
    crop = _square_crop(rgb, centre_x, centre_y, side * VERIFY_CONTEXT, VERIFY_SIDE)
    half = VERIFY_SIDE / 2
    tolerance = VERIFY_SIDE / VERIFY_CONTEXT / 2  # the CNN's face centre must lie within half a box of the HOG's
    for found in face_verifier()(crop, 0):
        rect = found.rect
        cx, cy = (rect.left() + rect.right()) / 2, (rect.top() + rect.bottom()) / 2
        if abs(cx - half) < tolerance and abs(cy - half) < tolerance:
            return True
    return False


def _square_crop(rgb: np.ndarray, centre_x: float, centre_y: float, side: float, out: int) -> np.ndarray:
    """An ``out``-pixel square around a centre, edge pixels repeated outside the photo.

    Cut first, then resize with area averaging: a 600 px face in a 12 MP photo shrinks ~4×, and
    point sampling (warpAffine) would alias the detail the CNN relies on.
    """
    height, width = rgb.shape[:2]
    left, top = round(centre_x - side / 2), round(centre_y - side / 2)
    size = max(1, round(side))
    pad_left, pad_top = max(0, -left), max(0, -top)
    pad_right, pad_bottom = max(0, left + size - width), max(0, top + size - height)
    patch = rgb[max(0, top) : min(height, top + size), max(0, left) : min(width, left + size)]
    if patch.size == 0:
        patch = np.zeros((1, 1, 3), np.uint8)
    elif pad_left or pad_top or pad_right or pad_bottom:
        patch = cv2.copyMakeBorder(patch, pad_top, pad_bottom, pad_left, pad_right, cv2.BORDER_REPLICATE)
    interpolation = cv2.INTER_AREA if patch.shape[0] > out else cv2.INTER_LINEAR
    return np.ascontiguousarray(cv2.resize(patch, (out, out), interpolation=interpolation))


def _as_rgb(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image)
    if image.dtype != np.uint8:
        raise ValueError(f"detect_faces expects a uint8 image, got {image.dtype}")
    if image.ndim == 2:
        image = np.repeat(image[:, :, None], 3, axis=2)
    elif image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"detect_faces expects an (H, W, 3) RGB image, got shape {image.shape}")
    if min(image.shape[:2]) < 1:
        raise ValueError("detect_faces got an empty image")
    return np.ascontiguousarray(image)
