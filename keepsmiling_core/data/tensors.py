"""Crossing between images (uint8 NHWC numpy) and network tensors (float NCHW in [-1, 1]).

One pair of functions so every network sees the same value range and every saved image is rounded the
same way; a crop that goes through ``to_image(to_tensor(x))`` comes back bit-identical.
"""

from __future__ import annotations

import numpy as np
import torch


def to_tensor(images: np.ndarray, device: torch.device | str | None = None) -> torch.Tensor:
    """uint8 (H, W, 3) or (N, H, W, 3) -> float32 (1 or N, 3, H, W) in [-1, 1] on ``device``."""
    arr = np.asarray(images)
    if arr.dtype != np.uint8:
        raise TypeError(f"to_tensor expects uint8 images, got {arr.dtype}")
    if arr.ndim == 3:
        arr = arr[None]
    if arr.ndim != 4 or arr.shape[-1] != 3:
        raise ValueError(f"to_tensor expects (N, H, W, 3) images, got shape {arr.shape}")
    tensor = torch.from_numpy(np.ascontiguousarray(arr))
    if device is not None:
        tensor = tensor.to(device, non_blocking=True)  # move uint8 (4x smaller) before converting
    return tensor.permute(0, 3, 1, 2).float().div_(127.5).sub_(1.0).contiguous()


def to_image(tensor: torch.Tensor) -> np.ndarray:
    """float (N, 3, H, W) or (3, H, W) in [-1, 1] -> uint8 (N, H, W, 3) numpy on the CPU; out-of-range values clip."""
    t = tensor.detach()
    if t.ndim == 3:
        t = t[None]
    if t.ndim != 4 or t.shape[1] != 3:
        raise ValueError(f"to_image expects (N, 3, H, W) tensors, got shape {tuple(t.shape)}")
    t = ((t.float() + 1.0) * 127.5).round_().clamp_(0, 255).to(torch.uint8)
    return t.permute(0, 2, 3, 1).contiguous().cpu().numpy()


def hflip(images: np.ndarray) -> np.ndarray:
    """Mirror (N, H, W, 3) crops left-right: aligned mouth crops are symmetric, so this doubles the data."""
    return np.ascontiguousarray(images[:, :, ::-1])
