"""``keepsmiling latent``: compute and store a SplitGAN run's calibrated smile direction."""

from __future__ import annotations

import argparse
import json

from tqdm import tqdm


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--run", required=True, metavar="RUN_DIR", help="SplitGAN run or checkpoint folder")
    parser.add_argument("--data", required=True, metavar="CACHE_DIR",
                        help="crop cache with smiling and non-smiling crops (normally the training cache)")
    parser.add_argument("--method", choices=("logreg", "meandiff"), default="logreg",
                        help="logreg: normal of a class-balanced logistic regression (default); "
                             "meandiff: difference of the class means (the original's method, bug fixed)")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")


def run(args: argparse.Namespace) -> int:
    from keepsmiling_core.editing.latent import compute_direction

    with tqdm(desc="encoding crops", unit="crop", leave=False) as bar:
        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        path = compute_direction(args.run, args.data, args.method, progress, device=args.device,
                                 batch_size=args.batch_size)
    info = json.loads(path.read_text())
    calib = info["calibration"]
    print(f"smile direction ({info['method']}) written to {path.parent}")
    print(f"  crops: {info['count_smiling']} smiling, {info['count_non_smiling']} non-smiling")
    print(f"  raw direction norm: {info['norm']:.4f}")
    print(f"  mean projection: non-smiling {calib['non_smiling']:.4f}, smiling {calib['smiling']:.4f} "
          f"(alpha = 1 moves by {calib['smiling'] - calib['non_smiling']:.4f})")
    print(f"  projection separates the classes with balanced accuracy {info['probe_balanced_accuracy']:.1%}")
    return 0
