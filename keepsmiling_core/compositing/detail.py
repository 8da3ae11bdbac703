"""Fine detail: how much a region of a photo holds at the scale a person sees, and how teeth compare.

One measure serves the evaluation ("sharpness kept", "teeth detail") and the editor (how much to sharpen
painted teeth), so what the editor aims at is what the evaluation reads. Teeth are compared with the skin
around the same mouth rather than in absolute terms: a soft web photo has soft teeth and soft skin, a sharp
portrait crisp teeth and crisp skin, and a row of teeth that is blurrier than its face is what a person
notices on a large face.
"""

from __future__ import annotations

import cv2
import numpy as np

SHARPNESS_SIGMA = 1.0   # px: detail at the scale a person sees, not the Nyquist band
# The teeth are what lies inside the inner lips (points 60-67), this many pixels in from them: the lips'
# own edges are the strongest detail of a mouth and are not the teeth's.
TEETH_INSET_PX = 2
MIN_TEETH_PX = 20       # fewer teeth pixels than this: too few to say how sharp they are
SKIN_GROW = 0.5         # the skin compared with: a box around the mouth grown by this share of its width ...
LIP_MARGIN = 0.25       # ... less the outer lips dilated by this share (a moved corner stays out of it)


def log_response(image: np.ndarray) -> np.ndarray:
    """The Laplacian of Gaussian (σ = ``SHARPNESS_SIGMA``) of the grey image (float32, same size).

    The Gaussian matters: the raw 3x3 Laplacian is dominated by the last octave, JPEG noise included,
    which any resampling attenuates — a half-pixel shift of an untouched photo keeps only 0.72–0.92 of it.
    With σ = 1 that shift keeps 0.97–1.0 while a 2x blur keeps ~0.5 and a 4x blur (a 64² crop stretched
    over a 256 px mouth) ~0.1–0.2, measured on GENKI photos and the samples."""
    image = np.ascontiguousarray(image)
    gray = cv2.cvtColor(image if image.dtype == np.uint8 else image.astype(np.float32), cv2.COLOR_RGB2GRAY)
    gray = cv2.GaussianBlur(gray.astype(np.float32), (0, 0), SHARPNESS_SIGMA)
    return cv2.Laplacian(gray, cv2.CV_32F, ksize=1)


def laplacian_variance(image: np.ndarray, mask: np.ndarray) -> float:
    """High-frequency energy of the grey image inside ``mask``: the variance of its ``log_response``."""
    values = log_response(image)[mask]
    return float(values.var()) if values.size > 1 else 0.0


def _polygon(points: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    mask = np.zeros(shape, np.uint8)
    cv2.fillPoly(mask, [np.round(np.asarray(points, np.float64) * 16).astype(np.int32)], 1, shift=4)
    return mask


def inset(mask: np.ndarray) -> np.ndarray:
    """Boolean ``mask`` shrunk by ``TEETH_INSET_PX``: the teeth, without the lips' edges around them."""
    size = 2 * TEETH_INSET_PX + 1
    return cv2.erode(np.asarray(mask, np.uint8), np.ones((size, size), np.uint8)).astype(bool)


def teeth_region(points: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Boolean mask of what shows between the inner lips of 68 ``points``, ``TEETH_INSET_PX`` in from them."""
    return inset(_polygon(np.asarray(points)[60:68], shape[:2]))


def skin_around_mouth(points: np.ndarray, shape: tuple[int, ...]) -> tuple[tuple[slice, slice], np.ndarray]:
    """(rows and columns of a box, boolean mask in it): the skin around a mouth — the box around the lips
    grown by ``SKIN_GROW`` mouth widths, less the lips dilated by ``LIP_MARGIN``."""
    points = np.asarray(points, np.float64)
    lips = points[48:60]
    width = max(float(np.linalg.norm(points[54] - points[48])), 2.0)
    lo = np.maximum(np.floor(lips.min(axis=0) - SKIN_GROW * width), 0).astype(int)
    hi = np.minimum(np.ceil(lips.max(axis=0) + SKIN_GROW * width) + 1, (shape[1], shape[0])).astype(int)
    box_shape = (max(1, hi[1] - lo[1]), max(1, hi[0] - lo[0]))
    radius = max(1, round(LIP_MARGIN * width))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    covered = cv2.dilate(_polygon(lips - lo, box_shape), kernel).astype(bool)
    return (slice(lo[1], lo[1] + box_shape[0]), slice(lo[0], lo[0] + box_shape[1])), ~covered


def skin_detail(photo: np.ndarray, points: np.ndarray) -> float:
    """The standard deviation of the LoG response on the skin around the mouth (``skin_around_mouth``)."""
    box, mask = skin_around_mouth(points, photo.shape)
    return float(np.sqrt(laplacian_variance(photo[box], mask)))


def teeth_detail(finished: np.ndarray, points: np.ndarray, skin: float) -> float | None:
    """How detailed what shows between the inner lips of ``points`` is, over ``skin`` (``skin_detail`` of the
    same face): a median 1.36 for GENKI's real smiles with teeth (``editing.teeth.TEETH_DETAIL``); None
    where too little shows."""
    region = teeth_region(points, finished.shape)
    if region.sum() < MIN_TEETH_PX or skin <= 1e-3:
        return None
    return float(np.sqrt(laplacian_variance(finished, region))) / skin


def unsharp_detail(layer: np.ndarray, sigma: float) -> np.ndarray:
    """What an unsharp mask at ``sigma`` px adds to ``layer`` per unit of gain: layer − blur_σ(layer)."""
    return layer - cv2.GaussianBlur(layer, (0, 0), sigma)


def sharpening_for(image: np.ndarray, extra: np.ndarray, mask: np.ndarray, wanted: float, most: float) -> float:
    """The gain k for which ``image + k·extra`` has LoG detail (standard deviation) ``wanted`` inside
    ``mask``, at most ``most``; 0 when ``image`` already has that much. Solved, not searched: the LoG is
    linear, so the variance is a quadratic in k (``sharpened``'s cap at the layer's brightest pixel trims a
    little of it)."""
    if mask.sum() < MIN_TEETH_PX:
        return 0.0
    base = log_response(image)[mask].astype(np.float64)
    more = log_response(extra)[mask].astype(np.float64)
    base, more = base - base.mean(), more - more.mean()
    va, vb, cov = float(np.mean(base ** 2)), float(np.mean(more ** 2)), float(np.mean(base * more))
    target = wanted ** 2
    if va >= target or vb <= 1e-9:
        return 0.0
    k = (-cov + np.sqrt(max(cov ** 2 - vb * (va - target), 0.0))) / vb
    return float(np.clip(k, 0.0, most))


def sharpened(layer: np.ndarray, gain: float, sigma: float) -> np.ndarray:
    """``layer`` (float RGB 0..255) with an unsharp mask of ``gain`` at ``sigma`` px, no brighter than its
    brightest pixel was: the mask's overshoot would otherwise put glints brighter than anything the
    layer was allowed to be (painted teeth are capped by the face's own brightness)."""
    if gain <= 0.0 or layer.size == 0:
        return layer
    return np.clip(layer + gain * unsharp_detail(layer, sigma), 0.0, float(layer.max()))
