"""Offline face + landmark detection (dlib HOG detector + 68-point shape predictor).

The 68-point model ships in the PyPI package face-recognition-models; it was trained on iBUG 300-W,
whose licence excludes commercial use.
"""

from keepsmiling_core.detection.detector import detect_faces
from keepsmiling_core.detection.drawing import draw_faces
from keepsmiling_core.detection.face import Face, five_points_from_68, mouth_points_from_68
from keepsmiling_core.detection.models import load_models, predictor_path

__all__ = [
    "Face",
    "detect_faces",
    "draw_faces",
    "five_points_from_68",
    "load_models",
    "mouth_points_from_68",
    "predictor_path",
]
