"""What Start in the training dialog does, as one cancellable job run in a worker thread.

Prepare the crop cache (reused when it already matches), train, and for a setup whose edits need it
(SplitGAN) compute the smile direction so the run is usable for edits right away. The job owns the current ``Trainer`` so the
GUI thread can call ``stop()`` on it (thread-safe in the core), which finishes the step and writes a
checkpoint. Pausing is a stop whose run is later resumed from that checkpoint.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from keepsmiling_core.errors import KeepSmilingError
from keepsmiling_core.paths import user_dir
from keepsmiling_core.setup_spec import DEFAULT_SETUP
from keepsmiling_core.training.stopping import StopRequested

DATASET_KINDS = {"MTFL": "mtfl", "CelebA": "celeba", "Folders": "folders"}


@dataclass
class TrainingRequest:
    """Everything the dialog collected; plain data so it can be tested and remembered.

    ``steps``, ``batch_size`` and ``lr`` are what the user changed; None keeps the preset's value (the
    setup's spec, ``keepsmiling_core/setups``), exactly as ``keepsmiling train`` without the flag."""

    setup: str = DEFAULT_SETUP
    dataset_kind: str = "mtfl"
    dataset_path: str = ""
    size: int = 64
    batch_size: int | None = None
    steps: int | None = None
    lr: float | None = None           # generator learning rate; the critic's keeps the preset's ratio
    device: str = "auto"
    preset: str = "default"
    out_dir: str = ""
    limit: int = 0  # 0 = every usable face
    frontal_only: bool = True
    run_name: str = ""
    shape_edits: bool = False         # networks that move the photo's pixels (``keepsmiling train --shape-edits``)
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

    def total_steps(self) -> int:
        """The run's length: the user's steps, else the preset's."""
        from keepsmiling_core.setups import get_setup

        return int(self.steps) if self.steps is not None else get_setup(self.setup).training_preset(self.preset).steps


@dataclass
class JobEvent:
    """One progress report from the job to the dialog."""

    stage: str  # "prepare" | "starting" | "train" | "direction" | "message"
    text: str = ""
    progress: Any = None  # core Progress for "train"
    fraction: float | None = None


METRIC_FIELDS = ("step", "epoch", "lr_factor", "time", "elapsed_s")  # metrics.jsonl fields that are not losses
MAX_METRICS_BYTES = 64 << 20  # a longer metrics file is not a run this app wrote


@dataclass
class RunHistory:
    """What a run logged before this session: its loss curves and how long it trained."""

    points: list[tuple[int, dict[str, float]]] = field(default_factory=list)
    elapsed_s: float = 0.0


def read_history(run_dir: Path, up_to: int | None = None) -> RunHistory:
    """The run's metrics.jsonl as loss points (steps <= ``up_to``: what a resume keeps); damaged lines or
    a damaged file only lose the chart."""
    history = RunHistory()
    path = Path(run_dir) / "metrics.jsonl"
    try:
        if not path.is_file() or path.stat().st_size > MAX_METRICS_BYTES:
            return history
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return history
    for line in text.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if not isinstance(record, dict) or not isinstance(record.get("step"), int):
            continue
        if up_to is not None and record["step"] > up_to:
            continue
        losses = {k: float(v) for k, v in record.items()
                  if k not in METRIC_FIELDS and isinstance(v, (int, float)) and not isinstance(v, bool)
                  and math.isfinite(v)}
        history.points.append((record["step"], losses))
        elapsed = record.get("elapsed_s")
        if isinstance(elapsed, (int, float)) and math.isfinite(elapsed) and 0 <= elapsed < 1e9:
            history.elapsed_s = float(elapsed)
    return history


def _config_for(request: TrainingRequest, cache: Path, run_dir: Path, resume: bool):
    from keepsmiling_core.training.config import TrainConfig, with_shape_edits

    steps = request.total_steps()
    config = TrainConfig(
        setup=request.setup,
        data=str(cache),
        out=str(run_dir),
        preset=request.preset,
        steps=steps,
        batch_size=request.batch_size,   # None: the preset's, as on the command line
        lr=request.lr,
        size=request.size,
        device=request.device,
        resume=resume,
        # the dialog wants a lively curve and a fresh sample grid on short and long runs alike
        log_every=max(1, min(10, steps // 100)),
        sample_every=max(1, min(250, steps // 10)),
    )
    if request.shape_edits:
        config.arch, config.hparams = with_shape_edits(request.setup, request.preset, config.arch, config.hparams)
    names = {f.name for f in dataclasses.fields(TrainConfig)}
    for key, value in request.extra.items():
        if key in names:
            setattr(config, key, value)
    return config


class TrainingJob:
    """Prepare + train (+ direction). ``run`` blocks; call it from a worker; ``stop`` from anywhere."""

    def __init__(self, request: TrainingRequest, cache: Path | None = None, run_dir: Path | None = None):
        self.request = request
        self.run_dir = run_dir or request.run_dir()
        self.cache = cache  # known crop cache: no preparing (resuming an existing run)
        self._trainer = None
        self._lock = threading.Lock()
        self._stop_requested = False
        self.paused = False
        self.resume = run_dir is not None

    @classmethod
    def resume_run(cls, run_dir: Path) -> TrainingJob:
        """Continue a run folder (stopped, cancelled or from an earlier session) to its own length."""
        from keepsmiling_core.errors import TrainingError
        from keepsmiling_core.training.config import TrainConfig

        run_dir = Path(run_dir)
        config_path = run_dir / "config.json"
        if not config_path.is_file():
            raise TrainingError(f"{run_dir} is not a training run folder (it has no config.json).")
        config = TrainConfig.load(config_path)
        request = TrainingRequest(setup=config.setup, preset=config.preset, size=int(config.size or 64),
                                  batch_size=config.batch_size, steps=int(config.steps), lr=config.lr,
                                  device=config.device, out_dir=str(run_dir.parent), run_name=run_dir.name,
                                  dataset_path=str(config.data))
        return cls(request, cache=Path(config.data), run_dir=run_dir)

    def stop(self, pause: bool = False) -> None:
        with self._lock:
            self._stop_requested = True
            self.paused = pause
            trainer = self._trainer
        if trainer is not None:
            trainer.stop()

    def reset(self) -> None:
        """Called on the GUI thread before (re)starting, so a Cancel clicked right after Start still counts."""
        with self._lock:
            self._stop_requested = False
            self.paused = False

    @property
    def stop_requested(self) -> bool:
        return self._stop_requested

    def _prepare(self, request: TrainingRequest, report: Callable[[JobEvent], None]) -> Path:
        from keepsmiling_core.data.cache import build_crop_cache

        def prepare_progress(done: int, total: int) -> None:
            if self._stop_requested:  # folders run face detection photo by photo: stop between photos
                raise StopRequested("Preparing the crop cache was cancelled; nothing was written.")
            report(JobEvent("prepare", "Preparing mouth crops…", fraction=done / max(1, total)))

        return Path(build_crop_cache(
            request.spec,
            request.cache_dir(),
            size=request.size,
            limit=request.limit or None,
            pose=3 if request.frontal_only and request.dataset_kind == "mtfl" else None,
            progress=prepare_progress,
            report=lambda text: report(JobEvent("message", text)),
            should_stop=lambda: self._stop_requested,
        ))

    def run(self, report: Callable[[JobEvent], None]) -> dict:
        from keepsmiling_core.setups import get_setup
        from keepsmiling_core.training.trainer import Trainer

        request = self.request
        if self.cache is None:
            report(JobEvent("prepare", "Preparing mouth crops (reused when already prepared)…", fraction=0.0))
            try:
                self.cache = self._prepare(request, report)
            except KeepSmilingError:
                if self._stop_requested:  # cancelled while cropping: nothing to train, nothing to report
                    return {"run_dir": None, "stopped": True, "paused": False, "cache": None}
                raise
        cache = self.cache
        if self._stop_requested:
            return {"run_dir": None, "stopped": True, "paused": self.paused, "cache": cache}
        report(JobEvent("message", f"Training {request.setup} in {self.run_dir}"))
        report(JobEvent("starting", "Starting the trainer (loading the crops, building the networks)…"))
        trainer = Trainer(
            _config_for(request, Path(cache), self.run_dir, self.resume),
            on_progress=lambda p: report(JobEvent("train", progress=p)),
            should_stop=lambda: self._stop_requested,
        )
        with self._lock:
            self._trainer = trainer
        try:
            run_dir = Path(trainer.run())
        finally:
            with self._lock:
                self._trainer = None
        self.run_dir = run_dir
        self.resume = True
        direction = None
        # A stopped run gets its direction when it is picked in the model list; Cancel must not wait for it.
        if get_setup(request.setup).needs_direction and not self._stop_requested:
            try:
                direction = direction_for(run_dir, Path(cache), report, lambda: self._stop_requested,
                                          device=request.device)
            except KeepSmilingError:
                if not self._stop_requested:  # cancelled while encoding: the run is kept without it
                    raise
                direction = None
        return {
            "run_dir": run_dir,
            "stopped": self._stop_requested,
            "paused": self.paused,
            "cache": cache,
            "direction": direction,
        }



def last_checkpoint_step(run_dir: Path) -> int | None:
    """The step of the run's newest checkpoint (where a resume continues); None without one."""
    from keepsmiling_core.models.checkpoint import list_checkpoints

    try:
        checkpoints = list_checkpoints(Path(run_dir))
    except (KeepSmilingError, OSError, ValueError):
        return None
    if not checkpoints:
        return None
    try:
        return int(checkpoints[-1].name.rsplit("_", 1)[-1])
    except ValueError:
        return None


def direction_for(run_dir: Path, cache: Path, report: Callable[[JobEvent], None],
                  should_stop: Callable[[], bool] | None = None, device: str | None = None) -> Path:
    """Compute a SplitGAN run's smile direction, reporting progress; StopRequested when stopped."""
    from keepsmiling_core.editing.latent import compute_direction

    text = "Computing the smile direction in latent space…"
    report(JobEvent("direction", text, fraction=0.0))

    def progress(done: int, total: int) -> None:
        if should_stop is not None and should_stop():
            raise StopRequested("Computing the smile direction was cancelled.")
        report(JobEvent("direction", text, fraction=done / max(1, total)))

    # small batches: a stop is noticed within one batch even on a loaded CPU
    return compute_direction(run_dir, cache, progress=progress, device=device, batch_size=64,
                             should_stop=should_stop)
