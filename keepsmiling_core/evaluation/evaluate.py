"""Measure editors on held-out crops: edit success, reconstruction, skin colour shift and KID.

What is measured is what the app delivers: each held-out crop goes through the editor's crop path
(decode at α, colour match, blend with the face's feathered mouth mask - exactly the photo edit,
minus the final resampling into the photo). Raw decoder numbers are reported beside the finished
ones so that a good figure cannot hide a weak model:

- success(α): share of non-smiling crops the smile classifier calls smiling after the edit at α
  (and, for α < 0, smiling crops it calls non-smiling); α = 0 is the classifier's false-alarm floor;
- PSNR / SSIM: the network's plain reconstruction (SplitGAN De(E(x)); ComplexGAN G(x, own label)),
  and the finished crop at α = 0;
- ΔE: CIEDE2000 between the mean skin colours (outside the mouth mask) of input and edited crop at
  α = 1, for the raw decode (the seed's skin-lightening) and after colour matching;
- KID at α = 1: edited non-smiling crops against real smiling crops, in the classifier's feature
  space, with the real non-smiling-vs-smiling KID as the "no edit" reference.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from keepsmiling_core.atomic import atomic_write_text, ensure_folder
from keepsmiling_core.compositing.mask import crop_space_masks, skin_weight
from keepsmiling_core.errors import KeepSmilingError
from keepsmiling_core.evaluation.metrics import kid, psnr, skin_delta_e, ssim

ALPHAS = (0.5, 1.0, 1.5, 2.0)
GRID_ROWS = 6


@dataclass
class ModelScores:
    name: str
    setup: str
    path: str
    step: int
    success: dict[str, float]            # str(α) -> share of non-smiling crops turned smiling
    removal: dict[str, float]            # str(-α) -> share of smiling crops turned non-smiling
    psnr_raw: float                      # network reconstruction vs input (SplitGAN De(E(x)), ComplexGAN G(x, own))
    ssim_raw: float
    psnr_final: float                    # α = 0, finished crop (colour-matched, blended) vs input
    ssim_final: float
    delta_e_raw: float                   # α = 1, skin colour shift of the raw decode
    delta_e_final: float                 # α = 1, after colour matching
    kid: float                           # α = 1 edits vs real smiling crops
    kid_std: float
    seconds: float
    examples: list = field(default_factory=list, repr=False)   # (input, {α: crop}) for the figure


@dataclass
class EvaluationReport:
    data: str
    count_non_smiling: int
    count_smiling: int
    classifier: str
    classifier_accuracy: float           # on these held-out real crops
    classifier_balanced_accuracy: float
    kid_real_reference: float            # real non-smiling vs real smiling: what "no edit" scores
    alphas: list[float]
    models: list[ModelScores]
    files: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict:
        out = asdict(self)
        for m in out["models"]:
            m.pop("examples", None)
        return _finite(out)


def _finite(value):
    """JSON has no inf/nan: PSNR of identical crops becomes the string 'inf'."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def crop_masks(cache, window: bool = False) -> np.ndarray:
    """Feathered mouth masks (N, S, S) for dataset crops, from the crop-space landmarks the cache keeps
    (``window``: the outer limits of adaptive edits instead)."""
    if cache.landmarks is None:
        raise KeepSmilingError(f"The crop cache {cache.path} has no landmarks; rebuild it with keepsmiling prepare.")
    return crop_space_masks(cache.size, cache.landmarks, window)


def _pick(smiling: np.ndarray, label: bool, limit: int | None, seed: int = 0) -> np.ndarray:
    idx = np.flatnonzero(smiling == label)
    if limit is not None and len(idx) > limit:
        idx = np.sort(np.random.default_rng(seed).choice(idx, limit, replace=False))
    return idx


def evaluate_model(editor, name: str, classifier, images_non: np.ndarray, masks_non: np.ndarray,
                   images_smile: np.ndarray, masks_smile: np.ndarray, real_smile_features: np.ndarray,
                   alphas: Sequence[float] = ALPHAS, progress: Callable[[str], None] | None = None,
                   windows_non: np.ndarray | None = None, windows_smile: np.ndarray | None = None) -> ModelScores:
    """Scores of one editor on held-out crops (see the module docstring for what each number means)."""
    from keepsmiling_core.evaluation.classifier import classifier_features, smile_probability

    started = time.perf_counter()
    say = progress or (lambda _msg: None)
    success, removal, edited = {}, {}, {}
    for alpha in (0.0, *alphas):
        _, final = editor.edit_crops(images_non, alpha, masks_non, windows=windows_non)
        success[str(alpha)] = float((smile_probability(classifier, final) > 0.5).mean())
        edited[alpha] = final
        say(f"{name}: success at alpha {alpha:g}: {success[str(alpha)]:.1%}")
    for alpha in alphas:
        _, final = editor.edit_crops(images_smile, -alpha, masks_smile, windows=windows_smile)
        removal[str(-alpha)] = float((smile_probability(classifier, final) < 0.5).mean())
    _, final0 = editor.edit_crops(images_non, 0.0, masks_non, windows=windows_non)
    raw0 = editor.reconstruct(images_non, smiling=False)
    psnr_raw = float(np.mean([psnr(a, b) for a, b in zip(images_non, raw0, strict=True)]))
    ssim_raw = float(np.mean([ssim(a, b) for a, b in zip(images_non, raw0, strict=True)]))
    psnr_fin = float(np.mean([psnr(a, b) for a, b in zip(images_non, final0, strict=True)]))
    ssim_fin = float(np.mean([ssim(a, b) for a, b in zip(images_non, final0, strict=True)]))
    # Skin shift at α = 1 on the whole re-rendered crop (before blending hides it behind the mask).
    raw1, matched1 = editor.edit_crops(images_non, 1.0, masks_non, blend=False)
    skins = [skin_weight(m) for m in masks_non]
    de_raw = float(np.mean([skin_delta_e(a, b, s) for a, b, s in zip(images_non, raw1, skins, strict=True)]))
    de_fin = float(np.mean([skin_delta_e(a, b, s) for a, b, s in zip(images_non, matched1, skins, strict=True)]))
    kid_mean, kid_std = kid(real_smile_features, classifier_features(classifier, edited[1.0]))
    examples = [(images_non[i], {a: edited[a][i] for a in alphas}) for i in range(min(GRID_ROWS, len(images_non)))]
    model = editor.model
    return ModelScores(name=name, setup=model.setup, path=str(model.path), step=int(model.step), success=success,
                       removal=removal, psnr_raw=psnr_raw, ssim_raw=ssim_raw, psnr_final=psnr_fin,
                       ssim_final=ssim_fin, delta_e_raw=de_raw, delta_e_final=de_fin, kid=kid_mean,
                       kid_std=kid_std, seconds=time.perf_counter() - started, examples=examples)


def evaluate(model_paths: Sequence[str | Path], classifier_path: str | Path, data: str | Path,
             out_dir: str | Path, *, limit: int | None = 300, alphas: Sequence[float] = ALPHAS,
             device: str | None = None, progress: Callable[[str], None] | None = None,
             options=None) -> EvaluationReport:
    """Evaluate each model on a held-out crop cache; writes evaluation.json/.md/.png into ``out_dir``.

    limit: at most this many crops per class (a fixed random subset), to bound the run time.
    options: the ``EditOptions`` to edit with (default: the app's defaults).
    """
    from keepsmiling_core.data.cache import load_crop_cache
    from keepsmiling_core.editing.editor import network_editor
    from keepsmiling_core.evaluation.classifier import accuracy, classifier_features, load_classifier
    from keepsmiling_core.evaluation.figure import write_figure

    if not model_paths:
        raise KeepSmilingError("Name at least one model to evaluate (--model RUN_DIR).")
    out_dir = Path(out_dir)
    ensure_folder(out_dir, "evaluation folder")
    cache = load_crop_cache(Path(data))
    classifier = load_classifier(classifier_path, device)
    if getattr(classifier, "size", cache.size) != cache.size:
        raise KeepSmilingError(f"The classifier was trained on {classifier.size} px crops but {data} holds "
                               f"{cache.size} px crops.")
    smiling = np.asarray(cache.smiling, bool)
    non_idx, smile_idx = _pick(smiling, False, limit), _pick(smiling, True, limit)
    if len(non_idx) < 2 or len(smile_idx) < 2:
        raise KeepSmilingError(f"{data} needs at least 2 smiling and 2 non-smiling crops to evaluate on.")
    masks, windows = crop_masks(cache), crop_masks(cache, window=True)
    both = np.concatenate([non_idx, smile_idx])
    acc, bal = accuracy(classifier, cache.images[both], smiling[both])
    real_smile = classifier_features(classifier, cache.images[smile_idx])
    real_non = classifier_features(classifier, cache.images[non_idx])
    reference, _ = kid(real_smile, real_non)
    scores = []
    for path in model_paths:
        editor = network_editor(path, device=device, options=options)
        if editor.model.size != cache.size:
            raise KeepSmilingError(f"The model {path} works on {editor.model.size} px crops but {data} holds "
                                   f"{cache.size} px crops; build a test cache with --size {editor.model.size}.")
        name = _model_name(Path(path))
        scores.append(evaluate_model(editor, name, classifier, cache.images[non_idx], masks[non_idx],
                                     cache.images[smile_idx], masks[smile_idx], real_smile, alphas, progress,
                                     windows_non=windows[non_idx], windows_smile=windows[smile_idx]))
    report = EvaluationReport(data=str(data), count_non_smiling=len(non_idx), count_smiling=len(smile_idx),
                              classifier=str(classifier_path), classifier_accuracy=acc,
                              classifier_balanced_accuracy=bal, kid_real_reference=reference,
                              alphas=list(alphas), models=scores)
    files = {"json": out_dir / "evaluation.json", "markdown": out_dir / "evaluation.md",
             "figure": out_dir / "evaluation.png"}
    report.files = {k: str(v) for k, v in files.items()}
    write_figure(report, files["figure"])
    atomic_write_text(files["markdown"], markdown_table(report))
    atomic_write_text(files["json"], json.dumps(report.to_json(), indent=2))
    return report


def _model_name(path: Path) -> str:
    """A readable row name: 'splitgan/step_00000400' rather than only the checkpoint folder's name."""
    if path.name.startswith("step_") and path.parent.name == "checkpoints":
        return f"{path.parent.parent.name}/{path.name}"
    if path.name.startswith("step_"):
        return f"{path.parent.name}/{path.name}"
    return path.name or str(path)


def markdown_table(report: EvaluationReport) -> str:
    """The report as a markdown table (also what the CLI prints)."""
    alphas = report.alphas
    head = (["model", "step"] + ["success α=0"] + [f"success α={a:g}" for a in alphas]
            + [f"removal α=-{a:g}" for a in alphas]
            + ["PSNR raw α=0", "PSNR final α=0", "SSIM raw α=0", "SSIM final α=0", "ΔE raw α=1",
               "ΔE final α=1", "KID α=1"])
    rows = []
    for m in report.models:
        rows.append([m.name, str(m.step), f"{m.success['0.0']:.1%}"]
                    + [f"{m.success[str(float(a))]:.1%}" for a in alphas]
                    + [f"{m.removal[str(-float(a))]:.1%}" for a in alphas]
                    + [f"{m.psnr_raw:.2f}", f"{m.psnr_final:.2f}", f"{m.ssim_raw:.3f}", f"{m.ssim_final:.3f}",
                       f"{m.delta_e_raw:.2f}", f"{m.delta_e_final:.2f}", f"{m.kid:.4f} ± {m.kid_std:.4f}"])
    lines = [
        f"Held-out crops: {report.data} ({report.count_non_smiling} non-smiling, {report.count_smiling} smiling)",
        f"Classifier: {report.classifier} - accuracy on these crops {report.classifier_accuracy:.1%} "
        f"(balanced {report.classifier_balanced_accuracy:.1%})",
        f"KID of real non-smiling vs real smiling crops (no edit): {report.kid_real_reference:.4f}",
        "",
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
    ] + ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines) + "\n"
