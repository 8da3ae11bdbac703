"""What Start in the training dialog does, as one cancellable job run in a worker thread.

Prepare the crop cache (reused when it already matches), train, and for SplitGAN compute the smile
direction so the run is usable for edits right away. The job owns the current ``Trainer`` so the
GUI thread can call ``stop()`` on it (thread-safe in the core), which finishes the step and writes a
checkpoint. Pausing is a stop whose run is later resumed from that checkpoint.
"""

from __future__ import annotations

import dataclasses
import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from keepsmiling_core.paths import user_dir

DATASET_KINDS = {"MTFL": "mtfl", "CelebA": "celeba", "Folders": "folders"}


@dataclass
class TrainingRequest:
    """Everything the dialog collected; plain data so it can be tested and remembered."""

    setup: str = "splitgan"
    dataset_kind: str = "mtfl"
    dataset_path: str = ""
    size: int = 64
    batch_size: int = 64
    steps: int = 20000
    lr: float = 2e-4
    device: str = "auto"
    out_dir: str = ""
    limit: int = 0  # 0 = every usable face
    frontal_only: bool = True
    run_name: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def spec(self) -> str:
        return f"{self.dataset_kind}:{self.dataset_path}"

    def cache_dir(self) -> Path:
        """One cache folder per dataset and options; the core reuses it when its manifest matches."""
        key = f"{self.spec}|{self.size}|{self.limit}|{self.frontal_only}"
        digest = hashlib.sha256(key.encode()).hexdigest()[:10]
        return user_dir() / "caches" / f"{self.dataset_kind}-{self.size}px-{digest}"

    def run_dir(self) -> Path:
        name = self.run_name or f"{self.setup}-{time.strftime('%Y%m%d-%H%M%S')}"
        return Path(self.out_dir) / name


@dataclass
class JobEvent:
    """One progress report from the job to the dialog."""

    stage: str  # "prepare" | "train" | "direction" | "message"
    text: str = ""
    progress: Any = None  # core Progress for "train"
    fraction: float | None = None


def _config_for(request: TrainingRequest, cache: Path, run_dir: Path, resume: bool):
    from keepsmiling_core.training.trainer import TrainConfig

    wanted = {
        "setup": request.setup,
        "data": cache,
        "out": run_dir,
        "steps": request.steps,
        "batch_size": request.batch_size,
        "lr": request.lr,
        "size": request.size,
        "device": request.device,
        "resume": resume,
    }
    names = {f.name for f in dataclasses.fields(TrainConfig)}
    return TrainConfig(**{k: v for k, v in wanted.items() if k in names}, **{
        k: v for k, v in request.extra.items() if k in names})


class TrainingJob:
    """Prepare + train (+ direction). ``run`` blocks; call it from a worker; ``stop`` from anywhere."""

    def __init__(self, request: TrainingRequest):
        self.request = request
        self.run_dir = request.run_dir()
        self._trainer = None
        self._lock = threading.Lock()
        self._stop_requested = False
        self.paused = False
        self.resume = False

    def stop(self, pause: bool = False) -> None:
        with self._lock:
            self._stop_requested = True
            self.paused = pause
            trainer = self._trainer
        if trainer is not None:
            trainer.stop()

    @property
    def stop_requested(self) -> bool:
        return self._stop_requested

    def run(self, report: Callable[[JobEvent], None]) -> dict:
        from keepsmiling_core.training.trainer import Trainer

        from keepsmiling_core.data.cache import build_crop_cache

        request = self.request
        with self._lock:
            self._stop_requested = False
            self.paused = False
        report(JobEvent("prepare", "Preparing mouth crops (reused when already prepared)…", fraction=0.0))

        def prepare_progress(*args: Any, **kwargs: Any) -> None:
            report(JobEvent("prepare", "Preparing mouth crops…", fraction=_fraction(args)))

        cache = build_crop_cache(
            request.spec,
            request.cache_dir(),
            size=request.size,
            limit=request.limit or None,
            pose=3 if request.frontal_only and request.dataset_kind == "mtfl" else None,
            progress=prepare_progress,
        )
        if self._stop_requested:
            return {"run_dir": None, "stopped": True, "paused": self.paused, "cache": cache}
        report(JobEvent("message", f"Training {request.setup} in {self.run_dir}"))
        trainer = Trainer(
            _config_for(request, Path(cache), self.run_dir, self.resume),
            on_progress=lambda p: report(JobEvent("train", progress=p)),
        )
        with self._lock:
            self._trainer = trainer
            stop_now = self._stop_requested
        if stop_now:
            trainer.stop()
        try:
            run_dir = Path(trainer.run())
        finally:
            with self._lock:
                self._trainer = None
        self.run_dir = run_dir
        self.resume = True
        direction = None
        if request.setup == "splitgan" and not self.paused:
            from keepsmiling_core.editing.latent import compute_direction

            report(JobEvent("direction", "Computing the smile direction in latent space…"))
            direction = compute_direction(run_dir, Path(cache), device=request.device)
        return {
            "run_dir": run_dir,
            "stopped": self._stop_requested,
            "paused": self.paused,
            "cache": cache,
            "direction": direction,
        }


def _fraction(args: tuple) -> float | None:
    """Accept the core's progress callbacks as (done, total) or (fraction,) or an object with both."""
    if len(args) >= 2 and isinstance(args[0], (int, float)) and isinstance(args[1], (int, float)) and args[1]:
        return float(args[0]) / float(args[1])
    if len(args) == 1 and isinstance(args[0], float):
        return args[0]
    return None
