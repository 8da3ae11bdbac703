"""Tiny but real trained runs (trained in the test session) shared by editing, evaluation and GUI tests.

Every fixture trains for real, through the same code users run (``Trainer``, ``compute_direction``,
``train_classifier``), on the ``small_cache`` MTFL subset at 32x32 - just briefly: the three together take
about a minute on two CPU cores, most of it the SplitGAN. They are session-scoped: build once, read many times;
tests must not write into them (copy the folder first if a test needs to change a run).

* ``tiny_splitgan_run``  -> run folder of a SplitGAN trained for 100 steps, with latent.safetensors +
  latent.json (logistic-regression smile direction) beside its checkpoints, ready for ``Editor``; its
  metrics.jsonl has a line every 5 steps (test_trainer checks that the reconstruction error falls).
* ``tiny_complexgan_run`` -> run folder of a ComplexGAN trained for 30 steps (its users need a real, loadable
  ComplexGAN that edits, not a good one).
* ``tiny_shape_runs``  -> {"splitgan": run, "complexgan": run}: both setups with ``shape_output`` (networks that
  emit field, paint mask and colour), 40 steps each, the SplitGAN with its smile direction.
* ``tiny_classifier``    -> checkpoint folder of a SmileClassifier trained for 120 steps
  (held-out accuracy in its checkpoint.json ``extra.val_accuracy``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

SPLITGAN_STEPS = 100
COMPLEXGAN_STEPS = 30
CLASSIFIER_STEPS = 120


def train_tiny_run(setup: str, cache: Path, out: Path, steps: int, log_every: int | None = None,
                   arch: dict | None = None, hparams: dict | None = None) -> Path:
    """Train ``setup`` for ``steps`` steps on ``cache`` into ``out`` (one checkpoint, no TensorBoard).

    ``log_every`` changes only what metrics.jsonl records, never the weights (default: the last step)."""
    from keepsmiling_core.training.config import TrainConfig
    from keepsmiling_core.training.trainer import Trainer

    config = TrainConfig(setup=setup, data=str(cache), out=str(out), steps=steps, batch_size=16, device="cpu",
                         checkpoint_every=steps, sample_every=steps, log_every=log_every or steps, keep_checkpoints=1,
                         tensorboard=False, seed=0, arch=arch or {}, hparams=hparams or {})
    return Path(Trainer(config).run())


@pytest.fixture(scope="session")
def tiny_splitgan_run(small_cache: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from keepsmiling_core.editing.latent import compute_direction

    run = train_tiny_run("splitgan", small_cache, tmp_path_factory.mktemp("tiny_splitgan") / "run", SPLITGAN_STEPS,
                         log_every=5)
    compute_direction(run, small_cache, "logreg", device="cpu")
    return run


@pytest.fixture(scope="session")
def tiny_complexgan_run(small_cache: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return train_tiny_run("complexgan", small_cache, tmp_path_factory.mktemp("tiny_complexgan") / "run",
                          COMPLEXGAN_STEPS)


@pytest.fixture(scope="session")
def tiny_shape_runs(small_cache: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    from keepsmiling_core.editing.latent import compute_direction

    runs = {setup: train_tiny_run(setup, small_cache, tmp_path_factory.mktemp(f"tiny_shape_{setup}") / "run", 40,
                                  arch={"shape_output": True}, hparams={"cls_shape_view": True})
            for setup in ("splitgan", "complexgan")}
    compute_direction(runs["splitgan"], small_cache, "logreg", device="cpu")
    return runs


@pytest.fixture(scope="session")
def tiny_classifier(small_cache: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from keepsmiling_core.evaluation.classifier import ClassifierConfig, train_classifier

    out = tmp_path_factory.mktemp("tiny_classifier") / "classifier"
    report = train_classifier(ClassifierConfig(data=small_cache, out=out, steps=CLASSIFIER_STEPS, batch_size=32,
                                               device="cpu", seed=0))
    return report.path
