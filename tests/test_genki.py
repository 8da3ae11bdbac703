"""GENKI-4K-dev loads as published and splits into fixed, disjoint "judge" and "eval" parts."""

from __future__ import annotations

from pathlib import Path

import pytest

from keepsmiling_core.data.genki import genki_part, genki_photos, load_genki
from keepsmiling_core.errors import DatasetError


def test_load_genki_reads_every_photo_with_its_label(genki_root: Path) -> None:
    photos = load_genki(genki_root)
    assert len(photos) == 2000
    assert sum(p.smiling for p in photos) == 1081  # the counts the data README states
    assert [p.number for p in photos] == sorted(p.number for p in photos)
    assert all(p.number % 2 == 1 and p.path.is_file() for p in photos)
    first = photos[0]
    assert first.path.name == "file0001.jpg" and first.smiling
    assert first.yaw == pytest.approx(-0.021162) and first.roll == pytest.approx(-0.039662)


def test_split_is_fixed_disjoint_and_balanced(genki_root: Path) -> None:
    judge, evaluation = genki_photos(genki_root, "judge"), genki_photos(genki_root, "eval")
    assert len(judge) == len(evaluation) == 1000
    assert {p.number for p in judge}.isdisjoint(p.number for p in evaluation)
    assert all(p.number % 4 == 1 for p in judge) and all(p.number % 4 == 3 for p in evaluation)
    assert (sum(p.smiling for p in judge), sum(p.smiling for p in evaluation)) == (541, 540)
    assert [p.number for p in genki_photos(genki_root, "judge")] == [p.number for p in judge]  # deterministic
    assert len(genki_photos(genki_root, None)) == 2000
    assert genki_part(1) == "judge" and genki_part(3) == "eval" and genki_part(4001) == "judge"
    with pytest.raises(DatasetError, match="even"):
        genki_part(2)
    with pytest.raises(DatasetError, match="no part"):
        genki_photos(genki_root, "train")


def _folder(tmp_path: Path, lines: str, images: tuple[str, ...] = ("file0001.jpg",)) -> Path:
    (tmp_path / "files").mkdir()
    for name in images:
        (tmp_path / "files" / name).write_bytes(b"")
    (tmp_path / "labels.txt").write_text(lines)
    return tmp_path


@pytest.mark.parametrize("lines, message", [
    ("file0001.jpg 1 0.1 0.2\n", "line 1: expected 5 fields"),
    ("file0001.jpg 2 0.1 0.2 0.3\n", "smile must be 1"),
    ("photo.jpg 1 0.1 0.2 0.3\n", "not a GENKI file name"),
    ("file0001.jpg 1 0.1 x 0.3\n", "must be numbers"),
    ("file0001.jpg 1 0 0 0\nfile0003.jpg 0 0 0 0\n", r"line 2: the image .*file0003.jpg does not exist"),
    ("file0001.jpg 1 0 0 0\n\nfile0001.jpg 1 0 0 0\n", "listed twice"),
    ("\n", "lists no photos"),
])
def test_bad_labels_give_one_clear_error(tmp_path: Path, lines: str, message: str) -> None:
    with pytest.raises(DatasetError, match=message):
        load_genki(_folder(tmp_path, lines))


def test_missing_folder_or_labels(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="does not exist"):
        load_genki(tmp_path / "nowhere")
    with pytest.raises(DatasetError, match="labels.txt is missing"):
        load_genki(tmp_path)
