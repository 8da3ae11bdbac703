"""Crop cache: round trip, reuse, rebuild on change, limits, bad photos, damaged caches."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from keepsmiling_core.data.cache import build_crop_cache, load_crop_cache
from keepsmiling_core.data.crops import CropConfig, crop_mouth
from keepsmiling_core.data.mtfl import load_mtfl
from keepsmiling_core.data.tensors import hflip, to_image, to_tensor
from keepsmiling_core.errors import DatasetError
from keepsmiling_core.imageio import read_photo


def _own_copy(mtfl_subset: Path, tmp_path: Path) -> Path:
    """A 40-face MTFL subset whose annotation file and lfw_5590 photos this test may change."""
    root = tmp_path / "mtfl"
    root.mkdir()
    shutil.copy(mtfl_subset / "testing.txt", root / "testing.txt")
    lines = (mtfl_subset / "training.txt").read_bytes().splitlines(keepends=True)
    (root / "training.txt").write_bytes(b"".join(lines[:40]))
    for folder in ("net_7876", "AFLW"):
        (root / folder).symlink_to(mtfl_subset / folder)
    lfw = root / "lfw_5590"
    lfw.mkdir()
    for record in load_mtfl(mtfl_subset, "training")[:40]:
        if record.image_path.parent.name == "lfw_5590":
            shutil.copy(record.image_path, lfw / record.image_path.name)
    return root


def test_fixture_cache_holds_the_balanced_subset(small_cache: Path, small_test_cache: Path) -> None:
    cache = load_crop_cache(small_cache)
    assert cache.images.shape == (400, 32, 32, 3) and cache.images.dtype == np.uint8
    assert int(cache.smiling.sum()) == 200 and cache.size == 32
    assert cache.manifest["counts"] == {"total": 400, "smiling": 200, "not_smiling": 200, "records": 400, "skipped": 0}
    assert cache.matrices.shape == (400, 2, 3) and cache.landmarks.shape == (400, 5, 2)
    assert cache.sources[0].startswith("training.txt line 1 (")
    held_out = load_crop_cache(small_test_cache)
    assert len(held_out) == 100 and int(held_out.smiling.sum()) == 50


def test_cached_crops_equal_direct_crops(small_cache: Path, mtfl_subset: Path) -> None:
    cache = load_crop_cache(small_cache)
    records = load_mtfl(mtfl_subset, "training")
    for i in (0, 137, 399):
        direct = crop_mouth(read_photo(records[i].image_path).rgb, records[i].landmarks, CropConfig(size=32))
        assert np.array_equal(cache.images[i], direct.image)
        np.testing.assert_allclose(cache.matrices[i], direct.matrix)
        assert bool(cache.smiling[i]) == records[i].smiling


def test_reuse_when_unchanged_and_rebuild_when_changed(mtfl_subset: Path, tmp_path: Path) -> None:
    root = _own_copy(mtfl_subset, tmp_path)
    out = tmp_path / "cache"
    notes: list[str] = []
    build_crop_cache(f"mtfl:{root}", out, size=32, limit=20, report=notes.append)
    stamp = (out / "crops.npz").stat().st_mtime_ns
    assert not any("reusing" in n for n in notes)
    build_crop_cache(f"mtfl:{root}", out, size=32, limit=20, report=notes.append)
    assert "reusing" in notes[-1] and (out / "crops.npz").stat().st_mtime_ns == stamp
    # other options -> rebuilt
    build_crop_cache(f"mtfl:{root}", out, size=32, limit=10, report=notes.append)
    assert len(load_crop_cache(out)) == 10
    # changed annotation -> rebuilt, with the new label
    lines = (root / "training.txt").read_text().splitlines()
    fields = lines[0].split()
    fields[12] = "2" if fields[12] == "1" else "1"
    lines[0] = " ".join(fields)
    (root / "training.txt").write_text("\n".join(lines) + "\n")
    before = bool(load_mtfl(mtfl_subset, "training")[0].smiling)
    notes.clear()
    build_crop_cache(f"mtfl:{root}", out, size=32, limit=10, report=notes.append)
    assert not any("reusing" in n for n in notes)
    assert bool(load_crop_cache(out).smiling[0]) is (not before)


def test_limit_takes_first_usable_faces_and_bad_photos_name_their_line(mtfl_subset: Path, tmp_path: Path) -> None:
    root = _own_copy(mtfl_subset, tmp_path)
    records = load_mtfl(root, "training")
    victim = records[2]
    victim.image_path.write_bytes(b"this is not a JPEG")
    with pytest.raises(DatasetError, match=r"training\.txt line 3 .*(not an image|cannot be read).*--skip-bad"):
        build_crop_cache(f"mtfl:{root}", tmp_path / "c", size=32, limit=5)
    notes: list[str] = []
    out = build_crop_cache(f"mtfl:{root}", tmp_path / "c", size=32, limit=5, skip_bad=True, report=notes.append)
    cache = load_crop_cache(out)
    assert len(cache) == 5
    assert [s.split(" (")[0] for s in cache.sources] == [f"training.txt line {n}" for n in (1, 2, 4, 5, 6)]
    assert any("Skipped 1 bad entries" in n and "line 3" in n for n in notes)
    # a missing photo is caught while loading the annotation, also with its line
    victim.image_path.unlink()
    with pytest.raises(DatasetError, match=r"line 3: image .* does not exist"):
        build_crop_cache(f"mtfl:{root}", tmp_path / "d", size=32, limit=5)


def test_pose_filter_progress_and_process_pool_agree(mtfl_subset: Path, tmp_path: Path) -> None:
    seen: list[tuple[int, int]] = []
    single = load_crop_cache(build_crop_cache(f"mtfl:{mtfl_subset}", tmp_path / "one", size=32, split="testing",
                                              pose=3, workers=1, progress=lambda d, t: seen.append((d, t))))
    assert len(single) == 100 and seen[-1] == (100, 100)
    pooled = load_crop_cache(build_crop_cache(f"mtfl:{mtfl_subset}", tmp_path / "two", size=32, split="testing",
                                              pose=3, workers=2))
    assert np.array_equal(single.images, pooled.images)
    with pytest.raises(DatasetError, match="pose 1"):
        build_crop_cache(f"mtfl:{mtfl_subset}", tmp_path / "none", size=32, pose=1)


def test_damaged_or_missing_caches_are_reported(small_cache: Path, tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="is not a crop cache"):
        load_crop_cache(tmp_path)
    broken = tmp_path / "broken"
    shutil.copytree(small_cache, broken)
    data = (broken / "crops.npz").read_bytes()
    (broken / "crops.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(DatasetError, match="damaged"):
        load_crop_cache(broken)
    shutil.copy(small_cache / "crops.npz", broken / "crops.npz")
    manifest = json.loads((broken / "manifest.json").read_text())
    manifest["counts"]["total"] = 5
    (broken / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(DatasetError, match="manifest says 5"):
        load_crop_cache(broken)
    (broken / "manifest.json").write_text("{not json")
    with pytest.raises(DatasetError, match="not valid JSON"):
        load_crop_cache(broken)


def test_tensor_helpers_round_trip_exactly(small_cache: Path) -> None:
    cache = load_crop_cache(small_cache)
    batch = cache.images[:8]
    tensor = to_tensor(batch)
    assert tensor.shape == (8, 3, 32, 32) and tensor.dtype == torch.float32
    assert tensor.min() >= -1 and tensor.max() <= 1
    assert np.array_equal(to_image(tensor), batch)
    assert to_tensor(batch[0]).shape == (1, 3, 32, 32)
    assert np.array_equal(to_image(torch.full((3, 2, 2), 5.0))[0], np.full((2, 2, 3), 255, np.uint8))
    assert np.array_equal(hflip(batch)[:, :, 0], batch[:, :, -1])
    with pytest.raises(TypeError):
        to_tensor(batch.astype(np.float32))


def test_cancelling_writes_nothing(mtfl_subset: Path, tmp_path: Path) -> None:
    calls = iter(range(1000))
    with pytest.raises(DatasetError, match="cancelled"):
        build_crop_cache(f"mtfl:{mtfl_subset}", tmp_path / "c", size=32, should_stop=lambda: next(calls) >= 5)
    assert not (tmp_path / "c" / "crops.npz").exists() and not (tmp_path / "c" / "manifest.json").exists()
