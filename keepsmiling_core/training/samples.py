"""Sample grid PNGs written atomically, so a GUI polling the latest grid never reads half a file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torchvision.utils import make_grid

from ..atomic import atomic_write, ensure_folder
from ..data.tensors import to_image


def write_grid(path: Path, images: torch.Tensor, per_row: int) -> np.ndarray:
    """Save images in [-1, 1] (N, 3, H, W) as one PNG grid; returns the grid as (H, W, 3) uint8."""
    grid = make_grid(images.detach().cpu().clamp(-1, 1), nrow=per_row, padding=2, pad_value=1.0)
    array = to_image(grid)[0]
    ensure_folder(path.parent, "samples folder")
    atomic_write(path, lambda buffer: Image.fromarray(array).save(buffer, format="PNG"))
    return array
