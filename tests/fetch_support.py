"""Helpers shared by the fetch/store/client tests (no tests here).

`FakeTime` replaces the clock and sleep of the client and limiter so backoff never waits;
`stand_in_config` is a minimal object with the config attributes fetch reads.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import httpx

from reporting.webex.client import WebexClient
from reporting.webex.sandbox import create_app, generate_dataset

SECRET = "tok-SECRET-abc123-never-logged"
SEPTEMBER = (datetime(2026, 9, 1, tzinfo=UTC), datetime(2026, 10, 1, tzinfo=UTC))


@dataclass
class FakeTime:
    now: float = 1000.0
    sleeps: list[float] = field(default_factory=list)

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def stand_in_config(
    entries: list[dict[str, Any]],
    period: tuple[datetime, datetime] = SEPTEMBER,
    host_email: str | None = None,
) -> Any:
    return SimpleNamespace(
        timezone="UTC",
        period=SimpleNamespace(start=period[0], end=period[1], label="2026-09"),
        webex=SimpleNamespace(host_email=host_email),
        meetings=tuple(
            SimpleNamespace(id=e["id"], title=e.get("title"), course=e.get("course"))
            for e in entries
        ),
    )


_DATASETS: dict[tuple[int, int, int], dict[str, Any]] = {}


def dataset(meetings: int = 6, participants: int = 250, seed: int = 5) -> dict[str, Any]:
    key = (meetings, participants, seed)
    if key not in _DATASETS:
        _DATASETS[key] = generate_dataset(meetings, participants, seed)
    return copy.deepcopy(_DATASETS[key])


def sandbox_transport(data: dict[str, Any], faults: str = "rate=off") -> httpx.ASGITransport:
    app = create_app(data, faults)
    app.add_token(SECRET, "compliance")
    return httpx.ASGITransport(app)


def client_for(
    transport: httpx.AsyncBaseTransport, fake: FakeTime | None = None, **kwargs: Any
) -> WebexClient:
    fake = fake or FakeTime()
    args: dict[str, Any] = {
        "requests_per_minute": None,
        "max_concurrency": 4,
        "transport": transport,
        "sleep": fake.sleep,
        "clock": fake.clock,
    }
    args.update(kwargs)
    return WebexClient("http://sandbox.test/v1", SECRET, **args)


def series_ids(data: dict[str, Any]) -> list[str]:
    return [m["id"] for m in data["meetings"] if m["meetingType"] == "meetingSeries"]


def instances_of(data: dict[str, Any], series: str) -> list[dict[str, Any]]:
    return [
        m
        for m in data["meetings"]
        if m["meetingType"] == "meeting" and m.get("meetingSeriesId") == series
    ]
