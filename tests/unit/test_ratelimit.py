"""The client's rate limiter over random schedules: a start burst, and never more than the
configured rate in any window, whatever the arrivals, pauses and late wake-ups.

No test sleeps: a fake clock stands in, and its sleep may wake a caller late by a random
amount, as a busy event loop does.
"""

from __future__ import annotations

import asyncio
import itertools
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reporting.webex.ratelimit import DEFAULT_HEADROOM, RateLimiter

EPSILON = 1e-9


class LateClock:
    """A fake clock whose sleep wakes up to ``late`` seconds after it was asked to."""

    def __init__(self, rng: random.Random, late: float) -> None:
        self.now = 0.0
        self.rng = rng
        self.late = late

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds + self.rng.random() * self.late


def _most_in_any_window(released: list[float], window: float) -> int:
    """The largest number of releases in a half-open window [t, t + window)."""
    most = 0
    start = 0
    for end, at in enumerate(released):
        while released[start] <= at - window + EPSILON:
            start += 1
        most = max(most, end - start + 1)
    return most


schedules = st.fixed_dictionaries(
    {
        "limit": st.integers(1, 40),
        "window": st.sampled_from([1.0, 60.0]),
        "headroom": st.floats(0.9, 1.0),
        "burst": st.one_of(st.none(), st.integers(1, 40)),
        "seed": st.integers(0, 2**32 - 1),
        # Gaps between callers in windows: bunches, steady streams and idle stretches.
        "gaps": st.lists(st.sampled_from([0.0, 0.0, 0.001, 0.02, 0.1, 0.5, 1.5]), max_size=160),
        "late": st.sampled_from([0.0, 0.01, 0.3]),  # in intervals
        "pauses": st.dictionaries(st.integers(0, 159), st.floats(0.0, 2.0), max_size=4),
    }
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(schedules)
def test_no_window_ever_holds_more_than_the_limit(case: dict) -> None:  # type: ignore[type-arg]
    window = case["window"]
    fake = LateClock(random.Random(case["seed"]), 0.0)
    limiter = RateLimiter(
        case["limit"],
        headroom=case["headroom"],
        burst=case["burst"],
        window=window,
        clock=fake.clock,
        sleep=fake.sleep,
    )
    fake.late = case["late"] * limiter.interval
    released: list[float] = []
    paused: list[tuple[float, float]] = []

    async def go() -> None:
        arrival = 0.0
        for n, gap in enumerate(case["gaps"]):
            arrival += gap * window
            fake.now = max(fake.now, arrival)
            if n in case["pauses"]:  # a 429 came back before this caller asked
                seconds = case["pauses"][n] * window
                limiter.pause(seconds)
                paused.append((fake.now, fake.now + seconds))
            await limiter.acquire()
            released.append(fake.now)

    asyncio.run(go())
    assert _most_in_any_window(released, window) <= case["limit"]
    for start, end in paused:  # nothing goes out while a pause holds
        assert not [t for t in released if start < t < end - EPSILON]


@settings(max_examples=100, deadline=None)
@given(
    st.integers(1, 600),
    st.one_of(st.none(), st.integers(1, 600)),
    st.sampled_from([0.0, 0.1, 0.5]),
)
def test_a_busy_run_starts_with_its_burst_and_then_sustains_the_headroom_share(
    limit: int, burst: int | None, late: float
) -> None:
    fake = LateClock(random.Random(limit), 0.0)
    limiter = RateLimiter(limit, burst=burst, clock=fake.clock, sleep=fake.sleep)
    fake.late = late * limiter.interval
    callers = 3 * limit + 1  # everyone at once, three windows' worth and one more
    released: list[float] = []

    async def go() -> None:
        for _ in range(callers):
            await limiter.acquire()
            released.append(fake.now)

    asyncio.run(go())
    assert released[: limiter.burst] == [0.0] * limiter.burst
    assert limiter.burst == min(limit, burst if burst is not None else -(-limit // 10))
    assert _most_in_any_window(released, 60.0) <= limit
    # Three windows of `limit` after the first request: at least the headroom's share
    # (98 %) of the limit, less what the late wake-ups cost.
    rate = (callers - 1) / (released[-1] - released[0]) * 60.0
    assert rate >= limit * DEFAULT_HEADROOM / (1 + late) * (1 - EPSILON)
    assert rate <= limit * (1 + EPSILON)


def test_the_demos_dozen_requests_start_without_waiting_a_slot_each() -> None:
    fake = LateClock(random.Random(0), 0.0)
    limiter = RateLimiter(300, clock=fake.clock, sleep=fake.sleep)

    async def go() -> list[float]:
        return [await limiter.acquire() for _ in range(12)]

    assert asyncio.run(go()) == [0.0] * 12
    assert limiter.waited_seconds == 0.0


def test_after_a_pause_requests_come_out_evenly_spaced_not_in_a_burst() -> None:
    fake = LateClock(random.Random(0), 0.0)
    limiter = RateLimiter(600, headroom=1.0, burst=10, clock=fake.clock, sleep=fake.sleep)
    released: list[float] = []

    async def go() -> None:
        await limiter.acquire()
        limiter.pause(5)
        for _ in range(4):
            await limiter.acquire()
            released.append(fake.now)

    asyncio.run(go())
    assert released[0] == pytest.approx(5.0)
    assert [b - a for a, b in itertools.pairwise(released)] == pytest.approx([0.1] * 3)


def test_concurrent_callers_are_released_in_arrival_order_within_the_limit() -> None:
    fake = LateClock(random.Random(1), 0.0)
    limiter = RateLimiter(20, window=1.0, clock=fake.clock, sleep=fake.sleep)
    order: list[int] = []
    released: list[float] = []

    async def one(n: int) -> None:
        await limiter.acquire()
        order.append(n)
        released.append(fake.now)

    async def go() -> None:
        await asyncio.gather(*(one(n) for n in range(70)))

    asyncio.run(go())
    assert order == list(range(70))
    assert _most_in_any_window(released, 1.0) <= 20
