"""The sandbox's API rules, error codes and faults, in process (starlette TestClient)."""

from __future__ import annotations

import copy
import re
from typing import Any

import httpx
import pytest

from reporting.webex.sandbox import DatasetError, FaultSpecError, parse_faults
from reporting.webex.sandbox.dataset import build_index
from reporting.webex.sandbox.faults import MALFORMED_RETRY_AFTER, decide
from tests.sandbox_fixtures import (
    DEMO_SERIES,
    auth,
    client,
    demo,
    error_shape,
    generated,
    validate,
)

ADMIN, COMPLIANCE, HOST, HOST2 = (
    "demo-admin-token",
    "demo-compliance-token",
    "demo-host-token",
    "demo-host2-token",
)
LINK = re.compile(r'^<(http://testserver/v1/[^>]+)>; rel="next"$')


def instances(data: dict[str, Any], series: str = DEMO_SERIES) -> list[dict[str, Any]]:
    return sorted(
        (
            m
            for m in data["meetings"]
            if m["meetingType"] == "meeting" and m["meetingSeriesId"] == series
        ),
        key=lambda m: m["start"],
    )


def all_pages(c: Any, path: str, params: dict[str, Any], headers: dict[str, str]) -> list[Any]:
    response = c.get(path, params=params, headers=headers)
    items: list[Any] = []
    while True:
        assert response.status_code == 200, response.text
        validate(response)
        items += response.json()["items"]
        link = response.headers.get("link")
        if not link:
            return items
        match = LINK.match(link)
        assert match, link
        response = c.get(match.group(1), headers=headers)


@pytest.fixture(scope="module")
def demo_client() -> Any:
    return client(demo())


# -- meetingParticipants: parameters ---------------------------------------------------------


def test_meeting_id_is_required_and_unknown_is_404(demo_client: Any) -> None:
    body = error_shape(demo_client.get("/meetingParticipants", headers=auth(ADMIN)), 400)
    assert "meetingId" in body["errors"][0]["description"]
    error_shape(
        demo_client.get(
            "/meetingParticipants", params={"meetingId": "0" * 32}, headers=auth(ADMIN)
        ),
        404,
    )


def test_max_defaults_to_10_clamps_to_100_and_rejects_garbage() -> None:
    data = generated(6, 130, 5)
    c = client(data)
    inst = next(iter(data["participants"]))
    r = c.get(
        "/meetingParticipants", params={"meetingId": inst}, headers=auth("sandbox-admin-token")
    )
    assert len(r.json()["items"]) == 10 and "link" in r.headers
    r = c.get(
        "/meetingParticipants",
        params={"meetingId": inst, "max": 1000},
        headers=auth("sandbox-admin-token"),
    )
    assert len(r.json()["items"]) == 100
    for bad in ("0", "ten", "-3"):
        error_shape(
            c.get(
                "/meetingParticipants",
                params={"meetingId": inst, "max": bad},
                headers=auth("sandbox-admin-token"),
            ),
            400,
        )


def test_series_id_gives_last_instance_and_range_gives_last_in_range(demo_client: Any) -> None:
    inst = instances(demo())
    r = demo_client.get(
        "/meetingParticipants", params={"meetingId": DEMO_SERIES, "max": 100}, headers=auth(ADMIN)
    )
    assert {p["meetingId"] for p in r.json()["items"]} == {inst[-1]["id"]}
    r = demo_client.get(
        "/meetingParticipants",
        headers=auth(ADMIN),
        params={
            "meetingId": DEMO_SERIES,
            "meetingStartTimeFrom": "2026-10-01T00:00:00Z",
            "meetingStartTimeTo": "2026-10-14T00:00:00Z",
        },
    )
    assert {p["meetingId"] for p in r.json()["items"]} == {inst[1]["id"]}
    # Only `to`: from = to − 1 month, so September's start still counts.
    r = demo_client.get(
        "/meetingParticipants",
        headers=auth(ADMIN),
        params={"meetingId": DEMO_SERIES, "meetingStartTimeTo": "2026-10-07T00:00:00Z"},
    )
    assert {p["meetingId"] for p in r.json()["items"]} == {inst[0]["id"]}
    # Both bounds are exclusive: a range ending at the first start is empty → 404.
    error_shape(
        demo_client.get(
            "/meetingParticipants",
            headers=auth(ADMIN),
            params={
                "meetingId": DEMO_SERIES,
                "meetingStartTimeFrom": "2026-09-01T00:00:00Z",
                "meetingStartTimeTo": inst[0]["start"],
            },
        ),
        404,
    )


def test_scheduled_meeting_id_and_instance_id(demo_client: Any) -> None:
    inst = instances(demo())[2]
    r = demo_client.get(
        "/meetingParticipants",
        headers=auth(ADMIN),
        params={"meetingId": inst["scheduledMeetingId"]},
    )
    assert {p["meetingId"] for p in r.json()["items"]} == {inst["id"]}
    # meetingStartTime* do not apply to an instance id.
    r = demo_client.get(
        "/meetingParticipants",
        headers=auth(ADMIN),
        params={"meetingId": inst["id"], "meetingStartTimeFrom": "2030-01-01T00:00:00Z"},
    )
    assert r.status_code == 200 and {p["meetingId"] for p in r.json()["items"]} == {inst["id"]}


def test_join_time_filters(demo_client: Any) -> None:
    inst = instances(demo())[0]
    everyone = all_pages(
        demo_client, "/meetingParticipants", {"meetingId": inst["id"], "max": 100}, auth(ADMIN)
    )
    joins = sorted(p["joinedTime"] for p in everyone)
    cut = joins[len(joins) // 2]
    later = all_pages(
        demo_client,
        "/meetingParticipants",
        {"meetingId": inst["id"], "max": 100, "joinTimeFrom": cut},
        auth(ADMIN),
    )
    assert sorted(p["joinedTime"] for p in later) == [j for j in joins if j >= cut]
    earlier = all_pages(
        demo_client,
        "/meetingParticipants",
        {"meetingId": inst["id"], "max": 100, "joinTimeTo": cut},
        auth(ADMIN),
    )
    assert sorted(p["joinedTime"] for p in earlier) == [j for j in joins if j < cut]
    # joinTimeTo alone → from = to − 7 days: nothing from a week before.
    r = demo_client.get(
        "/meetingParticipants",
        headers=auth(ADMIN),
        params={"meetingId": inst["id"], "joinTimeTo": "2026-10-20T00:00:00Z"},
    )
    assert r.json()["items"] == []
    body = error_shape(
        demo_client.get(
            "/meetingParticipants",
            headers=auth(ADMIN),
            params={
                "meetingId": inst["id"],
                "joinTimeFrom": "2026-01-01T00:00:00Z",
                "joinTimeTo": "2026-04-02T00:00:00Z",
            },
        ),
        400,
    )
    assert "90 days" in body["errors"][0]["description"]
    error_shape(
        demo_client.get(
            "/meetingParticipants",
            headers=auth(ADMIN),
            params={"meetingId": inst["id"], "joinTimeFrom": "yesterday"},
        ),
        400,
    )


def test_timezone_header_renders_offsets_and_rejects_unknown(demo_client: Any) -> None:
    inst = instances(demo())
    utc = demo_client.get(
        "/meetingParticipants", params={"meetingId": inst[0]["id"]}, headers=auth(ADMIN)
    ).json()["items"][0]
    berlin = demo_client.get(
        "/meetingParticipants",
        params={"meetingId": inst[0]["id"]},
        headers=auth(ADMIN, timezone="Europe/Berlin"),
    ).json()["items"][0]
    assert utc["joinedTime"].endswith("Z") and berlin["joinedTime"].endswith("+02:00")
    assert berlin["devices"][0]["joinedTime"].endswith(".000+02:00")
    october_27 = demo_client.get(
        "/meetingParticipants",
        params={"meetingId": inst[3]["id"]},
        headers=auth(ADMIN, timezone="Europe/Berlin"),
    ).json()
    assert october_27["items"][0]["joinedTime"].endswith("+01:00")  # after the DST switch
    error_shape(
        demo_client.get(
            "/meetingParticipants",
            params={"meetingId": inst[0]["id"]},
            headers=auth(ADMIN, timezone="Mars/Olympus"),
        ),
        400,
    )
    error_shape(
        demo_client.get(
            "/meetings/" + DEMO_SERIES, headers=auth(ADMIN, timezone="../../etc/passwd")
        ),
        400,
    )


def test_breakout_filter_only_on_ended(demo_client: Any) -> None:
    inst = instances(demo())[0]
    records = demo()["participants"][inst["id"]]
    room = next(b["id"] for p in records for b in p.get("breakoutSessionsAttended", []))
    expected = {
        p["id"]
        for p in records
        if any(b["id"] == room for b in p.get("breakoutSessionsAttended", []))
    }
    got = all_pages(
        demo_client,
        "/meetingParticipants",
        {"meetingId": inst["id"], "breakoutSessionId": room},
        auth(ADMIN),
    )
    assert {p["id"] for p in got} == expected
    data = generated()
    live = next(m for m in data["meetings"] if m.get("state") == "inProgress")
    error_shape(
        client(data).get(
            "/meetingParticipants",
            headers=auth("sandbox-admin-token"),
            params={"meetingId": live["id"], "breakoutSessionId": room},
        ),
        400,
    )


def test_in_progress_meeting_shape() -> None:
    data = generated()
    live = next(m for m in data["meetings"] if m.get("state") == "inProgress")
    items = all_pages(
        client(data),
        "/meetingParticipants",
        {"meetingId": live["id"], "max": 100},
        auth("sandbox-compliance-token"),
    )
    assert items
    for p in items:
        assert p["orgId"] and p["state"] in ("joined", "lobby", "breakoutSession")
        assert p["leftTime"] == "1970-01-01T00:00:00.000Z"
        assert "breakoutSessionsAttended" not in p
        assert all("phoneNumber" not in d for d in p["devices"])
    assert any(d["joinedTime"].startswith("1970") for p in items for d in p["devices"])


def test_phone_numbers_only_for_compliance_after_the_end(demo_client: Any) -> None:
    inst = instances(demo())[0]["id"]

    def phones(token: str) -> list[str]:
        items = all_pages(
            demo_client, "/meetingParticipants", {"meetingId": inst, "max": 100}, auth(token)
        )
        assert all("orgId" not in p for p in items)
        return [d["phoneNumber"] for p in items for d in p["devices"] if "phoneNumber" in d]

    assert phones(COMPLIANCE)
    assert phones(ADMIN) == [] and phones(HOST) == []


def test_webinar_in_progress_shows_panelists_and_unmuted_only() -> None:
    data = copy.deepcopy(demo())
    webinar = next(
        m
        for m in data["meetings"]
        if m["meetingType"] == "meeting" and m["scheduledType"] == "webinar"
    )
    records = data["participants"][webinar["id"]]
    ended = all_pages(
        client(data), "/meetingParticipants", {"meetingId": webinar["id"], "max": 100}, auth(ADMIN)
    )
    assert len(ended) == len(records)
    webinar["state"] = "inProgress"
    for p in records:
        p["state"] = "joined"
    live = all_pages(
        client(data), "/meetingParticipants", {"meetingId": webinar["id"], "max": 100}, auth(ADMIN)
    )
    expected = {p["id"] for p in records if p.get("_panelist") or p.get("_unmuted")}
    assert {p["id"] for p in live} == expected and 0 < len(expected) < len(records)
    assert all(not k.startswith("_") for p in live + ended for k in p)


def test_personal_room_series_is_refused() -> None:
    data = generated()
    room = next(
        m
        for m in data["meetings"]
        if m["meetingType"] == "meetingSeries" and m["scheduledType"] == "personalRoomMeeting"
    )
    body = error_shape(
        client(data).get(
            "/meetingParticipants",
            params={"meetingId": room["id"]},
            headers=auth("sandbox-admin-token"),
        ),
        400,
    )
    assert "personal room" in body["errors"][0]["description"]


# -- authorisation ---------------------------------------------------------------------------


def test_authorisation(demo_client: Any) -> None:
    params = {"meetingId": DEMO_SERIES}
    error_shape(demo_client.get("/meetingParticipants", params=params), 401)
    error_shape(
        demo_client.get("/meetingParticipants", params=params, headers=auth("not-a-token")), 401
    )
    error_shape(
        demo_client.get(
            "/meetingParticipants", params=params, headers={"Authorization": "Basic abc"}
        ),
        401,
    )
    assert demo_client.get("/meetingParticipants", params=params, headers=auth(HOST)).is_success
    error_shape(demo_client.get("/meetingParticipants", params=params, headers=auth(HOST2)), 403)
    error_shape(demo_client.get("/meetings/" + DEMO_SERIES, headers=auth(HOST2)), 403)
    error_shape(
        demo_client.get(
            "/meetingParticipants",
            headers=auth(HOST),
            params={**params, "hostEmail": "markus.braun@example.com"},
        ),
        403,
    )
    ok = demo_client.get(
        "/meetingParticipants",
        headers=auth(ADMIN),
        params={**params, "hostEmail": "Sabine.Hartmann@example.com"},
    )
    assert ok.is_success
    error_shape(
        demo_client.get(
            "/meetingParticipants",
            headers=auth(ADMIN),
            params={**params, "hostEmail": "markus.braun@example.com"},
        ),
        404,
    )
    # A host lists only its own meetings.
    r = demo_client.get(
        "/meetings",
        headers=auth(HOST2),
        params={"meetingType": "meeting", "from": "2026-10-01", "to": "2026-11-01", "max": 100},
    )
    assert {m["hostEmail"] for m in r.json()["items"]} == {"markus.braun@example.com"}


def test_tokens_added_at_runtime() -> None:
    c = client(demo())
    assert c.get("/meetings", headers=auth("late-token")).status_code == 401
    c.app.add_token("late-token", "host:sabine.hartmann@example.com")  # type: ignore[attr-defined]
    assert c.get("/meetings", headers=auth("late-token")).status_code == 200
    with pytest.raises(DatasetError):
        c.app.add_token("t", "superuser")  # type: ignore[attr-defined]


# -- pagination ------------------------------------------------------------------------------


def test_pagination_returns_everyone_once_and_is_stateless() -> None:
    data = generated(6, 130, 5)
    c = client(data)
    inst = next(iter(data["participants"]))
    expected = sorted(p["id"] for p in data["participants"][inst])
    headers = auth("sandbox-admin-token")
    first = c.get("/meetingParticipants", params={"meetingId": inst, "max": 7}, headers=headers)
    links = [LINK.match(first.headers["link"]).group(1)]  # type: ignore[union-attr]
    # Interleave another client's walk: a cursor depends on nothing but its own text.
    other = all_pages(client(data), "/meetingParticipants", {"meetingId": inst, "max": 50}, headers)
    seen = [p["id"] for p in first.json()["items"]]
    while links:
        r = c.get(links.pop(), headers=headers)
        seen += [p["id"] for p in r.json()["items"]]
        if "link" in r.headers:
            links.append(LINK.match(r.headers["link"]).group(1))  # type: ignore[union-attr]
    assert sorted(seen) == expected == sorted(p["id"] for p in other)
    assert "cursor=" in first.headers["link"] and "max=7" in first.headers["link"]
    error_shape(
        c.get(
            "/meetingParticipants", headers=headers, params={"meetingId": inst, "cursor": "bm9wZQ"}
        ),
        400,
    )


# -- meetings ----------------------------------------------------------------------------------


def test_list_meetings_expands_a_series(demo_client: Any) -> None:
    expected = [m["id"] for m in instances(demo())]
    got = all_pages(
        demo_client,
        "/meetings",
        {
            "meetingSeriesId": DEMO_SERIES,
            "meetingType": "meeting",
            "state": "ended",
            "from": "2026-10-01T00:00:00+02:00",
            "to": "2026-11-01T00:00:00+01:00",
            "max": 3,
        },
        auth(ADMIN),
    )
    assert [m["id"] for m in got] == expected
    # Defaults for meetingType=meeting: the 7 days before now (2026-11-02T09:00Z).
    recent = all_pages(
        demo_client,
        "/meetings",
        {"meetingSeriesId": DEMO_SERIES, "meetingType": "meeting"},
        auth(ADMIN),
    )
    assert [m["id"] for m in recent] == expected[-1:]
    occurrences = all_pages(
        demo_client,
        "/meetings",
        {
            "meetingSeriesId": DEMO_SERIES,
            "meetingType": "scheduledMeeting",
            "from": "2026-10-01",
            "to": "2026-12-01",
        },
        auth(ADMIN),
    )
    assert len(occurrences) == 5
    error_shape(
        demo_client.get(
            "/meetings",
            headers=auth(ADMIN),
            params={"from": "2026-11-01", "to": "2026-10-01", "meetingType": "meeting"},
        ),
        400,
    )
    error_shape(
        demo_client.get("/meetings", headers=auth(ADMIN), params={"meetingType": "party"}), 400
    )
    error_shape(
        demo_client.get("/meetings", headers=auth(ADMIN), params={"meetingSeriesId": "f" * 32}), 404
    )


def test_get_meeting_for_each_kind(demo_client: Any) -> None:
    inst = instances(demo())[0]
    for meeting_id, kind in (
        (DEMO_SERIES, "meetingSeries"),
        (inst["scheduledMeetingId"], "scheduledMeeting"),
        (inst["id"], "meeting"),
    ):
        r = demo_client.get(
            "/meetings/" + meeting_id, headers=auth(HOST, timezone="America/New_York")
        )
        validate(r)
        assert r.json()["meetingType"] == kind and r.json()["start"].endswith("-04:00")
    error_shape(demo_client.get("/meetings/nope", headers=auth(ADMIN)), 404)
    participant = demo()["participants"][inst["id"]][0]
    r = demo_client.get("/meetingParticipants/" + participant["id"], headers=auth(COMPLIANCE))
    validate(r)
    assert r.json()["id"] == participant["id"]
    error_shape(demo_client.post("/meetings", headers=auth(ADMIN)), 405)
    error_shape(demo_client.get("/people/me", headers=auth(ADMIN)), 404)


# -- OpenAPI conformance ----------------------------------------------------------------------


@pytest.mark.parametrize("token", ["sandbox-compliance-token", "sandbox-admin-token"])
def test_every_response_matches_the_openapi_subset(token: str) -> None:
    data = generated()
    c = client(data)
    zone = "Asia/Kolkata" if token.startswith("sandbox-admin") else "UTC"
    for instance_id in data["participants"]:
        items = all_pages(
            c,
            "/meetingParticipants",
            {"meetingId": instance_id, "max": 100},
            auth(token, timezone=zone),
        )
        assert len(items) == len(data["participants"][instance_id])
    all_pages(
        c,
        "/meetings",
        {"meetingType": "meeting", "from": "2026-01-01", "to": "2027-12-01", "max": 100},
        auth(token, timezone=zone),
    )
    for meeting in data["meetings"][:20]:
        validate(c.get("/meetings/" + meeting["id"], headers=auth(token, timezone=zone)))


# -- faults ------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["429", "423", "500", "502", "503", "504"])
def test_each_status_fault(kind: str) -> None:
    c = client(demo(), f"seed=1,{kind}=100%,retry_after=7,streak=2")
    params = {"meetingId": DEMO_SERIES}
    for _ in range(2):
        r = c.get("/meetingParticipants", params=params, headers=auth(ADMIN))
        error_shape(r, int(kind))
        if kind in ("429", "423"):
            assert r.headers["retry-after"] == "7"
    # After `streak` faults the same request gets through.
    assert c.get("/meetingParticipants", params=params, headers=auth(ADMIN)).status_code == 200


def test_malformed_retry_after_and_drop_in_process() -> None:
    c = client(demo(), "429=100%,malformed_retry_after=100%")
    r = c.get("/meetings", headers=auth(ADMIN))
    assert r.status_code == 429 and r.headers["retry-after"] == MALFORMED_RETRY_AFTER
    c = client(demo(), "drop=100%,streak=1")
    with pytest.raises(httpx.RemoteProtocolError):
        c.get("/meetings", headers=auth(ADMIN))
    assert c.get("/meetings", headers=auth(ADMIN)).status_code == 200


def test_fault_decisions_are_deterministic_and_retries_recover() -> None:
    spec = parse_faults("seed=7,429=20%,503=20%,drop=10%,streak=3")
    fates = [decide(spec, "tok", f"/v1/meetings?n={n}", 0).kind for n in range(2000)]
    assert fates == [decide(spec, "tok", f"/v1/meetings?n={n}", 0).kind for n in range(2000)]
    share = sum(f is not None for f in fates) / len(fates)
    assert 0.45 < share < 0.55
    assert all(decide(spec, "tok", f"/x?{n}", 3).kind is None for n in range(500))
    other_seed = parse_faults("seed=8,429=20%,503=20%,drop=10%")
    assert fates != [decide(other_seed, "tok", f"/v1/meetings?n={n}", 0).kind for n in range(2000)]


def test_latency_and_slow_are_added() -> None:
    spec = parse_faults("latency=50ms,slow=100%:2s")
    assert decide(spec, "t", "/x", 0).delay == pytest.approx(2.05)
    c = client(demo(), "latency=30ms")
    r = c.get("/meetings/" + DEMO_SERIES, headers=auth(ADMIN))
    assert r.status_code == 200 and r.elapsed.total_seconds() >= 0.03


def test_rate_limit_is_a_per_token_sliding_window() -> None:
    now = [1000.0]
    c = client(demo(), "rate=3/min", clock=lambda: now[0])
    for _ in range(3):
        assert c.get("/meetings", headers=auth(ADMIN)).status_code == 200
        now[0] += 10
    r = c.get("/meetings", headers=auth(ADMIN))
    error_shape(r, 429)
    assert r.headers["retry-after"] == "30"  # the first hit leaves the window at t=1060
    assert c.get("/meetings", headers=auth(COMPLIANCE)).status_code == 200
    now[0] = 1060.5
    assert c.get("/meetings", headers=auth(ADMIN)).status_code == 200
    assert parse_faults(None).rate_limit == 300


@pytest.mark.parametrize(
    "spec", ["429=5", "bogus=1", "rate=fast", "429=80%,503=30%", "latency=soon", "seed=x", "nokey"]
)
def test_bad_fault_specs(spec: str) -> None:
    with pytest.raises(FaultSpecError):
        parse_faults(spec)


def test_dataset_faults_key_is_used() -> None:
    data = copy.deepcopy(demo())
    data["faults"] = "503=100%"
    assert client(data).get("/meetings", headers=auth(ADMIN)).status_code == 503


@pytest.mark.parametrize(
    "broken",
    [
        {"meetings": {}},
        {"tokens": {"t": "root"}},
        {"meetings": [{"id": "x"}]},
        {"participants": {"nope": []}},
        {"extra": 1},
        {"now": "soon"},
    ],
)
def test_bad_datasets(broken: dict[str, Any]) -> None:
    with pytest.raises(DatasetError):
        build_index(broken)
