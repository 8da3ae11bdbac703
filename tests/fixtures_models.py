"""Tiny but real trained runs (trained in the test session) shared by editing, evaluation and GUI tests.

Every fixture trains for real, through the same code users run (``Trainer``, ``compute_direction``,
``train_classifier``), on the ``small_cache`` MTFL subset at 32x32 - just briefly. They are session-scoped:
build once, read many times; tests must not write into them (copy the folder first if a test needs to change
a run).

The runs take about 70 s of one core together, so they train in a background process, started when the first
test starts, on the core the one-test-at-a-time suite leaves idle; the tests that need them run last
(``pytest_collection_modifyitems``), and each fixture waits for its run. A run trains the same wherever it
trains (one torch thread, the same seed and data).

* ``tiny_splitgan_run``  -> run folder of a default-preset SplitGAN trained for 100 steps with a sharp smile
  head (``SHARP_HEAD``: at 32 px the pooled head needs longer than a test), with latent.safetensors +
  latent.json (logistic-regression smile direction) beside its checkpoints, ready for ``Editor``; its
  metrics.jsonl has a line every 5 steps (test_trainer checks that the reconstruction error falls and
  that the mean-difference edits come to be judged as the other label).
* ``tiny_complexgan_run`` -> run folder of a ComplexGAN trained for 30 steps (its users need a real, loadable
  ComplexGAN that edits, not a good one).
* ``tiny_shape_runs``  -> {"splitgan": run, "complexgan": run}: both setups with ``shape_output`` (networks that
  emit field, paint mask and colour), 12 steps each, the SplitGAN with its smile direction (their tests check
  guarantees that must hold for any weights, so the runs need to be real and loadable, not good).
* ``tiny_classifier``    -> checkpoint folder of a SmileClassifier trained for 120 steps
  (held-out accuracy in its checkpoint.json ``extra.val_accuracy``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

SPLITGAN_STEPS = 100
# The default SplitGAN with a sharp smile head and no R1 on it: it learns the labels within 100 steps at 32 px.
SHARP_HEAD = {"cls_blur": 1, "cls_r1_gamma": 0.0, "lambda_edit_adv": 0.1}
SHAPE_STEPS = 12
COMPLEXGAN_STEPS = 30
CLASSIFIER_STEPS = 120

# fixture -> the run it returns, in the order the background process trains them (most used first)
SHARED_RUNS = {"tiny_splitgan_run": "splitgan", "tiny_complexgan_run": "complexgan",
               "tiny_shape_runs": "shape", "tiny_classifier": "classifier"}
# fixtures that ask for a shared run with request.getfixturevalue, so pytest cannot see the need
ASKS_FOR = {"splitgan_model": "tiny_splitgan_run"}
WAIT_S = 1200


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


def build_shared_run(kind: str, cache: Path, out: Path) -> Path | dict[str, Path]:
    """One of the shared runs (``SHARED_RUNS``), trained into the folder ``out``."""
    from keepsmiling_core.editing.latent import compute_direction

    if kind == "splitgan":
        run = train_tiny_run("splitgan", cache, out / "run", SPLITGAN_STEPS, log_every=5, hparams=SHARP_HEAD)
        compute_direction(run, cache, "logreg", device="cpu")
        return run
    if kind == "complexgan":
        return train_tiny_run("complexgan", cache, out / "run", COMPLEXGAN_STEPS)
    if kind == "shape":
        runs = {setup: train_tiny_run(setup, cache, out / setup, SHAPE_STEPS, arch={"shape_output": True},
                                      hparams={"cls_shape_view": True})
                for setup in ("splitgan", "complexgan")}
        compute_direction(runs["splitgan"], cache, "logreg", device="cpu")
        return runs
    if kind == "classifier":
        from keepsmiling_core.evaluation.classifier import ClassifierConfig, train_classifier

        report = train_classifier(ClassifierConfig(data=cache, out=out / "classifier", steps=CLASSIFIER_STEPS,
                                                   batch_size=32, device="cpu", seed=0))
        return report.path
    raise ValueError(f"unknown shared run {kind!r}")


def _needs(item: pytest.Item, fixture: str) -> bool:
    names = set(getattr(item, "fixturenames", ()))
    return fixture in names or any(asker in names and asked == fixture for asker, asked in ASKS_FOR.items())


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests that need a shared run go last (in their own order), so the runs train while the others run."""
    items.sort(key=lambda item: any(_needs(item, fixture) for fixture in SHARED_RUNS))


class BackgroundRuns:
    """The process training the shared runs; ``result(kind)`` waits for one (its JSON marker file)."""

    def __init__(self, kinds: list[str], cache: Path, root: Path) -> None:
        self.kinds, self.root = kinds, root
        self.log = root / "log.txt"
        with self.log.open("wb") as log:
            env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent), *sys.path])}
            self.process = subprocess.Popen([sys.executable, __file__, str(cache), str(root), *kinds],
                                            stdout=log, stderr=subprocess.STDOUT, env=env)

    def result(self, kind: str) -> Path | dict[str, Path]:
        marker = self.root / f"{kind}.json"
        deadline = time.monotonic() + WAIT_S
        while not marker.exists():
            if self.process.poll() is not None and not marker.exists():
                pytest.fail(f"training the shared {kind} run failed:\n{self.log.read_text()[-3000:]}")
            if time.monotonic() > deadline:
                pytest.fail(f"the shared {kind} run was not trained within {WAIT_S} s")
            time.sleep(0.1)
        value = json.loads(marker.read_text())
        return {k: Path(v) for k, v in value.items()} if isinstance(value, dict) else Path(value)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()


@pytest.fixture(scope="session", autouse=True)
def shared_runs_in_background(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """Starts training the shared runs this session's tests need (None when they need none)."""
    kinds = [kind for fixture, kind in SHARED_RUNS.items() if any(_needs(i, fixture) for i in request.session.items)]
    if not kinds:
        yield None
        return
    background = BackgroundRuns(kinds, request.getfixturevalue("small_cache"), tmp_path_factory.mktemp("shared"))
    yield background
    background.stop()


def _shared(request: pytest.FixtureRequest, fixture: str) -> Path | dict[str, Path]:
    background = request.getfixturevalue("shared_runs_in_background")
    kind = SHARED_RUNS[fixture]
    if background is None or kind not in background.kinds:  # asked for by name only: train it here
        out = request.getfixturevalue("tmp_path_factory").mktemp(f"tiny_{kind}")
        return build_shared_run(kind, request.getfixturevalue("small_cache"), out)
    return background.result(kind)


@pytest.fixture(scope="session")
def tiny_splitgan_run(request: pytest.FixtureRequest) -> Path:
    return _shared(request, "tiny_splitgan_run")


@pytest.fixture(scope="session")
def tiny_complexgan_run(request: pytest.FixtureRequest) -> Path:
    return _shared(request, "tiny_complexgan_run")


@pytest.fixture(scope="session")
def tiny_shape_runs(request: pytest.FixtureRequest) -> dict[str, Path]:
    return _shared(request, "tiny_shape_runs")


@pytest.fixture(scope="session")
def tiny_classifier(request: pytest.FixtureRequest) -> Path:
    return _shared(request, "tiny_classifier")


def main(argv: list[str]) -> int:
    """``python fixtures_models.py CACHE ROOT KIND...``: train each run into ROOT/KIND, then write ROOT/KIND.json."""
    import torch

    from keepsmiling_core.atomic import atomic_write_text

    torch.set_num_threads(1)
    cache, root, kinds = Path(argv[0]), Path(argv[1]), argv[2:]
    for kind in kinds:
        built = build_shared_run(kind, cache, root / kind)
        value = {k: str(v) for k, v in built.items()} if isinstance(built, dict) else str(built)
        atomic_write_text(root / f"{kind}.json", json.dumps(value))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
