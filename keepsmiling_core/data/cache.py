"""The crop cache: every mouth of a dataset split cropped once, so training never decodes a JPEG again.

On disk, ``DIR/crops.npz`` holds ``images`` (N, S, S, 3) uint8, ``smiling`` (N,) bool, ``matrices``
(N, 2, 3) float64 photo->crop affines and ``landmarks`` (N, 5, 2) float32 in crop coordinates;
``DIR/manifest.json`` says what made it (source spec, split, crop config, filters, the sha256 of the
source's annotation and the options) and what is in it (counts). A rebuild with the same inputs finds
the same key in the manifest and reuses the cache instead of cropping again.

Every photo is read and cropped while the cache is built, so a missing or broken image is reported
here, against its annotation line, and never inside a DataLoader worker in the middle of training.
"""

from __future__ import annotations

import hashlib
import json
import math
import multiprocessing
import os
import time
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from keepsmiling_core.atomic import atomic_write, atomic_write_text, ensure_folder
from keepsmiling_core.errors import CropError, DatasetError, ImageReadError
from keepsmiling_core.imageio import read_photo

from .crops import CROP_MATH_VERSION, CropConfig, apply_matrix, crop_mouth
from .records import FaceRecord, Reporter, SkipLog
from .sources import fingerprint, load_records, parse_spec

FORMAT = "keepsmiling-crop-cache"
FORMAT_VERSION = 1
CROPS_FILE = "crops.npz"
MANIFEST_FILE = "manifest.json"
# Below this many faces a process pool costs more to start than it saves.
POOL_MIN_FACES = 1500

PROGRESS_EVERY_S = 0.05

Progress = Callable[[int, int], None]


@dataclass
class CropCache:
    """A loaded crop cache; ``images`` feed ``tensors.to_tensor`` directly."""

    images: np.ndarray
    smiling: np.ndarray
    sources: list[str]
    manifest: dict
    path: Path
    matrices: np.ndarray | None = None
    landmarks: np.ndarray | None = None

    @property
    def size(self) -> int:
        return int(self.images.shape[1])

    def __len__(self) -> int:
        return int(self.images.shape[0])

    def subset(self, indices: Iterable[int] | np.ndarray) -> CropCache:
        """The same cache restricted to ``indices`` (e.g. a validation split or one class)."""
        idx = np.asarray(list(indices) if not isinstance(indices, np.ndarray) else indices)
        if idx.dtype == bool:
            idx = np.flatnonzero(idx)
        return CropCache(
            images=self.images[idx], smiling=self.smiling[idx], sources=[self.sources[i] for i in idx],
            manifest=self.manifest, path=self.path,
            matrices=None if self.matrices is None else self.matrices[idx],
            landmarks=None if self.landmarks is None else self.landmarks[idx],
        )


def _cache_key(spec: str, split: str, config: CropConfig, limit: int | None, pose: int | None,
               skip_bad: bool) -> dict:
    source = parse_spec(spec)
    return {
        "source": str(source),
        "split": split,
        "crop": config.to_json(),
        "limit": limit,
        "pose": pose,
        "skip_bad": skip_bad,
        "crop_math": CROP_MATH_VERSION,
        "source_sha256": fingerprint(spec, split),
    }


def _key_digest(key: dict) -> str:
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()


def _crop_task(task: tuple[str, np.ndarray, dict]) -> tuple[str, object, object]:
    """Read + crop one face (runs in pool workers); errors come back as values, never as worker crashes."""
    path, landmarks, config_json = task
    try:
        image = read_photo(path).rgb
        crop = crop_mouth(image, landmarks, CropConfig(**config_json))
        return "ok", crop.image, crop.matrix
    except ImageReadError as exc:
        return "image", str(exc), None
    except CropError as exc:
        return "crop", str(exc), None
    except Exception as exc:  # noqa: BLE001 - any decoder surprise must name its file, not kill the pool
        return "image", f"{path}: {type(exc).__name__}: {exc}", None


def _results(tasks: list[tuple[str, np.ndarray, dict]], workers: int) -> Iterator[tuple[str, object, object]]:
    if workers <= 1:
        yield from map(_crop_task, tasks)
        return
    # spawn: never fork a process that may hold torch/OpenMP threads (the GUI, the test session).
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(workers) as pool:
        yield from pool.imap(_crop_task, tasks, chunksize=32)
        pool.terminate()  # with --limit we may stop early; do not wait for the rest


def default_workers(count: int) -> int:
    if count < POOL_MIN_FACES:
        return 1
    return max(1, min(8, os.cpu_count() or 1))


def cache_is_current(out_dir: Path | str, key: dict) -> bool:
    """True when ``out_dir`` holds a complete cache made from exactly these inputs."""
    out_dir = Path(out_dir)
    try:
        manifest = json.loads((out_dir / MANIFEST_FILE).read_text())
    except (OSError, ValueError):
        return False
    return (isinstance(manifest, dict) and manifest.get("format") == FORMAT and manifest.get("format_version") == FORMAT_VERSION
            and manifest.get("key_sha256") == _key_digest(key) and (out_dir / CROPS_FILE).is_file())


def build_crop_cache(spec: str, out_dir: Path | str, *, size: int = 64, split: str = "training",
                     limit: int | None = None, mode: str = "aligned", pose: int | None = None,
                     progress: Progress | None = None, skip_bad: bool = False,
                     report: Reporter | None = None, workers: int | None = None,
                     should_stop: Callable[[], bool] | None = None, force: bool = False,
                     config: CropConfig | None = None) -> Path:
    """Crop a dataset split into ``out_dir`` (or reuse what is there) and return ``out_dir``.

    ``limit`` keeps the first N *usable* faces in dataset order (after the ``pose`` filter and after
    skipping bad ones), so quick runs are reproducible. ``report`` receives one-line notes for the user
    (reuse, skipped counts); ``progress(done, total)`` is called as faces are cropped.
    """
    out_dir = Path(out_dir)
    config = config or CropConfig(size=size, mode=mode)
    if limit is not None and limit <= 0:
        raise DatasetError(f"--limit must be a positive number of faces, got {limit}.")
    key = _cache_key(spec, split, config, limit, pose, skip_bad)
    if not force and cache_is_current(out_dir, key):
        if report:
            report(f"Crop cache in {out_dir} is up to date (same source, split and options); reusing it.")
        return out_dir

    started = time.monotonic()
    records = load_records(spec, split, skip_bad=skip_bad, report=report,
                           progress=progress if parse_spec(spec).kind == "folders" else None)
    if pose is not None:
        records = [r for r in records if r.meta.get("pose", pose) == pose]
        if not records:
            raise DatasetError(f"No face of {spec} ({split}) has pose {pose}.")
    images, smiling, matrices, sources, n_skipped = _crop_records(records, config, limit=limit, progress=progress,
                                                       skip_bad=skip_bad, report=report,
                                                       workers=workers, should_stop=should_stop)
    if not len(images):
        raise DatasetError(f"No usable face was found in {spec} ({split}).")
    images_arr = images
    matrices_arr = np.stack(matrices)
    smiling_arr = np.asarray(smiling, dtype=bool)
    crop_landmarks = np.stack([apply_matrix(m, r.landmarks).astype(np.float32)
                               for m, r in zip(matrices, sources, strict=True)])
    ensure_folder(out_dir, "crop cache folder")

    def write_crops(handle) -> None:
        np.savez(handle, images=images_arr, smiling=smiling_arr, matrices=matrices_arr,
                 landmarks=crop_landmarks, sources=np.asarray([r.where() for r in sources]))

    atomic_write(out_dir / CROPS_FILE, write_crops)
    n_smiling = int(smiling_arr.sum())
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "key_sha256": _key_digest(key),
        **key,
        "size": config.size,
        "mode": config.mode,
        "counts": {"total": len(images), "smiling": n_smiling, "not_smiling": len(images) - n_smiling,
                   "records": len(records), "skipped": n_skipped},
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "seconds": round(time.monotonic() - started, 2),
    }
    atomic_write_text(out_dir / MANIFEST_FILE, json.dumps(manifest, indent=2) + "\n")
    return out_dir


def _crop_records(records: list[FaceRecord], config: CropConfig, *, limit: int | None,
                  progress: Progress | None, skip_bad: bool, report: Reporter | None,
                  workers: int | None, should_stop: Callable[[], bool] | None
                  ) -> tuple[np.ndarray, list[bool], list[np.ndarray], list[FaceRecord], int]:
    wanted = len(records) if limit is None else min(limit, len(records))
    # With a limit, only look a little past it: enough to replace the odd bad face, not the whole set.
    candidates = records if limit is None else records[: min(len(records), limit + max(64, math.ceil(0.1 * limit)))]
    if workers is None:
        workers = default_workers(len(candidates))
    config_json = config.to_json()
    tasks = [(str(r.image_path), r.landmarks, config_json) for r in candidates]
    skipped = SkipLog("the photos", report)
    uncroppable = SkipLog("the crops (faces whose landmarks allow no mouth crop)", report)
    # Filled in place: a list of crops plus np.stack would briefly hold every crop twice (GBs for CelebA).
    images = np.empty((wanted, config.size, config.size, 3), dtype=np.uint8)
    count = 0
    smiling: list[bool] = []
    matrices: list[np.ndarray] = []
    kept: list[FaceRecord] = []
    results = _results(tasks, workers)
    last_report = 0.0
    try:
        for done, (record, (status, value, matrix)) in enumerate(zip(candidates, results, strict=False), 1):
            if should_stop is not None and should_stop():
                raise DatasetError("Preparing the crop cache was cancelled; nothing was written.")
            if status == "ok":
                images[count] = value
                count += 1
                smiling.append(record.smiling)
                matrices.append(matrix)
                kept.append(record)
            elif status == "crop":
                # Landmarks that allow no crop (a degenerate "original" box, a mouth a few pixels wide)
                # are a property of the face, not broken data: skip and count, like photos without a face.
                uncroppable.add(f"{record.where()}: {value}")
            else:
                reason = f"{record.where()}: {value}"
                if not skip_bad:
                    raise DatasetError(f"{reason} Fix or remove it, or pass --skip-bad to skip such faces.")
                skipped.add(reason)
            finished = count >= wanted or done == len(candidates)
            now = time.monotonic()
            if progress is not None and (finished or now - last_report >= PROGRESS_EVERY_S):
                # throttled: a GUI turns every call into a signal, 10,000 of them would flood its event loop
                last_report = now
                progress(min(count, wanted) if limit is not None else done, wanted)
            if count >= wanted:
                break
    finally:
        close = getattr(results, "close", None)
        if close is not None:
            close()
    skipped.flush()
    uncroppable.flush()
    return images[:count], smiling, matrices, kept, len(skipped.reasons) + len(uncroppable.reasons)


def load_crop_cache(path: Path | str) -> CropCache:
    """Open a cache folder (or its crops.npz); DatasetError saying what to do when it is missing or broken."""
    path = Path(path)
    folder = path.parent if path.suffix == ".npz" else path
    crops_file = folder / CROPS_FILE
    manifest_file = folder / MANIFEST_FILE
    if not crops_file.is_file() or not manifest_file.is_file():
        raise DatasetError(
            f"{folder} is not a crop cache (needs {CROPS_FILE} and {MANIFEST_FILE}); "
            "make one with: keepsmiling prepare --dataset mtfl:PATH --out DIR"
        )
    from keepsmiling_core.errors import KeepSmilingError
    from keepsmiling_core.validation import need_dict, read_json_file

    todo = "rebuild the cache with keepsmiling prepare"
    try:
        manifest = need_dict(read_json_file(manifest_file, todo), manifest_file, None, todo)
        counts = need_dict(manifest.get("counts", {}), manifest_file, "counts", todo)
    except KeepSmilingError as exc:
        raise DatasetError(str(exc)) from None
    if manifest.get("format") != FORMAT or manifest.get("format_version") != FORMAT_VERSION:
        raise DatasetError(
            f"{folder} holds a crop cache of another format ({manifest.get('format')} "
            f"v{manifest.get('format_version')}); rebuild it with keepsmiling prepare."
        )
    try:
        with np.load(crops_file, allow_pickle=False) as data:
            images = data["images"]
            smiling = data["smiling"].astype(bool)
            matrices = data["matrices"] if "matrices" in data else None
            landmarks = data["landmarks"] if "landmarks" in data else None
            sources = [str(s) for s in data["sources"]] if "sources" in data else [""] * len(images)
    except (OSError, ValueError, KeyError, EOFError, MemoryError, zipfile.BadZipFile) as exc:
        raise DatasetError(f"{crops_file} is damaged ({exc}); rebuild the cache with keepsmiling prepare.") from None
    if images.ndim != 4 or images.shape[3] != 3 or images.dtype != np.uint8 or len(smiling) != len(images):
        raise DatasetError(f"{crops_file} does not hold (N, S, S, 3) uint8 crops with one label each; rebuild it.")
    expected = counts.get("total")
    if expected is not None and expected != len(images):
        raise DatasetError(f"{crops_file} holds {len(images)} crops but its manifest says {expected}; rebuild it.")
    return CropCache(images=images, smiling=smiling, sources=sources, manifest=manifest, path=folder,
                     matrices=matrices, landmarks=landmarks)
