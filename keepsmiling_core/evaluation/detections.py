"""Face detections of evaluation photos, computed once per photo and kept as JSON.

Detection is the slow step of judging whole photos (dlib HOG plus the CNN check of weak faces:
the 2,000 GENKI-4K-dev photos took 2 minutes on 2 CPU cores, larger photos take longer), and the
evaluation and the judge's training read the same photos again and again. Each photo's faces are stored in one small JSON file named by a hash of the
photo's resolved path; the file also records the photo's size and modification time, so a photo
that changed on disk is detected again, and ``CACHE_VERSION`` — bump it when ``Face``'s JSON or
the detector's behaviour changes, and every old entry is ignored.

The photo is read with ``read_photo`` and passed whole to ``detect_faces`` with its defaults,
exactly as ``keepsmiling smile`` and the app do, so the evaluation sees the faces a user gets.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path

from keepsmiling_core.atomic import atomic_write_text
from keepsmiling_core.detection.detector import detect_faces
from keepsmiling_core.detection.face import Face
from keepsmiling_core.imageio import read_photo
from keepsmiling_core.paths import user_cache_dir

CACHE_FORMAT = "keepsmiling-detections"
CACHE_VERSION = 2   # 2: faces carry all 68 points (the landmark warp needs them)
CACHE_FOLDER = "detections"


def default_cache_dir() -> Path:
    """``detections/`` under the per-user cache folder."""
    return user_cache_dir() / CACHE_FOLDER


def cache_file(path: Path, cache_dir: Path | None = None) -> Path:
    """Where the detections of ``path`` are (or would be) cached."""
    folder = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    digest = hashlib.sha256(str(Path(path).resolve()).encode("utf-8")).hexdigest()[:32]
    return folder / f"{digest}.json"


def _photo_key(path: Path) -> dict:
    resolved = Path(path).resolve()
    stat = resolved.stat()
    return {"format": CACHE_FORMAT, "version": CACHE_VERSION, "path": str(resolved),
            "size": int(stat.st_size), "mtime_ns": int(stat.st_mtime_ns)}


def read_cached_faces(path: Path, cache_dir: Path | None = None) -> list[Face] | None:
    """The cached faces of ``path`` when a valid, current entry exists; None otherwise (no detection)."""
    path = Path(path)
    entry = cache_file(path, cache_dir)
    if not entry.is_file() or not path.is_file():
        return None
    try:
        data = json.loads(entry.read_text(encoding="utf-8"))
        if data.get("key") != _photo_key(path):
            return None
        return [Face.from_json(face) for face in data["faces"]]
    except (OSError, ValueError, KeyError, TypeError):
        return None  # a damaged entry is simply detected again


def cached_faces(path: Path, cache_dir: Path | None = None) -> list[Face]:
    """The faces ``detect_faces`` finds in the photo at ``path``, from the cache when it is current.

    Raises ``ImageReadError`` for an unreadable photo and ``DetectionError`` when dlib is missing;
    neither is cached, so fixing the cause is enough.
    """
    path = Path(path)
    faces = read_cached_faces(path, cache_dir)
    if faces is not None:
        return faces
    photo = read_photo(path)
    faces = detect_faces(photo.rgb)
    entry = cache_file(path, cache_dir)
    entry.parent.mkdir(parents=True, exist_ok=True)
    payload = {"key": _photo_key(path), "faces": [face.to_json() for face in faces]}
    atomic_write_text(entry, json.dumps(payload))
    return faces


def cached_photo_faces(paths: Iterable[Path], cache_dir: Path | None = None,
                       progress: bool = True) -> list[list[Face]]:
    """``cached_faces`` of every photo in ``paths`` (in order), with a tqdm bar when ``progress``."""
    paths = [Path(p) for p in paths]
    if progress:
        from tqdm import tqdm

        paths_iter: Iterable[Path] = tqdm(paths, desc="detecting faces", unit="photo")
    else:
        paths_iter = paths
    return [cached_faces(path, cache_dir) for path in paths_iter]
