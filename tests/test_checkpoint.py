"""The one checkpoint format: round trips, fp16 shipping, and clear refusals of damaged or foreign files."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest
import torch

from keepsmiling_core.errors import CheckpointError
from keepsmiling_core.models.checkpoint import (
    MODEL_FILE,
    checkpoint_dir_for,
    list_checkpoints,
    load_model,
    load_training_state,
    prune_checkpoints,
    save_checkpoint,
)
from keepsmiling_core.models.registry import build_setup


def _trained_splitgan(seed: int = 0):
    """Networks and an optimizer with non-trivial state (one real Adam step)."""
    torch.manual_seed(seed)
    nets = build_setup("splitgan", "default", 32)
    params = [*nets["encoder"].parameters(), *nets["decoder"].parameters()]
    optim = torch.optim.Adam(params, lr=1e-3, betas=(0.5, 0.99))
    x = torch.rand(4, 3, 32, 32) * 2 - 1
    (nets["decoder"](nets["encoder"](x)) - x).abs().mean().backward()
    optim.step()
    return nets, {"generator": optim}


def _save(path: Path, nets, optimizers=None, step: int = 7, **kw) -> Path:
    return save_checkpoint(path, nets, setup="splitgan", preset="default", size=32, step=step,
                           config={"note": "test"}, optimizers=optimizers, **kw)


def test_checkpoint_round_trips_weights_optimizer_and_metadata(tmp_path: Path) -> None:
    nets, optims = _trained_splitgan()
    folder = _save(checkpoint_dir_for(tmp_path / "run", 7), nets, optims,
                   state_tensors={"rng_cpu": torch.get_rng_state()})
    assert sorted(p.name for p in folder.iterdir()) == ["checkpoint.json", "model.safetensors", "optim.safetensors"]
    assert not [p for p in folder.parent.iterdir() if p.name.startswith(".")], "temporary folder left behind"

    loaded = load_model(tmp_path / "run", "cpu")  # a run folder resolves to its latest checkpoint
    assert (loaded.setup, loaded.preset, loaded.size, loaded.step) == ("splitgan", "default", 32, 7)
    assert loaded.path == folder and loaded.meta["config"] == {"note": "test"}
    for name, net in nets.items():
        assert not loaded.nets[name].training
        for (k, a), b in zip(net.state_dict().items(), loaded.nets[name].state_dict().values(), strict=True):
            assert torch.equal(a, b), f"{name}.{k} changed in the round trip"

    fresh, _ = _trained_splitgan(seed=1)
    fresh_optim = {"generator": torch.optim.Adam([*fresh["encoder"].parameters(), *fresh["decoder"].parameters()])}
    meta, state = load_training_state(folder, fresh, fresh_optim)
    assert torch.equal(state["rng_cpu"], torch.get_rng_state()) or state["rng_cpu"].dtype == torch.uint8
    saved_state = optims["generator"].state_dict()
    restored = fresh_optim["generator"].state_dict()
    assert restored["param_groups"][0]["betas"] == (0.5, 0.99)
    for index, entries in saved_state["state"].items():
        for key, value in entries.items():
            assert torch.equal(value, restored["state"][index][key])


def test_half_precision_checkpoint_loads_as_float32(tmp_path: Path) -> None:
    nets, _ = _trained_splitgan()
    full = _save(tmp_path / "full", nets)
    half = _save(tmp_path / "half", nets, half=True)
    assert (half / MODEL_FILE).stat().st_size < 0.6 * (full / MODEL_FILE).stat().st_size
    loaded = load_model(half, "cpu")
    x = torch.rand(2, 3, 32, 32) * 2 - 1
    with torch.no_grad():
        expected = nets["decoder"].eval()(nets["encoder"].eval()(x))
        got = loaded.nets["decoder"](loaded.nets["encoder"](x))
    assert loaded.nets["encoder"].net[0].weight.dtype == torch.float32
    assert (got - expected).abs().max() < 0.02


def test_truncated_weights_are_refused_with_the_file_named(tmp_path: Path) -> None:
    nets, optims = _trained_splitgan()
    folder = _save(tmp_path / "ckpt", nets, optims)
    weights = folder / MODEL_FILE
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    with pytest.raises(CheckpointError, match="truncated") as err:
        load_model(folder, "cpu")
    assert str(weights) in str(err.value)


def test_corrupted_bytes_are_detected(tmp_path: Path) -> None:
    nets, _ = _trained_splitgan()
    folder = _save(tmp_path / "ckpt", nets)
    data = bytearray((folder / MODEL_FILE).read_bytes())
    data[-100] ^= 0xFF
    (folder / MODEL_FILE).write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="corrupt"):
        load_model(folder, "cpu")


def test_truncated_metadata_is_refused(tmp_path: Path) -> None:
    nets, _ = _trained_splitgan()
    folder = _save(tmp_path / "ckpt", nets)
    meta = folder / "checkpoint.json"
    meta.write_text(meta.read_text()[:50])
    with pytest.raises(CheckpointError, match="corrupt or truncated"):
        load_model(folder, "cpu")


def test_foreign_files_are_refused_without_unpickling(tmp_path: Path) -> None:
    # A PyTorch pickle where our files should be: never loaded, clearly refused.
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "model.pt").write_bytes(pickle.dumps({"weights": [1, 2, 3]}))
    with pytest.raises(CheckpointError, match="not a KeepSmiling model"):
        load_model(foreign, "cpu")
    # A JSON file of another program named checkpoint.json.
    (foreign / "checkpoint.json").write_text(json.dumps({"format": "something-else", "step": 3}))
    with pytest.raises(CheckpointError, match="not a KeepSmiling checkpoint"):
        load_model(foreign / "checkpoint.json", "cpu")
    # Binary garbage as checkpoint.json.
    (foreign / "checkpoint.json").write_bytes(b"\x80\x04\x95" + bytes(range(256)))
    with pytest.raises(CheckpointError):
        load_model(foreign, "cpu")
    with pytest.raises(CheckpointError, match="does not exist"):
        load_model(tmp_path / "nowhere", "cpu")


def test_setup_and_shape_mismatches_are_refused(tmp_path: Path) -> None:
    nets, _ = _trained_splitgan()
    folder = _save(tmp_path / "ckpt", nets)
    with pytest.raises(CheckpointError, match="splitgan model, but a complexgan"):
        load_model(folder, "cpu", setup="complexgan")
    # Weights of a 32px SplitGAN declared as a wider architecture do not fit.
    meta_path = folder / "checkpoint.json"
    meta = json.loads(meta_path.read_text())
    meta["arch"]["width"] = 16
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match="do not fit"):
        load_model(folder, "cpu")


def test_weights_only_checkpoint_cannot_resume_and_pruning_keeps_the_newest(tmp_path: Path) -> None:
    nets, optims = _trained_splitgan()
    for step in (1, 2, 3):
        _save(checkpoint_dir_for(tmp_path / "run", step), nets, step=step)
    prune_checkpoints(tmp_path / "run", keep=2)
    assert [p.name for p in list_checkpoints(tmp_path / "run")] == ["step_00000002", "step_00000003"]
    with pytest.raises(CheckpointError, match="cannot resume"):
        load_training_state(tmp_path / "run", nets, optims)


def test_checkpoints_older_than_an_architecture_knob_still_load(tmp_path: Path) -> None:
    """A SimpleGAN saved before the d_batchnorm and ema knobs existed had the patch critic and no weight
    average; it must load as such."""
    from keepsmiling_core.models.discriminators import PatchDiscriminator

    nets = build_setup("simplegan", "default", 32, ngf=32, ndf=32, d_batchnorm=False, ema=False)
    folder = save_checkpoint(tmp_path / "old", nets, setup="simplegan", preset="default", size=32, step=1,
                             config={}, arch={"d_batchnorm": False})
    meta_path = folder / "checkpoint.json"
    meta = json.loads(meta_path.read_text())
    meta["arch"] = {"nz": 100, "ngf": 32, "ndf": 32}  # what such a checkpoint stored
    meta_path.write_text(json.dumps(meta))
    nets = load_model(folder, "cpu").nets
    assert isinstance(nets["discriminator"], PatchDiscriminator) and "generator_ema" not in nets


def test_a_run_can_start_from_weights_without_a_new_head(tmp_path: Path) -> None:
    """Fine-tuning: matching weights are copied, a head the old critic lacked stays fresh, mismatches refuse."""
    from keepsmiling_core.models.checkpoint import init_weights_from

    torch.manual_seed(0)
    old = build_setup("splitgan", "default", 32, smile_head=False)
    folder = save_checkpoint(tmp_path / "old", old, setup="splitgan", preset="default", size=32, step=3,
                             config={}, arch={"smile_head": False})
    torch.manual_seed(1)
    new = build_setup("splitgan", "default", 32)
    fresh_head = new["discriminator"].cls.weight.clone()
    fresh = init_weights_from(folder, new, "splitgan")
    assert fresh == ["discriminator.cls.weight", "discriminator.cls.bias"]
    for name in ("encoder", "decoder"):
        for key, value in old[name].state_dict().items():
            assert torch.equal(new[name].state_dict()[key], value), f"{name}.{key} was not copied"
    assert torch.equal(new["discriminator"].cls.weight, fresh_head)
    with pytest.raises(CheckpointError, match="complexgan run cannot start"):
        init_weights_from(folder, build_setup("complexgan", "default", 32), "complexgan")
    with pytest.raises(CheckpointError, match="shape"):
        init_weights_from(folder, build_setup("splitgan", "default", 32, width=16), "splitgan")
