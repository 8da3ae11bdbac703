"""Smile strength: a slider (in hundredths) and a spin box that always show the same value.

``changed`` fires on every move so the photo follows the slider live; ``committed(old, new)`` fires
once per gesture (slider released, arrow key, typed value) so undo records one step per gesture,
not one per pixel of mouse movement.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QDoubleSpinBox, QHBoxLayout, QLabel, QSlider, QWidget

from keepsmiling_core.editing.session import DEFAULT_STRENGTH

MINIMUM = -2.0
MAXIMUM = 3.0
DEFAULT = DEFAULT_STRENGTH  # what a clicked face starts at: the session decides, the slider shows it
SCALE = 100  # slider ticks per unit of strength


class StrengthControl(QWidget):
    changed = Signal(float)
    committed = Signal(float, float)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(int(MINIMUM * SCALE), int(MAXIMUM * SCALE))
        self.slider.setSingleStep(5)
        self.slider.setPageStep(25)
        self.slider.setTickInterval(SCALE)
        self.slider.setTickPosition(QSlider.TickPosition.TicksBelow)
        self.slider.setMinimumWidth(160)  # the editing toolbar still fits an 800 px window
        self.slider.setToolTip("Smile strength of the face(s) in focus (double outline; click a face to "
                               "focus it): 0 leaves the mouth as it is, negative values frown.")
        self.spin = QDoubleSpinBox()
        self.spin.setRange(MINIMUM, MAXIMUM)
        self.spin.setDecimals(2)
        self.spin.setSingleStep(0.05)
        self.spin.setKeyboardTracking(False)
        self.spin.setToolTip(self.slider.toolTip())
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        label = QLabel("Strength")
        label.setBuddy(self.spin)
        layout.addWidget(label)
        layout.addWidget(self.slider, 1)
        layout.addWidget(self.spin)
        # Where the face in focus stops: past its limit the photo no longer changes, and the slider alone
        # would not say why (the status bar's message gives way to hover hints).
        self.limit_note = QLabel()
        self.limit_note.setVisible(False)
        layout.addWidget(self.limit_note)

        self._value = DEFAULT
        self._gesture_start: float | None = None
        self._set_widgets(DEFAULT)
        self.slider.valueChanged.connect(self._slider_moved)
        self.slider.sliderPressed.connect(self._begin_gesture)
        self.slider.sliderReleased.connect(self._end_gesture)
        self.spin.valueChanged.connect(self._spin_changed)

    def value(self) -> float:
        return self._value

    def set_hint(self, text: str) -> None:
        """What the slider moves now (the window knows: one face, the focused ones, or none yet)."""
        for widget in (self.slider, self.spin):
            widget.setToolTip(text)
            widget.setStatusTip(text)

    def show_limit(self, shown: float | None, reason: str = "") -> None:
        """Say that the face in focus shows ``shown`` rather than the slider's value (None: it follows)."""
        if shown is None:
            self.limit_note.setVisible(False)
            return
        self.limit_note.setText(f"stops at {shown:+.2f}")
        self.limit_note.setToolTip(f"The face shows strength {shown:+.2f}: {reason}.")
        self.limit_note.setVisible(True)

    def set_value(self, value: float, *, notify: bool = True) -> None:
        """Set programmatically (undo/redo); never records a ``committed`` step."""
        value = round(min(MAXIMUM, max(MINIMUM, float(value))), 2)
        self._set_widgets(value)
        if value != self._value:
            self._value = value
            if notify:
                self.changed.emit(value)

    def _set_widgets(self, value: float) -> None:
        for widget, v in ((self.slider, round(value * SCALE)), (self.spin, value)):
            widget.blockSignals(True)
            widget.setValue(v)
            widget.blockSignals(False)

    def _update(self, value: float, source: QWidget) -> None:
        value = round(value, 2)
        if value == self._value:
            return
        old = self._value
        self._value = value
        other = self.spin if source is self.slider else self.slider
        other.blockSignals(True)
        other.setValue(value if other is self.spin else round(value * SCALE))
        other.blockSignals(False)
        self.changed.emit(value)
        if self._gesture_start is None:  # keyboard, wheel or typed value: one step each
            self.committed.emit(old, value)

    def _slider_moved(self, ticks: int) -> None:
        self._update(ticks / SCALE, self.slider)

    def _spin_changed(self, value: float) -> None:
        self._update(value, self.spin)

    def _begin_gesture(self) -> None:
        self._gesture_start = self._value

    def _end_gesture(self) -> None:
        start, self._gesture_start = self._gesture_start, None
        if start is not None and start != self._value:
            self.committed.emit(start, self._value)
