"""Shared test set-up: headless Qt, single-threaded torch, and the real MTFL data beside the checkout."""

from __future__ import annotations

import os

# pytest-qt aborts without a display; every GUI test runs offscreen.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
import torch  # noqa: E402

from keepsmiling_core.paths import mtfl_dir, shared_data_dir  # noqa: E402

# Small test tensors gain nothing from threads, and the shared tiny runs train in a background process on the
# other core (fixtures_models).
torch.set_num_threads(1)


@pytest.fixture(scope="session")
def mtfl_root() -> Path:
    root = mtfl_dir()
    if not (root / "training.txt").exists():
        pytest.fail(f"The shared MTFL data is missing at {root}; tests need ../shared/data/MTFL.")
    return root


@pytest.fixture(scope="session")
def astronaut_face():
    """The grinning sample portrait (lips parted over teeth) and its face."""
    from keepsmiling_core.detection import detect_faces
    from keepsmiling_core.imageio import read_photo
    from keepsmiling_core.paths import samples_dir

    photo = read_photo(samples_dir() / "astronaut.jpg").rgb
    return photo, detect_faces(photo)[0]


@pytest.fixture(scope="session")
def grace_hopper():
    """The unsmiling sample portrait and its one detected face (with all 68 points)."""
    from keepsmiling_core.detection import detect_faces
    from keepsmiling_core.imageio import read_photo
    from keepsmiling_core.paths import samples_dir

    photo = read_photo(samples_dir() / "grace-hopper.jpg").rgb
    faces = detect_faces(photo)
    assert len(faces) == 1 and faces[0].points is not None and faces[0].points.shape == (68, 2)
    return photo, faces[0]


@pytest.fixture(scope="session")
def genki_root() -> Path:
    root = shared_data_dir() / "GENKI-4K-dev"
    if not (root / "labels.txt").exists():
        pytest.fail(f"The shared GENKI data is missing at {root}; tests need ../shared/data/GENKI-4K-dev.")
    return root


# Shared fixtures live beside this file, one module per owner, so parts can grow them independently:
#   fixtures_data.py   -- small real crop caches built from MTFL (owner: data)
#   fixtures_models.py -- tiny real trained runs (SplitGAN, ComplexGAN, shape x texture, classifier), trained in a
#                         background process while the tests that do not need them run (owner: editing)
#   fixtures_training.py -- a slow training step (each layer slower) for stop and quit latency, and the
#                           uninterrupted reference runs that stop/resume tests compare with
#   fixtures_photos.py -- a real photo of two faces whose edit regions overlap
#   checkout_guard.py  -- fails the run when the tests changed the checkout
pytest_plugins = ["fixtures_data", "fixtures_models", "fixtures_training", "fixtures_photos", "checkout_guard"]

