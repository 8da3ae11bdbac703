"""The guard behind "tests never modify tracked files": a run that writes into the checkout fails."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

GUARD = Path(__file__).with_name("checkout_guard.py")


def _repo(tmp_path: Path, test_body: str) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    shutil.copy(GUARD, repo / "checkout_guard.py")
    (repo / "tracked.txt").write_text("as committed\n")
    (repo / ".gitignore").write_text("__pycache__/\n")
    (repo / "test_it.py").write_text(f"from pathlib import Path\n\ndef test_it(tmp_path):\n    {test_body}\n")
    for args in (["init", "-q"], ["add", "."], ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "x"]):
        subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)
    return repo


def _run(repo: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "checkout_guard", "-p", "no:cacheprovider",
                           "-p", "no:pytest-qt",
                           "--rootdir", str(repo), "test_it.py"], cwd=repo, capture_output=True, text=True,
                          env={"PYTHONPATH": str(repo), "PATH": "/usr/bin:/bin", "HOME": str(repo)})


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_a_run_that_changes_the_checkout_fails(tmp_path: Path) -> None:
    done = _run(_repo(tmp_path, "Path('tracked.txt').write_text('changed'); Path('left_behind.png').write_bytes(b'x')"))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "1 passed" in done.stdout and "changed the checkout" in done.stdout
    assert "M tracked.txt" in done.stdout and "?? left_behind.png" in done.stdout


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_a_run_that_writes_to_temporary_folders_passes(tmp_path: Path) -> None:
    done = _run(_repo(tmp_path, "(tmp_path / 'out.png').write_bytes(b'x')"))
    assert done.returncode == 0, done.stdout + done.stderr
