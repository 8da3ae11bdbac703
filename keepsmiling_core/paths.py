"""Where things live: shipped resources, user folders, and the shared MTFL data used by tests/benchmarks."""

from __future__ import annotations

import os
from pathlib import Path

from platformdirs import user_cache_dir as _platform_cache_dir
from platformdirs import user_data_dir

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def resources_dir() -> Path:
    """The ``resources/`` folder (icons, shipped models, sample photos); overridable for packaging."""
    return Path(os.environ.get("KEEPSMILING_RESOURCES", PROJECT_ROOT / "resources"))


def shipped_models_dir() -> Path:
    return resources_dir() / "models"


def samples_dir() -> Path:
    return resources_dir() / "samples"


def user_dir() -> Path:
    """Per-user folder for training runs and caches made from the GUI."""
    path = Path(os.environ.get("KEEPSMILING_HOME", user_data_dir("KeepSmiling", "KeepSmiling")))
    path.mkdir(parents=True, exist_ok=True)
    return path


def user_cache_dir() -> Path:
    """Per-user folder for caches that can be rebuilt at any time (face detections of evaluation photos).

    ``KEEPSMILING_CACHE`` overrides it; under ``KEEPSMILING_HOME`` (tests, portable installs) it is
    ``HOME/cache`` so nothing leaks into the real user's cache.
    """
    if "KEEPSMILING_CACHE" in os.environ:
        path = Path(os.environ["KEEPSMILING_CACHE"])
    elif "KEEPSMILING_HOME" in os.environ:
        path = Path(os.environ["KEEPSMILING_HOME"]) / "cache"
    else:
        path = Path(_platform_cache_dir("KeepSmiling", "KeepSmiling"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def shared_data_dir() -> Path:
    """``../shared/data`` beside the checkout (read-only real data); ``KEEPSMILING_DATA`` overrides."""
    return Path(os.environ.get("KEEPSMILING_DATA", PROJECT_ROOT.parent / "shared" / "data"))


def mtfl_dir() -> Path:
    return shared_data_dir() / "MTFL"
