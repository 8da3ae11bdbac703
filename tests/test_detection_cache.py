"""Face detections of evaluation photos are cached per photo and reused until the photo changes."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from keepsmiling_core.errors import ImageReadError
from keepsmiling_core.evaluation import detections
from keepsmiling_core.evaluation.detections import (
    cache_file,
    cached_faces,
    cached_photo_faces,
    default_cache_dir,
)
from keepsmiling_core.paths import samples_dir


def _no_detection(*_args, **_kwargs):
    raise AssertionError("detect_faces ran although the cache holds this photo")


def test_second_call_reads_the_cache_without_detecting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    photo = tmp_path / "grace.jpg"
    shutil.copyfile(samples_dir() / "grace-hopper.jpg", photo)
    cache = tmp_path / "cache"
    first = cached_faces(photo, cache)
    assert len(first) == 1
    entry = cache_file(photo, cache)
    stored = json.loads(entry.read_text())
    assert stored["key"]["path"] == str(photo.resolve()) and stored["key"]["version"] == detections.CACHE_VERSION
    assert list(cache.iterdir()) == [entry]  # atomic write: no temporary left behind

    monkeypatch.setattr(detections, "detect_faces", _no_detection)
    second = cached_faces(photo, cache)
    assert [f.to_json() for f in second] == [f.to_json() for f in first]
    np.testing.assert_allclose(second[0].landmarks, first[0].landmarks, atol=0.01)
    assert [[f.to_json() for f in faces] for faces in cached_photo_faces([photo], cache, progress=False)] == \
        [[f.to_json() for f in first]]

    # A photo that changed on disk, or a new cache version, is detected again.
    stat = photo.stat()
    os.utime(photo, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    with pytest.raises(AssertionError, match="detect_faces ran"):
        cached_faces(photo, cache)
    os.utime(photo, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert len(cached_faces(photo, cache)) == 1
    monkeypatch.setattr(detections, "CACHE_VERSION", detections.CACHE_VERSION + 1)
    with pytest.raises(AssertionError, match="detect_faces ran"):
        cached_faces(photo, cache)


def test_unreadable_photo_is_a_clear_error_and_not_cached(tmp_path: Path) -> None:
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not a jpeg")
    with pytest.raises(ImageReadError, match="broken.jpg"):
        cached_faces(broken, tmp_path / "cache")
    assert not cache_file(broken, tmp_path / "cache").exists()


def test_default_cache_is_under_the_user_cache_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KEEPSMILING_CACHE", raising=False)
    monkeypatch.setenv("KEEPSMILING_HOME", str(tmp_path))
    assert default_cache_dir() == tmp_path / "cache" / "detections"
    monkeypatch.setenv("KEEPSMILING_CACHE", str(tmp_path / "elsewhere"))
    assert default_cache_dir() == tmp_path / "elsewhere" / "detections"
