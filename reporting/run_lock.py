"""One run at a time per store: a lock file beside the store, held for the whole run.

Two runs of one config (one from cron, one by hand) would each find nobody in the send
ledger and email everyone twice. The lock is ``flock`` on ``<store>.lock``: the kernel
drops it when the process ends however it ends, so a killed run never leaves a lock
behind and the file itself may stay (it holds only the last holder's pid and start time,
which the run that finds the lock taken names in its message).

The lock path is built from the store's real path, so two configs reaching one store
through different paths (or a symlink) still take turns. `--dry-run` and `check` write
nothing and do not take it.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from reporting.errors import AttendanceError

__all__ = ["RunLockError", "lock_path", "run_lock"]

# The holder writes its pid right after taking the lock; a reader that finds the file
# still empty waits this long for it before saying "unknown".
_READ_WAIT_SECONDS = 1.0


class RunLockError(AttendanceError):
    """Another run holds the store's lock, or the lock file cannot be used."""


def lock_path(store: Path) -> Path:
    real = Path(os.path.realpath(store))
    return real.with_name(real.name + ".lock")


@contextmanager
def run_lock(store: Path, *, run_id: str = "") -> Iterator[Path]:
    """Hold the store's run lock for the block; `RunLockError` at once if another run has it."""
    store = Path(store)
    try:
        store.parent.mkdir(parents=True, exist_ok=True)
        path = lock_path(store)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        raise RunLockError(
            f"cannot create the run lock beside the store {store}: {exc.strerror or exc}",
            hint="the store's folder must be writable by the user running attendance",
        ) from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _describe_holder(fd)
            raise RunLockError(
                f"another run of this store is in progress ({holder}); store {store}",
                hint="wait for it to finish, then run again; nothing was fetched, written "
                "or sent by this one",
            ) from None
        except OSError as exc:
            raise RunLockError(
                f"cannot lock {path}: {exc.strerror or exc}",
                hint="the store must be on a local file system that supports flock",
            ) from None
        holder_text = json.dumps(
            {
                "pid": os.getpid(),
                "started": datetime.now(UTC).isoformat(timespec="seconds"),
                "run_id": run_id,
            }
        )
        os.ftruncate(fd, 0)
        os.pwrite(fd, holder_text.encode("utf-8") + b"\n", 0)
        yield path
    finally:
        # Closing the descriptor releases the lock; the file stays for the next run.
        os.close(fd)


def _describe_holder(fd: int) -> str:
    deadline = time.monotonic() + _READ_WAIT_SECONDS
    while True:
        try:
            raw = os.pread(fd, 4096, 0)
            info = json.loads(raw.decode("utf-8")) if raw.strip() else None
        except (OSError, ValueError):
            info = None
        if isinstance(info, dict) or time.monotonic() >= deadline:
            break
        time.sleep(0.05)
    if not isinstance(info, dict):
        return "pid and start time not recorded yet"
    pid = info.get("pid", "?")
    started = info.get("started", "?")
    run_id = info.get("run_id") or ""
    run = f", run {run_id}" if run_id else ""
    return f"pid {pid}, started {started}{run}"
