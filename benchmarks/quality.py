"""Edit quality on the shared real data: ``keepsmiling evaluate`` on MTFL's testing split, with targets.

    .venv/bin/python benchmarks/quality.py [--model DIR ...] [--classifier DIR] [--data TEST_CACHE]
        [--limit 300] [--out DIR] [--device auto]

Without --model, the shipped SplitGAN and ComplexGAN (resources/models/) are evaluated; without
--classifier, the shipped classifier. Without --data, a crop cache of the MTFL testing split's frontal faces
(framed like the first model's training crops, at its size) is built once under the user folder and
reused (--all-poses for every pose).
Prints the evaluation table, then each target of issue 4 with the value reached and the gap.
"""

from __future__ import annotations

import argparse
import math
import tempfile
from pathlib import Path

from keepsmiling_core.data.cache import build_crop_cache
from keepsmiling_core.editing.editor import EditOptions, default_model_path, model_crop_config
from keepsmiling_core.errors import KeepSmilingError
from keepsmiling_core.evaluation.evaluate import evaluate, markdown_table
from keepsmiling_core.models.checkpoint import load_model
from keepsmiling_core.paths import mtfl_dir, user_dir

# (setup, metric, comparison, threshold, label)
TARGETS = [
    ("splitgan", "success@1", ">=", 0.90, "SplitGAN edit success at alpha 1"),
    ("splitgan", "psnr_raw", ">=", 28.0, "SplitGAN reconstruction PSNR (raw decoder, dB)"),
    ("splitgan", "psnr_final", ">=", 28.0, "SplitGAN PSNR of the finished crop at alpha 0 (dB)"),
    ("splitgan", "delta_e_final", "<", 3.0, "SplitGAN skin colour shift dE at alpha 1 (colour-matched)"),
    ("complexgan", "success@1", ">=", 0.80, "ComplexGAN edit success at alpha 1"),
]


def test_cache(model_dir: Path, pose: int | None = 3) -> Path:
    """MTFL testing crops framed exactly like the model's training crops (built once, then reused).

    Frontal faces (pose 3) by default: the editor refuses profiles, and the original project used
    pose 3 throughout; ``pose=None`` keeps every pose."""
    model = load_model(model_dir, device="cpu")
    crop = model_crop_config(model)
    out = user_dir() / "caches" / f"mtfl-testing-{crop.mode}-{crop.size}-pose{pose or 'all'}"
    return build_crop_cache(f"mtfl:{mtfl_dir()}", out, split="testing", config=crop, pose=pose)


def check_targets(report) -> list[str]:
    lines = []
    for model in report.models:
        for setup, metric, op, threshold, label in TARGETS:
            if model.setup != setup:
                continue
            value = model.success["1.0"] if metric == "success@1" else float(getattr(model, metric))
            met = value >= threshold if op == ">=" else value < threshold
            gap = "" if met or math.isinf(value) else f" (short by {abs(value - threshold):.3g})"
            shown = f"{value:.1%}" if metric.startswith("success") else f"{value:.2f}"
            lines.append(f"{model.name}: {label}: {shown} (target {op} {threshold:g}) -> "
                         f"{'met' if met else 'MISSED'}{gap}")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", action="append", default=None)
    parser.add_argument("--classifier", default=None)
    parser.add_argument("--data", default=None)
    parser.add_argument("--limit", type=int, default=300)
    parser.add_argument("--all-poses", action="store_true", help="built test cache: every pose, not only frontal")
    parser.add_argument("--out", default=None)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--plain-decode", action="store_true",
                        help="SplitGAN: decoded crop itself instead of the default residual edit")
    args = parser.parse_args()
    shipped = [default_model_path(kind, must_exist=False) for kind in ("splitgan", "complexgan")]
    models = args.model or [str(p) for p in shipped if (p / "checkpoint.json").is_file()]
    if not models:
        raise KeepSmilingError("No model to evaluate: pass --model DIR or install the shipped models.")
    classifier = args.classifier or str(default_model_path("classifier"))
    data = Path(args.data) if args.data else test_cache(Path(models[0]), None if args.all_poses else 3)
    out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="keepsmiling-quality-"))
    report = evaluate(models, classifier, data, out, limit=args.limit, device=args.device, progress=print,
                      options=EditOptions(residual=not args.plain_decode))
    print()
    print(markdown_table(report), end="")
    print()
    for line in check_targets(report):
        print(line)
    print(f"\nfiles: {', '.join(report.files.values())}")
    return 0


if __name__ == "__main__":
    try:
        raise SystemExit(main())
    except KeepSmilingError as exc:
        raise SystemExit(f"quality: error: {exc}") from None
