"""What the demo org holds for discovery (rules 14-16), added after the original scenario.

Made from a random source of its own, so the meetings and records of the original demo
(and every figure the tests check against them) stay as they were:

- invitees of every one-off: who it drew; the webinar "Fire Safety Briefing" marks its two
  panelists (``panelist: true``);
- registrants of that webinar's series: its attendees approved, one pending, one rejected,
  and two people who registered, were approved and never came;
- "Anti-Bribery Essentials" (Oct 28, host Sabine Hartmann): ended after 25 minutes by a
  technical problem and started again 5 minutes later, so two instances share one
  ``scheduledMeetingId`` (rule 15); its ten invitees are its roster in the demo config.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from reporting.webex.sandbox.dataset import Json
from reporting.webex.sandbox.generate import Builder, Instance, Person, stamp

BERLIN = ZoneInfo("Europe/Berlin")
SEED = 20261028
RESTARTED_TITLE = "Anti-Bribery Essentials"


def add_discovery(
    meetings: list[Json],
    participants: dict[str, list[Json]],
    people: list[Person],
    host: Person,
) -> tuple[dict[str, list[Json]], dict[str, list[Json]]]:
    """Add the restarted session; return (invitees, registrants) for the dataset."""
    rng = random.Random(SEED)
    b = Builder(rng)
    invitees: dict[str, list[Json]] = {}
    registrants: dict[str, list[Json]] = {}
    by_email = {p.email.lower(): p for p in people if p.email}
    for meeting in list(meetings):
        if meeting["meetingType"] != "meeting" or meeting["meetingSeriesId"] in invitees:
            continue
        series = meeting["meetingSeriesId"]
        if sum(m.get("meetingSeriesId") == series for m in meetings) > 3:
            continue  # the weekly series: its roster is the CSV
        records = participants.get(meeting["id"], [])
        listed: dict[str, Json] = {}
        for record in records:
            email = str(record.get("email") or "").lower()
            if email not in by_email or email in listed or record.get("host"):
                continue
            listed[email] = {
                "email": by_email[email].email,
                "displayName": by_email[email].name,
                "coHost": False,
                "panelist": bool(record.get("_panelist")),
            }
        invitees[series] = sorted(listed.values(), key=lambda i: str(i["email"]))
        if meeting.get("scheduledType") == "webinar":
            registrants[series] = _registrants(rng, meeting, listed, people)
    _restarted(b, meetings, participants, invitees, people, host)
    return invitees, registrants


def _registrants(
    rng: random.Random, meeting: Json, listed: dict[str, Json], people: list[Person]
) -> list[Json]:
    start = datetime.fromisoformat(meeting["start"].replace("Z", "+00:00"))
    attendees = [i for i in listed.values() if not i["panelist"]]
    never_came = [p for p in people if p.email and p.email.lower() not in listed][:4]
    rows: list[tuple[str, str, str]] = [
        (str(i["email"]), str(i["displayName"]), "approved") for i in attendees
    ]
    statuses = ("approved", "approved", "pending", "rejected")
    rows += [(str(p.email), p.name, s) for p, s in zip(never_came, statuses, strict=True)]
    out = []
    for number, (email, name, status) in enumerate(rows):
        first, _, last = name.partition(" ")
        out.append(
            {
                "id": f"reg-{number:04d}-{meeting['meetingSeriesId'][:8]}",
                "status": status,
                "firstName": first,
                "lastName": last,
                "email": email,
                "registrationTime": stamp(start - timedelta(days=rng.randrange(2, 21))),
                "sourceId": "intranet",
                "registrationId": str(410000 + number),
            }
        )
    return out


def _restarted(
    b: Builder,
    meetings: list[Json],
    participants: dict[str, list[Json]],
    invitees: dict[str, list[Json]],
    people: list[Person],
    host: Person,
) -> None:
    start = datetime(2026, 10, 28, 11, 0, tzinfo=BERLIN)
    made, (first,) = b.series(RESTARTED_TITLE, host, start, 60, 1)
    series_id = made[0]["id"]
    cut = first.start + timedelta(minutes=25)
    end = first.end
    first.meeting["end"] = stamp(cut)
    first = Instance(first.meeting, first.start, cut, [])
    again_start = cut + timedelta(minutes=5)
    second_meeting = dict(first.meeting)
    second_meeting["id"] = f"{series_id}_I_{b.rng.randrange(10**17, 10**18)}"
    second_meeting["start"] = stamp(again_start)
    second_meeting["end"] = stamp(end)
    second = Instance(second_meeting, again_start, end, [])
    meetings += [*made, second_meeting]
    crowd = [p for p in people if p.email][2:12]
    invitees[series_id] = [
        {"email": p.email, "displayName": p.name, "coHost": False, "panelist": False}
        for p in sorted(crowd, key=lambda p: str(p.email))
    ]
    one: list[Json] = b.behave(first, host, "full", host=True)
    two: list[Json] = b.behave(second, host, "full", host=True)
    for number, person in enumerate(crowd):
        if number in (8, 9):
            continue  # invited, never came
        if number != 6:  # joined only after the restart
            one += b.behave(first, person, "full")
        if number != 7:  # left for good when the session broke off
            two += b.behave(second, person, "late" if number == 5 else "full")
    participants[first.meeting["id"]] = one
    participants[second_meeting["id"]] = two
