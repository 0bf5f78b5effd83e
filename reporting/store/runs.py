"""The run log and the plans: which runs there were and how each ended, and what each
config entry expanded to."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from reporting.store.connection import StoreConnection, iso, utc_now


class RunLog(StoreConnection):
    """The runs of a store and the plans they made."""

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
                    utc_now(),
                    run.config_path,
                    run.config_hash,
                    run.period_label,
                    iso(run.period_start),
                    iso(run.period_end),
                    iso(run.as_of),
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
                (utc_now(), status, json.dumps(counts) if counts is not None else None, run_id),
            )

    def runs(self) -> list[dict[str, Any]]:
        rows = self._conn.execute("SELECT * FROM runs ORDER BY started, id").fetchall()
        result = []
        for row in rows:
            item = dict(row)
            item["counts"] = json.loads(item["counts"]) if item["counts"] else None
            result.append(item)
        return result

    def runs_for_period(self, period_label: str) -> list[dict[str, Any]]:
        return [run for run in self.runs() if run["period_label"] == period_label]

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
                    iso(period[0]),
                    iso(period[1]),
                    host_email or "",
                    utc_now(),
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
            (entry_id, iso(period[0]), iso(period[1]), host_email or ""),
        ).fetchone()
        if row is None:
            return None
        meetings = json.loads(row["meetings"]) if row["meetings"] is not None else None
        return meetings, row["failure"]
