"""``keepsmiling train-judge``: train the face-level smile judge on GENKI's judge part (+ MTFL).

Prints the held-out figures as training goes and, at the end, the judge's accuracy on the real,
unedited photos of GENKI's eval part, which nothing trained or selected on.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--genki", required=True, metavar="DIR", help="GENKI-4K-dev folder (labels.txt + files/)")
    parser.add_argument("--mtfl", required=True, metavar="DIR", help="MTFL folder (training.txt, testing.txt)")
    parser.add_argument("--out", required=True, metavar="DIR", help="model folder to write (checkpoint + judge.json)")
    parser.add_argument("--steps", type=int, default=None, help="training steps (default: the config's)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cache", metavar="DIR", default=None,
                        help="folder for face detections and face views (default: the user cache folder)")
    parser.add_argument("--width", type=int, default=None, help="network width (default: the config's)")
    parser.add_argument("--blob-fraction", type=float, default=None,
                        help="fraction of non-smiling training faces given a lip blob (0 turns blobs off)")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from keepsmiling_core.evaluation.judge_training import FaceJudgeConfig, train_face_judge

    options = {name: value for name, value in (("steps", args.steps), ("width", args.width),
                                               ("blob_fraction", args.blob_fraction)) if value is not None}
    config = FaceJudgeConfig(genki=Path(args.genki), mtfl=Path(args.mtfl), out=Path(args.out), seed=args.seed,
                             cache=Path(args.cache) if args.cache else None, device=args.device, **options)
    report = train_face_judge(config, progress=tqdm.write)
    print(report.summary())
    print(json.dumps({"held_out": report.validation, "eval": report.evaluation, "counts": report.counts}, indent=2))
    return 0
