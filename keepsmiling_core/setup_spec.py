"""What a setup is, and the registry every front end reads its setups from.

A ``SetupSpec`` is the one home of a setup: its name and words for the user, its networks per preset
(and the knobs older checkpoints lack), its training recipe and tuned training presets, and how its
models edit a face at strength α. The CLI's choices, the training dialog, the model picker, the
trainer and the editor all ask the registry, so adding a setup is one module in
``keepsmiling_core/setups/`` plus one line in ``BUILTIN`` below - no if-chain elsewhere names it.

The registry sits low in the core's layers (it imports nothing of KeepSmiling), so models, training and
editing can all look setups up. The setup modules themselves sit above training and editing - a spec
names its networks, recipe and edit backend - and are loaded as plugins by name on the first lookup
(``importlib``, as entry points are), which keeps the import graph one-way. Torch, the networks and the
recipes load only when a spec's factories are called, so reading names and labels stays cheap.
"""

from __future__ import annotations

import dataclasses
import importlib
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

PRESETS = ("default", "original")   # preset names a checkpoint or run may store
# The registry lines: modules of keepsmiling_core/setups defining ``SPEC``, in the CLI's order.
BUILTIN = ("simplegan", "complexgan", "splitgan")
DEFAULT_SETUP = "splitgan"          # what `keepsmiling train` and the training dialog start from


@dataclass(frozen=True)
class TrainingPreset:
    """A preset's training defaults: ``hparams`` is the recipe's hyper-parameter dataclass (batch size,
    learning rates, loss weights); ``steps`` the run length. The CLI and the app override only what the
    user changed."""

    hparams: Any
    steps: int = 2000

    @property
    def batch_size(self) -> int:
        return int(self.hparams.batch_size)

    @property
    def lr_g(self) -> float:
        return float(self.hparams.lr_g)

    @property
    def lr_d(self) -> float:
        return float(self.hparams.lr_d)


@dataclass(frozen=True, eq=False)
class SetupSpec:
    """One setup. Factories are plain callables so the heavy modules load only when used.

    - ``build_networks(preset, size, arch)``: fresh networks from the resolved ``arch`` (as stored in
      checkpoints) -> ``{name: nn.Module}``;
    - ``recipe()``: the training ``Recipe`` class;
    - ``training_presets()``: ``{preset: TrainingPreset}`` (the hyper-parameter dataclasses live with the recipe);
    - ``edit_backend(model, options, *, direction=None, given=None)``: how a loaded model edits crops at α
      (``editing/network_edits.NetworkEdit``); None for setups that cannot edit photos.
    """

    name: str
    display_name: str
    description: str                                   # one line for the training dialog's tooltip
    architectures: Mapping[str, Mapping[str, Any]]     # preset -> architecture knobs (stored in checkpoints)
    build_networks: Callable[[str, int, dict[str, Any]], dict[str, Any]]
    recipe: Callable[[], type]
    training_presets: Callable[[], Mapping[str, TrainingPreset]]
    edit_backend: Callable[..., Any] | None = None
    # Knobs added after checkpoints already existed, per preset, with the value that rebuilds those
    # older networks: a stored arch without the knob was built the old way.
    legacy_knobs: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    needs_direction: bool = False      # its edits need a latent smile direction computed after training
    draws_samples: bool = False        # picking one of its models shows mouths drawn from noise (no edit)
    cannot_edit: str = ""             # why its models cannot edit photos (shown when one is picked)
    listing_order: int = 100          # place in the model picker and the training dialog (lower first)

    @property
    def presets(self) -> tuple[str, ...]:
        return tuple(self.architectures)

    @property
    def can_edit(self) -> bool:
        return self.edit_backend is not None

    def recipe_class(self) -> type:
        return self.recipe()

    def training_preset(self, preset: str = "default") -> TrainingPreset:
        presets = _cached_presets(self)
        if preset not in presets:
            raise ValueError(f"unknown preset {preset!r} for {self.name}; choose one of {', '.join(presets)}")
        return presets[preset]

    def hyperparameters(self, preset: str, overrides: Mapping[str, Any]) -> Any:
        """The preset's hyper-parameters with ``overrides`` applied.

        Unknown names and values of the wrong kind (text for a loss weight, a fraction for a step count,
        NaN) are a ValueError naming the option: they come from ``--set`` or a run's config.json."""
        base = self.training_preset(preset).hparams
        names = {f.name for f in dataclasses.fields(base)}
        unknown = set(overrides) - names
        if unknown:
            raise ValueError(f"unknown {self.name} option(s): {', '.join(sorted(unknown))}; "
                             f"known: {', '.join(sorted(names))}")
        checked = {name: _same_kind(name, getattr(base, name), value) for name, value in overrides.items()}
        return dataclasses.replace(base, **checked)

    def architecture(self, preset: str = "default", **overrides: Any) -> dict[str, Any]:
        """The resolved architecture knobs (preset values updated by ``overrides``), as stored in checkpoints."""
        arch = dict(self.architectures[preset])
        unknown = set(overrides) - set(arch)
        if unknown:
            raise ValueError(f"unknown architecture option(s) for {self.name}/{preset}: {', '.join(sorted(unknown))}")
        arch.update(overrides)
        return arch

    def stored_architecture(self, preset: str, stored: Mapping[str, Any]) -> dict[str, Any]:
        """The arch of a saved run or checkpoint, completed for knobs newer than it (``legacy_knobs``)."""
        legacy = self.legacy_knobs.get(preset, {})
        return {**{k: v for k, v in legacy.items() if k not in stored}, **stored}


_REGISTRY: dict[str, SetupSpec] = {}
_PRESET_CACHE: dict[int, Mapping[str, TrainingPreset]] = {}
_BUILTIN_LOADED = False


def _load_builtin() -> None:
    """Register the built-in setups once, before the first lookup or registration (plugins by name)."""
    global _BUILTIN_LOADED
    if _BUILTIN_LOADED:
        return
    _BUILTIN_LOADED = True
    for name in BUILTIN:
        register(importlib.import_module(f"keepsmiling_core.setups.{name}").SPEC)


def _cached_presets(spec: SetupSpec) -> Mapping[str, TrainingPreset]:
    key = id(spec)
    if key not in _PRESET_CACHE:
        _PRESET_CACHE[key] = dict(spec.training_presets())
    return _PRESET_CACHE[key]


def register(spec: SetupSpec) -> SetupSpec:
    """Add a setup (ValueError when the name is taken or a preset name is unknown); returns it."""
    _load_builtin()
    if spec.name in _REGISTRY:
        raise ValueError(f"a setup named {spec.name!r} is already registered")
    unknown = set(spec.architectures) - set(PRESETS)
    if unknown or not spec.architectures:
        raise ValueError(f"setup {spec.name!r}: presets must be among {', '.join(PRESETS)}")
    _REGISTRY[spec.name] = spec
    return spec


def unregister(name: str) -> None:
    """Remove a setup (tests that register their own); unknown names are ignored."""
    _load_builtin()
    spec = _REGISTRY.pop(name, None)
    if spec is not None:
        _PRESET_CACHE.pop(id(spec), None)


def get_setup(name: str) -> SetupSpec:
    """The registered setup of that name; ValueError naming the choices otherwise."""
    _load_builtin()
    try:
        return _REGISTRY[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown setup {name!r}; choose one of {', '.join(_REGISTRY)}") from None


def find_setup(name: str) -> SetupSpec | None:
    _load_builtin()
    return _REGISTRY.get(name) if isinstance(name, str) else None


def setup_names() -> tuple[str, ...]:
    """Every registered setup, in registration order (the CLI's choices)."""
    _load_builtin()
    return tuple(_REGISTRY)


def listed_setups() -> tuple[SetupSpec, ...]:
    """Every setup in the order the app lists them (``listing_order``, then registration)."""
    _load_builtin()
    return tuple(sorted(_REGISTRY.values(), key=lambda spec: spec.listing_order))


def editable_setups() -> tuple[str, ...]:
    """Setups whose models edit photos, in the app's listing order."""
    return tuple(spec.name for spec in listed_setups() if spec.can_edit)


def _same_kind(name: str, default: Any, value: Any) -> Any:
    """``value`` when it is of the kind the preset's ``default`` is (ints may stand for floats)."""
    if isinstance(default, bool) or default is None:
        if default is None or isinstance(value, bool):
            return value
    elif isinstance(default, int | float) and isinstance(value, int | float) and not isinstance(value, bool):
        if not math.isfinite(value):
            raise ValueError(f"option {name} must be a finite number, not {value}")
        if isinstance(default, int) and not float(value).is_integer():
            raise ValueError(f"option {name} must be a whole number, not {value}")
        return type(default)(value)
    elif isinstance(default, str) and isinstance(value, str):
        return value
    elif not isinstance(default, bool | int | float | str):
        return value  # tuples and the like: the recipe checks them
    raise ValueError(f"option {name} must be {type(default).__name__} like its default {default!r}, not {value!r}")
