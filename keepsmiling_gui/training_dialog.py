"""Settings ▸ Train…: choose a setup and a dataset, then watch a real training run.

The dialog only collects choices and shows progress; ``TrainingJob`` (core calls) runs in a worker.
Cancel asks the trainer to stop, which finishes the step and writes a checkpoint; Pause does the same
and Resume continues that run from its checkpoint.

Steps, batch size and learning rate show the chosen setup's preset (``keepsmiling_core/setups``) and
follow the setup; only values the user changed reach the run (and are remembered per setup), so an
untouched dialog trains exactly what ``keepsmiling train --setup NAME`` trains.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QCoreApplication, Qt, QTimer, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from keepsmiling_core.paths import mtfl_dir
from keepsmiling_core.setups import DEFAULT_SETUP, get_setup, listed_setups
from keepsmiling_core.training.config import supports_shape_edits

from .loss_plot import LossPlot
from .model_catalog import runs_dir, setup_label
from .settings import AppSettings
from .training_job import (
    DATASET_KINDS,
    JobEvent,
    TrainingJob,
    TrainingRequest,
    last_checkpoint_step,
    read_history,
)
from .workers import TaskRunner, dedicated_pool


def format_duration(seconds: float | None) -> str:
    if seconds is None or seconds != seconds or seconds < 0:
        return "–"
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


PRESET = "default"                      # the preset the dialog trains (no preset choice in the app)
TUNED_FIELDS = ("steps", "batch_size", "lr")
LR_TOLERANCE = 5e-7                     # half the last of the learning-rate box's 6 decimals


@dataclass(frozen=True)
class PresetValues:
    """What the dialog shows for a setup before the user changes anything: its preset's values."""

    steps: int
    batch_size: int
    lr: float       # the generator's; the critic keeps the preset's ratio to it


def preset_values(setup: str, preset: str = PRESET) -> PresetValues:
    values = get_setup(setup).training_preset(preset)
    return PresetValues(steps=values.steps, batch_size=values.batch_size, lr=values.lr_g)


def count_records(spec: str) -> tuple[int, int]:
    """(smiling, not smiling) the core finds for a dataset spec, quickly (folders count photos, not faces)."""
    from keepsmiling_core.data.sources import quick_counts

    return quick_counts(spec)


class TrainingDialog(QDialog):
    """Non-modal so the user can keep editing photos while a model trains."""

    runFinished = Signal(object)  # noqa: N815 - the run folder (Path) once a run ended with a checkpoint
    runSaved = Signal(object)  # noqa: N815 - the run folder (Path) whenever a run stopped, paused or ended
    idle = Signal()  # the training worker has returned (after a stop: the checkpoint is written)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Train a model")
        self.settings = AppSettings()
        self.tasks = TaskRunner(self)  # dataset checks
        self.training = TaskRunner(self, dedicated_pool(self))  # hours-long: keep it off the shared pool
        self.job: TrainingJob | None = None
        self._started_at = 0.0
        self._elapsed_before = 0.0  # training time of the run before this launch (resumes)
        self.last_elapsed: float | None = None  # training seconds of the whole run when the job last returned
        self.dataset_problem: str | None = None  # why Start is disabled: the dataset is known to be unusable
        self._counts_generation = 0
        self.last_progress = None
        self.last_result: dict | None = None
        self.last_error: str | None = None
        self.dataset_counts: tuple[int, int] | None = None
        self.extra_config: dict = {}  # further TrainConfig fields (tests switch TensorBoard off)
        self._build()
        self._load_settings()
        self.setup.currentIndexChanged.connect(lambda _: self._show_setup_values())
        self._check_timer = QTimer(self, singleShot=True, interval=400)
        self._check_timer.timeout.connect(self.validate_dataset)
        self.dataset_path.textChanged.connect(lambda _: self._check_timer.start())
        self.dataset_kind.currentIndexChanged.connect(lambda _: self._check_timer.start())
        self.dataset_kind.currentIndexChanged.connect(self._kind_changed)
        for widget in (self.steps, self.batch_size, self.limit):
            widget.valueChanged.connect(lambda _: self._update_epochs())
        self.frontal_only.toggled.connect(lambda _: self._update_epochs())
        self._kind_changed()
        self._set_running(False)
        self.validate_dataset()

    # layout ---------------------------------------------------------------------------------------
    def _build(self) -> None:
        self.setup = QComboBox()
        for spec in listed_setups():
            self.setup.addItem(spec.display_name, spec.name)
        self.setup.setToolTip("\n".join(f"{spec.display_name}: {spec.description}" for spec in listed_setups()))
        self.dataset_kind = QComboBox()
        for label, key in DATASET_KINDS.items():
            self.dataset_kind.addItem(label, key)
        self.dataset_path = QLineEdit()
        self.dataset_path.setPlaceholderText("Folder of the dataset")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse_dataset)
        path_row = QHBoxLayout()
        path_row.addWidget(self.dataset_path, 1)
        path_row.addWidget(browse)
        self.dataset_status = QLabel()
        self.dataset_status.setWordWrap(True)
        self.frontal_only = QCheckBox("Frontal faces only (MTFL pose 3, as the original)")
        self.shape_edits = QCheckBox("Move the photo's pixels (shape × texture networks)")
        self.shape_edits.setToolTip("The network predicts how to move the mouth's own pixels and paints only "
                                    "what parted lips reveal, instead of redrawing the mouth at 64 px.")
        self.limit = QSpinBox()
        self.limit.setRange(0, 1_000_000)
        self.limit.setSpecialValueText("all faces")
        self.limit.setSingleStep(100)
        self.size = QComboBox()
        for size in (32, 64, 128):
            self.size.addItem(f"{size} × {size}", size)
        self.batch_size = QSpinBox()
        self.batch_size.setRange(1, 1024)
        self.steps = QSpinBox()
        self.steps.setRange(1, 10_000_000)
        self.steps.setSingleStep(1000)
        self.epochs = QLabel()
        steps_row = QHBoxLayout()
        steps_row.addWidget(self.steps, 1)
        steps_row.addWidget(self.epochs)
        self.lr = QDoubleSpinBox()
        self.lr.setDecimals(6)
        self.lr.setRange(1e-6, 1.0)
        self.lr.setSingleStep(1e-4)
        self.device = QComboBox()
        self.device.addItem("Automatic (GPU if available)", "auto")
        self.device.addItem("CPU", "cpu")
        try:
            import torch

            for index in range(torch.cuda.device_count()):
                self.device.addItem(f"GPU {index}: {torch.cuda.get_device_name(index)}", f"cuda:{index}")
        except Exception:  # noqa: BLE001 - a broken CUDA install still leaves CPU training
            pass
        self.out_dir = QLineEdit()
        out_browse = QPushButton("Browse…")
        out_browse.clicked.connect(self._browse_out)
        out_row = QHBoxLayout()
        out_row.addWidget(self.out_dir, 1)
        out_row.addWidget(out_browse)

        form = QFormLayout()
        form.addRow("Setup", self.setup)
        form.addRow("", self.shape_edits)
        form.addRow("Dataset type", self.dataset_kind)
        form.addRow("Dataset folder", path_row)
        form.addRow("", self.dataset_status)
        form.addRow("", self.frontal_only)
        form.addRow("Use at most", self.limit)
        form.addRow("Crop size", self.size)
        form.addRow("Batch size", self.batch_size)
        form.addRow("Steps", steps_row)
        form.addRow("Learning rate", self.lr)
        form.addRow("Device", self.device)
        form.addRow("Runs folder", out_row)
        self.settings_box = QGroupBox("Settings")
        self.settings_box.setLayout(form)

        self.progress = QProgressBar()
        self.progress.setFormat("%p%")
        self.status = QLabel("Not started")
        self.status.setWordWrap(True)
        self.eta = QLabel("")
        self.loss_plot = LossPlot()
        self.sample = QLabel("Samples appear here during training")
        self.sample.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.sample.setMinimumSize(256, 256)
        self.sample.setFrameShape(QLabel.Shape.StyledPanel)
        self.log = QPlainTextEdit()
        self.log.setReadOnly(True)
        self.log.setMaximumBlockCount(500)
        self.log.setFixedHeight(90)

        self.start_button = QPushButton("Start")
        self.start_button.setDefault(True)
        self.start_button.clicked.connect(self.start)
        self.pause_button = QPushButton("Pause")
        self.pause_button.clicked.connect(self.toggle_pause)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop after the current step and keep a checkpoint of the run")
        self.cancel_button.clicked.connect(self.cancel)
        self.resume_button = QPushButton("Resume a run…")
        self.resume_button.setToolTip("Continue a stopped or cancelled run from its last checkpoint")
        self.resume_button.clicked.connect(self._browse_resume)
        close = QPushButton("Close")
        close.clicked.connect(self.close)
        buttons = QHBoxLayout()
        buttons.addWidget(self.start_button)
        buttons.addWidget(self.pause_button)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.resume_button)
        buttons.addStretch(1)
        buttons.addWidget(close)

        live = QGroupBox("Progress")
        live_layout = QVBoxLayout(live)
        top = QHBoxLayout()
        top.addWidget(self.progress, 1)
        top.addWidget(self.eta)
        live_layout.addLayout(top)
        live_layout.addWidget(self.status)
        row = QHBoxLayout()
        row.addWidget(self.loss_plot, 1)
        row.addWidget(self.sample)
        live_layout.addLayout(row, 1)
        live_layout.addWidget(self.log)

        columns = QHBoxLayout()
        columns.addWidget(self.settings_box)
        columns.addWidget(live, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(columns, 1)
        layout.addLayout(buttons)
        self.resize(1100, 560)
        screen = self.screen()
        if screen is not None:  # a small or scaled screen: never larger than the space there is
            available = screen.availableGeometry()
            self.resize(min(1100, int(available.width() * 0.95)), min(560, int(available.height() * 0.9)))

    # settings -------------------------------------------------------------------------------------
    def _load_settings(self) -> None:
        s = self.settings
        self.setup.setCurrentIndex(max(0, self.setup.findData(s.value("train/setup", DEFAULT_SETUP))))
        self.dataset_kind.setCurrentIndex(max(0, self.dataset_kind.findData(s.value("train/dataset_kind", "mtfl"))))
        self.dataset_path.setText(str(s.value("train/dataset_path", str(mtfl_dir()))))
        self.frontal_only.setChecked(s.value("train/frontal_only", True, bool))
        self.limit.setValue(s.value("train/limit", 0, int))
        self.size.setCurrentIndex(max(0, self.size.findData(s.value("train/size", 64, int))))
        self._show_setup_values()
        self.device.setCurrentIndex(max(0, self.device.findData(s.value("train/device", "auto"))))
        self.out_dir.setText(str(s.value("train/out_dir", str(runs_dir()))))

    def _show_setup_values(self) -> None:
        """Steps, batch size and learning rate for the chosen setup: what the user changed for it before
        (remembered per setup), else its preset's values."""
        setup = self.setup.currentData()
        preset = preset_values(setup)
        s = self.settings
        self.shape_edits.setEnabled(supports_shape_edits(setup, PRESET))
        self.shape_edits.setChecked(self.shape_edits.isEnabled() and s.value(f"train/{setup}/shape_edits", False, bool))
        self.steps.setValue(s.value(f"train/{setup}/steps", preset.steps, int))
        self.batch_size.setValue(s.value(f"train/{setup}/batch_size", preset.batch_size, int))
        self.lr.setValue(s.value(f"train/{setup}/lr", preset.lr, float))

    def changed_values(self) -> dict:
        """The tuned fields whose value differs from the chosen setup's preset, by TrainingRequest name."""
        preset = preset_values(self.setup.currentData())
        changed: dict = {}
        if self.steps.value() != preset.steps:
            changed["steps"] = self.steps.value()
        if self.batch_size.value() != preset.batch_size:
            changed["batch_size"] = self.batch_size.value()
        if abs(self.lr.value() - preset.lr) > LR_TOLERANCE:
            changed["lr"] = self.lr.value()
        return changed

    def request(self) -> TrainingRequest:
        """What Start trains: the fields the user left at the preset's value are None (the preset decides)."""
        return TrainingRequest(
            setup=self.setup.currentData(),
            preset=PRESET,
            dataset_kind=self.dataset_kind.currentData(),
            dataset_path=self.dataset_path.text().strip(),
            size=int(self.size.currentData()),
            **self.changed_values(),
            device=self.device.currentData(),
            out_dir=self.out_dir.text().strip() or str(runs_dir()),
            limit=self.limit.value(),
            frontal_only=self.frontal_only.isChecked(),
            shape_edits=self.shape_edits.isEnabled() and self.shape_edits.isChecked(),
            extra=dict(self.extra_config),
        )

    def _save_settings(self, request: TrainingRequest) -> None:
        for key in ("setup", "dataset_kind", "dataset_path", "size", "device", "out_dir", "limit", "frontal_only"):
            self.settings.set_value(f"train/{key}", getattr(request, key))
        self.settings.set_value(f"train/{request.setup}/shape_edits", request.shape_edits)
        for key in TUNED_FIELDS:  # per setup, and only what differs from its preset
            value = getattr(request, key)
            if value is None:
                self.settings.remove(f"train/{request.setup}/{key}")
            else:
                self.settings.set_value(f"train/{request.setup}/{key}", value)

    # dataset --------------------------------------------------------------------------------------
    def _browse_dataset(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Dataset folder", self.dataset_path.text())
        if folder:
            self.dataset_path.setText(folder)

    def _browse_out(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder for training runs", self.out_dir.text())
        if folder:
            self.out_dir.setText(folder)

    def _kind_changed(self) -> None:
        self.frontal_only.setEnabled(self.dataset_kind.currentData() == "mtfl")

    def _update_epochs(self) -> None:
        """Rough epochs for the chosen steps, so "steps" means something before starting."""
        if not self.dataset_counts:
            self.epochs.setText("")
            return
        faces = sum(self.dataset_counts)
        if self.frontal_only.isChecked() and self.dataset_kind.currentData() == "mtfl":
            faces = int(faces * 0.745)  # MTFL: 7,445 of 10,000 training faces are frontal
        if self.limit.value():
            faces = min(faces, self.limit.value())
        epochs = self.steps.value() * self.batch_size.value() / max(1, faces)
        self.epochs.setText(f"≈ {epochs:,.1f} passes over ≈ {faces:,} faces")

    def validate_dataset(self) -> None:
        """Count smiling / non-smiling faces in a worker; only the newest check updates the label."""
        path = self.dataset_path.text().strip()
        self._counts_generation += 1
        if not path:
            self.dataset_status.setText("Choose the dataset folder.")
            self._set_dataset_problem("Choose the dataset folder first.")
            return
        self._set_dataset_problem(None)  # unknown while checking: Start stays possible
        generation = self._counts_generation
        spec = f"{self.dataset_kind.currentData()}:{path}"
        self.dataset_status.setText("Checking the dataset…")
        self.tasks.start(
            count_records,
            spec,
            on_success=lambda counts: self._show_counts(generation, counts),
            on_failure=lambda message: self._show_counts(generation, message),
        )

    def _show_counts(self, generation: int, outcome) -> None:
        if generation != self._counts_generation:
            return
        if isinstance(outcome, str):
            self.dataset_status.setText(f"<span style='color:#c0392b'>{outcome}</span>")
            self.dataset_counts = None
            self._set_dataset_problem(outcome)
            self._update_epochs()
            return
        smiling, other = outcome
        self.dataset_counts = outcome
        self._set_dataset_problem(None if smiling and other else
                                  "Training needs both smiling and non-smiling faces in the dataset.")
        self._update_epochs()
        colour = "#1e8449" if smiling and other else "#c0392b"
        note = "" if smiling and other else " — training needs both smiling and non-smiling faces."
        what = "photos" if self.dataset_kind.currentData() == "folders" else "faces"
        self.dataset_status.setText(
            f"<span style='color:{colour}'>Found {smiling:,} smiling and {other:,} non-smiling {what}{note}</span>")

    def _set_dataset_problem(self, problem: str | None) -> None:
        """Start is disabled, with the reason as its tooltip, while the dataset is known to be unusable."""
        self.dataset_problem = problem
        self._set_running(self.running)

    # running --------------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.job is not None and self.training.busy

    def _set_running(self, running: bool) -> None:
        self.settings_box.setEnabled(not running)
        problem = getattr(self, "dataset_problem", None)
        self.start_button.setEnabled(not running and problem is None)
        self.start_button.setToolTip(f"Cannot start: {problem}" if problem else "Start training with these settings")
        self.resume_button.setEnabled(not running)
        paused = self.job is not None and self.job.paused and not running
        self.pause_button.setEnabled(running or paused)
        self.pause_button.setText("Resume" if paused else "Pause")
        self.cancel_button.setEnabled(running)

    def start(self) -> None:
        request = self.request()
        if not request.dataset_path:
            QMessageBox.warning(self, "Train a model", "Choose the dataset folder first.")
            return
        self._save_settings(request)
        Path(request.out_dir).mkdir(parents=True, exist_ok=True)
        self.job = TrainingJob(request)
        self.last_result = None
        self.last_error = None
        self._log(f"Starting {setup_label(request.setup)} on {request.spec}")
        self._launch()

    def _browse_resume(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Run folder to resume", self.out_dir.text())
        if folder:
            self.resume_run(Path(folder))

    def resume_run(self, run_dir: Path) -> None:
        from keepsmiling_core.errors import KeepSmilingError

        try:
            self.job = TrainingJob.resume_run(run_dir)
        except KeepSmilingError as exc:
            QMessageBox.warning(self, "Cannot resume", str(exc))
            return
        self.last_result = None
        self.last_error = None
        self._log(f"Resuming {setup_label(self.job.request.setup)} run {run_dir}")
        self._launch()

    def _launch(self) -> None:
        assert self.job is not None
        self.job.reset()
        self._show_history()
        self._set_busy("Starting…")
        self._started_at = time.monotonic()
        self.training.start(self.job.run, on_progress=self._on_event, on_success=self._on_done,
                         on_failure=self._on_failed)
        self._set_running(True)

    def _show_history(self) -> None:
        """A resumed run keeps its loss curves and its training time: both come from its metrics.jsonl,
        up to the checkpoint the run continues from."""
        self.loss_plot.clear()
        self._elapsed_before = 0.0
        if self.job is None or not self.job.resume:
            return
        history = read_history(self.job.run_dir, up_to=last_checkpoint_step(self.job.run_dir) or 0)
        for step, losses in history.points:
            self.loss_plot.add_point(step, losses)
        self._elapsed_before = history.elapsed_s

    def elapsed(self) -> float:
        """Seconds the run has trained, over every session and resume."""
        return self._elapsed_before + (time.monotonic() - self._started_at)

    def _set_busy(self, text: str) -> None:
        """An indeterminate bar: something runs whose length is unknown (never a stale 100 %)."""
        self.progress.setRange(0, 0)
        self.progress.setFormat(text)

    def _set_fraction(self, fraction: float, label: str) -> None:
        self.progress.setRange(0, 100)
        self.progress.setValue(int(round(100 * min(1.0, max(0.0, fraction)))))
        self.progress.setFormat(f"{label} %p%")

    def toggle_pause(self) -> None:
        if self.job is None:
            return
        if self.running:
            self.status.setText("Pausing… (a checkpoint of the last complete step is written)")
            self._set_busy("Pausing…")
            self.pause_button.setEnabled(False)
            self.cancel_button.setEnabled(False)
            self.job.stop(pause=True)
        elif self.job.paused:
            self._log("Resuming from the last checkpoint")
            self._launch()

    def cancel(self) -> None:
        if self.job is not None and self.running:
            self.status.setText("Stopping… (a checkpoint of the last complete step is written)")
            self._set_busy("Stopping…")
            self.cancel_button.setEnabled(False)
            self.pause_button.setEnabled(False)
            self.job.stop(pause=False)

    def _on_event(self, event: JobEvent) -> None:
        if self.job is not None and self.job.stop_requested:
            return  # "Stopping…" stays until the job returns
        if event.stage == "train" and event.progress is not None:
            self._show_progress(event.progress)
            return
        if event.stage == "starting":
            self._set_busy("Starting…")
        elif event.fraction is not None:
            self._set_fraction(event.fraction, "Preparing crops" if event.stage == "prepare" else "Direction")
        if event.text:
            self.status.setText(event.text)
            if event.stage != "prepare" or event.fraction in (None, 0.0):
                self._log(event.text)

    def _show_progress(self, progress) -> None:
        self.last_progress = progress
        total = max(1, int(getattr(progress, "total_steps", 1) or 1))
        step = int(getattr(progress, "step", 0))
        self.progress.setRange(0, total)
        self.progress.setValue(min(step, total))
        self.progress.setFormat(f"step {step:,} / {total:,} (%p%)")
        speed = getattr(progress, "images_per_s", None)
        self.eta.setText(f"{format_duration(self.elapsed())} elapsed, "
                         f"ETA {format_duration(getattr(progress, 'eta_s', None))}"
                         + (f" · {speed:,.0f} images/s" if speed else ""))
        losses = dict(getattr(progress, "losses", {}) or {})
        self.loss_plot.add_point(step, losses)
        summary = ", ".join(f"{k} {v:.3f}" for k, v in sorted(losses.items()))
        self.status.setText(f"Training: step {step:,} of {total:,}, epoch {getattr(progress, 'epoch', 0)}. {summary}")
        sample = getattr(progress, "sample_png", None)
        if sample:
            pixmap = QPixmap(str(sample))
            if not pixmap.isNull():
                self.sample.setPixmap(pixmap.scaled(self.sample.size(), Qt.AspectRatioMode.KeepAspectRatio,
                                                    Qt.TransformationMode.FastTransformation))

    def _on_done(self, result: dict) -> None:
        self.last_result = result
        self._set_running(False)
        self.last_elapsed = self.elapsed()
        elapsed = format_duration(self.last_elapsed)
        run_dir = result.get("run_dir")
        step = last_checkpoint_step(run_dir) if run_dir is not None else None
        at = f" at step {step:,}" if step else ""
        if run_dir is None or (result.get("stopped") and step is None):
            self._set_fraction(0.0, "Stopped")
            self.status.setText(f"Stopped after {elapsed}, before the first step: nothing to keep.")
        elif result.get("paused"):
            self._show_step(step or 0)
            self.status.setText(f"Paused{at} after {elapsed} of training; checkpoint in {run_dir}. "
                                "Press Resume to continue.")
        elif result.get("stopped"):
            self._show_step(step)
            self.status.setText(f"Cancelled{at} after {elapsed} of training; the checkpoint in {run_dir} "
                                "can be used or resumed.")
        else:
            self._show_step(step if step is not None else self.job.request.total_steps())
            self.status.setText(f"Finished in {elapsed}: {run_dir}")
        self._log(self.status.text())
        if run_dir is not None and step is not None:
            self.runSaved.emit(Path(run_dir))
            if not result.get("paused"):
                self.runFinished.emit(Path(run_dir))
        self.idle.emit()

    def _show_step(self, step: int) -> None:
        total = max(1, self.job.request.total_steps() if self.job is not None else step)
        self.progress.setRange(0, total)
        self.progress.setValue(min(step, total))
        self.progress.setFormat(f"step {step:,} / {total:,} (%p%)")

    def _on_failed(self, message: str) -> None:
        self.last_error = message
        self._set_running(False)
        if self.job is not None:
            self.job.paused = False
            self._set_running(False)
        self.status.setText(f"<span style='color:#c0392b'>{message}</span>")
        self._set_fraction(0.0, "Failed")
        self._log(f"Failed: {message}")
        self.idle.emit()
        QMessageBox.warning(self, "Training stopped", message)

    def _log(self, text: str) -> None:
        self.log.appendPlainText(f"{time.strftime('%H:%M:%S')}  {text}")

    def request_stop(self) -> None:
        """Ask a running job to stop (Quit): returns at once; ``idle`` is emitted once it has."""
        if self.running and not self.job.stop_requested:
            self.cancel()

    def stop_and_wait(self, timeout_ms: int = 10_000) -> bool:
        """Stop a running job and wait for it (scripts and tests only: this blocks the calling thread)."""
        if self.running:
            self.job.stop()
            if not self.training.wait(timeout_ms):
                return False
            QCoreApplication.processEvents()  # deliver the job's result so the dialog's state is final
        return True

    def closeEvent(self, event) -> None:  # noqa: N802
        """Closing only hides the dialog: a run keeps going while the user edits photos."""
        if self.running:
            self.parent_notice = "Training continues in the background; Settings ▸ Train… shows it again."
            parent = self.parent()
            if parent is not None and hasattr(parent, "notify"):
                parent.notify(self.parent_notice, 10000)
        super().closeEvent(event)
