"""Which models the user can pick: the shipped ones and the runs trained from the app.

A model is any folder holding the one checkpoint format (``checkpoint.json`` beside
``model.safetensors``), directly or in a checkpoint sub-folder of a run; only its JSON is read here,
so listing stays instant even with many runs. Loading is the core's job (``load_model``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from keepsmiling_core.paths import shipped_models_dir, user_dir

SETUP_LABELS = {"simplegan": "SimpleGAN", "complexgan": "ComplexGAN", "splitgan": "SplitGAN"}
EDIT_SETUPS = ("splitgan", "complexgan")


@dataclass(frozen=True)
class ModelEntry:
    path: Path
    setup: str
    label: str
    shipped: bool
    step: int = 0
    has_direction: bool = False

    @property
    def can_edit(self) -> bool:
        return self.setup in EDIT_SETUPS

    def missing_for_edit(self) -> str | None:
        """Why this entry cannot edit photos yet, in words for the user; None when it can."""
        if self.setup == "simplegan":
            return "SimpleGAN only draws new mouths from noise; pick a SplitGAN or ComplexGAN model to edit faces."
        if self.setup == "splitgan" and not self.has_direction:
            return (
                f"The SplitGAN run {self.path} has no smile direction yet (latent.json); "
                "compute it with 'keepsmiling latent' or train again from Settings ▸ Train…."
            )
        if self.setup not in EDIT_SETUPS:
            return f"Models of type {self.setup!r} cannot edit photos."
        return None


def runs_dir() -> Path:
    return user_dir() / "runs"


def describe_model(folder: Path, shipped: bool = False) -> ModelEntry | None:
    """Read a model folder's metadata; None when it holds no usable checkpoint (e.g. a run just started)."""
    from keepsmiling_core.editing.latent import find_direction_dir
    from keepsmiling_core.errors import KeepSmilingError
    from keepsmiling_core.training.checkpoint import read_meta

    try:
        meta = read_meta(folder)
    except (KeepSmilingError, OSError):
        return None
    setup = str(meta.get("setup", "")).lower()
    if setup not in SETUP_LABELS:
        return None
    step = int(meta.get("step", 0) or 0)
    has_direction = find_direction_dir(Path(folder), Path(meta["_dir"])) is not None
    origin = "shipped" if shipped else f"{folder.name}, step {step:,}"
    return ModelEntry(
        path=folder,
        setup=setup,
        label=f"{SETUP_LABELS[setup]} ({origin})",
        shipped=shipped,
        step=step,
        has_direction=has_direction,
    )


def find_models(extra_runs_dir: Path | None = None) -> list[ModelEntry]:
    """Shipped models first (SplitGAN, ComplexGAN, SimpleGAN), then the user's runs, newest first."""
    entries: list[ModelEntry] = []
    shipped = shipped_models_dir()
    for name in ("splitgan", "complexgan", "simplegan"):
        entry = describe_model(shipped / name, shipped=True)
        if entry is not None:
            entries.append(entry)
    roots = []
    for root in (runs_dir(), extra_runs_dir):  # the dialog's runs folder is often the default one
        if root is not None and root.is_dir() and root.resolve() not in roots:
            roots.append(root.resolve())
    for root in roots:
        runs = sorted((p for p in root.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime, reverse=True)
        for run in runs:
            entry = describe_model(run)
            if entry is not None:
                entries.append(entry)
    return entries


def default_edit_model(entries: list[ModelEntry]) -> ModelEntry | None:
    """The first model that can edit right away (shipped SplitGAN when present)."""
    for entry in entries:
        if entry.can_edit and entry.missing_for_edit() is None:
            return entry
    return None
