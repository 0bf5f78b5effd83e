"""The sandbox's discovery endpoints: GET /meetingInvitees, GET /meetings/{id}/registrants,
and List Meetings' hostEmail, scheduledType and date-window rules (in process)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.integration.test_sandbox_api import all_pages
from tests.sandbox_fixtures import auth, client, demo, error_shape, generated, validate

ADMIN, COMPLIANCE, HOST, HOST2 = (
    "demo-admin-token",
    "demo-compliance-token",
    "demo-host-token",
    "demo-host2-token",
)
SABINE = "sabine.hartmann@example.com"
MARKUS = "markus.braun@example.com"


def meeting(title: str, kind: str = "meeting") -> dict[str, Any]:
    found = [m for m in demo()["meetings"] if m["title"] == title and m["meetingType"] == kind]
    return sorted(found, key=lambda m: m["start"])[0]


@pytest.fixture(scope="module")
def demo_client() -> Any:
    return client(demo())


# -- GET /meetingInvitees ----------------------------------------------------------------------


def test_invitees_of_series_scheduled_meeting_and_instance(demo_client: Any) -> None:
    webinar = meeting("Fire Safety Briefing")
    expected = sorted(i["email"] for i in demo()["invitees"][webinar["meetingSeriesId"]])
    for meeting_id in (
        webinar["meetingSeriesId"],
        webinar["scheduledMeetingId"],
        webinar["id"],
    ):
        items = all_pages(
            demo_client, "/meetingInvitees", {"meetingId": meeting_id, "max": 5}, auth(ADMIN)
        )
        assert [i["email"] for i in items] == expected  # sorted by email, every page
        assert {i["meetingId"] for i in items} == {meeting_id}
        assert len({i["id"] for i in items}) == len(items)


def test_invitees_panelist_filter(demo_client: Any) -> None:
    webinar = meeting("Fire Safety Briefing")
    every = all_pages(demo_client, "/meetingInvitees", {"meetingId": webinar["id"]}, auth(ADMIN))
    panel = all_pages(
        demo_client,
        "/meetingInvitees",
        {"meetingId": webinar["id"], "panelist": "true"},
        auth(ADMIN),
    )
    others = all_pages(
        demo_client,
        "/meetingInvitees",
        {"meetingId": webinar["id"], "panelist": "false"},
        auth(ADMIN),
    )
    assert len(panel) == 2 and all(i["panelist"] for i in panel)
    assert not any(i["panelist"] for i in others)
    assert sorted(i["email"] for i in panel + others) == [i["email"] for i in every]
    # Not a webinar: the filter is for webinars only and changes nothing.
    plain = meeting("First Aid Refresher")
    all_of_it = all_pages(demo_client, "/meetingInvitees", {"meetingId": plain["id"]}, auth(ADMIN))
    filtered = all_pages(
        demo_client,
        "/meetingInvitees",
        {"meetingId": plain["id"], "panelist": "true"},
        auth(ADMIN),
    )
    assert filtered == all_of_it and all_of_it
    body = error_shape(
        demo_client.get(
            "/meetingInvitees",
            params={"meetingId": webinar["id"], "panelist": "maybe"},
            headers=auth(ADMIN),
        ),
        400,
    )
    assert "panelist" in body["errors"][0]["description"]


def test_invitees_pagination_and_max(demo_client: Any) -> None:
    series = meeting("First Aid Refresher")["meetingSeriesId"]
    first = demo_client.get("/meetingInvitees", params={"meetingId": series}, headers=auth(ADMIN))
    validate(first)
    assert len(first.json()["items"]) == 10  # default max
    assert 'rel="next"' in first.headers["link"]
    every = all_pages(demo_client, "/meetingInvitees", {"meetingId": series, "max": 3}, auth(ADMIN))
    assert len(every) == len(demo()["invitees"][series]) == 16
    big = demo_client.get(
        "/meetingInvitees", params={"meetingId": series, "max": 500}, headers=auth(ADMIN)
    )
    assert len(big.json()["items"]) == 16 and "link" not in big.headers
    error_shape(
        demo_client.get(
            "/meetingInvitees", params={"meetingId": series, "cursor": "bogus"}, headers=auth(ADMIN)
        ),
        400,
    )


def test_invitees_roles_and_errors(demo_client: Any) -> None:
    webinar = meeting("Fire Safety Briefing")  # hosted by Markus Braun
    params = {"meetingId": webinar["id"]}
    validate(demo_client.get("/meetingInvitees", params=params, headers=auth(HOST2)))
    validate(demo_client.get("/meetingInvitees", params=params, headers=auth(COMPLIANCE)))
    error_shape(demo_client.get("/meetingInvitees", params=params, headers=auth(HOST)), 403)
    error_shape(
        demo_client.get(
            "/meetingInvitees", params={**params, "hostEmail": SABINE}, headers=auth(HOST2)
        ),
        403,
    )
    validate(
        demo_client.get(
            "/meetingInvitees", params={**params, "hostEmail": MARKUS}, headers=auth(ADMIN)
        )
    )
    error_shape(
        demo_client.get(
            "/meetingInvitees", params={**params, "hostEmail": SABINE}, headers=auth(ADMIN)
        ),
        404,
    )
    error_shape(demo_client.get("/meetingInvitees", headers=auth(ADMIN)), 400)
    error_shape(
        demo_client.get("/meetingInvitees", params={"meetingId": "0" * 32}, headers=auth(ADMIN)),
        404,
    )
    error_shape(demo_client.get("/meetingInvitees", params=params), 401)


def test_invitees_of_a_personal_room_meeting_are_refused() -> None:
    data = generated()
    room = next(
        m
        for m in data["meetings"]
        if m["meetingType"] == "meetingSeries" and m.get("scheduledType") == "personalRoomMeeting"
    )
    c = client(data)
    error_shape(
        c.get(
            "/meetingInvitees",
            params={"meetingId": room["id"]},
            headers=auth("sandbox-admin-token"),
        ),
        400,
    )


# -- GET /meetings/{id}/registrants -----------------------------------------------------------


def test_registrants_of_a_webinar_series_every_status(demo_client: Any) -> None:
    series = meeting("Fire Safety Briefing")["meetingSeriesId"]
    items = all_pages(demo_client, f"/meetings/{series}/registrants", {"max": 4}, auth(HOST2))
    assert len(items) == len(demo()["registrants"][series])
    assert {i["status"] for i in items} == {"approved", "pending", "rejected"}
    one = items[3]["email"]
    only = all_pages(
        demo_client, f"/meetings/{series}/registrants", {"email": one.upper()}, auth(ADMIN)
    )
    assert [i["email"] for i in only] == [one]
    # A registration window filters; more than 90 days apart is refused.
    none = all_pages(
        demo_client,
        f"/meetings/{series}/registrants",
        {"registrationTimeFrom": "2026-12-01T00:00:00Z"},
        auth(ADMIN),
    )
    assert none == []
    error_shape(
        demo_client.get(
            f"/meetings/{series}/registrants",
            params={"registrationTimeFrom": "2026-01-01", "registrationTimeTo": "2026-12-01"},
            headers=auth(ADMIN),
        ),
        400,
    )


def test_registrants_take_a_series_id_only(demo_client: Any) -> None:
    webinar = meeting("Fire Safety Briefing")
    for wrong in (webinar["id"], webinar["scheduledMeetingId"]):
        body = error_shape(
            demo_client.get(f"/meetings/{wrong}/registrants", headers=auth(ADMIN)), 400
        )
        assert "series" in body["errors"][0]["description"]
    error_shape(demo_client.get(f"/meetings/{'0' * 32}/registrants", headers=auth(ADMIN)), 404)


def test_registrants_roles_host_cohost_and_admin() -> None:
    data = copy.deepcopy(demo())
    series = meeting("Fire Safety Briefing")["meetingSeriesId"]
    # Sabine becomes a co-host of Markus's webinar: she may read its registrants.
    data["invitees"][series].append(
        {"email": SABINE, "displayName": "Sabine Hartmann", "coHost": True, "panelist": False}
    )
    c = client(data)
    path = f"/meetings/{series}/registrants"
    validate(c.get(path, headers=auth(HOST2)))  # the host
    validate(c.get(path, headers=auth(HOST)))  # a co-host
    validate(c.get(path, params={"hostEmail": MARKUS}, headers=auth(ADMIN)))
    error_shape(c.get(path, params={"hostEmail": SABINE}, headers=auth(ADMIN)), 404)
    error_shape(c.get(path, params={"hostEmail": SABINE}, headers=auth(HOST2)), 403)
    plain = client(demo())
    error_shape(plain.get(path, headers=auth(HOST)), 403)  # neither host nor co-host


# -- List Meetings: hostEmail, scheduledType, windows ----------------------------------------------

OCTOBER = {
    "meetingType": "meeting",
    "state": "ended",
    "from": "2026-10-01T00:00:00+02:00",
    "to": "2026-11-01T00:00:00+01:00",
    "max": 100,
}


def test_list_meetings_host_email_includes_meetings_the_host_was_invited_to(
    demo_client: Any,
) -> None:
    sabine = all_pages(demo_client, "/meetings", {**OCTOBER, "hostEmail": SABINE}, auth(ADMIN))
    assert all(m["hostEmail"] == SABINE for m in sabine) and len(sabine) == 8
    attendee = demo()["invitees"][meeting("Fire Safety Briefing")["meetingSeriesId"]][0]
    theirs = all_pages(
        demo_client, "/meetings", {**OCTOBER, "hostEmail": attendee["email"]}, auth(ADMIN)
    )
    assert "Fire Safety Briefing" in {m["title"] for m in theirs}
    assert all(m["hostEmail"] != attendee["email"] for m in theirs)
    # A host token lists its own meetings (and those it is invited to), never another's.
    own = all_pages(demo_client, "/meetings", OCTOBER, auth(HOST2))
    assert {m["title"] for m in own} == {"Fire Safety Briefing"}
    error_shape(
        demo_client.get("/meetings", params={**OCTOBER, "hostEmail": SABINE}, headers=auth(HOST2)),
        403,
    )


def test_list_meetings_scheduled_type(demo_client: Any) -> None:
    webinars = all_pages(
        demo_client, "/meetings", {**OCTOBER, "scheduledType": "webinar"}, auth(ADMIN)
    )
    assert [m["title"] for m in webinars] == ["Fire Safety Briefing"]
    meetings = all_pages(
        demo_client, "/meetings", {**OCTOBER, "scheduledType": "meeting"}, auth(ADMIN)
    )
    every = all_pages(demo_client, "/meetings", OCTOBER, auth(ADMIN))
    assert len(meetings) + len(webinars) == len(every) == 9
    error_shape(
        demo_client.get(
            "/meetings", params={**OCTOBER, "scheduledType": "party"}, headers=auth(ADMIN)
        ),
        400,
    )
    error_shape(
        demo_client.get(
            "/meetings",
            params={**OCTOBER, "scheduledType": "personalRoomMeeting"},
            headers=auth(ADMIN),
        ),
        400,
    )


def test_list_meetings_personal_room_instances_count_as_meetings() -> None:
    data = generated()
    c = client(data)
    room_instances = {
        m["id"]
        for m in data["meetings"]
        if m["meetingType"] == "meeting" and m.get("scheduledType") == "personalRoomMeeting"
    }
    assert room_instances
    window = {**OCTOBER, "from": "2026-01-01", "to": "2027-12-01", "state": "ended"}
    listed = all_pages(
        c, "/meetings", {**window, "scheduledType": "meeting"}, auth("sandbox-admin-token")
    )
    ended_rooms = {
        m["id"] for m in data["meetings"] if m["id"] in room_instances and m["state"] == "ended"
    }
    assert ended_rooms <= {m["id"] for m in listed}
    series = all_pages(
        c,
        "/meetings",
        {"meetingType": "meetingSeries", "from": "2026-01-01", "to": "2027-12-01"},
        auth("sandbox-admin-token"),
    )
    assert not any(m.get("scheduledType") == "personalRoomMeeting" for m in series)


def test_list_meetings_date_window_defaults(demo_client: Any) -> None:
    """meetingType=meeting: from defaults to 7 days before `to` (or now), `to` to 7 days
    after `from` (or now); from inclusive, to exclusive."""
    restarted = sorted(
        (m for m in demo()["meetings"] if m["title"] == "Anti-Bribery Essentials"),
        key=lambda m: m["start"],
    )
    instances = [m for m in restarted if m["meetingType"] == "meeting"]
    base = {"meetingType": "meeting", "max": 100}
    recent = all_pages(demo_client, "/meetings", base, auth(ADMIN))  # now = 2026-11-02 09:00Z
    assert {m["id"] for m in instances} <= {m["id"] for m in recent}
    to_only = all_pages(
        demo_client, "/meetings", {**base, "to": instances[1]["start"]}, auth(ADMIN)
    )
    assert instances[0]["id"] in {m["id"] for m in to_only}
    assert instances[1]["id"] not in {m["id"] for m in to_only}  # `to` is exclusive
    from_only = all_pages(
        demo_client, "/meetings", {**base, "from": instances[1]["start"]}, auth(ADMIN)
    )
    assert [m["id"] for m in from_only] == [instances[1]["id"]]  # `from` is inclusive
    assert instances[0]["scheduledMeetingId"] == instances[1]["scheduledMeetingId"]


# -- OpenAPI conformance of every new 200 -----------------------------------------------------


def test_generated_invitees_and_registrants_match_the_openapi_subset() -> None:
    data = generated()
    c = client(data)
    token = "sandbox-compliance-token"
    listed = 0
    rooms = {m["id"] for m in data["meetings"] if m.get("scheduledType") == "personalRoomMeeting"}
    for meeting_id in data["invitees"]:
        if meeting_id in rooms:
            continue  # a personal room's series id is refused (tested above)
        listed += len(all_pages(c, "/meetingInvitees", {"meetingId": meeting_id}, auth(token)))
    assert listed
    for series in data["registrants"]:
        items = all_pages(c, f"/meetings/{series}/registrants", {"max": 7}, auth(token))
        assert len(items) == len(data["registrants"][series])
    instance = next(m for m in data["meetings"] if m["meetingType"] == "meeting")
    validate(c.get("/meetingInvitees", params={"meetingId": instance["id"]}, headers=auth(token)))
