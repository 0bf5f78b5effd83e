"""The client-side rate limiter every request of a run goes through.

Webex limits requests per user over a sliding window ("around 300 requests per minute").
Two rules release a request, and both must agree:

- *A window log*: the last ``limit`` release times are kept, and a request goes only when
  the oldest of them is at least ``span`` old, ``span`` being the window stretched by
  the headroom (60 s / 0.98). So no window of the server's length ever holds more than
  ``limit`` requests, however the callers arrive, and the server can see the requests
  arrive up to ``span − window`` (1.2 s a minute) more bunched than they left without
  counting one too many.
- *A bucket* (GCRA) of ``burst`` requests refilled one per ``interval`` = ``span / limit``:
  a run starts with up to ``burst`` requests at once (a demo's dozen never wait), then
  goes evenly spaced at the headroom's share of the limit, so its load is smooth rather
  than a limit's worth of requests at the start of every window. A late wake-up of the
  event loop costs nothing for good: the bucket gives the time back to the next ones.

Callers are released one at a time, in arrival order (an asyncio lock, fair). A 429 is a
signal about the shared per-user budget, not about one request, so `pause(seconds)` holds
back every request of the run, including those already waiting for their slot (a waiter
looks at the pause again when it wakes up), and empties the bucket: after a pause
requests come out evenly spaced, not in a burst.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]

DEFAULT_HEADROOM = 0.98
BURST_SHARE = 0.1  # of the window's limit: how many requests a run may start with at once
WINDOW = 60.0
# A slot this close is now: the bucket's sums of intervals carry rounding errors.
ROUNDING = 1e-9


class RateLimiter:
    """At most ``requests_per_minute`` requests in any ``window`` seconds (60), a start
    burst of ``burst`` (a tenth of the limit by default), evenly spaced after that.

    ``requests_per_minute`` None or <= 0 disables pacing (pauses still apply).
    ``clock`` (monotonic seconds) and ``sleep`` are injectable so tests never wait.
    """

    def __init__(
        self,
        requests_per_minute: float | None,
        *,
        headroom: float = DEFAULT_HEADROOM,
        burst: int | None = None,
        window: float = WINDOW,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.limit = max(1, math.floor(requests_per_minute)) if requests_per_minute else 0
        if requests_per_minute is not None and requests_per_minute <= 0:
            self.limit = 0
        self.window = window
        self.span = window / headroom
        self.interval = self.span / self.limit if self.limit else 0.0
        share = math.ceil(self.limit * BURST_SHARE)
        self.burst = max(1, min(self.limit, burst if burst is not None else share))
        self._tolerance = (self.burst - 1) * self.interval
        self._clock = clock
        self._sleep = sleep
        self._tat = 0.0  # the bucket's theoretical arrival time (GCRA)
        self._released: deque[float] = deque(maxlen=self.limit or 1)
        self._paused_until = 0.0
        self._lock: asyncio.Lock | None = None
        self._lock_loop: asyncio.AbstractEventLoop | None = None
        self.waited_seconds = 0.0

    @property
    def requests_per_minute(self) -> float | None:
        """The sustained rate it paces at, per minute."""
        return 60.0 / self.interval if self.interval else None

    def pause(self, seconds: float) -> None:
        """Hold every request back for ``seconds`` from now (after a 429 / 423)."""
        self._paused_until = max(self._paused_until, self._clock() + seconds)
        if self.limit:
            self._tat = max(self._tat, self._paused_until + self._tolerance)

    def _slot(self, now: float) -> float:
        """The earliest time the next request may go, seen from ``now``."""
        slot = max(now, self._paused_until)
        if self.limit:
            slot = max(slot, self._tat - self._tolerance)
            if len(self._released) == self.limit:
                slot = max(slot, self._released[0] + self.span)
        return slot

    def _take(self, at: float) -> None:
        if self.limit:
            self._released.append(at)
            self._tat = max(self._tat, at) + self.interval

    def delay(self) -> float:
        """Reserve the next slot without waiting; returns how long until it comes."""
        now = self._clock()
        slot = self._slot(now)
        self._take(slot)
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
        if not self.limit and self._clock() >= self._paused_until:
            return 0.0
        waited = 0.0
        async with self._fifo():
            now = self._clock()  # the lock may have been waited for
            while (slot := self._slot(now)) > now + ROUNDING:
                wait = slot - now
                waited += wait
                self.waited_seconds += wait
                await self._sleep(wait)
                now = self._clock()  # a 429 meanwhile moved the pause: look again
            self._take(now)
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
