"""``keepsmiling train``: train a registered setup (SimpleGAN, ComplexGAN, SplitGAN, ...) on a crop cache,
with a tqdm bar. Every option left out takes the setup's preset value (``keepsmiling_core/setups``)."""

from __future__ import annotations

import argparse
import json
import signal
import sys

from keepsmiling_core.errors import TrainingError
from keepsmiling_core.setups import PRESETS, setup_names


def add_arguments(parser: argparse.ArgumentParser) -> None:
    # The registry is read here, when ``cli.main`` builds the parser for this command line, so a setup
    # registered after import (a plug-in, a test) is a valid choice.
    parser.add_argument("--setup", choices=setup_names(), required=True, help="which GAN to train")
    parser.add_argument("--data", required=True, metavar="CACHE_DIR", help="crop cache from 'keepsmiling prepare'")
    parser.add_argument("--out", required=True, metavar="RUN_DIR", help="run folder (checkpoints, samples, logs)")
    parser.add_argument("--preset", choices=PRESETS, default="default",
                        help="'default' (improved) or 'original' (the research project's setup, bugs fixed)")
    length = parser.add_mutually_exclusive_group()
    length.add_argument("--steps", type=int, default=None, help="training steps (default: the preset's, 2000)")
    length.add_argument("--epochs", type=float, default=None, help="passes over the training crops instead of --steps")
    parser.add_argument("--batch-size", type=int, default=None, help="default: the preset's (32, original 16)")
    parser.add_argument("--lr", type=float, default=None, help="generator learning rate (critic keeps its ratio)")
    parser.add_argument("--size", type=int, choices=(32, 64, 128), default=None, help="crop size (default: the cache's)")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None, metavar="N",
                        help="CPU threads for torch (default: all cores); use 1 when several jobs share the CPU")
    parser.add_argument("--resume", action="store_true", help="continue the run in RUN_DIR from its last checkpoint")
    parser.add_argument("--init-from", default=None, metavar="CHECKPOINT",
                        help="start from the weights of another run of the same setup (fine-tuning)")
    parser.add_argument("--smile-from", default=None, metavar="CACHE_DIR",
                        help="crop cache whose mean smile (corner motion) --set lambda_shape=W holds the edit to "
                             "(default: --data; e.g. crops of the photos the app will edit)")
    parser.add_argument("--checkpoint-every", type=int, default=500, metavar="N")
    parser.add_argument("--sample-every", type=int, default=250, metavar="N")
    parser.add_argument("--keep-checkpoints", type=int, default=3, metavar="N")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="override a loss weight or optimiser setting, e.g. --set lambda_rec=5 (repeatable)")
    parser.add_argument("--arch", action="append", default=[], metavar="NAME=VALUE",
                        help="override a network width, e.g. --arch width=16 (repeatable)")
    parser.add_argument("--shape-edits", action="store_true",
                        help="SplitGAN/ComplexGAN whose networks move the photo's pixels and paint only the "
                             "parted lips (shape x texture; --arch shape_output=true with its training settings)")
    parser.add_argument("--nproc", type=int, default=1, metavar="N",
                        help="train with N data-parallel processes on this machine (one per GPU, or gloo on "
                             "the CPU), as 'torchrun --standalone --nproc_per_node N' would; --batch-size is "
                             "per process")


def _pairs(items: list[str], flag: str) -> dict:
    values = {}
    for item in items:
        name, sep, raw = item.partition("=")
        if not sep or not name:
            raise TrainingError(f"{flag} expects NAME=VALUE, got {item!r}.")
        try:
            values[name.strip()] = json.loads(raw)
        except json.JSONDecodeError:
            values[name.strip()] = raw
    return values


def _steps_for_epochs(epochs: float, data: str, setup: str, batch_size: int | None, preset: str) -> int:
    import numpy as np

    from keepsmiling_core.data.cache import load_crop_cache
    from keepsmiling_core.setups import get_setup

    cache = load_crop_cache(data)
    spec = get_setup(setup)
    batch = batch_size or spec.training_preset(preset).batch_size
    count = len(spec.recipe_class().select_training_indices(np.asarray(cache.smiling)))
    return max(1, int(round(epochs * count / batch)))


def _launch(args: argparse.Namespace) -> int:
    """Start ``--nproc`` ranks, each running this same command without ``--nproc`` (torchrun sets their ranks)."""
    from keepsmiling_core.training import distributed

    argv = list(getattr(args, "_argv", None) or sys.argv[1:])
    kept: list[str] = []
    skip = False
    for item in argv:
        if skip:
            skip = False
        elif item == "--nproc":
            skip = True
        elif not item.startswith("--nproc="):
            kept.append(item)
    program, program_args = distributed.python_module_command("keepsmiling_core.cli.main", kept)
    distributed.launch(args.nproc, program, program_args, threads_per_process=args.threads)
    print(f"Training finished with {args.nproc} processes; run folder: {args.out}")
    return 0


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from keepsmiling_core.device import pick_device
    from keepsmiling_core.training import distributed
    from keepsmiling_core.training.config import TrainConfig, with_shape_edits
    from keepsmiling_core.training.trainer import Trainer, saved_run_steps

    pick_device(args.device)  # checked before the crop cache is read or anything is written
    if args.steps is not None and args.steps < 1:
        raise TrainingError(f"--steps must be at least 1, not {args.steps}.")
    if args.epochs is not None and not args.epochs > 0:
        raise TrainingError(f"--epochs must be more than 0, not {args.epochs}.")
    if args.threads is not None and args.threads < 1:
        raise TrainingError(f"--threads must be at least 1, not {args.threads}.")
    if args.nproc < 1:
        raise TrainingError(f"--nproc must be at least 1, not {args.nproc}.")
    if args.nproc > 1:
        if distributed.launched_by_torchrun():
            raise TrainingError("--nproc starts its own processes; under torchrun leave it out.")
        return _launch(args)
    main_rank = distributed.shard_from_env().is_main
    if args.threads:
        import torch

        torch.set_num_threads(max(1, args.threads))
    steps = args.steps
    if args.epochs is not None:
        steps = _steps_for_epochs(args.epochs, args.data, args.setup, args.batch_size, args.preset)
    if steps is None and args.resume:
        steps = saved_run_steps(args.out)  # --resume alone continues to the run's own length
    arch, hparams = _pairs(args.arch, "--arch"), _pairs(args.set, "--set")
    if args.shape_edits:
        arch, hparams = with_shape_edits(args.setup, args.preset, arch, hparams)
    config = TrainConfig(  # steps None: the preset's
        setup=args.setup, data=args.data, out=args.out, preset=args.preset, steps=steps,
        batch_size=args.batch_size, lr=args.lr, size=args.size, device=args.device, seed=args.seed,
        resume=args.resume, checkpoint_every=args.checkpoint_every, sample_every=args.sample_every,
        keep_checkpoints=args.keep_checkpoints, init_from=args.init_from, hparams=hparams, arch=arch,
        smile_from=args.smile_from,
    )
    config.validate()  # before the progress bar, so a bad option reads as one line
    bar = tqdm(total=config.steps, unit="step", dynamic_ncols=True, file=sys.stderr, disable=not main_rank)

    def on_progress(p) -> None:
        if bar.n == 0 and p.step > 0:
            bar.reset(total=p.total_steps)
        bar.update(p.step - bar.n)
        shown = {k: f"{v:.3g}" for k, v in list(p.losses.items())[:5]}
        if p.images_per_s is not None:
            shown["img/s"] = f"{p.images_per_s:.0f}"
        bar.set_postfix(epoch=p.epoch, **shown, refresh=False)

    trainer = Trainer(config, on_progress=on_progress)
    previous = signal.getsignal(signal.SIGINT)

    def interrupt(signum, frame) -> None:
        # First Ctrl+C: finish the step and save a checkpoint; a second one aborts.
        bar.write("Stopping after this step and saving a checkpoint (Ctrl+C again to abort)...")
        signal.signal(signal.SIGINT, previous)
        trainer.stop()

    signal.signal(signal.SIGINT, interrupt)
    try:
        run_dir = trainer.run()
    finally:
        signal.signal(signal.SIGINT, previous)
        bar.close()
    for note in trainer.notes:
        print(f"keepsmiling train: note: {note}", file=sys.stderr)
    state = "stopped early" if trainer.stopped_early else "finished"
    if main_rank:
        print(f"Training {state}; run folder: {run_dir}")
    return 0
