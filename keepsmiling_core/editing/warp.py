"""The landmark warp: a smile made by moving the photo's own pixels, at the photo's full resolution.

A smile is first a change of shape — corners pulled up and out, lips stretched, cheeks lifted. This
editor moves dlib's mouth points by the measured smile displacement (``smile_shape``), lifts two cheek
anchors with the corners, keeps eyes, brows, nose and jaw fixed, and interpolates a smooth displacement
field between them with a thin-plate spline. The photo region is then resampled (``cv2.remap``, bicubic)
through the inverse of that field, so every pore and hair stays as sharp as in the photo and no colour is
invented: nothing can stain, blob or blur. It needs no network, edits mouths down to ~8 px, and is the
baseline every network edit is measured against.

The field is computed once per face on a coarse grid (it is smooth) and scaled by the strength α on
every slider move; α = 0 returns the photo exactly. A smooth window brings the field to exactly zero at
the border of the face's region, so every pixel outside that region is byte-identical to the input.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field, replace
from pathlib import Path

import cv2
import numpy as np

from keepsmiling_core.editing.checks import check_face, face_points
from keepsmiling_core.editing.compose import render_edits  # the one compositing loop
from keepsmiling_core.editing.mouth_range import bends_like_real_mouths, moved_by_backward_map
from keepsmiling_core.editing.smile_shape import EyeFrame, SmileShape, load_smile_shape
from keepsmiling_core.errors import EditError

JAW = range(0, 17)
BROWS = range(17, 27)
NOSE = range(27, 36)
EYES = range(36, 48)
MOUTH = range(48, 68)
UPPER_INNER, LOWER_INNER = (61, 62, 63), (67, 66, 65)   # facing pairs of the inner lip line
GRID_NODES = 48          # coarse field resolution along the region's longer side
MIN_JACOBIAN = 0.3       # the warp may squeeze an area to 30 % of its size (or stretch it 1/0.3), never fold it
PAINTED_MIN_AREA = 0.05  # under translucent paint a source area may be stretched up to 20 times, never folded
# How far the thin-plate spline may pass beside its control points. Interpolating them exactly (1e-3) put
# every point's move on a few pixels: the lower lip beside each corner, which stays while the corner rises,
# was stretched past MIN_JACOBIAN near 1.45 on the median GENKI face, so "2" showed 1.45. Smoothed, the
# corners still land within about a tenth of the measured move and the slider reaches 1.9 (judge part:
# 27.5 -> 42.9 % judged smiling at 2, the same 14.3 % at 1, no stain or fold on the sheet).
FIELD_STIFFNESS = 1e-2
GAP_RIM = 0.05           # the lips' inner edges: this share of the mouth's width around the parted lips' gap
MIN_WARP_MOUTH_PX = 8.0  # below this the 68 points themselves are unreliable
TEXTURE_FILE = "texture.json"


@dataclass
class WarpOptions:
    """How the measured displacement becomes a field; the defaults are what the app uses."""

    closed_lips: bool = True     # the inner lip line moves as one, so the mouth does not open (no teeth to invent)
    opening: float = 1.0         # with a mouth fill: how far the lips part, × the measured mean parting of a smile
    # Cheek anchors (beside each corner, between it, the jaw and the nostril) follow this share of their
    # corner's move. The face judge reads the whole lower face, not the lips alone (a real smiling mouth
    # pasted into a non-smiling face, nothing else changed, is called smiling 19 % of the time; with the
    # cheeks beside it, 59-93 %: ``scripts/judge_regions.py``), and a smile carries the cheeks with the
    # corners. Chosen on GENKI's judge part: 0.5 -> 1.0 took the judged smiles at 1 / 2 from 14 / 43 % to
    # 22 / 55 %; 1.5 went further (35 / 58 %) but moved the lower cheeks' shadows into the skin ring
    # (worst sector ΔE 1.7).
    cheek_lift: float = 1.0
    region_margin: float = 0.25  # region border beyond the face's outer points, in inter-ocular units
    # Any point's move at α = 1, in inter-ocular units: a cap against an absurd shape file only. Measured
    # smiles move a corner 0.14 (MTFL) to 0.16 (GENKI); the fold and mouth-range stops bound larger α.
    max_move: float = 0.25
    min_mouth_px: float = MIN_WARP_MOUTH_PX
    alpha_range: tuple[float, float] = (-2.0, 3.0)


@dataclass
class PreparedWarp:
    """One face, ready for any α: its region, the field at α = 1 on a coarse grid, the photo's pixels."""

    face: object
    face_index: int
    region: tuple[int, int, int, int]   # x0, y0, x1, y1 of the pixels that may differ
    base: np.ndarray                    # the photo's pixels in ``region`` before the edit
    field: np.ndarray                   # (gh, gw, 2) float32 displacement at α = 1, photo pixels, on the nodes
    step: int                           # node spacing in pixels
    window: np.ndarray                  # (H, W) float32: 1 where the field acts fully, 0 where the photo stays
    alpha_limits: tuple[float, float] = (-2.0, 3.0)   # strengths this face can take without a fold
    open_field: np.ndarray | None = None    # like ``field``, lips parting, for α > 0 when teeth are drawn
    gap: tuple | None = None                # inner-lip points (8, 2) in region pixels and their closed-lip
                                            # move at α = 1 (where the photo's own inner mouth goes)
    fill_paint: tuple | None = None         # the mouth fill's colour crop and its region -> crop matrix
    window2: np.ndarray | None = field(repr=False, default=None)   # ``window`` for both map channels
    grid: np.ndarray = field(repr=False, default=None)  # (H, W, 2) float32 pixel coordinates of the region


def closed_lip_displacement(displacement: np.ndarray) -> np.ndarray:
    """The measured smile move, with the inner lip line kept closed.

    Smiling faces in the data often show teeth, so the inner lips part on average; a warp cannot show
    teeth that are not in the photo, only stretch the lips into a grey gap. Each facing pair of inner
    points therefore takes the mean of the two moves (the pair moves together and the gap stays)."""
    moved = np.array(displacement, np.float64, copy=True)
    for upper, lower in zip(UPPER_INNER, LOWER_INNER, strict=True):
        mean = (moved[upper] + moved[lower]) / 2
        moved[upper] = moved[lower] = mean
    for corner in (60, 64):   # inner corners sit on the outer ones
        moved[corner] = moved[48 if corner == 60 else 54]
    return moved


def cheek_anchors(points: np.ndarray) -> np.ndarray:
    """(2, 2) photo points of the lower cheeks beside the mouth corners (image-left first): each the
    centroid of its corner, the jaw point level with the nose and the nostril's outer point."""
    points = np.asarray(points, np.float64)
    return np.stack([(points[48] + points[2] + points[31]) / 3, (points[54] + points[14] + points[35]) / 3])


def control_points(points: np.ndarray, shape: SmileShape, options: WarpOptions) -> tuple[np.ndarray, np.ndarray]:
    """(sources, moves) in photo pixels: the mouth moved, two cheek anchors lifted, the rest fixed."""
    points = np.asarray(points, np.float64)
    frame = EyeFrame.of(points)
    move = shape.displacement
    if options.closed_lips:
        move = closed_lip_displacement(move)
    elif options.opening != 1.0:
        closed = closed_lip_displacement(move)
        move = closed + options.opening * (move - closed)
    moves = np.zeros_like(points)
    moves[list(MOUTH)] = frame.vectors_to_photo(move[list(MOUTH)])
    cheeks = cheek_anchors(points)
    cheek_moves = options.cheek_lift * moves[[48, 54]]
    anchors = [i for i in range(68) if i not in MOUTH]
    sources = np.concatenate([points[anchors], points[list(MOUTH)], cheeks])
    values = np.concatenate([moves[anchors], moves[list(MOUTH)], cheek_moves])
    return sources, values


def coarse_nodes(width: int, height: int) -> tuple[int, tuple[int, int], np.ndarray]:
    """(step, (gh, gw), nodes (gh·gw, 2)): the coarse grid a smooth field over a width × height region is
    computed on, node (i, j) at pixel ((j + 0.5)·step − 0.5, (i + 0.5)·step − 0.5), so that
    ``nodes_to_pixels`` (a linear resize by ``step``) puts every node's value back on its own spot."""
    step = max(1, math.ceil(max(width, height) / GRID_NODES))
    gw, gh = math.ceil(width / step), math.ceil(height / step)
    nodes_x = (np.arange(gw) + 0.5) * step - 0.5
    nodes_y = (np.arange(gh) + 0.5) * step - 0.5
    return step, (gh, gw), np.stack(np.meshgrid(nodes_x, nodes_y), axis=-1).reshape(-1, 2)


def nodes_to_pixels(values: np.ndarray, step: int, height: int, width: int) -> np.ndarray:
    """(H, W, C) float32: a field on ``coarse_nodes`` interpolated to every pixel of the region."""
    gh, gw = values.shape[:2]
    return cv2.resize(np.ascontiguousarray(values, np.float32), (gw * step, gh * step),
                      interpolation=cv2.INTER_LINEAR)[:height, :width]


def thin_plate_field(sources: np.ndarray, values: np.ndarray, at: np.ndarray,
                     stiffness: float = FIELD_STIFFNESS) -> np.ndarray:
    """Thin-plate spline near ``values`` at ``sources`` (N, 2), evaluated at ``at`` (M, 2).

    Coordinates are normalised by their spread first, so the regulariser (``stiffness``) means the same
    for a 20 px face and a 2,000 px one."""
    centre = sources.mean(axis=0)
    spread = float(np.abs(sources - centre).max()) or 1.0
    src = (sources - centre) / spread
    pts = (np.asarray(at, np.float64) - centre) / spread

    def kernel(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        r2 = ((a[:, None, :] - b[None, :, :]) ** 2).sum(axis=2)
        return np.where(r2 > 0, 0.5 * r2 * np.log(np.maximum(r2, 1e-300)), 0.0)

    n = len(src)
    system = np.zeros((n + 3, n + 3))
    system[:n, :n] = kernel(src, src) + stiffness * np.eye(n)
    system[:n, n] = 1
    system[:n, n + 1:] = src
    system[n, :n] = 1
    system[n + 1:, :n] = src.T
    rhs = np.zeros((n + 3, 2))
    rhs[:n] = values
    coef = np.linalg.solve(system, rhs)
    return kernel(pts, src) @ coef[:n] + coef[n] + pts @ coef[n + 1:]


def map_jacobian(coords: np.ndarray) -> np.ndarray:
    """Determinant of the output -> source map's Jacobian at each pixel (1 = no change of area)."""
    c = coords.astype(np.float64)
    dx, dy = np.diff(c, axis=1)[:-1], np.diff(c, axis=0)[:, :-1]
    return dx[..., 0] * dy[..., 1] - dy[..., 0] * dx[..., 1]


def keeps_detail(det: np.ndarray, painted: np.ndarray | None = None) -> bool:
    """Whether a map with area ratios ``det`` (``map_jacobian``) squeezes or stretches no area past
    ``MIN_JACOBIAN`` (or its inverse), so folds nothing, except where ``painted`` (bool, same shape):
    parting lips stretch their meeting line into the gap, and the painted teeth or shadow cover those
    pixels, so there the stretch may reach 1 / ``PAINTED_MIN_AREA`` (never a fold)."""
    floor = MIN_JACOBIAN if painted is None else np.where(painted, PAINTED_MIN_AREA, MIN_JACOBIAN)
    return bool(det.max() <= 1 / MIN_JACOBIAN and np.all(det >= floor))


def strength_limits(fine, alpha_range: tuple[float, float]) -> tuple[float, float]:
    """The strengths towards each end of ``alpha_range`` up to which ``fine(alpha)`` holds: the end itself
    when it is fine, else a bisection from 0 (which is always fine: the photo) to 1/32 of the range —
    finer steps are invisible on the slider."""
    limits = []
    for end in alpha_range:
        if fine(end):
            limits.append(float(end))
            continue
        good, bad = 0.0, float(end)
        for _ in range(5):
            middle = (good + bad) / 2
            good, bad = (middle, bad) if fine(middle) else (good, middle)
        limits.append(good)
    return limits[0], limits[1]


def smoothstep(t: np.ndarray) -> np.ndarray:
    t = np.clip(t, 0.0, 1.0)
    return t * t * (3 - 2 * t)


class WarpEditor:
    """Smile edits by a landmark-driven warp of the photo (no network); the same surface as ``Editor``."""

    setup = "warp"

    def __init__(self, model: str | Path | SmileShape | None = None, device=None,
                 options: WarpOptions | None = None, fill=None) -> None:
        """``fill``: a ``MouthFiller`` that paints what the parted lips reveal (teeth); a model folder's
        ``texture.json`` (``{"fill": "../mouthfill"}``) names one too. Without it the warp keeps the
        lips closed and invents nothing."""
        if isinstance(model, SmileShape):
            self.shape = model
            self.path = None
        else:
            from keepsmiling_core.paths import shipped_models_dir

            self.path = Path(model) if model is not None else shipped_models_dir() / "warp"
            self.shape = load_smile_shape(self.path)
            if fill is None and (self.path / TEXTURE_FILE).is_file():
                fill, opening = _mouth_filler(self.path, device)
                options = options or WarpOptions(opening=opening)
        self.fill = fill
        self.options = options or WarpOptions()

    # ---------------------------------------------------------------- per face, once
    def prepare(self, photo: np.ndarray, face, face_index: int = 0) -> PreparedWarp:
        points = face_points(face)
        if points is None:
            raise EditError("The landmark warp needs all 68 face points, which this face lacks "
                            "(detect the face again with this version of KeepSmiling).")
        check_face(face, photo.shape, self.options.min_mouth_px)
        frame = EyeFrame.of(points)
        region, inner = self._region(points, frame, photo.shape)
        x0, y0, x1, y1 = region
        width, height = x1 - x0, y1 - y0
        step, (gh, gw), nodes = coarse_nodes(width, height)
        nodes = nodes + (x0, y0)
        node_window = self._window(nodes, region, inner)[:, None]

        @functools.cache   # the closed-lip field serves the render and the gap: solve it once
        def coarse_field(closed: bool) -> tuple[np.ndarray, np.ndarray]:
            options = replace(self.options, closed_lips=closed)
            sources, moves = control_points(points, self.shape, options)
            largest = float(np.linalg.norm(moves, axis=1).max()) / frame.scale
            if largest > options.max_move:   # an absurd shape file must not tear the face
                moves *= options.max_move / largest
            # Fixed anchors on the region's border pin the spline there; the window makes it exactly zero.
            border = border_points(region, 8)
            values = thin_plate_field(np.concatenate([sources, border]),
                                      np.concatenate([moves, np.zeros_like(border)]), nodes)
            return (values * node_window).reshape(gh, gw, 2).astype(np.float32), moves[-22:-2]

        coarse, _ = coarse_field(self.options.closed_lips)
        ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
        grid = np.dstack([xs, ys])
        window = self._window(np.dstack([xs + x0, ys + y0]).reshape(-1, 2), region, inner).reshape(height, width)
        prepared = PreparedWarp(face=face, face_index=face_index, region=region,
                                base=photo[y0:y1, x0:x1].copy(), field=coarse, step=step,
                                window=window.astype(np.float32), grid=grid)
        if self.fill is not None:
            prepared.open_field, open_moves = coarse_field(False)
            _, closed_moves = coarse_field(True)
            inner_points = points[60:68] - (x0, y0)
            prepared.gap = (inner_points, closed_moves[12:])
        prepared.alpha_limits = self._fold_free_limits(prepared)
        if prepared.gap is not None:
            prepared.fill_paint = self._paint_teeth(prepared, np.asarray(face.landmarks, np.float64) - (x0, y0),
                                                    open_moves[[0, 6]])
        return prepared

    def _paint_teeth(self, prepared: PreparedWarp, landmarks: np.ndarray, corner_moves: np.ndarray) -> tuple:
        """Paint the teeth once per face, for every strength: teeth sit on the skull, so the lips move
        over them while the slider moves and the gap only reveals more or less of one painting.

        The network sees the mouth warped to the strongest smile this face takes (capped at 2), and its
        hole is every gap any strength opens; a slider move is then only the warp and a blend."""
        top = min(prepared.alpha_limits[1], 2.0)
        if top <= 0:
            return None
        hole = np.zeros(prepared.base.shape[:2], np.float32)
        for alpha in np.linspace(0.0, prepared.alpha_limits[1], 7)[1:]:
            hole = np.maximum(hole, self._gap_mask(prepared, float(alpha)))
        if hole.max() <= 0:
            return None
        coords = self.inverse_map(prepared, top)
        warped = cv2.remap(prepared.base, coords, None, cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT)
        moved = landmarks.copy()
        moved[3:] += top * corner_moves   # framed like the training crops: by the smile's own corners
        return self.fill.paint(warped, moved.astype(np.float32), hole)

    def _fold_free_limits(self, prepared: PreparedWarp) -> tuple[float, float]:
        """The strengths, within the options' range, at which the map ``keeps_detail`` (the parted lips'
        painted gap may stretch further) and the mouth bends no further than real mouths bend
        (``mouth_range``); past them the slider saturates rather than fold the lips or caricature a
        frown. Bisection on the map that ``render`` uses, so the guarantee is exact."""
        points = face_points(prepared.face)

        def fine(alpha: float) -> bool:
            source = self.inverse_map(prepared, alpha)
            det, parting = map_jacobian(source), None
            if alpha > 0 and prepared.gap is not None:
                teeth, parting = self._lips_parting(prepared, alpha, source)
                # Nothing of the photo shows under the gap's opaque teeth; the lips' inner edges beside
                # them roll into view as a real mouth opens, and may stretch as under paint.
                det = np.where(teeth[:-1, :-1], 1.0, det)
                parting = parting[:-1, :-1]
            return keeps_detail(det, parting) and bends_like_real_mouths(points, source, prepared.region[:2])

        return strength_limits(fine, self.options.alpha_range)

    def _region(self, points: np.ndarray, frame: EyeFrame, photo_shape) -> tuple[tuple[int, int, int, int], tuple]:
        """The photo box the warp may touch (jaw, nose and mouth plus a margin) and its inner box."""
        outline = points[list(range(1, 16)) + list(range(29, 36)) + list(MOUTH)]
        margin = self.options.region_margin * frame.scale
        lo, hi = outline.min(axis=0), outline.max(axis=0)
        height, width = photo_shape[:2]
        x0, y0 = max(0, int(math.floor(lo[0] - margin))), max(0, int(math.floor(lo[1] - margin)))
        x1, y1 = min(width, int(math.ceil(hi[0] + margin)) + 1), min(height, int(math.ceil(hi[1] + margin)) + 1)
        if x1 - x0 < 4 or y1 - y0 < 4:
            raise EditError("This face's mouth lies outside the photo; it cannot be edited.")
        return (x0, y0, x1, y1), (lo, hi, margin)

    @staticmethod
    def _window(at: np.ndarray, region: tuple[int, int, int, int], inner: tuple) -> np.ndarray:
        """1 inside the face's outline, falling smoothly to exactly 0 on the region's border."""
        x0, y0, x1, y1 = region
        lo, hi, margin = inner
        ramp = max(margin, 1.0)
        # Distance inside the region's border and inside the outline's box, whichever is tighter.
        to_edge = np.minimum.reduce([at[:, 0] - x0, (x1 - 1) - at[:, 0], at[:, 1] - y0, (y1 - 1) - at[:, 1]])
        outside_box = np.maximum.reduce([lo[0] - at[:, 0], at[:, 0] - hi[0], lo[1] - at[:, 1], at[:, 1] - hi[1],
                                         np.zeros(len(at))])
        return smoothstep(np.minimum(to_edge / ramp, 1.0 - outside_box / ramp))

    # ---------------------------------------------------------------- per α
    def inverse_map(self, prepared: PreparedWarp, alpha: float) -> np.ndarray:
        """(H, W, 2) float32 source coordinates (region pixels) of each output pixel at strength α.

        The field moves source points forward (y = x + α·u(x)); sampling needs the inverse, found by
        three fixed-point steps x ← y − α·u(x) on the coarse nodes, then interpolated to every pixel."""
        step, alpha = prepared.step, float(alpha)   # a NumPy scalar would turn the maps into float64
        coarse = prepared.open_field if alpha > 0 and prepared.open_field is not None else prepared.field
        gh, gw = coarse.shape[:2]
        node_x = (np.arange(gw, dtype=np.float32) + 0.5) * step - 0.5
        node_y = (np.arange(gh, dtype=np.float32) + 0.5) * step - 0.5
        ny, nx = np.meshgrid(node_y, node_x, indexing="ij")
        sx, sy = nx.copy(), ny.copy()
        for _ in range(3):
            u = cv2.remap(coarse, (sx + 0.5) / step - 0.5, (sy + 0.5) / step - 0.5, cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REPLICATE)
            sx, sy = nx - alpha * u[..., 0], ny - alpha * u[..., 1]
        back = np.dstack([sx - nx, sy - ny]).astype(np.float32)
        height, width = prepared.base.shape[:2]
        full = nodes_to_pixels(back, step, height, width)
        if prepared.window2 is None:   # the window per map channel, once per face (cv2 multiplies fast)
            prepared.window2 = np.ascontiguousarray(np.repeat(prepared.window[..., None], 2, axis=2))
        full = cv2.multiply(np.ascontiguousarray(full), prepared.window2)
        return cv2.add(full, prepared.grid)

    def render(self, prepared: PreparedWarp, alpha: float, base: np.ndarray | None = None) -> np.ndarray:
        """The region with the face warped at α (``base``: the region's current pixels, default the photo's)."""
        base = prepared.base if base is None else base
        alpha = float(np.clip(alpha, *prepared.alpha_limits))
        if alpha == 0.0:
            return base.copy()
        coords = self.inverse_map(prepared, alpha)
        # Where the window is zero the map is the pixel grid itself, and bicubic resampling at whole
        # pixels returns the pixel exactly: those pixels stay byte-identical (the tests check it).
        out = cv2.remap(base, coords, None, cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT)
        if alpha > 0 and prepared.gap is not None:
            out = self._fill_gap(prepared, out, alpha, coords)
        return out

    def _gap_mask(self, prepared: PreparedWarp, alpha: float, source: np.ndarray | None = None) -> np.ndarray:
        """Where the lips part at α (region pixels, 0..1): the polygon of the inner-lip points where the
        map at α (``source``, ``inverse_map``'s) really puts them — the smoothed spline lands them near,
        not on, their measured moves — minus where the photo's own inner mouth went, so a mouth that was
        already open keeps its own teeth."""
        inner, closed = prepared.gap
        source = self.inverse_map(prepared, alpha) if source is None else source
        shape = prepared.base.shape[:2]
        mask = _polygon_mask(moved_by_backward_map(inner, source), shape) - _polygon_mask(inner + alpha * closed, shape)
        return cv2.GaussianBlur(np.clip(mask, 0, 1), (0, 0), 0.6)

    def _lips_parting(self, prepared: PreparedWarp, alpha: float, source: np.ndarray | None = None
                      ) -> tuple[np.ndarray, np.ndarray]:
        """(teeth, parting), bool region masks at α: where the gap's paint is opaque (its mask ≥ 1/2),
        and that grown by ``GAP_RIM`` — the lips' inner edges beside the gap, which roll into view as a
        real mouth opens and which the warp stretches with the meeting line."""
        inner = prepared.gap[0]
        radius = round(GAP_RIM * float(np.ptp(inner[:, 0])))
        teeth = (self._gap_mask(prepared, alpha, source) >= 0.5).astype(np.uint8)
        grown = teeth
        if radius >= 1:
            grown = cv2.dilate(teeth, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1,) * 2))
        return teeth > 0, grown > 0

    def _fill_gap(self, prepared: PreparedWarp, warped: np.ndarray, alpha: float, source: np.ndarray) -> np.ndarray:
        """Where the lips part, the mouth fill's teeth; everywhere else the warp."""
        if prepared.fill_paint is None:
            return warped
        return self.fill.composite(warped, *prepared.fill_paint, self._gap_mask(prepared, alpha, source))

    def region_mask(self, prepared: PreparedWarp) -> np.ndarray:
        """Where in ``prepared.region`` the warp may move pixels (float32, 0 = untouched)."""
        return prepared.window

    # ---------------------------------------------------------------- whole photos
    def smile(self, photo: np.ndarray, face, alpha: float, face_index: int = 0):
        from keepsmiling_core.editing.editor import EditResult

        prepared = self.prepare(photo, face, face_index)
        image = photo.copy()
        x0, y0, x1, y1 = prepared.region
        image[y0:y1, x0:x1] = self.render(prepared, alpha)
        return EditResult(image=image, face_index=face_index, alpha=float(alpha), region=prepared.region,
                          mask=prepared.window)

    def apply_all(self, photo: np.ndarray, prepared_faces_and_alphas) -> np.ndarray:
        return render_edits(self, photo, prepared_faces_and_alphas)


def _polygon_mask(points: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    mask = np.zeros(shape, np.float32)
    cv2.fillPoly(mask, [np.round(points * 16).astype(np.int32)], 1.0, lineType=cv2.LINE_AA, shift=4)
    return mask


def _mouth_filler(folder: Path, device):
    """The mouth fill a warp folder's ``texture.json`` names (a path relative to the folder)."""
    import json

    from keepsmiling_core.editing.mouth_fill import MouthFiller

    try:
        spec = json.loads((folder / TEXTURE_FILE).read_text(encoding="utf-8"))
        network = folder / str(spec["fill"])
        opening = float(spec.get("opening", 1.0))
        if not 0.0 <= opening <= 3.0:
            raise ValueError(f"opening {opening} is outside 0..3")
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise EditError(f"{folder / TEXTURE_FILE} must be JSON like {{\"fill\": \"../mouthfill\", "
                        f"\"opening\": 1.5}} ({exc}).") from None
    return MouthFiller(network, device), opening


def border_points(region: tuple[int, int, int, int], per_side: int) -> np.ndarray:
    """(4·per_side, 2) points evenly around the box's border: anchors that pin a spline to zero there."""
    x0, y0, x1, y1 = region
    t = np.linspace(0.0, 1.0, per_side, endpoint=False)
    xs, ys = x0 + t * (x1 - 1 - x0), y0 + t * (y1 - 1 - y0)
    return np.concatenate([np.stack([xs, np.full_like(xs, y0)], 1), np.stack([np.full_like(ys, x1 - 1), ys], 1),
                           np.stack([xs[::-1] + (x1 - 1 - x0) / per_side, np.full_like(xs, y1 - 1)], 1),
                           np.stack([np.full_like(ys, x0), ys[::-1] + (y1 - 1 - y0) / per_side], 1)])
