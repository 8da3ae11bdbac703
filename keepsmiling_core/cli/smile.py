"""``keepsmiling smile``: make the faces in photos smile and save the results beside, never over, the input.

Every input is checked to be a regular file and every result's name is decided before the model is
loaded (``plan_outputs``): no result replaces an input, another result, or — without ``--overwrite`` —
any existing file; renamed results are announced.
"""

from __future__ import annotations

import argparse
import math
import os
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
    parser.add_argument("--out", required=True, metavar="DIR", help="folder for the edited photos (created)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace existing files of the same name in --out (never an input photo)")
    parser.add_argument("--blend", choices=("alpha", "poisson"), default="alpha",
                        help="feathered alpha paste (default) or Poisson seamless cloning")
    parser.add_argument("--no-colour-match", action="store_true",
                        help="keep the network's colours instead of the photo's skin tone")
    parser.add_argument("--closed-lips", action="store_true",
                        help="shape x texture networks: smile with the lips closed (no parting, no teeth)")
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


def output_path(photo: Path, out_dir: Path, number: int = 1) -> Path:
    """out_dir/<name>_smile.<ext> (``number`` > 1: <name>_smile-<number>.<ext>); PNG when the input format
    cannot be written back."""
    suffix = photo.suffix.lower() if photo.suffix.lower() in WRITABLE_SUFFIXES else ".png"
    tail = "" if number == 1 else f"-{number}"
    return out_dir / f"{photo.stem}_smile{tail}{suffix}"


def plan_outputs(photos: list[Path], out_dir: Path, overwrite: bool = False) -> tuple[dict[Path, Path], list[str]]:
    """Where each photo's result goes, decided before any work, and notes for every renamed result.

    A result never lands on an input of the same run (it would be read after being overwritten), two inputs
    never share a result (``a/x.jpg`` and ``b/x.jpg``, ``p.png`` and ``p.webp``), and an existing file is
    kept unless ``overwrite``: the result then takes the next free ``_smile-N`` name, and a note says so."""
    inputs = {_key(photo) for photo in photos}
    taken: set[str] = set()
    plan: dict[Path, Path] = {}
    notes = []
    for photo in photos:
        first = output_path(photo, out_dir)
        number, target = 1, first
        while True:
            key = _key(target)
            exists = target.exists() or target.is_symlink()
            if key not in inputs and key not in taken and (overwrite or not exists):
                break
            number += 1
            target = output_path(photo, out_dir, number)
        if number > 1:
            why = ("is an input of this run" if _key(first) in inputs else
                   "is the result of another input" if _key(first) in taken else
                   "exists already (pass --overwrite to replace it)")
            notes.append(f"{photo}: {first} {why}; writing {target.name} instead.")
        taken.add(_key(target))
        plan[photo] = target
    return plan, notes


def _key(path: Path) -> str:
    return os.path.normcase(str(path.resolve()))


def edit_photo(editor, path: Path, target: Path, alpha: float, faces: list[int] | None,
               overwrite: bool = False) -> tuple[Path, list[str]]:
    """Detect and edit one photo, write it to ``target``; returns that path and notes about skipped faces.

    The photo goes through an ``EditSession``, the app's own: the same compositing of overlapping faces,
    the same EXIF/XMP on the written file."""
    from keepsmiling_core.detection import detect_faces
    from keepsmiling_core.editing.compose import HELD_REASON
    from keepsmiling_core.editing.session import EditSession, EditState
    from keepsmiling_core.errors import EditError
    from keepsmiling_core.imageio import read_photo

    photo = read_photo(path)
    found = detect_faces(photo.rgb)
    if not found:
        raise EditError(f"No face was found in {path}; nothing to edit.")
    chosen = list(range(len(found))) if faces is None else faces
    missing = [i for i in chosen if i >= len(found)]
    if missing:
        raise EditError(f"{path} has {len(found)} face(s), numbered 0 to {len(found) - 1}; "
                        f"--faces asked for {', '.join(map(str, missing))}.")
    session = EditSession(editor=editor)
    session.open(photo, found)
    session.apply(EditState({index: alpha for index in chosen}))
    refused = session.prepare_all()
    notes = [f"face {index} skipped: {reason}" for index, reason in sorted(refused.items())]
    notes += [f"face {index} edited at strength {shown:+.2f}, not {alpha:+.2f}: {HELD_REASON}"
              for index, shown in sorted(session.held().items())]
    if not session.edited_alphas():
        raise EditError(f"None of the chosen faces in {path} can be edited ({'; '.join(notes)}).")
    return session.save(target, overwrite=overwrite), notes


def run(args: argparse.Namespace) -> int:
    from keepsmiling_core.atomic import ensure_folder
    from keepsmiling_core.device import pick_device
    from keepsmiling_core.editing.backends import open_editor
    from keepsmiling_core.editing.editor import EditOptions
    from keepsmiling_core.imageio import check_regular_file

    faces = _parse_faces(args.faces)
    if not math.isfinite(args.alpha) or not -2.0 <= args.alpha <= 3.0:
        raise KeepSmilingError(f"--alpha {args.alpha} is outside the supported range -2 to 3.")
    device = pick_device(args.device)
    failures = 0
    photos: list[Path] = []
    for name in args.photos:  # refused up front: a FIFO would block the reader forever
        try:
            photo = check_regular_file(name)
        except KeepSmilingError as exc:
            failures += 1
            print(f"keepsmiling smile: error: {exc}", file=sys.stderr)
            continue
        if any(_key(photo) == _key(seen) for seen in photos):
            print(f"keepsmiling smile: note: {photo} was given twice; editing it once.", file=sys.stderr)
            continue
        photos.append(photo)
    out_dir = ensure_folder(Path(args.out), "--out folder")
    plan, renames = plan_outputs(photos, out_dir, args.overwrite)
    if not photos:
        return 2
    options = EditOptions(colour_match=not args.no_colour_match, blend=args.blend, part_lips=not args.closed_lips)
    editor = open_editor(args.model, device=device, options=options)
    for note in renames:
        print(f"keepsmiling smile: note: {note}", file=sys.stderr)
    for path in photos:
        try:
            target, notes = edit_photo(editor, path, plan[path], args.alpha, faces, args.overwrite)
        except KeepSmilingError as exc:
            failures += 1
            print(f"keepsmiling smile: error: {exc}", file=sys.stderr)
            continue
        for note in notes:
            print(f"{path}: {note}", file=sys.stderr)
        print(f"{path} -> {target}")
    return 2 if failures else 0
