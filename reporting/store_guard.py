"""What the store must look like before a run uses it, and the advice when it does not.

The store holds the send ledger: a run that starts from an empty store emails every
recipient again. So a store that exists but is empty (0 bytes: a truncated copy, a full
disk at creation), unreadable, or not SQLite at all is refused, never silently started
over; ``attendance run --new-store`` says "start a new one on purpose". Even then nothing
is deleted: an unusable file is renamed aside (``<store>.set-aside-<UTC time>``) so the
ledger inside it can still be recovered. No message here advises deleting the store.
"""

from __future__ import annotations

import errno
import os
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from reporting.errors import StoreError

__all__ = ["KEEP_STORE", "admit_store", "store_error_hint"]

_SQLITE_HEADER = b"SQLite format 3\x00"

KEEP_STORE = "keep the store: it holds the send ledger, which stops emails going out twice"
_NEW_STORE = (
    "restore it from a backup; or, to start a new store knowing that every report "
    "will be emailed again, run with --new-store (the old file is kept, renamed aside)"
)


def admit_store(path: Path, *, new_store: bool = False) -> None:
    """Raise `StoreError` unless ``path`` is missing (a first run) or a readable store.

    With ``new_store`` an empty file is taken as a new store and an unreadable one is
    renamed aside first.
    """
    try:
        with open(path, "rb") as handle:
            header = handle.read(len(_SQLITE_HEADER))
    except FileNotFoundError:
        return
    except IsADirectoryError:
        raise StoreError(
            f"the store {path} is a folder, not a file",
            hint="point `store:` at a file inside it, e.g. .attendance/store.sqlite",
        ) from None
    except OSError as exc:
        _refuse_or_set_aside(path, f"cannot be read ({exc.strerror or exc})", new_store)
        return
    if not header:
        if new_store:
            return  # SQLite makes a new database in the empty file
        raise StoreError(
            f"the store {path} is empty (0 bytes), so it has no record of what was sent",
            hint=_NEW_STORE,
        )
    if header != _SQLITE_HEADER:
        _refuse_or_set_aside(path, "is not an SQLite database", new_store)
        return
    problem = _schema_problem(path)
    if problem is not None:
        _refuse_or_set_aside(path, f"cannot be used ({problem})", new_store)
        return
    if not os.access(path, os.W_OK):
        raise StoreError(
            f"the store {path} is read-only for this user",
            hint=f"make it (and its folder) writable by the user running attendance; {KEEP_STORE}",
        )


def _schema_problem(path: Path) -> str | None:
    """Why SQLite cannot read the store's schema, or None (a cheap look, not a full check)."""
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=30.0)
    except sqlite3.Error as exc:
        return str(exc)
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            return None  # in use: Store.open waits for it and says so
        return str(exc)
    except sqlite3.DatabaseError as exc:
        return str(exc)
    finally:
        conn.close()
    return None


def _refuse_or_set_aside(path: Path, problem: str, new_store: bool) -> None:
    if not new_store:
        raise StoreError(f"the store {path} {problem}", hint=_NEW_STORE)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    aside = path.with_name(f"{path.name}.set-aside-{stamp}")
    try:
        os.rename(path, aside)
        for suffix in ("-wal", "-shm"):
            companion = path.with_name(path.name + suffix)
            if companion.exists():
                os.rename(companion, aside.with_name(aside.name + suffix))
    except OSError as exc:
        raise StoreError(
            f"the store {path} {problem}, and it cannot be renamed aside for --new-store "
            f"({exc.strerror or exc})",
            hint=f"make its folder writable, or point `store:` at a new file; {KEEP_STORE}",
        ) from None


def store_error_hint(exc: BaseException) -> str:
    """Advice for an SQLite error while the store is used: never to delete it."""
    text = str(exc).lower()
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        return f"free space on the disk holding the store and run again; {KEEP_STORE}"
    if "full" in text or code == getattr(sqlite3, "SQLITE_FULL", -1):
        return f"free space on the disk holding the store and run again; {KEEP_STORE}"
    if "readonly" in text or "read-only" in text:
        return f"make the store and its folder writable by this user; {KEEP_STORE}"
    if "locked" in text or "busy" in text:
        return "another program holds the store; wait for it and run again"
    if "malformed" in text or "not a database" in text:
        return _NEW_STORE
    if "unable to open" in text:
        return f"check that the store's folder exists and is writable; {KEEP_STORE}"
    return KEEP_STORE
