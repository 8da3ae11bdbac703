"""Labelled folders: ``ROOT/smiling/`` and ``ROOT/not_smiling/`` with any photos, landmarks from the detector.

This is how a user brings their own faces: no annotation file, so the 5 landmarks come from
``keepsmiling_core.detection.detect_faces`` - the same detector the editor uses on photos, which keeps
training crops and editing crops framed alike. A photo with several faces contributes its largest one
(a labelled portrait's subject); a photo with no face is skipped and counted, never an error.

Splits: ``ROOT/smiling`` + ``ROOT/not_smiling`` are the training split; if ``ROOT/testing/`` (or
``test/``) holds its own ``smiling/`` and ``not_smiling/``, that is the testing split.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from keepsmiling_core.errors import DatasetError, ImageReadError
from keepsmiling_core.imageio import read_photo

from .records import FaceRecord, Reporter, SkipLog, check_landmarks

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}
LABEL_DIRS = (("smiling", True), ("not_smiling", False))
# Below this many photos a pool (each worker loads dlib's model, ~1 s) costs more than it saves.
POOL_MIN_PHOTOS = 64


def split_root(root: Path, split: str) -> Path:
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(f"Folder {root} does not exist.")
    if split in ("training", "train", "all"):
        base = root
    elif split in ("testing", "test"):
        base = next((root / n for n in ("testing", "test") if (root / n).is_dir()), None)
        if base is None:
            raise DatasetError(f"{root} has no testing/ folder (with smiling/ and not_smiling/ inside).")
    else:
        raise DatasetError(f"Labelled folders have no split {split!r}: use training or testing.")
    missing = [name for name, _ in LABEL_DIRS if not (base / name).is_dir()]
    if missing:
        raise DatasetError(f"{base} needs the subfolders smiling/ and not_smiling/; {', '.join(missing)}/ is missing.")
    return base


def photos(base: Path) -> list[tuple[Path, bool]]:
    """(photo, smiling) for every image file in the label folders, in a stable (sorted) order."""
    found = []
    for name, smiling in LABEL_DIRS:
        for path in sorted((base / name).iterdir()):
            if path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES and not path.name.startswith("."):
                found.append((path, smiling))
    return found


def _detect_one(path: Path) -> tuple[str, object, int, float]:
    """(status, landmarks or reason, faces found, score) for one photo; runs in pool workers too."""
    from keepsmiling_core.detection import detect_faces  # dlib is only needed for this source

    try:
        image = read_photo(path).rgb
    except ImageReadError as exc:
        return "bad", str(exc), 0, 0.0
    faces = detect_faces(image)
    usable = [f for f in faces if check_landmarks(np.asarray(f.landmarks, np.float32)) is None]
    if not usable:
        return "none", None, len(faces), 0.0
    face = max(usable, key=lambda f: (f.box[2] - f.box[0]) * (f.box[3] - f.box[1]))
    return "ok", np.asarray(face.landmarks, dtype=np.float32), len(faces), float(face.score)


def _detections(paths: list[Path], workers: int | None) -> Iterator[tuple[str, object, int, float]]:
    if workers is None:
        workers = 1 if len(paths) < POOL_MIN_PHOTOS else max(1, min(8, os.cpu_count() or 1))
    if workers <= 1:
        yield from map(_detect_one, paths)
        return
    with multiprocessing.get_context("spawn").Pool(workers) as pool:  # never fork a threaded process
        yield from pool.imap(_detect_one, paths, chunksize=4)


def load(root: Path, split: str = "training", *, skip_bad: bool = False, report: Reporter | None = None,
         progress: Callable[[int, int], None] | None = None, workers: int | None = None) -> list[FaceRecord]:
    """Detect a face in every labelled photo; unreadable photos raise DatasetError unless ``skip_bad``.

    Detection is the slow part (~50-150 ms a photo), so big folders use a process pool and report
    ``progress(done, total)``.
    """
    base = split_root(Path(root), split)
    items = photos(base)
    if not items:
        raise DatasetError(f"{base}/smiling and {base}/not_smiling hold no images ({', '.join(sorted(IMAGE_SUFFIXES))}).")
    skipped = SkipLog(str(base), report)
    no_face: list[str] = []
    records: list[FaceRecord] = []
    results = _detections([path for path, _ in items], workers)
    try:
        for done, ((path, smiling), (status, value, n_faces, score)) in enumerate(zip(items, results, strict=False), 1):
            rel = path.relative_to(base).as_posix()
            if status == "bad":
                if not skip_bad:
                    raise DatasetError(f"{value} Remove it from {path.parent} or pass --skip-bad.")
                skipped.add(f"{rel}: {value}")
            elif status == "none":
                no_face.append(rel)
            else:
                records.append(FaceRecord(path, value, smiling,
                                          {"source": base.name, "file": rel, "faces": n_faces, "score": score}))
            if progress is not None:
                progress(done, len(items))
    finally:
        close = getattr(results, "close", None)
        if close is not None:
            close()
    skipped.flush()
    if no_face and report is not None:
        report(f"No face found in {len(no_face)} of {len(items)} photos (skipped): {', '.join(no_face[:3])}"
               + (" ..." if len(no_face) > 3 else ""))
    if not records:
        raise DatasetError(f"No face was found in any photo under {base}.")
    return records


def fingerprint_items(root: Path, split: str) -> list[Path | str]:
    """Names, sizes and modification times: adding, removing or replacing a photo rebuilds the cache."""
    base = split_root(Path(root), split)
    items: list[Path | str] = []
    for path, smiling in photos(base):
        stat = path.stat()
        items.append(f"{path.relative_to(base).as_posix()}|{smiling}|{stat.st_size}|{stat.st_mtime_ns}")
    return items
