"""The sandbox on a real uvicorn socket: SandboxServer, third-party client, drops, generator."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from reporting.webex.sandbox import (
    SandboxServer,
    default_dataset_path,
    generate_dataset,
    load_dataset,
    save_dataset,
)
from reporting.webex.sandbox.generate import HOSTILE_NAMES
from tests.sandbox_fixtures import DEMO_SERIES


@pytest.fixture(scope="module")
def big() -> dict[str, Any]:
    return generate_dataset(5, 250, 11)


def test_wxc_sdk_lists_a_250_person_meeting_across_pages(big: dict[str, Any]) -> None:
    from wxc_sdk import WebexSimpleApi

    instance_id = next(
        m["id"] for m in big["meetings"] if m["meetingType"] == "meeting" and m["state"] == "ended"
    )
    expected = big["participants"][instance_id]
    assert len({p.get("email") or p["displayName"] for p in expected}) >= 240
    with SandboxServer(big, faults="rate=off") as server:
        server.add_token("wxc-token", "admin")
        api = WebexSimpleApi(tokens="wxc-token")
        api.session.BASE = server.base_url  # type: ignore[misc]
        got = list(api.meetings.participants.list_participants(meeting_id=instance_id, max=100))
        api.close()
    assert sorted(p.id for p in got) == sorted(p["id"] for p in expected)
    assert {p.email for p in got} == {p.get("email") for p in expected}


def test_sandbox_server_answers_drops_and_stops(tmp_path: Path) -> None:
    path = tmp_path / "demo.json"
    save_dataset(load_dataset(default_dataset_path()), path)
    headers = {"Authorization": "Bearer demo-admin-token"}
    with SandboxServer(path, faults="drop=100%,streak=1") as server:
        assert server.base_url.startswith("http://127.0.0.1:") and server.base_url.endswith("/v1")
        url = f"{server.base_url}/meetings/{DEMO_SERIES}"
        with httpx.Client() as c:
            with pytest.raises(httpx.RemoteProtocolError):
                c.get(url, headers=headers)
            r = c.get(url, headers=headers)  # the retry gets through
            assert r.status_code == 200 and r.headers["trackingid"].startswith("SANDBOX_")
            params = {"meetingId": DEMO_SERIES, "max": 5}
            with pytest.raises(httpx.RemoteProtocolError):  # every new request drops once
                c.get(f"{server.base_url}/meetingParticipants", headers=headers, params=params)
            r = c.get(f"{server.base_url}/meetingParticipants", headers=headers, params=params)
            assert r.headers["link"].startswith(f"<{server.base_url}/meetingParticipants?")
        port = server.port
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/v1/meetings", headers=headers, timeout=2)


def test_generated_dataset_has_the_hard_cases() -> None:
    started = time.perf_counter()
    data = generate_dataset(40, 120, 1)
    assert time.perf_counter() - started < 10
    assert generate_dataset(40, 120, 1) == data  # deterministic
    records = [p for items in data["participants"].values() for p in items]
    names = {p["displayName"] for p in records}
    assert set(HOSTILE_NAMES) <= names
    devices = [d for p in records for d in p["devices"]]
    assert {d.get("callType") for d in devices} >= {"callIn", "callBack"}
    assert any(len(p["devices"]) > 1 for p in records)
    assert any(p["state"] == "lobby" for p in records)
    assert any(p.get("breakoutSessionsAttended") for p in records)
    assert any(p["coHost"] for p in records) and any(p["host"] for p in records)
    assert any(p.get("email", "").lower() != p.get("email", "") for p in records)
    per_meeting = [
        len({p.get("email") or p["displayName"] for p in items})
        for items in data["participants"].values()
    ]
    assert min(per_meeting) >= 100
    kinds = {(m["meetingType"], m["scheduledType"], m.get("state")) for m in data["meetings"]}
    assert ("meeting", "webinar", "ended") in kinds
    assert any(k[2] == "inProgress" for k in kinds)
    assert any(k[1] == "personalRoomMeeting" for k in kinds)
    json.dumps(data)  # serialisable as is


def test_demo_dataset_is_reproducible() -> None:
    from reporting.webex.sandbox.demo import build_demo

    on_disk = json.loads(default_dataset_path().read_text(encoding="utf-8"))
    assert build_demo()[0] == on_disk
