"""Small real crop caches built from the shared MTFL data, shared by the whole suite.

Fixtures (all session-scoped, built once into pytest's temp dir):

* ``mtfl_subset`` -> Path of an MTFL-format folder holding a FIXED, class-balanced subset of the real
  data: ``training.txt`` with 400 frontal faces (200 smiling / 200 not) and ``testing.txt`` with 100
  (50 / 50), in the published layout (CRLF, a leading space on every line but the first, backslash paths,
  a lone-space last line), image folders symlinked.
  Use it as ``f"mtfl:{mtfl_subset}"`` anywhere a dataset spec is wanted.
* ``small_cache`` -> Path of a 32x32 aligned crop cache of the 400 training faces (pass it as a
  training ``data`` dir, or open it with ``keepsmiling_core.data.cache.load_crop_cache``).
* ``small_cache_64`` -> the same 400 faces at 64x64.
* ``small_test_cache`` -> the 100 testing faces at 32x32 (held-out data for evaluation tests).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from keepsmiling_core.data.cache import build_crop_cache

SUBSET_TRAIN_PER_CLASS = 200
SUBSET_TEST_PER_CLASS = 50
FRONTAL = 3


def _balanced_lines(annotation: Path, per_class: int) -> list[bytes]:
    """Frontal lines spread evenly over the file (so both source folders appear), ``per_class`` of each smile label."""
    lines = annotation.read_bytes().splitlines(keepends=True)
    by_label: dict[str, list[int]] = {"1": [], "2": []}
    for index, raw in enumerate(lines):
        fields = raw.split()
        if len(fields) == 15 and int(fields[14]) == FRONTAL:
            by_label[fields[12].decode()].append(index)
    chosen: list[int] = []
    for indices in by_label.values():
        step = max(1, len(indices) // per_class)
        chosen.extend(indices[::step][:per_class])
    picked = [lines[i] for i in sorted(chosen)]
    # Keep the published quirks: the first line has no leading space, every later one has, CRLF, blank end.
    picked = [p.lstrip(b" ") if i == 0 else b" " + p.lstrip(b" ") for i, p in enumerate(picked)]
    return picked + [b" "]


def make_mtfl_subset(mtfl_root: Path, out: Path, train_per_class: int, test_per_class: int) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    for folder in ("lfw_5590", "net_7876", "AFLW"):
        link = out / folder
        if not link.exists():
            link.symlink_to(mtfl_root / folder, target_is_directory=True)
    (out / "training.txt").write_bytes(b"".join(_balanced_lines(mtfl_root / "training.txt", train_per_class)))
    (out / "testing.txt").write_bytes(b"".join(_balanced_lines(mtfl_root / "testing.txt", test_per_class)))
    return out


@pytest.fixture(scope="session")
def mtfl_subset(mtfl_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_mtfl_subset(mtfl_root, tmp_path_factory.mktemp("mtfl_subset"),
                            SUBSET_TRAIN_PER_CLASS, SUBSET_TEST_PER_CLASS)


@pytest.fixture(scope="session")
def small_cache(mtfl_subset: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_crop_cache(f"mtfl:{mtfl_subset}", tmp_path_factory.mktemp("cache32"), size=32, workers=1)


@pytest.fixture(scope="session")
def small_cache_64(mtfl_subset: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_crop_cache(f"mtfl:{mtfl_subset}", tmp_path_factory.mktemp("cache64"), size=64, workers=1)


@pytest.fixture(scope="session")
def small_test_cache(mtfl_subset: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_crop_cache(f"mtfl:{mtfl_subset}", tmp_path_factory.mktemp("cache32_test"), size=32,
                            split="testing", workers=1)
