"""`keepsmiling export` packages a real trained run as a compact fp16 model that edits like the run."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from keepsmiling_core.cli.main import main
from keepsmiling_core.data.cache import load_crop_cache
from keepsmiling_core.data.tensors import to_tensor
from keepsmiling_core.models.checkpoint import load_model, read_meta


def test_export_writes_fp16_model_with_direction(tiny_splitgan_run: Path, small_cache: Path, tmp_path: Path,
                                                 capsys) -> None:
    out = tmp_path / "shipped" / "splitgan"
    assert main(["export", "--run", str(tiny_splitgan_run), "--out", str(out),
                 "--card", json.dumps({"data": "mtfl subset"})]) == 0
    assert "Exported" in capsys.readouterr().out

    meta = read_meta(out)
    assert meta["dtype"] == "float16" and "optim.safetensors" not in meta["files"]
    assert (out / "latent.safetensors").is_file() and (out / "latent.json").is_file()
    card = json.loads((out / "model.json").read_text())
    assert card["setup"] == "splitgan" and card["data"] == "mtfl subset"

    original, shipped = load_model(tiny_splitgan_run, "cpu"), load_model(out, "cpu")
    assert shipped.step == original.step
    crops = to_tensor(load_crop_cache(small_cache).images[:8])
    with torch.no_grad():
        a = original.nets["decoder"](original.nets["encoder"](crops))
        b = shipped.nets["decoder"](shipped.nets["encoder"](crops))
    # fp16 storage costs a little precision, far below one grey level of the 8-bit output.
    assert float((a - b).abs().max()) < 2 / 255 * 2
    smaller = (out / "model.safetensors").stat().st_size
    assert smaller < 0.6 * (Path(original.path) / "model.safetensors").stat().st_size
    assert np.isfinite(b.numpy()).all()


def test_export_refuses_a_folder_that_is_no_model(tmp_path: Path, capsys) -> None:
    (tmp_path / "empty").mkdir()
    assert main(["export", "--run", str(tmp_path / "empty"), "--out", str(tmp_path / "out")]) == 2
    assert "not a KeepSmiling model" in capsys.readouterr().err


def test_export_averages_the_last_checkpoints(small_cache: Path, tmp_path: Path, tiny_splitgan_run: Path,
                                              capsys) -> None:
    from keepsmiling_core.models.checkpoint import list_checkpoints
    from keepsmiling_core.training.config import TrainConfig
    from keepsmiling_core.training.trainer import Trainer

    run = Path(Trainer(TrainConfig(setup="complexgan", data=str(small_cache), out=str(tmp_path / "run"), steps=6,
                                   batch_size=8, device="cpu", checkpoint_every=2, sample_every=100, log_every=6,
                                   keep_checkpoints=5, tensorboard=False, seed=0, hparams={"n_critic": 1})).run())
    out = tmp_path / "averaged"
    assert main(["export", "--run", str(run), "--out", str(out), "--average", "3", "--fp32"]) == 0
    assert read_meta(out)["extra"]["averaged_steps"] == [2, 4, 6]
    snapshots = [load_model(path, "cpu") for path in list_checkpoints(run)]
    averaged = load_model(out, "cpu")
    assert averaged.step == 6
    for name in ("generator", "discriminator"):
        for key, value in averaged.nets[name].state_dict().items():
            if value.is_floating_point():
                mean = torch.stack([s.nets[name].state_dict()[key] for s in snapshots]).mean(0)
                assert torch.allclose(value, mean, atol=1e-6), key
    # The steps really differ, so the average is not just the last checkpoint.
    last = snapshots[-1].nets["generator"].state_dict()
    assert any(not torch.equal(v, last[k]) for k, v in averaged.nets["generator"].state_dict().items())

    capsys.readouterr()
    assert main(["export", "--run", str(run), "--out", str(tmp_path / "x"), "--average", "4"]) == 2
    assert "cannot average the last 4" in capsys.readouterr().err
    assert main(["export", "--run", str(tiny_splitgan_run), "--out", str(tmp_path / "y"), "--average", "2"]) == 2
    assert "smile direction" in capsys.readouterr().err
