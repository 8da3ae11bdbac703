"""The smile parts the lips (``lip_parting``) and real teeth show between them (``teeth``)."""

from __future__ import annotations

import numpy as np
import pytest

from keepsmiling_core.editing.lip_parting import PartingOptions, part_lips
from keepsmiling_core.editing.mouth_range import moved_by_backward_map
from keepsmiling_core.editing.warp import map_jacobian


def _region(points: np.ndarray, margin: int = 40) -> tuple[np.ndarray, np.ndarray]:
    """The face's points in a region around its lower face, and the region's pixel grid."""
    origin = np.floor(points.min(axis=0)) - margin
    local = points - origin
    height, width = (np.ceil(local.max(axis=0)) + margin).astype(int)[::-1]
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    return local, np.dstack([xs, ys])


def _gap(points: np.ndarray) -> float:
    """The inner lips' gap at the middle (62 to 66) over the mouth's width."""
    return float(np.linalg.norm(points[66] - points[62]) / np.linalg.norm(points[54] - points[48]))


def test_the_lips_part_fold_free_while_nose_and_chin_stay(grace_hopper):
    _, face = grace_hopper
    points, grid = _region(np.asarray(face.points, np.float64))
    assert _gap(points) < 0.05, "Grace Hopper's lips are closed"
    parting = part_lips(points, grid)
    source = grid + parting.offsets
    assert map_jacobian(source).min() > 0.0, "the parting folds the photo"
    width = parting.frame.width
    middle = tuple(np.round((points[62] + points[66]) / 2).astype(int)[::-1])
    gap = (parting.lower - parting.upper)[middle] / width
    assert abs(gap - PartingOptions().opening) < 0.02, "the lips part as far as a real smile's"
    landed = moved_by_backward_map(points, source)
    for still in (8, 33, 36, 45):   # chin, nose base, eyes
        assert np.linalg.norm(landed[still] - points[still]) < 0.5
    for corner in (48, 54):          # the outer corners stay together
        assert np.linalg.norm(landed[corner] - points[corner]) < 1.0
    lifted, dropped = points[51, 1] - landed[51, 1], landed[57, 1] - points[57, 1]
    assert lifted > 0.02 * width and dropped > 0.03 * width, "the upper lip rises and the lower one drops"


def test_lips_already_apart_are_left_as_they_are(grace_hopper):
    _, face = grace_hopper
    points, grid = _region(np.asarray(face.points, np.float64))
    width = float(np.linalg.norm(points[54] - points[48]))
    opened = points.copy()
    opened[[65, 66, 67, 55, 56, 57, 58, 59], 1] += 0.3 * width   # a mouth already wide open
    parting = part_lips(opened, grid)
    assert np.abs(parting.offsets).max() == 0.0, "its own teeth show; stretching them opened dark gaps"
    slightly = points.copy()
    slightly[[65, 66, 67], 1] += 0.05 * width   # parted a little: opened the rest of the way
    assert part_lips(slightly, grid).opened.max() > 0.05 * width


def test_teeth_are_painted_only_between_the_parted_lips(grace_hopper):
    from keepsmiling_core.editing.teeth import COLUMNS, ROWS, teeth_paint

    _, face = grace_hopper
    points, grid = _region(np.asarray(face.points, np.float64))
    parting = part_lips(points, grid)
    strip = np.full((ROWS, COLUMNS, 3), 230, np.uint8)
    teeth = teeth_paint(strip, parting)
    a, b = parting.frame.coords(grid.reshape(-1, 2))
    b = b.reshape(grid.shape[:2])
    middle = tuple(np.round((points[62] + points[66]) / 2).astype(int)[::-1])
    colour, opacity = teeth.at(1.0)
    outside = (b < parting.upper - 3) | (b > parting.lower + 3)
    assert opacity[outside].max() == 0.0, "at strength 1 the teeth fill the parted gap and nothing else"
    assert opacity[middle] == 1.0 and np.allclose(colour[middle], 230, atol=1)
    _, half = teeth.at(0.5)
    assert 0 < (half > 0.5).sum() < 0.7 * (opacity > 0.5).sum(), "a half-open mouth shows a narrower gap"
    assert half[middle] == 1.0, "... of teeth that are opaque, not faded over the lips"
    assert teeth.at(0.0)[1].max() == 0.0


@pytest.fixture(scope="module")
def shipped_bank():
    from keepsmiling_core.editing.teeth import teeth_bank

    return teeth_bank()


def test_the_shipped_bank_holds_real_teeth(shipped_bank):
    from keepsmiling_core.editing.teeth import MIN_TEETH_SCORE, teeth_score

    assert len(shipped_bank) >= 100
    assert "mtfl" in shipped_bank.meta["source"]
    scores = [teeth_score(strip, skin) for strip, skin in zip(shipped_bank.strips, shipped_bank.skin, strict=True)]
    assert min(scores) >= MIN_TEETH_SCORE - 1e-6


def test_a_bank_round_trips_and_a_damaged_one_says_what_to_do(shipped_bank, tmp_path):
    from keepsmiling_core.editing.teeth import BANK_FILE, TeethBank, load_bank, save_bank
    from keepsmiling_core.errors import CheckpointError

    small = TeethBank(strips=shipped_bank.strips[:5], skin=shipped_bank.skin[:5], widths=shipped_bank.widths[:5],
                      meta={"source": "test"})
    save_bank(small, tmp_path / "bank")
    again = load_bank(tmp_path / "bank")
    assert np.array_equal(again.strips, small.strips) and np.allclose(again.skin, small.skin)
    (tmp_path / "bank" / BANK_FILE).write_bytes(b"not a bank")
    with pytest.raises(CheckpointError, match="teeth-bank"):
        load_bank(tmp_path / "bank")
    with pytest.raises(CheckpointError, match="missing"):
        load_bank(tmp_path / "nowhere")


def test_teeth_take_the_photos_colour_and_are_grey_on_a_grey_photo():
    from keepsmiling_core.editing.teeth import lit_like

    strip = np.tile(np.array([235, 225, 205], np.uint8), (16, 48, 1))       # warm white teeth
    warm_skin = np.array([200, 150, 120], np.float32)
    grey = lit_like(strip, warm_skin, np.array([120, 120, 120], np.float32))
    assert np.ptp(grey.reshape(-1, 3).mean(axis=0)) < 3, "teeth on a grey photo are grey"
    dim = lit_like(strip, warm_skin, warm_skin * 0.5)
    assert dim.mean() < 0.6 * strip.mean(), "a dimmer face gets dimmer teeth"
    same = lit_like(strip, warm_skin, warm_skin)
    assert np.abs(same - strip).max() < 3


def test_tinted_teeth_take_the_colour_real_teeth_have_next_to_the_skin(shipped_bank):
    """A strip whose teeth were greenish (a JPEG's colour noise) or lavender (pink light) keeps its shading
    but takes the colour the bank's real teeth have next to their skin (``TeethBank.teeth_to_skin``)."""
    from keepsmiling_core.editing.teeth import _chroma, _ycc, lit_like, teeth_chroma

    ratio = shipped_bank.teeth_to_skin
    assert 0.4 < abs(ratio) < 0.9 and abs(np.angle(ratio)) < np.radians(15), "paler than the skin, same hue"
    skin = np.array([200, 150, 120], np.float32)
    rng = np.random.default_rng(0)
    green = np.clip(np.array([200, 225, 190]) + rng.normal(0, 12, (16, 48, 1)), 0, 255).astype(np.uint8)
    face = np.array([190, 130, 100], np.float32)
    fixed = lit_like(green, skin, face, ratio)
    wanted = ratio * complex(_chroma(_ycc(face))[0])
    assert abs(teeth_chroma(fixed) - wanted) < 0.01, "the teeth have real teeth's colour on this face"
    assert abs(teeth_chroma(lit_like(green, skin, face)) - wanted) > 0.04, "unfixed, they stay green"
    y = lambda rgb: _ycc(rgb)[:, 0]   # noqa: E731
    assert np.corrcoef(y(fixed), y(green.astype(np.float32)))[0, 1] > 0.99, "the shading is the strip's"
    grey = lit_like(green, skin, np.array([120, 120, 120], np.float32), ratio)
    assert abs(teeth_chroma(grey)) < 0.01, "on a grey photo the teeth are grey"


def test_the_shipped_networks_smile_parts_the_lips_over_teeth(grace_hopper):
    from keepsmiling_core.editing.backends import open_editor
    from keepsmiling_core.editing.editor import EditOptions, default_model_path
    from keepsmiling_core.editing.warp import MIN_WARP_MOUTH_PX
    from keepsmiling_core.evaluation.photo_measures import lips_parting

    photo, face = grace_hopper
    parted = open_editor(default_model_path("complexgan"))
    closed = open_editor(default_model_path("complexgan"),
                         options=EditOptions(min_mouth_px=MIN_WARP_MOUTH_PX, part_lips=False))
    with_teeth = parted.smile(photo, face, 1.0).image
    without = closed.smile(photo, face, 1.0).image
    assert lips_parting(with_teeth, face.box) >= 0.1, "dlib reads the finished smile's lips as parted"
    assert lips_parting(without, face.box) < 0.1
    prepared = parted.prepare(photo, face)
    assert prepared.alpha_limits[1] >= 1.0, "the parted smile reaches strength 1"


def test_the_smile_command_parts_the_lips_unless_asked_not_to(tmp_path):
    from keepsmiling_core.cli.main import main
    from keepsmiling_core.detection import detect_faces
    from keepsmiling_core.editing.editor import default_model_path
    from keepsmiling_core.evaluation.photo_measures import lips_parting
    from keepsmiling_core.imageio import read_photo
    from keepsmiling_core.paths import samples_dir

    photo = samples_dir() / "grace-hopper.jpg"
    common = ["smile", str(photo), "--model", str(default_model_path("complexgan")), "--device", "cpu"]
    assert main([*common, "--out", str(tmp_path / "parted")]) == 0
    assert main([*common, "--closed-lips", "--out", str(tmp_path / "closed")]) == 0
    box = detect_faces(read_photo(photo).rgb)[0].box
    parted = read_photo(next((tmp_path / "parted").iterdir())).rgb
    closed = read_photo(next((tmp_path / "closed").iterdir())).rgb
    # The saved JPEG moves dlib's reading by a few thousandths around LIPS_PARTED (0.099 for the teeth of
    # session 16), so the two outputs are told apart by a margin rather than by that threshold.
    assert lips_parting(parted, box) >= 0.08
    assert lips_parting(parted, box) > lips_parting(closed, box) + 0.05


def test_teeth_never_outshine_the_face_and_keep_their_shading():
    from keepsmiling_core.editing.teeth import no_brighter_than

    rng = np.random.default_rng(0)
    strip = np.clip(rng.normal(200, 30, (16, 48, 3)), 0, 255).astype(np.float32)
    dim_face = np.full((100, 3), 120, np.uint8)
    dimmed = no_brighter_than(strip, dim_face, 0.1)
    assert np.percentile(dimmed.mean(axis=2), 98) <= (120 / 255 + 0.1) * 255 + 2
    assert np.corrcoef(dimmed.ravel(), strip.ravel())[0, 1] > 0.999, "dimmed as a whole, shading kept"
    assert np.array_equal(no_brighter_than(strip, np.full((100, 3), 250, np.uint8), 0.1), strip)


def test_the_teeth_bank_command_cuts_real_teeth_from_mtfl(mtfl_root, tmp_path):
    from keepsmiling_core.cli.main import main
    from keepsmiling_core.editing.teeth import MIN_TEETH_SCORE, load_bank, teeth_score

    out = tmp_path / "teeth"
    assert main(["teeth-bank", "--dataset", f"mtfl:{mtfl_root}", "--split", "testing", "--limit", "80",
                 "--max-mouths", "5", "--out", str(out)]) == 0
    bank = load_bank(out)
    assert 1 <= len(bank) <= 5 and bank.meta["faces_looked_at"] <= 80
    assert all(teeth_score(s, k) >= MIN_TEETH_SCORE for s, k in zip(bank.strips, bank.skin, strict=True))
    assert main(["teeth-bank", "--dataset", f"mtfl:{mtfl_root}", "--limit", "0", "--out", str(out)]) == 2
