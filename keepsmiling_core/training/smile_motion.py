"""How far a smile moves the mouth corners in the aligned crop, and a loss that holds an edit to it.

Why: the shape networks learned their edit from a smile head and a critic alone, and both accept half a
smile. On MTFL's training crops the hand-labelled corners of smiling faces lie 23.5 % further apart than
those of non-smiling ones and 4.7 px (of 64) closer to the nose, while the shipped networks' unit edit
widened the mouth by 10-13 % and raised the corners towards the nose by 1.3-1.6 px; on GENKI photos
both read back as about half a real smile's widening and lift. SplitGAN bent the lips instead
(corners up, upper lip sagging) until its slider stopped at the real range. This loss asks the edit at
strength 1 to move the corners as the dataset's mean smile does, *relative to the nose* - the frame
the editor keeps still (``shape_editor.frame_shift``) - and leaves everything else (lips, teeth,
cheeks) to the critic.

The positions are the dataset's means per label, mirror-symmetrised, not each crop's own landmarks:
the crops are centred on the corners and levelled, so each crop's corners lie within a few pixels of
the mean, the field is smooth over 4 px cells, and the means survive the trainer's random mirroring.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from ..models.shape_texture import sampling_grid

NOSE, LEFT_CORNER, RIGHT_CORNER = 2, 3, 4   # the dataset's five landmarks: eyes, nose, mouth corners


@dataclass(frozen=True)
class SmileMotion:
    """Mean crop positions (pixels) of [left corner, right corner, nose] for each label."""

    neutral: np.ndarray   # (3, 2)
    smiling: np.ndarray   # (3, 2)

    @classmethod
    def from_landmarks(cls, landmarks: np.ndarray, smiling: np.ndarray, size: int) -> SmileMotion:
        """From a crop cache's (N, 5, 2) crop-space landmarks and (N,) labels; each mean is averaged with
        its mirror image, so left and right corners move alike and the nose stays on the middle line."""
        smiling = np.asarray(smiling, bool)
        if smiling.all() or not smiling.any():
            raise ValueError("the smile's motion needs crops of both labels")

        def mean_points(rows: np.ndarray) -> np.ndarray:
            pts = np.asarray(landmarks, np.float64)[rows][:, [LEFT_CORNER, RIGHT_CORNER, NOSE]].mean(axis=0)
            mirrored = pts[[1, 0, 2]].copy()
            mirrored[:, 0] = size - 1 - mirrored[:, 0]   # pixel centres on integers: mirror about (S - 1) / 2
            return (pts + mirrored) / 2

        return cls(neutral=mean_points(~smiling), smiling=mean_points(smiling))

    @property
    def move(self) -> np.ndarray:
        """(3, 2): each point's move from the neutral to the smiling mean."""
        return self.smiling - self.neutral

    def targets(self, towards_smile: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Per edit, where the points start and how far they move: an edit towards a smile
        (``towards_smile`` 1) starts at the neutral means and moves by ``move``; one away from it starts
        at the smiling means and moves back. Both (B, 3, 2) on ``towards_smile``'s device."""
        kw = {"device": towards_smile.device, "dtype": torch.float32}
        up = towards_smile.float().view(-1, 1, 1)
        neutral, smiling = torch.as_tensor(self.neutral, **kw), torch.as_tensor(self.smiling, **kw)
        start = up * neutral + (1 - up) * smiling
        return start, (2 * up - 1) * torch.as_tensor(self.move, **kw)


def sample_field(field: torch.Tensor, points: torch.Tensor) -> torch.Tensor:
    """(B, P, 2): the backward field (B, 2, S, S) at crop-pixel ``points`` (B, P, 2), bilinearly."""
    points = points.to(field.dtype)
    grid = sampling_grid(points[..., 0], points[..., 1], *field.shape[-2:])
    values = F.grid_sample(field, grid[:, None], mode="bilinear", padding_mode="border", align_corners=False)
    return values[:, :, 0].transpose(1, 2)


def motion_loss(field: torch.Tensor, start: torch.Tensor, move: torch.Tensor,
                weight: torch.Tensor | None = None) -> torch.Tensor:
    """Mean squared miss, in crop-side units, of each corner's move relative to the nose (``weight``: (B,)
    per edit, e.g. 0 for the edits that are not to be held; the mean is over the weighted edits).

    A point that starts at s and moves by m lands at s + m, and the backward field there must point back
    to s: field(s + m) = −m. Relative to the nose (index 2) that is field(s_c + m_c) − field(s_n + m_n)
    = −(m_c − m_n); the residual of that for both corners is what is penalised."""
    at = sample_field(field, start + move)
    relative = at[:, :2] - at[:, 2:]
    wanted = -(move[:, :2] - move[:, 2:])
    miss = ((relative - wanted) / field.shape[-1]).pow(2).sum(-1).mean(-1)
    if weight is None:
        return miss.mean()
    return (miss * weight).sum() / weight.sum().clamp(min=1.0)
