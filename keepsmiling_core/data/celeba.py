"""Loader for CelebA (Liu et al., ICCV 2015) in its published layout and in the common CSV redistribution.

Files looked for in the dataset folder and in its ``Anno/``, ``Eval/`` and ``Img/`` subfolders (the
official Google Drive layout):

* images: ``img_align_celeba/`` (178x218 aligned crops) or, if absent, ``img_celeba/`` (in the wild);
  the Kaggle copy's doubly nested ``img_align_celeba/img_align_celeba/`` is accepted too;
* ``list_attr_celeba.txt``: count line, a line of 40 attribute names, then ``000001.jpg`` and 40 values
  in {1, -1}. The smile label is found by its header name ``Smiling``, never by column index;
* ``list_landmarks_align_celeba.txt`` for the aligned images, ``list_landmarks_celeba.txt`` for the
  in-the-wild ones: count line, header, then filename and 10 integers as *interleaved* x, y pairs
  (unlike MTFL's x-block/y-block) in the order left eye, right eye, nose, left mouth, right mouth;
* ``list_eval_partition.txt``: ``filename partition`` with 0 = training, 1 = validation, 2 = testing.
  Without it every image counts as training.

The CSV variants (``list_attr_celeba.csv`` ... with an ``image_id`` column and commas) are read as well.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from keepsmiling_core.errors import DatasetError

from .records import FaceRecord, Reporter, SkipLog, check_landmarks

SPLITS = {"training": 0, "train": 0, "validation": 1, "val": 1, "testing": 2, "test": 2, "all": None}
SEARCH = ("", "Anno", "Eval", "Img")


def _find(root: Path, stem: str) -> Path | None:
    for sub in SEARCH:
        for suffix in (".txt", ".csv"):
            path = root / sub / f"{stem}{suffix}"
            if path.is_file():
                return path
    return None


def _image_dir(root: Path) -> tuple[Path, bool]:
    """(folder of the jpgs, whether they are the aligned images)."""
    for aligned, name in ((True, "img_align_celeba"), (False, "img_celeba")):
        for sub in ("", "Img"):
            folder = root / sub / name
            if folder.is_dir():
                nested = folder / name
                return (nested if nested.is_dir() else folder), aligned
    raise DatasetError(f"{root} has no img_align_celeba/ or img_celeba/ folder; is it a CelebA folder?")


def _rows(path: Path, header_lines: int) -> Iterator[tuple[int, list[str]]]:
    """(line number, fields) of the data lines: whitespace-split for .txt, comma-split for .csv."""
    with path.open("r", encoding="utf-8", errors="replace", newline="") as handle:
        if path.suffix == ".csv":
            reader = csv.reader(handle)
            for line_no, fields in enumerate(reader, start=1):
                if line_no > 1 and any(f.strip() for f in fields):
                    yield line_no, [f.strip() for f in fields]
            return
        for line_no, text in enumerate(handle, start=1):
            if line_no > header_lines and text.strip():
                yield line_no, text.split()


def _header(path: Path) -> list[str]:
    with path.open("r", encoding="utf-8", errors="replace", newline="") as handle:
        if path.suffix == ".csv":
            return [f.strip() for f in next(csv.reader(handle), [])]
        handle.readline()  # image count
        return handle.readline().split()


def _bad(path: Path, line_no: int, reason: str) -> DatasetError:
    return DatasetError(f"{path}, line {line_no}: {reason}. Fix the line or pass --skip-bad.")


def _smile_labels(path: Path, skipped: SkipLog, skip_bad: bool) -> dict[str, bool]:
    header = _header(path)
    names = header[1:] if path.suffix == ".csv" else header  # the .txt header has no image_id column
    if "Smiling" not in names:
        raise DatasetError(f"{path} has no 'Smiling' column in its header (line {1 if path.suffix == '.csv' else 2}).")
    column = names.index("Smiling")
    labels: dict[str, bool] = {}
    for line_no, fields in _rows(path, 2):
        try:
            if len(fields) != len(names) + 1:
                raise ValueError(f"expected a file name and {len(names)} attributes, got {len(fields)} fields")
            value = fields[1 + column]
            if value not in ("1", "-1"):
                raise ValueError(f"Smiling must be 1 or -1, got {value!r}")
        except ValueError as exc:
            if not skip_bad:
                raise _bad(path, line_no, str(exc)) from None
            skipped.add(f"{path.name} line {line_no}: {exc}")
            continue
        labels[fields[0]] = value == "1"
    return labels


def _landmarks(path: Path, skipped: SkipLog, skip_bad: bool) -> dict[str, tuple[int, np.ndarray]]:
    points: dict[str, tuple[int, np.ndarray]] = {}
    for line_no, fields in _rows(path, 2):
        try:
            if len(fields) != 11:
                raise ValueError(f"expected a file name and 10 coordinates, got {len(fields)} fields")
            try:
                values = np.array([float(v) for v in fields[1:]], dtype=np.float32).reshape(5, 2)
            except ValueError:
                raise ValueError("a coordinate is not a number") from None
            problem = check_landmarks(values)
            if problem:
                raise ValueError(problem)
        except ValueError as exc:
            if not skip_bad:
                raise _bad(path, line_no, str(exc)) from None
            skipped.add(f"{path.name} line {line_no}: {exc}")
            continue
        points[fields[0]] = (line_no, values)
    return points


def _partitions(path: Path, skipped: SkipLog, skip_bad: bool) -> dict[str, int]:
    parts: dict[str, int] = {}
    for line_no, fields in _rows(path, 0):  # the .txt has no header lines; the .csv header is skipped
        if len(fields) != 2 or fields[1] not in ("0", "1", "2"):
            reason = "expected 'file partition' with partition 0, 1 or 2"
            if not skip_bad:
                raise _bad(path, line_no, reason)
            skipped.add(f"{path.name} line {line_no}: {reason}")
            continue
        parts[fields[0]] = int(fields[1])
    return parts


def annotation_files(root: Path) -> tuple[Path, bool, Path, Path, Path | None]:
    """(image folder, aligned?, attribute file, landmark file, partition file or None)."""
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(f"CelebA folder {root} does not exist.")
    images, aligned = _image_dir(root)
    attr = _find(root, "list_attr_celeba")
    if attr is None:
        raise DatasetError(f"{root} has no list_attr_celeba.txt (or .csv); it holds the Smiling labels.")
    landmark_stem = "list_landmarks_align_celeba" if aligned else "list_landmarks_celeba"
    landmarks = _find(root, landmark_stem)
    if landmarks is None:
        raise DatasetError(f"{root} has no {landmark_stem}.txt (or .csv) for the images in {images.name}/.")
    return images, aligned, attr, landmarks, _find(root, "list_eval_partition")


def load(root: Path, split: str = "training", *, skip_bad: bool = False,
         report: Reporter | None = None) -> list[FaceRecord]:
    """Faces of one CelebA partition in landmark-file order; bad lines/images are errors unless ``skip_bad``."""
    if split not in SPLITS:
        raise DatasetError(f"CelebA has no split {split!r}: use training, validation, testing or all.")
    images, _aligned, attr_path, landmark_path, partition_path = annotation_files(Path(root))
    skipped = SkipLog("CelebA", report)
    labels = _smile_labels(attr_path, skipped, skip_bad)
    points = _landmarks(landmark_path, skipped, skip_bad)
    wanted = SPLITS[split]
    if partition_path is None:
        if wanted not in (None, 0):
            raise DatasetError(f"{root} has no list_eval_partition.txt, so it has no {split} split; use training.")
        partitions = None
    else:
        partitions = _partitions(partition_path, skipped, skip_bad)
    records: list[FaceRecord] = []
    for name, (line_no, values) in points.items():
        if partitions is not None and wanted is not None and partitions.get(name) != wanted:
            continue
        where = f"{landmark_path.name} line {line_no}"
        if name not in labels:
            reason = f"{where}: {name} has no line in {attr_path.name}"
        elif not (images / name).is_file():
            reason = f"{where}: image {images / name} does not exist"
        else:
            records.append(FaceRecord(images / name, values, labels[name],
                                      {"source": landmark_path.name, "line": line_no, "file": name}))
            continue
        if not skip_bad:
            raise DatasetError(f"{reason}. Fix it or pass --skip-bad.")
        skipped.add(reason)
    skipped.flush()
    if not records:
        raise DatasetError(f"CelebA folder {root} has no usable faces in the {split} split.")
    return records


def fingerprint_items(root: Path, split: str) -> list[Path | str]:
    images, aligned, attr, landmarks, partition = annotation_files(Path(root))
    return [str(images), str(aligned), attr, landmarks] + ([partition] if partition else [])
