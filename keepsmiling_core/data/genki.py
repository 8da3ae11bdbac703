"""Loader and fixed split of GENKI-4K-dev (MPLab, UC San Diego): whole web photos with smile labels.

``labels.txt`` holds one line a photo, ``fileNNNN.jpg smile yaw pitch roll`` (smile 1 = smiling,
0 = not; head pose in radians). The shared copy is the odd-numbered half of GENKI-4K, so numbers
are 1, 3, 5, ...; the split below uses ``number % 4`` so each part takes every other photo of the
file order (the photos were collected in batches, so alternating spreads every batch over both parts):

- ``"judge"`` (number % 4 == 1): the only part anything that *trains* may use (the face-level smile
  judge, and its model selection);
- ``"eval"`` (number % 4 == 3): for measuring only; nothing trains or selects models on it.

Acknowledge "http://mplab.ucsd.edu, The MPLab GENKI-4K Dataset" wherever results on it are published.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from keepsmiling_core.errors import DatasetError

LABELS_FILE = "labels.txt"
IMAGES_FOLDER = "files"
PARTS = ("judge", "eval")
_NAME = re.compile(r"^file(\d+)\.jpg$")


@dataclass(frozen=True)
class GenkiPhoto:
    """One labelled GENKI photo; ``path`` is the image file, ``number`` the NNNN of its name."""

    path: Path
    number: int
    smiling: bool
    yaw: float
    pitch: float
    roll: float


def genki_part(number: int) -> str:
    """``"judge"`` or ``"eval"``: the fixed, documented split of GENKI-4K-dev by photo number."""
    rest = int(number) % 4
    if rest == 1:
        return "judge"
    if rest == 3:
        return "eval"
    raise DatasetError(
        f"GENKI photo number {number} is even: GENKI-4K-dev holds only the odd-numbered files, "
        "so it belongs to neither the 'judge' nor the 'eval' part."
    )


def load_genki(root: Path) -> list[GenkiPhoto]:
    """All photos of ``root/labels.txt``, sorted by number; DatasetError naming the file and line."""
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(f"GENKI folder {root} does not exist.")
    labels = root / LABELS_FILE
    if not labels.is_file():
        raise DatasetError(f"{labels} is missing: a GENKI-4K folder needs labels.txt beside files/.")
    photos: list[GenkiPhoto] = []
    seen: set[int] = set()
    with labels.open("r", encoding="utf-8", errors="replace") as handle:
        for line_no, text in enumerate(handle, start=1):
            if not text.strip():
                continue
            try:
                photo = _parse_line(text, root)
            except ValueError as exc:
                raise DatasetError(f"{labels}, line {line_no}: {exc}.") from None
            if photo.number in seen:
                raise DatasetError(f"{labels}, line {line_no}: file{photo.number:04d}.jpg is listed twice.")
            if not photo.path.is_file():
                raise DatasetError(f"{labels}, line {line_no}: the image {photo.path} does not exist.")
            seen.add(photo.number)
            photos.append(photo)
    if not photos:
        raise DatasetError(f"{labels} lists no photos.")
    photos.sort(key=lambda photo: photo.number)
    return photos


def genki_photos(root: Path, part: str | None = None) -> list[GenkiPhoto]:
    """The photos of one part (``"judge"``, ``"eval"``), or all of them when ``part`` is None."""
    if part is not None and part not in PARTS:
        raise DatasetError(f"GENKI has no part {part!r}: use one of {', '.join(PARTS)}.")
    photos = load_genki(root)
    if part is None:
        return photos
    return [photo for photo in photos if genki_part(photo.number) == part]


def _parse_line(text: str, root: Path) -> GenkiPhoto:
    fields = text.split()
    if len(fields) != 5:
        raise ValueError(f"expected 5 fields (file smile yaw pitch roll), got {len(fields)}")
    match = _NAME.match(fields[0])
    if match is None:
        raise ValueError(f"{fields[0]!r} is not a GENKI file name (fileNNNN.jpg)")
    number = int(match.group(1))
    if number % 2 == 0:
        raise ValueError(f"{fields[0]} is even-numbered; GENKI-4K-dev holds only the odd-numbered files")
    if fields[1] not in ("0", "1"):
        raise ValueError(f"smile must be 1 (smiling) or 0 (not smiling), got {fields[1]!r}")
    try:
        yaw, pitch, roll = (float(v) for v in fields[2:5])
    except ValueError:
        raise ValueError("yaw, pitch and roll must be numbers (radians)") from None
    return GenkiPhoto(
        path=root / IMAGES_FOLDER / fields[0], number=number, smiling=fields[1] == "1",
        yaw=yaw, pitch=pitch, roll=roll,
    )
