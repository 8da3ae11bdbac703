"""The setup registry is the one home of a setup: a fourth setup registered here (one small spec, no
other file touched) trains through ``keepsmiling train`` and edits through ``keepsmiling smile``.

Also: every front end reads the registry (CLI choices, the model catalogue, the editor), the shipped
models still load with their stored (setup, preset, size, arch), and their edits equal the documented
formulas exactly.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from keepsmiling_core.cli.main import main as cli_main
from keepsmiling_core.editing.network_edits import NetworkEdit
from keepsmiling_core.imageio import read_photo, write_photo
from keepsmiling_core.setups import (
    BUILTIN,
    SetupSpec,
    TrainingPreset,
    editable_setups,
    get_setup,
    register,
    setup_names,
    unregister,
)
from keepsmiling_core.training.losses import g_nonsaturating
from keepsmiling_core.training.recipes.base import (
    CommonHyperparameters,
    Recipe,
    set_requires_grad,
    zero_step,
)

TINY = "tinyresidual"


# --------------------------------------------------------------------------- the fourth setup, in full
class TinyGenerator(nn.Module):
    """One 3x3 convolution whose output is added to the crop: G(x) = clamp(x + conv(x))."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 3, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x + self.conv(x)).clamp(-1, 1)


class TinyCritic(nn.Module):
    def __init__(self, width: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, width, 4, stride=2, padding=1)
        self.out = nn.Conv2d(width, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(torch.nn.functional.leaky_relu(self.conv(x), 0.2)).mean(dim=(1, 2, 3))


@dataclasses.dataclass
class TinyHyperparameters(CommonHyperparameters):
    r1_gamma: float = 0.0
    r1_every: int = 4
    lambda_rec: float = 1.0


class TinyRecipe(Recipe):
    setup = TINY

    def make_optimizers(self):
        return {"generator": self.adam(self.nets["generator"].parameters(), self.hp.lr_g),
                "discriminator": self.adam(self.nets["discriminator"].parameters(), self.hp.lr_d)}

    def train_step(self, images, smiling, step):
        G, D = self.nets["generator"], self.nets["discriminator"]
        fake = G(images)
        losses, _ = self.nonsaturating_critic_step(D, images, fake, step)
        self.between_updates()
        set_requires_grad(D, False)
        loss_g = g_nonsaturating(D(fake)) + self.hp.lambda_rec * (fake - images).abs().mean()
        zero_step(self.optimizers["generator"], loss_g)
        losses["g"] = loss_g.detach()
        return losses

    def sample_grid(self, fixed_images, fixed_smiling, fixed_noise):
        return torch.cat([fixed_images, self.nets["generator"](fixed_images)]), fixed_images.shape[0]


class TinyEdit(NetworkEdit):
    """x + α·(G(x) − x), brightness only (the options' tone)."""

    def encode(self, x):
        return {"x": x, "out": self.model.nets["generator"](x)}

    def decode(self, state, alpha):
        return (state["x"] + alpha * self.tone(state["out"] - state["x"])).clamp(-1, 1)

    def reconstruct(self, state, smiling):
        return state["out"]


TINY_SPEC = SetupSpec(
    name=TINY,
    display_name="TinyResidual",
    description="a one-layer residual edit (test only).",
    architectures={"default": {"width": 8}},
    build_networks=lambda preset, size, arch: {"generator": TinyGenerator(arch["width"]),
                                               "discriminator": TinyCritic(arch["width"])},
    recipe=lambda: TinyRecipe,
    training_presets=lambda: {"default": TrainingPreset(TinyHyperparameters(batch_size=8, lr_g=1e-3, lr_d=1e-3),
                                                        steps=2)},
    edit_backend=lambda model, options, *, direction=None, given=None: TinyEdit(model, options),
)


@pytest.fixture
def tiny_setup():
    register(TINY_SPEC)
    yield TINY_SPEC
    unregister(TINY)


# --------------------------------------------------------------------------- tests
def test_registry_lists_the_builtin_setups_in_the_cli_order() -> None:
    assert setup_names()[:3] == BUILTIN == ("simplegan", "complexgan", "splitgan")
    assert editable_setups() == ("splitgan", "complexgan")
    with pytest.raises(ValueError, match="choose one of simplegan, complexgan, splitgan"):
        get_setup("nope")
    with pytest.raises(ValueError, match="already registered"):
        register(get_setup("splitgan"))
    # the README's measured SplitGAN preset: 5e-4 / 2e-4, batch 32
    preset = get_setup("splitgan").training_preset("default")
    assert (preset.batch_size, preset.lr_g, preset.lr_d, preset.steps) == (32, 5e-4, 2e-4, 2000)


def test_a_fourth_setup_trains_and_edits_through_the_cli(tiny_setup, small_cache: Path, grace_hopper,
                                                          tmp_path: Path, capsys) -> None:
    assert TINY in setup_names()
    run = tmp_path / "run"
    assert cli_main(["train", "--setup", TINY, "--data", str(small_cache), "--out", str(run),
                     "--device", "cpu", "--sample-every", "1"]) == 0
    checkpoint = run / "checkpoints" / "step_00000002" / "checkpoint.json"
    assert checkpoint.is_file(), "the preset's 2 steps were trained and checkpointed"
    meta = json.loads(checkpoint.read_text())
    assert (meta["setup"], meta["preset"], meta["arch"]) == (TINY, "default", {"width": 8})
    config = json.loads((run / "config.json").read_text())
    assert config["batch_size"] is None and config["resolved"]["hparams"]["batch_size"] == 8
    assert config["resolved"]["hparams"]["lr_g"] == 1e-3

    # the app's model list knows it from the registry alone
    from keepsmiling_gui.model_catalog import describe_model

    entry = describe_model(run)
    assert entry is not None and entry.label.startswith("TinyResidual (")
    assert entry.can_edit and entry.missing_for_edit() is None

    photo, face = grace_hopper
    source = write_photo(tmp_path / "portrait.png", photo)
    assert cli_main(["smile", str(source), "--model", str(run), "--alpha", "2", "--out", str(tmp_path / "out"),
                     "--device", "cpu"]) == 0
    edited = read_photo(tmp_path / "out" / "portrait_smile.png").rgb
    assert edited.shape == photo.shape
    changed = np.any(edited != photo, axis=2)
    assert changed.sum() > 50, "the tiny residual changed the mouth"
    ys, xs = np.nonzero(changed)
    corners = np.asarray(face.landmarks, np.float64)[3:5]
    reach = 1.2 * face.inter_ocular
    centre = corners.mean(axis=0)
    assert np.all(np.abs(xs - centre[0]) < reach) and np.all(np.abs(ys - centre[1]) < reach), \
        "only pixels near the mouth may change"


def test_cli_refuses_an_unregistered_setup(small_cache: Path, tmp_path: Path, capsys) -> None:
    with pytest.raises(SystemExit):
        cli_main(["train", "--setup", TINY, "--data", str(small_cache), "--out", str(tmp_path / "r")])
    assert "invalid choice" in capsys.readouterr().err


def test_setups_that_cannot_edit_say_why(tmp_path: Path) -> None:
    from keepsmiling_core.editing.editor import Editor
    from keepsmiling_core.errors import EditError
    from keepsmiling_core.paths import shipped_models_dir

    with pytest.raises(EditError, match="cannot edit photos; pick a SplitGAN or ComplexGAN model"):
        Editor(shipped_models_dir() / "simplegan", device="cpu")


@pytest.mark.parametrize("name", ["splitgan", "complexgan", "simplegan", "classifier", "judge"])
def test_every_shipped_network_loads_with_its_stored_setup(name: str) -> None:
    from keepsmiling_core.models.checkpoint import load_model, read_meta
    from keepsmiling_core.paths import shipped_models_dir

    folder = shipped_models_dir() / name
    meta = read_meta(folder)
    model = load_model(folder, device="cpu")
    assert (model.setup, model.preset, model.size) == (meta["setup"], meta["preset"], meta["size"])
    assert model.nets


@pytest.mark.parametrize("name", ["splitgan", "complexgan"])
def test_shipped_edits_equal_the_documented_formula_bit_for_bit(name: str, grace_hopper) -> None:
    """The editor's crops equal the setup's shape × texture edit computed here from the raw networks, op
    for op: deliver(x, E, |α|) with E the edit towards the target label, made mirror-symmetric — the
    network runs on x and its mirror image x̃, and E = (e(x) + mirror(e(x̃))) / 2, where mirror flips the
    maps left-right and the field's x offsets' sign; e is, for SplitGAN, De(z ± c·u) less the
    reconstruction's own move (field minus De(z)'s field, paint minus De(z)'s paint, at least 0); for
    ComplexGAN, G.edit(·, 1 if α ≥ 0 else 0)."""
    from keepsmiling_core.data.tensors import to_image, to_tensor
    from keepsmiling_core.editing.backends import open_editor
    from keepsmiling_core.models.shape_texture import ShapeTexture, deliver
    from keepsmiling_core.paths import shipped_models_dir

    photo, face = grace_hopper
    editor = open_editor(shipped_models_dir() / name, device="cpu")
    prepared = editor.prepare(photo, face)
    nets = editor.model.nets
    x = to_tensor(prepared.crop.image[None])
    both = torch.cat([x, x.flip(-1)])
    for alpha in (-1.5, 0.0, 1.0, 1.5):
        with torch.no_grad():
            if name == "splitgan":
                latent = nets["encoder"](both)
                step = editor.direction.calibration * editor.direction.unit.reshape(1, *editor.direction.latent_shape)
                moved, zero = nets["decoder"](latent + (step if alpha >= 0 else -step)), nets["decoder"](latent)
                pair = ShapeTexture(field=moved.field - zero.field, mask=(moved.mask - zero.mask).clamp(min=0),
                                    colour=moved.colour)
            else:
                pair = nets["generator"].edit(both, torch.ones(2) if alpha >= 0 else torch.zeros(2))
            mirrored_field = pair.field[1:].flip(-1)
            mirrored_field = torch.cat([-mirrored_field[:, :1], mirrored_field[:, 1:]], dim=1)
            edit = ShapeTexture(field=(pair.field[:1] + mirrored_field) / 2,
                                mask=(pair.mask[:1] + pair.mask[1:].flip(-1)) / 2,
                                colour=(pair.colour[:1] + pair.colour[1:].flip(-1)) / 2)
            expected = deliver(x, edit, abs(alpha)).clamp(-1, 1)
            got = editor.decode(prepared.state, alpha)
        assert torch.equal(got, expected), (name, alpha)
        assert np.array_equal(to_image(got)[0], to_image(expected)[0])
