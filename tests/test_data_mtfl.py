"""MTFL loader against the real published files and against broken copies of them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from keepsmiling_core.data.mtfl import load_mtfl
from keepsmiling_core.data.sources import load_records, parse_spec
from keepsmiling_core.errors import DatasetError


def test_full_training_and_testing_counts_match_the_published_statistics(mtfl_root: Path) -> None:
    train = load_records(f"mtfl:{mtfl_root}", "training")
    test = load_records(f"mtfl:{mtfl_root}", "testing")
    assert (len(train), sum(r.smiling for r in train)) == (10_000, 5_616)
    assert (len(test), sum(r.smiling for r in test)) == (2_995, 1_632)
    frontal = [r for r in train if r.meta["pose"] == 3]
    assert (len(frontal), sum(r.smiling for r in frontal)) == (7_445, 4_194)


def test_first_line_is_parsed_with_backslash_path_and_x_then_y_layout(mtfl_root: Path) -> None:
    first = load_mtfl(mtfl_root, "training")[0]
    assert first.image_path == mtfl_root / "lfw_5590" / "Aaron_Eckhart_0001.jpg"
    assert first.image_path.is_file()
    # "... 107.25 147.75 126.25 106.25 140.75 108.75 113.25 143.75 158.75 162.75 1 2 2 3"
    np.testing.assert_allclose(first.landmarks[0], [107.25, 108.75])
    np.testing.assert_allclose(first.landmarks[4], [140.75, 162.75])
    assert first.smiling is False and first.meta["pose"] == 3 and first.meta["line"] == 1
    test_first = load_mtfl(mtfl_root, "testing")[0]
    assert test_first.image_path.parent.name == "AFLW" and test_first.image_path.is_file()


def test_subset_keeps_file_quirks_and_is_balanced(mtfl_subset: Path) -> None:
    raw = (mtfl_subset / "training.txt").read_bytes()
    assert b"\r\n " in raw and b"\\" in raw
    records = load_records(f"mtfl:{mtfl_subset}", "training")
    assert len(records) == 400 and sum(r.smiling for r in records) == 200
    assert {r.image_path.parent.name for r in records} == {"lfw_5590", "net_7876"}
    test = load_records(f"mtfl:{mtfl_subset}", "testing")
    assert len(test) == 100 and sum(r.smiling for r in test) == 50


def _copy_with(tmp_path: Path, mtfl_subset: Path, edit) -> Path:
    root = tmp_path / "mtfl"
    root.mkdir()
    for folder in ("lfw_5590", "net_7876", "AFLW"):
        (root / folder).symlink_to(mtfl_subset / folder)
    lines = (mtfl_subset / "training.txt").read_text().splitlines()
    (root / "training.txt").write_text("\n".join(edit(lines)) + "\n")
    return root


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda f: f[:-1], "expected 15 fields"),
        (lambda f: f[:3] + ["abc"] + f[4:], "not a number"),
        (lambda f: f[:12] + ["7"] + f[13:], "smile must be 1"),
        (lambda f: f[:5] + [f[4]] + f[6:10] + [f[9]] + f[11:], "mouth corners coincide"),
        (lambda f: f[:1] + ["nan"] + f[2:], "non-number"),
        (lambda f: ["lfw_5590\\No_Such_Person_0001.jpg"] + f[1:], "does not exist"),
    ],
)
def test_bad_line_names_file_and_line(tmp_path: Path, mtfl_subset: Path, change, expected: str) -> None:
    def edit(lines: list[str]) -> list[str]:
        lines[6] = " " + " ".join(change(lines[6].split()))
        return lines

    root = _copy_with(tmp_path, mtfl_subset, edit)
    with pytest.raises(DatasetError, match=r"training\.txt, line 7: ") as info:
        load_records(f"mtfl:{root}", "training")
    assert expected in str(info.value)
    notes: list[str] = []
    records = load_records(f"mtfl:{root}", "training", skip_bad=True, report=notes.append)
    assert len(records) == 399
    assert notes and "Skipped 1 bad entries" in notes[0] and "line 7" in notes[0]


def test_missing_folder_file_split_and_bad_spec(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="does not exist"):
        load_records(f"mtfl:{tmp_path / 'nowhere'}")
    with pytest.raises(DatasetError, match="training.txt is missing"):
        load_records(f"mtfl:{tmp_path}")
    with pytest.raises(DatasetError, match="no split 'validation'"):
        load_records(f"mtfl:{tmp_path}", "validation")
    with pytest.raises(DatasetError, match="mtfl:PATH"):
        parse_spec("/data/MTFL")
    (tmp_path / "training.txt").write_text("\n \n")
    with pytest.raises(DatasetError, match="no usable faces"):
        load_records(f"mtfl:{tmp_path}")
