"""``keepsmiling train-classifier``: train the smile classifier that the evaluation uses as judge."""

from __future__ import annotations

import argparse
from pathlib import Path

from tqdm import tqdm


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", required=True, metavar="CACHE", help="crop cache to train on")
    parser.add_argument("--out", required=True, metavar="DIR", help="folder for the classifier checkpoint")
    parser.add_argument("--val", metavar="CACHE", default=None,
                        help="held-out crop cache (e.g. MTFL testing); default: a stratified 15%% split of --data")
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--size", type=int, default=None, help="crop size (default: the cache's)")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    parser.add_argument("--seed", type=int, default=0)


def run(args: argparse.Namespace) -> int:
    from keepsmiling_core.evaluation.classifier import ClassifierConfig, train_classifier

    config = ClassifierConfig(data=Path(args.data), out=Path(args.out), steps=args.steps,
                              batch_size=args.batch_size, lr=args.lr, size=args.size, device=args.device,
                              seed=args.seed, val=Path(args.val) if args.val else None)
    with tqdm(total=args.steps, desc="training classifier", unit="step", leave=False) as bar:
        def progress(step: int, total: int, loss: float) -> None:
            bar.update(step - bar.n)
            bar.set_postfix(loss=f"{loss:.3f}")

        report = train_classifier(config, progress)
    source = "held-out cache" if args.val else "held-out split"
    print(f"smile classifier saved to {report.path} ({report.seconds:.0f} s, {report.train_count} training crops)")
    print(f"  accuracy on the {source} ({report.val_count} crops): {report.val_accuracy:.1%} "
          f"(balanced {report.val_balanced_accuracy:.1%})")
    return 0
