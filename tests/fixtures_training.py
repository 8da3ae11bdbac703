"""Training fixtures: a slow training step on demand, and uninterrupted reference runs shared by the session.

* ``slow_training_layers``: the trainer's real networks, each layer made slower, as on a loaded CPU. Stop
  and quit latency is measured against this, with the real ``Trainer`` on a real crop cache; only the time
  each layer takes is changed (a forward pre-hook that sleeps), never what the trainer does.
* ``uninterrupted_run(setup, hparams)``: the run folder of ``REFERENCE`` trained straight through, once per
  session and (setup, hparams); stop-and-resume tests compare their resumed runs with it. Read-only.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest

# The settings every stop/resume test trains with (test_trainer.py, test_training_stop.py): 6 steps of 8
# crops, logged every step, one checkpoint at the end.
REFERENCE = dict(steps=6, batch_size=8, checkpoint_every=100, sample_every=100, log_every=1, tensorboard=False,
                 seed=3)


@pytest.fixture(scope="session")
def uninterrupted_run(small_cache: Path, tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Path]:
    from keepsmiling_core.training.config import TrainConfig
    from keepsmiling_core.training.trainer import Trainer

    runs: dict[str, Path] = {}

    def run(setup: str, hparams: dict | None = None) -> Path:
        key = json.dumps([setup, hparams or {}], sort_keys=True)
        if key not in runs:
            out = tmp_path_factory.mktemp(f"uninterrupted_{setup}") / "run"
            config = TrainConfig(setup=setup, data=str(small_cache), out=str(out), hparams=dict(hparams or {}),
                                 **REFERENCE)
            runs[key] = Path(Trainer(config).run())
        return runs[key]

    return run


@pytest.fixture
def slow_training_layers(monkeypatch: pytest.MonkeyPatch) -> Callable[[float], None]:
    """Call with the seconds each layer should take longer (0: full speed again); applies to trainers
    built after the first call."""
    from keepsmiling_core.training import trainer as trainer_module

    delay = {"seconds": 0.0}
    real_build = trainer_module.build_recipe

    def sleep_a_while(*_args) -> None:
        if delay["seconds"] > 0:
            time.sleep(delay["seconds"])

    def build_slow(setup, preset, nets, device, overrides):
        for net in nets.values():
            for module in net.modules():
                if not any(True for _ in module.children()):
                    module.register_forward_pre_hook(sleep_a_while)
        return real_build(setup, preset, nets, device, overrides)

    def slow(seconds_per_layer: float) -> None:
        delay["seconds"] = seconds_per_layer
        monkeypatch.setattr(trainer_module, "build_recipe", build_slow)

    return slow
