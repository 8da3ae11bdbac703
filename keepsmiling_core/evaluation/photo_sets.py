"""Labelled real photos to evaluate on: GENKI-4K's evaluation part, a smiling/ + not_smiling/ folder pair,
or a list file — all read into one ``LabelledPhoto`` list so the evaluation has one code path."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from keepsmiling_core.errors import DatasetError

PHOTO_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}


@dataclass(frozen=True)
class LabelledPhoto:
    path: Path
    smiling: bool | None       # None: unlabelled (e.g. the sample photos, measured for realism only)


def load_photo_set(spec: str, part: str = "eval") -> list[LabelledPhoto]:
    """``genki:DIR`` (its ``part``), ``folders:DIR`` (smiling/ + not_smiling/), ``list:FILE`` (lines
    ``path label`` with label 1/0, paths relative to the file), or ``photos:P1,P2`` (unlabelled)."""
    kind, _, where = spec.partition(":")
    if not where:
        raise DatasetError(f"Photo set {spec!r} is not understood: write genki:DIR, folders:DIR, list:FILE "
                           "or photos:PHOTO,PHOTO.")
    if kind == "genki":
        from keepsmiling_core.data.genki import genki_photos

        return [LabelledPhoto(p.path, p.smiling) for p in genki_photos(Path(where), part)]
    if kind == "folders":
        return _folders(Path(where))
    if kind == "list":
        return _list_file(Path(where))
    if kind == "photos":
        return [LabelledPhoto(Path(p), None) for p in where.split(",") if p]
    raise DatasetError(f"Unknown photo set kind {kind!r}: use genki, folders, list or photos.")


def _folders(root: Path) -> list[LabelledPhoto]:
    photos = []
    for name, smiling in (("smiling", True), ("not_smiling", False)):
        folder = root / name
        if not folder.is_dir():
            raise DatasetError(f"{root} must hold the folders smiling/ and not_smiling/ ({folder} is missing).")
        photos += [LabelledPhoto(p, smiling) for p in sorted(folder.iterdir())
                   if p.suffix.lower() in PHOTO_SUFFIXES and p.is_file()]
    if not photos:
        raise DatasetError(f"{root}/smiling and {root}/not_smiling hold no photos.")
    return photos


def _list_file(path: Path) -> list[LabelledPhoto]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetError(f"Cannot read the photo list {path} ({exc}).") from None
    photos = []
    for number, line in enumerate(lines, 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, _, label = line.strip().rpartition(" ")
        if label not in ("0", "1") or not name:
            raise DatasetError(f"{path}, line {number}: expected 'PHOTO 1' (smiling) or 'PHOTO 0', got {line!r}.")
        photo = Path(name) if Path(name).is_absolute() else path.parent / name
        photos.append(LabelledPhoto(photo, label == "1"))
    if not photos:
        raise DatasetError(f"The photo list {path} names no photos.")
    return photos


def fixed_subset(photos: list[LabelledPhoto], limit: int | None, seed: int) -> list[LabelledPhoto]:
    """At most ``limit`` photos, the same ones for the same seed, keeping the labels' proportions."""
    if limit is None or limit >= len(photos):
        return list(photos)
    rng = np.random.default_rng(seed)
    chosen = []
    for label in (True, False, None):
        group = [p for p in photos if p.smiling is label]
        take = int(round(limit * len(group) / len(photos)))
        chosen += [group[i] for i in sorted(rng.permutation(len(group))[:take])]
    return sorted(chosen, key=lambda p: str(p.path))
