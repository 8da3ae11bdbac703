"""What the landmark warp's parted lips show: teeth painted by the mouth-fill network, only in the gap.

The warp opens the lips by moving the photo's own pixels; the gap between them would otherwise show the
stretched lip line. Here the *warped* mouth is cut out with the same crop as training
(``crop_mouth``), the gap becomes the network's hole (grown as in training so its rim is lips), the
network paints the hole, and the paint is mapped back onto the photo and used only inside the gap's
photo-resolution mask. Everything outside the gap is the warp's output, untouched.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from keepsmiling_core.compositing.tone import fit_paint_to_photo
from keepsmiling_core.data.crops import CropConfig, crop_mouth, warp_to_photo
from keepsmiling_core.errors import EditError, KeepSmilingError


class MouthFiller:
    """A trained mouth-fill network, loaded once, painting gaps on CPU or GPU."""

    def __init__(self, folder: Path, device=None) -> None:
        from keepsmiling_core.models.checkpoint import load_model
        from keepsmiling_core.models.mouth_fill import mouth_band

        try:
            model = load_model(folder, device, setup="mouthfill")
        except KeepSmilingError as exc:
            raise EditError(f"The mouth fill in {folder} cannot be loaded: {exc}") from None
        self.net = model.nets["fill"]
        self.device = next(self.net.parameters()).device
        self.config = CropConfig(size=model.size)
        self.band = mouth_band(model.size)
        self.path = model.path

    def paint(self, warped: np.ndarray, landmarks: np.ndarray, hole: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The network's colour for ``hole`` (float mask in region pixels) of the ``warped`` region.

        Returns the colour as a crop (S, S, 4 float32: RGB 0..255 and where the network painted, 0..1)
        and the region -> crop matrix; ``composite`` shows it through any gap inside ``hole``.
        ``landmarks``: the face's 5 points in region pixels, as the smile moved them (the crop is framed
        by them, as in training)."""
        import torch

        from keepsmiling_core.models.mouth_fill import HOLE_GROWTH_PX, grow_hole

        crop = crop_mouth(warped, landmarks, self.config)
        size = self.config.size
        crop_hole = cv2.warpAffine(hole.astype(np.float32), crop.matrix, (size, size), flags=cv2.INTER_LINEAR,
                                   borderMode=cv2.BORDER_CONSTANT, borderValue=0.0)
        crop_hole = grow_hole(np.clip(crop_hole * 2.0, 0.0, 1.0), sum(HOLE_GROWTH_PX) / 2)
        image = crop.image[self.band].astype(np.float32) / 127.5 - 1
        with torch.no_grad():
            x = torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1)))[None].to(self.device)
            h = torch.from_numpy(np.ascontiguousarray(crop_hole[self.band]))[None, None].to(self.device)
            painted = self.net(x, h)[0].permute(1, 2, 0).float().cpu().numpy()
        colour = np.zeros((size, size, 4), np.float32)
        colour[self.band, :, :3] = _photo_chroma((painted + 1) * 127.5, crop.image[self.band], crop_hole[self.band])
        colour[self.band, :, 3] = 1.0   # the network paints its band of rows only: nothing is shown outside it
        return colour, crop.matrix

    @staticmethod
    def composite(warped: np.ndarray, colour: np.ndarray, matrix: np.ndarray, gap: np.ndarray) -> np.ndarray:
        """``warped`` with ``colour`` (from ``paint``) shown where ``gap`` (0..1, region pixels) is open."""
        ys, xs = np.nonzero(gap > 0)
        if len(xs) == 0:
            return warped
        # Only the gap's bounding box changes: map the paint and blend there, not over the whole region.
        x0, y0, x1, y1 = xs.min(), ys.min(), xs.max() + 1, ys.max() + 1
        shifted = matrix.copy()
        shifted[:, 2] += shifted[:, :2] @ np.array([x0, y0], np.float64)
        drawn = warp_to_photo(colour, shifted, (y1 - y0, x1 - x0))
        mask = gap[y0:y1, x0:x1, None].astype(np.float32) * drawn[..., 3:]
        drawn = drawn[..., :3]
        out = warped.copy()
        out[y0:y1, x0:x1] = np.clip(np.rint(mask * drawn + (1 - mask) * warped[y0:y1, x0:x1]), 0, 255)
        return out


def _photo_chroma(painted: np.ndarray, context: np.ndarray, hole: np.ndarray) -> np.ndarray:
    """The painted teeth with their chroma clipped to the range the mouth's own pixels have; brightness
    stays the network's: that is the teeth."""
    return fit_paint_to_photo(painted, context[hole < 0.05])
