"""``keepsmiling evaluate``: edit success, reconstruction, skin colour shift and KID of trained models."""

from __future__ import annotations

import argparse

from tqdm import tqdm


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", action="append", required=True, metavar="RUN_DIR",
                        help="SplitGAN or ComplexGAN run/checkpoint folder (repeat to compare models)")
    parser.add_argument("--classifier", required=True, metavar="DIR", help="smile classifier checkpoint folder")
    parser.add_argument("--data", required=True, metavar="TEST_CACHE", help="held-out crop cache")
    parser.add_argument("--out", required=True, metavar="DIR", help="folder for evaluation.json/.md/.png")
    parser.add_argument("--limit", type=int, default=300, help="at most this many crops per class (default 300)")
    parser.add_argument("--alphas", default="0.5,1,1.5,2", help="comma-separated strengths (default 0.5,1,1.5,2)")
    parser.add_argument("--plain-decode", action="store_true",
                        help="SplitGAN: use the decoded crop itself instead of the default residual edit "
                             "(input + what the latent move changes)")
    parser.add_argument("--no-colour-match", action="store_true", help="measure without colour matching")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")


def run(args: argparse.Namespace) -> int:
    from keepsmiling_core.editing.editor import EditOptions
    from keepsmiling_core.errors import KeepSmilingError
    from keepsmiling_core.evaluation.evaluate import evaluate, markdown_table

    try:
        alphas = [float(a) for a in args.alphas.split(",") if a.strip()]
    except ValueError:
        raise KeepSmilingError(f"--alphas must be numbers separated by commas, got {args.alphas!r}.") from None
    if not alphas or any(a <= 0 for a in alphas):
        raise KeepSmilingError("--alphas must be positive strengths; removal is measured at their negatives.")
    report = evaluate(args.model, args.classifier, args.data, args.out, limit=args.limit, alphas=alphas,
                      device=args.device, progress=lambda msg: tqdm.write(msg),
                      options=EditOptions(colour_match=not args.no_colour_match, residual=not args.plain_decode))
    print(markdown_table(report), end="")
    for kind, path in report.files.items():
        print(f"{kind}: {path}")
    return 0
