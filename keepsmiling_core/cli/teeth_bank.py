"""``keepsmiling teeth-bank``: cut the teeth bank (``editing/teeth``) from real smiling mouths."""

from __future__ import annotations

import argparse
from pathlib import Path

from keepsmiling_core.cli import add_labelled_faces_arguments
from keepsmiling_core.errors import KeepSmilingError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_labelled_faces_arguments(parser)
    parser.add_argument("--out", required=True, metavar="DIR", help="folder to write teeth.safetensors into")
    parser.add_argument("--limit", type=int, default=3000, metavar="N",
                        help="look at most N smiling faces, chosen at random with --seed (default 3000)")
    parser.add_argument("--max-mouths", type=int, default=400, metavar="N",
                        help="keep at most N mouths that show teeth, chosen at random (default 400)")
    parser.add_argument("--seed", type=int, default=0)


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from keepsmiling_core.data.sources import load_records
    from keepsmiling_core.editing.smile_shape import mtfl_faces
    from keepsmiling_core.editing.teeth import build_bank, save_bank

    if args.limit < 1 or args.max_mouths < 1:
        raise KeepSmilingError("--limit and --max-mouths must be at least 1.")
    smiling = [r for r in load_records(args.dataset, args.split, skip_bad=True) if r.smiling]
    order = np.random.default_rng(args.seed).permutation(len(smiling))[: args.limit]
    chosen = [smiling[i] for i in sorted(order)]
    try:
        bank = build_bank(((rgb, points) for _, rgb, points in mtfl_faces(chosen)),
                          source=f"{args.dataset} ({args.split}), {len(chosen)} smiling faces, seed {args.seed}",
                          max_mouths=args.max_mouths, seed=args.seed)
    except ValueError as exc:
        raise KeepSmilingError(f"No teeth bank was written: {exc}.") from None
    target = save_bank(bank, Path(args.out))
    print(f"{bank.meta['mouths_with_teeth']} mouths showing teeth out of {len(chosen)} smiling faces; "
          f"{len(bank)} kept -> {target}")
    return 0
