"""How dataset loaders read a photo: through the project's one image reader once it is there.

``keepsmiling_core.imageio.read_photo`` (owned by detection) handles EXIF orientation, grayscale, CMYK,
16-bit files and decompression bombs; until that module exists, Pillow with ``convert("RGB")`` (which
already fixes the original project's grayscale bug B5) does the job.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from keepsmiling_core.errors import ImageReadError

try:  # pragma: no cover - which branch runs depends on whether imageio has landed
    from keepsmiling_core.imageio import read_photo as _read_photo
except ImportError:
    _read_photo = None


def read_rgb(path: Path | str) -> np.ndarray:
    """(H, W, 3) uint8 RGB pixels of an image file, EXIF-upright; ImageReadError when it cannot be read."""
    if _read_photo is not None:
        return _read_photo(path).rgb
    path = Path(path)
    if not path.is_file():
        raise ImageReadError(f"Image {path} does not exist.")
    try:
        with Image.open(path) as img:
            img = ImageOps.exif_transpose(img)
            return np.asarray(img.convert("RGB"))
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise ImageReadError(f"Image {path} cannot be read ({exc}).") from None
