"""Data-parallel training with 2 gloo processes on real MTFL crops (tiny 32 px networks, a few steps).

What must hold: every rank ends with identical weights; a 2 x B run matches a 1 x 2B single-process run;
a DDP run resumes where it stopped, with the same or another process count; a rank that dies ends the
job with a message naming it. The 2-process runs share one launch, since starting processes dominates.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.distributed as dist
from safetensors.torch import load_file

from keepsmiling_core.errors import TrainingError
from keepsmiling_core.models.checkpoint import checkpoint_dir_for
from keepsmiling_core.models.registry import build_setup
from keepsmiling_core.training.config import TrainConfig
from keepsmiling_core.training.distributed import launch
from keepsmiling_core.training.trainer import Trainer

B = 8   # per-process batch of the 2-process runs; the single-process reference trains on 2B

# SplitGAN without BatchNorm. The edit terms are off here: they move latents by the batch's class-mean
# difference, which each rank takes over its own batch, so they would differ from a 2B batch by design.
# A constant LR, so a run extended by --resume follows the same schedule as one started that long.
PLAIN = dict(setup="splitgan", arch={"width": 8, "ndf": 8},
             hparams={"lambda_edit": 0.0, "lambda_edit_adv": 0.0, "schedule": "constant"})
# SimpleGAN: DCGAN generator and critic both with BatchNorm (per-rank batch statistics on the CPU).
BATCHNORM = dict(setup="simplegan", arch={"nz": 16, "ngf": 8, "ndf": 8})

# float32 sums over 2 x 8 crops and then over 2 ranks round differently from sums over 16 crops
# (relative error ~1e-7 per operation), and Adam's first steps (m / sqrt(v) ~ sign of the gradient) can
# turn such a difference into a whole step for a weight whose gradient is ~0. Measured: max |diff|
# 2.2e-7 after 4 steps. An Adam step moves a weight by up to the LR (5e-4 for SplitGAN's autoencoder),
# so 2e-5 - a twenty-fifth of one step - fails a missing, doubled or mis-sliced average.
ATOL = 2e-5


def _config(cache: Path, out: Path, setup: dict, **kw) -> dict:
    base = dict(data=str(cache), out=str(out), steps=4, checkpoint_every=2, sample_every=100, log_every=1,
                keep_checkpoints=10, tensorboard=False, seed=3, device="cpu", **setup)
    base.update(kw)
    return base


def _state(nets) -> dict[str, np.ndarray]:
    return {f"{name}.{key}": value.detach().cpu().numpy().copy()
            for name, net in nets.items() for key, value in net.state_dict().items()}


def _train_in_ranks(jobs: list[dict]) -> list[dict[str, np.ndarray]]:
    """Runs in each of the 2 ranks: train the jobs one after another, return each job's final weights.

    The process group is joined once here and kept for all jobs (the trainer then uses it as it is):
    re-creating it within one process would rendezvous on the launcher's store again, where the
    previous group's addresses are still published."""
    torch.set_num_threads(1)
    dist.init_process_group("gloo")
    try:
        results = []
        for job in jobs:
            trainer = Trainer(TrainConfig(**job))
            trainer.run()
            results.append(_state(trainer.nets))
        return results
    finally:
        dist.destroy_process_group()


def _die_on_rank_one() -> None:
    if os.environ["RANK"] == "1":
        raise SystemExit(3)
    time.sleep(120)  # rank 0 would wait for its peer; the launcher must stop it


def _checkpoint_state(run: Path, step: int) -> dict[str, np.ndarray]:
    return {k: v.float().numpy() for k, v in load_file(checkpoint_dir_for(run, step) / "model.safetensors").items()}


def _max_diff(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> float:
    float_keys = [k for k in a if a[k].dtype.kind == "f" and "generator_ema" not in k]
    assert float_keys and set(float_keys) <= set(b)
    return max(float(np.abs(a[k].astype(np.float64) - b[k]).max()) for k in float_keys)


def _steps(run: Path) -> list[int]:
    return [json.loads(line)["step"] for line in (run / "metrics.jsonl").read_text().splitlines()]


@pytest.fixture(scope="module")
def ddp_runs(small_cache: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("ddp")
    jobs = [
        _config(small_cache, root / "plain2", PLAIN, steps=2, batch_size=B),
        _config(small_cache, root / "plain2", PLAIN, steps=4, batch_size=B, resume=True),
        _config(small_cache, root / "bn2", BATCHNORM, steps=4, batch_size=B),
    ]
    started = time.perf_counter()
    per_rank = launch(2, _train_in_ranks, (jobs,), threads_per_process=1)
    return {"root": root, "ranks": per_rank, "seconds": time.perf_counter() - started}


def test_two_ranks_hold_identical_weights(ddp_runs: dict) -> None:
    ranks = ddp_runs["ranks"]
    assert sorted(ranks) == [0, 1]
    for job in range(3):
        zero, one = ranks[0][job], ranks[1][job]
        assert zero.keys() == one.keys()
        for key in zero:
            assert np.array_equal(zero[key], one[key]), f"job {job}: {key} differs between the ranks"
    # BatchNorm running statistics were averaged over the ranks, so they match too (and are not the init).
    bn = ranks[0][2]
    assert any("running_mean" in k and np.abs(bn[k]).max() > 0 for k in bn)


def test_resumed_ddp_run_matches_one_process_with_twice_the_batch(ddp_runs: dict, small_cache: Path,
                                                                  tmp_path: Path) -> None:
    """2 x B for 2 steps, resumed 2 x B to step 4, resumed by ONE process to step 6 == 1 x 2B for 6 steps."""
    root = ddp_runs["root"]
    reference = Trainer(TrainConfig(**_config(small_cache, tmp_path / "ref", PLAIN, steps=6,
                                              batch_size=2 * B)))
    reference.run()
    ddp_at_4 = ddp_runs["ranks"][0][1]
    assert _max_diff(ddp_at_4, _checkpoint_state(tmp_path / "ref", 4)) < ATOL
    # ... and the comparison is not vacuous: 2 steps moved the weights far more than the tolerance.
    assert _max_diff(_checkpoint_state(root / "plain2", 2), _checkpoint_state(root / "plain2", 4)) > 20 * ATOL

    run = root / "plain2"
    assert _steps(run) == [1, 2, 3, 4]
    config = json.loads((run / "config.json").read_text())["resolved"]
    assert config["world_size"] == 2 and config["global_batch"] == 2 * B and config["hparams"]["batch_size"] == B
    single = Trainer(TrainConfig(**_config(small_cache, run, PLAIN, steps=6, resume=True)))
    single.run()
    assert _steps(run) == [1, 2, 3, 4, 5, 6]
    resolved = json.loads((run / "config.json").read_text())["resolved"]
    assert resolved["world_size"] == 1 and resolved["hparams"]["batch_size"] == 2 * B
    assert _max_diff(_state(single.nets), _state(reference.nets)) < ATOL
    row = json.loads((run / "metrics.jsonl").read_text().splitlines()[-1])
    assert row["images_per_s"] > 0 and 0 <= row["data_wait_share"] <= 1


def test_batchnorm_ranks_stay_close_to_one_process(ddp_runs: dict, small_cache: Path, tmp_path: Path) -> None:
    """With per-rank BatchNorm statistics (no SyncBatchNorm on the CPU) each rank normalises its 8 crops
    by their own mean and variance, the single process its 16 by theirs, so the runs differ by design.
    They must still take the same steps in spirit: the gap between them stays a small fraction of how
    far either moved from the common start (a missing gradient average leaves it near 1)."""
    torch.manual_seed(3)  # the seed of _config: the networks every run starts from
    init = _state(build_setup("simplegan", "default", 32, **BATCHNORM["arch"]))
    single = Trainer(TrainConfig(**_config(small_cache, tmp_path / "bn1", BATCHNORM, steps=4, batch_size=2 * B)))
    single.run()
    one, two = _state(single.nets), ddp_runs["ranks"][0][2]
    keys = [k for k in one if k.endswith("weight") and "generator_ema" not in k]
    moved = np.sqrt(sum(float(((one[k] - init[k]) ** 2).sum()) for k in keys))
    gap = np.sqrt(sum(float(((one[k] - two[k]) ** 2).sum()) for k in keys))
    assert moved > 0 and gap < 0.5 * moved, (gap, moved)


def test_a_dead_rank_ends_the_job_with_its_name() -> None:
    started = time.perf_counter()
    with pytest.raises(TrainingError, match="rank 1 of 2 failed"):
        launch(2, _die_on_rank_one, threads_per_process=1)
    assert time.perf_counter() - started < 60


@pytest.mark.parametrize(("setup", "hparams", "expected"), [
    ("splitgan", {}, {"discriminator"}),                                   # R1 on real crops
    ("splitgan", {"r1_gamma": 0.0, "cls_r1_gamma": 0.0}, set()),
    ("complexgan", {}, {"discriminator"}),                                 # WGAN-GP
    ("complexgan", {"lambda_gp": 0.0}, set()),
    ("simplegan", {}, set()),                                              # the default has no R1
    ("simplegan", {"r1_gamma": 1.0}, {"discriminator"}),
])
def test_nets_with_a_gradient_penalty_keep_their_batchnorm(setup: str, hparams: dict, expected: set) -> None:
    """Each recipe says which of its nets are differentiated twice; SyncBatchNorm skips exactly those."""
    from keepsmiling_core.setups import get_setup

    spec = get_setup(setup)
    nets = build_setup(setup, preset="original", size=64)  # original networks have BatchNorm; some need 64 px
    recipe = spec.recipe_class()(nets, spec.hyperparameters("original", hparams), torch.device("cpu"))
    assert recipe.twice_differentiated == expected
    with_batchnorm = {name for name, net in nets.items()
                      if any(isinstance(m, torch.nn.modules.batchnorm._BatchNorm) for m in net.modules())}
    from keepsmiling_core.training.distributed import convert_sync_batchnorm

    assert set(convert_sync_batchnorm(nets, recipe.twice_differentiated)) == with_batchnorm - expected
