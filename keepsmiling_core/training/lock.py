"""One trainer per run folder: an advisory lock held for as long as ``Trainer.run`` works in it.

Two trainers on the same ``--out`` (or a ``--resume`` while the first still runs) used to run to the end
side by side, interleaving checkpoints and metrics. ``RunLock`` takes an exclusive ``flock`` on
``RUN/train.lock``; the kernel drops it when the holding process exits or is killed, so a lock left by a
dead process is simply taken over — there is no stale state to clean up. The file also records the
holder's pid and start time, only to make the refusal message useful. It is never deleted: removing a
lock file while another process has it open would let two holders lock two different files.
"""

from __future__ import annotations

import errno
import json
import os
import socket
import time
from pathlib import Path

from ..atomic import write_error
from ..errors import TrainingError

LOCK_FILE = "train.lock"

try:
    import fcntl
except ImportError:  # pragma: no cover - not a POSIX system: runs are not locked there
    fcntl = None  # type: ignore[assignment]


class RunLock:
    """Context manager: ``with RunLock(run_dir): ...`` or ``acquire()`` / ``release()``."""

    def __init__(self, run_dir: str | os.PathLike) -> None:
        self.path = Path(run_dir) / LOCK_FILE
        self._fd: int | None = None

    def acquire(self) -> RunLock:
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
        except OSError as exc:
            raise write_error(self.path, exc, "lock the run folder at") from None
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                holder = _holder(fd)
                os.close(fd)
                if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    raise TrainingError(
                        f"The run folder {self.path.parent} is in use by another training ({holder}); wait for "
                        "it to finish or stop it, or choose another --out folder."
                    ) from None
                if exc.errno != errno.ENOLCK:  # a file system without locks: run unlocked
                    raise write_error(self.path, exc, "lock the run folder at") from None
        record = {"pid": os.getpid(), "host": socket.gethostname(),
                  "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        try:
            os.ftruncate(fd, 0)
            os.write(fd, (json.dumps(record) + "\n").encode())
        except OSError:
            pass  # the lock itself is held; the note about its holder is a courtesy
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is None:
            return
        try:
            if fcntl is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(self, *exc_info: object) -> None:
        self.release()


def _holder(fd: int) -> str:
    try:
        info = json.loads(os.pread(fd, 4096, 0).decode("utf-8"))
        return f"process {int(info['pid'])} on {info.get('host', '?')}, started {info.get('started', '?')}"
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return "another process"
