"""The cyclic garbage collector never runs on a worker thread (CI crashed once when it did)."""

from __future__ import annotations

import gc
import threading
import weakref

from PySide6.QtCore import QObject

from keepsmiling_gui.app import start
from keepsmiling_gui.gui_thread_gc import GuiThreadGarbageCollector
from keepsmiling_gui.workers import TaskRunner


class _Cycle:
    def __init__(self) -> None:
        self.me = self


def _make_cyclic_garbage(count: int) -> int:
    for _ in range(count):
        _Cycle()
    return count


def test_collections_happen_on_the_gui_thread_only_while_workers_allocate(qtbot, wait_until):
    gui_thread = threading.get_ident()
    threads: list[int] = []

    def record(phase: str, info: dict) -> None:
        if phase == "start":
            threads.append(threading.get_ident())

    gc.callbacks.append(record)
    try:
        runner = TaskRunner()
        results: list[int] = []
        for _ in range(4):  # each worker allocates far past the young-generation threshold
            runner.start(_make_cyclic_garbage, 20_000, on_success=results.append)
        wait_until(lambda: len(results) == 4, 60)
        wait_until(lambda: gui_thread in threads, 10)
    finally:
        gc.callbacks.remove(record)
    assert set(threads) == {gui_thread}, "a worker thread ran the garbage collector"


def test_cyclic_garbage_holding_a_qt_object_is_collected_by_the_timer(qtbot, wait_until):
    holder = _Cycle()
    holder.qt = QObject()
    gone = weakref.ref(holder)
    del holder
    _make_cyclic_garbage(gc.get_threshold()[0] + 1)  # past the threshold at which Python would collect
    wait_until(lambda: gone() is None, 10)


def test_the_app_installs_the_collector_once(qtbot, messages, qapp):
    window = start([])
    qtbot.addWidget(window)
    assert not gc.isenabled()
    assert len(qapp.findChildren(GuiThreadGarbageCollector)) == 1
