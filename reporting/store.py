"""The SQLite snapshot store: raw pages, plans, run log and the email ledger.

Schema (``PRAGMA user_version`` = 2; a version-1 store is migrated when opened for
writing, and read as it is by `open_readonly`)::

    runs          id, started, finished, status (running | complete | partial | failed |
                  interrupted: killed before it ended), config_path, config_hash, period_label,
                  period_start, period_end, as_of, offline, tool_version, counts (JSON)
    plan_entries  run_id, entry_id, period_start, period_end, host_email, planned_at,
                  meetings (JSON list of the Meeting objects the entry expanded to; an
                  instance Get Meeting could not describe is {"id": .., "lookedUp": false}),
                  failure (text, when the entry could not be planned)
    fetches       one walk through the participant pages of one instance (or through its
                  invitees, ``invitees:<instance id>``, or a series' registrants,
                  ``registrants:<series id>@<period label>``): instance_id,
                  run_id (that started it), state (the instance's state then), next_url
                  (the cursor: where the walk continues), pages, complete (walked to the
                  end with every page usable), abandoned. A walk that reached the end with
                  an unusable page is left incomplete with next_url NULL ("finished"): its
                  pages are read for this run, and the next run fetches it again
    pages         every response body as received: run_id, fetch_id (participant pages)
                  or NULL (lookups), subject (instance or entry id), kind (participants |
                  invitees | registrants | meeting | meetings), seq, method, url (no
                  secrets), status, headers (the ones that matter: Link, TrackingId,
                  Retry-After, Content-Type, Date), body, fetched_at, problem (why the
                  body is unusable), superseded
    failures      run_id, entry_id, instance_id, message
    ledger        one row per recipient of a message: key (the audit: period and
                  meetings), run_id, report, recipient, status (sending | sent | refused |
                  failed), detail, message_id, content_key (what the report said, see
                  `reporting.content`), attachments (JSON [[name, sha256], ...]), corrects
                  (the run whose report this message superseded), at. ``sending`` is
                  written before the message leaves (`reporting.delivery.ledger`)
    contents      run_id, report, content_key, snapshot (zlib JSON: the rows a later
                  correction compares against), kept for every report a run emailed

Crash safety: each participant page is inserted in the same transaction that moves its
fetch's cursor (``next_url``) and, on the last page, marks the fetch complete (unless one of
its pages is unusable). Killing the
process at any moment leaves either the page and its cursor or neither, so the next run
resumes a partial fetch from its stored next link (see `reporting.fetch`).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from reporting.delivery.ledger import LedgerEntry
from reporting.errors import StoreError
from reporting.protocols import PageLike
from reporting.store_guard import admit_store, store_error_hint

SCHEMA_VERSION = 2

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,
    started TEXT NOT NULL,
    finished TEXT,
    status TEXT NOT NULL,
    config_path TEXT,
    config_hash TEXT,
    period_label TEXT,
    period_start TEXT,
    period_end TEXT,
    as_of TEXT,
    offline INTEGER NOT NULL DEFAULT 0,
    tool_version TEXT,
    counts TEXT
);
CREATE TABLE IF NOT EXISTS plan_entries (
    id INTEGER PRIMARY KEY,
    run_id TEXT NOT NULL,
    entry_id TEXT NOT NULL,
    period_start TEXT NOT NULL,
    period_end TEXT NOT NULL,
    host_email TEXT NOT NULL DEFAULT '',
    planned_at TEXT NOT NULL,
    meetings TEXT,
    failure TEXT
);
CREATE INDEX IF NOT EXISTS plan_entries_key
    ON plan_entries (entry_id, period_start, period_end, host_email, id);
CREATE TABLE IF NOT EXISTS fetches (
    id INTEGER PRIMARY KEY,
    instance_id TEXT NOT NULL,
    run_id TEXT NOT NULL,
    started TEXT NOT NULL,
    updated TEXT NOT NULL,
    state TEXT NOT NULL,
    next_url TEXT,
    pages INTEGER NOT NULL DEFAULT 0,
    complete INTEGER NOT NULL DEFAULT 0,
    abandoned INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS fetches_instance ON fetches (instance_id, id);
CREATE TABLE IF NOT EXISTS pages (
    id INTEGER PRIMARY KEY,
    run_id TEXT NOT NULL,
    fetch_id INTEGER REFERENCES fetches (id),
    subject TEXT NOT NULL,
    kind TEXT NOT NULL,
    seq INTEGER NOT NULL DEFAULT 0,
    method TEXT NOT NULL,
    url TEXT NOT NULL,
    status INTEGER NOT NULL,
    headers TEXT NOT NULL,
    body BLOB NOT NULL,
    fetched_at TEXT NOT NULL,
    problem TEXT,
    superseded INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS pages_fetch ON pages (fetch_id, seq);
CREATE INDEX IF NOT EXISTS pages_subject ON pages (subject, kind);
CREATE TABLE IF NOT EXISTS failures (
    id INTEGER PRIMARY KEY,
    run_id TEXT NOT NULL,
    entry_id TEXT NOT NULL,
    instance_id TEXT,
    message TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS failures_instance ON failures (instance_id, id);
CREATE TABLE IF NOT EXISTS ledger (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL,
    run_id TEXT NOT NULL DEFAULT '',
    report TEXT NOT NULL,
    recipient TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('sending', 'sent', 'refused', 'failed')),
    detail TEXT NOT NULL DEFAULT '',
    message_id TEXT NOT NULL DEFAULT '',
    content_key TEXT NOT NULL DEFAULT '',
    attachments TEXT NOT NULL DEFAULT '[]',
    corrects TEXT NOT NULL DEFAULT '',
    at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ledger_key ON ledger (key, report, recipient);
CREATE TABLE IF NOT EXISTS contents (
    run_id TEXT NOT NULL,
    report TEXT NOT NULL,
    content_key TEXT NOT NULL,
    snapshot BLOB NOT NULL,
    PRIMARY KEY (run_id, report)
);
"""

# Version 1's ledger had neither run ids, content keys nor attachment hashes, and its
# status CHECK allowed only sent | refused; SQLite cannot change a CHECK, so the table is
# rebuilt. Its rows keep their ids (the order decisions rely on) with empty new columns:
# `reporting.delivery.ledger.decide` reads an empty content key as "content not known".
# One transaction: a kill halfway leaves the version-1 store as it was.
_MIGRATE_1_TO_2 = """
BEGIN IMMEDIATE;
ALTER TABLE ledger RENAME TO ledger_v1;
DROP INDEX IF EXISTS ledger_key;
{schema}
INSERT INTO ledger (id, key, run_id, report, recipient, status, detail, message_id,
                    content_key, attachments, corrects, at)
    SELECT id, key, '', report, recipient, status, detail, message_id, '', '[]', '', at
    FROM ledger_v1;
DROP TABLE ledger_v1;
PRAGMA user_version = 2;
COMMIT;
"""

# What `open_readonly` reads a version-1 ledger as (a dry run or `history` writes nothing,
# so it cannot migrate).
_LEDGER_V1_VIEW = (
    "(SELECT id, key, '' AS run_id, report, recipient, status, detail, message_id,"
    " '' AS content_key, '[]' AS attachments, '' AS corrects, at FROM ledger)"
)


@dataclass(frozen=True)
class FetchState:
    id: int
    instance_id: str
    state: str
    next_url: str | None
    pages: int
    complete: bool
    started: str = ""
    updated: str = ""

    @property
    def finished(self) -> bool:
        """Walked to its last page: complete, or with unusable pages (not reusable)."""
        return self.complete or (self.pages > 0 and self.next_url is None)


@dataclass(frozen=True)
class StoredPage:
    seq: int
    url: str
    status: int
    headers: dict[str, str]
    body: bytes
    fetched_at: str
    problem: str | None
    superseded: bool
    run_id: str


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value is not None else None


class Store:
    """One SQLite file. Open with `Store.open(path)`; close with `close()` or ``with``."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self._conn = conn
        self.path = path
        self._ledger_source = "ledger"
        self._has_contents = True

    def __repr__(self) -> str:
        return f"Store({str(self.path)!r})"

    # -- lifecycle ---------------------------------------------------------------------

    @classmethod
    def open(cls, path: Path | str, *, new_store: bool = False) -> Store:
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
            conn.execute("PRAGMA journal_mode=WAL")
            # NORMAL in WAL mode: a committed page survives a killed process; only a power
            # cut can lose the last commits, and a rerun fetches those again.
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
            if version == 1:
                conn.executescript(_MIGRATE_1_TO_2.format(schema=_SCHEMA))
            elif version < SCHEMA_VERSION:
                with conn:
                    conn.executescript(_SCHEMA)
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
    def open_readonly(cls, path: Path | str) -> Store:
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
        store = cls(conn, path)
        if version == 1:
            store._ledger_source = _LEDGER_V1_VIEW
            store._has_contents = False
        return store

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> Store:
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
        try:
            with self._conn:
                yield self._conn
        except sqlite3.Error as exc:
            raise StoreError(
                f"writing to the store {self.path} failed: {exc}", hint=store_error_hint(exc)
            ) from exc

    # -- run log -------------------------------------------------------------------------

    def begin_run(self, run: Any) -> None:
        """Log a run as started; ``run`` is a `reporting.model.RunInfo`.

        A run still logged as running was killed before it could say how it ended (runs
        of one store are meant to take turns: the cron line holds a lock); it is logged
        as interrupted. Should one still be alive after all, its own end overwrites that.
        """
        with self._tx() as tx:
            tx.execute("UPDATE runs SET status = 'interrupted' WHERE status = 'running'")
            tx.execute(
                "INSERT OR REPLACE INTO runs (id, started, status, config_path, config_hash,"
                " period_label, period_start, period_end, as_of, offline, tool_version)"
                " VALUES (?, ?, 'running', ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    run.run_id,
                    _now(),
                    run.config_path,
                    run.config_hash,
                    run.period_label,
                    _iso(run.period_start),
                    _iso(run.period_end),
                    _iso(run.as_of),
                    int(bool(getattr(run, "offline", False))),
                    run.tool_version,
                ),
            )

    def set_run_counts(self, run_id: str, counts: Mapping[str, Any]) -> None:
        with self._tx() as tx:
            tx.execute("UPDATE runs SET counts = ? WHERE id = ?", (json.dumps(counts), run_id))

    def merge_run_counts(self, run_id: str, extra: Mapping[str, Any]) -> None:
        """Add ``extra`` to the run's counts (the fetch's figures stay)."""
        with self._tx() as tx:
            row = tx.execute("SELECT counts FROM runs WHERE id = ?", (run_id,)).fetchone()
            counts = json.loads(row["counts"]) if row is not None and row["counts"] else {}
            counts.update(extra)
            tx.execute("UPDATE runs SET counts = ? WHERE id = ?", (json.dumps(counts), run_id))

    def finish_run(
        self, run_id: str, *, status: str, counts: Mapping[str, Any] | None = None
    ) -> None:
        with self._tx() as tx:
            tx.execute(
                "UPDATE runs SET finished = ?, status = ?, counts = COALESCE(?, counts)"
                " WHERE id = ?",
                (_now(), status, json.dumps(counts) if counts is not None else None, run_id),
            )

    def runs(self) -> list[dict[str, Any]]:
        rows = self._conn.execute("SELECT * FROM runs ORDER BY started, id").fetchall()
        result = []
        for row in rows:
            item = dict(row)
            item["counts"] = json.loads(item["counts"]) if item["counts"] else None
            result.append(item)
        return result

    # -- plans ---------------------------------------------------------------------------

    def save_plan(
        self,
        run_id: str,
        entry_id: str,
        period: tuple[datetime, datetime],
        host_email: str | None,
        meetings: Sequence[Mapping[str, Any]] | None,
        failure: str | None = None,
    ) -> None:
        with self._tx() as tx:
            tx.execute(
                "INSERT INTO plan_entries (run_id, entry_id, period_start, period_end,"
                " host_email, planned_at, meetings, failure) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    run_id,
                    entry_id,
                    _iso(period[0]),
                    _iso(period[1]),
                    host_email or "",
                    _now(),
                    json.dumps(list(meetings)) if meetings is not None else None,
                    failure,
                ),
            )

    def latest_plan(
        self, entry_id: str, period: tuple[datetime, datetime], host_email: str | None
    ) -> tuple[list[dict[str, Any]] | None, str | None] | None:
        """(meetings, failure) of the newest plan of this entry and period; None if never."""
        row = self._conn.execute(
            "SELECT meetings, failure FROM plan_entries WHERE entry_id = ? AND period_start = ?"
            " AND period_end = ? AND host_email = ? ORDER BY id DESC LIMIT 1",
            (entry_id, _iso(period[0]), _iso(period[1]), host_email or ""),
        ).fetchone()
        if row is None:
            return None
        meetings = json.loads(row["meetings"]) if row["meetings"] is not None else None
        return meetings, row["failure"]

    # -- pages ---------------------------------------------------------------------------

    def _insert_page(
        self,
        tx: sqlite3.Connection,
        run_id: str,
        fetch_id: int | None,
        subject: str,
        kind: str,
        seq: int,
        page: PageLike,
    ) -> None:
        tx.execute(
            "INSERT INTO pages (run_id, fetch_id, subject, kind, seq, method, url, status,"
            " headers, body, fetched_at, problem, superseded)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                run_id,
                fetch_id,
                subject,
                kind,
                seq,
                page.method,
                page.url,
                page.status,
                json.dumps(page.headers, sort_keys=True),
                page.body,
                _iso(page.fetched_at),
                page.problem,
                int(page.superseded),
            ),
        )

    def add_lookup_page(self, run_id: str, subject: str, kind: str, page: PageLike) -> None:
        """A Get Meeting / List Meetings response, kept for the audit trail."""
        with self._tx() as tx:
            self._insert_page(tx, run_id, None, subject, kind, 0, page)

    def lookup_pages(self, subject: str) -> list[StoredPage]:
        rows = self._conn.execute(
            "SELECT * FROM pages WHERE subject = ? AND fetch_id IS NULL ORDER BY id", (subject,)
        ).fetchall()
        return [_stored(row) for row in rows]

    # -- participant fetches -----------------------------------------------------------

    def _fetch_state(self, row: sqlite3.Row | None) -> FetchState | None:
        if row is None:
            return None
        return FetchState(
            id=row["id"],
            instance_id=row["instance_id"],
            state=row["state"],
            next_url=row["next_url"],
            pages=row["pages"],
            complete=bool(row["complete"]),
            started=row["started"],
            updated=row["updated"],
        )

    def complete_fetch(self, instance_id: str) -> FetchState | None:
        """The newest complete fetch of an instance that had ended (reusable as is)."""
        row = self._conn.execute(
            "SELECT * FROM fetches WHERE instance_id = ? AND complete = 1 AND abandoned = 0"
            " AND state = 'ended' ORDER BY id DESC LIMIT 1",
            (instance_id,),
        ).fetchone()
        return self._fetch_state(row)

    def resumable_fetch(self, instance_id: str) -> FetchState | None:
        """The newest unfinished fetch of an ended instance, if it is the newest fetch.

        A fetch that walked to its end with unusable pages is not resumable: there is no
        cursor left, and the instance is fetched again from its first page.
        """
        row = self._conn.execute(
            "SELECT * FROM fetches WHERE instance_id = ? ORDER BY id DESC LIMIT 1",
            (instance_id,),
        ).fetchone()
        state = self._fetch_state(row)
        if state is None or state.finished or state.state != "ended" or row["abandoned"]:
            return None
        return state

    def latest_fetch(self, instance_id: str) -> FetchState | None:
        """For offline runs: the newest fetch that was not abandoned, finished or not."""
        row = self._conn.execute(
            "SELECT * FROM fetches WHERE instance_id = ? AND abandoned = 0"
            " ORDER BY id DESC LIMIT 1",
            (instance_id,),
        ).fetchone()
        return self._fetch_state(row)

    def start_fetch(self, run_id: str, instance_id: str, state: str) -> FetchState:
        now = _now()
        with self._tx() as tx:
            cursor = tx.execute(
                "INSERT INTO fetches (instance_id, run_id, started, updated, state)"
                " VALUES (?, ?, ?, ?, ?)",
                (instance_id, run_id, now, now, state),
            )
        assert cursor.lastrowid is not None
        return FetchState(cursor.lastrowid, instance_id, state, None, 0, False, now, now)

    def abandon_fetch(self, fetch_id: int) -> None:
        """Give up a partial fetch (its cursor no longer works); its pages stay for audit."""
        with self._tx() as tx:
            tx.execute(
                "UPDATE fetches SET abandoned = 1, updated = ? WHERE id = ?", (_now(), fetch_id)
            )

    def add_page(
        self,
        run_id: str,
        fetch_id: int,
        instance_id: str,
        page: PageLike,
        *,
        cursor: str | None,
        last: bool,
        kind: str = "participants",
    ) -> int:
        """Store a list page and move its fetch's cursor, in one transaction.

        ``kind``: participants, or invitees / registrants (whose fetches are keyed
        ``invitees:<instance id>`` and ``registrants:<series id>@<period label>``).

        ``last``: the walk ends with this page. The fetch is then marked complete only if
        none of its pages is unusable (a superseded page was asked again and does not
        count); otherwise it stays incomplete with no cursor, so it is never reused.
        """
        with self._tx() as tx:
            row = tx.execute("SELECT pages FROM fetches WHERE id = ?", (fetch_id,)).fetchone()
            seq = int(row["pages"]) if row is not None else 0
            self._insert_page(tx, run_id, fetch_id, instance_id, kind, seq, page)
            complete = last
            if last:
                bad = tx.execute(
                    "SELECT 1 FROM pages WHERE fetch_id = ? AND problem IS NOT NULL"
                    " AND superseded = 0 LIMIT 1",
                    (fetch_id,),
                ).fetchone()
                complete = bad is None
            tx.execute(
                "UPDATE fetches SET next_url = ?, pages = pages + 1, complete = ?, updated = ?"
                " WHERE id = ?",
                (cursor, int(complete), _now(), fetch_id),
            )
        return seq

    def fetch_pages(self, fetch_id: int) -> list[StoredPage]:
        rows = self._conn.execute(
            "SELECT * FROM pages WHERE fetch_id = ? ORDER BY seq", (fetch_id,)
        ).fetchall()
        return [_stored(row) for row in rows]

    # -- failures -------------------------------------------------------------------------

    def record_failure(
        self, run_id: str, entry_id: str, instance_id: str | None, message: str
    ) -> None:
        with self._tx() as tx:
            tx.execute(
                "INSERT INTO failures (run_id, entry_id, instance_id, message, at)"
                " VALUES (?, ?, ?, ?, ?)",
                (run_id, entry_id, instance_id, message, _now()),
            )

    def last_failure(self, instance_id: str, *, since: str | None = None) -> str | None:
        """The newest failure message of an instance (recorded at or after ``since``)."""
        row = self._conn.execute(
            "SELECT message FROM failures WHERE instance_id = ? AND at >= ?"
            " ORDER BY id DESC LIMIT 1",
            (instance_id, since or ""),
        ).fetchone()
        return str(row["message"]) if row is not None else None

    # -- email ledger -------------------------------------------------------------------

    def ledger_entries(self, key: str, report: str) -> list[LedgerEntry]:
        """Every ledger row of this audit and report, oldest first."""
        rows = self._conn.execute(
            f"SELECT * FROM {self._ledger_source} WHERE key = ? AND report = ? ORDER BY id",  # noqa: S608
            (key, report),
        ).fetchall()
        return [_entry(row) for row in rows]

    def ledger_sending(
        self,
        key: str,
        run_id: str,
        report: str,
        recipients: Sequence[str],
        message_id: str,
        content_key: str,
        attachments: Sequence[tuple[str, str]],
        corrects: str,
    ) -> list[int]:
        """Record `recipients` as ``sending``, in one transaction, before the message leaves."""
        files = json.dumps([list(pair) for pair in attachments])
        ids: list[int] = []
        with self._tx() as tx:
            now = _now()
            for recipient in recipients:
                cursor = tx.execute(
                    "INSERT INTO ledger (key, run_id, report, recipient, status, detail,"
                    " message_id, content_key, attachments, corrects, at)"
                    " VALUES (?, ?, ?, ?, 'sending', '', ?, ?, ?, ?, ?)",
                    (key, run_id, report, recipient, message_id, content_key, files, corrects, now),
                )
                assert cursor.lastrowid is not None
                ids.append(cursor.lastrowid)
        return ids

    def ledger_settle(self, row_id: int, status: str, detail: str) -> None:
        """What the server answered for a ``sending`` row: sent, refused or failed."""
        if status not in ("sent", "refused", "failed"):
            raise ValueError(f"a sending row settles as sent, refused or failed, not {status!r}")
        with self._tx() as tx:
            tx.execute(
                "UPDATE ledger SET status = ?, detail = ?, at = ? WHERE id = ?",
                (status, detail, _now(), row_id),
            )

    def ledger_rows(self) -> list[dict[str, Any]]:
        rows = self._conn.execute(
            f"SELECT * FROM {self._ledger_source} ORDER BY id"  # noqa: S608
        ).fetchall()
        return [dict(row) for row in rows]

    def ledger_for_period(self, period_label: str) -> list[LedgerEntry]:
        """Every ledger row of audits of this period (any set of meetings), oldest first."""
        rows = self._conn.execute(
            f"SELECT * FROM {self._ledger_source}"  # noqa: S608
            " WHERE substr(key, 1, length(?) + 1) = ? || ':' ORDER BY id",
            (period_label, period_label),
        ).fetchall()
        return [_entry(row) for row in rows]

    def save_content(self, run_id: str, report: str, content_key: str, snapshot: bytes) -> None:
        with self._tx() as tx:
            tx.execute(
                "INSERT OR REPLACE INTO contents (run_id, report, content_key, snapshot)"
                " VALUES (?, ?, ?, ?)",
                (run_id, report, content_key, snapshot),
            )

    def content_snapshot(self, run_id: str, report: str) -> bytes | None:
        if not self._has_contents:
            return None
        row = self._conn.execute(
            "SELECT snapshot FROM contents WHERE run_id = ? AND report = ?", (run_id, report)
        ).fetchone()
        return bytes(row["snapshot"]) if row is not None else None

    def runs_for_period(self, period_label: str) -> list[dict[str, Any]]:
        return [run for run in self.runs() if run["period_label"] == period_label]

    # -- inspection (tests, debugging) ------------------------------------------------------

    def table_rows(self, table: str) -> list[dict[str, Any]]:
        if table not in (
            "runs",
            "plan_entries",
            "fetches",
            "pages",
            "failures",
            "ledger",
            "contents",
        ):
            raise ValueError(f"no table {table!r}")
        rows = self._conn.execute(f"SELECT * FROM {table} ORDER BY rowid").fetchall()  # noqa: S608
        return [dict(row) for row in rows]


def _entry(row: sqlite3.Row) -> LedgerEntry:
    try:
        files = json.loads(row["attachments"] or "[]")
        attachments = tuple((str(name), str(digest)) for name, digest in files)
    except (ValueError, TypeError):
        attachments = ()
    return LedgerEntry(
        id=int(row["id"]),
        key=row["key"],
        run_id=row["run_id"] or "",
        report=row["report"],
        recipient=row["recipient"],
        status=row["status"],
        detail=row["detail"] or "",
        message_id=row["message_id"] or "",
        content_key=row["content_key"] or "",
        attachments=attachments,
        corrects=row["corrects"] or "",
        at=row["at"],
    )


def _stored(row: sqlite3.Row) -> StoredPage:
    return StoredPage(
        seq=row["seq"],
        url=row["url"],
        status=row["status"],
        headers=json.loads(row["headers"]),
        body=bytes(row["body"]),
        fetched_at=row["fetched_at"],
        problem=row["problem"],
        superseded=bool(row["superseded"]),
        run_id=row["run_id"],
    )
