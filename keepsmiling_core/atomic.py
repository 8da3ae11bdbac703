"""The one way the core writes a file: verified, then moved into place in one step.

Everything KeepSmiling writes (edited photos, checkpoints, run configs, metrics, sample grids, crop caches,
smile directions, evaluation reports) goes through here, because two things must hold for each of them:

- **A reader never sees half a file, and a failed write never replaces a good one.** The bytes go to a
  temporary file beside the target; every ``write`` is checked for a short count, then the file is flushed
  and ``fsync``-ed and its size compared with what was meant to be written. Only then does ``os.replace``
  move it over the target. On a nearly full disk the first unchecked short write used to leave a truncated
  JPEG in place of the user's photo; now the target is left as it was and the error says why.
- **An OS error reads as a sentence for a person** (``WriteError``): read-only file system, permission
  denied, disk full, a folder where a file should be, a missing parent folder.
"""

from __future__ import annotations

import errno
import io
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from .errors import WriteError

_REASONS = {
    errno.ENOSPC: "the disk is full; free some space or choose another drive",
    errno.EROFS: "the file system is read-only; choose a folder on a writable drive",
    errno.EACCES: "permission denied; choose a folder you may write to",
    errno.EPERM: "the operation is not permitted; choose a folder you may write to",
    errno.ENOENT: "its folder does not exist",
    errno.ENOTDIR: "a part of the path is a file, not a folder",
    errno.EISDIR: "a folder of that name is in the way",
    errno.ENAMETOOLONG: "the file name is too long",
    errno.EIO: "the device reported an input/output error",
}
if hasattr(errno, "EDQUOT"):
    _REASONS[errno.EDQUOT] = "the disk quota is exceeded; free some space or choose another drive"


def write_error(path: str | os.PathLike, exc: OSError, action: str = "write") -> WriteError:
    """A one-line ``WriteError`` for an OS error met while writing ``path``."""
    reason = _REASONS.get(exc.errno or -1) or (exc.strerror or str(exc) or type(exc).__name__)
    return WriteError(f"Cannot {action} {path}: {reason}.")


def ensure_folder(path: str | os.PathLike, what: str = "folder") -> Path:
    """Create ``path`` (and its parents) as a folder; a clear ``WriteError`` when that is impossible."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise WriteError(f"Cannot use {path} as the {what}: it is a file, not a folder.")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise WriteError(f"Cannot create the {what} {path}: a file of that name is in the way.") from None
    except OSError as exc:
        raise write_error(path, exc, f"create the {what}") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise WriteError(f"Cannot write into the {what} {path}: permission denied; choose a folder you may write to.")
    return path


def write_bytes_verified(path: str | os.PathLike, data: bytes, *, shown: str | os.PathLike | None = None) -> None:
    """Write ``data`` to ``path`` (created or truncated), raising on a short write, flush or fsync error.

    Not atomic by itself: used for files inside a temporary folder that is moved into place as a whole
    (checkpoints), and by ``atomic_write_bytes`` for the temporary file. ``shown``: the name an error
    message gives (the real target rather than its temporary file)."""
    path = Path(path)
    shown = path if shown is None else shown
    view = memoryview(data)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
    except OSError as exc:
        raise write_error(shown, exc) from None
    try:
        _write_all(fd, view, path)
        os.fsync(fd)
        size = os.fstat(fd).st_size
        if size != len(view):
            raise OSError(errno.EIO, f"{size} of {len(view)} bytes reached the disk")
    except OSError as exc:
        raise write_error(shown, exc) from None
    finally:
        os.close(fd)


def atomic_write_bytes(path: str | os.PathLike, data: bytes, *, mode: int | None = None,
                       overwrite: bool = True) -> Path:
    """Replace ``path`` with ``data`` in one step, after checking every byte reached the disk.

    ``mode``: permission bits for the new file (default: those of the file it replaces, else 0o666 & ~umask).
    ``overwrite=False``: the file is published with ``link``, which fails when the target exists — also when
    someone else created it a moment ago — so an existing file is never replaced (``WriteError``).
    """
    path = Path(path)
    parent = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise WriteError(f"Cannot write {path}: a folder of that name is in the way.")
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=parent)
    except OSError as exc:
        raise write_error(path, exc) from None
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write_bytes_verified(tmp, data, shown=path)
        if mode is None:
            mode = path.stat().st_mode & 0o777 if path.exists() else 0o666 & ~_umask()
        os.chmod(tmp, mode)  # mkstemp makes it private; these are ordinary files
        if overwrite:
            os.replace(tmp, path)
        else:
            try:
                os.link(tmp, path)
            except FileExistsError:
                raise WriteError(f"Cannot write {path}: the file exists already and is not replaced.") from None
            except OSError as exc:  # no hard links here (some FUSE / FAT drives): check, then rename
                if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK):
                    raise
                if path.exists() or path.is_symlink():
                    raise WriteError(f"Cannot write {path}: the file exists already and is not replaced.") from None
                os.replace(tmp, path)
            tmp.unlink(missing_ok=True)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise write_error(path, exc) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_folder(parent)
    return path


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """``atomic_write_bytes`` for UTF-8 text (configs, manifests, JSON)."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write(path: str | os.PathLike, write: Callable[[io.BytesIO], None]) -> Path:
    """Let ``write(buffer)`` fill an in-memory buffer (Pillow, numpy, safetensors all write to file objects),
    then ``atomic_write_bytes`` it: the bytes are known, so their arrival on disk can be checked."""
    buffer = io.BytesIO()
    write(buffer)
    return atomic_write_bytes(path, buffer.getvalue())


def append_text(path: str | os.PathLike, text: str) -> None:
    """Append ``text`` (a whole line or lines) and flush it to disk; a short write is an error.

    Appending is not atomic: a kill in the middle can leave a partial last line, which the readers of
    append-only logs (``validation.read_metrics``) skip."""
    path = Path(path)
    data = text.encode("utf-8")
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o666)
    except OSError as exc:
        raise write_error(path, exc) from None
    try:
        _write_all(fd, memoryview(data), path)
        os.fsync(fd)
    except OSError as exc:
        raise write_error(path, exc) from None
    finally:
        os.close(fd)


def _write_all(fd: int, data: memoryview, path: Path) -> None:
    """Every byte, or an OSError: ``os.write`` may write fewer bytes than asked (a nearly full disk)."""
    written = 0
    while written < len(data):
        count = os.write(fd, data[written:])
        if count <= 0:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        written += count


def _umask() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return umask


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable; some file systems cannot open folders, which is harmless."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
