"""Which models the user can pick: the shipped ones and the runs trained from the app.

A model is any folder holding the one checkpoint format (``checkpoint.json`` beside
``model.safetensors``), directly or in a checkpoint sub-folder of a run; only its JSON is read here,
so listing stays instant even with many runs. Loading is the core's job (``load_model``).

Whatever lies in the runs folder, listing never raises: the JSON goes through the core's validation layer
(``read_meta``); a run whose checkpoint is damaged is left out of the picker, and with ``include_damaged``
it is listed as such, its ``problem`` the readable reason (picking it shows that reason). A folder that holds
no checkpoint yet, or is no model at all, is left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from keepsmiling_core.editing.backends import DEFAULT_EDIT_MODEL
from keepsmiling_core.paths import shipped_models_dir, user_dir
from keepsmiling_core.setups import find_setup, listed_setups

WARP = "warp"   # the landmark warp: no network, so no setup spec
WARP_LABEL = "Landmark warp"


def setup_label(setup: str) -> str:
    """The name the app shows for a setup (the spec's display name); unknown names as they are."""
    if setup == WARP:
        return WARP_LABEL
    spec = find_setup(setup)
    return spec.display_name if spec is not None else setup


def shipped_order() -> tuple[str, ...]:
    """Shipped model folders in the order the picker lists them; the first that can edit is the app's
    default. One folder per registered setup, named after it, in the setups' listing order.
    (resources/models/warp-teeth, the warp with teeth painted by the mouth fill, is not offered: on whole
    photos it measures level with the plain warp, not better; it stays for `keepsmiling smile --model` and
    the evaluation.)"""
    return (DEFAULT_EDIT_MODEL, *(spec.name for spec in listed_setups()))


@dataclass(frozen=True)
class ModelEntry:
    path: Path
    setup: str
    label: str
    shipped: bool
    step: int = 0
    has_direction: bool = False
    problem: str | None = None  # why the folder's checkpoint cannot be used (damaged entries only)

    @property
    def can_edit(self) -> bool:
        if self.problem is not None:
            return False
        spec = find_setup(self.setup)
        return self.setup == WARP or (spec is not None and spec.can_edit)

    def missing_for_edit(self) -> str | None:
        """Why this entry cannot edit photos yet, in words for the user; None when it can."""
        if self.problem is not None:
            return self.problem
        if self.setup == WARP:
            return None
        spec = find_setup(self.setup)
        if spec is not None and spec.cannot_edit:
            return spec.cannot_edit
        if spec is not None and spec.needs_direction and not self.has_direction:
            return (
                f"The {spec.display_name} run {self.path} has no smile direction yet (latent.json); "
                "compute it with 'keepsmiling latent' or train again from Settings ▸ Train…."
            )
        if spec is None or not spec.can_edit:
            return f"Models of type {self.setup!r} cannot edit photos."
        return None


def runs_dir() -> Path:
    return user_dir() / "runs"


def describe_model(folder: Path, shipped: bool = False, *, include_damaged: bool = False) -> ModelEntry | None:
    """Read a model folder's metadata; None when it holds no checkpoint yet (e.g. a run just started) or
    is no model at all, and when its checkpoint is damaged unless ``include_damaged`` (then an entry whose
    ``problem`` says why). Never raises."""
    try:
        entry = _describe(Path(folder), shipped)
    except Exception as exc:  # noqa: BLE001 - the app must start whatever lies in the runs folder
        entry = _damaged(Path(folder), shipped, f"it cannot be read ({type(exc).__name__}: {exc})")
    if entry is not None and entry.problem is not None and not include_damaged:
        return None
    return entry


def _describe(folder: Path, shipped: bool) -> ModelEntry | None:
    from keepsmiling_core.editing.latent import find_direction_dir
    from keepsmiling_core.editing.smile_shape import is_shape_model
    from keepsmiling_core.errors import KeepSmilingError
    from keepsmiling_core.models.checkpoint import read_meta

    if is_shape_model(folder):   # the landmark warp: no network, nothing to validate until it loads
        teeth = (folder / "texture.json").is_file()
        what = f"{WARP_LABEL} + painted teeth" if teeth else WARP_LABEL
        return ModelEntry(path=folder, setup=WARP, shipped=shipped,
                          label=f"{what} ({'shipped' if shipped else folder.name})")
    if not _holds_checkpoint(folder):
        return None
    try:
        meta = read_meta(folder)
    except KeepSmilingError as exc:
        return _damaged(folder, shipped, str(exc))
    except OSError as exc:
        return _damaged(folder, shipped, f"it cannot be read ({exc.strerror or exc})")
    setup = meta["setup"]  # validated by read_meta
    spec = find_setup(setup)
    if spec is None:
        return None  # e.g. the smile classifier: not a model to pick here
    step = int(meta["step"])
    has_direction = find_direction_dir(Path(folder), Path(meta["_dir"])) is not None
    origin = "shipped" if shipped else f"{folder.name}, step {step:,}"
    return ModelEntry(
        path=folder,
        setup=setup,
        label=f"{spec.display_name} ({origin})",
        shipped=shipped,
        step=step,
        has_direction=has_direction,
    )


def _holds_checkpoint(folder: Path) -> bool:
    """A checkpoint.json here or in a run's checkpoints/step_* folder (complete or not)."""
    if (folder / "checkpoint.json").exists():
        return True
    steps = folder / "checkpoints"
    return steps.is_dir() and any((step / "checkpoint.json").exists() for step in steps.glob("step_*"))


def _damaged(folder: Path, shipped: bool, reason: str) -> ModelEntry:
    first = reason.splitlines()[0] if reason else "unknown problem"
    return ModelEntry(
        path=folder, setup="damaged", label=f"{folder.name} (damaged)", shipped=shipped,
        problem=f"The model {folder} cannot be used: {first}",
    )


def find_models(extra_runs_dir: Path | None = None, *, include_damaged: bool = False) -> list[ModelEntry]:
    """Shipped models first (``shipped_order()``), then the user's runs, newest first."""
    entries: list[ModelEntry] = []
    shipped = shipped_models_dir()
    for name in shipped_order():
        entry = describe_model(shipped / name, shipped=True, include_damaged=include_damaged)
        if entry is not None:
            entries.append(entry)
    roots = []
    for root in (runs_dir(), extra_runs_dir):  # the dialog's runs folder is often the default one
        try:
            if root is not None and root.is_dir() and root.resolve() not in roots:
                roots.append(root.resolve())
        except OSError:
            continue
    for root in roots:
        for run in _run_folders(root):
            entry = describe_model(run, include_damaged=include_damaged)
            if entry is not None:
                entries.append(entry)
    return entries


def _run_folders(root: Path) -> list[Path]:
    """Sub-folders of a runs folder, newest first; unreadable entries (broken links, no permission) skipped."""
    found = []
    try:
        children = list(root.iterdir())
    except OSError:
        return []
    for child in children:
        try:
            if child.is_dir():
                found.append((child.stat().st_mtime, child))
        except OSError:
            continue
    return [child for _, child in sorted(found, key=lambda item: item[0], reverse=True)]


def default_edit_model(entries: list[ModelEntry]) -> ModelEntry | None:
    """The first model that can edit right away (the shipped landmark warp when present)."""
    for entry in entries:
        if entry.can_edit and entry.missing_for_edit() is None:
            return entry
    return None
