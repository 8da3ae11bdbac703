"""``keepsmiling train-fill``: train the mouth-fill network that paints teeth into the warp's parted lips.

Learns from real open mouths of MTFL's training split and GENKI's judge part (never its eval part).
Faces are detected once and their crops kept in the cache folder; a run resumes from its newest
checkpoint when started again with the same ``--out``. ``--export DIR`` writes the final weights as a
model folder (float16) that a warp model's ``texture.json`` can name.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--mtfl", metavar="DIR", help="MTFL folder (training.txt); its smiling near-frontal faces")
    parser.add_argument("--genki", metavar="DIR", help="GENKI-4K-dev folder; only its judge part is used")
    parser.add_argument("--mtfl-faces", type=int, default=3000, metavar="N", help="first N MTFL faces (default 3000)")
    parser.add_argument("--out", required=True, metavar="DIR", help="run folder (checkpoints; resumed if present)")
    parser.add_argument("--export", metavar="DIR", help="also write the final weights as a model folder here")
    parser.add_argument("--steps", type=int, default=None, help="total training steps (default: the config's)")
    parser.add_argument("--batch", type=int, default=None)
    parser.add_argument("--adv-weight", type=float, default=None, help="weight of the critic's loss (default 0.5)")
    parser.add_argument("--min-opening", type=float, default=None, metavar="GAP",
                        help="train on mouths whose lips are apart by at least GAP x the mouth's width (default 0.08)")
    parser.add_argument("--min-samples", type=int, default=None, metavar="N",
                        help="refuse to train on fewer open mouths than N (default: the config's 50)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cache", metavar="DIR", default=None, help="folder for extracted mouths (default: user cache)")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from keepsmiling_core.data.crops import CropConfig
    from keepsmiling_core.device import pick_device
    from keepsmiling_core.errors import KeepSmilingError
    from keepsmiling_core.paths import user_cache_dir
    from keepsmiling_core.training.export import export_model
    from keepsmiling_core.training.mouth_fill import MouthFillConfig, train_mouth_fill
    from keepsmiling_core.training.mouth_fill_data import (
        MouthSamples,
        cached_samples,
        genki_items,
        mtfl_items,
    )

    if not args.mtfl and not args.genki:
        raise KeepSmilingError("Give --mtfl and/or --genki: the mouth fill learns from real open mouths.")
    overrides = {k: v for k, v in (("steps", args.steps), ("batch", args.batch),
                                                  ("min_samples", args.min_samples),
                                                  ("adv_weight", args.adv_weight),
                                                  ("min_opening", args.min_opening)) if v is not None}
    config = MouthFillConfig(seed=args.seed, **overrides)
    cache = Path(args.cache) if args.cache else user_cache_dir() / "mouth-fill"
    crop = CropConfig(size=config.size)
    parts = []
    for name, items in (("genki", genki_items(Path(args.genki)) if args.genki else None),
                        ("mtfl", mtfl_items(Path(args.mtfl))[: args.mtfl_faces] if args.mtfl else None)):
        if items:
            with tqdm(total=len(items), desc=f"mouths ({name})", unit="photo") as bar:
                parts.append(cached_samples(name, items, crop, cache, progress=lambda done, bar=bar: bar.update(1)))
    samples = MouthSamples.concatenate(parts)
    with tqdm(total=config.steps, desc="mouth fill", unit="step") as bar:
        def progress(step: int, losses: dict) -> None:
            bar.n = step
            bar.set_postfix(l1=f"{losses['l1']:.3f}", adv=f"{losses['adv']:.2f}", refresh=False)
            bar.update(0)

        latest = train_mouth_fill(samples, Path(args.out), config, device=pick_device(args.device), progress=progress)
    print(f"newest checkpoint: {latest}")
    if args.export:
        print(f"model folder: {export_model(latest, Path(args.export))}")
    return 0
