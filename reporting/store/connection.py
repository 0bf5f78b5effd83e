"""One SQLite store file: opening it (creating or migrating its schema), refusing one that
`run` must not use, transactions, and the rows of a table for inspection."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from reporting.errors import StoreError
from reporting.store.schema import MIGRATE_1_TO_2, SCHEMA, SCHEMA_VERSION, TABLES
from reporting.store_guard import admit_store, store_error_hint

# The page size of a new store file (SQLite's default is 4096).
PAGE_SIZE = 16384


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value is not None else None


class BatchLost(StoreError):
    """A call of a batch failed so that SQLite rolled the whole batch back: every call of
    the batch failed with it, including those that had returned."""


class StoreConnection:
    """The connection every part of the store works through (`reporting.store.Store`)."""

    def __init__(self, conn: sqlite3.Connection, path: Path, version: int = SCHEMA_VERSION) -> None:
        self._conn = conn
        self.path = path
        # Inside `batch`: each `_tx` is a savepoint of the batch's one transaction.
        self._batched = False
        # The schema version as read: a read-only store is never migrated.
        self.version = version

    def __repr__(self) -> str:
        return f"Store({str(self.path)!r})"

    # -- lifecycle ---------------------------------------------------------------------

    @classmethod
    def open(cls, path: Path | str, *, new_store: bool = False) -> Self:
        """Open (or, when missing, create) the store; an empty or unreadable file is
        refused unless ``new_store`` (see `reporting.store_guard`)."""
        path = Path(path)
        admit_store(path, new_store=new_store)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # The fetch makes its store calls on a thread of its own (one at a time; see
            # `reporting.fetch`), so the connection may not insist on its opening thread.
            conn = sqlite3.connect(path, timeout=30.0, check_same_thread=False)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(
                f"cannot open the store {path}: {exc}", hint=store_error_hint(exc)
            ) from exc
        try:
            conn.row_factory = sqlite3.Row
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise StoreError(
                    f"the store {path} has schema version {version}, newer than this "
                    f"tool's {SCHEMA_VERSION}",
                    hint="upgrade attendance, or point `store:` at another file",
                )
            if version == 0 and not conn.execute("SELECT 1 FROM sqlite_master").fetchone():
                # A new file: pages that each hold a good part of a stored response body
                # (tens of kilobytes) take fewer overflow pages to write and read. Only a
                # file without tables can have it set; older stores keep theirs.
                conn.execute(f"PRAGMA page_size={PAGE_SIZE}")
            conn.execute("PRAGMA journal_mode=WAL")
            # NORMAL in WAL mode: a committed page survives a killed process; only a power
            # cut can lose the last commits, and a rerun fetches those again.
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
            if version == 1:
                conn.executescript(MIGRATE_1_TO_2.format(schema=SCHEMA))
            elif version < SCHEMA_VERSION:
                with conn:
                    conn.executescript(SCHEMA)
                    conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise StoreError(
                f"the store {path} cannot be used: {exc}",
                hint=store_error_hint(exc),
            ) from exc
        except StoreError:
            conn.close()
            raise
        return cls(conn, path)

    @classmethod
    def open_readonly(cls, path: Path | str) -> Self:
        """Open an existing store for reading only (`--dry-run` must write nothing)."""
        path = Path(path)
        try:
            conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=30.0)
            conn.row_factory = sqlite3.Row
            version = conn.execute("PRAGMA user_version").fetchone()[0]
        except sqlite3.Error as exc:
            raise StoreError(f"cannot read the store {path}: {exc}") from exc
        if version not in (1, SCHEMA_VERSION):
            conn.close()
            raise StoreError(
                f"the store {path} has schema version {version}, this tool reads {SCHEMA_VERSION}",
                hint="run without --dry-run once, or point `store:` at another file",
            )
        return cls(conn, path, version)

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        if self._batched:
            with self._savepoint():
                yield self._conn
            return
        try:
            with self._conn:
                yield self._conn
        except sqlite3.Error as exc:
            raise self._write_error(exc) from exc

    def _write_error(self, exc: sqlite3.Error) -> StoreError:
        return StoreError(
            f"writing to the store {self.path} failed: {exc}", hint=store_error_hint(exc)
        )

    @contextmanager
    def _savepoint(self) -> Iterator[None]:
        """One call of a batch: all of it or none of it, committed with the batch."""
        try:
            self._conn.execute("SAVEPOINT call")
            try:
                yield
            except BaseException as exc:
                if not self._conn.in_transaction:
                    # SQLite ended the whole transaction itself (a full disk, an I/O
                    # error): the calls made before this one in the batch are gone too.
                    raise self._batch_lost(exc) from exc
                self._conn.execute("ROLLBACK TO call")
                self._conn.execute("RELEASE call")
                raise
            self._conn.execute("RELEASE call")
        except sqlite3.Error as exc:
            raise self._write_error(exc) from exc

    def _batch_lost(self, exc: BaseException) -> BatchLost:
        error = self._write_error(exc) if isinstance(exc, sqlite3.Error) else None
        if error is None:
            return BatchLost(f"writing to the store {self.path} failed: {exc}")
        return BatchLost(error.message, hint=error.hint)

    @contextmanager
    def batch(self) -> Iterator[None]:
        """The store calls made inside share one transaction, committed at the end (one
        commit for many; the fetch's store thread makes its calls so). Each call is still
        all or nothing; none of them is on disk before the commit, and if the commit fails
        none is."""
        if self._batched:
            yield
            return
        try:
            self._conn.execute("BEGIN")
        except sqlite3.Error as exc:
            raise self._write_error(exc) from exc
        self._batched = True
        try:
            yield
        except BaseException:
            self._batched = False
            self._conn.rollback()
            raise
        self._batched = False
        try:
            self._conn.commit()
        except sqlite3.Error as exc:
            self._conn.rollback()
            raise self._write_error(exc) from exc

    # -- inspection (tests, debugging) ------------------------------------------------------

    def table_rows(self, table: str) -> list[dict[str, Any]]:
        if table not in TABLES:
            raise ValueError(f"no table {table!r}")
        rows = self._conn.execute(f"SELECT * FROM {table} ORDER BY rowid").fetchall()  # noqa: S608
        return [dict(row) for row in rows]
