"""Running core work off the GUI thread.

``Task`` wraps any callable in a ``QRunnable`` whose outcome comes back as Qt signals (delivered on
the GUI thread by queued connections). ``LatestOnlyRunner`` serves a stream of requests of which only
the newest matters (a strength slider being dragged): at most one job runs, a newer request replaces
any waiting one, and a result that is already stale when it arrives is dropped, so the photo never
jumps back to an old strength and the queue never grows behind the slider.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from keepsmiling_core.device import is_out_of_memory
from keepsmiling_core.errors import KeepSmilingError

log = logging.getLogger(__name__)


def dedicated_pool(parent: QObject, threads: int = 1) -> QThreadPool:
    """A pool of its own, so a long job (training) never starves rendering or detection of threads."""
    pool = QThreadPool(parent)
    pool.setMaxThreadCount(threads)
    return pool


def user_message(exc: BaseException) -> str:
    """What a person should read for ``exc``: the core's own message, or a plain summary, never a traceback."""
    if isinstance(exc, KeepSmilingError):
        return str(exc)
    if is_out_of_memory(exc):
        return "The device ran out of memory. Try a smaller batch size or the CPU."
    if isinstance(exc, MemoryError):
        return "Not enough memory for this operation. Try a smaller photo or close other programs."
    return f"Unexpected error ({type(exc).__name__}: {exc}). Details were written to the log."


class TaskSignals(QObject):
    """Signals live on a QObject of their own because a QRunnable cannot carry signals."""

    progress = Signal(object)
    succeeded = Signal(object)
    failed = Signal(str)
    finished = Signal()


class Task(QRunnable):
    """Run ``fn(*args, **kwargs)`` in the pool; if ``fn`` accepts ``report`` it gets a progress callable."""

    def __init__(self, fn: Callable[..., Any], *args: Any, with_progress: bool = False, **kwargs: Any):
        super().__init__()
        self.fn = fn
        self.args = args
        self.kwargs = kwargs
        self.signals = TaskSignals()
        if with_progress:
            self.kwargs["report"] = lambda value: self._emit(self.signals.progress, value)
        # The pool must not delete us before the queued signals were delivered.
        self.setAutoDelete(False)

    def run(self) -> None:  # noqa: D401 - Qt override
        try:
            result = self.fn(*self.args, **self.kwargs)
        except BaseException as exc:  # noqa: BLE001 - a worker must never kill the app
            if not isinstance(exc, KeepSmilingError):
                log.error("worker failed:\n%s", traceback.format_exc())
            self._emit(self.signals.failed, user_message(exc))
        else:
            self._emit(self.signals.succeeded, result)
        finally:
            self._emit(self.signals.finished)

    @staticmethod
    def _emit(signal, *args: Any) -> None:
        try:
            signal.emit(*args)
        except RuntimeError:  # the app quit while we worked: nobody is left to tell
            pass


class TaskRunner(QObject):
    """Owns the tasks it started (so Python keeps them alive until they report) and a thread pool."""

    def __init__(self, parent: QObject | None = None, pool: QThreadPool | None = None):
        super().__init__(parent)
        self.pool = pool or QThreadPool.globalInstance()
        self._running: set[Task] = set()

    def start(
        self,
        fn: Callable[..., Any],
        *args: Any,
        on_success: Callable[[Any], None] | None = None,
        on_failure: Callable[[str], None] | None = None,
        on_progress: Callable[[Any], None] | None = None,
        **kwargs: Any,
    ) -> Task:
        task = Task(fn, *args, with_progress=on_progress is not None, **kwargs)
        # Connected first, so that ``busy`` is already False inside the caller's own callbacks.
        task.signals.succeeded.connect(lambda _result: self._running.discard(task))
        task.signals.failed.connect(lambda _message: self._running.discard(task))
        if on_success is not None:
            task.signals.succeeded.connect(self._while_alive(on_success))
        if on_failure is not None:
            task.signals.failed.connect(self._while_alive(on_failure))
        if on_progress is not None:
            task.signals.progress.connect(self._while_alive(on_progress))
        self._running.add(task)
        task.signals.finished.connect(lambda: self._running.discard(task))
        self.pool.start(task)
        return task

    def _while_alive(self, callback: Callable[..., None]) -> Callable[..., None]:
        """Drop a late report once the runner's owner (e.g. a closed dialog) is gone: its widgets are too."""

        def deliver(*args: Any) -> None:
            if shiboken6.isValid(self):
                callback(*args)

        return deliver

    @property
    def busy(self) -> bool:
        return bool(self._running)

    def wait(self, msecs: int = -1) -> bool:
        return self.pool.waitForDone(msecs)


class LatestOnlyRunner(QObject):
    """Runs the newest of a stream of requests; stale ones are skipped while waiting.

    At most one job runs at a time. A request made while one runs waits, and a newer request replaces
    it (``skipped`` counts those), so a slider dragged faster than rendering only ever renders its
    latest position and the photo keeps following it. ``cancel()`` (a new photo, another model) makes
    the running job's result stale: it is dropped on arrival (``dropped``). Results arrive in request
    order, so a delivered result is always newer than the one shown before.
    """

    delivered = Signal(int, object)
    failed = Signal(int, str)

    def __init__(self, parent: QObject | None = None, pool: QThreadPool | None = None):
        super().__init__(parent)
        self._runner = TaskRunner(self, pool)
        self.generation = 0
        self._epoch = 0
        self._pending: tuple[int, Callable[[], Any]] | None = None
        self._in_flight = False
        self.started = 0
        self.skipped = 0
        self.dropped = 0

    def request(self, fn: Callable[[], Any]) -> int:
        """Ask for ``fn()`` to run; returns its generation number. An older waiting request is forgotten."""
        self.generation += 1
        if self._pending is not None:
            self.skipped += 1
        self._pending = (self.generation, fn)
        self._start_next()
        return self.generation

    def cancel(self) -> None:
        """Forget waiting work and make a running job's result stale."""
        self._epoch += 1
        if self._pending is not None:
            self.skipped += 1
        self._pending = None

    @property
    def idle(self) -> bool:
        return not self._in_flight and self._pending is None

    def _start_next(self) -> None:
        if self._in_flight or self._pending is None:
            return
        generation, fn = self._pending
        self._pending = None
        self._in_flight = True
        self.started += 1
        epoch = self._epoch
        self._runner.start(
            fn,
            on_success=lambda result: self._done(epoch, generation, result, None),
            on_failure=lambda message: self._done(epoch, generation, None, message),
        )

    def _done(self, epoch: int, generation: int, result: Any, error: str | None) -> None:
        self._in_flight = False
        if epoch != self._epoch:
            self.dropped += 1
        elif error is not None:
            self.failed.emit(generation, error)
        else:
            self.delivered.emit(generation, result)
        self._start_next()
