"""The email ledger and the content snapshots: who was sent which report, and what each
emailed report said (see `reporting.delivery.ledger` for how the rows are read)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from reporting.store.connection import StoreConnection, utc_now
from reporting.store.schema import LEDGER_V1_VIEW

LedgerStatus = Literal["sending", "sent", "refused", "failed"]
LEDGER_STATUSES: tuple[str, ...] = ("sending", "sent", "refused", "failed")


@dataclass(frozen=True)
class LedgerEntry:
    """One ledger row: one recipient of one message."""

    id: int
    key: str  # the audit: period and meetings (`reporting.delivery.ledger.ledger_key`)
    run_id: str  # empty for rows written before the ledger kept run ids
    report: str
    recipient: str
    status: str  # sending | sent | refused | failed
    detail: str
    message_id: str
    content_key: str  # empty for rows written before the ledger kept content keys
    attachments: tuple[tuple[str, str], ...]  # (file name, SHA-256)
    corrects: str  # the run whose report this message superseded, else empty
    at: str


class SendLedger(StoreConnection):
    """The ledger's rows of a store; what delivery reads and writes."""

    @property
    def _ledger_source(self) -> str:
        # A version-1 store opened read-only (a dry run, `history`) is read through a view.
        return "ledger" if self.version >= 2 else LEDGER_V1_VIEW

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
            now = utc_now()
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
                (status, detail, utc_now(), row_id),
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
        if self.version < 2:  # version 1 kept no contents
            return None
        row = self._conn.execute(
            "SELECT snapshot FROM contents WHERE run_id = ? AND report = ?", (run_id, report)
        ).fetchone()
        return bytes(row["snapshot"]) if row is not None else None


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
