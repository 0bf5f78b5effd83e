"""The demo org: October 2026 in Europe/Berlin, built deterministically.

`build_demo()` returns ``(dataset, roster_rows)``; ``samples/make_demo_dataset.py`` writes
them to ``samples/demo-dataset.json`` and ``samples/roster.csv``. The shape:

- a weekly series "Security Awareness Training" (host Sabine Hartmann, co-host Tobias
  Krüger), Tuesdays 10:00 Berlin: four instances on Oct 6, 13, 20 and 27 (the last after
  the switch to CET, so its UTC time moves) and a scheduled Nov 3 occurrence that has not
  happened yet; breakouts enabled;
- three one-offs: "Data Protection Basics" (Oct 8), "Fire Safety Briefing" (a webinar,
  Oct 15, another host), "First Aid Refresher" (Oct 21).

Scripted on top of seeded randomness: laptop + phone at once, PSTN call-in and call-back,
rejoins with gaps, breakouts, a lobby-only guest, late joiners and early leavers, one
person whose email arrives mixed-case (``Lena.Fischer@Example.com``), one who joins under a
roster alias, two roster people who never join, and one instance (Oct 20) where a device's
``durationSecond`` disagrees with its timestamps by ten minutes. Invitees, registrants and
a restarted session are added by `demo_discovery`.
"""

from __future__ import annotations

import random
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from reporting.webex.sandbox.dataset import Dataset, Json
from reporting.webex.sandbox.demo_discovery import add_discovery
from reporting.webex.sandbox.generate import Builder, Instance, Person, stamp

BERLIN = ZoneInfo("Europe/Berlin")
SEED = 20261001
NOW = "2026-11-02T09:00:00Z"
TOKENS = {
    "demo-admin-token": "admin",
    "demo-compliance-token": "compliance",
    "demo-host-token": "host:sabine.hartmann@example.com",
    "demo-host2-token": "host:markus.braun@example.com",
}
ROSTER: tuple[tuple[str, str, str], ...] = (
    ("anna.schmidt@example.com", "Anna Schmidt", "Finance"),
    ("ben.mueller@example.com", "Ben Müller", "Finance"),
    ("clara.weiss@example.com", "Clara Weiß", "Sales"),
    ("david.koch@example.com", "David Koch", "Sales"),
    ("elif.yilmaz@example.com", "Elif Yılmaz", "Engineering"),
    ("felix.wagner@example.com", "Felix Wagner", "Engineering"),
    ("greta.becker@example.com", "Greta Becker", "Engineering"),
    ("hannes.richter@example.com", "Hannes Richter", "Operations"),
    ("ines.klein@example.com", "Ines Klein", "Operations"),
    ("jonas.weber@example.com", "Jonas Weber", "Logistics"),
    ("katrin.wolf@example.com", "Katrin Wolf", "Logistics"),
    ("lena.fischer@example.com", "Lena Fischer", "HR"),
    ("lukas.neumann@example.com", "Lukas Neumann", "HR"),
    ("mara.schwarz@example.com", "Mara Schwarz", "Legal"),
    ("niklas.zimmermann@example.com", "Niklas Zimmermann", "Legal"),
    ("olga.nowak@example.com", "Olga Nowak", "Customer Care"),
    ("paul.lange@example.com", "Paul Lange", "Customer Care"),
    ("rania.haddad@example.com", "Rania Haddad", "Procurement"),
    ("simon.braun@example.com", "Simon Braun", "Procurement"),
    ("tanja.hartmann@example.com", "Tanja Hartmann", "IT Security"),
)
NEVER_JOIN = {"simon.braun@example.com", "tanja.hartmann@example.com"}
ALIAS = ("jonas.weber@example.com", "j.weber@partner-mail.example")
MIXED_CASE = ("lena.fischer@example.com", "Lena.Fischer@Example.com")
HOST = Person("sabine.hartmann@example.com", "Sabine Hartmann", "+49 30 5550100")
COHOST = Person("tobias.krueger@example.com", "Tobias Krüger", "+49 30 5550101")
HOST2 = Person("markus.braun@example.com", "Markus Braun", "+49 30 5550102")
GUESTS = (
    Person("guest.auditor@partner.example.org", "Gast Auditor", "+49 69 5550177"),
    Person("m.dubois@partner.example.org", "Marie Dubois", "+33 1 5550 1234"),
    Person(None, "+49 30 5550199", "+49 30 5550199"),
)
LOBBY_GUEST = Person("visitor@unknown.example.net", "<b>Visitor</b> =1+1", "+1 (408) 555-0199")

# Per series instance: who has which behaviour beyond "full" (keyed by email local part).
SCRIPT: tuple[dict[str, str], ...] = (
    {
        "anna.schmidt": "dual",
        "ben.mueller": "late",
        "jonas.weber": "alias",
        "david.koch": "callback",
        "katrin.wolf": "rejoin",
        "mara.schwarz": "early",
        "olga.nowak": "absent",
        "greta.becker": "breakout",
        "felix.wagner": "breakout",
    },
    {
        "clara.weiss": "dial_in",
        "hannes.richter": "rejoin",
        "paul.lange": "late",
        "lukas.neumann": "early",
        "rania.haddad": "short",
        "ines.klein": "absent",
        "elif.yilmaz": "dual",
        "niklas.zimmermann": "breakout",
        "lobby": "lobby",
    },
    {
        "anna.schmidt": "rejoin",
        "david.koch": "dual",
        "katrin.wolf": "absent",
        "mara.schwarz": "callback",
        "greta.becker": "late",
        "felix.wagner": "early",
        "olga.nowak": "breakout",
        "mismatch": "ben.mueller",
    },
    {
        "hannes.richter": "dial_in",
        "ines.klein": "late",
        "jonas.weber": "rejoin",
        "lena.fischer": "dual",
        "elif.yilmaz": "absent",
        "paul.lange": "breakout",
        "rania.haddad": "absent",
        "clara.weiss": "early",
    },
)


def _person(email: str, name: str, phone_seed: int) -> Person:
    return Person(email, name, f"+49 89 555{phone_seed:04d}")


def build_demo() -> tuple[Dataset, list[dict[str, str]]]:
    """The demo dataset and the series roster rows (email, name, department, aliases)."""
    rng = random.Random(SEED)
    b = Builder(rng)
    meetings: list[Json] = []
    participants: dict[str, list[Json]] = {}
    roster_people = [_person(e, n, i) for i, (e, n, _) in enumerate(ROSTER)]
    _security_series(b, roster_people, meetings, participants)
    _one_offs(b, rng, roster_people, meetings, participants)
    invitees, registrants = add_discovery(meetings, participants, roster_people, HOST)
    dataset: Dataset = {
        "now": NOW,
        "org": {"orgId": "5b6f7b2e-0c1d-4d5e-9f3a-2b1c0d9e8f7a", "siteUrl": "example.webex.com"},
        "tokens": dict(TOKENS),
        "meetings": meetings,
        "participants": participants,
        "invitees": invitees,
        "registrants": registrants,
    }
    roster = [
        {
            "email": email,
            "name": name,
            "department": dept,
            "aliases": ALIAS[1] if email == ALIAS[0] else "",
        }
        for email, name, dept in ROSTER
    ]
    return dataset, roster


def _security_series(
    b: Builder,
    roster_people: list[Person],
    meetings: list[Json],
    participants: dict[str, list[Json]],
) -> None:
    """The weekly series the demo's story is told in (SCRIPT: who does what which week)."""
    series_meetings, instances = b.series(
        "Security Awareness Training",
        HOST,
        datetime(2026, 10, 6, 10, 0, tzinfo=BERLIN),
        60,
        5,
        happened=[True, True, True, True, False],
        breakouts=True,
    )
    meetings += series_meetings
    for week, inst in enumerate(instances):
        script = SCRIPT[week]
        records = b.behave(inst, HOST, "full", host=True)
        records += b.behave(inst, COHOST, "dual" if week == 0 else "full", cohost=True)
        for person in roster_people:
            records += _roster_person_week(b, inst, person, script)
        guest = GUESTS[week % len(GUESTS)]
        records += b.behave(inst, guest, "dial_in" if guest.email is None else "late")
        if "lobby" in script:
            records += b.behave(inst, LOBBY_GUEST, "lobby")
        if "mismatch" in script:
            _skew_duration(records, f"{script['mismatch']}@example.com")
        participants[inst.meeting["id"]] = records


def _roster_person_week(
    b: Builder, inst: Instance, person: Person, script: dict[str, str]
) -> list[Json]:
    """One roster person's records in one week of the series, as the week's script says."""
    assert person.email is not None
    if person.email in NEVER_JOIN:
        return []
    behaviour = script.get(person.email.split("@")[0], "full")
    if behaviour == "absent":
        return []
    if behaviour == "alias":
        person = Person(ALIAS[1], "J. Weber (extern)", person.phone)
        behaviour = "full"
    if person.email == MIXED_CASE[0]:
        person = Person(MIXED_CASE[1], person.name, person.phone)
    return b.behave(inst, person, behaviour)


def _one_offs(
    b: Builder,
    rng: random.Random,
    roster_people: list[Person],
    meetings: list[Json],
    participants: dict[str, list[Json]],
) -> None:
    """Three single meetings (one a webinar with panelists), each with a random crowd."""
    one_offs: tuple[tuple[str, Person, datetime, int, str], ...] = (
        (
            "Data Protection Basics",
            HOST,
            datetime(2026, 10, 8, 14, 0, tzinfo=BERLIN),
            90,
            "meeting",
        ),
        (
            "Fire Safety Briefing",
            HOST2,
            datetime(2026, 10, 15, 9, 30, tzinfo=BERLIN),
            45,
            "webinar",
        ),
        ("First Aid Refresher", HOST, datetime(2026, 10, 21, 13, 0, tzinfo=BERLIN), 120, "meeting"),
    )
    behaviours = ("full", "full", "full", "late", "early", "dual", "rejoin", "callback")
    for number, (title, host, start, minutes, kind) in enumerate(one_offs):
        ms, (inst,) = b.series(title, host, start, minutes, 1, scheduled_type=kind)
        meetings += ms
        records = b.behave(inst, host, "full", host=True)
        crowd = rng.sample(roster_people[:18], 12 + 2 * number)
        for position, person in enumerate(crowd):
            recs = b.behave(inst, person, rng.choice(behaviours))
            if kind == "webinar":
                for rec in recs:
                    rec["_panelist" if position < 2 else "_unmuted"] = position < 2 or position == 5
            records += recs
        participants[inst.meeting["id"]] = records


def _skew_duration(records: list[Json], email: str) -> None:
    for rec in records:
        if rec.get("email") == email and rec["devices"]:
            rec["devices"][0]["durationSecond"] += 600
            return


def demo_summary(dataset: Dataset) -> dict[str, Any]:
    """Ids a reader of the demo needs (series, instances, one-offs)."""
    series = [m for m in dataset["meetings"] if m["meetingType"] == "meetingSeries"]
    return {
        "series": [(m["id"], m["title"]) for m in series],
        "instances": [
            (m["id"], m["start"]) for m in dataset["meetings"] if m["meetingType"] == "meeting"
        ],
        "start": stamp(datetime(2026, 10, 1, tzinfo=BERLIN)),
    }
