"""`attendance history`: a period's runs and every message the ledger holds for it.

Read-only (the store is opened for reading, as `--dry-run` does), so it can be run while
nothing else may change the evidence, and on a store an older version wrote.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from reporting.config import Config
from reporting.errors import StoreError
from reporting.store import Store
from reporting.store.ledger import LedgerEntry

__all__ = ["describe_history"]


def describe_history(config: Config) -> str:
    label = config.period.label
    if not config.store.exists():
        raise StoreError(
            f"there is no store at {config.store}, so no run is recorded",
            hint="run `attendance run` first, or point `store:` at the right file",
        )
    with Store.open_readonly(config.store) as store:
        runs = store.runs_for_period(label)
        messages = store.ledger_for_period(label)
    lines = [f"Runs of {label} (store {config.store}):"]
    if runs:
        lines += _table(
            ("run", "started (UTC)", "status", "as of (UTC)", "fetched", "failed", "offline"),
            [_run_row(run) for run in runs],
        )
    else:
        lines.append("  none")
    lines += ["", f"Messages for {label} (one line per recipient):"]
    if messages:
        lines += _table(
            ("at (UTC)", "run", "report", "recipient", "status", "attachments, SHA-256", "note"),
            [_message_row(entry) for entry in messages],
        )
    else:
        lines.append("  none")
    return "\n".join(lines)


def _when(value: Any) -> str:
    text = str(value or "")
    return text[:19].replace("T", " ") if text else "-"


def _run_row(run: dict[str, Any]) -> list[str]:
    counts = run.get("counts") or {}
    fetched = counts.get("audited")
    failed = counts.get("failed")
    if fetched is None:  # a run that ended before it counted (killed, failed early)
        fetched = counts.get("instances_fetched", 0) + counts.get("instances_reused", 0)
        failed = counts.get("instances_failed", 0) + counts.get("entries_failed", 0)
    return [
        str(run["id"]),
        _when(run.get("started")),
        str(run.get("status") or "-"),
        _when(run.get("as_of")),
        str(fetched),
        str(failed),
        "yes" if run.get("offline") else "no",
    ]


def _message_row(entry: LedgerEntry) -> list[str]:
    status = "in doubt (sending)" if entry.status == "sending" else entry.status
    files = " ".join(f"{name} {digest}" for name, digest in entry.attachments) or "-"
    return [
        _when(entry.at),
        entry.run_id or "-",
        entry.report,
        entry.recipient,
        status,
        files,
        f"correction of run {entry.corrects}" if entry.corrects else "-",
    ]


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        padded = (str(c).ljust(w) for c, w in zip(cells, widths, strict=True))
        return ("  " + "  ".join(padded)).rstrip()

    return [line(header), *(line(r) for r in rows)]
