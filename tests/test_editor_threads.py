"""The editor's CPU renders run on their own single-threaded render thread and never change the
process-wide torch thread count from a worker thread (training or detection may run beside them)."""

from __future__ import annotations

import threading

import pytest
import torch

from keepsmiling_core.editing import editor


def _in_new_thread(fn):
    box = []
    thread = threading.Thread(target=lambda: box.append(fn()))
    thread.start()
    thread.join()
    return box[0]


def test_renders_use_one_thread_and_leave_every_other_thread_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    before = torch.get_num_threads()
    torch.set_num_threads(2)  # a busier default than the suite's 1, so a change would show
    monkeypatch.setattr(editor, "_RENDER_POOL", [])  # a fresh render thread, started under that default
    try:
        cpu = torch.device("cpu")
        # A GUI worker thread asks for a render: the render itself runs with one intra-op thread ...
        inside = _in_new_thread(lambda: editor._on_cpu_render_thread(cpu, torch.get_num_threads))
        assert inside == 1
        # ... and the calling thread, the main thread and threads started later keep the default.
        assert torch.get_num_threads() == 2
        assert _in_new_thread(torch.get_num_threads) == 2
        assert _in_new_thread(lambda: (editor._on_cpu_render_thread(cpu, lambda: None), torch.get_num_threads())[1]) == 2
        # Work really runs there (one pool thread, reused), and nested calls from it do not deadlock.
        name = editor._on_cpu_render_thread(cpu, lambda: threading.current_thread().name)
        assert name.startswith("keepsmiling-render")
        assert editor._on_cpu_render_thread(cpu, lambda: editor._on_cpu_render_thread(cpu, lambda: 7)) == 7
    finally:
        for pool in editor._RENDER_POOL:
            pool.shutdown()
        torch.set_num_threads(before)
