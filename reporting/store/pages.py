"""Pages, participant fetches and failures: every response as received, and the walks
through list pages that a killed run resumes from their stored cursor."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass

from reporting.protocols import PageLike
from reporting.store.connection import StoreConnection, iso, utc_now


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


class PageLog(StoreConnection):
    """Every response a run received, and the walks through list pages."""

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
                iso(page.fetched_at),
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
        now = utc_now()
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
                "UPDATE fetches SET abandoned = 1, updated = ? WHERE id = ?", (utc_now(), fetch_id)
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
                (cursor, int(complete), utc_now(), fetch_id),
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
                (run_id, entry_id, instance_id, message, utc_now()),
            )

    def last_failure(self, instance_id: str, *, since: str | None = None) -> str | None:
        """The newest failure message of an instance (recorded at or after ``since``)."""
        row = self._conn.execute(
            "SELECT message FROM failures WHERE instance_id = ? AND at >= ?"
            " ORDER BY id DESC LIMIT 1",
            (instance_id, since or ""),
        ).fetchone()
        return str(row["message"]) if row is not None else None


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
