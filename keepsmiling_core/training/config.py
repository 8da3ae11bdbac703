"""The settings of one training run, saved as ``RUN/config.json`` so every run can be reproduced."""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..atomic import atomic_write_text
from ..errors import TrainingError
from ..setup_spec import DEFAULT_SETUP, PRESETS, find_setup, setup_names

# Fields a resumed run may change without breaking exact reproduction of the uninterrupted run.
RESUMABLE_CHANGES = ("steps", "device", "resume", "checkpoint_every", "sample_every", "log_every",
                     "keep_checkpoints", "tensorboard", "data", "out")


# Networks that edit by moving the photo's pixels (models/shape_texture): the architecture knob, and the
# smile head's brightness-free view at 2x pooling, which the shipped shape runs were trained with.
SHAPE_EDIT_ARCH: dict[str, Any] = {"shape_output": True}
SHAPE_EDIT_HPARAMS: dict[str, Any] = {"cls_shape_view": True, "cls_blur": 2}


def supports_shape_edits(setup: str, preset: str = "default") -> bool:
    spec = find_setup(setup)
    return spec is not None and "shape_output" in spec.architectures.get(preset, {})


def with_shape_edits(setup: str, preset: str, arch: dict[str, Any], hparams: dict[str, Any]
                     ) -> tuple[dict[str, Any], dict[str, Any]]:
    """``arch`` and ``hparams`` for a shape × texture run: the shape settings under the caller's own."""
    if not supports_shape_edits(setup, preset):
        raise TrainingError(f"The {setup} setup's {preset} preset has no shape × texture networks; "
                            "use SplitGAN or ComplexGAN with the default preset.")
    return {**SHAPE_EDIT_ARCH, **arch}, {**SHAPE_EDIT_HPARAMS, **hparams}


@dataclass
class TrainConfig:
    """``None`` means "the preset's value" (steps, batch size, learning rate: the setup's spec in
    ``keepsmiling_core/setups``, the one home of training defaults) or "the cache's" (crop size).

    ``hparams`` overrides a setup's loss weights and optimiser settings by name (see the recipe
    dataclasses, e.g. ``{"lambda_rec": 5.0, "n_critic": 3}``); ``arch`` overrides network widths.
    """

    setup: str = DEFAULT_SETUP
    data: str = ""                     # crop cache folder (keepsmiling prepare)
    out: str = ""                      # run folder
    preset: str = "default"
    steps: int | None = None           # None: the preset's (filled in on construction)
    batch_size: int | None = None
    lr: float | None = None            # generator LR; the critic's keeps the preset's ratio to it
    size: int | None = None
    device: str = "auto"
    seed: int = 0
    resume: bool = False
    checkpoint_every: int = 500
    sample_every: int = 250
    log_every: int = 10
    keep_checkpoints: int = 3
    tensorboard: bool = True
    init_from: str | None = None       # start from this checkpoint's weights (fine-tuning; fresh optimizers)
    smile_from: str | None = None      # crop cache whose mean smile ``lambda_shape`` asks for (None: ``data``)
    hparams: dict[str, Any] = field(default_factory=dict)
    arch: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.steps is None:
            spec = find_setup(self.setup)
            if spec is not None and self.preset in spec.presets:
                self.steps = spec.training_preset(self.preset).steps

    def validate(self) -> None:
        spec = find_setup(self.setup)
        if spec is None:
            raise TrainingError(f"Unknown setup {self.setup!r}: choose one of {', '.join(setup_names())}.")
        if self.preset not in spec.presets:
            choices = ", ".join(name for name in PRESETS if name in spec.presets)
            raise TrainingError(f"Unknown preset {self.preset!r}: choose one of {choices}.")
        if not self.data:
            raise TrainingError("No crop cache given: pass --data CACHE_DIR (made by 'keepsmiling prepare').")
        if not self.out:
            raise TrainingError("No run folder given: pass --out RUN_DIR.")
        for name in ("steps", "checkpoint_every", "sample_every", "log_every"):
            if getattr(self, name) < 1:
                raise TrainingError(f"{name.replace('_', '-')} must be at least 1, not {getattr(self, name)}.")
        if self.keep_checkpoints < 0:
            raise TrainingError(f"keep-checkpoints must be 0 (keep all) or more, not {self.keep_checkpoints}.")
        if self.batch_size is not None and self.batch_size < 1:
            raise TrainingError(f"batch size must be at least 1, not {self.batch_size}.")
        if self.lr is not None and not (self.lr > 0 and math.isfinite(self.lr)):
            raise TrainingError(f"learning rate must be a positive number, not {self.lr}.")
        from ..validation import MAX_ARCH_VALUE

        for name, value in self.arch.items():  # checked before any network is built
            if isinstance(value, bool):
                continue
            if not isinstance(value, int) or not 0 <= value <= MAX_ARCH_VALUE:
                raise TrainingError(f"--arch {name}={value!r}: network sizes are whole numbers from 0 to "
                                    f"{MAX_ARCH_VALUE}.")
        for name, value in self.hparams.items():
            if isinstance(value, float) and not math.isfinite(value):
                raise TrainingError(f"--set {name}={value}: give a finite number.")
        try:
            spec.hyperparameters(self.preset, self.hparams)
        except ValueError as exc:
            raise TrainingError(f"--set: {exc}.") from None

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TrainConfig:
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})

    def save(self, path: Path) -> None:
        atomic_write_text(path, json.dumps(self.to_json(), indent=2) + "\n")

    @classmethod
    def load(cls, path: Path) -> TrainConfig:
        """A saved config.json, schema-checked (``check_saved_config``); TrainingError when damaged."""
        from ..errors import KeepSmilingError
        from ..validation import read_json_file

        try:
            return cls.from_json(check_saved_config(read_json_file(path, "fix or delete it"), Path(path)))
        except KeepSmilingError as exc:
            raise TrainingError(f"Cannot read the run's settings: {exc}") from None


def check_saved_config(data: Any, path: Path) -> dict:
    """A run's config.json (or a checkpoint's stored config) checked by ``validation.check_run_config``
    against the setups, presets and recipe hyper-parameters this version trains; ValidationError if not."""
    from ..validation import check_run_config

    def hyperparameters(setup: str, preset: str, hparams: dict) -> Any:
        return find_setup(setup).hyperparameters(preset, hparams)

    return check_run_config(data, path, setups=setup_names(), presets=PRESETS, hyperparameters=hyperparameters)
