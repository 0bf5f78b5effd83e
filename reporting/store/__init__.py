"""The SQLite snapshot store: raw pages, plans, run log and the email ledger.

The tables are described in `reporting.store.schema`; a version-1 store is migrated when
opened for writing, and read as it is by `Store.open_readonly`. `Store` is one class made
of its parts: `connection` (the file, transactions), `runs` (run log, plans), `pages`
(pages, fetches, failures) and `ledger` (the email ledger, content snapshots; delivery
takes a `SendLedger`, which every `Store` is).

Crash safety: each participant page is inserted in the same transaction that moves its
fetch's cursor (``next_url``) and, on the last page, marks the fetch complete (unless one of
its pages is unusable). Killing the process at any moment leaves either the page and its
cursor or neither, so the next run resumes a partial fetch from its stored next link (see
`reporting.fetch`).
"""

from __future__ import annotations

from reporting.store.ledger import LEDGER_STATUSES, LedgerEntry, LedgerStatus, SendLedger
from reporting.store.pages import FetchState, PageLog, StoredPage
from reporting.store.runs import RunLog
from reporting.store.schema import SCHEMA_VERSION

__all__ = [
    "LEDGER_STATUSES",
    "SCHEMA_VERSION",
    "FetchState",
    "LedgerEntry",
    "LedgerStatus",
    "SendLedger",
    "Store",
    "StoredPage",
]


class Store(RunLog, PageLog, SendLedger):
    """One SQLite file. Open with `Store.open(path)`; close with `close()` or ``with``."""
