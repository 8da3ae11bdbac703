"""Training the face-level smile judge (``face_judge.py``) and measuring it on GENKI's eval part.

Data: the GENKI-4K-dev ``"judge"`` part (its largest detected face per photo, found exactly as the
app finds faces; photos without a face are skipped and counted) and MTFL training + testing (their
annotated 5 landmarks). A stratified slice of the judge part is held out for model selection; the
``"eval"`` part is touched only once, at the end, to report the judge's accuracy on real unedited
photos. Nothing trains or selects on it.

Views are computed once (``context``× wider than the judge's view, so jittered views can be cut out
of them) and kept as one ``.npy`` cache per data set; a run then never decodes a JPEG again.

Augmentation, all batched in torch: flip, a small similarity jitter (the landmarks of a 60 px GENKI
face are a pixel or two off), colour/brightness/contrast jitter and grey, random down-then-up scaling
(GENKI faces are 60–150 px, phone faces 400 px), and lip blobs: a bright, dark or stain-coloured soft
ellipse pasted over the lips of a *non-smiling* face keeps it non-smiling, so the judge cannot learn
"bright mouth = smile", which is what a blob-painting editor would exploit.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from keepsmiling_core.atomic import atomic_write, atomic_write_text
from keepsmiling_core.data.genki import genki_photos
from keepsmiling_core.errors import DatasetError, KeepSmilingError, TrainingError
from keepsmiling_core.evaluation.classifier import stratified_holdout
from keepsmiling_core.evaluation.detections import cached_faces
from keepsmiling_core.evaluation.face_judge import (
    FACE_VIEW_SIZE,
    JUDGE_SETUP,
    VIEW_VERSION,
    FaceJudge,
    face_view,
    view_points,
)
from keepsmiling_core.imageio import read_photo

# Stored training views are this much wider than the judge's view (same pixel scale), so the jitter
# never reaches past their border.
CONTEXT = 1.25
REPORT_FILE = "judge.json"
BLOB_KINDS = ("bright", "dark", "stain")

Progress = Callable[[str], None]


@dataclass
class FaceJudgeConfig:
    genki: Path                     # GENKI-4K-dev folder (labels.txt + files/)
    out: Path                       # model folder to write (checkpoint + judge.json)
    mtfl: Path | None = None        # MTFL folder; None trains on GENKI's judge part alone
    steps: int = 1500               # ~10 min on 2 shared CPU cores
    batch_size: int = 64
    lr: float = 3e-3
    size: int = FACE_VIEW_SIZE
    width: int = 16                 # SmileClassifier width (first block's channels); 32 is 3× slower
    seed: int = 0
    device: str | None = None
    cache: Path | None = None       # detections + view caches; None: the user cache folder
    genki_share: float = 0.35       # fraction of each batch drawn from GENKI (the target domain)
    val_fraction: float = 0.2       # of the judge part, held out for model selection
    eval_every: int = 100
    blob_fraction: float = 0.15     # of non-smiling training faces that get a lip blob
    ema: float = 0.995              # weight average that is evaluated and saved
    half: bool = True               # float16 weights (what ships)
    mtfl_limit: int | None = None   # per MTFL split, for tiny runs
    genki_limit: int | None = None  # photos of each GENKI part, for tiny runs

    def check(self) -> None:
        """TrainingError naming the first setting that cannot work."""
        problems = [
            (self.steps >= 1, f"steps must be at least 1, got {self.steps}"),
            (self.batch_size >= 2, f"batch size must be at least 2, got {self.batch_size}"),
            (self.size in (32, 64, 128), f"the view size must be 32, 64 or 128 px, got {self.size}"),
            (self.width >= 4, f"the network width must be at least 4, got {self.width}"),
            (0.0 < self.genki_share <= 1.0, f"genki_share must be in (0, 1], got {self.genki_share}"),
            (0.0 < self.val_fraction < 1.0, f"val_fraction must be in (0, 1), got {self.val_fraction}"),
            (0.0 <= self.blob_fraction <= 1.0, f"blob fraction must be in [0, 1], got {self.blob_fraction}"),
            (self.eval_every >= 1, f"eval_every must be at least 1, got {self.eval_every}"),
        ]
        for ok, message in problems:
            if not ok:
                raise TrainingError(f"Cannot train the face judge: {message}.")


@dataclass
class FaceJudgeReport:
    path: Path
    step: int                       # the selected step
    steps: int
    seconds: float
    counts: dict[str, int]
    validation: dict[str, float]    # held-out slice of the judge part, at the selected step
    evaluation: dict[str, Any]      # GENKI eval part, real unedited photos
    history: list[dict[str, float]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["path"] = str(self.path)
        return data

    def summary(self) -> str:
        e = self.evaluation
        return (f"Face judge saved to {self.path} (step {self.step} of {self.steps}, {self.seconds / 60:.1f} min).\n"
                f"GENKI eval part: {e['photos']} photos, {e['faces_found']} with a face; "
                f"accuracy {e['accuracy']:.1%}, balanced accuracy {e['balanced_accuracy']:.1%}, "
                f"smile recall {e['smile_recall']:.1%}, false-positive rate {e['false_positive_rate']:.1%}; "
                f"non-smiling faces with a lip blob called smiling: {e['blob_false_positive_rate']:.1%}.")


# ------------------------------------------------------------------------------------------ metrics


def judge_metrics(probability: np.ndarray, smiling: np.ndarray, threshold: float = 0.5) -> dict[str, float]:
    """Accuracy, smile recall, false-positive rate (non-smiling called smiling), balanced accuracy."""
    called = np.asarray(probability) > threshold
    smiling = np.asarray(smiling, bool)
    recall = float(called[smiling].mean()) if smiling.any() else float("nan")
    fpr = float(called[~smiling].mean()) if (~smiling).any() else float("nan")
    return {"accuracy": float((called == smiling).mean()) if len(smiling) else float("nan"),
            "smile_recall": recall, "false_positive_rate": fpr,
            "balanced_accuracy": (recall + 1.0 - fpr) / 2, "count": int(len(smiling))}


# ---------------------------------------------------------------------------------------- the data


@dataclass
class ViewSet:
    """Face views with their labels and the lips' position in view pixels (for blobs)."""

    views: np.ndarray               # (N, S, S, 3) uint8
    smiling: np.ndarray             # (N,) bool
    lips: np.ndarray                # (N, 3) float32: mouth-corner midpoint x, y and corner distance
    names: list[str]

    def __len__(self) -> int:
        return int(len(self.smiling))

    def subset(self, idx: np.ndarray) -> ViewSet:
        return ViewSet(self.views[idx], self.smiling[idx], self.lips[idx], [self.names[i] for i in idx])


def largest_face(faces: Sequence[Any]) -> Any | None:
    """The face with the largest box (the subject of a GENKI photo), or None."""
    if not faces:
        return None
    return max(faces, key=lambda f: (f.box[2] - f.box[0]) * (f.box[3] - f.box[1]))


def _lips(landmarks: np.ndarray, size: int, context: float) -> np.ndarray:
    pts = view_points(landmarks, size, context)
    mid = (pts[3] + pts[4]) / 2
    return np.array([mid[0], mid[1], np.linalg.norm(pts[4] - pts[3])], np.float32)


def _build_views(items: list[tuple[str, Path, np.ndarray, bool]], size: int, context: float) -> ViewSet:
    out = round(size * context)
    views = np.empty((len(items), out, out, 3), np.uint8)
    lips = np.empty((len(items), 3), np.float32)
    for i, (_name, path, landmarks, _smiling) in enumerate(items):
        views[i] = face_view(read_photo(path).rgb, landmarks, out, context=context)
        lips[i] = _lips(landmarks, out, context)
    return ViewSet(views, np.array([s for *_, s in items], bool), lips, [n for n, *_ in items])


def cached_views(items: list[tuple[str, Path, np.ndarray, bool]], folder: Path, tag: str, size: int,
                 context: float, progress: Progress | None = None) -> ViewSet:
    """Views of ``items`` (name, photo, landmarks, smiling), from ``folder`` when built before with
    the same items and view geometry, else built and stored (atomically) there."""
    key = hashlib.sha256(json.dumps(
        [VIEW_VERSION, size, context, [(n, str(p), np.round(lm, 2).tolist(), s) for n, p, lm, s in items]]
    ).encode()).hexdigest()[:16]
    base = folder / f"views_{tag}_{size}_{key}"
    files = {name: base.with_name(f"{base.name}.{name}.npy") for name in ("views", "lips", "smiling")}
    if all(f.is_file() for f in files.values()):
        try:
            return ViewSet(np.load(files["views"]), np.load(files["smiling"]), np.load(files["lips"]),
                           [n for n, *_ in items])
        except (OSError, ValueError):
            pass  # a damaged cache is rebuilt
    if progress:
        progress(f"Computing {len(items)} {tag} face views (once; cached in {folder}).")
    data = _build_views(items, size, context)
    folder.mkdir(parents=True, exist_ok=True)
    for name, array in (("views", data.views), ("lips", data.lips), ("smiling", data.smiling)):
        atomic_write(files[name], lambda buffer, a=array: np.save(buffer, a))
    return data


def genki_items(root: Path, part: str, detections: Path | None, limit: int | None = None,
                progress: bool = False) -> tuple[list[tuple[str, Path, np.ndarray, bool]], dict[str, int]]:
    """(items, counts) of one GENKI part: the largest detected face of each photo; no-face photos counted.

    ``limit``: that many photos, half of each class (tiny runs and tests)."""
    photos = genki_photos(root, part)
    if limit:  # the files are sorted by label (smiling first), so take both classes
        smiling = [p for p in photos if p.smiling][: (limit + 1) // 2]
        photos = sorted(smiling + [p for p in photos if not p.smiling][: limit // 2], key=lambda p: p.number)
    iterator: Any = photos
    if progress:
        from tqdm import tqdm

        iterator = tqdm(photos, desc=f"faces of GENKI {part}", unit="photo", leave=False)
    items = []
    for photo in iterator:
        face = largest_face(cached_faces(photo.path, detections))
        if face is not None:
            items.append((photo.path.name, photo.path, np.asarray(face.landmarks, np.float32), photo.smiling))
    counts = {"photos": len(photos), "faces_found": len(items), "no_face": len(photos) - len(items),
              "smiling": sum(p.smiling for p in photos), "not_smiling": sum(not p.smiling for p in photos)}
    return items, counts


def mtfl_items(root: Path, limit: int | None = None) -> list[tuple[str, Path, np.ndarray, bool]]:
    """MTFL training + testing with their annotated landmarks (``limit`` faces per split, both classes)."""
    from keepsmiling_core.data.mtfl import load_mtfl

    items = []
    for split in ("training", "testing"):
        records = load_mtfl(root, split)
        if limit:
            smiling = [r for r in records if r.smiling][: (limit + 1) // 2]
            records = smiling + [r for r in records if not r.smiling][: limit // 2]
        items += [(f"{split}/{r.meta['file']}", r.image_path, r.landmarks, r.smiling) for r in records]
    return items


# ------------------------------------------------------------------------------------ augmentation


def jitter_views(views: torch.Tensor, lips: torch.Tensor, size: int, gen: torch.Generator,
                 jitter: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """Cut ``size`` views out of the wider stored views with a random flip/scale/rotation/shift.

    Returns the views and the lips (x, y, width) moved along, in output pixels. ``jitter=False``
    cuts the plain centre (what ``face_view`` gives), for validation.
    """
    n, _, big, _ = views.shape
    ratio = size / big
    if jitter:
        scale = 1 + 0.12 * (torch.rand(n, generator=gen) - 0.5)
        angle = math.radians(12) * (torch.rand(n, generator=gen) - 0.5)
        shift = 0.08 * (torch.rand(n, 2, generator=gen) - 0.5)
        flip = torch.where(torch.rand(n, generator=gen) < 0.5, -1.0, 1.0)
    else:
        scale, angle = torch.ones(n), torch.zeros(n)
        shift, flip = torch.zeros(n, 2), torch.ones(n)
    cos, sin = torch.cos(angle), torch.sin(angle)
    # theta maps output normalised coordinates to input normalised coordinates.
    a = ratio / scale
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0] = a * cos * flip
    theta[:, 0, 1] = -a * sin
    theta[:, 1, 0] = a * sin * flip
    theta[:, 1, 1] = a * cos
    theta[:, :, 2] = shift
    grid = F.affine_grid(theta, (n, 3, size, size), align_corners=False)
    out = F.grid_sample(views, grid, mode="bilinear", padding_mode="border", align_corners=False)
    # Lips: input pixels -> input normalised -> inverse theta -> output normalised -> output pixels.
    src = (lips[:, :2] + 0.5) * 2 / big - 1
    inv = torch.linalg.inv(torch.cat([theta, torch.tensor([0.0, 0.0, 1.0]).expand(n, 1, 3)], 1))
    dst = torch.einsum("nij,nj->ni", inv[:, :2, :2], src) + inv[:, :2, 2]
    moved = torch.stack([(dst[:, 0] + 1) * size / 2 - 0.5, (dst[:, 1] + 1) * size / 2 - 0.5,
                         lips[:, 2] * size * scale / (big * ratio)], 1)
    return out, moved


def paste_lip_blobs(views: torch.Tensor, lips: torch.Tensor, gen: torch.Generator,
                    kinds: Sequence[str] | None = None) -> torch.Tensor:
    """Soft ellipses over the lips of (N, 3, S, S) views in [-1, 1]: bright ("teeth" glow), dark
    (gash, blotch) or a stain (brown, orange, grey) — the artefacts issue 12 saw editors paint.
    ``lips`` (N, 3): lips centre x, y and mouth-corner distance in view pixels."""
    n, _, size, _ = views.shape
    if n == 0:
        return views
    if kinds is None:
        kinds = [BLOB_KINDS[int(i)] for i in torch.randint(len(BLOB_KINDS), (n,), generator=gen)]
    colour = torch.empty(n, 3)
    for i, kind in enumerate(kinds):
        if kind == "bright":
            colour[i] = 0.75 + 0.25 * torch.rand(1, generator=gen) - 0.1 * torch.rand(3, generator=gen)
        elif kind == "dark":
            colour[i] = -1 + 0.35 * torch.rand(1, generator=gen) + 0.1 * torch.rand(3, generator=gen)
        else:
            stain = torch.tensor([[0.1, -0.3, -0.6], [0.5, 0.0, -0.6], [-0.1, -0.1, -0.1], [0.3, -0.1, -0.3]])
            colour[i] = stain[int(torch.randint(len(stain), (1,), generator=gen))] + 0.2 * (torch.rand(3, generator=gen) - 0.5)
    width = lips[:, 2].clamp(min=size * 0.15)
    semi_x = width * (0.45 + 0.3 * torch.rand(n, generator=gen))
    semi_y = width * (0.12 + 0.2 * torch.rand(n, generator=gen))
    cx = lips[:, 0] + 0.1 * width * (torch.rand(n, generator=gen) - 0.5)
    cy = lips[:, 1] + 0.2 * width * (torch.rand(n, generator=gen) - 0.5)
    alpha = 0.6 + 0.4 * torch.rand(n, generator=gen)
    coords = torch.arange(size, dtype=torch.float32)
    dx = (coords[None, None, :] - cx[:, None, None]) / semi_x[:, None, None]
    dy = (coords[None, :, None] - cy[:, None, None]) / semi_y[:, None, None]
    radius = torch.sqrt(dx**2 + dy**2)
    feather = 0.25
    mask = ((1 + feather - radius) / (2 * feather)).clamp(0, 1) * alpha[:, None, None]
    mask = mask[:, None].to(views.device)
    return views * (1 - mask) + colour[:, :, None, None].to(views.device) * mask


def photometric(views: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Colour, brightness and contrast jitter, some grey views, and random down-then-up scaling."""
    n, _, size, _ = views.shape
    gain = 1 + 0.25 * (torch.rand(n, 3, 1, 1, generator=gen) - 0.5)
    bias = 0.3 * (torch.rand(n, 1, 1, 1, generator=gen) - 0.5)
    contrast = 1 + 0.5 * (torch.rand(n, 1, 1, 1, generator=gen) - 0.5)
    mean = views.mean(dim=(1, 2, 3), keepdim=True)
    views = (views - mean) * contrast.to(views.device) + mean
    views = views * gain.to(views.device) + bias.to(views.device)
    grey = (torch.rand(n, generator=gen) < 0.1).to(views.device)
    views = torch.where(grey[:, None, None, None], views.mean(1, keepdim=True).expand_as(views), views)
    small = torch.rand(n, generator=gen) < 0.5
    if small.any():
        side = int(torch.randint(size // 4, size - 8, (1,), generator=gen))
        idx = torch.nonzero(small).flatten().to(views.device)
        low = F.interpolate(views[idx], size=(side, side), mode="area")
        views = views.index_copy(0, idx, F.interpolate(low, size=(size, size), mode="bilinear", align_corners=False))
    return views.clamp(-1, 1)


def to_float(views: np.ndarray) -> torch.Tensor:
    from keepsmiling_core.data.tensors import to_tensor

    return to_tensor(views)


# ------------------------------------------------------------------------------------------ training


def _probabilities(net: torch.nn.Module, views: torch.Tensor, device: torch.device, batch: int = 256) -> np.ndarray:
    net.eval()
    out = []
    with torch.inference_mode():
        for start in range(0, len(views), batch):
            out.append(torch.sigmoid(net(views[start:start + batch].to(device))).float().cpu().numpy())
    return np.concatenate(out) if out else np.zeros((0,), np.float32)


def blob_views(views: np.ndarray, lips: np.ndarray, seed: int) -> np.ndarray:
    """The same views with a lip blob each (kinds in turn), deterministic: the blob test set."""
    from keepsmiling_core.data.tensors import to_image

    gen = torch.Generator().manual_seed(seed)
    kinds = [BLOB_KINDS[i % len(BLOB_KINDS)] for i in range(len(views))]
    return to_image(paste_lip_blobs(to_float(views), torch.from_numpy(lips), gen, kinds))


def evaluate_judge(judge: FaceJudge, genki: Path, detections: Path | None, limit: int | None = None,
                   progress: bool = False) -> dict[str, Any]:
    """The judge on the real, unedited photos of GENKI's eval part (largest face each), plus the same
    non-smiling faces with a lip blob (how often a blob passes for a smile)."""
    items, counts = genki_items(genki, "eval", detections, limit, progress)
    if not items:
        raise DatasetError(f"No face was found in the GENKI eval photos of {genki}.")
    views = np.stack([face_view(read_photo(path).rgb, lm, judge.size) for _n, path, lm, _s in items])
    lips = np.stack([_lips(lm, judge.size, 1.0) for _n, _p, lm, _s in items])
    smiling = np.array([s for *_, s in items], bool)
    probability = judge.smile_probability(views)
    metrics = judge_metrics(probability, smiling)
    blobbed = judge.smile_probability(blob_views(views[~smiling], lips[~smiling], seed=12))
    return {"part": "eval", **counts, **metrics,
            "faces_smiling": int(smiling.sum()), "faces_not_smiling": int((~smiling).sum()),
            "blob_false_positive_rate": float((blobbed > 0.5).mean()) if len(blobbed) else float("nan"),
            "mean_probability_smiling": float(probability[smiling].mean()) if smiling.any() else float("nan"),
            "mean_probability_not_smiling": float(probability[~smiling].mean()) if (~smiling).any() else float("nan")}


def train_face_judge(config: FaceJudgeConfig, progress: Progress | None = None,
                     should_stop: Callable[[], bool] | None = None) -> FaceJudgeReport:
    """Train, select on the held-out judge slice, save to ``config.out``, measure on the eval part.

    ``progress`` gets one-line messages (data building, held-out accuracy at each evaluation).
    """
    from keepsmiling_core.data.tensors import to_tensor
    from keepsmiling_core.device import pick_device
    from keepsmiling_core.evaluation.detections import default_cache_dir
    from keepsmiling_core.models.checkpoint import save_checkpoint
    from keepsmiling_core.paths import user_cache_dir

    config.check()
    started = time.perf_counter()
    say = progress or (lambda _msg: None)
    device = pick_device(config.device)
    detections = Path(config.cache) / "detections" if config.cache else default_cache_dir()
    view_cache = Path(config.cache) / "judge_views" if config.cache else user_cache_dir() / "judge_views"
    torch.manual_seed(config.seed)
    gen = torch.Generator().manual_seed(config.seed)

    items, genki_counts = genki_items(Path(config.genki), "judge", detections, config.genki_limit,
                                      progress=progress is not None)
    if len(items) < 4:
        raise TrainingError(f"Only {len(items)} faces were found in GENKI's judge part; too few to train on.")
    genki = cached_views(items, view_cache, "genki-judge", config.size, CONTEXT, say)
    train_idx, held_idx = stratified_holdout(genki.smiling, config.val_fraction, config.seed)
    held = genki.subset(held_idx)
    sets = [genki.subset(train_idx)]
    shares = [config.genki_share]
    mtfl_count = 0
    if config.mtfl is not None:
        mtfl = cached_views(mtfl_items(Path(config.mtfl), config.mtfl_limit), view_cache, "mtfl",
                            config.size, CONTEXT, say)
        sets.append(mtfl)
        shares.append(1.0 - config.genki_share)
        mtfl_count = len(mtfl)
    else:
        shares = [1.0]
    pools = [(torch.from_numpy(s.views).permute(0, 3, 1, 2).contiguous(), torch.from_numpy(s.smiling),
              torch.from_numpy(s.lips)) for s in sets]
    held_views, _ = jitter_views(to_tensor(held.views), torch.from_numpy(held.lips), config.size, gen, jitter=False)
    all_smiling = np.concatenate([s.smiling for s in sets])
    if all_smiling.all() or not all_smiling.any():
        raise TrainingError("The judge's training data holds only one class.")

    from keepsmiling_core.models.registry import build_setup

    net = build_setup(JUDGE_SETUP, size=config.size, width=config.width)[JUDGE_SETUP].to(device)
    ema = copy.deepcopy(net).requires_grad_(False)
    opt = torch.optim.AdamW(net.parameters(), lr=config.lr, weight_decay=5e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=config.lr, total_steps=max(config.steps, 1),
                                                pct_start=0.1)
    loss_fn = torch.nn.BCEWithLogitsLoss()  # batches are drawn class-balanced, so no pos_weight
    counts_per_set = _split_batch(config.batch_size, shares)
    best: tuple[float, float, int, dict] | None = None
    history: list[dict[str, float]] = []
    step = 0
    while step < config.steps:
        if should_stop is not None and should_stop():
            break
        net.train()
        x, y = _batch(pools, counts_per_set, config, gen)
        loss = loss_fn(net(x.to(device)), y.to(device))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        step += 1
        _update_ema(ema, net, config.ema if step > 100 else 0.0)
        if step % config.eval_every == 0 or step == config.steps:
            p = _probabilities(ema, held_views, device)
            m = judge_metrics(p, held.smiling)
            nll = float(F.binary_cross_entropy(torch.from_numpy(p).clamp(1e-6, 1 - 1e-6),
                                               torch.from_numpy(held.smiling.astype(np.float32))))
            history.append({"step": step, "loss": float(loss.detach()), "held_out_balanced_accuracy": m["balanced_accuracy"],
                            "held_out_nll": nll})
            say(f"step {step}/{config.steps}: loss {float(loss.detach()):.3f}, held-out balanced accuracy "
                f"{m['balanced_accuracy']:.1%}, nll {nll:.3f}")
            key = (m["balanced_accuracy"], -nll)
            if best is None or key > best[:2]:
                best = (*key, step, copy.deepcopy(ema.state_dict()))
    if best is None:
        raise KeepSmilingError("Judge training was cancelled before its first evaluation.")
    ema.load_state_dict(best[3])
    ema.eval()
    best_step = best[2]
    threshold = balance_operating_point(ema, _probabilities(ema, held_views, device), held.smiling)
    say(f"Operating point balanced on the held-out slice: P > {threshold:.2f} of the raw network is now P > 0.5.")
    held_metrics = judge_metrics(_probabilities(ema, held_views, device), held.smiling)

    counts = {"genki_judge_photos": genki_counts["photos"], "genki_judge_faces": genki_counts["faces_found"],
              "genki_judge_no_face": genki_counts["no_face"], "genki_train_faces": int(len(train_idx)),
              "genki_held_out_faces": int(len(held_idx)), "mtfl_faces": mtfl_count}
    saved_config = {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(config).items()}
    extra = {"genki_split": "judge = number % 4 == 1 (trained and selected on), eval = number % 4 == 3 (measured only)",
             "selected_step": best_step, "held_out": held_metrics, "counts": counts,
             "balanced_threshold": threshold,
             "view": {"size": config.size, "version": VIEW_VERSION}}
    out = Path(config.out)

    def save() -> None:
        save_checkpoint(out, {JUDGE_SETUP: ema}, setup=JUDGE_SETUP, preset="default", size=config.size,
                        step=best_step, config=saved_config, extra=extra, half=config.half,
                        arch={"width": config.width})

    # Measure the judge exactly as it ships (weights saved, fp16 when ``half``, and loaded back), then
    # store the figures with it (saving again writes the same weights).
    save()
    say("Measuring the judge on GENKI's eval part (real, unedited photos).")
    evaluation = evaluate_judge(FaceJudge.load(out, device=device), Path(config.genki), detections,
                                config.genki_limit, progress=progress is not None)
    extra["eval"] = evaluation
    save()
    report = FaceJudgeReport(path=out, step=best_step, steps=step, seconds=time.perf_counter() - started,
                             counts=counts, validation=held_metrics, evaluation=evaluation, history=history)
    atomic_write_text(out / REPORT_FILE, json.dumps(report.to_json(), indent=2) + "\n")
    return report


def balance_operating_point(net: torch.nn.Module, probability: np.ndarray, smiling: np.ndarray) -> float:
    """Move the judge's 0.5 to the held-out threshold where smile recall equals 1 − false-positive rate.

    Training batches are class-balanced, but MTFL's and GENKI's labels do not draw the line between
    a faint smile and none at the same place, so the raw network calls too many GENKI non-smiling
    faces smiling (held-out: recall 98 %, false positives 17 %). The threshold is chosen on the
    held-out slice of the judge part (never the eval part) and folded into the output bias, so every
    user of ``smile_probability`` reads P > 0.5 as "smiling" at the balanced point. Returns the
    threshold on the old probabilities (0.5 when a class is missing).
    """
    smiling = np.asarray(smiling, bool)
    if smiling.all() or not smiling.any():
        return 0.5
    logits = np.log(np.clip(probability, 1e-6, 1 - 1e-6) / np.clip(1 - probability, 1e-6, 1))
    grid = np.linspace(-6.0, 6.0, 241)
    gap = np.array([abs((logits[smiling] > t).mean() - (logits[~smiling] <= t).mean()) for t in grid])
    best = grid[gap <= gap.min() + 1e-9]
    shift = float(np.median(best))  # the middle of an equal-error plateau
    head = net.head if hasattr(net, "head") else None
    if head is None or head.bias is None:
        raise TrainingError("The judge network has no output bias to move its operating point.")
    with torch.no_grad():
        head.bias -= shift
    return float(1.0 / (1.0 + math.exp(-shift)))


def _split_batch(batch: int, shares: Sequence[float]) -> list[int]:
    counts = [int(round(batch * s)) for s in shares]
    counts[-1] = batch - sum(counts[:-1])
    return counts


def _batch(pools: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]], counts: list[int],
           config: FaceJudgeConfig, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """A class-balanced, augmented batch: ``counts[i]`` faces from pool i, half of them smiling."""
    xs, ys, ls = [], [], []
    for (views, smiling, lips), count in zip(pools, counts, strict=True):
        if count <= 0:
            continue
        pos, neg = torch.nonzero(smiling).flatten(), torch.nonzero(~smiling).flatten()
        n_pos = count // 2 if len(pos) and len(neg) else (count if len(pos) else 0)
        pick = []
        if n_pos:
            pick.append(pos[torch.randint(len(pos), (n_pos,), generator=gen)])
        if count - n_pos:
            pick.append(neg[torch.randint(len(neg), (count - n_pos,), generator=gen)])
        idx = torch.cat(pick)
        xs.append(views[idx])
        ys.append(smiling[idx])
        ls.append(lips[idx])
    x = torch.cat(xs).float().div_(127.5).sub_(1.0)
    y = torch.cat(ys)
    x, lips = jitter_views(x, torch.cat(ls), config.size, gen)
    blob = (~y) & (torch.rand(len(y), generator=gen) < config.blob_fraction)
    if blob.any():
        idx = torch.nonzero(blob).flatten()
        x[idx] = paste_lip_blobs(x[idx], lips[idx], gen)
    return photometric(x, gen), y.float()


def _update_ema(ema: torch.nn.Module, net: torch.nn.Module, decay: float) -> None:
    with torch.no_grad():
        for e, p in zip(ema.parameters(), net.parameters(), strict=True):
            e.lerp_(p, 1.0 - decay)
        for e, b in zip(ema.buffers(), net.buffers(), strict=True):
            e.copy_(b)
