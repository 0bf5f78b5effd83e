"""The SQLite store on real files: schema version, run log, ledger, crash safety."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from reporting.errors import StoreError
from reporting.fetch import FetchOutcome, fetch_all, load_offline
from reporting.model import RunInfo
from reporting.store import SCHEMA_VERSION, Store
from tests.fetch_support import (
    FakeTime,
    client_for,
    dataset,
    sandbox_transport,
    series_ids,
    stand_in_config,
)

ROOT = Path(__file__).resolve().parents[2]


def run_info(run_id: str) -> RunInfo:
    moment = datetime(2026, 10, 2, tzinfo=UTC)
    return RunInfo(
        run_id=run_id,
        config_path="/c.yaml",
        config_hash="abc",
        period_label="2026-09",
        period_start=datetime(2026, 9, 1, tzinfo=UTC),
        period_end=datetime(2026, 10, 1, tzinfo=UTC),
        as_of=moment,
        timezone="UTC",
        tool_version="0.1",
    )


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    Store.open(path).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(
        StoreError,
        match=rf"schema version {SCHEMA_VERSION + 1}, newer than this tool.s {SCHEMA_VERSION}",
    ):
        Store.open(path)


def test_a_file_that_is_not_sqlite_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    path.write_bytes(b"this is not a database at all" * 100)
    with pytest.raises(StoreError, match="is not an SQLite database"):
        Store.open(path)


def test_wal_and_reopen_keep_the_schema(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "s.sqlite"
    with Store.open(path) as store:
        store.begin_run(run_info("r1"))
    with Store.open(path) as store:
        assert [r["id"] for r in store.runs()] == ["r1"]
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_run_log(tmp_path: Path) -> None:
    with Store.open(tmp_path / "s.sqlite") as store:
        store.begin_run(run_info("r1"))
        (row,) = store.runs()
        assert row["status"] == "running" and row["finished"] is None
        assert row["config_hash"] == "abc" and row["period_label"] == "2026-09"
        store.set_run_counts("r1", {"requests": 3})
        store.finish_run("r1", status="partial")
        (row,) = store.runs()
        assert row["status"] == "partial" and row["finished"] and row["counts"] == {"requests": 3}


def test_ledger(tmp_path: Path) -> None:
    with Store.open(tmp_path / "s.sqlite") as store:
        assert store.ledger_entries("k", "compliance") == []
        a, b = store.ledger_sending(
            "k", "run1", "compliance", ["a@x.io", "b@x.io"], "<1@x>", "sha256:c1",
            [("compliance.pdf", "f" * 64)], "",
        )  # fmt: skip
        (c,) = store.ledger_sending("k", "run1", "managers", ["c@x.io"], "<3@x>", "", [], "")
        # Recorded before the message leaves: in doubt until settled.
        assert [e.status for e in store.ledger_entries("k", "compliance")] == ["sending"] * 2
        store.ledger_settle(a, "sent", "250 OK")
        store.ledger_settle(b, "refused", "550 no such user")
        store.ledger_settle(c, "sent", "250 OK")
        entries = store.ledger_entries("k", "compliance")
        assert [(e.recipient, e.status, e.detail) for e in entries] == [
            ("a@x.io", "sent", "250 OK"),
            ("b@x.io", "refused", "550 no such user"),
        ]
        assert entries[0].run_id == "run1" and entries[0].content_key == "sha256:c1"
        assert entries[0].attachments == (("compliance.pdf", "f" * 64),)
        assert entries[0].message_id == "<1@x>"
        assert store.ledger_entries("other", "compliance") == []
        with pytest.raises(ValueError):
            store.ledger_settle(a, "maybe", "")
    conn = sqlite3.connect(tmp_path / "s.sqlite")
    with pytest.raises(sqlite3.IntegrityError):  # the table itself refuses other states
        conn.execute("UPDATE ledger SET status = 'maybe'")
    conn.close()


# The schema and a ledger exactly as version 1 of the tool wrote them (before run ids,
# content keys and attachment hashes), to prove a store made by that version still works.
V1_LEDGER = """
CREATE TABLE runs (id TEXT PRIMARY KEY, started TEXT NOT NULL, finished TEXT,
    status TEXT NOT NULL, config_path TEXT, config_hash TEXT, period_label TEXT,
    period_start TEXT, period_end TEXT, as_of TEXT, offline INTEGER NOT NULL DEFAULT 0,
    tool_version TEXT, counts TEXT);
CREATE TABLE ledger (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL,
    report TEXT NOT NULL,
    recipient TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('sent', 'refused')),
    detail TEXT NOT NULL DEFAULT '',
    message_id TEXT NOT NULL DEFAULT '',
    at TEXT NOT NULL
);
CREATE INDEX ledger_key ON ledger (key, report, recipient);
INSERT INTO ledger (key, report, recipient, status, detail, message_id, at) VALUES
    ('2026-09:abc', 'compliance', 'a@x.io', 'sent', 'smtp:25', '<1@x>', '2026-10-02T06:00'),
    ('2026-09:abc', 'compliance', 'b@x.io', 'refused', '550 gone', '<1@x>', '2026-10-02T06:00');
PRAGMA user_version = 1;
"""


def _v1_store(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.executescript(V1_LEDGER)
    conn.close()


def test_a_version_1_store_is_migrated_and_its_ledger_keeps_working(tmp_path: Path) -> None:
    from reporting.delivery.ledger import decide

    path = tmp_path / "old.sqlite"
    _v1_store(path)
    # Read-only (dry run, history) reads it as it is, without migrating.
    with Store.open_readonly(path) as store:
        entries = store.ledger_entries("2026-09:abc", "compliance")
        assert [(e.recipient, e.status, e.run_id, e.content_key) for e in entries] == [
            ("a@x.io", "sent", "", ""),
            ("b@x.io", "refused", "", ""),
        ]
        assert store.content_snapshot("r", "compliance") is None
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == 1

    with Store.open(path) as store:
        entries = store.ledger_entries("2026-09:abc", "compliance")
        assert [(e.id, e.recipient, e.status, e.detail, e.message_id) for e in entries] == [
            (1, "a@x.io", "sent", "smtp:25", "<1@x>"),
            (2, "b@x.io", "refused", "550 gone", "<1@x>"),
        ]
        # Who got the report before the upgrade is not sent it again (nothing says what
        # they had, so no correction either); the refused recipient still is.
        decisions = decide(entries, ["A@x.io", "b@x.io"], content_key="sha256:new")
        assert [(d.recipient, d.action) for d in decisions] == [
            ("A@x.io", "has-it"),
            ("b@x.io", "send"),
        ]
        # The new states are accepted by the rebuilt table.
        (row,) = store.ledger_sending("2026-09:abc", "r2", "compliance", ["b@x.io"], "<2@x>",
                                      "sha256:new", [], "")  # fmt: skip
        store.ledger_settle(row, "sent", "250 OK")
        store.save_content("r2", "compliance", "sha256:new", b"snapshot")
        assert store.content_snapshot("r2", "compliance") == b"snapshot"
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert conn.execute("SELECT count(*) FROM ledger").fetchone()[0] == 3
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "ledger_v1" not in tables


CHILD = """
import asyncio, sys
from reporting.store import Store
from reporting.fetch import fetch_all
from tests.fetch_support import *
data = dataset(10, 250, 11)
config = stand_in_config([{"id": s} for s in series_ids(data)])
store = Store.open(sys.argv[1])
client = client_for(sandbox_transport(data, "latency=40ms,rate=off"), max_concurrency=2)
async def go():
    async with client:
        await fetch_all(config, store, "killed-run", client)
asyncio.run(go())
print("finished", flush=True)
"""


def _participant_pages(path: Path) -> int:
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1)
        try:
            return int(
                conn.execute("SELECT count(*) FROM pages WHERE kind='participants'").fetchone()[0]
            )
        finally:
            conn.close()
    except sqlite3.Error:
        return 0


def test_sigkill_mid_fetch_leaves_a_store_the_next_run_resumes(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path)], cwd=ROOT, env=env, stdout=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 30
        while _participant_pages(path) < 7:
            assert child.poll() is None, "the child finished before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.02)
        child.send_signal(signal.SIGKILL)
    finally:
        child.wait(timeout=10)
    assert child.returncode == -signal.SIGKILL
    stored_before = _participant_pages(path)

    data = dataset(10, 250, 11)
    config = stand_in_config([{"id": s} for s in series_ids(data)])
    with Store.open(path) as store:
        conn = sqlite3.connect(path)
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        conn.close()
        client = client_for(sandbox_transport(data), FakeTime())

        async def go() -> FetchOutcome:
            async with client:
                return await fetch_all(config, store, "resumed-run", client)

        resumed = asyncio.run(go())
        assert resumed.failures == []
        stats = resumed.stats
        assert stats.instances_reused + stats.instances_resumed > 0
        total_pages = 3 * len(resumed.data)
        # nothing already stored was asked again
        assert stats.pages == total_pages - stored_before
        fresh_store = Store.open(tmp_path / "fresh.sqlite")
        fresh_client = client_for(sandbox_transport(data), FakeTime())

        async def clean() -> FetchOutcome:
            async with fresh_client:
                return await fetch_all(config, fresh_store, "clean", fresh_client)

        reference = asyncio.run(clean())
        fresh_store.close()
        assert {d.instance.id: d.records for d in resumed.data} == {
            d.instance.id: d.records for d in reference.data
        }
        assert load_offline(config, store).data == resumed.data


class _Page:
    def __init__(self, problem: str | None = None, superseded: bool = False) -> None:
        self.method, self.url, self.status = "GET", "http://sandbox.test/v1/p", 200
        self.headers: dict[str, str] = {}
        self.body = b"{bad" if problem else b'{"items": []}'
        self.fetched_at = datetime(2026, 10, 2, tzinfo=UTC)
        self.problem, self.superseded = problem, superseded


def test_a_walk_ending_with_an_unusable_page_is_finished_but_never_complete(
    tmp_path: Path,
) -> None:
    with Store.open(tmp_path / "s.sqlite") as store:
        # asked again and fine the second time: complete
        good = store.start_fetch("r1", "A_I_1", "ended")
        store.add_page("r1", good.id, "A_I_1", _Page("bad", True), cursor="u", last=False)
        store.add_page("r1", good.id, "A_I_1", _Page(), cursor=None, last=True)
        assert store.complete_fetch("A_I_1") is not None

        # still unusable after the retry: the walk ends, the fetch is not complete
        bad = store.start_fetch("r1", "B_I_1", "ended")
        store.add_page("r1", bad.id, "B_I_1", _Page("bad", True), cursor="u", last=False)
        store.add_page("r1", bad.id, "B_I_1", _Page("bad"), cursor="n", last=False)
        store.add_page("r1", bad.id, "B_I_1", _Page(), cursor=None, last=True)
        assert store.complete_fetch("B_I_1") is None
        assert store.resumable_fetch("B_I_1") is None  # no cursor: fetched from scratch
        latest = store.latest_fetch("B_I_1")
        assert latest is not None and latest.finished and not latest.complete
        assert latest.pages == 3 and latest.next_url is None

        # a fetch with no page yet is neither finished nor complete, and resumable
        empty = store.start_fetch("r1", "C_I_1", "ended")
        assert not empty.finished and store.resumable_fetch("C_I_1") == empty


def test_a_run_killed_before_it_ended_is_logged_interrupted_by_the_next(tmp_path: Path) -> None:
    with Store.open(tmp_path / "s.sqlite") as store:
        store.begin_run(run_info("killed"))  # and never finished
        store.begin_run(run_info("done"))
        store.finish_run("done", status="complete")
        store.begin_run(run_info("next"))
        assert {r["id"]: r["status"] for r in store.runs()} == {
            "killed": "interrupted",
            "done": "complete",
            "next": "running",
        }
