"""How much of a network's change a photo receives: its brightness only; and paint kept to the photo's
own colours (``fit_paint_to_photo``).

Shared by the editor (which pastes the change) and the trainers (which can judge an edit as it will be
pasted), so what is trained and what is shipped cannot drift apart.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch

REC601 = (0.299, 0.587, 0.114)


def brightness(change: torch.Tensor) -> torch.Tensor:
    """Rec. 601 luma of an RGB change (B, 3, H, W) -> (B, 1, H, W).

    A smile is drawn in light and shade - bright teeth, the dark opening, the shadows of lifted cheeks -
    while the networks' colour changes were their least believable part (teal lips, green rims, tints
    on black-and-white photos). Measured on 300 MTFL test mouths with the shipped SplitGAN at α = 1:
    success 81 % with the full colour change, 76 % with its brightness alone, which looks clean."""
    # Plain multiply-adds: building a weight tensor here meant a host-to-GPU copy (a sync) per call.
    r, g, b = REC601
    return change[:, 0:1] * r + change[:, 1:2] * g + change[:, 2:3] * b


def fit_paint_to_photo(painted: np.ndarray, context: np.ndarray, brightness_headroom: float | None = None
                       ) -> np.ndarray:
    """Painted pixels (float RGB 0..255, any shape) with their chroma clipped to the 5-95 % range of the
    photo's own ``context`` pixels (N, 3) uint8, and, with ``brightness_headroom``, their brightness to at
    most the context's 99th percentile plus that headroom (0..1 of full scale).

    A network learned colour and light from MTFL's photos; a grey, tinted or dark photo must not get
    teeth of a colour or a whiteness it has nowhere else (a greyscale portrait got green-edged teeth; a
    dim photo got a paper-white bar between the lips)."""
    ycc = cv2.cvtColor(np.clip(painted, 0, 255).astype(np.float32) / 255.0, cv2.COLOR_RGB2YCrCb)
    around = cv2.cvtColor(context.reshape(-1, 1, 3).astype(np.float32) / 255.0, cv2.COLOR_RGB2YCrCb)[:, 0]
    if len(around) >= 8:
        low, high = np.percentile(around[:, 1:], [5, 95], axis=0)
        ycc[..., 1:] = np.clip(ycc[..., 1:], low, high)
        if brightness_headroom is not None:
            ycc[..., 0] = np.minimum(ycc[..., 0], min(1.0, float(np.percentile(around[:, 0], 99)) + brightness_headroom))
    return cv2.cvtColor(ycc, cv2.COLOR_YCrCb2RGB) * 255.0
