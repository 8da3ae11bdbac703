"""End to end on real sample photos with tiny models trained in this session."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from PIL import Image

from keepsmiling_core.detection import detect_faces
from keepsmiling_core.detection.face import Face
from keepsmiling_core.editing.editor import EditOptions, Editor, check_face, default_model_path
from keepsmiling_core.errors import EditError
from keepsmiling_core.evaluation.metrics import psnr
from keepsmiling_core.imageio import read_photo
from keepsmiling_core.paths import samples_dir


@pytest.fixture(scope="module")
def astronaut():
    photo = read_photo(samples_dir() / "astronaut.jpg")
    faces = detect_faces(photo.rgb)
    assert len(faces) == 1
    return photo.rgb, faces[0]


@pytest.fixture(scope="module")
def splitgan(tiny_splitgan_run):
    return Editor(tiny_splitgan_run, device="cpu")


def _changed(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a != b).any(axis=2)


@pytest.mark.parametrize("setup", ["splitgan", "complexgan"])
def test_edit_touches_only_the_masked_mouth(setup, astronaut, tiny_splitgan_run, tiny_complexgan_run):
    photo, face = astronaut
    editor = Editor(tiny_splitgan_run if setup == "splitgan" else tiny_complexgan_run, device="cpu")
    result = editor.smile(photo, face, 1.0)
    assert result.image.shape == photo.shape and result.image.dtype == np.uint8
    changed = _changed(photo, result.image)
    x0, y0, x1, y1 = result.region
    inside_mask = np.zeros_like(changed)
    inside_mask[y0:y1, x0:x1] = result.mask > 0
    assert changed.sum() > 100, "the edit did nothing"
    assert not (changed & ~inside_mask).any(), "pixels outside the mask changed"
    # The region is the mouth's neighbourhood: inside the face box, and the mask stays below the eyes.
    fx0, fy0, fx1, fy1 = face.box
    assert fx0 - 10 <= x0 and x1 <= fx1 + 10 and y1 <= fy1 + 20
    mask_rows = np.nonzero((result.mask > 0).any(axis=1))[0]
    assert y0 + mask_rows.min() > face.landmarks[:2, 1].max()
    assert result.image is not photo and np.array_equal(photo, read_photo(samples_dir() / "astronaut.jpg").rgb)


def test_alpha_zero_with_colour_matching_keeps_the_mouth(astronaut, splitgan, tiny_splitgan_run):
    photo, face = astronaut
    # Default (residual) mode: alpha 0 is the photo itself.
    assert np.array_equal(splitgan.smile(photo, face, 0.0).image, photo)
    # Plain decoding: the network's reconstruction, kept close to the photo by the colour matching.
    decoded = Editor(tiny_splitgan_run, device="cpu", options=EditOptions(residual=False))
    plain = Editor(tiny_splitgan_run, device="cpu", options=EditOptions(colour_match=False, residual=False))
    result = decoded.smile(photo, face, 0.0)
    x0, y0, x1, y1 = result.region
    zero = result.image[y0:y1, x0:x1]
    zero_plain = plain.smile(photo, face, 0.0).image[y0:y1, x0:x1]
    original = photo[y0:y1, x0:x1]
    mean_shift = np.abs(zero.reshape(-1, 3).mean(0) - original.reshape(-1, 3).mean(0)).max()
    assert mean_shift < 3.0, "colour matching let the mouth region's colour drift at alpha 0"
    assert psnr(original, zero) > 20
    assert psnr(original, zero) >= psnr(original, zero_plain) - 0.5
    stronger = decoded.smile(photo, face, 2.0).image[y0:y1, x0:x1]
    assert not np.array_equal(stronger, zero)  # alpha actually moves the result


def test_slider_renders_are_cached_and_consistent(astronaut, splitgan):
    photo, face = astronaut
    prepared = splitgan.prepare(photo, face)
    patch = splitgan.render(prepared, 1.0)
    x0, y0, x1, y1 = prepared.region
    assert patch.shape == (y1 - y0, x1 - x0, 3)
    full = splitgan.apply_all(photo, [(prepared, 1.0)])
    assert np.array_equal(full[y0:y1, x0:x1], patch)
    assert np.array_equal(full, splitgan.smile(photo, face, 1.0).image)


def test_poisson_blend_also_keeps_outside_pixels(astronaut, tiny_splitgan_run):
    photo, face = astronaut
    editor = Editor(tiny_splitgan_run, device="cpu", options=EditOptions(blend="poisson"))
    result = editor.smile(photo, face, 1.5)
    x0, y0, x1, y1 = result.region
    inside = np.zeros(photo.shape[:2], bool)
    inside[y0:y1, x0:x1] = result.mask > 0
    changed = _changed(photo, result.image)
    assert changed.any() and not (changed & ~inside).any()


def test_faces_that_cannot_be_edited_say_why(astronaut, splitgan):
    photo, face = astronaut
    small = Face(box=face.box, landmarks=(face.landmarks - face.landmarks.mean(0)) * 0.3 + face.landmarks.mean(0),
                 mouth=None, score=face.score)
    with pytest.raises(EditError, match="too small"):
        splitgan.prepare(photo, small)
    profile = face.landmarks.copy()
    profile[2, 0] = profile[1, 0] + 0.6 * (profile[1, 0] - profile[0, 0])  # nose beyond the far eye
    with pytest.raises(EditError, match="profile"):
        check_face(Face(box=face.box, landmarks=profile, mouth=None, score=1.0), photo.shape)
    nan = face.landmarks.copy()
    nan[3] = np.nan
    with pytest.raises(EditError, match="mouth corners"):
        check_face(Face(box=face.box, landmarks=nan, mouth=None, score=1.0), photo.shape)


def test_models_that_cannot_edit_are_refused(tiny_classifier, tiny_splitgan_run, tmp_path, monkeypatch):
    with pytest.raises(EditError, match="cannot edit photos"):
        Editor(tiny_classifier, device="cpu")
    bare = tmp_path / "run"
    shutil.copytree(tiny_splitgan_run, bare)
    (bare / "latent.json").unlink()
    with pytest.raises(EditError, match="keepsmiling latent"):
        Editor(bare, device="cpu")
    monkeypatch.setenv("KEEPSMILING_RESOURCES", str(tmp_path / "no_resources"))
    with pytest.raises(EditError, match="Train one"):
        default_model_path("splitgan")


def test_group_photo_edits_only_the_chosen_face(tiny_complexgan_run):
    photo = read_photo(samples_dir() / "group-composite.jpg").rgb
    faces = detect_faces(photo)
    assert len(faces) >= 2
    editor = Editor(tiny_complexgan_run, device="cpu")
    prepared = editor.prepare(photo, faces[1], 1)
    out = editor.apply_all(photo, [(prepared, 1.5)])
    changed = _changed(photo, out)
    ys, xs = np.nonzero(changed)
    assert len(xs) > 0
    bx0, by0, bx1, by1 = faces[1].box
    assert xs.min() >= bx0 - 5 and xs.max() <= bx1 + 5


def test_image_from_pil_roundtrip_has_exif(tmp_path):
    # Guard for the CLI test below: the sample is re-saved with EXIF, which read_photo must expose.
    image = Image.open(samples_dir() / "astronaut.jpg")
    exif = Image.Exif()
    exif[0x010F] = "KeepSmiling test camera"
    image.save(tmp_path / "a.jpg", exif=exif.tobytes())
    assert read_photo(tmp_path / "a.jpg").exif


@pytest.mark.parametrize("kind", ["splitgan", "complexgan"])
def test_a_black_and_white_photo_stays_black_and_white(kind, astronaut) -> None:
    """The shipped networks move the photo's own (grey) pixels and paint teeth in the photo's own chroma
    (``compositing/tone.fit_paint_to_photo``), so a grey photo's edited mouth is still grey, although the
    networks' raw paint is coloured."""
    from keepsmiling_core.editing.backends import open_editor

    photo, face = astronaut
    grey = np.repeat(np.asarray(Image.fromarray(photo).convert("L"))[..., None], 3, axis=2)
    editor = open_editor(default_model_path(kind), device="cpu")
    result = editor.smile(grey, face, 1.5)
    x0, y0, x1, y1 = result.region
    patch = result.image[y0:y1, x0:x1].astype(int)
    assert not np.array_equal(result.image, grey)  # the mouth did change
    assert np.abs(patch - patch[..., :1]).max() <= 1  # channels equal up to rounding
    if kind == "complexgan":
        # ComplexGAN paints teeth between the parted lips, in colour: without the fit the mouth would not be
        # grey. (SplitGAN keeps these lips closed: it paints 9 crop pixels here, already grey.)
        prepared = editor.prepare(grey, face)
        raw = prepared.state["up"].colour[0]   # the network's own paint colour in the crop, before the fit
        painted = prepared.state["up"].mask[0, 0] > 0.05
        assert painted.sum() > 20
        assert float((raw - raw[:1]).abs().amax(dim=0)[painted].max()) > 3 / 127.5
