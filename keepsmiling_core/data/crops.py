"""The one home of the mouth-crop math: photo + 5 landmarks -> square mouth crop + the affine that made it.

Every part that cuts a mouth out (cache building, the editor, evaluation) or puts one back (paste-back
in the editor and GUI) goes through here, so training crops and editing crops are framed identically
and an edited crop lands exactly where it came from.

Two framings:

* ``"aligned"`` (default): a similarity transform. Rotate so the mouth corners are level, centre on the
  mouth (nudged ``shift`` of the side toward the nose so the upper lip and the skin under the nose are in
  frame), and take a square of side ``scale`` x a face size that does not change with expression: the
  larger of the inter-ocular distance and the eye-to-mouth distance / 1.08 (the MTFL median ratio), so a
  turned head (short inter-ocular) or a tilted one (short eye-mouth) does not shrink the crop, and a
  smile (wide corners) does not zoom out compared with a neutral mouth. The side is never below
  ``min_corner_margin`` x the corner distance so a wide grin always fits.
* ``"original"``: the 2018 project's axis-aligned nose-to-chin box (docs/original-setups.md#original-crop),
  with its bugs fixed: the box is ordered with min/max instead of producing an inverted box (bug B6 there)
  and it is not clamped to the photo (border pixels are replicated instead), so every box stays valid.
  The box is not square and is squashed to ``size`` x ``size``, as the original did.

The returned matrix maps photo pixel coordinates (x, y, 1) to crop coordinates (u, v); pixel centres sit
on integer coordinates in both, as in OpenCV.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import cv2
import numpy as np

from keepsmiling_core.errors import CropError

# Bumped whenever the pixels crop_mouth produces for a given CropConfig change, so old caches rebuild.
CROP_MATH_VERSION = 1
MODES = ("aligned", "original")
SIZES = (32, 64, 128)
# Median eye-to-mouth / inter-ocular distance over MTFL training (measured: 1.082), used to put both
# face-size cues on one scale.
EYE_MOUTH_PER_INTEROCULAR = 1.08
# Below this many photo pixels per crop side there is nothing left to learn or edit.
MIN_SIDE_PX = 8.0
# "original" boxes more elongated than this are degenerate (measured seed aspect range: 0.73-4.25).
ORIGINAL_MAX_ASPECT = 4.5


@dataclass(frozen=True)
class CropConfig:
    """How a mouth is framed; part of a crop cache's identity, so changing it rebuilds caches."""

    size: int = 64
    mode: str = "aligned"
    # Tuned by eye on grids of MTFL smiling and neutral mouths: the whole mouth, the skin under the nose
    # and beside the corners (for colour matching), and the chin top are in frame.
    scale: float = 1.4
    shift: float = 0.07
    min_corner_margin: float = 1.3

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise CropError(f"Unknown crop mode {self.mode!r}: use one of {', '.join(MODES)}.")
        if not 8 <= int(self.size) <= 1024:
            raise CropError(f"Crop size {self.size} is not usable: use 32, 64 or 128.")
        if self.scale <= 0 or self.min_corner_margin <= 0:
            raise CropError("Crop scale and corner margin must be positive.")

    def to_json(self) -> dict:
        return {"size": int(self.size), "mode": self.mode, "scale": float(self.scale),
                "shift": float(self.shift), "min_corner_margin": float(self.min_corner_margin)}


@dataclass
class MouthCrop:
    """A square mouth crop and the 2x3 affine (photo -> crop) to put an edited version back."""

    image: np.ndarray
    matrix: np.ndarray
    config: CropConfig = field(default_factory=CropConfig)

    def to_crop(self, points: np.ndarray) -> np.ndarray:
        """Photo points (N, 2) -> crop coordinates, e.g. to draw the mouth outline on the crop."""
        return apply_matrix(self.matrix, points)


def apply_matrix(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    return pts @ matrix[:, :2].T + matrix[:, 2]


def invert_matrix(matrix: np.ndarray) -> np.ndarray:
    return cv2.invertAffineTransform(np.asarray(matrix, dtype=np.float64))


def _ordered_mouth(landmarks: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Left corner, right corner, nose - with the corners swapped if the annotation has them reversed.

    "Left" is decided by the face itself (the nose must end up above the mouth), not by image x, so a
    rolled face keeps its orientation and a mislabelled pair does not produce an upside-down crop.
    """
    left, right, nose = landmarks[3].astype(np.float64), landmarks[4].astype(np.float64), landmarks[2].astype(np.float64)
    along = right - left
    down = np.array([-along[1], along[0]])  # image y points down: rotate "along" by +90 degrees
    if np.dot(nose - (left + right) / 2, down) > 0:
        left, right = right, left
    return left, right, nose


def _check(landmarks: np.ndarray, image_shape: tuple[int, ...]) -> np.ndarray:
    pts = np.asarray(landmarks, dtype=np.float64)
    if pts.shape != (5, 2):
        raise CropError(f"A mouth crop needs 5 landmarks (eyes, nose, mouth corners); got shape {pts.shape}.")
    if not np.all(np.isfinite(pts)):
        raise CropError("The face's landmarks contain a non-number; this face cannot be cropped.")
    height, width = image_shape[:2]
    centre = (pts[3] + pts[4]) / 2
    if not (-0.25 * width <= centre[0] <= 1.25 * width and -0.25 * height <= centre[1] <= 1.25 * height):
        raise CropError(f"The mouth ({centre[0]:.0f}, {centre[1]:.0f}) lies outside the {width}x{height} photo.")
    if np.linalg.norm(pts[4] - pts[3]) < 1.0:
        raise CropError("The two mouth corners coincide; this face cannot be cropped.")
    return pts


def crop_matrix(landmarks: np.ndarray, config: CropConfig = CropConfig(),
                image_shape: tuple[int, ...] | None = None) -> np.ndarray:
    """The 2x3 photo -> crop affine for these landmarks (no pixels touched); CropError when degenerate."""
    pts = _check(landmarks, image_shape if image_shape is not None else (10**6, 10**6))
    size = float(config.size)
    if config.mode == "original":
        return _original_matrix(pts, size)
    left, right, _nose = _ordered_mouth(pts)
    eyes_mid = (pts[0] + pts[1]) / 2
    mouth_mid = (left + right) / 2
    interocular = float(np.linalg.norm(pts[1] - pts[0]))
    eye_mouth = float(np.linalg.norm(mouth_mid - eyes_mid))
    corners = float(np.linalg.norm(right - left))
    face = max(interocular, eye_mouth / EYE_MOUTH_PER_INTEROCULAR)
    side = max(config.scale * face, config.min_corner_margin * corners)
    if side < MIN_SIDE_PX:
        raise CropError(f"The mouth is only {corners:.1f} px wide; too small to crop.")
    angle = math.atan2(right[1] - left[1], right[0] - left[0])
    cos, sin = math.cos(angle), math.sin(angle)
    k = size / side
    # Rotation by -angle levels the corners; "up" in the crop is -v, so moving the centre toward the
    # nose means moving it by -shift*side along the face's up direction.
    up = np.array([sin, -cos])
    centre = mouth_mid + config.shift * side * up
    linear = k * np.array([[cos, sin], [-sin, cos]])
    offset = np.array([(size - 1) / 2, (size - 1) / 2]) - linear @ centre
    return np.hstack([linear, offset[:, None]])


def _original_matrix(pts: np.ndarray, size: float) -> np.ndarray:
    """Seed's box: x = mouth centre +- sqrt(w^2 + d^2) along the mouth line, y from nose to below the mouth."""
    f1, f2, f3 = pts[3], pts[4], pts[2]
    f0 = (f1 + f2) / 2
    e = f2 - f0
    b = f0 - f3
    a = math.hypot(float(np.linalg.norm(e)), float(np.linalg.norm(b)))
    a_vec = a * e / max(float(np.linalg.norm(e)), 1e-9)
    p_t = f0 - b - a_vec
    p_b = f0 + b + a_vec
    x0, x1 = sorted((float(p_t[0]), float(p_b[0])))
    y0, y1 = sorted((float(p_t[1]), float(p_b[1])))
    w, h = x1 - x0, y1 - y0
    # The seed's inverted boxes (docs/original-setups.md#b6) come back as thin slivers once ordered;
    # squashing a 60 x 4 px box to a square is no mouth crop, so such faces are refused (the cache skips
    # and counts them).
    if min(w, h) < MIN_SIDE_PX / 2 or max(w, h) > ORIGINAL_MAX_ASPECT * min(w, h):
        raise CropError(
            f"The nose-to-chin box of this face is degenerate ({x1 - x0:.1f} x {y1 - y0:.1f} px); "
            "use the aligned crop mode."
        )
    # The box edges become the crop's outer pixel edges: x0 -> -0.5 and x1 -> size - 0.5.
    sx, sy = size / (x1 - x0), size / (y1 - y0)
    return np.array([[sx, 0.0, -0.5 - sx * x0], [0.0, sy, -0.5 - sy * y0]])


def _sample(image: np.ndarray, matrix: np.ndarray, size: int) -> np.ndarray:
    """Resample ``image`` into crop space, low-passing first when shrinking so fine texture does not alias.

    Deterministic, so paste_back can rebuild the very crop an editor started from.
    """
    zoom = math.sqrt(abs(float(np.linalg.det(matrix[:, :2]))))  # crop px per photo px
    source = image
    m = np.asarray(matrix, dtype=np.float64)
    if zoom < 0.7:
        # Blur only the photo region the crop reads (plus a margin for the kernel), not the whole photo.
        inv = invert_matrix(m)
        corners = apply_matrix(inv, np.array([[-1, -1], [size, -1], [-1, size], [size, size]], dtype=np.float64))
        sigma = 0.45 * math.sqrt(1.0 / zoom**2 - 1.0)
        pad = int(math.ceil(3 * sigma)) + 2
        h, w = image.shape[:2]
        x0 = int(max(0, math.floor(corners[:, 0].min()) - pad))
        y0 = int(max(0, math.floor(corners[:, 1].min()) - pad))
        x1 = int(min(w, math.ceil(corners[:, 0].max()) + pad + 1))
        y1 = int(min(h, math.ceil(corners[:, 1].max()) + pad + 1))
        if x1 - x0 >= 2 and y1 - y0 >= 2:
            source = cv2.GaussianBlur(image[y0:y1, x0:x1], (0, 0), sigmaX=sigma, borderType=cv2.BORDER_REPLICATE)
            m = m.copy()
            m[:, 2] += m[:, :2] @ np.array([x0, y0], dtype=np.float64)
    return cv2.warpAffine(source, m, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def crop_mouth(image: np.ndarray, landmarks: np.ndarray, config: CropConfig = CropConfig()) -> MouthCrop:
    """Cut the mouth out of an RGB uint8 photo; CropError when the landmarks do not allow a crop."""
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise CropError(f"crop_mouth needs an RGB uint8 photo, got {image.dtype} {image.shape}.")
    matrix = crop_matrix(landmarks, config, image.shape)
    crop = _sample(np.ascontiguousarray(image), matrix, config.size)
    return MouthCrop(image=crop, matrix=matrix, config=config)


def default_mask(size: int, feather: float = 0.18) -> np.ndarray:
    """Alpha (size, size) that is 1 in the middle and fades to 0 at the crop border, so pastes leave no seam."""
    ramp = np.clip((np.minimum(np.arange(size), np.arange(size)[::-1]) + 0.5) / max(feather * size, 1.0), 0, 1)
    return np.minimum.outer(ramp, ramp).astype(np.float32)


def _photo_region(matrix: np.ndarray, size: int, photo_shape: tuple[int, ...]) -> tuple[int, int, int, int] | None:
    """Photo-pixel box (x0, y0, x1, y1) the crop square covers, clipped to the photo; None when outside."""
    corners = apply_matrix(invert_matrix(matrix),
                           np.array([[-0.5, -0.5], [size - 0.5, -0.5], [-0.5, size - 0.5], [size - 0.5, size - 0.5]]))
    h, w = photo_shape[:2]
    x0 = max(0, int(math.floor(corners[:, 0].min())))
    y0 = max(0, int(math.floor(corners[:, 1].min())))
    x1 = min(w, int(math.ceil(corners[:, 0].max())) + 1)
    y1 = min(h, int(math.ceil(corners[:, 1].max())) + 1)
    if x1 <= x0 or y1 <= y0:
        return None
    return x0, y0, x1, y1


def _warp_region(crop_array: np.ndarray, matrix: np.ndarray, region: tuple[int, int, int, int],
                 border_value: float = 0.0) -> np.ndarray:
    """Inverse-warp a crop-space array onto the photo pixels of ``region`` only (cheap on big photos)."""
    x0, y0, x1, y1 = region
    m = np.asarray(matrix, dtype=np.float64).copy()
    m[:, 2] += m[:, :2] @ np.array([x0, y0], dtype=np.float64)
    return cv2.warpAffine(crop_array, m, (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=border_value)


def warp_to_photo(crop_array: np.ndarray, matrix: np.ndarray, photo_shape: tuple[int, ...]) -> np.ndarray:
    """Any crop-space array (image, mask, heat map) mapped into photo space; zero outside the crop."""
    arr = np.asarray(crop_array)
    work = arr.astype(np.float32) if arr.dtype not in (np.uint8, np.float32) else arr
    h, w = photo_shape[:2]
    out = np.zeros((h, w) + work.shape[2:], dtype=work.dtype)
    region = _photo_region(matrix, work.shape[0], photo_shape)
    if region is not None:
        x0, y0, x1, y1 = region
        out[y0:y1, x0:x1] = _warp_region(work, matrix, region)
    return out


def paste_back(photo: np.ndarray, crop_rgb: np.ndarray, matrix: np.ndarray, mask: np.ndarray | None = None,
               *, keep_detail: bool = True) -> np.ndarray:
    """A new photo with ``crop_rgb`` (an edited crop made with ``matrix``) blended back in.

    With ``keep_detail`` (default) only the *change* is pasted: the photo's own crop is rebuilt with the
    same resampling that made the original crop, and the upsampled difference is added to the photo's
    full-resolution pixels. An unedited crop therefore leaves the photo exactly as it was, and a 64 px edit
    on a 12 MP photo keeps the skin and hair detail the crop could never hold. ``keep_detail=False`` pastes
    the upsampled crop itself (what the original-resolution look needs when the edit is large).

    ``mask`` is alpha in crop space ((size, size), floats in [0, 1]); by default a square with feathered
    edges so no seam shows at the crop border.
    """
    if photo.ndim != 3 or photo.shape[2] != 3 or photo.dtype != np.uint8:
        raise CropError(f"paste_back needs an RGB uint8 photo, got {photo.dtype} {photo.shape}.")
    size = crop_rgb.shape[0]
    if crop_rgb.shape != (size, size, 3):
        raise CropError(f"paste_back needs a square RGB crop, got shape {crop_rgb.shape}.")
    alpha = default_mask(size) if mask is None else np.clip(np.asarray(mask, dtype=np.float32), 0.0, 1.0)
    if alpha.shape != (size, size):
        raise CropError(f"The paste mask must be {size}x{size} like the crop, got {alpha.shape}.")
    out = photo.copy()
    region = _photo_region(matrix, size, photo.shape)
    if region is None:
        return out
    x0, y0, x1, y1 = region
    patch = photo[y0:y1, x0:x1].astype(np.float32)
    a = _warp_region(alpha, matrix, region)[..., None]
    if keep_detail:
        reference = _sample(np.ascontiguousarray(photo), np.asarray(matrix, dtype=np.float64), size)
        delta = crop_rgb.astype(np.float32) - reference.astype(np.float32)
        blended = patch + a * _warp_region(delta, matrix, region)
    else:
        blended = patch * (1.0 - a) + a * _warp_region(crop_rgb.astype(np.float32), matrix, region)
    out[y0:y1, x0:x1] = np.clip(np.rint(blended), 0, 255).astype(np.uint8)
    return out
