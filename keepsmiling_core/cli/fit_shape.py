"""``keepsmiling fit-shape``: measure the smile shape (mean 68-point displacement) for the landmark warp."""

from __future__ import annotations

import argparse
from pathlib import Path

from keepsmiling_core.cli import add_labelled_faces_arguments
from keepsmiling_core.errors import KeepSmilingError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_labelled_faces_arguments(parser)
    parser.add_argument("--out", required=True, metavar="DIR", help="model folder to write smile_shape.json into")
    parser.add_argument("--per-class", type=int, default=2000, metavar="N",
                        help="at most N faces of each label, chosen at random with --seed (default 2000)")
    parser.add_argument("--frontal", action="store_true", help="only near-frontal faces (MTFL pose 2..4)")
    parser.add_argument("--open-smiles", type=float, default=None, metavar="GAP",
                        help="count only smiling faces whose lips are apart by at least GAP x the mouth's width "
                             "(e.g. 0.08): the shape of a smile that shows teeth, for a warp with a mouth fill")
    parser.add_argument("--seed", type=int, default=0)


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from keepsmiling_core.data.sources import load_records
    from keepsmiling_core.editing.smile_shape import (
        fit_smile_shape,
        lip_opening,
        mtfl_shape_samples,
        save_smile_shape,
    )

    if args.per_class < 10:
        raise KeepSmilingError("--per-class must be at least 10.")
    records = load_records(args.dataset, args.split, skip_bad=True)
    if args.frontal:
        records = [r for r in records if r.meta.get("pose", 3) in (2, 3, 4)]
    rng = np.random.default_rng(args.seed)
    chosen = []
    for label in (True, False):
        group = [r for r in records if r.smiling == label]
        order = rng.permutation(len(group))[: args.per_class]
        chosen += [group[i] for i in sorted(order)]
    samples = mtfl_shape_samples(chosen)
    if args.open_smiles is not None:
        samples = ((points, smiling) for points, smiling in samples
                   if not smiling or lip_opening(points) >= args.open_smiles)
    opened = f"smiles with lips apart >= {args.open_smiles}, " if args.open_smiles is not None else ""
    shape = fit_smile_shape(samples, source=f"{args.dataset} ({args.split}), "
                            f"{'frontal, ' if args.frontal else ''}{opened}seed {args.seed}")
    target = save_smile_shape(shape, Path(args.out))
    moved = np.linalg.norm(shape.displacement, axis=1)
    print(f"{shape.counts['smiling']} smiling + {shape.counts['not_smiling']} non-smiling faces -> {target}")
    print(f"mouth corners move {moved[48]:.3f} / {moved[54]:.3f} inter-ocular distances; largest move "
          f"{moved.max():.3f} (point {int(moved.argmax())})")
    return 0
