"""The fetch's store thread: calls made in order, queued calls committed together, each
call all or nothing, and no caller answered before its call is committed."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path

import pytest

from reporting.errors import StoreError
from reporting.fetch.store_thread import StoreThread
from reporting.store import Store


def _failures(path: Path) -> list[str]:
    """What another connection sees: only what was committed."""
    conn = sqlite3.connect(path)
    try:
        return [row[0] for row in conn.execute("SELECT message FROM failures ORDER BY id")]
    finally:
        conn.close()


def test_calls_queued_together_are_made_in_order_in_one_transaction(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    store = Store.open(path, new_store=True)
    gate = threading.Event()
    seen_before_answer: list[list[str]] = []

    def held() -> None:
        gate.wait(5)  # the next calls queue up meanwhile

    def record(message: str) -> str:
        store.record_failure("run", "entry", None, message)
        return message

    def broken() -> None:
        with store._tx() as tx:
            tx.execute(
                "INSERT INTO failures (run_id, entry_id, message, at) VALUES ('r', 'e', 'x', 'now')"
            )
            raise ValueError("half done")

    async def go() -> list[object]:
        db = StoreThread(store)
        try:
            first = asyncio.ensure_future(db(held))
            await asyncio.sleep(0.05)
            calls = [
                asyncio.ensure_future(db(record, "one")),
                asyncio.ensure_future(db(broken)),
                asyncio.ensure_future(db(record, "two")),
            ]
            await asyncio.sleep(0.05)
            gate.set()
            await first

            async def answered(task: asyncio.Future[object]) -> object:
                try:
                    result = await task
                except ValueError as exc:
                    result = exc
                seen_before_answer.append(_failures(path))
                return result

            return list(await asyncio.gather(*(answered(c) for c in calls)))
        finally:
            db.close()

    one, broke, two = asyncio.run(go())
    store.close()
    assert one == "one" and two == "two"
    assert isinstance(broke, ValueError)
    # The broken call left nothing; the others were committed before any was answered.
    assert _failures(path) == ["one", "two"]
    assert all(seen == ["one", "two"] for seen in seen_before_answer)


def test_a_failed_commit_fails_every_call_of_its_batch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "s.sqlite"
    store = Store.open(path, new_store=True)
    gate = threading.Event()
    real_batch = store.batch

    def failing_batch():  # type: ignore[no-untyped-def]
        raise StoreError("disk full")

    async def go() -> list[object]:
        db = StoreThread(store)
        try:
            first = asyncio.ensure_future(db(gate.wait, 5))
            await asyncio.sleep(0.05)
            monkeypatch.setattr(store, "batch", failing_batch)
            calls = [
                asyncio.ensure_future(db(store.record_failure, "r", "e", None, m))
                for m in ("a", "b")
            ]
            await asyncio.sleep(0.05)
            gate.set()
            await first
            return list(await asyncio.gather(*calls, return_exceptions=True))
        finally:
            db.close()
            monkeypatch.setattr(store, "batch", real_batch)

    results = asyncio.run(go())
    store.close()
    assert all(isinstance(r, StoreError) for r in results)
    assert _failures(path) == []


def test_a_batch_that_raises_rolls_back_and_the_store_goes_on(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    with Store.open(path, new_store=True) as store:
        with pytest.raises(RuntimeError), store.batch():
            store.record_failure("r", "e", None, "lost")
            raise RuntimeError("stop")
        store.record_failure("r", "e", None, "kept")
        assert _failures(path) == ["kept"]


def test_close_drops_calls_not_yet_made(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    store = Store.open(path, new_store=True)
    gate = threading.Event()

    async def go() -> None:
        db = StoreThread(store)
        first = asyncio.ensure_future(db(gate.wait, 5))
        await asyncio.sleep(0.05)
        later = asyncio.ensure_future(db(store.record_failure, "r", "e", None, "late"))
        await asyncio.sleep(0)
        later.cancel()
        gate.set()
        await first
        db.close()
        with pytest.raises(asyncio.CancelledError):
            await later

    asyncio.run(go())
    store.close()
    assert _failures(path) == []


def test_a_full_disk_inside_a_batch_answers_no_call_ok_that_is_not_on_disk(
    tmp_path: Path,
) -> None:
    # SQLite may roll the whole transaction back on a full disk, taking the calls made
    # before the failing one with it: none of them may then be answered as stored.
    path = tmp_path / "s.sqlite"
    store = Store.open(path, new_store=True)
    pages = store._conn.execute("PRAGMA page_count").fetchone()[0]
    store._conn.execute(f"PRAGMA max_page_count = {pages + 2}")
    gate = threading.Event()
    messages = ("small", "x" * 400_000, "after")

    async def go() -> list[object]:
        db = StoreThread(store)
        try:
            first = asyncio.ensure_future(db(gate.wait, 5))
            await asyncio.sleep(0.05)
            calls = [
                asyncio.ensure_future(db(store.record_failure, "r", "e", None, m)) for m in messages
            ]
            await asyncio.sleep(0.05)
            gate.set()
            await first
            return list(await asyncio.gather(*calls, return_exceptions=True))
        finally:
            db.close()

    results = asyncio.run(go())
    store.close()
    on_disk = _failures(path)
    assert isinstance(results[1], StoreError)
    assert "full" in str(results[1])
    for message, result in zip(messages, results, strict=True):
        assert (result is None) == (message in on_disk), (message[:10], result)
