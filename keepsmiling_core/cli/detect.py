"""``keepsmiling detect PHOTO... [--json] [--show OUT]``: faces, 5 landmarks and mouth outlines.

Output with ``--json`` is JSON Lines: one object per photo, one per line, in the order given:
``{"photo": PATH, "size": [w, h], "faces": [{"box": [x0, y0, x1, y1], "landmarks": [[x, y] × 5],
"mouth": [[x, y] × 20], "score": s}, ...]}``; a single photo therefore prints exactly one JSON object.
Coordinates are pixels of the photo as displayed (EXIF orientation applied); landmarks are in the
dataset order (left eye, right eye, nose, left mouth corner, right mouth corner; left = image-left).

Exit codes: 0 every photo has a face; 1 some photo has none (its JSON line has ``"faces": []``);
2 some photo could not be read or saved (the others are still processed).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from keepsmiling_core.detection import Face, detect_faces, draw_faces
from keepsmiling_core.errors import KeepSmilingError
from keepsmiling_core.imageio import read_photo, write_photo

NO_FACE_HINT = (
    "the detector finds frontal faces at least ~80 px wide (after scaling the photo to --max-side); "
    "try a larger --max-side for group photos with small faces"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("photos", nargs="+", type=Path, metavar="PHOTO", help="photo files (JPEG, PNG, ...)")
    parser.add_argument(
        "--json", action="store_true", help="print one JSON object per photo (JSON Lines) on stdout"
    )
    parser.add_argument(
        "--show",
        type=Path,
        metavar="OUT",
        help="draw boxes, landmarks and mouth outlines: OUT is a .png/.jpg file for one photo, "
        "or a folder (created) that receives PHOTO-NAME.faces.png for several photos",
    )
    parser.add_argument(
        "--max-side",
        type=int,
        default=1600,
        metavar="PX",
        help="scale photos down to at most this many pixels for the detector (default: 1600)",
    )


def run(args: argparse.Namespace) -> int:
    if args.max_side < 64:
        raise KeepSmilingError(f"--max-side must be at least 64 pixels, got {args.max_side}.")
    overlay_paths = _overlay_paths(args.photos, args.show)
    worst = 0
    for photo_path in args.photos:
        try:
            photo = read_photo(photo_path)
            faces = detect_faces(photo.rgb, max_side=args.max_side)
            if overlay_paths:
                write_photo(overlay_paths[photo_path], draw_faces(photo.rgb, faces))
        except KeepSmilingError as exc:
            print(f"keepsmiling detect: error: {exc}", file=sys.stderr)
            worst = 2
            continue
        if args.json:
            record = {"photo": str(photo_path), "size": [photo.size[0], photo.size[1]]}
            record["faces"] = [face.to_json() for face in faces]
            print(json.dumps(record), flush=True)
        else:
            _print_summary(photo_path, faces)
        if not faces:
            print(f"keepsmiling detect: {photo_path}: no face found ({NO_FACE_HINT}).", file=sys.stderr)
            worst = max(worst, 1)
    return worst


def _overlay_paths(photos: list[Path], show: Path | None) -> dict[Path, Path]:
    """Where each overlay goes; checked before any work so a typo does not waste a long run."""
    if show is None:
        return {}
    if len(photos) == 1 and not show.is_dir():
        if show.suffix.lower() not in (".png", ".jpg", ".jpeg"):
            raise KeepSmilingError(f"--show {show}: give a .png or .jpg file name (or an existing folder).")
        if show.resolve() == photos[0].resolve():
            raise KeepSmilingError(f"--show {show} is the photo itself; give another file name for the overlay.")
        return {photos[0]: show}
    try:
        show.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise KeepSmilingError(f"--show {show}: cannot create that folder ({exc.strerror or exc}).") from None
    paths: dict[Path, Path] = {}
    for photo in photos:
        target = show / f"{photo.stem}.faces.png"
        count = 2
        while target in paths.values():  # two photos with the same name from different folders
            target = show / f"{photo.stem}.faces-{count}.png"
            count += 1
        paths[photo] = target
    return paths


def _print_summary(photo_path: Path, faces: list[Face]) -> None:
    print(f"{photo_path}: {len(faces)} face{'s' if len(faces) != 1 else ''}")
    names = ("left eye", "right eye", "nose", "left mouth", "right mouth")
    for index, face in enumerate(faces):
        x0, y0, x1, y1 = face.box
        points = ", ".join(
            f"{name} ({x:.0f}, {y:.0f})" for name, (x, y) in zip(names, face.landmarks, strict=True)
        )
        print(f"  face {index}: box ({x0:.0f}, {y0:.0f})-({x1:.0f}, {y1:.0f}), score {face.score:.2f}; {points}")
