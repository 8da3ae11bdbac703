"""``keepsmiling prepare``: crop a dataset's mouths once into a crop cache that training and evaluation read.

Example: ``keepsmiling prepare --dataset mtfl:../shared/data/MTFL --size 64 --out runs/cache-train64``.
Running it again with nothing changed reuses the cache and says so.
"""

from __future__ import annotations

import argparse
import sys
import time

from keepsmiling_core.data.cache import build_crop_cache, load_crop_cache
from keepsmiling_core.data.crops import MODES, SIZES


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dataset", required=True, metavar="KIND:PATH",
                        help="mtfl:PATH, celeba:PATH or folders:PATH (a folder with smiling/ and not_smiling/)")
    parser.add_argument("--out", required=True, metavar="DIR", help="cache folder to write (crops.npz + manifest.json)")
    parser.add_argument("--size", type=int, default=64, choices=SIZES, help="crop side in pixels (default 64)")
    parser.add_argument("--split", default="training",
                        help="training | testing (CelebA also validation | all); default training")
    parser.add_argument("--limit", type=int, default=None, metavar="N", help="keep only the first N usable faces")
    parser.add_argument("--mode", default="aligned", choices=MODES,
                        help="aligned: rotated square crop (default); original: the 2018 project's box, bugs fixed")
    parser.add_argument("--pose", type=int, default=None, choices=(1, 2, 3, 4, 5),
                        help="MTFL head pose to keep (3 = frontal, what the original used); default all")
    parser.add_argument("--skip-bad", action="store_true",
                        help="skip bad lines and unreadable photos (counted) instead of stopping at the first")
    parser.add_argument("--workers", type=int, default=None, metavar="N",
                        help="processes that decode and crop (default: all cores for big datasets)")
    parser.add_argument("--force", action="store_true", help="rebuild even if the cache is up to date")


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    started = time.monotonic()
    bar: tqdm | None = None

    def progress(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(total=total, unit="face", desc="preparing", file=sys.stderr, dynamic_ncols=True)
        bar.update(done - bar.n)

    def report(message: str) -> None:
        if bar is not None:
            bar.clear()
        print(message, file=sys.stderr)

    try:
        out = build_crop_cache(args.dataset, args.out, size=args.size, split=args.split, limit=args.limit,
                               mode=args.mode, pose=args.pose, progress=progress, skip_bad=args.skip_bad,
                               report=report, workers=args.workers, force=args.force)
    finally:
        if bar is not None:
            bar.close()
    cache = load_crop_cache(out)
    counts = cache.manifest["counts"]
    verb = "Reused" if bar is None else "Wrote"
    print(f"{verb} {counts['total']} mouth crops ({counts['smiling']} smiling, {counts['not_smiling']} not smiling) "
          f"of {cache.size}x{cache.size} px, {cache.manifest['mode']} framing, in {out} "
          f"[{time.monotonic() - started:.1f} s]")
    return 0
