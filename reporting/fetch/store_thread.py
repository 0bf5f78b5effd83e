"""The thread that makes the fetch's store calls, in order, with one commit for the calls
that queued up while the previous commit was made."""

from __future__ import annotations

import asyncio
import functools
import queue
import threading
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from reporting.store import Store
from reporting.store.connection import BatchLost

_P = ParamSpec("_P")
_T = TypeVar("_T")

# The most calls one commit takes: a batch is as long as the queue was while the previous
# one ran, so this only bounds how long a caller waits behind others.
MAX_BATCH = 256

_Call = tuple[Callable[[], Any], "asyncio.Future[Any]", asyncio.AbstractEventLoop]


class StoreThread:
    """Runs the fetch's store calls one at a time, in order, on a thread of their own.

    A commit, and a WAL checkpoint now and then (an fsync), made on the event loop held up
    every request in flight; on this thread they overlap the network waits (sqlite3
    releases the GIL while SQLite works). The calls that queue up while one batch is made
    go together in the next, in one transaction (`Store.batch`): each call is still all or
    nothing, and its caller is answered only once the batch is committed, so a page and its
    cursor are on disk before the walk asks for the next page, exactly as with a commit
    per call. With many lists walked at once this is one commit for many pages instead of
    one each.
    """

    def __init__(self, store: Store) -> None:
        self._store = store
        self._queue: queue.SimpleQueue[_Call | None] = queue.SimpleQueue()
        self._closing = False
        self._thread = threading.Thread(target=self._serve, name="attendance-store", daemon=True)
        self._thread.start()

    async def __call__(self, call: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs) -> _T:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[_T] = loop.create_future()
        self._queue.put((functools.partial(call, *args, **kwargs), future, loop))
        return await future

    def close(self) -> None:
        """Wait for the batch in progress (its transaction ends either way); drop the rest."""
        self._closing = True
        self._queue.put(None)
        self._thread.join()

    def _serve(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < MAX_BATCH:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    self._queue.put(None)  # seen again once this batch is made
                    break
                batch.append(more)
            if self._closing:
                _answer([(future, loop, None, None) for _, future, loop in batch], dropped=True)
                continue
            _answer(self._made(batch))

    def _made(
        self, batch: list[_Call]
    ) -> list[tuple[asyncio.Future[Any], asyncio.AbstractEventLoop, Any, BaseException | None]]:
        """Each call's result or exception, once the batch is committed (or why not)."""
        done: list[tuple[asyncio.Future[Any], asyncio.AbstractEventLoop, Any, Any]] = []
        # A cancelled caller is gone (a fetch that ended): its call is not made.
        batch = [c for c in batch if not c[1].cancelled()]
        if not batch:
            return done
        if len(batch) == 1:
            # Alone: its own transaction, as any store call makes it (no savepoint needed).
            call, future, loop = batch[0]
            try:
                return [(future, loop, call(), None)]
            except BaseException as exc:
                return [(future, loop, None, exc)]
        try:
            with self._store.batch():
                for call, future, loop in batch:
                    try:
                        done.append((future, loop, call(), None))
                    except BatchLost:
                        raise
                    except BaseException as exc:
                        done.append((future, loop, None, exc))
        except BaseException as exc:
            # The batch could not begin or commit, or SQLite rolled it back: none of its
            # calls is on disk.
            return [(future, loop, None, exc) for _, future, loop in batch]
        return done


def _answer(
    results: list[tuple[asyncio.Future[Any], asyncio.AbstractEventLoop, Any, Any]],
    *,
    dropped: bool = False,
) -> None:
    """Hand each caller its result, one wake-up of each event loop for the batch."""
    by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Any], Any, Any]]] = {}
    for future, loop, value, error in results:
        by_loop.setdefault(loop, []).append((future, value, error))
    for loop, answers in by_loop.items():
        if loop.is_closed():
            continue
        loop.call_soon_threadsafe(_settle, answers, dropped)


def _settle(answers: list[tuple[asyncio.Future[Any], Any, Any]], dropped: bool) -> None:
    for future, value, error in answers:
        if future.done():
            continue
        if dropped:
            future.cancel()
        elif error is not None:
            future.set_exception(error)
        else:
            future.set_result(value)
