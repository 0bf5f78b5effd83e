"""The engine agrees with the plain reference implementation on thousands of random meetings.

The generator leans on the awkward cases: overlapping and nested devices, rejoins,
unknown and sentinel times in several spellings, unparseable times, left before joined,
lobby records, breakouts outside the window, in-progress and un-looked-up meetings,
rosters with aliases, and shares such as 87.5 %; and Part two's: roster phones matched in
E.164, reviewers' decisions of every kind and scope, panelist invitees and restarted
sessions (instances sharing a scheduledMeetingId).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from examples_budget import examples
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reporting.attendance import compute
from reporting.columns import ATTENDANCE_CSV_COLUMNS
from reporting.model import Instance, InstanceRecords, Invitee
from reporting.overrides import DECISIONS, Override
from reporting.render.csv import frame_to_csv
from reporting.roster import Roster, RosterEntry
from tests.attendance_reference import (
    Rules,
    Threshold,
    frame_rows,
    reference_attendance_csv,
    reference_compute,
)

T0 = datetime(2026, 10, 5, 9, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Extra:
    """Part two's inputs of a case: reviewers' decisions and the roster phone region."""

    overrides: tuple[Override, ...]
    region: str | None


Case = tuple[list[InstanceRecords], Rules, dict[str, Roster | None], datetime, Extra]
EPOCH_FORMS = [
    "1970-01-01T00:00:00Z",
    "1970-01-01T00:00:00.000Z",
    "1970-01-01T00:00:00+00:00",
    "1970-01-01T01:00:00+01:00",
]
BAD_FORMS = ["garbage", "2026-13-01T00:00:00Z", "2026-02-30T10:00:00Z", 12345]
ZONES = [UTC, timezone(timedelta(hours=2)), timezone(timedelta(hours=-5, minutes=-30))]


def fmt(offset_ms: int, zone: int, style: int) -> str:
    moment = (T0 + timedelta(milliseconds=offset_ms)).astimezone(ZONES[zone])
    text = moment.isoformat(timespec=("seconds", "milliseconds", "microseconds")[style])
    return text.replace("+00:00", "Z") if zone == 0 and style != 2 else text


# Offsets are mostly whole seconds, sometimes with milliseconds, so touching and equal
# ends are frequent and the rounding is exercised.
offsets = st.one_of(
    st.integers(-900, 4500).map(lambda s: s * 1000),
    st.integers(-900_000, 4_500_000),
)


@st.composite
def timestamp(draw: st.DrawFn) -> Any:
    kind = draw(st.sampled_from(["ok"] * 8 + ["none", "missing", "empty", "epoch", "bad"]))
    if kind == "ok":
        return fmt(draw(offsets), draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    if kind == "none":
        return None
    if kind == "missing":
        return _MISSING
    if kind == "empty":
        return draw(st.sampled_from(["", "  "]))
    if kind == "epoch":
        return draw(st.sampled_from(EPOCH_FORMS))
    return draw(st.sampled_from(BAD_FORMS))


_MISSING = object()


def put(target: dict[str, Any], key: str, value: Any) -> None:
    if value is not _MISSING:
        target[key] = value


@st.composite
def device(draw: st.DrawFn) -> dict[str, Any]:
    d: dict[str, Any] = {"correlationId": draw(st.sampled_from(["c1", "c2", "c3"]))}
    put(d, "joinedTime", draw(timestamp()))
    put(d, "leftTime", draw(timestamp()))
    d["durationSecond"] = draw(
        st.one_of(st.none(), st.integers(0, 5400), st.sampled_from([0.5, "60", "x", True]))
    )
    if draw(st.booleans()):
        d["phoneNumber"] = draw(st.sampled_from(["+1 (408) 555-0199", "4930123456", "", "n/a"]))
    return d


@st.composite
def record(draw: st.DrawFn) -> dict[str, Any]:
    r: dict[str, Any] = {"id": draw(st.sampled_from(["p1", "p2", "p3"]))}
    email = draw(
        st.sampled_from(
            [
                None,
                "a@x.com",
                " A@X.com ",
                "b@x.com",
                "alias@x.com",
                "c@x.com",
                "nope",
                'q,"u"@x.com',
            ]
        )
    )
    if email is not None:
        r["email"] = email
    # Names the CSV must quote or neutralise come up too (a comma, quotes, a line break,
    # a formula).
    names = [None, "Ann", "ann ", "Joe  Doe", "joe doe", "+49 30 123456", "", 'Doe, "J"\nx', "=1+1"]
    name = draw(st.sampled_from(names))
    if name is not None:
        r["displayName"] = name
    r["host"] = draw(st.booleans())
    r["coHost"] = draw(st.sampled_from([False, True, "yes"]))
    r["state"] = draw(st.sampled_from(["end"] * 6 + ["lobby", "joined"]))
    put(r, "joinedTime", draw(timestamp()))
    put(r, "leftTime", draw(timestamp()))
    r["devices"] = draw(st.lists(device(), max_size=3))
    if draw(st.booleans()):
        r["breakoutSessionsAttended"] = [
            {"id": f"b{i}", "name": f"Room {i}", "joinedTime": j, "leftTime": lt}
            for i, (j, lt) in enumerate(
                draw(st.lists(st.tuples(timestamp(), timestamp()), max_size=2))
            )
        ]
    return r


@st.composite
def instance(draw: st.DrawFn, index: int) -> InstanceRecords:
    kind = draw(st.sampled_from(["ended"] * 4 + ["running", "not_looked_up", "no_start"]))
    length = draw(st.integers(0, 3600)) * 1000 + draw(st.sampled_from([0, 0, 500]))
    start = T0 + timedelta(milliseconds=draw(st.sampled_from([0, 0, 250])))
    end = start + timedelta(milliseconds=length)
    entry = draw(st.integers(0, 1))
    # Instances of one entry with the same scheduledMeetingId are one restarted session.
    scheduled = draw(st.sampled_from([None, None, "occurrence"]))
    invitees = draw(
        st.sampled_from([None, (), (Invitee("b@x.com", panelist=True), Invitee(" A@x.com "))])
    )
    inst = Instance(
        id=f"m{index}",
        entry_index=entry,
        entry_id=f"e{entry}",
        course=draw(st.sampled_from(["course-a", "course-b"])),
        title=draw(st.sampled_from([f"Meeting {index}", 'Q&A, "live"', "@SUM(A1)"])),
        series_id=None,
        start=None if kind in ("not_looked_up", "no_start") else start,
        end=None if kind == "running" else end,
        state="inProgress" if kind == "running" else "ended",
        host_email=None,
        looked_up=kind != "not_looked_up",
        scheduled_meeting_id=scheduled,
    )
    records = tuple(draw(st.lists(record(), max_size=6)))
    return InstanceRecords(inst, records, invitees=invitees)


ROSTER = Roster(
    entries=(
        RosterEntry(
            email="A@x.com",
            name="Ann Official",
            department="Ops",
            aliases=("alias@x.com",),
            phones=("+14085550199",),
        ),
        RosterEntry(email="d@x.com", name=None, department=None),
    )
)


@st.composite
def override(draw: st.DrawFn, line: int) -> Override:
    decision = draw(st.sampled_from(DECISIONS))
    return Override(
        person=draw(
            st.sampled_from(
                [
                    "a@x.com",
                    "ALIAS@x.com",
                    "d@x.com",
                    "b@x.com",
                    "tel:+1 408 555 0199",
                    "tel:4930123456",
                    "name:Joe Doe",
                    "nobody@x.com",
                ]
            )
        ),
        scope=draw(st.sampled_from(["*", "m0", "m1", "m2", "course-a", "e0", "nothing"])),
        decision=decision,
        value=draw(st.sampled_from(["A@x.com", "d@x.com", "b@x.com"]))
        if decision == "same_as"
        else None,
        reason=f"reason {line}",
        reviewer="lead@example.com",
        date=date(2026, 11, line % 28 + 1),
        line=line,
        source="overrides.csv",
    )


@st.composite
def scenario(
    draw: st.DrawFn,
) -> Case:
    n = draw(st.integers(1, 3))
    data = [draw(instance(i)) for i in range(n)]
    threshold = draw(
        st.one_of(
            st.sampled_from([80, 87.5, 100, 0, 50]).map(lambda p: Threshold(percent=str(p))),
            st.sampled_from([0, 60, 1800]).map(lambda s: Threshold(seconds=s)),
        )
    )
    rules = Rules(
        min_attendance=threshold,
        late_grace_seconds=draw(st.sampled_from([0, 300])),
        early_leave_grace_seconds=draw(st.sampled_from([0, 300])),
        sessions_required=draw(st.sampled_from([None, 1, 2])),
    )
    # Rosters apply per instance; the instances of one config entry share theirs.
    by_entry = [draw(st.sampled_from([None, ROSTER])) for _ in range(2)]
    rosters = {d.instance.id: by_entry[d.instance.entry_index] for d in data}
    as_of = T0 + timedelta(milliseconds=draw(st.integers(-60_000, 5_000_000)))
    n_overrides = draw(st.integers(0, 4))
    extra = Extra(
        overrides=tuple(draw(override(line)) for line in range(2, 2 + n_overrides)),
        region=draw(st.sampled_from([None, "DE"])),
    )
    return data, rules, rosters, as_of, extra


@pytest.mark.slow
@settings(
    max_examples=examples(1000),
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(scenario())
def test_engine_matches_reference(
    case: Case,
) -> None:
    data, rules, rosters, as_of, extra = case
    result = compute(
        data, rules, rosters, as_of, overrides=extra.overrides, phone_region=extra.region
    )
    expected_rows, expected_courses = reference_compute(
        data, rules, rosters, as_of, overrides=extra.overrides, phone_region=extra.region
    )
    got = frame_rows(result.attendance)
    assert [r["person_key"] for r in got] == [r["person_key"] for r in expected_rows]
    for got_row, want_row in zip(got, expected_rows, strict=True):
        assert {k: got_row[k] for k in want_row} == want_row
    assert frame_rows(result.courses) == expected_courses


@pytest.mark.slow
@settings(
    max_examples=examples(300),
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(scenario(), st.sampled_from(["Europe/Berlin", "UTC", "Asia/Kathmandu"]))
def test_attendance_csv_matches_reference(case: Case, zone: str) -> None:
    """attendance.csv from the engine and its vectorised writer has the bytes of the plain
    reference rows written one cell at a time."""
    data, rules, rosters, as_of, extra = case
    tz = ZoneInfo(zone)
    result = compute(
        data, rules, rosters, as_of, overrides=extra.overrides, phone_region=extra.region
    )
    expected_rows, _ = reference_compute(
        data, rules, rosters, as_of, overrides=extra.overrides, phone_region=extra.region
    )
    got = frame_to_csv(result.attendance, ATTENDANCE_CSV_COLUMNS, tz)
    assert got == reference_attendance_csv(expected_rows, tz)
