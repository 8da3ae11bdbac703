"""How much of a real smile's shape an edit makes: mouth width, corner lift, lip sag and parting, read back
by dlib's 68 points on finished photos, against real smiling and non-smiling faces of the same set.

Every edit runs through the app's path (``open_editor``, ``prepare``, ``apply_all``) on the set's
non-smiling photos; each finished photo is read inside the face's original detection box. Use GENKI's judge
part (the default) for diagnosis, so the evaluation part stays untouched by choices made here.

    .venv/bin/python scripts/compare_mouth_shapes.py --edit resources/models/warp@1 --edit resources/models/splitgan@1
"""

from __future__ import annotations

import argparse

import numpy as np

from keepsmiling_core.editing.backends import open_editor
from keepsmiling_core.editing.mouth_range import MouthBend
from keepsmiling_core.editing.smile_shape import EyeFrame, lip_opening
from keepsmiling_core.errors import EditError
from keepsmiling_core.evaluation.detections import cached_faces
from keepsmiling_core.evaluation.photo_measures import mouth_width, points_read_back
from keepsmiling_core.evaluation.photo_sets import fixed_subset, load_photo_set
from keepsmiling_core.evaluation.photos import largest_face
from keepsmiling_core.imageio import read_photo
from keepsmiling_core.paths import shared_data_dir


def shape_of(points: np.ndarray) -> tuple[float, float, float, float]:
    """(mouth width in inter-ocular distances, mean corner lift in degrees, lip sag, parting)."""
    bend = MouthBend.of(points)
    return (mouth_width(points) / EyeFrame.of(points).scale, float(np.mean(bend.corner_lift)), bend.lip_sag,
            lip_opening(points))


def show(name: str, rows: list) -> None:
    width, lift, sag, parting = np.median(np.array(rows), axis=0)
    print(f"| {name} | {len(rows)} | {width:.3f} | {lift:.1f}° | {sag:.3f} | {parting:.3f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", default=f"genki:{shared_data_dir() / 'GENKI-4K-dev'}")
    parser.add_argument("--part", default="judge")
    parser.add_argument("--limit", type=int, default=200, help="a fixed stratified subset of this many photos")
    parser.add_argument("--edit", action="append", default=[], metavar="MODEL@STRENGTH")
    args = parser.parse_args()
    real: dict[bool, list] = {True: [], False: []}
    to_edit = []
    for photo in fixed_subset(load_photo_set(args.photos, args.part), args.limit, seed=0):
        faces = cached_faces(photo.path, None)
        face = largest_face(faces) if faces else None
        if face is None or face.points is None or photo.smiling is None:
            continue
        real[bool(photo.smiling)].append(shape_of(points_read_back(read_photo(photo.path).rgb, face.box)))
        if not photo.smiling:
            to_edit.append((photo, face))
    print("| faces (median) | n | mouth width / eye distance | corner lift | lip sag | lips parted |")
    print("|---|---|---|---|---|---|")
    show("real non-smiling", real[False])
    show("real smiling", real[True])
    for spec in args.edit:
        model, _, strength = spec.rpartition("@")
        editor, rows = open_editor(model), []
        for photo, face in to_edit:
            rgb = read_photo(photo.path).rgb
            try:
                prepared = editor.prepare(rgb, face)
            except EditError:
                continue
            finished = editor.apply_all(rgb, [(prepared, float(strength))])
            rows.append(shape_of(points_read_back(finished, face.box)))
        show(f"{model.rstrip('/').split('/')[-1]} at {strength}", rows)


if __name__ == "__main__":
    main()
