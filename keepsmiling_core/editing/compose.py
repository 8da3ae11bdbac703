"""The one way edits reach pixels: every face of a photo at its own strength, blended in face order.

The window's screen, File ▸ Save, the face export and ``keepsmiling smile`` all go through
``render_edits``, so what the view shows is what gets written. Faces are blended one after another in
face order (left to right), each onto the result so far: where two faces' edit regions overlap, the
later face is edited on top of the earlier one's edit, never over the untouched photo.

The screen does not recompose the whole photo on every slider move. ``render_patches`` renders only
the faces asked for, but always together with every face whose region overlaps theirs (transitively),
composed with the same ``render_edits`` on the group's bounding box. Each face's patch is then the
finished photo's pixels in its region, so overlapping patches agree and their stacking order on
screen does not matter. Faces in different groups touch disjoint pixels, so the patches equal the
full composition byte for byte.

Editors are used through their common surface (``Editor``, ``WarpEditor``): ``prepare(photo, face,
index)`` once per face, then ``render(prepared, alpha, base)`` for a region's pixels.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from keepsmiling_core.errors import KeepSmilingError

Box = tuple[int, int, int, int]  # x0, y0, x1, y1 in photo pixels
# Why a face shows less than the strength asked for (the window's status bar and ``keepsmiling smile``).
HELD_REASON = "this face's smile stops there; past it the mouth would fold or bend further than a real mouth"


@dataclass
class RenderOutcome:
    """What one render job did; the caller keeps ``prepared`` (cache) and ``blocked`` (reasons)."""

    alphas: dict[int, float] = field(default_factory=dict)  # face -> the strength it was rendered at
    patches: dict[int, tuple[int, int, np.ndarray]] = field(default_factory=dict)  # face -> (x0, y0, rgb)
    prepared: dict[int, object] = field(default_factory=dict)  # faces prepared by this job
    blocked: dict[int, str] = field(default_factory=dict)  # faces that cannot be edited, with the reason
    held: dict[int, float] = field(default_factory=dict)  # targets asked past their limit -> the strength shown
    prepare_ms: float = 0.0
    render_ms: float = 0.0  # every face's render and blend together


def prepare_face(editor, rgb: np.ndarray, faces: Sequence, index: int, cache: Mapping[int, object],
                 outcome: RenderOutcome):
    """The face's prepared state: from ``cache``, from this job, or prepared now (recorded in ``outcome``).
    None when the core refuses the face; its reason goes to ``outcome.blocked``, so other faces still render."""
    prepared = cache.get(index) or outcome.prepared.get(index)
    if prepared is not None:
        return prepared
    if index in outcome.blocked:
        return None
    start = time.perf_counter()
    try:
        prepared = editor.prepare(rgb, faces[index], index)
    except KeepSmilingError as exc:
        outcome.blocked[index] = str(exc)
        return None
    finally:
        outcome.prepare_ms += (time.perf_counter() - start) * 1000
    outcome.prepared[index] = prepared
    return prepared


def held_at(prepared, alpha: float) -> float | None:
    """The strength a face is rendered at when ``alpha`` lies past its limits (``alpha_limits``: where its
    mouth would fold or bend further than real mouths), None when ``alpha`` is within them. Every editor's
    ``render`` clips to those limits; this only says so, so the window and the CLI can tell the user why
    the face stopped changing."""
    limits = getattr(prepared, "alpha_limits", None)
    if limits is None:
        return None
    shown = min(max(float(alpha), float(limits[0])), float(limits[1]))
    return shown if shown != float(alpha) else None


def render_edits(editor, rgb: np.ndarray, edits: Iterable[tuple[object, float]], box: Box | None = None
                 ) -> np.ndarray:
    """The photo (or its ``box``) with every (prepared face, strength) edit blended in, in face order.

    Each face renders onto the pixels the earlier faces left, so overlapping edits stack the same way
    wherever this runs. ``box`` must hold every edit's region; the result is a new array of the box."""
    height, width = rgb.shape[:2]
    bx0, by0, bx1, by1 = box if box is not None else (0, 0, width, height)
    out = rgb[by0:by1, bx0:bx1].copy()
    for prepared, alpha in sorted(edits, key=lambda edit: edit[0].face_index):
        x0, y0, x1, y1 = prepared.region
        if x0 < bx0 or y0 < by0 or x1 > bx1 or y1 > by1:
            raise ValueError(f"face {prepared.face_index}'s region {prepared.region} is outside the box {box}")
        region = out[y0 - by0:y1 - by0, x0 - bx0:x1 - bx0]
        region[...] = editor.render(prepared, float(alpha), base=region)
    return out


def overlap_groups(regions: Mapping[int, Box]) -> list[list[int]]:
    """Faces whose regions overlap, directly or through others (each group sorted, groups by first face)."""
    groups: list[list[int]] = []
    for index in sorted(regions):
        joined = [g for g in groups if any(overlaps(regions[index], regions[other]) for other in g)]
        merged = sorted({index, *(i for g in joined for i in g)})
        groups = [g for g in groups if g not in joined] + [merged]
    return sorted(groups)


def overlaps(a: Box, b: Box) -> bool:
    """Two regions share at least one pixel."""
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _union(boxes: Iterable[Box]) -> Box:
    boxes = list(boxes)
    return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))


def render_patches(editor, rgb: np.ndarray, faces: Sequence, alphas: Mapping[int, float], targets: Iterable[int],
                   cache: Mapping[int, object]) -> RenderOutcome:
    """Screen patches for the ``targets`` among the smiling faces ``alphas`` (each at its own strength).

    A target is rendered with every smiling face its region overlaps (they all get new patches); other
    faces are left alone, so moving one face's slider re-renders that face only unless it overlaps
    another. Faces not in ``cache`` are prepared here and handed back in ``outcome.prepared``."""
    alphas = {int(i): float(a) for i, a in alphas.items()}
    targets = sorted({int(i) for i in targets} & alphas.keys())
    outcome = RenderOutcome(alphas={i: alphas[i] for i in targets})
    prepared = {}
    for index in sorted(alphas):  # every smiling face's region decides the groups (cached ones cost nothing)
        face = prepare_face(editor, rgb, faces, index, cache, outcome)
        if face is not None:
            prepared[index] = face
    for group in overlap_groups({i: p.region for i, p in prepared.items()}):
        if not set(group) & set(targets):
            continue
        box = _union(prepared[i].region for i in group)
        start = time.perf_counter()
        composed = render_edits(editor, rgb, [(prepared[i], alphas[i]) for i in group], box)
        outcome.render_ms += (time.perf_counter() - start) * 1000
        for index in group:
            x0, y0, x1, y1 = prepared[index].region
            outcome.patches[index] = (x0, y0, composed[y0 - box[1]:y1 - box[1], x0 - box[0]:x1 - box[0]].copy())
            outcome.alphas[index] = alphas[index]
            if (shown := held_at(prepared[index], alphas[index])) is not None:
                outcome.held[index] = shown
    return outcome


def compose_photo(editor, rgb: np.ndarray, faces: Sequence, alphas: Mapping[int, float],
                  cache: Mapping[int, object] | None = None, outcome: RenderOutcome | None = None) -> np.ndarray:
    """The whole photo with each face in ``alphas`` at its own strength: what Save and the CLI write.
    Faces the core refuses are left as they are (their reasons in ``outcome.blocked`` when given)."""
    outcome = outcome if outcome is not None else RenderOutcome()
    cache = cache or {}
    edits = []
    for index in sorted(alphas):
        prepared = prepare_face(editor, rgb, faces, index, cache, outcome)
        if prepared is not None:
            edits.append((prepared, float(alphas[index])))
    return render_edits(editor, rgb, edits)
