"""The one trainer on real MTFL crops: every setup trains, SplitGAN learns to reconstruct,
resume is exact, stop() is prompt, and bad input gives a clear error."""

from __future__ import annotations

import json
import math
import threading
from pathlib import Path

import pytest
import torch
from fixtures_models import SHARP_HEAD
from safetensors.torch import load_file

from keepsmiling_core.cli.main import main as cli_main
from keepsmiling_core.errors import KeepSmilingError, TrainingError
from keepsmiling_core.models.checkpoint import list_checkpoints, load_model
from keepsmiling_core.setups import get_setup
from keepsmiling_core.training.config import TrainConfig
from keepsmiling_core.training.trainer import SPEED_KEYS, Progress, Trainer


def _config(cache: Path, out: Path, setup: str, **kw) -> TrainConfig:
    base = dict(setup=setup, data=str(cache), out=str(out), steps=4, batch_size=8, checkpoint_every=100,
                sample_every=100, log_every=1, tensorboard=False, seed=5)
    base.update(kw)
    return TrainConfig(**base)


def _metrics(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


@pytest.mark.parametrize("setup", ["simplegan", "complexgan", "splitgan"])
def test_each_setup_trains_on_real_crops(setup: str, small_cache: Path, tmp_path: Path) -> None:
    seen: list[Progress] = []
    hparams = {"n_critic": 2} if setup == "complexgan" else {}
    run = Trainer(_config(small_cache, tmp_path / setup, setup, tensorboard=True, hparams=hparams),
                  on_progress=seen.append).run()
    rows = _metrics(run)
    assert [r["step"] for r in rows] == [1, 2, 3, 4]
    for row in rows:
        losses = {k: v for k, v in row.items() if k not in ("step", "epoch", "time", "lr_factor")}
        assert losses and all(math.isfinite(v) for v in losses.values()), row
    if setup == "complexgan":
        assert {"g_adv", "g_cls", "g_rec", "gp", "d_cls"} <= set(rows[-1])  # the generator did update
    assert seen[-1].step == seen[-1].total_steps == 4 and seen[-1].sample_png is not None
    assert seen[-1].sample_png.is_file() and seen[-1].sample_png.stat().st_size > 500
    assert list((run / "tensorboard").glob("events.out.tfevents.*"))
    config = json.loads((run / "config.json").read_text())
    assert config["setup"] == setup and config["resolved"]["size"] == 32
    model = load_model(run, "cpu", setup=setup)
    assert model.step == 4 and all(not net.training for net in model.nets.values())


@pytest.mark.parametrize("setup", ["complexgan", "splitgan"])
def test_original_presets_train_at_64(setup: str, small_cache_64: Path, tmp_path: Path) -> None:
    run = Trainer(_config(small_cache_64, tmp_path / setup, setup, preset="original", steps=2, batch_size=4,
                          hparams={"n_critic": 2})).run()
    last = _metrics(run)[-1]
    assert all(math.isfinite(v) for v in last.values())
    assert load_model(run, "cpu").preset == "original"


def test_splitgan_reconstruction_error_falls(tiny_splitgan_run: Path) -> None:
    """The session's tiny SplitGAN (default preset with a sharp smile head, 100 steps of 16 real crops, a
    metrics line every 5 steps)."""
    rec = [r["rec_l1"] for r in _metrics(tiny_splitgan_run)]
    assert len(rec) == 20
    first, last = sum(rec[:3]) / 3, sum(rec[-3:]) / 3
    assert last < 0.6 * first, f"reconstruction L1 went {first:.3f} -> {last:.3f}"


def test_splitgan_learns_the_mean_difference_edit(tiny_splitgan_run: Path) -> None:
    """The default SplitGAN trains z ± (μ_smile − μ_non) to decode as the other label: its critic's smile
    head learns the real labels, and the decoded edits come to be judged as the other label."""
    from keepsmiling_core.training.recipes.base import pooled_view
    from keepsmiling_core.training.recipes.splitgan import SplitGANRecipe

    latent = torch.randn(4, 2, 3, 3)
    labels = torch.tensor([1.0, 1.0, 0.0, 0.0])
    shift = SplitGANRecipe.edit_shift(latent, labels)
    direction = latent[:2].mean(0) - latent[2:].mean(0)
    assert torch.allclose(shift[2], direction) and torch.allclose(shift[0], -direction)
    assert not SplitGANRecipe.edit_shift(latent, torch.ones(4)).any()

    # The smile head may be shown a low-resolution view: a checkerboard (the decoder's favourite way to
    # fool a sharp head) is invisible there, while a bright band of teeth is not.
    view = pooled_view(get_setup("splitgan").training_preset("default").hparams.cls_blur)
    checker = (torch.arange(32).view(1, -1) + torch.arange(32).view(-1, 1)) % 2 * 2.0 - 1.0
    band = torch.full((32, 32), -1.0)
    band[14:18, 8:24] = 1.0
    assert view(checker.expand(1, 3, 32, 32)).abs().max() < 1e-6
    assert view(band.expand(1, 3, 32, 32))[0, 0, 16, 16] > -0.2

    # The session's tiny SplitGAN has a sharp smile head, which learns within its 100 steps at 32 px (the
    # pooled one, 8x8 there, needs longer). Each logged figure judges one batch of 16, so the second half of
    # the run (10 lines) is averaged.
    assert json.loads((tiny_splitgan_run / "config.json").read_text())["hparams"] == SHARP_HEAD
    rows = _metrics(tiny_splitgan_run)
    flip = [r["edit_flip_acc"] for r in rows]
    assert len(flip) == 20
    late = sum(flip[-10:]) / 10
    # 160 judgements: a standard error of about 0.035 around a rate near 0.78, against 0.5 for chance.
    early = sum(flip[:5]) / 5
    assert late > 0.7 and late > early + 0.1, f"edits judged as the other label: {flip[:5]} ... {flip[-10:]}"
    assert sum(r["d_cls_acc"] for r in rows[-10:]) / 10 > 0.6


@pytest.mark.parametrize("setup", ["splitgan", "complexgan"])
def test_resume_after_stop_matches_an_uninterrupted_run(setup: str, small_cache: Path, tmp_path: Path,
                                                        uninterrupted_run) -> None:
    kw = {"steps": 6, "seed": 3, "hparams": {"n_critic": 2} if setup == "complexgan" else {}}
    straight = uninterrupted_run(setup, kw["hparams"])  # the same settings, trained once per session

    interrupted = Trainer(_config(small_cache, tmp_path / "b", setup, **kw))
    interrupted.on_progress = lambda p: interrupted.stop() if p.step == 3 else None
    interrupted.run()
    assert interrupted.stopped_early
    assert [p.name for p in list_checkpoints(tmp_path / "b")] == ["step_00000003"]
    resumed = Trainer(_config(small_cache, tmp_path / "b", setup, resume=True, **kw)).run()

    a = load_file(str(list_checkpoints(straight)[-1] / "model.safetensors"))
    b = load_file(str(list_checkpoints(resumed)[-1] / "model.safetensors"))
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), f"{key} differs after resume"
    assert [r["step"] for r in _metrics(resumed)] == [1, 2, 3, 4, 5, 6]
    untimed = ("time", "elapsed_s", *SPEED_KEYS)  # wall-clock readings differ between any two runs
    assert [{k: v for k, v in run[-1].items() if k not in untimed} for run in (_metrics(straight), _metrics(resumed))] \
        == [{k: v for k, v in _metrics(straight)[-1].items() if k not in untimed}] * 2
    assert _metrics(resumed)[-1]["elapsed_s"] > _metrics(resumed)[2]["elapsed_s"] > 0  # counts across the resume


def test_stop_from_another_thread_finishes_within_one_step(small_cache: Path, tmp_path: Path) -> None:
    steps_seen: list[int] = []
    requested_at: list[int] = []
    trainer = Trainer(_config(small_cache, tmp_path / "stop", "splitgan", steps=1000))
    asked = threading.Event()

    def on_progress(p: Progress) -> None:
        steps_seen.append(p.step)
        if p.step == 2:
            asked.set()

    trainer.on_progress = on_progress

    def stopper() -> None:
        asked.wait(60)
        requested_at.append(steps_seen[-1])
        trainer.stop()

    thread = threading.Thread(target=stopper)
    thread.start()
    trainer.run()
    thread.join()
    final = list_checkpoints(tmp_path / "stop")[-1]
    stopped = int(final.name.split("_")[1])
    assert trainer.stopped_early and stopped <= requested_at[0] + 1
    assert load_model(final, "cpu").step == stopped


def test_simplegan_samples_come_from_a_weight_average(small_cache: Path, tmp_path: Path) -> None:
    from keepsmiling_core.models.simplegan import sampling_generator, update_average

    live, average = torch.nn.Linear(2, 2), torch.nn.Linear(2, 2)
    start = average.weight.detach().clone()
    update_average(average, live, 0.75)
    assert torch.allclose(average.weight, 0.75 * start + 0.25 * live.weight)

    run = Trainer(_config(small_cache, tmp_path / "ema", "simplegan", steps=6, checkpoint_every=6)).run()
    model = load_model(run, "cpu")
    assert sampling_generator(model.nets) is model.nets["generator_ema"]
    ema, live = model.nets["generator_ema"].state_dict(), model.nets["generator"].state_dict()
    weights = [k for k in ema if k.endswith("weight")]
    assert any(not torch.equal(ema[k], live[k]) for k in weights)  # an average, not a copy
    assert all(torch.isfinite(ema[k]).all() for k in weights)


def test_fine_tuning_starts_from_another_runs_weights(small_cache: Path, tmp_path: Path) -> None:
    base = Trainer(_config(small_cache, tmp_path / "base", "splitgan", steps=2, checkpoint_every=2)).run()
    tuned = Trainer(_config(small_cache, tmp_path / "tuned", "splitgan", steps=1, checkpoint_every=1,
                            hparams={"lr_g": 1e-12, "lr_d": 1e-12}, init_from=str(base))).run()
    before = load_file(str(list_checkpoints(base)[-1] / "model.safetensors"))
    after = load_file(str(list_checkpoints(tuned)[-1] / "model.safetensors"))
    assert torch.allclose(before["encoder.net.0.weight"], after["encoder.net.0.weight"], atol=1e-6)
    assert json.loads((tuned / "config.json").read_text())["init_from"] == str(base)
    with pytest.raises(TrainingError, match="Cannot start from"):
        Trainer(_config(small_cache, tmp_path / "bad", "complexgan", init_from=str(base))).run()


def test_bad_inputs_give_clear_errors(small_cache: Path, tmp_path: Path) -> None:
    with pytest.raises(KeepSmilingError, match="not a crop cache"):
        Trainer(_config(tmp_path / "missing", tmp_path / "r1", "splitgan")).run()
    with pytest.raises(TrainingError, match="holds 32x32 crops"):
        Trainer(_config(small_cache, tmp_path / "r2", "splitgan", size=64)).run()
    with pytest.raises(TrainingError, match="fewer than the batch size"):
        Trainer(_config(small_cache, tmp_path / "r3", "splitgan", batch_size=5000)).run()
    Trainer(_config(small_cache, tmp_path / "r4", "splitgan", steps=1)).run()
    with pytest.raises(TrainingError, match="--resume"):
        Trainer(_config(small_cache, tmp_path / "r4", "splitgan", steps=1)).run()
    with pytest.raises(TrainingError, match="unknown splitgan option"):
        Trainer(_config(small_cache, tmp_path / "r5", "splitgan", hparams={"lambda_foo": 1})).run()


def test_cli_trains_and_reports_errors(small_cache: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "cli"
    code = cli_main(["train", "--setup", "splitgan", "--data", str(small_cache), "--out", str(out), "--steps", "3",
                     "--batch-size", "8", "--sample-every", "2", "--set", "lambda_adv=0.2"])
    assert code == 0
    assert "run folder" in capsys.readouterr().out
    assert json.loads((out / "config.json").read_text())["hparams"]["lambda_adv"] == 0.2
    assert sorted(p.name for p in (out / "samples").iterdir()) == ["step_00000002.png", "step_00000003.png"]
    # --resume alone keeps the run's own length; --steps extends it.
    assert cli_main(["train", "--setup", "splitgan", "--data", str(small_cache), "--out", str(out), "--resume"]) == 0
    assert load_model(out, "cpu").step == 3
    assert cli_main(["train", "--setup", "splitgan", "--data", str(small_cache), "--out", str(out), "--resume",
                     "--steps", "4"]) == 0
    assert load_model(out, "cpu").step == 4
    code = cli_main(["train", "--setup", "splitgan", "--data", str(tmp_path / "nope"), "--out", str(tmp_path / "x")])
    assert code == 2
    assert "not a crop cache" in capsys.readouterr().err


@pytest.mark.parametrize("setup", ["complexgan", "splitgan"])
def test_judge_delivered_scores_the_edit_the_photo_receives(setup: str, small_cache: Path, tmp_path: Path) -> None:
    """With judge_delivered the smile head is shown x + mask · brightness(change): a colour change or a
    change outside the typical mouth mask earns the generator nothing, and the run still trains."""
    import numpy as np

    from keepsmiling_core.compositing.mask import typical_mouth_mask
    from keepsmiling_core.data.cache import load_crop_cache
    from keepsmiling_core.training.recipes import build_recipe
    from keepsmiling_core.training.trainer import _typical_mask

    cache = load_crop_cache(small_cache)
    mask = typical_mouth_mask(cache.size, cache.landmarks)
    assert np.allclose(mask, mask[:, ::-1]) and mask.max() > 0.9
    assert mask[0].max() == 0 and mask[:, 0].max() == 0           # the crop border is never judged
    centre = np.asarray(cache.landmarks)[:, 3:5].mean(axis=(0, 1))
    assert mask[int(round(centre[1])), int(round(centre[0]))] > 0.9  # the mouth always is

    recipe = build_recipe(setup, "default", _tiny_nets(setup), torch.device("cpu"), {"judge_delivered": True})
    recipe.edit_mask = _typical_mask(cache, cache.size, torch.device("cpu"))
    images = torch.rand(2, 3, cache.size, cache.size) * 2 - 1
    pure_colour = torch.tensor([1.0, -0.299 / 0.587, 0.0]).view(1, 3, 1, 1).expand_as(images)
    assert torch.allclose(recipe.delivered(images, pure_colour * 0.5), images, atol=1e-6)
    grey = torch.full_like(images, 0.4)
    judged = recipe.delivered(images, grey)
    outside = torch.from_numpy(mask == 0)
    assert torch.equal(judged[..., outside], images[..., outside])
    assert torch.allclose((judged - images)[..., ~outside], 0.4 * recipe.edit_mask.expand_as(images)[..., ~outside], atol=1e-5)

    hparams = {"judge_delivered": True, **({"n_critic": 1} if setup == "complexgan" else {})}
    run = Trainer(_config(small_cache, tmp_path / setup, setup, hparams=hparams)).run()
    last = _metrics(run)[-1]
    assert all(math.isfinite(v) for v in last.values())
    assert ("g_cls" if setup == "complexgan" else "edit_cls") in last
    assert json.loads((run / "config.json").read_text())["resolved"]["hparams"]["judge_delivered"] is True


def _tiny_nets(setup: str) -> dict:
    from keepsmiling_core.models.registry import build_setup

    return build_setup(setup, "default", 32)
