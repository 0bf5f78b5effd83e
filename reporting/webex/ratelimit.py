"""The client-side rate limiter every request of a run goes through.

Webex limits requests per user over a sliding window ("around 300 requests per minute").
A token bucket would let a burst through at the start and then run into that window, so
this limiter *spaces* requests evenly instead (GCRA: each request reserves the next free
slot). It paces at ``headroom`` × the configured rate, because arrivals at the server jitter
by a few milliseconds and evenly spaced requests at exactly the server's rate would
collide with its window about half of the time.

A 429 is a signal about the shared per-user budget, not about one request, so
`pause(seconds)` holds back every request of the run, not only the one that was refused.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]

DEFAULT_HEADROOM = 0.95


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
        self._clock = clock
        self._sleep = sleep
        self._next_slot = 0.0
        self._paused_until = 0.0
        self.waited_seconds = 0.0

    @property
    def requests_per_minute(self) -> float | None:
        return 60.0 / self.interval if self.interval else None

    def pause(self, seconds: float) -> None:
        """Hold every request back for ``seconds`` from now (after a 429 / 423)."""
        self._paused_until = max(self._paused_until, self._clock() + seconds)

    def delay(self) -> float:
        """Reserve the next slot; returns how long the caller must wait for it.

        Reserving before sleeping keeps the slots of concurrent callers distinct without
        a lock: the event loop runs this method atomically.
        """
        now = self._clock()
        slot = max(now, self._next_slot, self._paused_until)
        self._next_slot = slot + self.interval
        return slot - now

    async def acquire(self) -> float:
        wait = self.delay()
        if wait > 0:
            self.waited_seconds += wait
            await self._sleep(wait)
        return wait
