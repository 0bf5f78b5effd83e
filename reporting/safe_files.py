"""Writing an output file so that nobody ever sees a part of it, and nothing else is touched.

Every file a run produces (the CSVs, the PDFs and workbooks, the manifest, the outbox's
``.eml`` messages) is written through this module:

- the folder is resolved once (``realpath``: a folder the operator links elsewhere is
  followed on purpose) and opened as a directory; every later step names files relative
  to that open directory, so swapping the folder for a link mid-run changes nothing;
- the bytes go to a new temporary file created with ``O_CREAT | O_EXCL | O_NOFOLLOW`` in
  that folder (a name that already exists, or a planted link, is never opened), then
  ``fsync``, then ``rename`` onto the final name. A symlink at the final name is replaced,
  never followed: ``out/managers.pdf -> /etc/passwd`` leaves ``/etc/passwd`` alone;
- the file gets one mode, ``0600`` unless ``output.mode`` says otherwise (set exactly,
  whatever the umask), because every output holds personal data;
- any failure (disk full, permission, read-only file system) removes the temporary file,
  leaves whatever was under the final name before untouched, and becomes an
  `OutputError`: one line naming the file and how to fix it (exit 1).

Temporary files are named ``.<final name>.<pid>-<random>.tmp``; `remove_stale_temps`
removes those a killed run left behind (their writer's pid no longer running).
"""

from __future__ import annotations

import errno
import os
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from pathlib import Path
from typing import BinaryIO

from reporting.errors import AttendanceError

__all__ = [
    "DEFAULT_MODE",
    "OutputError",
    "current_mode",
    "open_output",
    "output_mode",
    "parse_mode",
    "remove_stale_temps",
    "safe_folder",
    "write_output",
]

DEFAULT_MODE = 0o600

# The mode of the run in progress; the pipeline sets it from `output.mode` for the run.
_MODE: ContextVar[int] = ContextVar("output_mode", default=DEFAULT_MODE)

_TEMP = re.compile(r"^\..+\.(?:(?P<pid>\d+)-)?[A-Za-z0-9_]{6,}\.tmp$")

_HINTS = {
    errno.ENOSPC: "the disk is full; free some space and run again",
    errno.EDQUOT: "the disk quota is used up; free some space and run again",
    errno.EACCES: "the folder is not writable by this user; fix its permissions or "
    "point output.dir elsewhere",
    errno.EPERM: "the folder is not writable by this user; fix its permissions or "
    "point output.dir elsewhere",
    errno.EROFS: "the file system is read-only; point output.dir at a writable folder",
    errno.EFBIG: "the file is larger than this process may write (ulimit -f); raise the limit",
    errno.EISDIR: "a folder has the file's name; move it away",
    errno.ENOTDIR: "a file stands where a folder is expected; fix the path",
    errno.ELOOP: "too many symbolic links in the path; fix the path",
}


class OutputError(AttendanceError):
    """An output file could not be written; nothing partial was left under its name."""


def parse_mode(value: object) -> int:
    """``"0640"`` / ``"640"`` / ``"0o640"`` -> 0o640; `ValueError` with the reason otherwise.

    Only read/write bits for owner, group and others: an output is never executable,
    setuid or sticky.
    """
    if not isinstance(value, str):
        raise ValueError('expected an octal mode in quotes, such as "0640"')
    text = value.strip().lower().removeprefix("0o")
    if not re.fullmatch(r"[0-7]{3,4}", text):
        raise ValueError(f'{value!r} is not an octal file mode such as "0640"')
    mode = int(text, 8)
    if mode & ~0o666:
        raise ValueError(f'{value!r} has execute or special bits; outputs are data (e.g. "0640")')
    if not mode & 0o600 == 0o600:
        raise ValueError(f"{value!r} does not let the owner read and write the file")
    return mode


def current_mode() -> int:
    """The mode new outputs get in this run (``output.mode``, else 0600)."""
    return _MODE.get()


@contextmanager
def output_mode(mode: int) -> Iterator[None]:
    """Outputs written inside this block get ``mode``."""
    token = _MODE.set(mode)
    try:
        yield
    finally:
        _MODE.reset(token)


def _describe(exc: OSError) -> str:
    return exc.strerror or str(exc)


def _error(path: Path, exc: OSError, what: str = "write") -> OutputError:
    hint = _HINTS.get(exc.errno or 0)
    return OutputError(f"cannot {what} {path}: {_describe(exc)}", hint=hint)


def safe_folder(folder: Path) -> Path:
    """Create ``folder`` (and its parents) if missing and return its real path."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        real = Path(os.path.realpath(folder))
        if not real.is_dir():
            raise NotADirectoryError(errno.ENOTDIR, "not a folder", str(folder))
    except OSError as exc:
        raise _error(folder, exc, "create the folder") from None
    return real


def _open_dir(folder: Path) -> int:
    flags = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC | os.O_NOFOLLOW
    return os.open(safe_folder(folder), flags)


@contextmanager
def open_output(path: Path, *, mode: int | None = None) -> Iterator[BinaryIO]:
    """A new binary file that becomes ``path`` when the block ends without an error.

    The handle is seekable (zipfile needs that). On an error in the block, or while
    writing, syncing or renaming, the temporary file is removed and ``path`` keeps
    whatever it had; OS errors become `OutputError`.
    """
    path = Path(path)
    name = path.name
    if not name or name in (".", ".."):
        raise OutputError(f"cannot write {path}: not a file name")
    file_mode = current_mode() if mode is None else mode
    dir_fd = _open_dir(path.parent)
    temp = f".{name}.{os.getpid()}-{secrets.token_hex(6)}.tmp"
    created = False
    try:
        try:
            fd = os.open(
                temp,
                os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                file_mode,
                dir_fd=dir_fd,
            )
            created = True
            os.fchmod(fd, file_mode)  # exactly this mode, whatever the umask
            handle = os.fdopen(fd, "w+b")
        except OSError as exc:
            raise _error(path, exc) from None
        with handle:
            try:
                yield handle
                handle.flush()
                os.fsync(handle.fileno())
            except OSError as exc:
                raise _error(path, exc) from None
        try:
            os.replace(temp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
            created = False
            os.fsync(dir_fd)  # the rename itself survives a power cut
        except OSError as exc:
            raise _error(path, exc) from None
    finally:
        if created:
            with suppress(OSError):
                os.unlink(temp, dir_fd=dir_fd)
        os.close(dir_fd)


def write_output(path: Path, data: bytes, *, mode: int | None = None) -> Path:
    """Write ``data`` to ``path`` as `open_output` does; return ``path``."""
    with open_output(path, mode=mode) as handle:
        handle.write(data)
    return Path(path)


def remove_stale_temps(folder: Path) -> list[Path]:
    """Remove temporary files a killed run left in ``folder``; return what was removed.

    Only names this module (or the earlier ``mkstemp`` writers) make are touched, and a
    file whose writer is still running is left to it.
    """
    folder = Path(folder)
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed  # a missing folder has nothing stale; a bad one fails when written
    for entry in entries:
        match = _TEMP.match(entry.name)
        if match is None or not entry.is_file(follow_symlinks=False):
            continue
        pid = match.group("pid")
        if pid is not None and _alive(int(pid)):
            continue
        try:
            os.unlink(entry.path)
            removed.append(Path(entry.path))
        except OSError:
            pass
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    except OverflowError:
        return False
    return True
