"""``keepsmiling evaluate-photos`` end to end on a few real GENKI photos, and its known answers."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from keepsmiling_core.cli.main import main
from keepsmiling_core.errors import DatasetError
from keepsmiling_core.evaluation.photo_sets import fixed_subset, load_photo_set
from keepsmiling_core.paths import samples_dir, shared_data_dir, shipped_models_dir

GENKI = shared_data_dir() / "GENKI-4K-dev"


@pytest.fixture(scope="module")
def photo_list(tmp_path_factory) -> Path:
    """12 fixed GENKI photos of the evaluation part (6 smiling, 6 not), as a list file."""
    photos = fixed_subset(load_photo_set(f"genki:{GENKI}", "eval"), 60, seed=3)
    chosen = [p for p in photos if p.smiling][:6] + [p for p in photos if not p.smiling][:6]
    listing = tmp_path_factory.mktemp("list") / "photos.txt"
    listing.write_text("".join(f"{p.path} {int(p.smiling)}\n" for p in chosen))
    return listing


@pytest.fixture(scope="module")
def report(photo_list, tmp_path_factory) -> tuple[dict, Path]:
    out = tmp_path_factory.mktemp("photo-eval")
    code = main(["evaluate-photos", "--photos", f"list:{photo_list}", "--model", "none",
                 "--model", str(shipped_models_dir() / "warp"), "--strengths=-1,0,1",
                 "--large", str(samples_dir() / "grace-hopper.jpg"), "--no-detectability", "--sheet", "4",
                 "--cache", str(out / "cache"), "--out", str(out)])
    assert code == 0
    return json.loads((out / "photo-eval.json").read_text()), out


def test_report_covers_every_photo_and_model(report):
    data, out = report
    assert data["photos"]["given"] == 12 and data["photos"]["face_found"] + data["photos"]["no_face"] == 12
    assert set(data["models"]) == {"none (photo unchanged)", "warp"}
    for summary in data["models"].values():
        coverage = summary["coverage"]
        assert coverage["edited"] + coverage["refused"] == coverage["faces_found"] == data["photos"]["face_found"]
        for sheet in summary["sheets"].values():
            assert Path(sheet).is_file()
    assert (out / "sheet-warp.png").is_file() and (out / "sheet-warp-large.png").is_file()


def test_unedited_photos_give_the_known_answers(report):
    """The 'none' model: success is the judge's base rate, sharpness 1, no colour shift, all untouched."""
    data, _ = report
    none = data["models"]["none (photo unchanged)"]["by_strength"]
    for alpha in ("-1.0", "0.0", "1.0"):
        row = none[alpha]
        assert row["sharpness_small_median"] == pytest.approx(1.0)
        assert row["ring_delta_e_mean"] == pytest.approx(0.0, abs=1e-9)
        assert row["untouched_min"] == 1.0
        assert row["judged_smiling_non_smiling_photos"] == none["0.0"]["judged_smiling_non_smiling_photos"]
    judge = data["judge"]
    assert judge["photos"] == data["models"]["none (photo unchanged)"]["coverage"]["edited"]
    assert none["1.0"]["success"] == pytest.approx(judge["false_positive_rate"])


def test_the_warp_is_judged_on_its_own_pixels(report):
    data, _ = report
    warp = data["models"]["warp"]["by_strength"]
    assert warp["0.0"]["ring_delta_e_mean"] == pytest.approx(0.0, abs=1e-9)   # α = 0 is the photo
    assert warp["1.0"]["untouched_min"] == 1.0                                  # nothing outside the region
    assert 0.6 < warp["1.0"]["sharpness_small_median"] < 1.3
    assert warp["1.0"]["sharpness_large_median"] is not None                    # the full-size sample
    assert warp["1.0"]["ring_delta_e_mean"] < 1.5
    assert data["models"]["warp"]["coverage"]["refused"] == 0                   # no mouth is too small for it
    # The closed-lip warp keeps the lips as closed as the photo had them (dlib reads the same gap).
    none = data["models"]["none (photo unchanged)"]["by_strength"]
    assert warp["1.0"]["lips_parted_non_smiling"] == pytest.approx(none["1.0"]["lips_parted_non_smiling"], abs=0.2)
    assert none["0.0"]["lips_parting_median_non_smiling"] < 0.1


def test_the_judge_is_read_against_how_real_smiles_part_their_lips(report):
    data, _ = report
    judge = data["judge"]
    assert 0.0 <= judge["smiles_lips_parted"] <= 1.0
    parted, closed = judge["smile_recall_parted_lips"], judge["smile_recall_closed_lips"]
    assert parted is not None and 0.0 <= parted <= 1.0
    assert closed is None or 0.0 <= closed <= 1.0


def test_real_smiles_give_the_teeth_detail_reference(report):
    """Unedited smiling photos with parted lips are the reference the editor's teeth are sharpened towards
    (``editing.teeth.TEETH_DETAIL``); doing nothing leaves every reading as it was."""
    data, _ = report
    none = data["models"]["none (photo unchanged)"]["by_strength"]
    real = none["0.0"]["teeth_detail_median_smiling"]
    assert real is not None and 0.3 < real < 5.0
    assert none["1.0"]["teeth_detail_median_smiling"] == real
    assert data["aligned_on"] == "finished"


def test_photo_sets_and_errors(tmp_path):
    genki = load_photo_set(f"genki:{GENKI}", "eval")
    assert len(genki) == 1000 and all(int(p.path.stem[4:]) % 4 == 3 for p in genki)
    again = fixed_subset(genki, 100, seed=0)
    assert again == fixed_subset(genki, 100, seed=0) and len(again) == 100
    assert abs(np.mean([p.smiling for p in again]) - np.mean([p.smiling for p in genki])) < 0.02
    (tmp_path / "smiling").mkdir()
    with pytest.raises(DatasetError, match="not_smiling"):
        load_photo_set(f"folders:{tmp_path}")
    bad = tmp_path / "list.txt"
    bad.write_text("a.jpg maybe\n")
    with pytest.raises(DatasetError, match="line 1"):
        load_photo_set(f"list:{bad}")
    with pytest.raises(DatasetError, match="not understood"):
        load_photo_set("nowhere")
    assert main(["evaluate-photos", "--photos", "list:/nonexistent.txt", "--out", str(tmp_path)]) == 2


def test_finished_photos_are_aligned_on_their_own_landmarks(grace_hopper):
    """A real smile is cropped on its own corners, so an edited one is too: aligned on the input's
    landmarks, an edit's mouth sits off its crop's frame, which a critic learns whatever the edit shows."""
    from keepsmiling_core.editing.backends import open_editor
    from keepsmiling_core.evaluation.photo_measures import points_read_back
    from keepsmiling_core.evaluation.photos import aligned_landmarks

    photo, face = grace_hopper
    unedited = aligned_landmarks(face, points_read_back(photo, face.box), "finished")
    assert np.abs(unedited - face.landmarks).max() < 1.0, "an unedited photo reads its own landmarks back"
    smiled = open_editor(shipped_models_dir() / "warp").smile(photo, face, 1.0).image
    back = points_read_back(smiled, face.box)
    assert np.array_equal(aligned_landmarks(face, back, "input"), np.asarray(face.landmarks, np.float32))
    corners = aligned_landmarks(face, back, "finished")[3:5]
    assert (face.landmarks[3:5, 1] - corners[:, 1]).min() > 2.0, "the finished smile's corners were lifted"
    with pytest.raises(Exception, match="Unknown alignment"):
        aligned_landmarks(face, back, "sideways")
