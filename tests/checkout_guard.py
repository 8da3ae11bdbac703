"""Tests never modify tracked files nor leave files in the checkout: the run fails when they did.

The guard compares ``git status`` before and after the session, so `make test` (and CI) catch a test that
writes beside the sources instead of into a temporary folder."""

from __future__ import annotations

from pathlib import Path

import pytest


def _checkout_state(root: Path) -> str | None:
    """``git status --porcelain`` of the checkout (None outside a git checkout or without git)."""
    import subprocess

    try:
        done = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=root,
                              capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None


def pytest_sessionstart(session) -> None:
    session.config._checkout_before = _checkout_state(Path(session.config.rootpath))


def pytest_sessionfinish(session, exitstatus) -> None:
    before = getattr(session.config, "_checkout_before", None)
    after = _checkout_state(Path(session.config.rootpath))
    if before is None or after is None or before == after or session.config.getoption("collectonly"):
        return
    changed = sorted(set(after.splitlines()) ^ set(before.splitlines()))
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line("The test run changed the checkout (tests must write to temporary folders):", red=True)
        for line in changed:
            reporter.write_line(f"  {line}")
    session.exitstatus = pytest.ExitCode.TESTS_FAILED
