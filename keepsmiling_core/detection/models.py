"""Finding and loading dlib and its landmark model, once per process, safely from any thread.

``import face_recognition_models`` is avoided on purpose: that package imports ``pkg_resources``,
which setuptools ≥ 81 no longer provides, so we only ask importlib where it is installed.
Loading the 68-point predictor takes about half a second and ~100 MB, hence the cache; the HOG
detector keeps per-call buffers and is not safe to share between threads, hence one per thread.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from pathlib import Path
from types import ModuleType

from keepsmiling_core.errors import DetectionError

PREDICTOR_FILE = "shape_predictor_68_face_landmarks.dat"
VERIFIER_FILE = "mmod_human_face_detector.dat"  # dlib's CNN face detector, same package
MODEL_ENV = "KEEPSMILING_LANDMARK_MODEL"  # lets packagers point at the model file elsewhere

_lock = threading.Lock()
_predictors: dict[Path, object] = {}
_thread_state = threading.local()


def dlib_module() -> ModuleType:
    """The dlib module, or a DetectionError telling the user what to install."""
    try:
        import dlib
    except ImportError as exc:
        raise DetectionError(
            f"Face detection needs the 'dlib' package, which could not be imported ({exc}). "
            "Install the prebuilt wheel with:  pip install dlib-bin"
        ) from None
    return dlib


def models_dir() -> Path:
    """The ``models/`` folder of the installed face-recognition-models package."""
    try:
        spec = importlib.util.find_spec("face_recognition_models")
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise DetectionError(
            "Face detection needs the models from the 'face-recognition-models' package, "
            "which is not installed. Install it with:  pip install face-recognition-models"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "models"


def predictor_path() -> Path:
    """Where the 68-point model is: $KEEPSMILING_LANDMARK_MODEL, else inside face-recognition-models."""
    override = os.environ.get(MODEL_ENV)
    if override:
        return Path(override)
    return models_dir() / PREDICTOR_FILE


def shape_predictor():
    """The process-wide 68-point predictor (dlib documents it as safe to call from many threads)."""
    path = predictor_path()
    cached = _predictors.get(path)
    if cached is not None:
        return cached
    with _lock:
        cached = _predictors.get(path)
        if cached is not None:
            return cached
        if not path.is_file():
            raise DetectionError(
                f"The face landmark model {path} is missing. Reinstall it with:  "
                "pip install --force-reinstall face-recognition-models"
            )
        dlib = dlib_module()
        try:
            predictor = dlib.shape_predictor(str(path))
        except (RuntimeError, MemoryError) as exc:
            raise DetectionError(
                f"The face landmark model {path} could not be loaded ({exc}); the file is probably "
                "damaged. Reinstall it with:  pip install --force-reinstall face-recognition-models"
            ) from None
        _predictors[path] = predictor
        return predictor


def face_detector():
    """This thread's HOG frontal face detector (created on first use, ~0.3 s)."""
    detector = getattr(_thread_state, "detector", None)
    if detector is None:
        detector = dlib_module().get_frontal_face_detector()
        _thread_state.detector = detector
    return detector


def face_verifier():
    """This thread's CNN (MMOD) face detector, used to confirm low-scoring HOG detections.

    Like the HOG detector it keeps per-call buffers, so each thread gets its own (~0.1 s to load).
    """
    verifier = getattr(_thread_state, "verifier", None)
    if verifier is None:
        path = models_dir() / VERIFIER_FILE
        if not path.is_file():
            raise DetectionError(
                f"The face verification model {path} is missing. Reinstall it with:  "
                "pip install --force-reinstall face-recognition-models"
            )
        try:
            verifier = dlib_module().cnn_face_detection_model_v1(str(path))
        except (RuntimeError, MemoryError) as exc:
            raise DetectionError(
                f"The face verification model {path} could not be loaded ({exc}). Reinstall it with:  "
                "pip install --force-reinstall face-recognition-models"
            ) from None
        _thread_state.verifier = verifier
    return verifier


def load_models() -> None:
    """Load everything now (e.g. in a GUI worker at start-up) so the first detection is quick."""
    shape_predictor()
    face_detector()
    face_verifier()
