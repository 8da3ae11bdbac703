"""Entry point of the ``keepsmiling`` command.

Each subcommand lives in its own module under ``keepsmiling_core.cli`` and exposes
``add_arguments(parser)`` and ``run(args) -> int``. Only the chosen subcommand's module is
imported, so ``keepsmiling detect`` does not pay for importing torch and the trainer, and a user-facing
``KeepSmilingError`` is printed as one clear line (exit code 2), never as a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from keepsmiling_core.errors import KeepSmilingError

# (subcommand, module, one-line help)
SUBCOMMANDS: list[tuple[str, str, str]] = [
    ("prepare", "prepare", "crop the mouths of a dataset into a reusable crop cache"),
    ("detect", "detect", "find faces, 5 landmarks and mouth outlines in photos"),
    ("train", "train", "train SimpleGAN, ComplexGAN or SplitGAN on a crop cache"),
    ("latent", "latent", "compute a SplitGAN run's smile direction in latent space"),
    ("smile", "smile", "make the faces in photos smile with a trained model"),
    ("train-classifier", "train_classifier", "train the smile classifier used for evaluation"),
    ("train-judge", "train_judge", "train the face-level smile judge that evaluates finished photos"),
    ("evaluate", "evaluate", "measure edit success, reconstruction, colour shift and KID"),
    ("evaluate-photos", "evaluate_photos", "judge finished whole photos: success, detectability, sharpness, stains"),
    ("train-fill", "train_fill", "train the mouth fill that paints teeth into the landmark warp's parted lips"),
    ("fit-shape", "fit_shape", "measure the smile shape (68-point displacement) used by the landmark warp"),
    ("teeth-bank", "teeth_bank", "cut the teeth bank the shape edits paint between parted lips from real smiles"),
    ("export", "export", "package a training run as a compact (fp16) model folder"),
]


def build_parser(chosen: str | None) -> argparse.ArgumentParser:
    """All subcommands are listed for --help, but only the chosen one's module is imported."""
    parser = argparse.ArgumentParser(prog="keepsmiling", description="KeepSmiling: make people in photos smile.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module, help_text in SUBCOMMANDS:
        sub_parser = sub.add_parser(name, help=help_text, description=help_text)
        if name == chosen:
            mod = importlib.import_module(f"keepsmiling_core.cli.{module}")
            mod.add_arguments(sub_parser)
            sub_parser.set_defaults(_run=mod.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    chosen = next((arg for arg in argv if not arg.startswith("-")), None)
    args = build_parser(chosen).parse_args(argv)
    if args.command is None:
        build_parser(None).print_help()
        return 1
    args._argv = argv  # what ``train --nproc`` hands on to the processes it starts
    try:
        return int(args._run(args) or 0)
    except KeepSmilingError as exc:
        print(f"keepsmiling {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"keepsmiling {args.command}: interrupted.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
