"""How long ``keepsmiling evaluate-photos`` takes: N GENKI photos × 6 strengths, per model.

    .venv/bin/python benchmarks/photo_eval_speed.py [--photos 200] [--models none,warp,splitgan]

Detections are cached on disk per photo (the first pass pays for them once); each model prepares a
face once and renders it at every strength; the judge runs batched. Printed: the detection pass (cold
and warm cache), then per model the edit-and-measure pass and the detectability test.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from keepsmiling_core.evaluation.photo_sets import fixed_subset, load_photo_set
from keepsmiling_core.evaluation.photos import DEFAULT_STRENGTHS, PhotoEvalConfig, evaluate_photos
from keepsmiling_core.paths import shared_data_dir, shipped_models_dir


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photos", type=int, default=200)
    parser.add_argument("--models", default="none,warp,splitgan")
    args = parser.parse_args()
    photos = fixed_subset(load_photo_set(f"genki:{shared_data_dir() / 'GENKI-4K-dev'}", "eval"), args.photos, 0)
    models = [m if m == "none" else str(shipped_models_dir() / m) for m in args.models.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp) / "detections"
        for label in ("cold detection cache", "warm detection cache"):
            start = time.perf_counter()
            evaluate_photos(PhotoEvalConfig(photos=photos, models=["none"], strengths=(0.0,), cache_dir=cache,
                                            detectability=False, progress=False, sheet_photos=0))
            print(f"detection + judge, {len(photos)} photos, {label}: {time.perf_counter() - start:.1f} s")
        for model in models:
            for detect in (False, True):
                start = time.perf_counter()
                evaluate_photos(PhotoEvalConfig(photos=photos, models=[model], strengths=DEFAULT_STRENGTHS,
                                                cache_dir=cache, detectability=detect, progress=False,
                                                sheet_photos=0))
                what = "with detectability" if detect else "edit + judge + measures"
                print(f"{Path(model).name}: {len(photos)} photos x {len(DEFAULT_STRENGTHS)} strengths, {what}: "
                      f"{time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
