"""CelebA and labelled-folder loaders, on tiny datasets built in tmp from real MTFL photos."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from keepsmiling_core.data.cache import build_crop_cache, load_crop_cache
from keepsmiling_core.data.mtfl import load_mtfl
from keepsmiling_core.data.sources import fingerprint, load_records, quick_counts
from keepsmiling_core.errors import DatasetError

ATTRS = ("5_o_Clock_Shadow Arched_Eyebrows Attractive Bags_Under_Eyes Bald Bangs Big_Lips Big_Nose Black_Hair "
         "Blond_Hair Blurry Brown_Hair Bushy_Eyebrows Chubby Double_Chin Eyeglasses Goatee Gray_Hair Heavy_Makeup "
         "High_Cheekbones Male Mouth_Slightly_Open Mustache Narrow_Eyes No_Beard Oval_Face Pale_Skin Pointy_Nose "
         "Receding_Hairline Rosy_Cheeks Sideburns Smiling Straight_Hair Wavy_Hair Wearing_Earrings Wearing_Hat "
         "Wearing_Lipstick Wearing_Necklace Wearing_Necktie Young").split()
LANDMARK_HEADER = ("lefteye_x lefteye_y righteye_x righteye_y nose_x nose_y "
                   "leftmouth_x leftmouth_y rightmouth_x rightmouth_y").split()
PARTITION = [0, 0, 0, 0, 0, 1, 2, 2]


@pytest.fixture(scope="module")
def source_faces(mtfl_subset: Path) -> list:
    records = load_mtfl(mtfl_subset, "training")
    lfw = [r for r in records if r.image_path.parent.name == "lfw_5590"]
    return [r for r in lfw if r.smiling][:4] + [r for r in lfw if not r.smiling][:4]


def _celeba(root: Path, faces: list, csv: bool = False, wild: bool = False) -> Path:
    """A CelebA-layout folder (official .txt or Kaggle .csv files) holding real MTFL faces."""
    images = root / ("img_celeba" if wild else "img_align_celeba")
    if csv:
        images = images / "img_align_celeba"
    images.mkdir(parents=True)
    names = [f"{i + 1:06d}.jpg" for i in range(len(faces))]
    for name, face in zip(names, faces, strict=True):
        shutil.copy(face.image_path, images / name)
    attr_rows, mark_rows = [], []
    for i, (name, face) in enumerate(zip(names, faces, strict=True)):
        values = ["-1"] * len(ATTRS)
        values[ATTRS.index("Smiling")] = "1" if face.smiling else "-1"
        values[ATTRS.index("Young")] = "1" if i % 2 else "-1"
        attr_rows.append([name, *values])
        mark_rows.append([name, *(str(int(round(v))) for v in face.landmarks.reshape(-1))])  # interleaved x, y
    part_rows = [[name, str(p)] for name, p in zip(names, PARTITION, strict=True)]
    if csv:
        def write(path: Path, header: list[str], rows: list[list[str]]) -> None:
            path.write_text("\n".join(",".join(r) for r in [header, *rows]) + "\n")

        write(root / "list_attr_celeba.csv", ["image_id", *ATTRS], attr_rows)
        write(root / "list_landmarks_align_celeba.csv", ["image_id", *LANDMARK_HEADER], mark_rows)
        write(root / "list_eval_partition.csv", ["image_id", "partition"], part_rows)
    else:
        anno = root / "Anno"
        anno.mkdir()

        def write_txt(path: Path, header: list[str] | None, rows: list[list[str]]) -> None:
            head = [str(len(rows)), " ".join(header)] if header else []
            body = [r[0] + "  " + " ".join(f"{v:>3}" for v in r[1:]) for r in rows]
            path.write_text("\r\n".join(head + body) + "\r\n")

        write_txt(anno / "list_attr_celeba.txt", list(ATTRS), attr_rows)
        write_txt(anno / ("list_landmarks_celeba.txt" if wild else "list_landmarks_align_celeba.txt"),
                  LANDMARK_HEADER, mark_rows)
        (root / "Eval").mkdir()
        write_txt(root / "Eval" / "list_eval_partition.txt", None, part_rows)
    return root


@pytest.mark.parametrize(("csv", "wild"), [(False, False), (True, False), (False, True)])
def test_celeba_parses_labels_by_header_interleaved_landmarks_and_partitions(
    tmp_path: Path, source_faces: list, csv: bool, wild: bool
) -> None:
    root = _celeba(tmp_path / "celeba", source_faces, csv=csv, wild=wild)
    train = load_records(f"celeba:{root}", "training")
    assert [r.image_path.name for r in train] == [f"{i:06d}.jpg" for i in range(1, 6)]
    assert [r.smiling for r in train] == [True, True, True, True, False]
    np.testing.assert_allclose(train[0].landmarks, np.round(source_faces[0].landmarks), atol=1e-6)
    assert [r.image_path.name for r in load_records(f"celeba:{root}", "validation")] == ["000006.jpg"]
    test = load_records(f"celeba:{root}", "testing")
    assert [r.smiling for r in test] == [False, False]
    assert len(load_records(f"celeba:{root}", "all")) == 8
    assert quick_counts(f"celeba:{root}", "testing") == (0, 2)
    cache = load_crop_cache(build_crop_cache(f"celeba:{root}", tmp_path / "cache", size=32, split="all"))
    assert len(cache) == 8 and int(cache.smiling.sum()) == 4


def test_celeba_bad_inputs(tmp_path: Path, source_faces: list) -> None:
    root = _celeba(tmp_path / "celeba", source_faces)
    marks = root / "Anno" / "list_landmarks_align_celeba.txt"
    good = marks.read_text()
    lines = good.splitlines()
    lines[3] = lines[3].rsplit(" ", 1)[0]  # line 4 (000002.jpg): a coordinate missing
    marks.write_text("\n".join(lines) + "\n")
    with pytest.raises(DatasetError, match=r"list_landmarks_align_celeba\.txt, line 4: expected a file name and 10"):
        load_records(f"celeba:{root}")
    notes: list[str] = []
    assert len(load_records(f"celeba:{root}", skip_bad=True, report=notes.append)) == 4
    assert "line 4" in notes[0]
    lines = good.splitlines()
    fields = lines[4].split()
    fields[9:11] = fields[7:9]  # line 5: right mouth corner on the left one
    lines[4] = " ".join(fields)
    marks.write_text("\n".join(lines) + "\n")
    with pytest.raises(DatasetError, match=r"line 5: the two mouth corners coincide"):
        load_records(f"celeba:{root}")
    marks.write_text(good)
    (root / "img_align_celeba" / "000003.jpg").unlink()
    with pytest.raises(DatasetError, match=r"line 5: image .*000003\.jpg does not exist"):
        load_records(f"celeba:{root}")
    attr = root / "Anno" / "list_attr_celeba.txt"
    attr.write_text(attr.read_text().replace("Smiling", "Grinning"))
    with pytest.raises(DatasetError, match="no 'Smiling' column"):
        load_records(f"celeba:{root}")
    shutil.rmtree(root / "img_align_celeba")
    with pytest.raises(DatasetError, match="no img_align_celeba"):
        load_records(f"celeba:{root}")


def _folders(root: Path, faces: list, with_bad: bool = False) -> Path:
    for face in faces:
        label = root / ("smiling" if face.smiling else "not_smiling")
        label.mkdir(parents=True, exist_ok=True)
        shutil.copy(face.image_path, label / face.image_path.name)
    (root / "smiling" / "notes.txt").write_text("not an image and ignored")
    # a real photo region with no face in it (a 60x60 patch of hair/background corner)
    from PIL import Image

    corner = Image.open(faces[0].image_path).crop((0, 0, 60, 60))
    corner.save(root / "not_smiling" / "zz_no_face.png")
    if with_bad:
        (root / "smiling" / "broken.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    return root


def test_labelled_folders_use_the_detector_and_count_photos_without_faces(tmp_path: Path, source_faces: list) -> None:
    faces = source_faces[:2] + source_faces[4:6]
    root = _folders(tmp_path / "mine", faces)
    notes: list[str] = []
    records = load_records(f"folders:{root}", report=notes.append)
    assert len(records) == 4 and [r.smiling for r in records] == [True, True, False, False]
    assert any("No face found in 1 of 5 photos" in n and "zz_no_face.png" in n for n in notes)
    by_name = {f.image_path.name: f for f in faces}
    for record in records:
        truth = by_name[record.image_path.name].landmarks
        interocular = np.linalg.norm(truth[1] - truth[0])
        # detector landmarks agree with the MTFL annotation to a fraction of the eye distance
        assert np.linalg.norm(record.landmarks - truth, axis=1).max() < 0.25 * interocular
    # the process pool used for big folders finds the same faces, and reports progress
    from keepsmiling_core.data import folders

    seen: list[tuple[int, int]] = []
    pooled = folders.load(root, workers=2, progress=lambda d, t: seen.append((d, t)))
    assert [r.image_path for r in pooled] == [r.image_path for r in records]
    np.testing.assert_allclose(np.stack([r.landmarks for r in pooled]), np.stack([r.landmarks for r in records]))
    assert seen[-1] == (5, 5)
    assert quick_counts(f"folders:{root}") == (2, 3)  # photos, without running the detector
    before = fingerprint(f"folders:{root}")
    shutil.copy(faces[0].image_path, root / "smiling" / "extra.jpg")
    assert fingerprint(f"folders:{root}") != before


def test_labelled_folders_bad_inputs(tmp_path: Path, source_faces: list) -> None:
    root = _folders(tmp_path / "mine", source_faces[:1] + source_faces[4:5], with_bad=True)
    with pytest.raises(DatasetError, match=r"broken\.jpg"):
        load_records(f"folders:{root}")
    notes: list[str] = []
    assert len(load_records(f"folders:{root}", skip_bad=True, report=notes.append)) == 2
    assert any("Skipped 1 bad entries" in n and "broken.jpg" in n for n in notes)
    shutil.rmtree(root / "not_smiling")
    with pytest.raises(DatasetError, match="not_smiling/ is missing"):
        load_records(f"folders:{root}")
    with pytest.raises(DatasetError, match="no testing/ folder"):
        load_records(f"folders:{root}", "testing")
