"""Loader for MTFL (Zhang et al., ECCV 2014) exactly as published.

Each annotation line is ``path x1..x5 y1..y5 gender smile glasses pose``: all five x first, then all
five y (not interleaved), points in the order left eye, right eye, nose, left mouth corner, right mouth
corner; ``smile`` is 1 = smiling, 2 = not smiling; ``pose`` 1 left profile ... 3 frontal ... 5 right profile.

Checked against the shared copy: ``training.txt`` has 10,000 faces (5,616 smiling / 4,384 not; 7,445 of
them frontal) and ``testing.txt`` 2,995 (1,632 / 1,363; 1,825 frontal) - the counts the dataset's readme
and the original project report, so 1 really means smiling.

Quirks handled because the published files have them: CRLF endings, every line after the first starts
with a space, the file ends with a lone-space line, and ``training.txt`` paths use backslashes
(``lfw_5590\\Aaron_Eckhart_0001.jpg``, the original project's bug B3,
docs/original-setups.md#b3) while ``testing.txt`` uses slashes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from keepsmiling_core.errors import DatasetError

from .records import FaceRecord, Reporter, SkipLog, check_landmarks

SPLIT_FILES = {"training": "training.txt", "testing": "testing.txt"}
SPLIT_ALIASES = {"train": "training", "training": "training", "test": "testing", "testing": "testing"}
FIELDS = 15


def annotation_file(root: Path, split: str) -> Path:
    """The annotation file of ``split``; DatasetError (saying what is expected) when it is not there."""
    name = SPLIT_ALIASES.get(split)
    if name is None:
        raise DatasetError(f"MTFL has no split {split!r}: use 'training' or 'testing'.")
    if not root.is_dir():
        raise DatasetError(f"MTFL folder {root} does not exist.")
    path = root / SPLIT_FILES[name]
    if not path.is_file():
        raise DatasetError(
            f"{path} is missing: an MTFL folder needs training.txt and testing.txt beside "
            "lfw_5590/, net_7876/ and AFLW/."
        )
    return path


def parse_line(text: str, root: Path, source: str, line_no: int) -> FaceRecord:
    """One annotation line -> FaceRecord; ValueError with a plain reason when the line is malformed."""
    fields = text.split()
    if len(fields) != FIELDS:
        raise ValueError(f"expected {FIELDS} fields (path, 10 coordinates, gender, smile, glasses, pose), got {len(fields)}")
    rel = fields[0].replace("\\", "/")
    try:
        coords = np.array([float(v) for v in fields[1:11]], dtype=np.float32)
        gender, smile, glasses, pose = (int(v) for v in fields[11:15])
    except ValueError as exc:
        raise ValueError(f"a coordinate or attribute is not a number ({exc})") from None
    if smile not in (1, 2):
        raise ValueError(f"smile must be 1 (smiling) or 2 (not smiling), got {smile}")
    if pose not in (1, 2, 3, 4, 5):
        raise ValueError(f"pose must be 1..5, got {pose}")
    landmarks = np.stack([coords[:5], coords[5:]], axis=1)
    problem = check_landmarks(landmarks)
    if problem:
        raise ValueError(problem)
    return FaceRecord(
        image_path=root / rel,
        landmarks=landmarks,
        smiling=smile == 1,
        meta={"source": source, "line": line_no, "file": rel, "pose": pose, "male": gender == 1, "glasses": glasses == 1},
    )


def load_mtfl(root: Path | str, split: str = "training", *, skip_bad: bool = False,
              report: Reporter | None = None, check_files: bool = True) -> list[FaceRecord]:
    """All faces of one MTFL split, in file order.

    A malformed line or a missing image raises DatasetError naming the file and line; with ``skip_bad``
    it is skipped instead and the count is told through ``report``.
    """
    root = Path(root)
    path = annotation_file(root, split)
    skipped = SkipLog(path.name, report)
    records: list[FaceRecord] = []
    with path.open("r", encoding="utf-8", errors="replace", newline=None) as handle:
        for line_no, text in enumerate(handle, start=1):
            if not text.strip():
                continue
            try:
                record = parse_line(text, root, path.name, line_no)
                if check_files and not record.image_path.is_file():
                    raise ValueError(f"image {record.image_path} does not exist")
            except ValueError as exc:
                if not skip_bad:
                    raise DatasetError(f"{path}, line {line_no}: {exc}. Fix the line or pass --skip-bad.") from None
                skipped.add(f"line {line_no}: {exc}")
                continue
            records.append(record)
    skipped.flush()
    if not records:
        raise DatasetError(f"{path} holds no usable faces.")
    return records


def load(root: Path, split: str, *, skip_bad: bool = False, report: Reporter | None = None) -> list[FaceRecord]:
    """Entry point used by ``sources.load_records("mtfl:PATH", ...)``."""
    return load_mtfl(root, split, skip_bad=skip_bad, report=report)


def fingerprint_items(root: Path, split: str) -> list[Path | str]:
    """The annotation file is the whole definition of a split (images are read-only dataset files)."""
    return [annotation_file(Path(root), split)]
