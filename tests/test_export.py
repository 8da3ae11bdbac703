"""`keepsmiling export` packages a real trained run as a compact fp16 model that edits like the run."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from keepsmiling_core.cli.main import main
from keepsmiling_core.data.cache import load_crop_cache
from keepsmiling_core.data.tensors import to_tensor
from keepsmiling_core.training.checkpoint import load_model, read_meta


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
