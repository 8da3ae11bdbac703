"""Network edits as shape × texture: the photo's own pixels move; paint lands only where the lips part.

The guarantees are structural (they must hold for any weights), so besides the briefly trained runs
the tests also give the heads large random weights: a badly trained model must still leave α = 0 as
the photo, never fold, never touch pixels outside its support, and never paint outside the lips' band.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from keepsmiling_core.editing.backends import open_editor
from keepsmiling_core.editing.editor import EditOptions
from keepsmiling_core.editing.shape_editor import ShapeEditor, in_crop
from keepsmiling_core.editing.warp import MIN_JACOBIAN, MIN_WARP_MOUTH_PX, PAINTED_MIN_AREA, map_jacobian
from keepsmiling_core.models.shape_texture import (
    ShapeTexture,
    ShapeTextureHead,
    deliver,
    paint_band,
    revealed,
    warp,
)

SETUPS = ("splitgan", "complexgan")
CLOSED_LIPS = EditOptions(min_mouth_px=MIN_WARP_MOUTH_PX, part_lips=False)


def _wild(editor: ShapeEditor, seed: int = 0) -> ShapeEditor:
    """The editor's head with large random field weights and paint switched on (and, for SplitGAN, a
    long latent step)."""
    head = next(m for net in editor.model.nets.values() for m in net.modules() if isinstance(m, ShapeTextureHead))
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        last = head.field[-1]
        last.weight.copy_(torch.randn(last.weight.shape, generator=generator) * 0.3)
        last.bias.zero_()
        head.texture[-1].bias[0] = 4.0
    if hasattr(editor.backend, "_unit"):   # SplitGAN: a briefly trained direction barely moves the latent
        editor.backend._unit = editor.backend._unit * 30.0
    return editor


@pytest.fixture(scope="module", params=SETUPS)
def wild_editor(request, tiny_shape_runs):
    editor = open_editor(tiny_shape_runs[request.param])
    assert isinstance(editor, ShapeEditor)
    return _wild(editor)


def test_a_zero_field_and_alpha_zero_return_the_crop_exactly():
    x = torch.rand(2, 3, 32, 32) * 2 - 1
    zero = ShapeTexture(field=torch.zeros(2, 2, 32, 32), mask=torch.ones(2, 1, 32, 32), colour=-torch.ones(2, 3, 32, 32))
    assert torch.allclose(warp(x, zero.field), x, atol=1e-6)
    assert torch.equal(deliver(x, zero, 0.0), x)


def test_the_head_is_smooth_bounded_and_paints_only_in_the_band_where_lips_part():
    torch.manual_seed(0)
    head = ShapeTextureHead(64, 16, 8)
    with torch.no_grad():
        head.field[-1].weight.normal_(0, 1.0)
        head.texture[-1].bias[0] = 5.0
    edit = head(torch.randn(3, 16, 16, 16))
    field = edit.field
    assert field.abs().max() > 1.0, "the random head moves pixels"
    assert field.abs().max() <= 0.12 * 64 + 1e-4
    assert field[..., 0, :].abs().max() < 0.05 * field.abs().max(), "the crop border barely moves"
    # smooth: under 1 % of the field's energy lies above 0.2 cycles per pixel (white noise: 84 %), so it
    # cannot speckle or tear; folds are the editor's to prevent (its strength limits, tested below)
    power = torch.fft.fft2(field.detach()).abs() ** 2
    freq = torch.fft.fftfreq(64).abs()
    high = torch.maximum(freq[:, None], freq[None, :]) > 0.2
    assert power[..., high].sum() < 0.01 * power.sum()
    band = paint_band(64)
    assert torch.all(edit.mask <= band + 1e-6)
    assert torch.all(edit.mask <= revealed(field) + 1e-6)
    assert edit.mask.max() > 0.1, "where the random field stretches inside the band, paint shows"


def test_alpha_zero_is_the_photo_and_nothing_outside_the_support_changes(wild_editor, grace_hopper):
    photo, face = grace_hopper
    prepared = wild_editor.prepare(photo, face)
    assert np.array_equal(wild_editor.render(prepared, 0.0), prepared.base)
    for alpha in (1.0, -1.0, 2.5):
        result = wild_editor.smile(photo, face, alpha)
        x0, y0, x1, y1 = prepared.region
        outside = result.image.copy()
        outside[y0:y1, x0:x1] = photo[y0:y1, x0:x1]
        assert np.array_equal(outside, photo), "pixels outside the face's region are untouched"
        inside = result.image[y0:y1, x0:x1]
        still = wild_editor.region_mask(prepared) == 0
        assert still.any() and np.array_equal(inside[still], prepared.base[still])
        assert not np.array_equal(inside, prepared.base), f"α = {alpha} edits"


def test_no_strength_folds_the_face(wild_editor, grace_hopper):
    photo, face = grace_hopper
    prepared = wild_editor.prepare(photo, face)
    low, high = prepared.alpha_limits
    assert low < 0 < high
    for alpha in (low, high, low * 0.5, high * 0.5):
        det = map_jacobian(wild_editor.inverse_map(prepared, alpha))
        direction = prepared.up if alpha >= 0 else prepared.down
        bare = min(abs(alpha), 1.0) * direction.paint[:-1, :-1] < 0.5
        assert det.min() >= PAINTED_MIN_AREA > 0, "no fold anywhere"
        assert det.max() <= 1 / MIN_JACOBIAN, "no area squeezed past the limit"
        assert det[bare].min() >= MIN_JACOBIAN, "unpainted skin is never stretched past the limit"
    # past the limit the slider saturates: the render there is the render at the limit, never past 2
    assert np.array_equal(wild_editor.render(prepared, high + 5), wild_editor.render(prepared, high))
    assert high <= 2.0 and low >= -2.0


def test_the_edit_moves_the_photos_own_pixels_at_full_resolution(wild_editor, grace_hopper):
    """Outside the painted gap, every output pixel is the photo resampled: no 64² blur is pasted.

    Sharpness is measured as the mean gradient in the moved, unpainted part of the region; a crop
    pasted back from 64² would lose most of it on this 600 px portrait."""
    photo, face = grace_hopper
    prepared = wild_editor.prepare(photo, face)
    out = wild_editor.render(prepared, 1.0).astype(np.float32)
    moved = (np.abs(prepared.up.offsets).sum(axis=2) > 0.5) & (prepared.up.paint < 1e-3)
    assert moved.sum() > 500

    def detail(image: np.ndarray) -> float:
        grey = image.mean(axis=2)
        return float(np.abs(np.diff(grey, axis=1))[moved[:, 1:]].mean())

    assert detail(out) > 0.8 * detail(prepared.base.astype(np.float32))


def test_trained_shape_runs_open_as_shape_editors_and_their_crops_match_delivered(tiny_shape_runs, small_cache):
    from keepsmiling_core.data.cache import load_crop_cache

    crops = load_crop_cache(small_cache).images[:4]
    for setup in SETUPS:
        editor = open_editor(tiny_shape_runs[setup])
        assert isinstance(editor, ShapeEditor) and editor.setup == setup
        decoded, final = editor.edit_crops(crops, 0.0)
        assert np.array_equal(final, crops), "α = 0 on crops is the crops"
        decoded, _ = editor.edit_crops(crops, 1.0)
        assert decoded.shape == crops.shape


def test_small_mouths_that_a_pasted_crop_refuses_are_edited(wild_editor, grace_hopper):
    """A 14 px mouth: a network that pastes its 64² crop refuses it (a blur); moving the photo's pixels
    does not need detail the photo lacks, so the shape editor edits it."""
    import types

    import cv2

    from keepsmiling_core.editing.checks import MIN_MOUTH_PX, check_face
    from keepsmiling_core.errors import EditError

    photo, face = grace_hopper
    landmarks = np.asarray(face.landmarks, np.float64)
    scale = 14.0 / float(np.linalg.norm(landmarks[4] - landmarks[3]))
    small = cv2.resize(photo, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    tiny_face = types.SimpleNamespace(landmarks=(landmarks * scale).astype(np.float32), mouth=None, points=None)
    with pytest.raises(EditError):
        check_face(tiny_face, small.shape, MIN_MOUTH_PX)
    result = wild_editor.smile(small, tiny_face, 1.0)
    assert not np.array_equal(result.image, small)


def test_paint_lands_only_inside_the_lips(wild_editor, grace_hopper, monkeypatch):
    """The network may paint anywhere in its crop band; on the photo, the 68 points keep teeth and shadow
    between the lips: never beyond a mouth corner or on the skin beside it. (With the lips parted, the
    smile's teeth lie between the lips where the network moved them: ``test_lip_parting``.)"""
    from dataclasses import replace

    from keepsmiling_core.editing.shape_editor import inside_lips

    monkeypatch.setattr(wild_editor, "options", replace(wild_editor.options, part_lips=False))
    photo, face = grace_hopper
    prepared = wild_editor.prepare(photo, face)
    at = in_crop(prepared.region_matrix, prepared.grid)
    raw = wild_editor._on_photo(prepared.state["up"], prepared.region_matrix, at).paint
    mouth = np.asarray(face.mouth, np.float64) - prepared.region[:2]
    allowed = inside_lips(mouth, prepared.grid.shape[:2])
    outside = allowed == 0
    assert raw[outside].max() > 0.05, "the wild network paints outside the lips (its mirror-averaged paint: ~0.1)"
    assert prepared.up.paint[outside].max() == 0.0
    assert prepared.up.paint.max() > 0.1, "inside the lips it still paints"


@pytest.mark.parametrize("setup", SETUPS)
def test_in_the_photo_the_nose_stays_still_and_the_mouth_corners_rise(setup, grace_hopper):
    """The shipped networks edit in their crop's frame, centred on the mouth corners, where a smile looks
    like the nose moving down; the editor carries the edit into the face's frame. Without that, the
    shipped ComplexGAN moved Grace Hopper's nose down and her corners not at all."""
    from keepsmiling_core.editing.editor import default_model_path

    photo, face = grace_hopper
    editor = open_editor(default_model_path(setup))
    prepared = editor.prepare(photo, face)
    origin = np.array(prepared.region[:2], np.float64)
    width = float(np.linalg.norm(face.points[54] - face.points[48]))

    def forward_move(offsets: np.ndarray, index: int) -> np.ndarray:
        """Where the content at a landmark moves at α = 1, in mouth widths (y > 0: down)."""
        x, y = np.round(face.points[index] - origin).astype(int)
        return -offsets[y, x] / width

    at = in_crop(prepared.region_matrix, prepared.grid)
    raw = editor._on_photo(prepared.state["up"], prepared.region_matrix, at).offsets
    nose_raw = np.mean([forward_move(raw, i) for i in range(31, 36)], axis=0)
    nose = np.mean([forward_move(prepared.up.offsets, i) for i in range(31, 36)], axis=0)
    assert nose_raw[1] > 0.03, "in the crop's frame the network moves the nose down"
    assert np.abs(nose).max() < 0.01, "in the face's frame the nose stays where it is"
    for corner in (48, 54):
        assert forward_move(prepared.up.offsets, corner)[1] < -0.02, "the corners rise"
        assert forward_move(prepared.down.offsets, corner)[1] > 0.0, "away from a smile they drop"


@pytest.mark.parametrize("setup", SETUPS)
def test_the_lower_cheeks_go_sideways_with_the_corners(setup, grace_hopper):
    """The shipped networks move the corners out and leave the cheeks beside them (0.2-0.4 of the
    corners' sideways move), bunching the skin between; the editor carries each cheek ``CHEEK_CARRY`` of
    its corner's sideways move and leaves the network's up-and-down move and the mouth alone."""
    from keepsmiling_core.editing.editor import default_model_path
    from keepsmiling_core.editing.mouth_range import moved_by_backward_map
    from keepsmiling_core.editing.shape_editor import (
        CHEEK_CARRY,
        carry_cheeks,
        shift_weight,
    )
    from keepsmiling_core.editing.smile_shape import EyeFrame
    from keepsmiling_core.editing.warp import cheek_anchors

    photo, face = grace_hopper
    editor = open_editor(default_model_path(setup), options=CLOSED_LIPS)   # the carry alone
    prepared = editor.prepare(photo, face)
    points = np.asarray(face.points, np.float64) - prepared.region[:2]
    axis = EyeFrame.of(points).axis
    at = in_crop(prepared.region_matrix, prepared.grid)
    weight = shift_weight(face, prepared.region, at, editor.crop_config.size)[..., None]
    def forward_moves(offsets: np.ndarray, at: np.ndarray) -> np.ndarray:
        return moved_by_backward_map(at, offsets + prepared.grid) - at

    for sign, direction in (("up", prepared.up), ("down", prepared.down)):
        network = editor._on_photo(prepared.state[sign], prepared.region_matrix, at, weight * prepared.shifts[sign]).offsets
        assert np.array_equal(carry_cheeks([network], points, prepared.grid)[0], direction.offsets), "prepare applies it"
        corners = forward_moves(direction.offsets, points[[48, 54]])
        cheeks, own = forward_moves(direction.offsets, cheek_anchors(points)), forward_moves(network, cheek_anchors(points))
        sideways = (cheeks @ axis) / (corners @ axis)
        assert np.all(np.abs(sideways / CHEEK_CARRY - 1) < 0.2), sideways
        assert np.all(np.abs((own @ axis) / (corners @ axis)) < 0.6), "the network alone leaves the cheeks"
        upward = np.array([-axis[1], axis[0]])
        assert np.allclose(cheeks @ upward, own @ upward, atol=0.15 * np.abs(own @ upward).max() + 0.1)
        own_corners = forward_moves(network, points[[48, 54]])
        assert np.allclose(corners, own_corners, atol=0.08 * np.abs(own_corners).max()), "the mouth is the network's"


def test_a_face_cut_by_the_photos_edge_keeps_its_slider_range(grace_hopper, monkeypatch):
    """Cut by the photo's edge, a cheek anchor sits deep in the carry's fade; asking it for the whole move
    anyway made a steep bump that stopped the shipped ComplexGAN's slider at 0.5 instead of 1.06."""
    from keepsmiling_core.detection import detect_faces
    from keepsmiling_core.editing import shape_editor
    from keepsmiling_core.editing.editor import default_model_path

    photo, _ = grace_hopper
    cut = np.ascontiguousarray(photo[:, 230:])
    (face,) = detect_faces(cut)
    editor = open_editor(default_model_path("complexgan"), options=CLOSED_LIPS)   # the carry alone
    carried = editor.prepare(cut, face).alpha_limits
    monkeypatch.setattr(shape_editor, "carry_cheeks", lambda fields, *args, **kwargs: fields)
    plain = editor.prepare(cut, face).alpha_limits
    assert carried[1] >= 0.9 * plain[1] and carried[0] <= 0.9 * plain[0], (carried, plain)


def test_the_frame_shift_never_moves_anything_past_the_jaw_line(wild_editor, grace_hopper):
    from keepsmiling_core.editing.shape_editor import jaw_weight

    photo, face = grace_hopper
    prepared = wild_editor.prepare(photo, face)
    assert np.abs(prepared.shifts["up"]).max() > 0.1, "the wild network moves the nose"
    at = in_crop(prepared.region_matrix, prepared.grid)
    raw = wild_editor._on_photo(prepared.state["up"], prepared.region_matrix, at).offsets
    outside = jaw_weight(np.asarray(face.points, np.float64) - prepared.region[:2], prepared.grid.shape[:2]) == 0
    assert outside.any() and (~outside).any()
    assert np.array_equal(prepared.up.offsets[outside], raw[outside]), "past the jaw only the network's field"
    assert not np.allclose(prepared.up.offsets[~outside], raw[~outside]), "inside it the frame shift applies"


def test_paint_fades_out_towards_the_mouth_corners(grace_hopper):
    """Parted lips close at the corners; a dark gap painted right at a corner read as a black spot.
    Without the fade, paint may cover 0.4-0.7 of the pixels next to Grace Hopper's corners."""
    from keepsmiling_core.editing.shape_editor import inside_lips

    _, face = grace_hopper
    mouth = np.asarray(face.mouth, np.float64)
    mouth = mouth - (np.floor(mouth.min(axis=0)) - 20)
    shape = tuple(int(v) for v in (mouth.max(axis=0) + 20)[::-1])
    allowed = inside_lips(mouth, shape)
    middle = np.round((mouth[14] + mouth[18]) / 2).astype(int)   # between the inner lips' middle points
    assert allowed[middle[1], middle[0]] > 0.5
    width = float(np.linalg.norm(mouth[6] - mouth[0]))
    ys, xs = np.mgrid[0:shape[0], 0:shape[1]]
    along = ((xs - mouth[0, 0]) * (mouth[6, 0] - mouth[0, 0]) + (ys - mouth[0, 1]) * (mouth[6, 1] - mouth[0, 1])) / width**2
    for near_corner in (along < 0.05, along > 0.95):
        assert allowed[near_corner].max() < 0.25, "next to a corner paint barely shows"


@pytest.mark.parametrize("setup", SETUPS)
def test_the_smile_paints_no_dark_dots_at_the_corners(setup, grace_hopper):
    """Near the corners both shipped networks paint a wide-open mouth's dark, on lips the field does not
    part: with the general corner fade it showed as dark dots (SplitGAN: up to 0.38 opaque within 0.12
    mouth widths of Grace Hopper's right corner). The smile's paint fades out further in."""
    from keepsmiling_core.editing.editor import default_model_path

    photo, face = grace_hopper
    prepared = open_editor(default_model_path(setup), options=CLOSED_LIPS).prepare(photo, face)   # its own paint
    mouth = np.asarray(face.mouth, np.float64) - prepared.region[:2]
    axis = mouth[6] - mouth[0]
    along = ((prepared.grid - mouth[0]) @ axis) / float(axis @ axis)
    dark = prepared.up.paint * (prepared.up.colour.mean(axis=2) < 100)
    for near_corner in ((along > 0) & (along < 0.12), (along > 0.88) & (along < 1)):
        assert dark[near_corner].max() < 0.25
    assert prepared.up.paint.max() > 0.3, "between the corners it still paints"


def _mirror(edit: ShapeTexture, index: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    field = edit.field[index].flip(-1)
    return torch.stack([-field[0], field[1]]), edit.mask[index].flip(-1), edit.colour[index].flip(-1)


@pytest.mark.parametrize("setup", SETUPS)
def test_a_mirrored_mouth_gets_the_mirrored_edit(setup, grace_hopper):
    """The trained networks edit with a handedness (an S in the lips' meeting line, the same way round on
    three faces in four); the editor averages each edit with the mirrored edit of the mirrored crop, so
    a face's mirror image gets exactly the mirror image of its edit."""
    from keepsmiling_core.data.tensors import to_tensor
    from keepsmiling_core.paths import shipped_models_dir

    photo, face = grace_hopper
    editor = open_editor(shipped_models_dir() / setup)
    crop = editor.checked_crop(photo, face).image
    x = to_tensor(np.stack([crop, crop[:, ::-1]]).copy()).to(editor.device, editor.dtype)
    with torch.no_grad():
        state = editor.backend.encode(x)
        raw = (editor.model.nets["generator"].edit(x, torch.ones(2)) if setup == "complexgan" else
               editor.model.nets["decoder"](editor.model.nets["encoder"](x) + editor.backend.direction.calibration
                                            * editor.backend._unit))
    for sign in ("up", "down"):
        edit = state[sign]
        assert torch.abs(edit.field).amax() > 0.5, "the shipped edit moves the mouth"
        for got, want in zip(_mirror(edit, 1), (edit.field[0], edit.mask[0], edit.colour[0]), strict=True):
            torch.testing.assert_close(got, want, atol=2e-3, rtol=0)
    # The network alone is not symmetric: that is what the averaging removes.
    assert (_mirror(raw, 1)[0] - raw.field[0]).abs().amax() > 0.05
