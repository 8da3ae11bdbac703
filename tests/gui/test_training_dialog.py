"""The training dialog runs a tiny real training (crop cache -> Trainer -> smile direction) in a worker."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from keepsmiling_gui.model_catalog import describe_model
from keepsmiling_gui.training_dialog import TrainingDialog


def small_data_dialog(qtbot, mtfl_subset: Path, tmp_path: Path, setup: str | None = None) -> TrainingDialog:
    """A training dialog on 48 faces of the MTFL subset at 32 px, runs under ``tmp_path``; every other field
    as the dialog shows it (``setup`` picked first, since the fields follow the setup's preset)."""
    dlg = TrainingDialog()
    qtbot.addWidget(dlg)
    if setup is not None:
        dlg.setup.setCurrentIndex(dlg.setup.findData(setup))
    dlg.dataset_kind.setCurrentIndex(dlg.dataset_kind.findData("mtfl"))
    dlg.dataset_path.setText(str(mtfl_subset))
    dlg.size.setCurrentIndex(dlg.size.findData(32))
    dlg.limit.setValue(48)
    dlg.out_dir.setText(str(tmp_path / "runs"))
    dlg.extra_config = {"tensorboard": False}
    return dlg


@pytest.fixture
def dialog(qtbot, messages, mtfl_subset: Path, tmp_path: Path, wait_until):
    dlg = small_data_dialog(qtbot, mtfl_subset, tmp_path)
    dlg.batch_size.setValue(8)
    dlg.show()
    yield dlg
    if dlg.running:
        dlg.job.stop()
    dlg.tasks.wait(60_000)
    dlg.training.wait(60_000)


def test_dataset_validation_counts_smiling_faces(dialog, wait_until, tmp_path: Path, mtfl_subset: Path):
    dialog.validate_dataset()
    wait_until(lambda: dialog.dataset_counts is not None)
    assert dialog.dataset_counts == (200, 200)  # the fixed balanced MTFL subset
    assert "200 smiling and 200 non-smiling" in dialog.dataset_status.text()
    dialog.dataset_path.setText(str(tmp_path / "nowhere"))
    dialog.validate_dataset()
    wait_until(lambda: dialog.dataset_counts is None and "Checking" not in dialog.dataset_status.text())
    assert "nowhere" in dialog.dataset_status.text()
    # Start reflects what is known: disabled, with the reason, while the dataset is known to be unusable
    assert not dialog.start_button.isEnabled() and "nowhere" in dialog.start_button.toolTip()
    dialog.dataset_path.setText(str(mtfl_subset))
    dialog.validate_dataset()
    wait_until(lambda: dialog.dataset_counts == (200, 200))
    assert dialog.start_button.isEnabled()


def test_chart_colours_never_repeat_and_stay_with_their_series(qtbot):
    from keepsmiling_gui.loss_plot import LossPlot

    plot = LossPlot()
    qtbot.addWidget(plot)
    plot.add_point(1, {"z_last": 1.0})
    first = plot.colours["z_last"].name()
    names = [f"loss_{i:02d}" for i in range(40)]
    plot.add_point(2, dict.fromkeys(names, 0.5))
    colours = [plot.colours[name].rgb() for name in ["z_last", *names]]
    assert len(set(colours)) == len(colours), "two series share a colour"
    assert plot.colours["z_last"].name() == first, "a series keeps its colour when others appear"
    plot.resize(500, 300)
    assert not plot.grab().isNull()  # paints with 41 series


def test_folders_dataset_counts_photos_per_label(dialog, wait_until, mtfl_root: Path, tmp_path: Path):
    images = sorted((mtfl_root / "lfw_5590").glob("*.jpg"))[:5]
    for label, chosen in (("smiling", images[:3]), ("not_smiling", images[3:])):
        (tmp_path / "folders" / label).mkdir(parents=True)
        for image in chosen:
            (tmp_path / "folders" / label / image.name).symlink_to(image)
    dialog.dataset_kind.setCurrentIndex(dialog.dataset_kind.findData("folders"))
    dialog.dataset_path.setText(str(tmp_path / "folders"))
    assert not dialog.frontal_only.isEnabled()  # MTFL's pose filter means nothing here
    dialog.validate_dataset()
    wait_until(lambda: dialog.dataset_counts == (3, 2))
    assert "3 smiling and 2 non-smiling photos" in dialog.dataset_status.text()


def test_tiny_splitgan_run_to_the_end(qtbot, dialog, wait_until):
    dialog.setup.setCurrentIndex(dialog.setup.findData("splitgan"))
    dialog.steps.setValue(12)
    finished: list[Path] = []
    dialog.runFinished.connect(finished.append)
    dialog.start_button.click()
    assert not dialog.settings_box.isEnabled() and dialog.cancel_button.isEnabled()
    wait_until(lambda: dialog.last_result is not None or dialog.last_error is not None, 120)
    assert dialog.last_error is None, dialog.last_error
    result = dialog.last_result
    run_dir = Path(result["run_dir"])
    assert not result["stopped"] and finished == [run_dir]
    assert dialog.last_progress.step == 12 == dialog.last_progress.total_steps
    assert dialog.progress.value() == dialog.progress.maximum() == 12
    assert dialog.last_progress.images_per_s > 0 and "images/s" in dialog.eta.text()  # beside the ETA
    assert dialog.loss_plot.series and all(len(p) >= 2 for p in dialog.loss_plot.series.values())
    assert dialog.sample.pixmap() is not None and not dialog.sample.pixmap().isNull()
    assert (run_dir / "latent.json").is_file(), "a SplitGAN run gets its smile direction automatically"
    entry = describe_model(run_dir)
    assert entry is not None and entry.setup == "splitgan" and entry.missing_for_edit() is None
    assert dialog.settings_box.isEnabled() and not dialog.cancel_button.isEnabled()
    # the choices are remembered for next time
    again = TrainingDialog()
    qtbot.addWidget(again)
    assert again.steps.value() == 12 and again.size.currentData() == 32 and again.limit.value() == 48


def test_pause_resume_and_cancel_write_checkpoints(dialog, wait_until):
    dialog.setup.setCurrentIndex(dialog.setup.findData("simplegan"))
    dialog.batch_size.setValue(8)  # picking a setup shows its preset; then the small batch again
    dialog.steps.setValue(100_000)
    dialog.start_button.click()
    wait_until(lambda: dialog.last_progress is not None and dialog.last_progress.step >= 1, 120)
    dialog.pause_button.click()
    wait_until(lambda: dialog.last_result is not None, 60)
    assert dialog.last_result["paused"] and dialog.pause_button.text() == "Resume"
    run_dir = Path(dialog.last_result["run_dir"])
    paused_step = json.loads(sorted(run_dir.glob("checkpoints/*/checkpoint.json"))[-1].read_text())["step"]
    assert 1 <= paused_step < 100_000

    dialog.last_result = None
    dialog.pause_button.click()  # resume the same run from its checkpoint
    wait_until(lambda: dialog.last_progress.step > paused_step, 120)
    dialog.cancel_button.click()
    wait_until(lambda: dialog.last_result is not None, 60)
    assert dialog.last_error is None, dialog.last_error
    assert dialog.last_result["stopped"] and not dialog.last_result["paused"]
    assert Path(dialog.last_result["run_dir"]) == run_dir
    steps = [json.loads(p.read_text())["step"] for p in run_dir.glob("checkpoints/*/checkpoint.json")]
    assert max(steps) > paused_step and max(steps) < 100_000
    assert "Cancelled" in dialog.status.text()


class GuiStallMeter:
    """Ticks a 10 ms timer on the GUI thread and records the longest gap: how long the GUI was blocked."""

    def __init__(self) -> None:
        from PySide6.QtCore import QTimer

        self.longest = 0.0
        self._last = time.monotonic()
        self.timer = QTimer(interval=10)
        self.timer.timeout.connect(self._tick)
        self.timer.start()

    def _tick(self) -> None:
        now = time.monotonic()
        self.longest = max(self.longest, now - self._last)
        self._last = now

    def stop(self) -> float:
        self.timer.stop()
        return self.longest


def _start_slow_run(dialog, slow_training_layers, wait_until, setup: str = "splitgan") -> None:
    """A real run whose every layer takes 10 ms more: a step lasts seconds, as on a loaded CPU."""
    slow_training_layers(0.01)
    dialog.setup.setCurrentIndex(dialog.setup.findData(setup))
    dialog.batch_size.setValue(8)  # picking a setup shows its preset; then the small batch again
    dialog.steps.setValue(150)  # under 200 steps the dialog logs every step: the first report comes at once
    dialog.start()
    wait_until(lambda: dialog.last_progress is not None or dialog.last_error is not None, 180)
    assert dialog.last_error is None, dialog.last_error


def test_cancel_during_a_slow_step_acknowledges_at_once_and_stops_within_two_seconds(
        qtbot, dialog, wait_until, slow_training_layers):
    _start_slow_run(dialog, slow_training_layers, wait_until)
    qtbot.wait(300)  # inside the next (slow) step
    meter = GuiStallMeter()
    asked = time.monotonic()
    dialog.cancel_button.click()
    acknowledged = time.monotonic() - asked
    assert "Stopping" in dialog.status.text() and dialog.progress.format() == "Stopping…"
    assert not dialog.cancel_button.isEnabled()
    wait_until(lambda: dialog.last_result is not None or dialog.last_error is not None, 30)
    latency = time.monotonic() - asked
    stall = meter.stop()
    print(f"cancel: acknowledged in {acknowledged * 1000:.0f} ms, run stopped in {latency:.2f} s, "
          f"longest GUI stall {stall * 1000:.0f} ms")
    assert dialog.last_error is None, dialog.last_error
    assert acknowledged < 0.1 and latency < 2.0 and stall < 0.25
    run_dir = Path(dialog.last_result["run_dir"])
    steps = [json.loads(p.read_text())["step"] for p in run_dir.glob("checkpoints/*/checkpoint.json")]
    assert steps == [dialog.last_progress.step], "the last complete step is kept"
    assert f"Cancelled at step {steps[0]:,}" in dialog.status.text()
    assert not (run_dir / "latent.json").exists(), "Cancel does not wait for the smile direction"


def test_quitting_during_a_slow_step_closes_within_two_seconds_with_a_checkpoint(
        qtbot, messages, wait_until, mtfl_subset: Path, tmp_path: Path, slow_training_layers):
    from PySide6.QtWidgets import QMessageBox

    from keepsmiling_gui.main_window import MainWindow

    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    window.open_training()
    dialog = window.training_dialog
    dialog.dataset_path.setText(str(mtfl_subset))
    dialog.size.setCurrentIndex(dialog.size.findData(32))
    dialog.limit.setValue(48)
    dialog.batch_size.setValue(8)
    dialog.out_dir.setText(str(tmp_path / "runs"))
    dialog.extra_config = {"tensorboard": False}
    _start_slow_run(dialog, slow_training_layers, wait_until)
    dialog.close()  # only hides: the run goes on
    assert dialog.running and "background" in window.statusBar().currentMessage()

    messages.answer = QMessageBox.StandardButton.No
    assert not window.close() and dialog.running and window.isVisible()
    messages.answer = QMessageBox.StandardButton.Yes
    qtbot.wait(300)  # inside a slow step
    meter = GuiStallMeter()
    asked = time.monotonic()
    window.close()
    acknowledged = time.monotonic() - asked
    assert window.statusBar().currentMessage().startswith("Stopping")
    wait_until(lambda: not window.isVisible(), 30)
    latency = time.monotonic() - asked
    stall = meter.stop()
    print(f"quit: acknowledged in {acknowledged * 1000:.0f} ms, window closed in {latency:.2f} s, "
          f"longest GUI stall {stall * 1000:.0f} ms")
    assert acknowledged < 0.1 and latency < 2.0 and stall < 0.25
    assert not dialog.running and dialog.last_result["stopped"] and not dialog.isVisible()
    run_dir = Path(dialog.last_result["run_dir"])
    stopped_at = max(json.loads(p.read_text())["step"] for p in run_dir.glob("checkpoints/*/checkpoint.json"))
    assert stopped_at == dialog.last_progress.step

    # a later session continues the same run from its checkpoint, with its chart and its training time
    slow_training_layers(0)
    elapsed_before = dialog.last_elapsed
    again = TrainingDialog()
    qtbot.addWidget(again)
    again.resume_run(run_dir)
    assert again.loss_plot.series and max(x for x, _ in again.loss_plot.series["rec_l1"]) == stopped_at
    assert again.progress.maximum() == 0, "indeterminate until the first step of this session"
    wait_until(lambda: again.last_error is not None or (again.last_progress is not None
                                                        and again.last_progress.step > stopped_at), 120)
    assert again.last_error is None, again.last_error
    again.cancel()
    wait_until(lambda: again.last_result is not None, 60)
    assert Path(again.last_result["run_dir"]) == run_dir and again.last_result["stopped"]
    assert 0 < again._elapsed_before <= elapsed_before
    assert again.last_elapsed > again._elapsed_before, "the elapsed time counts the earlier session too"


def test_a_paused_run_is_in_the_model_list_at_once_and_picking_it_edits(qtbot, window, wait_until,
                                                                        mtfl_subset: Path, tmp_path: Path):
    window.open_training()
    dialog = window.training_dialog
    dialog.setup.setCurrentIndex(dialog.setup.findData("splitgan"))
    dialog.dataset_path.setText(str(mtfl_subset))
    dialog.size.setCurrentIndex(dialog.size.findData(32))
    dialog.limit.setValue(48)
    dialog.batch_size.setValue(8)
    dialog.steps.setValue(1000)
    dialog.out_dir.setText(str(tmp_path / "runs"))
    dialog.extra_config = {"tensorboard": False}
    dialog.start()
    assert dialog.progress.maximum() == 0, "indeterminate while the run starts, never a stale 100 %"
    wait_until(lambda: dialog.last_progress is not None or dialog.last_error is not None, 120)
    dialog.pause_button.click()
    wait_until(lambda: dialog.last_result is not None, 60)
    run_dir = Path(dialog.last_result["run_dir"])
    assert dialog.last_result["paused"] and not (run_dir / "latent.json").exists()
    index = next(i for i, m in enumerate(window.models) if Path(m.path) == run_dir)  # no Refresh needed
    window.model_picker.activated.emit(index)
    wait_until(lambda: window.model_entry is not None and Path(window.model_entry.path) == run_dir, 120)
    assert (run_dir / "latent.json").is_file() and window.editor is not None


def test_fields_show_the_setups_preset_and_only_changed_values_are_passed(qtbot, tmp_path: Path):
    from keepsmiling_core.setups import get_setup
    from keepsmiling_gui.training_job import _config_for

    dlg = TrainingDialog()
    qtbot.addWidget(dlg)
    for name in ("splitgan", "complexgan", "simplegan"):
        dlg.setup.setCurrentIndex(dlg.setup.findData(name))
        preset = get_setup(name).training_preset("default")
        assert (dlg.steps.value(), dlg.batch_size.value()) == (preset.steps, preset.batch_size)
        assert abs(dlg.lr.value() - preset.lr_g) < 1e-9
        request = dlg.request()
        assert (request.steps, request.batch_size, request.lr) == (None, None, None), "untouched: the preset's"
    dlg.setup.setCurrentIndex(dlg.setup.findData("splitgan"))
    assert abs(dlg.lr.value() - 5e-4) < 1e-9 and dlg.batch_size.value() == 32  # the README's measured preset
    dlg.batch_size.setValue(8)
    request = dlg.request()
    assert (request.steps, request.batch_size, request.lr) == (None, 8, None)
    config = _config_for(request, tmp_path / "cache", tmp_path / "run", resume=False)
    assert (config.batch_size, config.lr, config.steps) == (8, None, 2000)
    # a change is remembered for its setup only; the others keep showing their presets
    dlg._save_settings(request)
    again = TrainingDialog()
    qtbot.addWidget(again)
    assert again.setup.currentData() == "splitgan" and again.batch_size.value() == 8
    again.setup.setCurrentIndex(again.setup.findData("complexgan"))
    assert again.batch_size.value() == 32 and abs(again.lr.value() - 2e-4) < 1e-9


def test_an_untouched_dialog_trains_what_the_cli_trains(qtbot, mtfl_subset: Path, tmp_path: Path):
    from keepsmiling_core.cli.main import main as cli_main
    from keepsmiling_gui.training_job import TrainingJob

    dlg = small_data_dialog(qtbot, mtfl_subset, tmp_path, "splitgan")
    dlg.steps.setValue(2)  # the one training field changed: a short run
    job = TrainingJob(dlg.request())
    result = job.run(lambda event: None)
    app = json.loads((Path(result["run_dir"]) / "config.json").read_text())
    assert cli_main(["train", "--setup", "splitgan", "--data", str(result["cache"]), "--out", str(tmp_path / "cli"),
                     "--steps", "2", "--device", "cpu"]) == 0
    cli = json.loads((tmp_path / "cli" / "config.json").read_text())
    for key in ("setup", "preset", "steps", "batch_size", "lr", "hparams", "arch"):
        assert app[key] == cli[key], key
    for key in ("hparams", "base_lrs", "arch", "global_batch"):
        assert app["resolved"][key] == cli["resolved"][key], key
    hp = app["resolved"]["hparams"]
    assert (app["batch_size"], app["lr"]) == (None, None)
    assert (hp["batch_size"], hp["lr_g"], hp["lr_d"]) == (32, 5e-4, 2e-4)


def test_shape_edits_in_the_dialog_train_what_the_cli_flag_trains(qtbot, mtfl_subset: Path, tmp_path: Path):
    from keepsmiling_core.cli.main import main as cli_main
    from keepsmiling_core.editing.backends import open_editor
    from keepsmiling_core.editing.shape_editor import ShapeEditor
    from keepsmiling_gui.training_job import TrainingJob

    dlg = small_data_dialog(qtbot, mtfl_subset, tmp_path, "simplegan")
    assert not dlg.shape_edits.isEnabled(), "SimpleGAN draws mouths from noise: nothing to move"
    dlg.setup.setCurrentIndex(dlg.setup.findData("complexgan"))
    assert dlg.shape_edits.isEnabled()
    dlg.shape_edits.setChecked(True)
    dlg.steps.setValue(2)
    result = TrainingJob(dlg.request()).run(lambda event: None)
    app = json.loads((Path(result["run_dir"]) / "config.json").read_text())
    assert cli_main(["train", "--setup", "complexgan", "--shape-edits", "--data", str(result["cache"]),
                     "--out", str(tmp_path / "cli"), "--steps", "2", "--device", "cpu"]) == 0
    cli = json.loads((tmp_path / "cli" / "config.json").read_text())
    assert app["arch"] == cli["arch"] == {"shape_output": True}
    assert app["hparams"] == cli["hparams"] and app["hparams"]["cls_shape_view"] is True
    assert isinstance(open_editor(Path(result["run_dir"])), ShapeEditor)


def test_shape_edits_for_a_setup_without_them_is_a_clear_error(tmp_path: Path, capsys):
    from keepsmiling_core.cli.main import main as cli_main

    code = cli_main(["train", "--setup", "simplegan", "--shape-edits", "--data", str(tmp_path), "--out",
                     str(tmp_path / "run"), "--steps", "1"])
    assert code != 0 and "shape × texture" in capsys.readouterr().err
