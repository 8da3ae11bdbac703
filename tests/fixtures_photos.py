"""Real photos made for a test: two real portraits side by side, so close that their edit regions overlap.

No freely licensed real group photo ships with KeepSmiling (resources/samples/README.md), and the
shipped composite keeps its faces far apart. Here the two shipped real portraits (Eileen Collins and
Grace Hopper, both public domain) are cropped tightly around their faces, brought to the same face
size and pasted edge to edge: the landmark warp's regions (jaw, nose and mouth plus a margin) of the
two faces then overlap by a strip of pixels, which is where the screen once differed from the save.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

CAMERA = "KeepSmiling test camera"


def overlapping_faces_rgb() -> np.ndarray:
    """(H, W, 3) uint8: two real faces whose warp regions overlap (checked by the fixture)."""
    import cv2

    from keepsmiling_core.detection import detect_faces
    from keepsmiling_core.imageio import read_photo
    from keepsmiling_core.paths import samples_dir

    left = read_photo(samples_dir() / "astronaut.jpg").rgb
    right = read_photo(samples_dir() / "grace-hopper.jpg").rgb
    (left_face,), (right_face,) = detect_faces(left), detect_faces(right)
    scale = (left_face.box[2] - left_face.box[0]) / (right_face.box[2] - right_face.box[0])
    right = cv2.resize(right, (round(right.shape[1] * scale), round(right.shape[0] * scale)),
                       interpolation=cv2.INTER_AREA)
    (right_face,) = detect_faces(right)
    pad = 4  # pixels kept beside each face box: the jaws nearly touch
    parts = []
    top_above = min(int(left_face.box[1]), int(right_face.box[1]))
    height = min(left.shape[0] - int(left_face.box[1]), right.shape[0] - int(right_face.box[1])) + top_above
    for image, face in ((left, left_face), (right, right_face)):
        x0, y0 = int(face.box[0]) - pad, int(face.box[1]) - top_above
        parts.append(image[y0:y0 + height, x0:int(face.box[2]) + pad])
    return np.ascontiguousarray(np.concatenate(parts, axis=1))


@pytest.fixture(scope="session")
def overlapping_faces(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A JPEG (with an EXIF block) of two real faces whose warp edit regions overlap."""
    from PIL import Image

    from keepsmiling_core.detection import detect_faces
    from keepsmiling_core.editing.backends import open_editor
    from keepsmiling_core.editing.compose import overlaps
    from keepsmiling_core.imageio import read_photo

    path = tmp_path_factory.mktemp("overlap") / "two-faces.jpg"
    exif = Image.Exif()
    exif[0x010F] = CAMERA  # Make
    Image.fromarray(overlapping_faces_rgb()).save(path, quality=95, exif=exif.tobytes())
    rgb = read_photo(path).rgb
    faces = detect_faces(rgb)
    assert len(faces) == 2, "both real faces must be found"
    editor = open_editor()
    regions = [editor.prepare(rgb, face, i).region for i, face in enumerate(faces)]
    assert overlaps(*regions), f"the warp regions {regions} must overlap"
    return path
