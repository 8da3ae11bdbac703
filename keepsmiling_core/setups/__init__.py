"""The setups KeepSmiling trains and edits with, one module each (the registry is ``setup_spec.py``).

Adding a setup: write ``keepsmiling_core/setups/<name>.py`` defining ``SPEC = SetupSpec(...)`` and add
its name to ``BUILTIN`` in ``keepsmiling_core/setup_spec.py`` (the registry, which loads these modules on
its first lookup). Code outside this package asks ``get_setup(name)``/``setup_names()`` there.
"""

from __future__ import annotations

from keepsmiling_core.setup_spec import (
    BUILTIN,
    DEFAULT_SETUP,
    PRESETS,
    SetupSpec,
    TrainingPreset,
    editable_setups,
    find_setup,
    get_setup,
    listed_setups,
    register,
    setup_names,
    unregister,
)

__all__ = ["BUILTIN", "DEFAULT_SETUP", "PRESETS", "SetupSpec", "TrainingPreset", "editable_setups", "find_setup", "get_setup",
           "listed_setups", "register", "setup_names", "unregister"]
