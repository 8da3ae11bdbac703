"""The face-level smile judge: does the *whole face* in a finished photo smile, as a person would say?

The crop classifier (``evaluation/classifier.py``) sees a 64 px mouth crop, and brightness inside the
mouth is what it reads, so a glowing blob pasted over the lips passes for a smile. A person looks at
the whole face: cheeks lift, eyes narrow, the mouth's shape changes. The judge therefore sees an
aligned view of the whole face, brows to chin and cheek to cheek, and is trained with lip "blobs"
on non-smiling faces (``judge_training.py``) so a bright or dark patch over the mouth is not a smile.

``face_view`` is the one framing of that view: a similarity transform from the 5 dataset landmarks,
scaled by the same expression-independent face size as the mouth crops (``data/crops.py``: the larger
of the inter-ocular distance and the eye-to-mouth distance / 1.08), rotated so the eyes are level and
the mouth below them. It is area-averaged when it shrinks a face (a 400 px face in a phone photo) so
fine texture does not alias into the 64 px view.

The network is the project's ``SmileClassifier`` built through the registry as setup ``"judge"``, so
the judge is stored in the one checkpoint format (``resources/models/judge/``).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np

from keepsmiling_core.data.crops import EYE_MOUTH_PER_INTEROCULAR, apply_matrix
from keepsmiling_core.errors import CheckpointError, CropError

if TYPE_CHECKING:
    import torch

    from keepsmiling_core.detection.face import Face

# 64 px is above the native resolution of most faces the judge sees (GENKI: eyes 37 px apart, so the
# view covers ~92 photo px), and shrinking GENKI eval photos until the eyes are 10 px apart costs the
# shipped judge only 1.5 points of balanced accuracy: a larger view would not clearly help.
FACE_VIEW_SIZE = 64
JUDGE_SETUP = "judge"
# View geometry in units of the face size s (≈ the inter-ocular distance of a frontal face): the view
# is VIEW_SIDE·s wide and centred CENTRE_BELOW_EYES·s below the eyes' midpoint, which puts the eyes at
# 22 % of the height, the mouth at ~65 %, the chin (≈ 1.8 s below the eyes) at ~94 %, the brows near
# the top and both cheeks inside. Bump VIEW_VERSION when these change: cached training views rebuild.
VIEW_SIDE = 2.5
CENTRE_BELOW_EYES = 0.70
VIEW_VERSION = 1
# A face smaller than this (face size in photo pixels) has no expression left to judge.
MIN_FACE_PX = 4.0
# Supersampling cap when shrinking: beyond 8× the remaining aliasing is below JPEG noise.
MAX_SUPERSAMPLE = 8


def face_view_matrix(landmarks: np.ndarray, size: int = FACE_VIEW_SIZE, context: float = 1.0) -> np.ndarray:
    """The 2×3 photo → view affine of ``face_view`` (pixel centres on integers, as in OpenCV).

    ``context`` > 1 widens the field of view at the same pixel scale only when ``size`` grows with it
    (training stores views ``context`` times larger and cuts jittered ``size`` views out of them).
    CropError when the landmarks are not finite or the face is too small to judge.
    """
    pts = np.asarray(landmarks, dtype=np.float64)
    if pts.shape != (5, 2) or not np.all(np.isfinite(pts)):
        raise CropError(f"A face view needs 5 finite landmarks (eyes, nose, mouth corners); got {pts.shape}.")
    eyes_mid = (pts[0] + pts[1]) / 2
    mouth_mid = (pts[3] + pts[4]) / 2
    down = mouth_mid - eyes_mid
    eye_mouth = float(np.linalg.norm(down))
    along = pts[1] - pts[0]
    interocular = float(np.linalg.norm(along))
    face = max(interocular, eye_mouth / EYE_MOUTH_PER_INTEROCULAR)
    if face < MIN_FACE_PX:
        raise CropError(f"The face is only {face:.1f} px across the eyes; too small to judge.")
    # "Right" from the eye line and from the eyes→mouth direction turned by 90°, averaged: a turned
    # head shortens one, a tilted head the other. Eyes given in reversed order are put right first.
    right_from_down = np.array([down[1], -down[0]]) / max(eye_mouth, 1e-9)
    right_from_eyes = along / max(interocular, 1e-9)
    if eye_mouth > 1e-9 and np.dot(right_from_eyes, right_from_down) < 0:
        right_from_eyes = -right_from_eyes
    right = right_from_eyes + (right_from_down if eye_mouth > 1e-9 else 0.0)
    norm = float(np.linalg.norm(right))
    right = right / norm if norm > 1e-9 else np.array([1.0, 0.0])
    down_axis = np.array([-right[1], right[0]])
    side = VIEW_SIDE * face * float(context)
    k = size / side
    centre = eyes_mid + CENTRE_BELOW_EYES * face * down_axis
    linear = k * np.stack([right, down_axis])
    offset = np.array([(size - 1) / 2, (size - 1) / 2]) - linear @ centre
    return np.hstack([linear, offset[:, None]])


def face_view(photo: np.ndarray, landmarks: np.ndarray, size: int = FACE_VIEW_SIZE, *,
              context: float = 1.0) -> np.ndarray:
    """An aligned (size, size, 3) uint8 RGB view of the whole face; see the module docstring.

    Shrinking renders the view at up to 8× the size and area-averages it down, so each view pixel is
    the mean of the photo pixels it covers; edge pixels are repeated outside the photo.
    """
    photo = np.asarray(photo)
    if photo.ndim != 3 or photo.shape[2] != 3 or photo.dtype != np.uint8:
        raise CropError(f"face_view needs an RGB uint8 photo, got {photo.dtype} {photo.shape}.")
    matrix = face_view_matrix(landmarks, size, context)
    zoom = math.sqrt(abs(float(np.linalg.det(matrix[:, :2]))))  # view px per photo px
    factor = min(MAX_SUPERSAMPLE, max(1, math.ceil(1.0 / zoom - 1e-6)))
    if factor == 1:
        return cv2.warpAffine(photo, matrix, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    # Supersampled pixel j of view pixel i sits at (f·i + j + 0.5)/f − 0.5 in view coordinates.
    fine = matrix * factor
    fine[:, 2] += (factor - 1) / 2
    big = cv2.warpAffine(photo, fine, (size * factor, size * factor), flags=cv2.INTER_LINEAR,
                         borderMode=cv2.BORDER_REPLICATE)
    return cv2.resize(big, (size, size), interpolation=cv2.INTER_AREA)


def view_points(landmarks: np.ndarray, size: int = FACE_VIEW_SIZE, context: float = 1.0) -> np.ndarray:
    """Where the 5 landmarks land in the view (e.g. to find the lips in a view)."""
    return apply_matrix(face_view_matrix(landmarks, size, context), landmarks).astype(np.float32)


def default_judge_path() -> Path:
    """The shipped judge, ``resources/models/judge/``."""
    from keepsmiling_core.paths import shipped_models_dir

    return shipped_models_dir() / "judge"


class FaceJudge:
    """A loaded face-level smile judge; ``smile_probability`` of aligned face views, batched, no grad."""

    def __init__(self, net: torch.nn.Module, size: int, meta: dict[str, Any], path: Path | None = None) -> None:
        self.net = net.eval()
        self.size = int(size)
        self.meta = meta
        self.path = path

    @classmethod
    def load(cls, path: Path | None = None, device: Any = None) -> FaceJudge:
        """The judge at ``path`` (a checkpoint folder), or the shipped one when None.

        CheckpointError, saying how to get one, when it is missing or not a judge.
        """
        from keepsmiling_core.models.checkpoint import load_model

        folder = Path(path) if path is not None else default_judge_path()
        if not folder.exists():
            raise CheckpointError(f"No face judge at {folder}: train one with `keepsmiling train-judge`.")
        model = load_model(folder, device=device, setup=JUDGE_SETUP)  # device: pick_device's choice when None
        return cls(model.nets[JUDGE_SETUP], model.size, model.meta, model.path)

    @property
    def device(self) -> torch.device:
        return next(self.net.parameters()).device

    @property
    def report(self) -> dict[str, Any]:
        """What training measured (held-out and GENKI eval-part figures), from the checkpoint metadata."""
        return dict(self.meta.get("extra", {}))

    def smile_probability(self, views: np.ndarray, batch_size: int = 256) -> np.ndarray:
        """P(smiling) (N,) float32 for uint8 views (N, S, S, 3) made by ``face_view`` at the judge's size."""
        import torch

        from keepsmiling_core.data.tensors import to_tensor

        views = np.asarray(views)
        if views.ndim == 3:
            views = views[None]
        if views.ndim != 4 or views.shape[1:] != (self.size, self.size, 3):
            raise ValueError(f"The judge expects ({self.size}, {self.size}, 3) face views, got {views.shape[1:]}.")
        out = []
        with torch.inference_mode():
            for start in range(0, len(views), batch_size):
                logits = self.net(to_tensor(views[start:start + batch_size], device=self.device))
                out.append(torch.sigmoid(logits.float()).cpu().numpy())
        return np.concatenate(out).astype(np.float32) if out else np.zeros((0,), np.float32)

    def judge_photo_face(self, photo: np.ndarray, face: Face) -> float:
        """P(smiling) of one face of a photo (RGB uint8, the photo's own pixels)."""
        return float(self.smile_probability(face_view(photo, face.landmarks, self.size))[0])


def __getattr__(name: str) -> Any:
    """Training lives in ``judge_training`` (torch training code is not loaded to judge); re-exported here."""
    if name in ("FaceJudgeConfig", "FaceJudgeReport", "train_face_judge"):
        from keepsmiling_core.evaluation import judge_training

        return getattr(judge_training, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
