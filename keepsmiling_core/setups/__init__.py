"""The setups KeepSmiling trains and edits with, one module each, and their registry (``spec.py``).

Adding a setup: write ``keepsmiling_core/setups/<name>.py`` defining ``SPEC = SetupSpec(...)`` and add
its name to ``BUILTIN`` below. Code outside this package asks ``get_setup(name)``/``setup_names()``.
"""

from __future__ import annotations

import importlib

from .spec import (
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

BUILTIN = ("simplegan", "complexgan", "splitgan")   # the registry lines: module names, in the CLI's order

for _name in BUILTIN:
    register(importlib.import_module(f"{__name__}.{_name}").SPEC)

__all__ = ["BUILTIN", "PRESETS", "SetupSpec", "TrainingPreset", "editable_setups", "find_setup", "get_setup",
           "listed_setups", "register", "setup_names", "unregister"]
