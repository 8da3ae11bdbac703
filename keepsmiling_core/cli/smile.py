"""``keepsmiling smile``: make the faces in photos smile and save the results beside, never over, the input."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from keepsmiling_core.errors import KeepSmilingError

WRITABLE_SUFFIXES = {".jpg", ".jpeg", ".png"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("photos", nargs="+", metavar="PHOTO", help="photos to edit")
    parser.add_argument("--model", default=None, metavar="MODEL_DIR",
                        help="edit model folder: a SplitGAN or ComplexGAN run/checkpoint, or a landmark-warp "
                             "folder (default: the shipped landmark warp, resources/models/warp)")
    parser.add_argument("--alpha", type=float, default=1.0,
                        help="smile strength: 1 = a typical smile, 0 = unchanged, negative removes a smile (-2..3)")
    parser.add_argument("--faces", default=None, metavar="0,2",
                        help="indices of the faces to edit, counted left to right from 0 (default: all)")
    parser.add_argument("--out", required=True, metavar="DIR", help="folder for the edited photos")
    parser.add_argument("--blend", choices=("alpha", "poisson"), default="alpha",
                        help="feathered alpha paste (default) or Poisson seamless cloning")
    parser.add_argument("--no-colour-match", action="store_true",
                        help="keep the network's colours instead of the photo's skin tone")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")


def _parse_faces(text: str | None) -> list[int] | None:
    if text is None:
        return None
    try:
        faces = sorted({int(part) for part in text.split(",") if part.strip()})
    except ValueError:
        raise KeepSmilingError(f"--faces must be face numbers separated by commas, like 0,2 (got {text!r}).") from None
    if not faces or faces[0] < 0:
        raise KeepSmilingError(f"--faces must list face numbers from 0 upwards (got {text!r}).")
    return faces


def output_path(photo: Path, out_dir: Path) -> Path:
    """out_dir/<name>_smile.<ext>; PNG when the input format cannot be written back; never the input itself."""
    suffix = photo.suffix.lower() if photo.suffix.lower() in WRITABLE_SUFFIXES else ".png"
    target = out_dir / f"{photo.stem}_smile{suffix}"
    counter = 1
    while target.resolve() == photo.resolve():
        target = out_dir / f"{photo.stem}_smile{counter}{suffix}"
        counter += 1
    return target


def edit_photo(editor, path: Path, out_dir: Path, alpha: float, faces: list[int] | None) -> tuple[Path, list[str]]:
    """Detect and edit one photo; returns the written path and notes about faces that were skipped."""
    from keepsmiling_core.detection import detect_faces
    from keepsmiling_core.errors import EditError
    from keepsmiling_core.imageio import read_photo, write_photo

    photo = read_photo(path)
    found = detect_faces(photo.rgb)
    if not found:
        raise EditError(f"No face was found in {path}; nothing to edit.")
    chosen = list(range(len(found))) if faces is None else faces
    missing = [i for i in chosen if i >= len(found)]
    if missing:
        raise EditError(f"{path} has {len(found)} face(s), numbered 0 to {len(found) - 1}; "
                        f"--faces asked for {', '.join(map(str, missing))}.")
    notes, prepared = [], []
    for index in chosen:
        try:
            prepared.append((editor.prepare(photo.rgb, found[index], index), alpha))
        except EditError as exc:
            notes.append(f"face {index} skipped: {exc}")
    if not prepared:
        raise EditError(f"None of the chosen faces in {path} can be edited ({'; '.join(notes)}).")
    image = editor.apply_all(photo.rgb, prepared)
    target = write_photo(output_path(path, out_dir), image, exif=photo.exif)
    return target, notes


def run(args: argparse.Namespace) -> int:
    from keepsmiling_core.editing.backends import open_editor
    from keepsmiling_core.editing.editor import EditOptions

    faces = _parse_faces(args.faces)
    if not -2.0 <= args.alpha <= 3.0:
        raise KeepSmilingError(f"--alpha {args.alpha} is outside the supported range -2 to 3.")
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    options = EditOptions(colour_match=not args.no_colour_match, blend=args.blend)
    editor = open_editor(args.model, device=args.device, options=options)
    failures = 0
    for name in args.photos:
        path = Path(name)
        try:
            target, notes = edit_photo(editor, path, out_dir, args.alpha, faces)
        except KeepSmilingError as exc:
            failures += 1
            print(f"keepsmiling smile: error: {exc}", file=sys.stderr)
            continue
        for note in notes:
            print(f"{path}: {note}", file=sys.stderr)
        print(f"{path} -> {target}")
    return 2 if failures else 0
