"""Entry point of the ``keepsmiling`` command.

Each subcommand lives in its own module under ``keepsmiling_core.cli`` and exposes
``add_arguments(parser)`` and ``run(args) -> int``. Modules are imported lazily so that
``keepsmiling detect`` does not pay for importing the trainer, and a user-facing
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
    ("evaluate", "evaluate", "measure edit success, reconstruction, colour shift and KID"),
]


def build_parser() -> tuple[argparse.ArgumentParser, dict[str, str]]:
    parser = argparse.ArgumentParser(prog="keepsmiling", description="KeepSmiling: make people in photos smile.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    modules: dict[str, str] = {}
    for name, module, help_text in SUBCOMMANDS:
        sub_parser = sub.add_parser(name, help=help_text, description=help_text)
        modules[name] = module
        try:
            mod = importlib.import_module(f"keepsmiling_core.cli.{module}")
        except ModuleNotFoundError as exc:
            if exc.name != f"keepsmiling_core.cli.{module}":
                raise
            sub_parser.set_defaults(_missing=True)
            continue
        mod.add_arguments(sub_parser)
        sub_parser.set_defaults(_run=mod.run)
    return parser, modules


def main(argv: list[str] | None = None) -> int:
    parser, _ = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 1
    if getattr(args, "_missing", False):
        print(f"keepsmiling: the '{args.command}' command is not available in this build.", file=sys.stderr)
        return 2
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
