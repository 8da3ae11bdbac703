"""Which parts of a face the face judge reads: real non-smiling faces given one region of a real smile.

Every face of the set (GENKI's judge part by default, so the evaluation part stays untouched) is cut into
the judge's own aligned view (``face_view``: eyes at 22 % of the height, nose tip near 47 %, mouth at
65 %). Each non-smiling view is paired with a random smiling one, and a band of the smiling view (soft
edges) replaces the same band of the non-smiling view; the table gives the share of those hybrids the
judge calls smiling. A real smiling mouth that moves nothing else is what an edit confined to the lips
can at best deliver; the bands that lift the count above it are where an edit must also change the face.

    .venv/bin/python scripts/judge_regions.py
"""

from __future__ import annotations

import argparse

import numpy as np

from keepsmiling_core.evaluation.detections import cached_faces
from keepsmiling_core.evaluation.face_judge import FaceJudge, face_view
from keepsmiling_core.evaluation.photo_sets import fixed_subset, load_photo_set
from keepsmiling_core.evaluation.photos import largest_face
from keepsmiling_core.imageio import read_photo
from keepsmiling_core.paths import shared_data_dir

SOFT = 0.04   # band edges blend over this share of the view
# (name, rows top..bottom, columns left..right) in shares of the view's side
BANDS = [
    ("whole view", (0.0, 1.0), (0.0, 1.0)),
    ("mouth only (lips and corners)", (0.55, 0.80), (0.20, 0.80)),
    ("mouth and chin, full width", (0.55, 1.0), (0.0, 1.0)),
    ("mouth, nasolabial folds and chin, inner cheeks", (0.45, 0.85), (0.15, 0.85)),
    ("lower face from the nose tip, inner two thirds", (0.40, 1.0), (0.25, 0.75)),
    ("lower face from the nose tip, full width", (0.40, 1.0), (0.0, 1.0)),
    ("lower face from under the eyes, full width", (0.25, 1.0), (0.0, 1.0)),
    ("cheeks at nose level only (no mouth)", (0.40, 0.55), (0.0, 1.0)),
    ("eyes and brows only", (0.0, 0.40), (0.0, 1.0)),
]


def band_weight(size: int, rows: tuple[float, float], cols: tuple[float, float]) -> np.ndarray:
    """(size, size, 1) float32 in [0, 1]: 1 inside the band, soft at its edges."""
    t = np.arange(size, dtype=np.float32) / (size - 1)

    def ramp(lo: float, hi: float) -> np.ndarray:
        return np.clip((t - lo) / SOFT + 0.5, 0, 1) * np.clip((hi - t) / SOFT + 0.5, 0, 1)

    return (ramp(*rows)[:, None] * ramp(*cols)[None, :])[..., None]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", default=f"genki:{shared_data_dir() / 'GENKI-4K-dev'}")
    parser.add_argument("--part", default="judge")
    parser.add_argument("--limit", type=int, default=200, help="a fixed stratified subset of this many photos")
    parser.add_argument("--pairings", type=int, default=5, help="random smiling partners per non-smiling face")
    args = parser.parse_args()
    judge = FaceJudge.load()
    views: dict[bool, list[np.ndarray]] = {True: [], False: []}
    for photo in fixed_subset(load_photo_set(args.photos, args.part), args.limit, seed=0):
        faces = cached_faces(photo.path, None)
        if not faces or photo.smiling is None:
            continue
        views[bool(photo.smiling)].append(face_view(read_photo(photo.path).rgb, largest_face(faces).landmarks,
                                                    judge.size))
    smiling, non = np.stack(views[True]).astype(np.float32), np.stack(views[False]).astype(np.float32)
    rng = np.random.default_rng(0)
    partners = rng.integers(0, len(smiling), size=(args.pairings, len(non)))
    print(f"{len(non)} non-smiling faces, each with {args.pairings} random smiling partners of {len(smiling)}; "
          f"unedited: judged smiling {np.mean(judge.smile_probability(non.astype(np.uint8)) > 0.5):.1%} "
          f"(smiling faces {np.mean(judge.smile_probability(smiling.astype(np.uint8)) > 0.5):.1%})")
    print("| region taken from a real smile | rows | columns | judged smiling |")
    print("|---|---|---|---|")
    for name, rows, cols in BANDS:
        weight = band_weight(judge.size, rows, cols)
        called = [judge.smile_probability(np.round(non * (1 - weight) + smiling[pick] * weight).astype(np.uint8)) > 0.5
                  for pick in partners]
        print(f"| {name} | {rows[0]:.2f}–{rows[1]:.2f} | {cols[0]:.2f}–{cols[1]:.2f} | {np.mean(called):.1%} |")


if __name__ == "__main__":
    main()
