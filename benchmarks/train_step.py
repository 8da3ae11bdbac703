"""Seconds per training step of each setup, and the trainer's overhead over a bare loop.

    .venv/bin/python benchmarks/train_step.py [--data CACHE_64] [--batch-size 64] [--steps 20]
        [--setups splitgan,complexgan,simplegan] [--preset default] [--device auto] [--threads N]
        [--clock wall|cpu]

The bare loop calls the setup's recipe step on one fixed batch already on the device; the trainer run
does everything a real run does per step (data order, on-device augmentation, LR schedule, logging every
10 steps). Both use the same networks, batch size and device, so the ratio is the trainer's overhead
(target <= 1.1x). Without --data a 64x64 cache of 512 real MTFL faces is built in a temporary folder.
``--clock cpu`` times CPU seconds of this process instead of wall time (CPU device only): on a machine
other jobs share, wall time mostly measures their load, CPU time the work of the step itself.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch

from keepsmiling_core.data.cache import build_crop_cache, load_crop_cache
from keepsmiling_core.device import device_name, pick_device
from keepsmiling_core.models.registry import build_setup
from keepsmiling_core.paths import mtfl_dir
from keepsmiling_core.setups import setup_names
from keepsmiling_core.training.config import TrainConfig
from keepsmiling_core.training.recipes import build_recipe
from keepsmiling_core.training.trainer import Trainer

LOG_EVERY = 10
CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}
_clock = CLOCKS["wall"]


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def bare_loop(setup: str, preset: str, cache_dir: Path, batch: int, steps: int, device: torch.device) -> float:
    cache = load_crop_cache(cache_dir)
    torch.manual_seed(0)
    nets = build_setup(setup, preset, cache.size)
    for net in nets.values():
        net.to(device).train()
        if device.type == "cuda":
            net.to(memory_format=torch.channels_last)
    recipe = build_recipe(setup, preset, nets, device, {"batch_size": batch})
    images = torch.from_numpy(cache.images[:batch]).permute(0, 3, 1, 2).float().div(127.5).sub(1).to(device)
    if device.type == "cuda":
        images = images.contiguous(memory_format=torch.channels_last)
    smiling = torch.from_numpy(cache.smiling[:batch].astype("float32")).to(device)
    for step in range(LOG_EVERY):
        recipe.train_step(images, smiling, step)
    _sync(device)
    start = _clock()
    for step in range(LOG_EVERY, LOG_EVERY + steps):
        recipe.train_step(images, smiling, step)
    _sync(device)
    return (_clock() - start) / steps


def trainer_loop(setup: str, preset: str, cache_dir: Path, batch: int, steps: int, device: str) -> float:
    stamps: dict[int, float] = {}
    with tempfile.TemporaryDirectory() as out:
        config = TrainConfig(setup=setup, preset=preset, data=str(cache_dir), out=out, batch_size=batch,
                             steps=steps + 2 * LOG_EVERY, device=device, log_every=LOG_EVERY,
                             sample_every=10**9, checkpoint_every=10**9, tensorboard=True)
        Trainer(config, on_progress=lambda p: stamps.setdefault(p.step, _clock())).run()
    return (stamps[LOG_EVERY + steps] - stamps[LOG_EVERY]) / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, help="64x64 crop cache (default: 512 MTFL faces in a temp dir)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--steps", type=int, default=20, help="timed steps (a multiple of 10)")
    parser.add_argument("--setups", default=",".join(setup_names()))
    parser.add_argument("--preset", default="default")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    parser.add_argument("--clock", choices=sorted(CLOCKS), default="wall",
                        help="wall time, or CPU time of this process (for a shared CPU)")
    args = parser.parse_args()
    global _clock
    _clock = CLOCKS[args.clock]
    if args.threads:
        torch.set_num_threads(args.threads)
    steps = max(LOG_EVERY, args.steps // LOG_EVERY * LOG_EVERY)
    device = pick_device(args.device)
    with tempfile.TemporaryDirectory() as tmp:
        cache_dir = args.data or build_crop_cache(f"mtfl:{mtfl_dir()}", Path(tmp) / "cache64", size=64, limit=512,
                                                  pose=3)
        size = load_crop_cache(cache_dir).size
        print(f"device: {device_name(device)}; crops {size}x{size}; batch {args.batch_size}; "
              f"preset {args.preset}; {steps} timed steps after {LOG_EVERY} warm-up steps; {args.clock} clock")
        print(f"| {'setup':<11}| {'bare loop s/step':>17} | {'trainer s/step':>15} | {'overhead':>9} |")
        print(f"|{'-' * 12}|{'-' * 19}|{'-' * 17}|{'-' * 11}|")
        for setup in args.setups.split(","):
            bare = bare_loop(setup, args.preset, cache_dir, args.batch_size, steps, device)
            full = trainer_loop(setup, args.preset, cache_dir, args.batch_size, steps, args.device)
            print(f"| {setup:<11}| {bare:>17.3f} | {full:>15.3f} | {full / bare:>8.2f}x |", flush=True)


if __name__ == "__main__":
    main()
