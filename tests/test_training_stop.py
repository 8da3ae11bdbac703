"""A stop request abandons the training step under way (between the critic's and the generator's update,
or at any layer), undoes what the step changed, keeps a checkpoint of the last complete step, and the
resumed run is exactly the uninterrupted one."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from keepsmiling_core.models.checkpoint import list_checkpoints
from keepsmiling_core.training.config import TrainConfig
from keepsmiling_core.training.recipes.base import Recipe
from keepsmiling_core.training.trainer import Trainer


def _config(cache: Path, out: Path, setup: str, **kw) -> TrainConfig:
    base = dict(setup=setup, data=str(cache), out=str(out), steps=6, batch_size=8, checkpoint_every=100,
                sample_every=100, log_every=1, tensorboard=False, seed=3)
    base.update(kw)
    return TrainConfig(**base)


# (setup, hparams, which call of between_updates falls in step index 3)
CASES = [("simplegan", {}, 4), ("complexgan", {"n_critic": 2}, 2), ("splitgan", {}, 4)]


@pytest.mark.parametrize(("setup", "hparams", "call"), CASES)
def test_stop_between_critic_and_generator_resumes_exactly(setup, hparams, call, small_cache: Path,
                                                           tmp_path: Path, monkeypatch, uninterrupted_run) -> None:
    straight = uninterrupted_run(setup, hparams)  # _config's settings, trained once per session

    interrupted = Trainer(_config(small_cache, tmp_path / "b", setup, hparams=hparams))
    calls = [0]
    original = Recipe.between_updates

    def stop_on_the_nth_call(self) -> None:
        calls[0] += 1
        if calls[0] == call:  # the critic of step 4 has just been updated
            interrupted.stop()
        original(self)

    monkeypatch.setattr(Recipe, "between_updates", stop_on_the_nth_call)
    interrupted.run()
    monkeypatch.undo()
    assert interrupted.stopped_early
    assert [p.name for p in list_checkpoints(tmp_path / "b")] == ["step_00000003"]
    resumed = Trainer(_config(small_cache, tmp_path / "b", setup, resume=True, hparams=hparams)).run()

    a = load_file(str(list_checkpoints(straight)[-1] / "model.safetensors"))
    b = load_file(str(list_checkpoints(resumed)[-1] / "model.safetensors"))
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), f"{key} differs after a stop within a step and a resume"


def test_stop_within_a_slow_step_returns_within_a_second(small_cache: Path, tmp_path: Path,
                                                        slow_training_layers) -> None:
    slow_training_layers(0.02)  # a SplitGAN step then takes seconds, as on a loaded CPU
    trainer = Trainer(_config(small_cache, tmp_path / "slow", "splitgan", steps=50))
    reported: list[float] = []
    two = threading.Event()

    def on_progress(_progress) -> None:
        reported.append(time.monotonic())
        if len(reported) == 2:
            two.set()

    trainer.on_progress = on_progress
    returned: list[float] = []
    thread = threading.Thread(target=lambda: (trainer.run(), returned.append(time.monotonic())))
    thread.start()
    assert two.wait(180), "two steps never finished"
    step_seconds = reported[1] - reported[0]
    time.sleep(0.3)  # inside the third step
    asked = time.monotonic()
    trainer.stop()
    thread.join(30)
    assert returned, "the trainer did not return"
    latency = returned[0] - asked
    print(f"one step takes {step_seconds:.2f} s; stopped {latency:.2f} s after the request")
    assert latency < 1.0 and latency < step_seconds / 2, f"stop took {latency:.2f} s, a step {step_seconds:.2f} s"
    assert trainer.stopped_early
    assert [p.name for p in list_checkpoints(tmp_path / "slow")] == ["step_00000002"]
