"""Fault injection: the SPEC string and the per-request decision.

SPEC is a comma-separated list of ``key=value`` (order free, every key optional)::

    seed=7,latency=50ms,slow=2%:3s,429=5%,423=1%,500=1%,502=1%,503=5%,504=1%,drop=2%,
    rate=300/min,retry_after=2,malformed_retry_after=10%,streak=3

- ``seed=N``             seed of the decisions (default 0)
- ``latency=D``          every response leaves D after its request arrived (``50ms``,
                         ``1.5s``, ``0``): the server's own work runs within it
- ``slow=P%[:D]``        share of requests delayed by D more (default 2s) before answering
- ``429|423|500|502|503|504=P%``  share of requests answered with that status
- ``drop=P%``            share of requests whose connection is closed with no response
- ``rate=N/min``         per-token sliding-window rate limit (``/s``, ``/min``, ``/h``);
                         ``rate=off`` disables it. Default ``300/min``.
- ``retry_after=S``      the ``Retry-After`` seconds of injected 429/423 (default 1)
- ``malformed_retry_after=P%``  share of injected 429s whose ``Retry-After`` is the
                         non-numeric ``rand(30),add(30)`` seen in the wild
- ``streak=N``           at most N consecutive injected faults for the same request; the
                         attempt after that always gets through (default 3)

Decisions are pure functions of (seed, token, path + query, attempt), where attempt counts
earlier requests with exactly that token, path and query. So a run is reproducible whatever
the thread scheduling, and a client that retries a faulted request eventually succeeds.
Shares are taken in the order drop, 429, 423, 500, 502, 503, 504 from one uniform draw, so
they must add up to at most 100%; ``slow`` is drawn independently.
"""

from __future__ import annotations

import hashlib
import math
import re
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from reporting.errors import ConfigError

STATUS_KINDS = ("429", "423", "500", "502", "503", "504")
ORDER = ("drop", *STATUS_KINDS)
MALFORMED_RETRY_AFTER = "rand(30),add(30)"
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_RATE = re.compile(r"^(\d+)/(s|sec|min|m|h|hour)$")


class FaultSpecError(ConfigError):
    """A --faults SPEC that cannot be read."""


@dataclass(frozen=True)
class FaultSpec:
    seed: int = 0
    latency: float = 0.0
    slow_share: float = 0.0
    slow_seconds: float = 2.0
    shares: dict[str, float] = field(default_factory=dict)
    rate_limit: int | None = 300
    rate_window: float = 60.0
    retry_after: int = 1
    malformed_share: float = 0.0
    streak: int = 3

    @property
    def injects(self) -> bool:
        return any(self.shares.values()) or self.slow_share > 0


def _share(key: str, text: str) -> float:
    value = text.strip()
    if not value.endswith("%"):
        # A bare 5 could mean 5 % or 500 %: say which unit is wanted instead of guessing.
        raise FaultSpecError(
            f"faults: {key}={text}: a share needs its unit, %", hint=f"e.g. {key}={value}%"
        )
    try:
        number = float(value[:-1]) / 100
    except ValueError:
        raise FaultSpecError(f"faults: {key}={text}: not a share", hint="e.g. 5%") from None
    if not 0 <= number <= 1:
        raise FaultSpecError(f"faults: {key}={text}: must be between 0% and 100%")
    return number


def duration_seconds(text: str) -> float | None:
    """``50ms``, ``30`` (seconds), ``2s``, ``15m``, ``12h``, ``14d`` → seconds; None if not
    a duration."""
    match = _DURATION.match(text.strip().lower())
    if not match:
        return None
    return float(match.group(1)) * _UNIT_SECONDS[match.group(2) or "s"]


def _seconds(key: str, text: str, *, shown: str | None = None) -> float:
    match = _DURATION.match(text.strip().lower())
    if match is not None and match.group(2) is None:
        written = shown if shown is not None else text
        raise FaultSpecError(
            f"faults: {key}={written}: a duration needs its unit (ms, s, m, h, d)",
            hint=f"e.g. {text.strip()}ms or {text.strip()}s",
        )
    seconds = duration_seconds(text)
    if seconds is None:
        raise FaultSpecError(f"faults: {key}={text}: not a duration", hint="e.g. 50ms or 2s")
    return seconds


def _whole(key: str, value: str, what: str) -> int:
    if not value.strip().isdigit():
        raise FaultSpecError(f"faults: {key}={value}: not {what}")
    return int(value)


def _seed(key: str, value: str) -> dict[str, object]:
    if not value.strip().lstrip("-").isdigit():
        raise FaultSpecError(f"faults: seed={value}: not an integer")
    return {"seed": int(value)}


def _slow(key: str, value: str) -> dict[str, object]:
    share, _, delay = value.partition(":")
    values: dict[str, object] = {"slow_share": _share(key, share)}
    if delay:
        values["slow_seconds"] = _seconds(key, delay, shown=value)
    return values


def _rate(key: str, value: str) -> dict[str, object]:
    if value.strip() in ("off", "0", "none"):
        return {"rate_limit": None}
    match = _RATE.match(value.strip())
    if not match:
        raise FaultSpecError(f"faults: rate={value}: not a rate", hint="e.g. 300/min")
    unit = match.group(2)
    window = 1.0 if unit.startswith("s") else (3600.0 if unit.startswith("h") else 60.0)
    return {"rate_limit": int(match.group(1)), "rate_window": window}


# How each key (but the shares of ORDER) is read into FaultSpec's fields.
_READERS: dict[str, Callable[[str, str], dict[str, object]]] = {
    "seed": _seed,
    "latency": lambda key, value: {"latency": _seconds(key, value)},
    "slow": _slow,
    "rate": _rate,
    "retry_after": lambda key, value: {"retry_after": _whole(key, value, "whole seconds")},
    "malformed_retry_after": lambda key, value: {"malformed_share": _share(key, value)},
    "streak": lambda key, value: {"streak": _whole(key, value, "a whole number")},
}


def parse_faults(spec: str | None) -> FaultSpec:
    """SPEC text → FaultSpec; empty or None → no faults, default rate limit."""
    values: dict[str, object] = {}
    shares: dict[str, float] = {}
    for raw in (spec or "").split(","):
        if not raw.strip():
            continue
        key, sep, value = raw.partition("=")
        key = key.strip()
        if not sep:
            raise FaultSpecError(f"faults: {raw.strip()!r} is not key=value", hint="see --help")
        if key in ORDER:
            shares[key] = _share(key, value)
        elif key in _READERS:
            values.update(_READERS[key](key, value))
        else:
            known = (
                "seed latency slow drop 429 423 500 502 503 504 rate retry_after "
                "malformed_retry_after streak"
            )
            raise FaultSpecError(f"faults: unknown key {key!r}", hint=f"known: {known}")
    if sum(shares.values()) > 1 + 1e-9:
        raise FaultSpecError("faults: the shares of drop and the statuses add up to over 100%")
    return FaultSpec(shares=shares, **values)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Decision:
    kind: str | None  # None, "drop", or a status code as text
    delay: float
    retry_after: str | None = None


def _draws(spec: FaultSpec, token: str, target: str, attempt: int) -> tuple[float, ...]:
    digest = hashlib.blake2b(
        f"{spec.seed}\x00{token}\x00{target}\x00{attempt}".encode(), digest_size=24
    ).digest()
    return tuple(int.from_bytes(digest[i : i + 8], "big") / 2**64 for i in (0, 8, 16))


def decide(spec: FaultSpec, token: str, target: str, attempt: int) -> Decision:
    """The fate of one request (``target`` is path + query, ``attempt`` from 0)."""
    kind_draw, slow_draw, malformed_draw = _draws(spec, token, target, attempt)
    delay = spec.latency + (spec.slow_seconds if slow_draw < spec.slow_share else 0.0)
    if attempt >= spec.streak:
        return Decision(None, delay)
    edge = 0.0
    for kind in ORDER:
        edge += spec.shares.get(kind, 0.0)
        if kind_draw < edge:
            retry_after = None
            if kind == "429":
                retry_after = (
                    MALFORMED_RETRY_AFTER
                    if malformed_draw < spec.malformed_share
                    else str(spec.retry_after)
                )
            elif kind == "423":
                retry_after = str(spec.retry_after)
            return Decision(kind, delay, retry_after)
    return Decision(None, delay)


class Attempts:
    """How many times each (token, path + query) was asked; thread-safe."""

    def __init__(self, limit: int = 1_000_000) -> None:
        self._counts: dict[tuple[str, str], int] = {}
        self._lock = threading.Lock()
        self._limit = limit

    def next(self, token: str, target: str) -> int:
        with self._lock:
            if len(self._counts) >= self._limit:
                self._counts.clear()  # bounded memory on endless benchmark runs
            attempt = self._counts.get((token, target), 0)
            self._counts[(token, target)] = attempt + 1
            return attempt


class RateLimiter:
    """Sliding-window limit per token; rejected requests do not use up the window."""

    def __init__(self, limit: int | None, window: float) -> None:
        self.limit = limit
        self.window = window
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def check(self, token: str, now: float) -> int | None:
        """None when allowed (and counted), else whole seconds until a slot frees up."""
        if self.limit is None:
            return None
        with self._lock:
            hits = self._hits.setdefault(token, deque())
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            if len(hits) < self.limit:
                hits.append(now)
                return None
            return max(1, math.ceil(hits[0] + self.window - now))
