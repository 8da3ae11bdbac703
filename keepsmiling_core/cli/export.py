"""``keepsmiling export``: turn a training run into a compact model folder for shipping or sharing."""

from __future__ import annotations

import argparse
import json

from keepsmiling_core.training.export import export_model


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--run", required=True, help="training run (or checkpoint) folder")
    parser.add_argument("--out", required=True, help="model folder to write")
    parser.add_argument("--fp32", action="store_true", help="keep float32 weights (default: float16)")
    parser.add_argument("--average", type=int, default=1, metavar="N",
                        help="export the mean weights of the run's last N checkpoints (smooths GAN oscillation)")
    parser.add_argument("--card", default=None, help="JSON object merged into model.json (data, metrics, command)")


def run(args: argparse.Namespace) -> int:
    card = json.loads(args.card) if args.card else None
    out = export_model(args.run, args.out, half=not args.fp32, card=card, average=args.average)
    print(f"Exported {args.run} -> {out}")
    return 0
