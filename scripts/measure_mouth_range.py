"""Measure how far real mouths bend: the figures behind ``editing.mouth_range.REAL_MOUTHS``.

Reads the labelled photos of a photo set (default: GENKI-4K-dev's judge part, never the evaluation part),
finds each photo's largest face the way the app does (detections cached per photo) and prints the
percentiles of the two bend measures for smiling and non-smiling faces. ``REAL_MOUTHS`` takes the 1st
percentile of non-smiling faces and the 99th of smiling ones.

    .venv/bin/python scripts/measure_mouth_range.py genki:../shared/data/GENKI-4K-dev --part judge
"""

from __future__ import annotations

import argparse

import numpy as np

from keepsmiling_core.editing.mouth_range import REAL_MOUTHS, MouthBend
from keepsmiling_core.evaluation.detections import cached_faces
from keepsmiling_core.evaluation.photo_sets import load_photo_set
from keepsmiling_core.evaluation.photos import largest_face

PERCENTILES = (1, 2.5, 50, 97.5, 99)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("photos", help="a photo set, e.g. genki:../shared/data/GENKI-4K-dev")
    parser.add_argument("--part", default="judge", help="which part of the set (default: judge)")
    args = parser.parse_args()
    bends: dict[bool, list[MouthBend]] = {True: [], False: []}
    for photo in load_photo_set(args.photos, args.part):
        faces = cached_faces(photo.path, None)
        face = largest_face(faces) if faces else None
        if face is None or face.points is None or photo.smiling is None:
            continue
        bends[bool(photo.smiling)].append(MouthBend.of(face.points))
    print(f"percentiles {PERCENTILES}")
    for smiling, found in bends.items():
        lifts = np.array([lift for bend in found for lift in bend.corner_lift])
        sags = np.array([bend.lip_sag for bend in found])
        label = "smiling" if smiling else "not smiling"
        print(f"{label:12s} {len(found):5d} faces  corner lift (deg) {np.percentile(lifts, PERCENTILES).round(1)}"
              f"  lip sag (mouth widths) {np.percentile(sags, PERCENTILES).round(3)}")
    print(f"REAL_MOUTHS now: corner lift {REAL_MOUTHS.corner_lift}, lip sag {REAL_MOUTHS.lip_sag}")


if __name__ == "__main__":
    main()
