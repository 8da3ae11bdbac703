"""One way to open any edit model: a network run (SplitGAN, ComplexGAN) or the landmark warp.

The app, ``keepsmiling smile`` and ``keepsmiling evaluate-photos`` all open editors here, so they run
the same edit for the same folder. A folder holding ``smile_shape.json`` is the landmark warp; any other
folder is a network checkpoint for ``Editor``.
"""

from __future__ import annotations

from pathlib import Path

from keepsmiling_core.editing.smile_shape import is_shape_model

DEFAULT_EDIT_MODEL = "warp"   # the shipped edit the app and the CLI use when none is picked


def default_edit_model_path() -> Path:
    from keepsmiling_core.paths import shipped_models_dir

    return shipped_models_dir() / DEFAULT_EDIT_MODEL


def open_editor(model: str | Path | None = None, device=None, options=None):
    """An editor for a model folder (None: the shipped default); both kinds share prepare/render/apply_all.

    Torch is imported only for a network model: the warp needs none."""
    path = default_edit_model_path() if model is None else Path(model)
    if is_shape_model(path):
        from keepsmiling_core.editing.warp import WarpEditor

        return WarpEditor(path)
    from keepsmiling_core.editing.editor import network_editor

    return network_editor(path, device=device, options=options)
