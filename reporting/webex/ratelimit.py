"""The client-side rate limiter every request of a run goes through.

Webex limits requests per user over a sliding window ("around 300 requests per minute").
A token bucket with a large burst would let a burst through at the start and then run into
that window, so this limiter *spaces* requests evenly instead: a bucket of one token
refilled at ``headroom`` × the configured rate (GCRA). It paces below the server's rate
because arrivals at the server jitter by a few milliseconds, and evenly spaced requests at
exactly the server's rate would collide with its window about half of the time.

Callers are released one at a time, in arrival order, each at its slot: the slot after a
release is ``interval`` later, or (when the event loop woke the caller late) ``interval``
after the release less at most ``CATCH_UP`` × ``interval``. So a late wake-up neither
costs throughput for good nor lets a bunch of requests out together: any N + 1
consecutive requests span at least N × ``interval`` − ``CATCH_UP`` × ``interval``.

A 429 is a signal about the shared per-user budget, not about one request, so
`pause(seconds)` holds back every request of the run, including those already waiting for
their slot: a waiter looks at the pause again when it wakes up.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]

DEFAULT_HEADROOM = 0.95
CATCH_UP = 0.1  # share of an interval a late release may take back from the next one


class RateLimiter:
    """Evenly spaced request slots at ``requests_per_minute`` × ``headroom``.

    ``requests_per_minute`` None or <= 0 disables pacing (pauses still apply).
    ``clock`` (monotonic seconds) and ``sleep`` are injectable so tests never wait.
    """

    def __init__(
        self,
        requests_per_minute: float | None,
        *,
        headroom: float = DEFAULT_HEADROOM,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        rate = (requests_per_minute or 0) * headroom
        self.interval = 60.0 / rate if rate > 0 else 0.0
        self._catch_up = self.interval * CATCH_UP
        self._clock = clock
        self._sleep = sleep
        self._next_slot = 0.0
        self._paused_until = 0.0
        self._lock: asyncio.Lock | None = None
        self._lock_loop: asyncio.AbstractEventLoop | None = None
        self.waited_seconds = 0.0

    @property
    def requests_per_minute(self) -> float | None:
        return 60.0 / self.interval if self.interval else None

    def pause(self, seconds: float) -> None:
        """Hold every request back for ``seconds`` from now (after a 429 / 423)."""
        self._paused_until = max(self._paused_until, self._clock() + seconds)

    def delay(self) -> float:
        """Reserve the next slot without waiting; returns how long until it comes."""
        now = self._clock()
        slot = max(now, self._next_slot, self._paused_until)
        self._next_slot = slot + self.interval
        return slot - now

    def _fifo(self) -> asyncio.Lock:
        # One lock per event loop: a client (and its limiter) may outlive an asyncio.run.
        loop = asyncio.get_running_loop()
        if self._lock is None or self._lock_loop is not loop:
            self._lock = asyncio.Lock()
            self._lock_loop = loop
        return self._lock

    async def acquire(self) -> float:
        """Wait for this caller's slot (and any pause); returns the seconds waited."""
        now = self._clock()
        if not self.interval and now >= self._paused_until:
            return 0.0
        waited = 0.0
        async with self._fifo():
            now = self._clock()  # the lock may have been waited for
            while True:
                slot = max(self._next_slot, self._paused_until)
                if slot <= now:
                    break
                wait = slot - now
                waited += wait
                self.waited_seconds += wait
                await self._sleep(wait)
                now = self._clock()  # a 429 meanwhile moved the pause: look again
            if self.interval:
                # Busy (the slot came within an interval): a late wake-up takes back up to
                # CATCH_UP of the next interval. Idle: the next slot counts from now.
                busy = slot > now - self.interval
                base = max(slot, now - self._catch_up) if busy else now
                self._next_slot = base + self.interval
        return waited


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds from a Retry-After header; None when absent or malformed.

    Both forms of RFC 9110 §10.2.3 are read: delta-seconds (what Webex sends) and an
    HTTP-date (``Wed, 02 Dec 2026 17:30:00 GMT``: the seconds from ``now`` until then, 0
    when it has passed). Anything else (``rand(30),add(30)`` has been seen in the wild)
    is malformed.
    """
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return _seconds_until(value, now)
    if seconds != seconds or seconds < 0 or seconds == float("inf"):
        return None
    return seconds


def _seconds_until(value: str, now: datetime | None) -> float | None:
    try:
        when = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # "-0000": UTC, by RFC 5322
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
