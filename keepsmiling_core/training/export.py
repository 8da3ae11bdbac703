"""Package a trained run as a self-contained model folder (what ``resources/models/`` ships).

The exported folder is an ordinary checkpoint in the one format (``models/checkpoint.py``), holding
weights only (no optimizer state), optionally as float16 to halve the size, plus the run's smile
direction (``latent.*``) when it has one and a ``model.json`` card that says how it was made.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import torch

from ..atomic import atomic_write_text
from ..errors import CheckpointError
from ..models.checkpoint import LoadedModel, list_checkpoints, load_model, save_checkpoint

LATENT_FILES = ("latent.safetensors", "latent.json")


def export_model(run: str | Path, out: str | Path, *, half: bool = True, card: dict[str, Any] | None = None,
                 average: int = 1) -> Path:
    """Write the latest checkpoint of ``run`` as a weights-only model folder at ``out``; returns ``out``.

    average: export the mean weights of the run's last ``average`` checkpoints instead. A GAN's
    generator oscillates from checkpoint to checkpoint (the shipped ComplexGAN's edit success swung
    by ±4 points between checkpoints 250 steps apart); averaging late snapshots of one run, as
    Polyak/EMA averaging does, smooths that out without choosing a checkpoint by its test score."""
    run, out = Path(run), Path(out)
    model = load_model(run, device="cpu")
    if out.resolve() in (run.resolve(), model.path.resolve()):
        raise CheckpointError(f"Export target {out} is the run itself; choose another folder.")
    latent_dir = next((d for d in (run, model.path) if (d / "latent.json").is_file()), None)
    extra = {**model.meta.get("extra", {}), "exported_from": str(run.resolve())}
    if average > 1:
        if latent_dir is not None:
            raise CheckpointError(f"{run} has a smile direction computed for one checkpoint; averaged weights "
                                  "would not match it. Export without --average, or average before "
                                  "computing the direction.")
        extra["averaged_steps"] = _average_last(run, model, average)
    save_checkpoint(
        out, model.nets, setup=model.setup, preset=model.preset, size=model.size, step=model.step,
        config=model.meta.get("config"), arch=model.meta.get("arch"), half=half, extra=extra,
    )
    if latent_dir is not None:
        for name in LATENT_FILES:
            shutil.copy2(latent_dir / name, out / name)
    model_card = {"setup": model.setup, "preset": model.preset, "size": model.size, "step": model.step,
                  "dtype": "float16" if half else "float32", **(card or {})}
    atomic_write_text(out / "model.json", json.dumps(model_card, indent=2) + "\n")
    return out


def _average_last(run: Path, model: LoadedModel, count: int) -> list[int]:
    """Replace ``model``'s weights by the mean of the run's last ``count`` checkpoints; returns their steps."""
    checkpoints = list_checkpoints(run)
    if len(checkpoints) < count:
        raise CheckpointError(f"{run} keeps {len(checkpoints)} checkpoint(s); cannot average the last {count}.")
    if checkpoints[-1].resolve() != model.path.resolve():
        raise CheckpointError(f"{run}: its latest checkpoint is not the newest one in {run / 'checkpoints'}.")
    snapshots = [load_model(path, device="cpu") for path in checkpoints[-count:-1]] + [model]
    for name, net in model.nets.items():
        states = [snap.nets[name].state_dict() for snap in snapshots]
        averaged = {key: torch.stack([s[key].float() for s in states]).mean(0).to(value.dtype)
                    if value.is_floating_point() else value
                    for key, value in net.state_dict().items()}
        net.load_state_dict(averaged)
    return [snap.step for snap in snapshots]
