"""Package a trained run as a self-contained model folder (what ``resources/models/`` ships).

The exported folder is an ordinary checkpoint in the one format (``training/checkpoint.py``), holding
weights only (no optimizer state), optionally as float16 to halve the size, plus the run's smile
direction (``latent.*``) when it has one and a ``model.json`` card that says how it was made.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from ..errors import CheckpointError
from .checkpoint import load_model, save_checkpoint

LATENT_FILES = ("latent.safetensors", "latent.json")


def export_model(run: str | Path, out: str | Path, *, half: bool = True, card: dict[str, Any] | None = None) -> Path:
    """Write the latest checkpoint of ``run`` as a weights-only model folder at ``out``; returns ``out``."""
    run, out = Path(run), Path(out)
    model = load_model(run, device="cpu")
    if out.resolve() in (run.resolve(), model.path.resolve()):
        raise CheckpointError(f"Export target {out} is the run itself; choose another folder.")
    save_checkpoint(
        out, model.nets, setup=model.setup, preset=model.preset, size=model.size, step=model.step,
        config=model.meta.get("config"), arch=model.meta.get("arch"), half=half,
        extra={**model.meta.get("extra", {}), "exported_from": str(run.resolve())},
    )
    latent_dir = next((d for d in (run, model.path) if (d / "latent.json").is_file()), None)
    if latent_dir is not None:
        for name in LATENT_FILES:
            shutil.copy2(latent_dir / name, out / name)
    model_card = {"setup": model.setup, "preset": model.preset, "size": model.size, "step": model.step,
                  "dtype": "float16" if half else "float32", **(card or {})}
    (out / "model.json").write_text(json.dumps(model_card, indent=2) + "\n", encoding="utf-8")
    return out
