"""``keepsmiling evaluate-photos``: judge finished photos the way a person sees them.

Every photo goes through exactly the path of the app and of ``keepsmiling smile``: detection (cached per
photo), ``open_editor``, ``prepare`` once per face, ``apply_all`` at each strength — whole photo in,
whole photo out. The finished photo is then judged by a face-level smile judge that no training loss
uses, and measured for realism on the photo's own pixels (``photo_measures``) and by a fresh network
that tries to tell edited faces from real smiling ones (``two_sample``). A ``none`` model (the photo
unchanged) is measured the same way, so every number can be read against doing nothing.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from keepsmiling_core.compositing.detail import skin_detail, teeth_detail
from keepsmiling_core.errors import EditError, ImageReadError, KeepSmilingError
from keepsmiling_core.evaluation.photo_measures import (
    LIPS_PARTED,
    face_areas,
    points_read_back,
    ring_delta_e,
    sharpness_kept,
    untouched_share,
)
from keepsmiling_core.evaluation.photo_sets import LabelledPhoto

DEFAULT_STRENGTHS = (-1.0, 0.0, 0.5, 1.0, 1.5, 2.0)
SHEET_STRENGTHS = (0.5, 1.0, 2.0)
DETECT_STRENGTH = 1.0
LARGE_CROP_FACTOR = 3.0     # a face is "large" when the network crop is stretched ≥ 3× to cover it
NETWORK_CROP = 64


@dataclass
class PhotoEvalConfig:
    photos: list[LabelledPhoto]                 # the labelled set (success, removal, detectability)
    models: list[str]                           # "none", or model folders for ``open_editor``
    strengths: tuple[float, ...] = DEFAULT_STRENGTHS
    large: list[LabelledPhoto] = field(default_factory=list)   # extra high-resolution photos (realism only)
    cache_dir: Path | None = None
    judge: Path | None = None                   # None: the shipped face judge
    sheet_photos: int = 24
    seed: int = 0
    detectability: bool = True
    progress: bool = True
    device: str | None = None
    # Where the judge's view and the detectability crops are aligned: on the landmarks dlib finds on the
    # finished photo ("finished"), exactly as every real photo is cropped, or on the input photo's ("input").
    # With "input" an edited mouth sits where no real smile's does in its crop - its corners moved away from
    # the points the crop was aligned on - which a critic can learn whatever the edit looks like.
    align: str = "finished"


class UnchangedPhoto:
    """The 'none' baseline: every found face is 'edited' into itself."""

    setup = "none"

    def prepare(self, photo: np.ndarray, face, face_index: int = 0):
        return _Untouched(region=(0, 0, 0, 0), face=face)

    def apply_all(self, photo: np.ndarray, pairs) -> np.ndarray:
        return photo.copy()


@dataclass
class _Untouched:
    region: tuple[int, int, int, int]
    face: object


@dataclass
class _Finished:
    """What one model did to one photo at every strength (the views the judge and the test read)."""

    photo: LabelledPhoto
    index: int                      # position in the list of photos with a face
    extra: bool                     # from the unlabelled high-resolution set (realism only)
    large: bool
    views: dict[float, np.ndarray] = field(default_factory=dict)      # judge's face views
    detect_crop: np.ndarray | None = None                             # network-sized mouth crop at DETECT_STRENGTH
    sharpness: dict[float, float] = field(default_factory=dict)
    ring: dict[float, tuple[float, float]] = field(default_factory=dict)
    untouched: dict[float, float] = field(default_factory=dict)
    parting: dict[float, float] = field(default_factory=dict)         # lips parted, in mouth widths
    teeth: dict[float, float | None] = field(default_factory=dict)    # teeth detail where the lips part
    tiles: dict[float, np.ndarray] = field(default_factory=dict)      # native-resolution lower faces


def reason_key(message: str) -> str:
    """An EditError's message with its numbers removed, so refusals of one kind count together."""
    return re.sub(r"\s+", " ", re.sub(r"-?\d+(\.\d+)?", "N", message)).strip()[:120]


def model_label(model: str) -> str:
    if model == "none":
        return "none (photo unchanged)"
    path = Path(model)
    return f"{path.name}" if path.name else str(path)


def largest_face(faces: list):
    return max(faces, key=lambda f: (f.box[2] - f.box[0]) * (f.box[3] - f.box[1]))


def aligned_landmarks(face, read_back: np.ndarray, align: str) -> np.ndarray:
    """The 5 landmarks a finished photo's judge view and mouth crop are aligned on (``PhotoEvalConfig.align``):
    from the 68 points dlib reads on the finished photo (``read_back``), or the input photo's."""
    from keepsmiling_core.detection.face import five_points_from_68

    if align == "input":
        return np.asarray(face.landmarks, np.float32)
    if align != "finished":
        raise KeepSmilingError(f"Unknown alignment {align!r}: use 'finished' or 'input'.")
    return five_points_from_68(read_back)


def crop_footprint(landmarks: np.ndarray) -> float:
    """How many photo pixels the network's crop side covers for this face."""
    from keepsmiling_core.data.crops import CropConfig, crop_matrix

    matrix = crop_matrix(np.asarray(landmarks, np.float32), CropConfig(size=NETWORK_CROP))
    return NETWORK_CROP / float(np.sqrt(abs(np.linalg.det(matrix[:, :2]))))


def evaluate_photos(config: PhotoEvalConfig) -> tuple[dict, dict]:
    """(report, sheets): the JSON-ready report and, per model, the contact-sheet tiles."""
    from tqdm import tqdm

    from keepsmiling_core.data.crops import CropConfig, crop_mouth
    from keepsmiling_core.editing.smile_shape import lip_opening
    from keepsmiling_core.evaluation.detections import cached_faces
    from keepsmiling_core.evaluation.face_judge import FaceJudge, face_view
    from keepsmiling_core.imageio import read_photo

    started = time.perf_counter()
    strengths = tuple(sorted(set(float(a) for a in config.strengths) | {0.0, DETECT_STRENGTH}))
    judge = FaceJudge.load(config.judge, device=config.device)
    everything = [(p, False) for p in config.photos] + [(p, True) for p in config.large]
    # Detection once per photo (cached on disk too): the same faces for every model.
    found: list[tuple[LabelledPhoto, bool, object]] = []
    coverage = Counter(given=len(config.photos), large_given=len(config.large))
    for photo, is_extra in tqdm(everything, desc="faces", unit="photo", disable=not config.progress):
        try:
            faces = cached_faces(photo.path, config.cache_dir)
        except ImageReadError:
            coverage["unreadable" if not is_extra else "large_unreadable"] += 1
            continue
        if not faces:
            coverage["no_face" if not is_extra else "large_no_face"] += 1
            continue
        found.append((photo, is_extra, largest_face(faces)))
    rng = np.random.default_rng(config.seed)
    labelled_found = [i for i, (_, extra, _) in enumerate(found) if not extra]
    non_smiling = [i for i in labelled_found if found[i][0].smiling is False]
    sheet_rows = set(rng.permutation(non_smiling)[:config.sheet_photos].tolist()) | \
        {i for i, (_, extra, _) in enumerate(found) if extra}

    report: dict = {"photos": {"given": len(config.photos), "face_found": len(labelled_found),
                               "no_face": coverage["no_face"], "unreadable": coverage["unreadable"],
                               "large_given": len(config.large),
                               "large_face_found": len(found) - len(labelled_found)},
                    "strengths": list(strengths), "models": {}}
    sheets: dict[str, list] = {}
    crop_config = CropConfig(size=NETWORK_CROP)
    originals: dict[int, np.ndarray] = {}   # unedited mouth crops, cut once: the real faces of the two-sample tests
    for model in config.models:
        editor = UnchangedPhoto() if model == "none" else _open(model, config.device)
        refused: Counter = Counter()
        results: list[_Finished] = []
        for index, (photo, is_extra, face) in enumerate(tqdm(found, desc=model_label(model), unit="photo",
                                                             disable=not config.progress)):
            rgb = read_photo(photo.path).rgb
            if index not in originals:   # real faces, cut as every finished photo is (``PhotoEvalConfig.align``)
                real = aligned_landmarks(face, points_read_back(rgb, face.box), config.align)
                originals[index] = crop_mouth(rgb, real, crop_config).image
            try:
                prepared = editor.prepare(rgb, face, 0)
            except EditError as exc:
                if not is_extra:
                    refused[reason_key(str(exc))] += 1
                continue
            large = crop_footprint(face.landmarks) >= LARGE_CROP_FACTOR * NETWORK_CROP
            done = _Finished(photo=photo, index=index, extra=is_extra, large=large or is_extra)
            areas = face_areas(face.points, rgb.shape) if face.points is not None else None
            on_sheet = index in sheet_rows and areas is not None
            skin = skin_detail(rgb, face.points) if face.points is not None else 0.0
            for alpha in sorted(set(strengths) | (set(SHEET_STRENGTHS) if on_sheet else set())):
                finished = editor.apply_all(rgb, [(prepared, alpha)])
                if on_sheet and (alpha in SHEET_STRENGTHS or alpha == 0.0):
                    x0, y0, x1, y1 = areas.box
                    done.tiles[alpha] = finished[y0:y1, x0:x1].copy()
                if alpha not in strengths:
                    continue
                back = points_read_back(finished, face.box)
                aligned = aligned_landmarks(face, back, config.align)
                done.views[alpha] = face_view(finished, aligned)
                if alpha == DETECT_STRENGTH:
                    done.detect_crop = crop_mouth(finished, aligned, crop_config).image
                done.untouched[alpha] = untouched_share(rgb, finished, prepared.region)
                if not is_extra:
                    done.parting[alpha] = lip_opening(back)
                    if done.parting[alpha] >= LIPS_PARTED:
                        done.teeth[alpha] = teeth_detail(finished, back, skin)
                if areas is not None:
                    done.sharpness[alpha] = sharpness_kept(rgb, finished, areas)
                    done.ring[alpha] = ring_delta_e(rgb, finished, areas)
            results.append(done)
        report["models"][model_label(model)] = _summarise(results, refused, judge, strengths, originals, config)
        sheets[model_label(model)] = [(r.photo, [r.tiles[a] for a in (0.0, *SHEET_STRENGTHS)])
                                      for r in results if r.tiles]
    report["judge"] = _judge_quality(report)
    report["detectability_reference"] = _reference_detectability(found, originals, config) \
        if config.detectability else None
    report["seconds"] = round(time.perf_counter() - started, 1)
    return report, sheets


def _open(model: str, device):
    from keepsmiling_core.editing.backends import open_editor

    return open_editor(model, device=device)


def _rate(values: list[bool]) -> float | None:
    return None if not values else round(float(np.mean(values)), 4)


def _stat(values: list[float], fn) -> float | None:
    finite = [v for v in values if v is not None and np.isfinite(v)]
    return None if not finite else round(float(fn(finite)), 4)


def _summarise(results: list[_Finished], refused: Counter, judge, strengths, originals: dict[int, np.ndarray],
               config) -> dict:
    from keepsmiling_core.evaluation.two_sample import detectability

    labelled = [r for r in results if not r.extra and r.photo.smiling is not None]
    found = len(labelled) + sum(refused.values())
    summary: dict = {"coverage": {"faces_found": found, "edited": len(labelled), "refused": sum(refused.values()),
                                  "refused_reasons": dict(refused.most_common()),
                                  "edited_share": None if not found else round(len(labelled) / found, 4)},
                     "by_strength": {}}
    probabilities = {}
    for alpha in strengths:
        views = np.stack([r.views[alpha] for r in labelled]) if labelled else None
        probabilities[alpha] = judge.smile_probability(views) if views is not None else np.zeros(0)
    summary["_probabilities"] = {str(a): p.round(4).tolist() for a, p in probabilities.items()}
    summary["_labels"] = [bool(r.photo.smiling) for r in labelled]
    summary["_parting"] = [r.parting.get(0.0) for r in labelled]
    smiling = np.array([bool(r.photo.smiling) for r in labelled], bool)
    for alpha in strengths:
        p = probabilities[alpha]
        row: dict = {
            # non-smiling photos made to smile (α > 0) / smiling photos whose smile is removed (α < 0)
            "success": _rate(list(p[~smiling] > 0.5)) if alpha > 0 else None,
            "removal": _rate(list(p[smiling] < 0.5)) if alpha < 0 else None,
            "judged_smiling_non_smiling_photos": _rate(list(p[~smiling] > 0.5)),
            "judged_smiling_smiling_photos": _rate(list(p[smiling] > 0.5)),
        }
        for size, chosen in (("small", [r for r in results if not r.large]), ("large", [r for r in results if r.large])):
            row[f"sharpness_{size}_median"] = _stat([r.sharpness.get(alpha) for r in chosen], np.median)
            row[f"sharpness_{size}_p10"] = _stat([r.sharpness.get(alpha) for r in chosen], lambda v: np.percentile(v, 10))
            row[f"faces_{size}"] = len(chosen)
        ring = [r.ring.get(alpha, (np.nan, np.nan)) for r in results]
        row["ring_delta_e_mean"] = _stat([w for w, _ in ring], np.mean)
        row["ring_delta_e_p90"] = _stat([w for w, _ in ring], lambda v: np.percentile(v, 90))
        row["worst_sector_delta_e_mean"] = _stat([s for _, s in ring], np.mean)
        row["worst_sector_delta_e_p90"] = _stat([s for _, s in ring], lambda v: np.percentile(v, 90))
        row["untouched_min"] = _stat([r.untouched.get(alpha) for r in results], np.min)
        parting = [r.parting.get(alpha) for r in labelled if r.photo.smiling is False]
        row["lips_parting_median_non_smiling"] = _stat(parting, np.median)
        row["lips_parted_non_smiling"] = _stat([v >= LIPS_PARTED for v in parting if v is not None], np.mean)
        # What shows between the parted lips, as detailed as the skin around them? (Real smiles at α = 0 are
        # the reference: a blurred or flat row of teeth reads well below them.)
        for name, wanted in (("non_smiling", False), ("smiling", True)):
            row[f"teeth_detail_median_{name}"] = _stat(
                [r.teeth.get(alpha) for r in labelled if r.photo.smiling is wanted], np.median)
        summary["by_strength"][str(alpha)] = row
    if config.detectability:
        edited = [r.detect_crop for r in labelled if r.photo.smiling is False]
        real = [originals[r.index] for r in labelled if r.photo.smiling is True]
        try:
            result = detectability(np.stack(edited), np.stack(real), seed=config.seed)
            summary["detectability"] = {"strength": DETECT_STRENGTH, "accuracy": round(result.accuracy, 4),
                                        "stderr": round(result.stderr, 4), "per_class": result.per_class}
        except (ValueError, KeepSmilingError) as exc:
            summary["detectability"] = {"error": str(exc)}
    return summary


def _judge_quality(report: dict) -> dict | None:
    """The judge's own accuracy on the real, unedited photos (the 'none' model's α = 0, or any α = 0)."""
    for summary in report["models"].values():
        p = summary.get("_probabilities", {}).get("0.0")
        labels = summary.get("_labels")
        if p is None or not labels:
            continue
        p, y = np.asarray(p), np.asarray(labels, bool)
        said = p > 0.5
        parted = np.asarray([v is not None and v >= LIPS_PARTED for v in summary.get("_parting", [])], bool)
        quality = {"photos": int(len(y)), "accuracy": round(float((said == y).mean()), 4),
                   "smile_recall": round(float(said[y].mean()), 4) if y.any() else None,
                   "false_positive_rate": round(float(said[~y].mean()), 4) if (~y).any() else None}
        if len(parted) == len(y) and y.any():
            # What an edit's shape must reach: real smiles with the lips parted, and how the judge reads
            # the closed-lip ones.
            quality["smiles_lips_parted"] = round(float(parted[y].mean()), 4)
            quality["smile_recall_closed_lips"] = round(float(said[y & ~parted].mean()), 4) if (y & ~parted).any() else None
            quality["smile_recall_parted_lips"] = round(float(said[y & parted].mean()), 4) if (y & parted).any() else None
        return quality
    return None


def _reference_detectability(found, originals: dict[int, np.ndarray], config) -> dict | None:
    """Real smiling faces against other real smiling faces: what 'indistinguishable' measures as."""
    from keepsmiling_core.evaluation.two_sample import detectability

    crops = [originals[i] for i, (p, extra, _) in enumerate(found)
             if not extra and p.smiling is True and i in originals]
    if len(crops) < 20:
        return None
    order = np.random.default_rng(config.seed + 1).permutation(len(crops))
    half = len(crops) // 2
    result = detectability(np.stack([crops[i] for i in order[:half]]),
                           np.stack([crops[i] for i in order[half:2 * half]]), seed=config.seed)
    return {"accuracy": round(result.accuracy, 4), "stderr": round(result.stderr, 4), "per_class": result.per_class}
