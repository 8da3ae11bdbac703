"""A slow training step on demand: the trainer's real networks, each layer made slower, as on a loaded CPU.

Stop and quit latency is measured against this, with the real ``Trainer`` on a real crop cache; only the
time each layer takes is changed (a forward pre-hook that sleeps), never what the trainer does.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest


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
