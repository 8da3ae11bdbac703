"""Model work behind the window that is not a photo edit, as plain functions run in worker threads (no
widgets here): SimpleGAN samples and a stopped SplitGAN run's smile direction.

Rendering, saving and exporting an edited photo are the core's ``EditSession``/``EditPlan``
(keepsmiling_core.editing.session), the same path ``keepsmiling smile`` uses.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np


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
