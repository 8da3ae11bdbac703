"""One training loop for every setup.

The loop owns what the setups share — data order, augmentation, LR schedule, logging (metrics.jsonl,
TensorBoard), sample grids, checkpoints, exact resume, progress callbacks and cancellation — and asks the
setup's recipe (``training/recipes``) to do the step itself.

Under torchrun (or ``keepsmiling train --nproc N``) every rank runs this same loop on its slice of each
global batch (``training/distributed.py``); rank 0 alone writes the run folder. Loss tensors stay on the
device and are read out (a wait for the GPU) only at logging, checkpoint and stop steps (``_losses``).

Run folder layout::

    RUN/config.json            the TrainConfig (+ resolved hyper-parameters and architecture)
    RUN/metrics.jsonl          one JSON line per logged step
    RUN/tensorboard/           SummaryWriter event files
    RUN/samples/step_XXXXXXXX.png
    RUN/checkpoints/step_XXXXXXXX/   (models/checkpoint.py)
    RUN/train.lock             held while a trainer works in the folder (training/lock.py)

Every file is written through ``atomic`` (verified, then moved into place; metrics are appended and
fsync-ed), so a kill at any moment leaves a run that resumes; a damaged ``config.json`` is replaced on
resume by the settings stored in the newest checkpoint.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..atomic import append_text, atomic_write_text, ensure_folder
from ..data.cache import CropCache, load_crop_cache
from ..device import device_name, is_out_of_memory, pick_device
from ..errors import CheckpointError, KeepSmilingError, TrainingError
from ..models.checkpoint import (
    checkpoint_dir_for,
    init_weights_from,
    list_checkpoints,
    load_training_state,
    prune_checkpoints,
    read_meta,
    save_checkpoint,
)
from ..models.registry import architecture, build_setup, stored_architecture
from . import distributed
from .augment import augment
from .config import RESUMABLE_CHANGES, TrainConfig, check_saved_config
from .lock import RunLock
from .recipes import Recipe, build_recipe
from .samples import write_grid
from .schedule import apply_lr, lr_factor
from .smile_motion import SmileMotion
from .stopping import StepSnapshot, StopHooks, StopRequested

FIXED_SAMPLES = 8      # crops (half smiling) or noise vectors x 2 shown in every sample grid
SPEED_KEYS = ("images_per_s", "data_wait_share", "peak_gpu_mem_mb")  # metrics.jsonl fields that are not losses


@dataclass
class Progress:
    """What a front end shows while training runs (CLI tqdm bar, GUI progress panel)."""

    step: int
    total_steps: int
    epoch: int
    losses: dict[str, float]
    eta_s: float | None
    sample_png: Path | None
    images_per_s: float | None = None   # over the last logging interval, all ranks together


class BatchSource:
    """Serves batches from the in-memory crop cache in a per-epoch shuffled order.

    The order of epoch e is a pure function of (seed, e), so a resumed run continues with exactly the
    batches the uninterrupted run would have seen. The whole cache lives on the device when it fits
    (uint8, 4x smaller than float); otherwise it stays in pinned host memory and batches are copied.

    With several ranks a step's global batch is ``batch_size x world`` crops of that order and each rank
    takes its own disjoint slice (DistributedSampler's split), so a 2 x B run sees the crops of a 1 x 2B run.
    """

    def __init__(self, cache: CropCache, indices: np.ndarray, batch_size: int, device: torch.device,
                 seed: int, shard: distributed.Shard = distributed.SINGLE) -> None:
        global_batch = batch_size * shard.world
        if len(indices) < global_batch:
            wanted = (f"the global batch {global_batch} ({shard.world} processes x {batch_size})" if shard.distributed
                      else f"the batch size {batch_size}")
            raise TrainingError(
                f"The crop cache {cache.path} has only {len(indices)} usable crops for this setup, fewer than "
                f"{wanted}; use a smaller --batch-size or a larger cache."
            )
        images = torch.from_numpy(np.ascontiguousarray(cache.images[indices])).permute(0, 3, 1, 2).contiguous()
        self.smiling = torch.from_numpy(np.asarray(cache.smiling)[indices].astype(np.float32))
        self.device = device
        self.on_device = device.type == "cpu" or _fits_on_gpu(images, device)
        if self.on_device:
            self.images = images.to(device)
            self.smiling = self.smiling.to(device)
        else:
            self.images = images.pin_memory()
            self.smiling = self.smiling.pin_memory()
        self.batch_size = batch_size
        self.shard = shard
        self.seed = seed
        self.steps_per_epoch = len(indices) // global_batch
        self._epoch = -1
        self._order: torch.Tensor | None = None

    def epoch_of(self, step: int) -> int:
        return step // self.steps_per_epoch

    def batch(self, step: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Images as float in [-1, 1] (B, 3, S, S) and smile labels (B,) on the device."""
        epoch = self.epoch_of(step)
        if epoch != self._epoch:
            generator = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
            self._order = torch.randperm(self.images.shape[0], generator=generator)
            if self.on_device:
                self._order = self._order.to(self.device)  # one copy per epoch, not one per step
            self._epoch = epoch
        global_batch = self.batch_size * self.shard.world
        start = (step % self.steps_per_epoch) * global_batch + self.shard.rank * self.batch_size
        index = self._order[start:start + self.batch_size]
        images = self.images[index].to(self.device, non_blocking=True)
        smiling = self.smiling[index].to(self.device, non_blocking=True)
        return images.float().div_(127.5).sub_(1.0), smiling


def _fits_on_gpu(images: torch.Tensor, device: torch.device) -> bool:
    free, _ = torch.cuda.mem_get_info(device)
    return images.numel() < 0.25 * free


class Trainer:
    """Trains one setup on a crop cache into a run folder; see the module docstring for the layout."""

    def __init__(self, config: TrainConfig, on_progress: Callable[[Progress], None] | None = None,
                 should_stop: Callable[[], bool] | None = None) -> None:
        self.config = config
        self.on_progress = on_progress
        self.should_stop = should_stop
        self._stop = threading.Event()
        self.stopped_early = False
        self.notes: list[str] = []   # one-line remarks for the user (e.g. settings recovered from a checkpoint)
        self.nets: dict[str, torch.nn.Module] = {}   # the networks once run() built them (benchmarks, tests)

    def stop(self) -> None:
        """Ask the loop to finish the current step, write a checkpoint and return (any thread)."""
        self._stop.set()

    def _stop_requested(self) -> bool:
        return self._stop.is_set() or bool(self.should_stop and self.should_stop())

    # ------------------------------------------------------------------------------------------ setup

    def _resolve_config(self, run_dir: Path, world: int = 1) -> TrainConfig:
        cfg = self.config
        cfg.validate()
        found = saved_run_config(run_dir, self.notes) if cfg.resume else None
        if found is not None:
            saved, resolved = found
            # Resume with the values the run started with, even if the presets changed since.
            saved.hparams = {**resolved.get("hparams", {}), **saved.hparams}
            saved.arch = stored_architecture(saved.setup, saved.preset, {**resolved.get("arch", {}), **saved.arch})
            saved.batch_size = saved.batch_size or saved.hparams.get("batch_size")
            if saved.batch_size is not None:
                saved.batch_size = _per_process_batch(resolved, saved.batch_size, world)
            for name in RESUMABLE_CHANGES:
                setattr(saved, name, getattr(cfg, name))
            return saved
        if not cfg.resume and list_checkpoints(run_dir):
            raise TrainingError(
                f"The run folder {run_dir} already holds a training run; pass --resume to continue it "
                "or choose another --out folder."
            )
        return dataclasses.replace(cfg)

    def run(self) -> Path:
        """Train (or continue) the run; returns the run folder. The folder is locked meanwhile (``RunLock``,
        held by the main rank).

        Started by torchrun (RANK / WORLD_SIZE set), it joins the job as one rank of a data-parallel run."""
        self.config.validate()
        shard = distributed.shard_from_env()
        device = distributed.device_for(shard, pick_device(self.config.device))
        run_dir = Path(self.config.out).expanduser()
        if shard.is_main:
            ensure_folder(run_dir, "run folder")
        created = distributed.start(shard, device)
        try:
            with RunLock(run_dir) if shard.is_main else contextlib.nullcontext():
                return self._run(shard, device)
        except RuntimeError as exc:
            if shard.distributed and not is_out_of_memory(exc):
                raise TrainingError(distributed.failure_message(exc, shard)) from exc
            raise
        finally:
            distributed.stop(created)

    def _run(self, shard: distributed.Shard, device: torch.device) -> Path:
        run_dir = Path(self.config.out).expanduser()
        cfg = distributed.from_main(shard, lambda: self._resolve_config(run_dir, shard.world))
        cache = load_crop_cache(cfg.data)
        size = cfg.size or cache.size
        if size != cache.size:
            raise TrainingError(
                f"The crop cache {cache.path} holds {cache.size}x{cache.size} crops but size {size} was asked "
                f"for; rebuild it with 'keepsmiling prepare --size {size}' or drop --size."
            )
        if device.type == "cuda":
            torch.backends.cudnn.benchmark = True

        torch.manual_seed(cfg.seed)
        try:
            nets = build_setup(cfg.setup, cfg.preset, size, **cfg.arch)
        except ValueError as exc:
            raise TrainingError(f"Cannot build {cfg.setup}/{cfg.preset} at {size}x{size}: {exc}") from exc
        for net in nets.values():
            net.to(device).train()
            if device.type == "cuda":
                net.to(memory_format=torch.channels_last)
        self.nets = nets
        overrides = dict(cfg.hparams)
        if cfg.batch_size is not None:
            overrides["batch_size"] = cfg.batch_size
        try:
            recipe = build_recipe(cfg.setup, cfg.preset, nets, device, overrides)
        except ValueError as exc:
            raise TrainingError(str(exc)) from exc
        if cfg.lr is not None:
            ratio = recipe.hp.lr_d / recipe.hp.lr_g
            recipe.base_lrs = {n: cfg.lr * (ratio if n == "discriminator" else 1.0) for n in recipe.optimizers}
        hp = recipe.hp
        recipe.shard = shard
        if recipe.needs_edit_mask:
            recipe.edit_mask = _typical_mask(cache, size, device)
        if recipe.needs_smile_motion:
            if not architecture(cfg.setup, cfg.preset, **cfg.arch).get("shape_output"):
                raise TrainingError("lambda_shape holds a shape edit's field, and this run's networks output images; "
                                    "train with --shape-edits (arch shape_output=true) or drop lambda_shape.")
            recipe.smile_motion = _smile_motion(load_crop_cache(cfg.smile_from) if cfg.smile_from else cache, size)
        if shard.distributed:
            distributed.average_gradients_on_step(shard, recipe.optimizers)
            if device.type == "cuda":
                distributed.convert_sync_batchnorm(nets, recipe.twice_differentiated)

        data = BatchSource(cache, recipe.select_training_indices(np.asarray(cache.smiling)), hp.batch_size,
                           device, cfg.seed, shard)
        fixed = _fixed_inputs(cache, recipe, size, device, cfg.seed)

        start = 0
        if cfg.resume:
            start = self._restore(run_dir, nets, recipe, device, shard)
        if start == 0 and cfg.init_from:
            distributed.from_main(shard, lambda: _init_from(cfg, nets))
        distributed.broadcast_state(shard, nets)
        resolved = {
            "hparams": dataclasses.asdict(hp), "base_lrs": recipe.base_lrs,
            "arch": architecture(cfg.setup, cfg.preset, **cfg.arch), "size": size,
            "device": device_name(device), "train_crops": int(data.images.shape[0]),
            "cache_manifest": cache.manifest,
            "world_size": shard.world, "global_batch": hp.batch_size * shard.world,
        }
        if recipe.smile_motion is not None:   # the mean smile the edit is held to, in crop pixels
            resolved["smile_motion"] = {"neutral": recipe.smile_motion.neutral.tolist(),
                                        "smiling": recipe.smile_motion.smiling.tolist()}
        config_json = {**cfg.to_json(), "size": size, "resolved": resolved}
        elapsed_before = 0.0
        if shard.is_main:
            atomic_write_text(run_dir / "config.json", json.dumps(config_json, indent=2, default=str) + "\n")
            elapsed_before = _truncate_metrics(run_dir / "metrics.jsonl", start)

        loop = _Loop(self, cfg, run_dir, nets, recipe, data, fixed, size, config_json)
        loop.elapsed_before = elapsed_before
        return loop.run(start)

    def _restore(self, run_dir: Path, nets, recipe: Recipe, device: torch.device,
                 shard: distributed.Shard = distributed.SINGLE) -> int:
        """Load the last checkpoint on rank 0 and hand its optimizer and RNG state to every rank
        (weights follow through ``broadcast_state``); returns the step to continue from."""
        from ..validation import check_rng_state

        def load() -> dict | None:
            if not list_checkpoints(run_dir):
                return None  # stopped or crashed before its first checkpoint: nothing to continue, start afresh
            try:
                meta, state = load_training_state(run_dir, nets, recipe.optimizers)
                check_rng_state(state, Path(meta["_dir"]) / "optim.safetensors")
            except KeepSmilingError as exc:
                raise TrainingError(f"Cannot resume from {run_dir}: {exc}") from None
            restored = {"step": int(meta["step"]), "state": state}
            if shard.distributed:
                restored["optimizers"] = {n: _to_cpu(o.state_dict()) for n, o in recipe.optimizers.items()}
            return restored

        restored = distributed.from_main(shard, load)
        if restored is None:
            return 0
        if not shard.is_main:
            for name, optimizer in recipe.optimizers.items():
                optimizer.load_state_dict(restored["optimizers"][name])
        state = restored["state"]
        if "rng_cpu" in state:
            torch.set_rng_state(state["rng_cpu"])
        if device.type == "cuda":
            if shard.distributed and "rng_cuda_0" in state:
                torch.cuda.set_rng_state(state["rng_cuda_0"], device)  # every rank draws rank 0's stream
            else:
                cuda_states = [state[k] for k in sorted(state) if k.startswith("rng_cuda_")]
                if len(cuda_states) == torch.cuda.device_count():
                    torch.cuda.set_rng_state_all(cuda_states)
        return restored["step"]


class _Loop:
    """The running state of one ``Trainer.run`` (kept apart so ``run`` reads as the set-up it is)."""

    def __init__(self, trainer: Trainer, cfg: TrainConfig, run_dir: Path, nets, recipe: Recipe,
                 data: BatchSource, fixed, size: int, config_json: dict) -> None:
        self.trainer, self.cfg, self.run_dir = trainer, cfg, run_dir
        self.nets, self.recipe, self.data, self.fixed, self.size = nets, recipe, data, fixed, size
        self.shard = data.shard
        self.config_json = config_json
        self.latest: dict[str, torch.Tensor] = {}
        self.elapsed_before = 0.0  # training seconds of the run before this session (resume)
        self.started = time.perf_counter()
        self.sample_png: Path | None = None
        self.writer = None
        self.meter = _Throughput(data.device, data.batch_size * self.shard.world)
        if cfg.tensorboard and self.shard.is_main:
            from torch.utils.tensorboard import SummaryWriter

            self.writer = SummaryWriter(str(run_dir / "tensorboard"))

    def run(self, start: int) -> Path:
        cfg, hp, total = self.cfg, self.recipe.hp, self.cfg.steps
        t0, done = time.perf_counter(), start
        # A stop request abandons the step under way (checked at every layer and gradient) and puts back
        # what it changed, so Quit and Cancel answer in about a second even at 30 s per step. Ranks of a
        # data-parallel run must finish every step together, so they stop only between steps.
        in_step = [False]
        hooks = StopHooks(self.nets.values(),
                          lambda: in_step[0] and not self.shard.distributed and self.trainer._stop_requested())
        self.recipe.stop_check = hooks.check
        snapshot = StepSnapshot(self.nets, self.recipe.optimizers)
        self.meter.reset(start)
        try:
            for step in range(start, total):
                factor = lr_factor(hp.schedule, step, total, hp.decay_start)
                for name, optimizer in self.recipe.optimizers.items():
                    apply_lr(optimizer, self.recipe.base_lrs[name], factor)
                try:
                    if not self.shard.distributed:
                        snapshot.take()
                    in_step[0] = True
                    fetch = time.perf_counter()
                    images, smiling = self.data.batch(step)
                    images = augment(images, hflip=hp.hflip, jitter=hp.jitter, shard=self.shard)
                    if images.device.type == "cuda":
                        images = images.contiguous(memory_format=torch.channels_last)
                    self.meter.waited(time.perf_counter() - fetch)
                    self.latest.update(self.recipe.train_step(images, smiling, step))
                except StopRequested:
                    snapshot.restore()
                    self._stopped_within_step(done, factor, checkpointed=done == start or done % cfg.checkpoint_every == 0)
                    break
                except (RuntimeError, torch.cuda.OutOfMemoryError) as exc:
                    if is_out_of_memory(exc):
                        raise TrainingError(
                            f"The GPU ran out of memory at batch size {hp.batch_size}; try "
                            f"--batch-size {max(1, hp.batch_size // 2)} or --device cpu."
                        ) from exc
                    raise
                finally:
                    in_step[0] = False
                done = step + 1
                if done % cfg.sample_every == 0 or done == total:
                    self._sample(done)
                logged = done % cfg.log_every == 0 or done == total
                if logged:
                    rate = (time.perf_counter() - t0) / max(1, done - start)
                    self._log(done, factor, eta=rate * (total - done))
                # Checked after the progress callback, so a stop() from it takes effect at this step. Ranks
                # agree on a stop at logging steps (one tiny all-reduce there instead of one every step).
                if self.shard.distributed:
                    stopping = logged and done < total and distributed.any_rank(
                        self.shard, self.trainer._stop_requested(), self.data.device)
                else:
                    stopping = self.trainer._stop_requested() and done < total
                if stopping:
                    self._sample(done)
                    if not logged:
                        self._log(done, factor, eta=None)
                if done % cfg.checkpoint_every == 0 or done == total or stopping:
                    self._checkpoint(done, factor)
                if stopping:
                    self.trainer.stopped_early = done < total
                    break
        finally:
            hooks.remove()
            self.recipe.stop_check = None
            if self.writer is not None:
                self.writer.close()
        return self.run_dir

    def _stopped_within_step(self, done: int, factor: float, checkpointed: bool) -> None:
        """The step after ``done`` was abandoned and undone: keep a checkpoint of step ``done``."""
        self.trainer.stopped_early = True
        if done == 0:
            return  # nothing trained yet: no checkpoint to keep
        if not checkpointed:
            self._checkpoint(done, factor)

    def _losses(self) -> dict[str, float]:
        """The latest losses, averaged over ranks; the one place loss tensors are read out (a device sync)."""
        return distributed.mean_over_ranks(self.shard, self.latest)

    def _log(self, done: int, factor: float, eta: float | None) -> None:
        losses = self._losses()
        speed = self.meter.interval(done)
        if not self.shard.is_main:
            return
        epoch = self.data.epoch_of(done - 1)
        # elapsed_s counts the whole run across resumes, so a front end can say how long it trained
        elapsed = self.elapsed_before + time.perf_counter() - self.started
        record = {"step": done, "epoch": epoch, "lr_factor": factor, "time": time.time(),
                  "elapsed_s": round(elapsed, 2), **losses, **speed}
        append_text(self.run_dir / "metrics.jsonl", json.dumps(record) + "\n")
        if self.writer is not None:
            for key, value in losses.items():
                self.writer.add_scalar(f"loss/{key}", value, done)
            for key, value in speed.items():
                self.writer.add_scalar(f"speed/{key}", value, done)
            self.writer.add_scalar("lr_factor", factor, done)
        if self.trainer.on_progress is not None:
            self.trainer.on_progress(Progress(done, self.cfg.steps, epoch, losses, eta, self.sample_png,
                                              speed.get("images_per_s")))

    def _sample(self, done: int) -> None:
        distributed.average_buffers(self.shard, self.nets)
        if not self.shard.is_main:
            return
        images, smiling, noise = self.fixed
        for net in self.nets.values():
            net.eval()
        with torch.no_grad(), self.recipe.autocast():
            grid, per_row = self.recipe.sample_grid(images, smiling, noise)
        for net in self.nets.values():
            net.train()
        path = self.run_dir / "samples" / f"step_{done:08d}.png"
        array = write_grid(path, grid.float(), per_row)
        self.sample_png = path
        if self.writer is not None:
            self.writer.add_image("samples", array, done, dataformats="HWC")

    def _checkpoint(self, done: int, factor: float) -> None:
        distributed.average_buffers(self.shard, self.nets)
        if not distributed.ranks_identical(self.shard, self.nets):
            raise TrainingError(f"The {self.shard.world} training processes hold different weights at step "
                                f"{done}; the run is out of sync and was stopped (last good checkpoint kept).")
        losses = self._losses()
        if not self.shard.is_main:
            return
        state = {"rng_cpu": torch.get_rng_state()}
        if torch.cuda.is_available() and self.data.device.type == "cuda":
            for i, s in enumerate(torch.cuda.get_rng_state_all()):
                state[f"rng_cuda_{i}"] = s
        save_checkpoint(
            checkpoint_dir_for(self.run_dir, done), self.nets,
            setup=self.cfg.setup, preset=self.cfg.preset, size=self.size, step=done,
            config=self.config_json, optimizers=self.recipe.optimizers, arch=self.cfg.arch,
            state_tensors=state,
            extra={"epoch": self.data.epoch_of(max(0, done - 1)), "lr_factor": factor,
                   "schedule": self.recipe.hp.schedule, "losses": losses,
                   "world_size": self.shard.world, "global_batch": self.data.batch_size * self.shard.world},
        )
        prune_checkpoints(self.run_dir, self.cfg.keep_checkpoints)


class _Throughput:
    """Images/s, the share of time spent waiting for batches, and peak GPU memory per logging interval.

    Read at logging steps, right after the losses were read out (which waits for the GPU), so the
    interval's wall time covers the work actually done in it."""

    def __init__(self, device: torch.device, global_batch: int) -> None:
        self.device, self.global_batch = device, global_batch
        self.reset(0)

    def reset(self, step: int) -> None:
        self.since, self.step, self.wait = time.perf_counter(), step, 0.0
        if self.device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(self.device)

    def waited(self, seconds: float) -> None:
        self.wait += seconds

    def interval(self, step: int) -> dict[str, float]:
        elapsed = max(time.perf_counter() - self.since, 1e-9)
        images_per_s, wait_share, peak_mb = SPEED_KEYS
        speed = {images_per_s: (step - self.step) * self.global_batch / elapsed,
                 wait_share: min(1.0, self.wait / elapsed)}
        if self.device.type == "cuda":
            speed[peak_mb] = torch.cuda.max_memory_allocated(self.device) / 2**20
        self.reset(step)
        return speed


def _per_process_batch(resolved: dict, batch_size: int, world: int) -> int:
    """A resumed run keeps its global batch, split over however many processes continue it."""
    global_batch = int(resolved.get("global_batch") or batch_size * int(resolved.get("world_size", 1)))
    if global_batch % world:
        raise TrainingError(f"This run trains with a global batch of {global_batch}, which {world} processes "
                            "cannot share evenly; resume it with a process count that divides it.")
    return global_batch // world


def _init_from(cfg: TrainConfig, nets) -> None:
    try:
        init_weights_from(cfg.init_from, nets, cfg.setup)
    except CheckpointError as exc:
        raise TrainingError(f"Cannot start from {cfg.init_from}: {exc}") from exc


def _to_cpu(value):
    if isinstance(value, torch.Tensor):
        return value.cpu()
    if isinstance(value, dict):
        return {k: _to_cpu(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_to_cpu(v) for v in value)
    return value


def _typical_mask(cache: CropCache, size: int, device: torch.device) -> torch.Tensor:
    from keepsmiling_core.compositing.mask import typical_mouth_mask

    if cache.landmarks is None:
        raise TrainingError(f"judge_delivered needs mouth landmarks, and the crop cache {cache.path} has none; "
                            "rebuild it with 'keepsmiling prepare'.")
    return torch.from_numpy(typical_mouth_mask(size, cache.landmarks)).to(device)[None, None]


def _smile_motion(cache: CropCache, size: int) -> SmileMotion:
    if cache.landmarks is None:
        raise TrainingError(f"lambda_shape needs the crops' landmarks, and the crop cache {cache.path} has none; "
                            "rebuild it with 'keepsmiling prepare'.")
    if cache.size != size:
        raise TrainingError(f"lambda_shape: the crop cache {cache.path} holds {cache.size}² crops, the run trains "
                            f"on {size}²; measure the smile on crops of the same size.")
    try:
        return SmileMotion.from_landmarks(cache.landmarks, cache.smiling, size)
    except ValueError as exc:
        raise TrainingError(f"lambda_shape: {exc}, and {cache.path} holds one label only.") from exc


def _fixed_inputs(cache: CropCache, recipe: Recipe, size: int, device: torch.device, seed: int):
    """The same crops (half smiling, half not) and noise vectors in every grid, so grids compare over time."""
    smiling = np.asarray(cache.smiling)
    half = FIXED_SAMPLES // 2
    picks = np.concatenate([np.flatnonzero(smiling)[:half], np.flatnonzero(~smiling)[:half]])
    images = torch.from_numpy(np.ascontiguousarray(cache.images[picks])).permute(0, 3, 1, 2)
    images = images.float().div(127.5).sub(1.0).to(device)
    labels = torch.from_numpy(smiling[picks].astype(np.float32)).to(device)
    generator = torch.Generator().manual_seed(seed + 12345)
    noise = torch.randn(2 * FIXED_SAMPLES, max(1, recipe.noise_dim()), generator=generator).to(device)
    return images, labels, noise


def saved_run_config(run_dir: Path, notes: list[str] | None = None) -> tuple[TrainConfig, dict] | None:
    """The settings a run started with and their ``resolved`` section, for ``--resume``.

    From ``RUN/config.json`` when it is readable and valid; otherwise (a kill while it was written, a
    hand edit gone wrong) from the config stored in the newest checkpoint, with a note saying so. None when
    neither exists (a run stopped before writing anything). A damaged config with no checkpoint to fall
    back on is an error naming the file."""
    from ..validation import read_json_file

    path = run_dir / "config.json"
    problem: KeepSmilingError | None = None
    if path.exists():
        try:
            data = check_saved_config(read_json_file(path, "delete it to resume from the newest checkpoint"), path)
            return TrainConfig.from_json(data), dict(data.get("resolved") or {})
        except KeepSmilingError as exc:
            problem = exc
    if list_checkpoints(run_dir):
        try:
            meta = read_meta(run_dir)
            stored = Path(meta["_dir"]) / "checkpoint.json"
            data = check_saved_config(meta.get("config") or {}, stored)
        except KeepSmilingError as exc:
            if problem is not None:
                raise TrainingError(f"Cannot resume {run_dir}: {problem} The newest checkpoint cannot stand in: "
                                    f"{exc}") from None
            raise TrainingError(f"Cannot resume {run_dir}: {exc}") from None
        if problem is not None and notes is not None:
            notes.append(f"{path} was unreadable ({problem}); resumed with the settings stored in {stored.parent.name}.")
        return TrainConfig.from_json(data), dict(data.get("resolved") or {})
    if problem is not None:
        raise TrainingError(str(problem)) from None
    return None


def saved_run_steps(run_dir: str | Path) -> int | None:
    """The step count a run was started with (config.json, else its newest checkpoint), or None."""
    try:
        found = saved_run_config(Path(run_dir))
    except KeepSmilingError:
        return None
    return None if found is None else found[0].steps


def _truncate_metrics(path: Path, step: int) -> float:
    """On resume drop lines logged after the checkpoint, so metrics.jsonl reads as one clean run.

    Unreadable lines (a partial last line after a kill, invalid UTF-8) are dropped too. Returns the
    training seconds the kept lines record (``elapsed_s`` of the last one; 0 without)."""
    from ..validation import read_metrics

    if not path.exists() and not path.is_symlink():
        return 0.0
    records, _ = read_metrics(path)
    kept, elapsed = [], 0.0
    for record in records:
        if record["step"] <= step:
            kept.append(json.dumps(record))
            value = record.get("elapsed_s")
            if isinstance(value, (int, float)) and 0 <= value < 1e9:
                elapsed = float(value)
    atomic_write_text(path, "".join(line + "\n" for line in kept))
    return elapsed
