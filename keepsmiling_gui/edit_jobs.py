"""The work behind the editor window, as plain functions run in worker threads (no widgets here).

They only call the core's ``Editor``. A face is prepared (cropped + encoded) once and the result is
handed back to the GUI thread, which caches it; later renders at other strengths reuse it. A face
that cannot be edited comes back with the core's reason instead of an exception, so the other faces
still render. Every face carries its own strength (``{face index: alpha}``): the user sets each smile
separately, and the saved photo must be what the view shows.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from keepsmiling_core.errors import KeepSmilingError


@dataclass
class RenderOutcome:
    alphas: dict[int, float] = field(default_factory=dict)  # face -> the strength it was rendered at
    patches: dict[int, tuple[int, int, np.ndarray]] = field(default_factory=dict)  # face -> (x0, y0, rgb)
    prepared: dict[int, object] = field(default_factory=dict)  # faces prepared by this job
    blocked: dict[int, str] = field(default_factory=dict)  # faces that cannot be edited, with the reason
    prepare_ms: float = 0.0
    render_ms: float = 0.0  # decode + colour match + blend, all faces


def _prepare(editor, rgb, faces, index, cache, outcome: RenderOutcome):
    prepared = cache.get(index) or outcome.prepared.get(index)
    if prepared is not None:
        return prepared
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


def render_faces(editor, rgb: np.ndarray, faces: list, alphas: Mapping[int, float],
                 cache: dict[int, object]) -> RenderOutcome:
    """Patches of the photo for each face in ``alphas`` at its own strength (preparing faces not cached).

    Only the faces asked for are rendered: when the slider moves one face, the others' patches on
    screen are still right and are not recomputed."""
    outcome = RenderOutcome(alphas={int(i): float(a) for i, a in alphas.items()})
    for index in sorted(outcome.alphas):
        prepared = _prepare(editor, rgb, faces, index, cache, outcome)
        if prepared is None:
            continue
        start = time.perf_counter()
        patch = editor.render(prepared, outcome.alphas[index])
        outcome.render_ms += (time.perf_counter() - start) * 1000
        x0, y0, _, _ = prepared.region
        outcome.patches[index] = (x0, y0, patch)
    return outcome


def compose_photo(editor, rgb: np.ndarray, faces: list, alphas: Mapping[int, float],
                  cache: dict[int, object]) -> np.ndarray:
    """The full edited photo as it will be saved: the core blends the faces one after another, each
    at its own strength."""
    outcome = RenderOutcome()
    pairs = []
    for index in sorted(alphas):
        prepared = _prepare(editor, rgb, faces, index, cache, outcome)
        if prepared is not None:
            pairs.append((prepared, float(alphas[index])))
    return editor.apply_all(rgb, pairs)


def save_edited_photo(path: Path, editor, photo, faces, alphas: Mapping[int, float], cache) -> Path:
    from keepsmiling_core.imageio import write_photo

    rgb = photo.rgb if editor is None or not alphas else compose_photo(editor, photo.rgb, faces, alphas, cache)
    return write_photo(path, rgb, exif=photo.exif)


def export_faces(folder: Path, editor, photo, faces, alphas: Mapping[int, float], cache) -> list[Path]:
    """Each edited face's region before and after (at its own strength), as PNGs named after the photo
    and the face number."""
    from keepsmiling_core.imageio import write_photo

    folder = Path(folder)
    if not folder.is_dir():
        raise KeepSmilingError(f"Cannot export into {folder}: the folder does not exist.")
    stem = Path(photo.path).stem if photo.path else "photo"
    outcome = RenderOutcome()
    written: list[Path] = []
    for index in sorted(alphas):
        prepared = _prepare(editor, photo.rgb, faces, index, cache, outcome)
        if prepared is None:
            continue
        after = editor.render(prepared, float(alphas[index]))
        name = f"{stem}-face{index + 1:02d}"
        written.append(write_photo(folder / f"{name}-before.png", prepared.base))
        written.append(write_photo(folder / f"{name}-after.png", after))
    if not written:
        raise KeepSmilingError("No edited faces to export: select at least one face that can be edited.")
    return written


def sample_smiles(model_path: Path, count: int = 64, seed: int | None = None, device: str | None = None) -> np.ndarray:
    """A grid of mouths a SimpleGAN draws from noise, as one RGB image (8 per row)."""
    import torch

    from keepsmiling_core.data.tensors import to_image
    from keepsmiling_core.device import pick_device
    from keepsmiling_core.models.checkpoint import load_model

    model = load_model(Path(model_path), device=pick_device(device))
    from keepsmiling_core.models.simplegan import sampling_generator

    generator = sampling_generator(model.nets)
    first = next(generator.parameters())
    nz = int(getattr(generator, "nz", 100))
    gen = torch.Generator().manual_seed(int(seed if seed is not None else time.time_ns() % 2**31))
    noise = torch.randn(count, nz, generator=gen).to(first.device, first.dtype)
    with torch.no_grad():
        images = to_image(generator(noise).float().cpu())
    return tile(images, columns=8)


def tile(images: np.ndarray, columns: int = 8, gap: int = 2) -> np.ndarray:
    """(N, S, S, 3) -> one grid image with a thin dark gap between tiles."""
    n, s = images.shape[0], images.shape[1]
    columns = max(1, min(columns, n))
    rows = (n + columns - 1) // columns
    grid = np.full((rows * (s + gap) - gap, columns * (s + gap) - gap, 3), 30, np.uint8)
    for i, image in enumerate(images):
        r, c = divmod(i, columns)
        grid[r * (s + gap):r * (s + gap) + s, c * (s + gap):c * (s + gap) + s] = image
    return grid


def direction_for_run(run_dir: Path, report) -> Path:
    """Compute a trained SplitGAN run's smile direction from the crops it trained on (picking a stopped
    run in the model list); EditError when those crops are gone."""
    import json

    from keepsmiling_core.errors import EditError

    from .training_job import direction_for

    run_dir = Path(run_dir)
    try:
        config = json.loads((run_dir / "config.json").read_text(encoding="utf-8"))
        cache = Path(config["data"]) if isinstance(config, dict) and isinstance(config.get("data"), str) else None
    except (OSError, ValueError, KeyError):
        cache = None
    if cache is None or not (cache / "manifest.json").is_file():
        where = f" ({cache})" if cache is not None else ""
        raise EditError(f"The SplitGAN run {run_dir} has no smile direction yet, and the crops it was trained on"
                        f"{where} are gone; run 'keepsmiling latent --run {run_dir} --data CACHE' with a crop "
                        "cache of the same size.")
    return direction_for(run_dir, cache, report)
