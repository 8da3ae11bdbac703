"""The smile as a change of shape: where dlib's 68 points move when a face smiles, measured on MTFL.

A smile is first a change of shape (corners up and out, lips stretched) and only then teeth. This module
holds that change as data: the mean position of each of the 68 points on smiling faces minus the mean on
non-smiling ones, in an *eye frame* (origin between the eyes, x along the eye line, one unit = the
inter-ocular distance), so one displacement fits every face whatever its size, position or roll.
It is the shape-space counterpart of SplitGAN's latent translation ``mean_smile − mean_nonsmile``.

The eyes define the frame because a smile barely moves them, while it moves the mouth, the nose wings
and the jaw; a frame fitted to all points would spread the mouth's motion over the whole face.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from keepsmiling_core.errors import KeepSmilingError

SHAPE_FILE = "smile_shape.json"
FORMAT = "keepsmiling-smile-shape-1"
N_POINTS = 68
LEFT_EYE = slice(36, 42)
RIGHT_EYE = slice(42, 48)


@dataclass(frozen=True)
class EyeFrame:
    """A similarity transform between photo pixels and the eye frame of one face."""

    origin: np.ndarray   # (2,) midpoint of the eye centres, photo pixels
    axis: np.ndarray     # (2,) unit vector from the image-left eye to the image-right eye
    scale: float         # inter-ocular distance in pixels

    @classmethod
    def of(cls, points: np.ndarray) -> EyeFrame:
        points = np.asarray(points, np.float64)
        left, right = points[LEFT_EYE].mean(axis=0), points[RIGHT_EYE].mean(axis=0)
        scale = float(np.linalg.norm(right - left))
        if not np.isfinite(scale) or scale < 1e-6:
            raise KeepSmilingError("The face's eyes coincide, so its shape cannot be normalised.")
        return cls(origin=(left + right) / 2, axis=(right - left) / scale, scale=scale)

    def _rotation(self) -> np.ndarray:
        ax, ay = self.axis
        return np.array([[ax, -ay], [ay, ax]])  # columns: frame x and frame y (pointing down the face)

    def to_frame(self, points: np.ndarray) -> np.ndarray:
        return (np.asarray(points, np.float64) - self.origin) @ self._rotation() / self.scale

    def vectors_to_photo(self, vectors: np.ndarray) -> np.ndarray:
        """Frame displacements as photo-pixel displacements (rotation and scale, no translation)."""
        return np.asarray(vectors, np.float64) @ self._rotation().T * self.scale


@dataclass(frozen=True)
class SmileShape:
    """Mean 68-point shapes of smiling and non-smiling faces in the eye frame, and their difference."""

    mean_smile: np.ndarray      # (68, 2)
    mean_non: np.ndarray        # (68, 2)
    counts: dict                # {"smiling": n, "not_smiling": n}
    source: str                 # what it was measured on

    @property
    def displacement(self) -> np.ndarray:
        """mean_smile − mean_non: where each point goes when a typical face smiles (eye-frame units)."""
        return self.mean_smile - self.mean_non

    def to_json(self) -> dict:
        return {"format": FORMAT, "source": self.source, "counts": self.counts,
                "mean_smile": np.round(self.mean_smile, 5).tolist(),
                "mean_non": np.round(self.mean_non, 5).tolist()}

    @classmethod
    def from_json(cls, data: object, where: str = "smile shape") -> SmileShape:
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise KeepSmilingError(f"{where} is not a KeepSmiling smile-shape file (format {FORMAT}).")
        try:
            smile = np.asarray(data["mean_smile"], np.float64)
            non = np.asarray(data["mean_non"], np.float64)
        except (KeyError, TypeError, ValueError) as exc:
            raise KeepSmilingError(f"{where} lacks valid mean shapes ({exc}).") from None
        if smile.shape != (N_POINTS, 2) or non.shape != (N_POINTS, 2):
            raise KeepSmilingError(f"{where}: the mean shapes must be 68 x 2 points.")
        if not (np.all(np.isfinite(smile)) and np.all(np.isfinite(non))) or np.abs(smile - non).max() > 1.0:
            raise KeepSmilingError(f"{where}: the mean shapes hold non-finite or absurd values.")
        counts = data.get("counts") if isinstance(data.get("counts"), dict) else {}
        return cls(mean_smile=smile, mean_non=non, counts=counts, source=str(data.get("source", "")))


def lip_opening(points: np.ndarray) -> float:
    """How far the lips of a 68-point face are apart (``detection.face.lip_opening``)."""
    from keepsmiling_core.detection.face import MOUTH
    from keepsmiling_core.detection.face import lip_opening as mouth_opening

    return float(mouth_opening(np.asarray(points)[MOUTH]))


def fit_smile_shape(samples: Iterable[tuple[np.ndarray, bool]], source: str) -> SmileShape:
    """Mean eye-frame shape per class from (68 photo points, smiling) pairs."""
    sums = {True: np.zeros((N_POINTS, 2)), False: np.zeros((N_POINTS, 2))}
    counts = {True: 0, False: 0}
    for points, smiling in samples:
        sums[bool(smiling)] += EyeFrame.of(points).to_frame(points)
        counts[bool(smiling)] += 1
    if min(counts.values()) < 10:
        raise KeepSmilingError(f"Too few faces to measure the smile shape ({counts[True]} smiling, "
                               f"{counts[False]} not smiling; at least 10 of each are needed).")
    return SmileShape(mean_smile=sums[True] / counts[True], mean_non=sums[False] / counts[False],
                      counts={"smiling": counts[True], "not_smiling": counts[False]}, source=source)


def save_smile_shape(shape: SmileShape, folder: Path) -> Path:
    from keepsmiling_core.atomic import atomic_write_text

    folder.mkdir(parents=True, exist_ok=True)
    target = folder / SHAPE_FILE
    atomic_write_text(target, json.dumps(shape.to_json(), indent=1) + "\n")
    return target


def load_smile_shape(folder: Path) -> SmileShape:
    path = Path(folder) / SHAPE_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise KeepSmilingError(f"Cannot read the smile shape {path} ({exc.strerror or exc}).") from None
    except ValueError as exc:
        raise KeepSmilingError(f"The smile shape {path} is not valid JSON ({exc}).") from None
    return SmileShape.from_json(data, where=str(path))


def is_shape_model(folder: Path) -> bool:
    return (Path(folder) / SHAPE_FILE).is_file()


def mtfl_shape_samples(records, progress: bool = True) -> Iterator[tuple[np.ndarray, bool]]:
    """dlib's 68 points of MTFL faces and their labels (``mtfl_faces``)."""
    for record, _, points in mtfl_faces(records, progress=progress):
        yield points, record.smiling


def mtfl_faces(records, progress: bool = True) -> Iterator[tuple[object, np.ndarray, np.ndarray]]:
    """(record, RGB photo, dlib's 68 points) of MTFL faces, found the way the app finds them (``detect_faces``).

    The face the app detects nearest MTFL's annotated nose is used; faces the detector misses are
    skipped, so what is measured is what the app can edit."""
    from tqdm import tqdm

    from keepsmiling_core.detection import detect_faces
    from keepsmiling_core.imageio import read_photo

    for record in tqdm(records, desc="68-point shapes", unit="face", disable=not progress):
        try:
            photo = read_photo(record.image_path)
        except KeepSmilingError:
            continue
        nose = np.asarray(record.landmarks, np.float64)[2]
        iod = float(np.linalg.norm(np.subtract(record.landmarks[1], record.landmarks[0])))
        best = None
        for face in detect_faces(photo.rgb):
            distance = float(np.linalg.norm(face.landmarks[2] - nose))
            if face.points is not None and distance < 0.3 * iod and (best is None or distance < best[0]):
                best = (distance, face)
        if best is not None:
            yield record, photo.rgb, best[1].points
