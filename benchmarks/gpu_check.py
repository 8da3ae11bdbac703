"""One check of the training and editing speed on this machine, GPU parts included when there is a GPU.

    .venv/bin/python benchmarks/gpu_check.py [--sizes 64,128] [--setups simplegan,complexgan,splitgan]
        [--batch-size 64] [--steps 20] [--nproc N] [--threads N] [--parts 1,2,3,4]

Per setup (default presets) and crop size it prints:
  1. fp32 vs bf16 autocast + channels_last images/s (bare loop of the recipe's step)       [GPU only]
  2. trainer vs bare loop s/step, the trainer's overhead (target <= 1.1x)                   [any device]
  3. edit latency per face: first edit (crop, encode, decode, blend) and a slider move      [GPU only]
  4. data-parallel images/s with 1 vs N processes (target >= 1.7x for 2 where the hardware has the
     cores or GPUs): N GPUs with NCCL when N > 1 GPUs, else N gloo CPU processes           [any device]
On a CPU-only machine parts 1 and 3 are skipped, and it says so; sizes default to 64 there (a 128 px
CPU run takes minutes per setup). Crop caches of 512 real MTFL faces are built in a temporary folder.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from train_step import bare_loop, trainer_loop  # noqa: E402

from keepsmiling_core.data.cache import build_crop_cache, load_crop_cache  # noqa: E402
from keepsmiling_core.device import device_name, pick_device  # noqa: E402
from keepsmiling_core.models.registry import build_setup  # noqa: E402
from keepsmiling_core.paths import mtfl_dir  # noqa: E402
from keepsmiling_core.setups import setup_names  # noqa: E402
from keepsmiling_core.training.config import TrainConfig  # noqa: E402
from keepsmiling_core.training.distributed import launch  # noqa: E402
from keepsmiling_core.training.recipes import build_recipe  # noqa: E402
from keepsmiling_core.training.trainer import Trainer  # noqa: E402

WARMUP = 5


def skipped(part: str, reason: str) -> None:
    print(f"SKIPPED {part}: {reason}", flush=True)


def precision_images_per_s(setup: str, cache_dir: Path, batch: int, steps: int, device: torch.device,
                           fast: bool) -> float:
    """Images/s of the recipe's step on one batch: fp32 NCHW, or bf16 autocast + channels_last (the trainer's)."""
    cache = load_crop_cache(cache_dir)
    torch.manual_seed(0)
    nets = build_setup(setup, "default", cache.size)
    for net in nets.values():
        net.to(device).train()
        if fast:
            net.to(memory_format=torch.channels_last)
    recipe = build_recipe(setup, "default", nets, device, {"batch_size": batch})
    if not fast:
        recipe.amp_dtype = None
    images = torch.from_numpy(cache.images[:batch]).permute(0, 3, 1, 2).float().div(127.5).sub(1).to(device)
    if fast:
        images = images.contiguous(memory_format=torch.channels_last)
    smiling = torch.from_numpy(cache.smiling[:batch].astype("float32")).to(device)
    for step in range(WARMUP):
        recipe.train_step(images, smiling, step)
    torch.cuda.synchronize(device)
    start = time.perf_counter()
    for step in range(WARMUP, WARMUP + steps):
        recipe.train_step(images, smiling, step)
    torch.cuda.synchronize(device)
    return batch * steps / (time.perf_counter() - start)


def edit_latency(device: torch.device, repeats: int = 30) -> tuple[str, float, float]:
    """(model label, first edit ms, slider move ms) with the shipped SplitGAN on the astronaut sample."""
    from edit_latency import untrained_splitgan

    from keepsmiling_core.detection import detect_faces
    from keepsmiling_core.editing.editor import Editor, default_model_path
    from keepsmiling_core.errors import EditError
    from keepsmiling_core.imageio import read_photo
    from keepsmiling_core.paths import samples_dir

    tmp = tempfile.TemporaryDirectory()
    try:
        model, label = default_model_path("splitgan"), "shipped SplitGAN"
    except EditError:
        model, label = untrained_splitgan(Path(tmp.name) / "splitgan"), "untrained SplitGAN (none shipped)"
    editor = Editor(model, device=device)
    photo = read_photo(samples_dir() / "astronaut.jpg").rgb
    face = detect_faces(photo)[0]

    def timed(fn) -> float:
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            fn()
            torch.cuda.synchronize(device)
            times.append((time.perf_counter() - start) * 1000)
        return statistics.median(times)

    editor.render(editor.prepare(photo, face), 1.0)  # warm-up (cuDNN autotuning, allocator)
    first = timed(lambda: editor.render(editor.prepare(photo, face), 1.0))
    prepared = editor.prepare(photo, face)
    alphas = iter([a / 10 for a in range(-10, 21)] * repeats)
    slider = timed(lambda: editor.render(prepared, next(alphas)))
    tmp.cleanup()
    return label, first, slider


def _ddp_worker(config: dict, threads: int) -> dict:
    """One rank of the scaling run: images/s from metrics.jsonl after the first logging interval (rank 0),
    and the CPU seconds this rank used per image it trained on (every rank)."""
    torch.set_num_threads(threads)
    cpu = time.process_time()
    trainer = Trainer(TrainConfig(**config))
    run = trainer.run()
    result = {"cpu_s_per_image": (time.process_time() - cpu) / (config["steps"] * config["batch_size"])}
    if os.environ.get("RANK", "0") == "0":
        rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
        result["images_per_s"] = statistics.mean(r["images_per_s"] for r in rows[1:])
    return result


def ddp_images_per_s(setup: str, cache_dir: Path, batch: int, steps: int, device: str, nproc: int,
                     threads: int, out: Path) -> tuple[float, float]:
    """(images/s of the whole job, CPU seconds per image averaged over ranks)."""
    config = dict(setup=setup, data=str(cache_dir), out=str(out), batch_size=batch, steps=steps, log_every=5,
                  sample_every=10**9, checkpoint_every=10**9, tensorboard=False, device=device)
    if nproc == 1:
        ranks = {0: _ddp_worker(config, threads)}
    else:
        ranks = launch(nproc, _ddp_worker, (config, threads), threads_per_process=threads)
    return ranks[0]["images_per_s"], statistics.mean(r["cpu_s_per_image"] for r in ranks.values())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default=None, help="crop sizes (default: 64,128 on a GPU, 64 on the CPU)")
    parser.add_argument("--setups", default=",".join(setup_names()))
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--steps", type=int, default=20, help="timed steps per figure")
    parser.add_argument("--nproc", type=int, default=None, help="processes for part 4 (default: GPUs, or 2)")
    parser.add_argument("--threads", type=int, default=None, help="CPU threads of a single process (default: all)")
    parser.add_argument("--parts", default="1,2,3,4", help="which parts to run (default: all)")
    args = parser.parse_args()
    parts = {int(p) for p in args.parts.split(",")}
    device = pick_device("auto")
    gpu = device.type == "cuda"
    cores = os.cpu_count() or 1
    threads = args.threads or cores
    torch.set_num_threads(threads)
    if gpu:
        torch.backends.cudnn.benchmark = True
    sizes = [int(s) for s in (args.sizes or ("64,128" if gpu else "64")).split(",")]
    setups = args.setups.split(",")
    print(f"device: {device_name(device)}; {cores} CPU cores; torch {torch.__version__}; batch {args.batch_size}; "
          f"{args.steps} timed steps")
    with tempfile.TemporaryDirectory() as tmp:
        caches = {size: build_crop_cache(f"mtfl:{mtfl_dir()}", Path(tmp) / f"cache{size}", size=size, limit=512,
                                         pose=3) for size in sizes}

        print("\n## 1. fp32 vs bf16 autocast + channels_last (images/s, bare loop)")
        if 1 not in parts:
            skipped("part 1", "not asked for (--parts)")
        elif not gpu:
            skipped("part 1", "no CUDA GPU here; the CPU trains in fp32 (autocast is used on CUDA only)")
        elif not torch.cuda.is_bf16_supported():
            skipped("part 1", "this GPU has no bf16")
        else:
            for size in sizes:
                for setup in setups:
                    fp32 = precision_images_per_s(setup, caches[size], args.batch_size, args.steps, device, False)
                    fast = precision_images_per_s(setup, caches[size], args.batch_size, args.steps, device, True)
                    print(f"| {setup:<11}| {size:>4} | fp32 {fp32:>9.0f} | bf16+CL {fast:>9.0f} | {fast / fp32:5.2f}x |",
                          flush=True)

        print("\n## 2. trainer vs bare loop (s/step; target <= 1.1x)")
        steps = max(10, args.steps // 10 * 10)
        if 2 not in parts:
            skipped("part 2", "not asked for (--parts)")
        for size in sizes if 2 in parts else []:
            for setup in setups:
                bare = bare_loop(setup, "default", caches[size], args.batch_size, steps, device)
                full = trainer_loop(setup, "default", caches[size], args.batch_size, steps, str(device))
                print(f"| {setup:<11}| {size:>4} | bare {bare:>7.4f} | trainer {full:>7.4f} | {full / bare:5.2f}x |",
                      flush=True)

        print("\n## 3. edit latency per face")
        if 3 not in parts:
            skipped("part 3", "not asked for (--parts)")
        elif not gpu:
            skipped("part 3", "no CUDA GPU here; benchmarks/edit_latency.py measures the CPU path")
        else:
            label, first, slider = edit_latency(device)
            print(f"{label} on {device_name(device)}: first edit {first:.1f} ms, slider move {slider:.1f} ms")

        print("\n## 4. data parallel: 1 vs N processes (images/s, trainer)")
        nproc = args.nproc or (torch.cuda.device_count() if gpu else 2)
        if 4 not in parts:
            skipped("part 4", "not asked for (--parts)")
        elif gpu and torch.cuda.device_count() < 2:
            skipped("part 4 on GPUs", f"{torch.cuda.device_count()} GPU here; DDP scaling needs 2 or more")
        elif nproc < 2:
            skipped("part 4", "--nproc below 2")
        else:
            where = f"{nproc} GPUs (NCCL)" if gpu else f"{nproc} CPU processes (gloo) on {cores} cores"
            per_proc_threads = max(1, threads // nproc) if not gpu else 1
            for size in sizes:
                for setup in setups:
                    one, cpu_one = ddp_images_per_s(setup, caches[size], args.batch_size, 25, str(device.type), 1,
                                                    threads, Path(tmp) / f"ddp1-{setup}-{size}")
                    many, cpu_many = ddp_images_per_s(setup, caches[size], args.batch_size, 25, str(device.type),
                                                      nproc, per_proc_threads, Path(tmp) / f"ddpN-{setup}-{size}")
                    # The job's throughput with its cores all free is (cores it uses) / (CPU s per image).
                    free = (nproc * per_proc_threads / threads) * cpu_one / cpu_many
                    print(f"| {setup:<11}| {size:>4} | 1 process {one:>8.1f} | {where}: {many:>8.1f} | "
                          f"{many / one:5.2f}x | CPU ms/image {1000 * cpu_one:.1f} vs {1000 * cpu_many:.1f} | "
                          f"{free:4.2f}x |", flush=True)
            if not gpu:
                print("(CPU ms/image: CPU time each process spent per image it trained on. The last column is "
                      "the scaling these give if every core the job uses were free, which wall time cannot "
                      "show on a machine other jobs share.)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
