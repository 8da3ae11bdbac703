"""The smile direction of a real (tiny) SplitGAN: stored correctly, calibrated, pointing the right way."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from keepsmiling_core.cli.main import main
from keepsmiling_core.data.cache import load_crop_cache
from keepsmiling_core.editing.latent import encode_images, fit_direction, load_direction
from keepsmiling_core.errors import KeepSmilingError
from keepsmiling_core.models.checkpoint import load_model


@pytest.fixture(scope="module")
def latents(tiny_splitgan_run, small_cache):
    model = load_model(tiny_splitgan_run, device="cpu")
    cache = load_crop_cache(small_cache)
    return encode_images(model.nets["encoder"], cache.images), np.asarray(cache.smiling, bool)


def test_stored_direction_separates_the_training_latents(tiny_splitgan_run, latents):
    z, smiling = latents
    info = json.loads((tiny_splitgan_run / "latent.json").read_text())
    assert info["method"] == "logreg" and info["count_smiling"] + info["count_non_smiling"] == len(z)
    direction = load_direction(tiny_splitgan_run)
    assert direction.unit.numel() == z.shape[1]
    assert float(np.linalg.norm(direction.unit.numpy())) == pytest.approx(1.0, abs=1e-4)
    proj = z @ direction.unit.numpy()
    # Points from non-smiling to smiling, and separates the domains better than chance.
    assert proj[smiling].mean() > proj[~smiling].mean()
    threshold = (proj[smiling].mean() + proj[~smiling].mean()) / 2
    balanced = 0.5 * ((proj[smiling] > threshold).mean() + (proj[~smiling] <= threshold).mean())
    assert balanced > 0.6
    assert info["probe_balanced_accuracy"] == pytest.approx(balanced, abs=1e-3)


def test_alpha_one_moves_a_typical_non_smiling_latent_to_the_smiling_mean(tiny_splitgan_run, latents):
    z, smiling = latents
    direction = load_direction(tiny_splitgan_run)
    unit = direction.unit.numpy()
    moved = z[~smiling] + direction.shift(1.0).numpy()
    assert (moved @ unit).mean() == pytest.approx((z[smiling] @ unit).mean(), rel=1e-3, abs=1e-3)
    back = z[smiling] + direction.shift(-1.0).numpy()
    assert (back @ unit).mean() == pytest.approx((z[~smiling] @ unit).mean(), rel=1e-3, abs=1e-3)


def test_mean_difference_divides_each_class_by_its_own_count(latents):
    z, smiling = latents
    keep = np.concatenate([np.flatnonzero(smiling)[:150], np.flatnonzero(~smiling)[:60]])  # unbalanced on purpose
    direction = fit_direction(z[keep], smiling[keep], "meandiff")
    # each class mean over its own count (the seed's bug B12, docs/original-setups.md#b12, scaled μ_n)
    expected = z[keep][smiling[keep]].mean(0) - z[keep][~smiling[keep]].mean(0)
    assert direction.norm == pytest.approx(float(np.linalg.norm(expected)), rel=1e-4)
    assert np.allclose(direction.unit.numpy(), expected / np.linalg.norm(expected), atol=1e-5)
    with pytest.raises(KeepSmilingError, match="both kinds"):
        fit_direction(z[smiling], smiling[smiling], "meandiff")


def test_latent_cli_writes_meandiff_direction(tiny_splitgan_run, small_cache, tmp_path, capsys):
    run = tmp_path / "run"
    shutil.copytree(tiny_splitgan_run, run)
    assert main(["latent", "--run", str(run), "--data", str(small_cache), "--method", "meandiff",
                 "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    assert "balanced accuracy" in out and "meandiff" in out
    info = json.loads((run / "latent.json").read_text())
    assert info["method"] == "meandiff" and info["model_step"] == load_model(run).step
    assert main(["latent", "--run", str(tmp_path / "missing"), "--data", str(small_cache)]) == 2
    assert "does not exist" in capsys.readouterr().err
