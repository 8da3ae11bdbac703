"""Image-quality numbers for mouth crops: PSNR, SSIM, skin colour shift (ΔE) and KID.

All image inputs are uint8 RGB (H, W, 3) crops, as everywhere in the core. The skin colour shift is
the quantity the seed got visibly wrong (dark skin decoded light), so it is measured on the mean
colour of the skin around the mouth, where a global tint shows, not per pixel where blur dominates.
"""

from __future__ import annotations

import math

import numpy as np
from skimage.color import deltaE_ciede2000, rgb2lab
from skimage.metrics import structural_similarity


def psnr(reference: np.ndarray, test: np.ndarray) -> float:
    """Peak signal-to-noise ratio in dB for uint8 images; ``inf`` when they are identical."""
    _check_pair(reference, test)
    mse = float(np.mean((reference.astype(np.float64) - test.astype(np.float64)) ** 2))
    if mse == 0.0:
        return math.inf
    return 10.0 * math.log10(255.0**2 / mse)


def ssim(reference: np.ndarray, test: np.ndarray) -> float:
    """Structural similarity (scikit-image, Gaussian-free 7x7 window) over the three colour channels."""
    _check_pair(reference, test)
    win = min(7, *reference.shape[:2])
    win -= 1 - win % 2  # odd window, needed by scikit-image for tiny crops
    return float(structural_similarity(reference, test, channel_axis=2, data_range=255, win_size=win))


def skin_delta_e(reference: np.ndarray, test: np.ndarray, skin: np.ndarray | None = None) -> float:
    """CIEDE2000 distance between the mean CIELAB skin colours of two crops.

    ``skin`` is a weight/boolean map (H, W) of the skin area (typically 1 - mouth mask); None = whole
    crop. Comparing mean colours isolates a global tint (the seed's failure) from texture and blur.
    """
    _check_pair(reference, test)
    weights = np.ones(reference.shape[:2], np.float64) if skin is None else np.asarray(skin, np.float64)
    if weights.shape != reference.shape[:2]:
        raise ValueError(f"skin mask shape {weights.shape} does not match the crop {reference.shape[:2]}")
    total = weights.sum()
    if total <= 0:
        raise ValueError("the skin mask is empty")

    def mean_lab(image: np.ndarray) -> np.ndarray:
        lab = rgb2lab(image)
        return (lab * weights[..., None]).sum(axis=(0, 1)) / total

    return float(deltaE_ciede2000(mean_lab(reference), mean_lab(test)))


def kid(real_features: np.ndarray, fake_features: np.ndarray, *, subsets: int = 50,
        subset_size: int = 100, seed: int = 0) -> tuple[float, float]:
    """Kernel Inception Distance (Bińkowski et al. 2018) on any feature space: (mean, std) over subsets.

    Unbiased MMD² with the cubic polynomial kernel k(x, y) = (x·y / d + 1)³, averaged over random
    subsets so that small evaluation sets still give a stable number with an error bar. Unlike FID it
    is unbiased for small samples, which is why it suits a few hundred crops.
    """
    real = np.asarray(real_features, np.float64)
    fake = np.asarray(fake_features, np.float64)
    if real.ndim != 2 or fake.ndim != 2 or real.shape[1] != fake.shape[1]:
        raise ValueError(f"KID needs two (N, D) feature arrays of equal D, got {real.shape} and {fake.shape}")
    m = min(subset_size, len(real), len(fake))
    if m < 2:
        raise ValueError("KID needs at least 2 samples on each side")
    dim = real.shape[1]
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(subsets):
        x = real[rng.choice(len(real), m, replace=False)]
        y = fake[rng.choice(len(fake), m, replace=False)]
        k_xx = (x @ x.T / dim + 1) ** 3
        k_yy = (y @ y.T / dim + 1) ** 3
        k_xy = (x @ y.T / dim + 1) ** 3
        mmd = ((k_xx.sum() - np.trace(k_xx)) + (k_yy.sum() - np.trace(k_yy))) / (m * (m - 1)) - 2 * k_xy.mean()
        values.append(mmd)
    return float(np.mean(values)), float(np.std(values))


def _check_pair(a: np.ndarray, b: np.ndarray) -> None:
    if a.shape != b.shape or a.ndim != 3 or a.shape[2] != 3:
        raise ValueError(f"expected two RGB images of the same shape, got {a.shape} and {b.shape}")
