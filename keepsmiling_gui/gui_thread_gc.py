"""Python's cyclic garbage collector runs only on the GUI thread.

The collector normally runs in whichever thread happens to allocate when a threshold is crossed. When
that is a worker (a training run loading its dataset) and the garbage holds a Qt object that lives on
the GUI thread -- a closed dialog's wrapper, a finished task's signal object -- Qt destroys it from the
wrong thread and the process can crash. CI saw exactly that: a segmentation fault "Garbage-collecting"
inside a training job's dataset load while a closed dialog's check was still running. So automatic
collection is switched off and the GUI thread collects on a timer instead, with the same generation
thresholds Python would use (the approach pyqtgraph ships as ``GarbageCollector``).
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QCoreApplication, QObject, QTimer

_NAME = "keepsmiling-gui-thread-gc"


class GuiThreadGarbageCollector(QObject):
    """Collects on the GUI thread every ``interval_ms``, generation by generation as thresholds are passed."""

    def __init__(self, parent: QObject, interval_ms: int = 500):
        super().__init__(parent)
        self.thresholds = gc.get_threshold()
        gc.disable()
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.collect)
        self.timer.start()

    def collect(self) -> None:
        young, middle, old = gc.get_count()
        if young > self.thresholds[0]:
            gc.collect(0)
            if middle > self.thresholds[1]:
                gc.collect(1)
                if old > self.thresholds[2]:
                    gc.collect(2)


def collect_garbage_on_gui_thread(app: QCoreApplication) -> GuiThreadGarbageCollector:
    """Install the collector on ``app`` once; later calls return the one already installed."""
    existing = app.findChild(GuiThreadGarbageCollector)
    if existing is not None:
        return existing
    collector = GuiThreadGarbageCollector(app)
    collector.setObjectName(_NAME)
    return collector
