"""How many faces the detector finds where every photo holds one: GENKI-4K-dev and tight MTFL crops.

    .venv/bin/python benchmarks/detection_coverage.py [--genki N] [--mtfl N] [--no-border-retry]

Prints the share of GENKI-4K-dev photos (web photos, mostly one face ~150-200 px across; target >= 97 %)
and of MTFL test faces (150 px AFLW crops the face fills; the first N lines of testing.txt) with at least
one face found, the photos missed, and how long detection took. ``--no-border-retry`` measures the plain
detector without the padded second pass, for comparison.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from keepsmiling_core.detection import detect_faces
from keepsmiling_core.imageio import read_photo
from keepsmiling_core.paths import shared_data_dir


def coverage(paths: list[Path], border_retry: bool) -> tuple[int, list[str], float]:
    """(photos with a face, names of those without, seconds per photo)."""
    missed: list[str] = []
    start = time.perf_counter()
    for path in paths:
        if not detect_faces(read_photo(path).rgb, border_retry=border_retry):
            missed.append(path.name)
    return len(paths) - len(missed), missed, (time.perf_counter() - start) / max(1, len(paths))


def genki_photos(limit: int | None) -> list[Path]:
    root = shared_data_dir() / "GENKI-4K-dev"
    names = [line.split()[0] for line in (root / "labels.txt").read_text().splitlines() if line.strip()]
    return [root / "files" / name for name in names[:limit]]


def mtfl_photos(limit: int) -> list[Path]:
    root = shared_data_dir() / "MTFL"
    lines = [line.split() for line in (root / "testing.txt").read_text().splitlines() if line.strip()]
    return [root / parts[0].replace("\\", "/") for parts in lines[:limit]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--genki", type=int, default=None, help="first N GENKI-4K-dev photos (default: all)")
    parser.add_argument("--mtfl", type=int, default=300, help="first N MTFL test faces (default: 300)")
    parser.add_argument("--no-border-retry", action="store_true", help="plain detector, no padded second pass")
    args = parser.parse_args()
    retry = not args.no_border_retry
    for label, paths in (("MTFL test (150 px AFLW crops)", mtfl_photos(args.mtfl)),
                         ("GENKI-4K-dev", genki_photos(args.genki))):
        found, missed, per_photo = coverage(paths, retry)
        print(f"{label}: {found}/{len(paths)} = {100 * found / max(1, len(paths)):.1f} % with a face "
              f"({per_photo * 1000:.0f} ms per photo, border retry {'on' if retry else 'off'})")
        print(f"  missed: {' '.join(missed[:40])}{' ...' if len(missed) > 40 else ''}")


if __name__ == "__main__":
    main()
