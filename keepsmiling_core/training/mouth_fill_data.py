"""Training material for the mouth-fill network: real open mouths, cut the way the editor cuts them.

The fill network draws only what a smile reveals — teeth and the dark gap between parted lips — inside
the hole the landmark warp opens. It learns from real faces whose lips are apart: each sample is the
face's aligned mouth crop (``crop_mouth``, the editor's framing) and the inner-lip polygon (dlib points
60–67) in crop coordinates; training cuts that polygon out and asks the network to paint it back.

Faces are found with ``detect_faces`` exactly as the app finds them, so the polygons carry the app's
landmark noise. Detection is the slow part (about 0.3 s a photo), so the extracted samples are kept in
one ``.npz`` per source under the user cache, keyed by everything that changes them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from keepsmiling_core.data.crops import CROP_MATH_VERSION, CropConfig, crop_mouth
from keepsmiling_core.detection.face import MOUTH, OUTER_LIP_POINTS, lip_opening
from keepsmiling_core.errors import DatasetError, KeepSmilingError

SAMPLES_VERSION = 1


@dataclass
class MouthSamples:
    """Aligned mouth crops with their lip polygons in crop pixels."""

    crops: np.ndarray       # (N, S, S, 3) uint8
    inner: np.ndarray       # (N, 8, 2) float32
    outer: np.ndarray       # (N, 12, 2) float32
    smiling: np.ndarray     # (N,) bool

    def __len__(self) -> int:
        return len(self.crops)

    def opening(self) -> np.ndarray:
        """How far each mouth's lips are apart (``detection.face.lip_opening``)."""
        return lip_opening(np.concatenate([self.outer, self.inner], axis=1))

    def select(self, keep: np.ndarray) -> MouthSamples:
        return MouthSamples(self.crops[keep], self.inner[keep], self.outer[keep], self.smiling[keep])

    @staticmethod
    def concatenate(parts: Iterable[MouthSamples]) -> MouthSamples:
        parts = list(parts)
        return MouthSamples(*(np.concatenate([getattr(p, name) for p in parts])
                              for name in ("crops", "inner", "outer", "smiling")))


def extract_samples(items: Iterable[tuple[Path, np.ndarray | None, bool]], config: CropConfig,
                    progress: Callable[[int], None] | None = None) -> MouthSamples:
    """Crops and polygons of (photo, annotated nose or None, smiling) items.

    With a nose the face nearest it is used (MTFL), otherwise the largest face (GENKI: one person a
    photo). Photos that cannot be read and faces the detector misses are skipped."""
    from keepsmiling_core.detection import detect_faces
    from keepsmiling_core.imageio import read_photo

    crops, inner, outer, smiling = [], [], [], []
    for done, (path, nose, smile) in enumerate(items, 1):
        if progress is not None:
            progress(done)
        try:
            photo = read_photo(path)
            faces = [f for f in detect_faces(photo.rgb) if f.points is not None]
        except KeepSmilingError:
            continue
        if not faces:
            continue
        if nose is not None:
            face = min(faces, key=lambda f: float(np.linalg.norm(f.landmarks[2] - nose)))
            if np.linalg.norm(face.landmarks[2] - nose) > 0.3 * face.inter_ocular:
                continue
        else:
            face = max(faces, key=lambda f: (f.box[2] - f.box[0]) * (f.box[3] - f.box[1]))
        try:
            crop = crop_mouth(photo.rgb, face.landmarks, config)
        except KeepSmilingError:
            continue
        mouth = crop.to_crop(face.points[MOUTH])
        crops.append(crop.image)
        outer.append(mouth[:OUTER_LIP_POINTS])
        inner.append(mouth[OUTER_LIP_POINTS:])
        smiling.append(bool(smile))
    if not crops:
        raise DatasetError("No usable face was found in the mouth-fill training photos.")
    return MouthSamples(np.stack(crops), np.asarray(inner, np.float32), np.asarray(outer, np.float32),
                        np.asarray(smiling, bool))


def cached_samples(name: str, items: list[tuple[Path, np.ndarray | None, bool]], config: CropConfig,
                   cache_dir: Path, progress: Callable[[int], None] | None = None) -> MouthSamples:
    """``extract_samples`` once: later calls with the same photos and framing read the ``.npz``."""
    from keepsmiling_core.atomic import atomic_write

    key = json.dumps({"v": SAMPLES_VERSION, "crop": CROP_MATH_VERSION, "config": config.to_json(),
                      "items": [(str(p), None if n is None else np.round(n, 2).tolist(), s) for p, n, s in items]})
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]
    path = Path(cache_dir) / f"mouth-samples-{name}-{digest}.npz"
    if path.is_file():
        try:
            with np.load(path) as data:
                return MouthSamples(data["crops"], data["inner"], data["outer"], data["smiling"])
        except (OSError, ValueError, KeyError):
            pass   # a damaged cache is rebuilt
    samples = extract_samples(items, config, progress)

    def fill(buffer) -> None:
        np.savez(buffer, crops=samples.crops, inner=samples.inner, outer=samples.outer, smiling=samples.smiling)

    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, fill)
    return samples


def mtfl_items(root: Path, split: str = "training", smiling_only: bool = True) -> list[tuple[Path, np.ndarray, bool]]:
    """Near-frontal MTFL faces (pose 2–4) with their annotated nose."""
    from keepsmiling_core.data.mtfl import load_mtfl

    records = load_mtfl(Path(root), split, skip_bad=True)
    return [(r.image_path, np.asarray(r.landmarks[2], np.float64), r.smiling) for r in records
            if r.meta.get("pose", 3) in (2, 3, 4) and (r.smiling or not smiling_only)]


def genki_items(root: Path) -> list[tuple[Path, None, bool]]:
    """GENKI-4K-dev's judge part only: the eval part never trains anything."""
    from keepsmiling_core.data.genki import genki_photos

    return [(p.path, None, p.smiling) for p in genki_photos(Path(root), "judge")]
