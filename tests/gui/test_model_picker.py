"""Model picker: runs found in the user folder, SimpleGAN shows sampled smiles, no model -> an offer."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from keepsmiling_gui.main_window import MainWindow
from keepsmiling_gui.model_catalog import find_models


@pytest.fixture
def no_shipped_models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    empty = tmp_path / "resources"
    (empty / "models").mkdir(parents=True)
    monkeypatch.setenv("KEEPSMILING_RESOURCES", str(empty))
    return empty


def train_simplegan(cache: Path, out: Path) -> Path:
    from keepsmiling_core.training.config import TrainConfig
    from keepsmiling_core.training.trainer import Trainer

    config = TrainConfig(setup="simplegan", data=str(cache), out=str(out), steps=2, batch_size=8, device="cpu",
                         checkpoint_every=2, sample_every=2, log_every=1, tensorboard=False)
    return Path(Trainer(config).run())


def test_runs_in_user_folder_are_listed_and_simplegan_shows_samples(
        qtbot, messages, wait_until, no_shipped_models, isolated_app_state: Path, small_cache: Path,
        splitgan_model: Path):
    runs = isolated_app_state / "runs"
    shutil.copytree(splitgan_model, runs / "my-splitgan")
    train_simplegan(small_cache, runs / "my-simplegan")
    labels = [m.label for m in find_models(extra_runs_dir=runs)]  # the same folder twice: listed once
    assert len(labels) == 2
    assert any(label.startswith("SplitGAN (my-splitgan") for label in labels)
    assert any(label.startswith("SimpleGAN (my-simplegan, step 2)") for label in labels)

    window = MainWindow()
    qtbot.addWidget(window)
    wait_until(lambda: window.editor is not None)  # the only edit model is picked by default
    assert window.model_entry.path == runs / "my-splitgan"
    simple = next(i for i, m in enumerate(window.models) if m.setup == "simplegan")
    window.model_picker.setCurrentIndex(simple)
    window.model_picker.activated.emit(simple)
    dialog = window.samples_dialog
    wait_until(lambda: dialog.grid is not None or dialog.error is not None)
    assert dialog.error is None, dialog.error
    assert dialog.grid.shape == (8 * 34 - 2, 8 * 34 - 2, 3)  # 64 mouths of 32 px, 2 px gaps
    assert dialog.grid.std() > 1  # an image, not a blank
    assert window.model_entry.path == runs / "my-splitgan"  # sampling does not replace the edit model
    assert window.model_picker.currentData() == str(runs / "my-splitgan")
    dialog.close()


def test_picking_a_splitgan_run_without_direction_computes_it_then_edits(
        qtbot, messages, wait_until, no_shipped_models, isolated_app_state: Path, splitgan_model: Path):
    run = isolated_app_state / "runs" / "no-direction"
    shutil.copytree(splitgan_model, run)
    for name in ("latent.json", "latent.safetensors"):
        (run / name).unlink()
    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    assert window.editor is None
    assert [m.path for m in window.models] == [run]
    window.model_picker.activated.emit(0)  # the user picks the stopped run
    assert window.status_progress.isVisible() and "smile direction" in window.statusBar().currentMessage()
    wait_until(lambda: window.editor is not None or messages.messages, 120)
    assert messages.messages == []
    assert (run / "latent.json").is_file() and window.model_entry.path == run
    assert window.model_entry.has_direction and not window.status_progress.isVisible()


def test_splitgan_run_without_direction_or_crops_is_explained(qtbot, messages, wait_until, no_shipped_models,
                                                              isolated_app_state: Path, splitgan_model: Path):
    import json

    run = isolated_app_state / "runs" / "no-direction"
    shutil.copytree(splitgan_model, run)
    for name in ("latent.json", "latent.safetensors"):
        (run / name).unlink()
    config = json.loads((run / "config.json").read_text())
    config["data"] = str(isolated_app_state / "deleted-cache")
    (run / "config.json").write_text(json.dumps(config))
    window = MainWindow()
    qtbot.addWidget(window)
    window.load_model(window.models[0])
    wait_until(lambda: bool(messages.messages), 60)
    text = messages.messages[-1][2]
    assert "no smile direction" in text and "deleted-cache" in text and window.editor is None


def test_no_model_offers_shipped_default_or_training(qtbot, messages, wait_until, no_shipped_models,
                                                     group_photo: Path):
    window = MainWindow()
    qtbot.addWidget(window)
    assert window.editor is None and window.models == []
    assert "No model yet" in window.model_picker.currentText()
    window.open_photo(group_photo)
    wait_until(lambda: len(window.scene.faces) == 2)
    window.toggle_face(0)
    assert window.selected == {0}  # remembered; it renders once a model is loaded
    assert messages.messages[-1][:2] == ("dialog", "No model yet")
    window.undo_stack.setClean()


def test_complexgan_model_edits_only_the_mouth(qtbot, window, wait_until, group_photo: Path,
                                              tiny_complexgan_run: Path):
    from keepsmiling_gui.model_catalog import describe_model

    entry = describe_model(tiny_complexgan_run)
    assert entry.setup == "complexgan" and entry.missing_for_edit() is None
    window.load_model(entry)
    wait_until(lambda: window.model_entry == entry)
    window.open_photo(group_photo)
    wait_until(lambda: len(window.scene.faces) == 2)
    before = window.displayed_image()
    window.toggle_face(1)
    wait_until(lambda: window.renderer.idle and 1 in window.scene.patches)
    after = window.displayed_image()
    ys, xs = (before != after).any(-1).nonzero()
    x0, y0, x1, y1 = window.prepared[1].region
    assert len(xs) and xs.min() >= x0 and xs.max() < x1 and ys.min() >= y0 and ys.max() < y1
