"""Faces that fill the frame (tight portrait crops, avatars) are found by the padded second pass.

Kept apart from test_detection.py so the detector's plain path and this retry can change independently.
"""

from __future__ import annotations

import numpy as np
import pytest

from keepsmiling_core.data.sources import load_records
from keepsmiling_core.detection import detect_faces
from keepsmiling_core.imageio import read_photo
from keepsmiling_core.paths import samples_dir

TIGHT_FACES = 20  # the first 20 frontal (pose 3) faces of MTFL's testing.txt: 150 px AFLW crops


@pytest.fixture(scope="module")
def tight_faces(mtfl_root):
    records = [r for r in load_records(f"mtfl:{mtfl_root}", "testing") if r.meta["pose"] == 3][:TIGHT_FACES]
    assert len(records) == TIGHT_FACES and all(r.meta["file"].startswith("AFLW/") for r in records)
    return [(record, read_photo(record.image_path).rgb) for record in records]


def test_every_face_of_a_tight_crop_sample_is_found_where_it_is_annotated(tight_faces):
    plain_misses = 0
    for record, rgb in tight_faces:
        assert max(rgb.shape[:2]) <= 160  # the face fills the frame
        faces = detect_faces(rgb)
        assert len(faces) == 1, f"{record.where()}: {len(faces)} faces"
        iod = np.linalg.norm(record.landmarks[1] - record.landmarks[0])
        error = np.linalg.norm(faces[0].landmarks - record.landmarks, axis=1) / iod
        # The points sit on the annotated face. Measured mean error per face: 4-19 % of the inter-ocular
        # distance (the worst are faces the plain pass finds: dlib's points against AFLW's annotation);
        # the three faces found through the padded retry: 6, 7 and 12 %.
        assert error.mean() < 0.25, f"{record.where()}: landmarks off by {error}"
        x0, y0, x1, y1 = faces[0].box
        assert 0 <= x0 < x1 <= rgb.shape[1] and 0 <= y0 < y1 <= rgb.shape[0]
        plain_misses += not detect_faces(rgb, border_retry=False)
    # Measured: the plain pass misses 3 of these 20; with the padded retry all 20 are found.
    assert plain_misses >= 1


def test_the_retry_leaves_the_common_path_and_empty_photos_alone():
    rgb = read_photo(samples_dir() / "astronaut.jpg").rgb
    found, plain = detect_faces(rgb), detect_faces(rgb, border_retry=False)
    assert len(found) == len(plain) == 1 and np.array_equal(found[0].landmarks, plain[0].landmarks)
    assert detect_faces(np.full((150, 150, 3), 128, np.uint8)) == []
