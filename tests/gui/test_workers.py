"""Worker plumbing: errors become user messages, and only the newest of a stream of requests renders."""

from __future__ import annotations

import threading

from keepsmiling_core.errors import ImageReadError
from keepsmiling_gui.workers import LatestOnlyRunner, TaskRunner, user_message


def test_task_reports_result_and_user_facing_errors(qtbot, wait_until):
    runner = TaskRunner()
    results, errors = [], []
    runner.start(lambda a, b: a + b, 2, 3, on_success=results.append)

    def broken() -> None:
        raise ImageReadError("The image file /x.jpg does not exist.")

    runner.start(broken, on_failure=errors.append)
    runner.start(lambda: 1 / 0, on_failure=errors.append)
    wait_until(lambda: len(results) == 1 and len(errors) == 2 and not runner.busy)
    busy_in_callback: list[bool] = []
    runner.start(lambda: None, on_success=lambda _r: busy_in_callback.append(runner.busy))
    wait_until(lambda: busy_in_callback)
    assert busy_in_callback == [False], "callbacks must see the task as done (Resume right after a pause)"
    assert results == [5]
    assert "The image file /x.jpg does not exist." in errors
    assert any(e.startswith("Unexpected error (ZeroDivisionError") for e in errors)
    assert "Traceback" not in " ".join(errors)
    assert "smaller batch" in user_message(RuntimeError("CUDA out of memory. Tried to allocate"))


def test_latest_only_runner_skips_stale_requests(qtbot, wait_until):
    runner = LatestOnlyRunner()
    gate = threading.Event()
    ran: list[int] = []
    delivered: list[tuple[int, object]] = []
    runner.delivered.connect(lambda g, r: delivered.append((g, r)))

    def job(value: int):
        def work() -> int:
            gate.wait(10)
            ran.append(value)
            return value

        return work

    for value in range(50):  # a slider dragged while the first render is still busy
        runner.request(job(value))
    gate.set()
    wait_until(lambda: runner.idle)
    assert ran == [0, 49], "only the running job and the newest request may run"
    assert runner.skipped == 48 and runner.started == 2
    assert [r for _, r in delivered] == [0, 49]
    assert delivered[-1][0] == runner.generation


def test_cancel_drops_a_running_result(qtbot, wait_until):
    runner = LatestOnlyRunner()
    gate = threading.Event()
    delivered: list[object] = []
    runner.delivered.connect(lambda g, r: delivered.append(r))
    runner.request(lambda: gate.wait(10) and "old photo")
    runner.request(lambda: "waiting")
    runner.cancel()
    gate.set()
    wait_until(lambda: runner.idle)
    assert delivered == [] and runner.dropped == 1 and runner.skipped == 1
