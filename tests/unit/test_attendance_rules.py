"""One named test per rule and per flag of ATTENDANCE_RULES.md, with hand-worked numbers.

Times are written as minutes after 09:00 UTC on 2026-10-05; the default meeting runs
09:00-10:00 (3600 s), threshold 80 %, graces 5 min.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import pytest

from reporting.attendance import FLAG_EXPLANATIONS, compute
from reporting.attendance.flags import ALL_FLAGS
from reporting.model import Instance, InstanceRecords
from reporting.roster import Roster, RosterEntry
from tests.attendance_reference import Rules, Threshold

T0 = datetime(2026, 10, 5, 9, 0, tzinfo=UTC)
AS_OF = datetime(2026, 11, 1, tzinfo=UTC)


def at(minutes: float) -> str:
    return (T0 + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")


def dev(j: float | str | None, lv: float | str | None, **extra: Any) -> dict[str, Any]:
    d: dict[str, Any] = dict(extra)
    d["joinedTime"] = at(j) if isinstance(j, int | float) else j
    d["leftTime"] = at(lv) if isinstance(lv, int | float) else lv
    return d


def rec(
    email: str | None = "ann@example.com", *devices: dict[str, Any], **extra: Any
) -> dict[str, Any]:
    r: dict[str, Any] = {"devices": list(devices)}
    if email is not None:
        r["email"] = email
    r.update(extra)
    return r


def meeting(
    *records: dict[str, Any],
    start: datetime | None = T0,
    end: datetime | None = T0 + timedelta(hours=1),
    looked_up: bool = True,
    mid: str = "m1",
    entry: int = 0,
    course: str = "course",
) -> InstanceRecords:
    inst = Instance(
        id=mid,
        entry_index=entry,
        entry_id=f"e{entry}",
        course=course,
        title=f"Title {mid}",
        series_id=None,
        start=start,
        end=end,
        state="ended" if end else "inProgress",
        host_email=None,
        looked_up=looked_up,
    )
    return InstanceRecords(inst, tuple(records))


def run(
    *data: InstanceRecords,
    rules: Rules | None = None,
    rosters: dict[str, Roster | None] | None = None,
    as_of: datetime = AS_OF,
) -> Any:
    return compute(list(data), rules or Rules(), rosters or {}, as_of)


def one(*records: dict[str, Any], **kw: Any) -> pd.Series:
    rules = kw.pop("rules", None)
    as_of = kw.pop("as_of", AS_OF)
    result = run(meeting(*records, **kw), rules=rules, as_of=as_of)
    assert len(result.attendance) == 1
    return result.attendance.iloc[0]


def flags(row: pd.Series) -> set[str]:
    return set(row["flags"].split(";")) - {""}


# -- rule 1: time -------------------------------------------------------------------


def test_offsets_other_than_utc_are_converted() -> None:
    row = one(rec("a@x.com", dev("2026-10-05T11:00:00+02:00", "2026-10-05T04:30:00-05:30")))
    assert row["attended_seconds"] == 3600
    assert row["first_join"] == pd.Timestamp("2026-10-05T09:00:00Z")


@pytest.mark.parametrize(
    "sentinel",
    [
        "1970-01-01T00:00:00Z",
        "1970-01-01T00:00:00.000Z",
        "1970-01-01T00:00:00+00:00",
        "1970-01-01T01:00:00+01:00",
        "1970-01-01T00:00:00.0004Z",  # the epoch at millisecond resolution (rule 1)
        None,
        "",
        "  ",
    ],
)
def test_epoch_in_any_form_and_missing_are_unknown(sentinel: str | None) -> None:
    row = one(rec("a@x.com", dev(0, 10), dev(sentinel, 50)))
    assert row["attended_seconds"] == 600
    assert flags(row) == {"UNKNOWN_JOIN", "EARLY_LEAVE"}


def test_flag_bad_timestamp() -> None:
    row = one(rec("a@x.com", dev(0, 60), dev("2026-10-05 nine o'clock", 50)))
    assert row["attended_seconds"] == 3600
    assert flags(row) == {"BAD_TIMESTAMP", "UNKNOWN_JOIN"}


def test_bad_timestamp_of_a_non_string_value() -> None:
    row = one(rec("a@x.com", dev(0, 60), leftTime=1234567))
    assert flags(row) == {"BAD_TIMESTAMP"}


def test_millisecond_precision_is_kept_until_the_end() -> None:
    # 0.600 s + 0.600 s on two disjoint pieces: 1.2 s, rounded down to 1 s.
    row = one(
        rec(
            "a@x.com",
            dev("2026-10-05T09:00:00.000Z", "2026-10-05T09:00:00.600Z"),
            dev("2026-10-05T09:00:01.000Z", "2026-10-05T09:00:01.600Z"),
        )
    )
    assert row["attended_seconds"] == 1
    assert row["segments"] == 2
    assert row["last_leave"] == pd.Timestamp("2026-10-05T09:00:01.600Z")


def test_rounding_is_down_never_up() -> None:
    row = one(rec("a@x.com", dev("2026-10-05T09:00:00.000Z", "2026-10-05T09:29:59.999Z")))
    assert row["attended_seconds"] == 1799


# -- rule 2: person keys ---------------------------------------------------------------


def test_person_key_email_trimmed_and_lower_cased_joins_records() -> None:
    result = run(meeting(rec(" Ann@Example.COM ", dev(0, 20)), rec("ann@example.com", dev(30, 60))))
    row = result.attendance.iloc[0]
    assert len(result.attendance) == 1
    assert row["person_key"] == "ann@example.com"
    assert row["segments"] == 2 and row["attended_seconds"] == 50 * 60


def test_person_key_phone_digits_of_first_device() -> None:
    row = one(
        rec(None, dev(0, 60), dev(0, 60, phoneNumber="+1 (408) 555-0199"), displayName="Caller")
    )
    assert row["person_key"] == "tel:14085550199"


def test_person_key_name_case_folded_and_spaces_collapsed() -> None:
    result = run(
        meeting(
            rec(None, dev(0, 10), displayName="  Joe   DOE "),
            rec(None, dev(20, 30), displayName="joe doe"),
        )
    )
    assert result.attendance["person_key"].tolist() == ["name:joe doe"]


def test_person_key_id_as_last_resort() -> None:
    row = one(rec(None, dev(0, 60), id="abc_123"))
    assert row["person_key"] == "id:abc_123"


def test_email_without_at_is_not_an_email() -> None:
    row = one(rec("n/a", dev(0, 60), displayName="Ann"))
    assert row["person_key"] == "name:ann"
    assert pd.isna(row["email"])


# -- rule 3: intervals -------------------------------------------------------------------


def test_overlapping_devices_count_once() -> None:
    row = one(rec("a@x.com", dev(0, 40), dev(10, 50)))  # laptop + phone
    assert row["attended_seconds"] == 50 * 60
    assert row["segments"] == 1
    assert row["devices"] == 2


def test_rejoin_gap_is_not_counted() -> None:
    row = one(rec("a@x.com", dev(0, 20)), rec("a@x.com", dev(30, 60)))
    assert row["attended_seconds"] == 50 * 60
    assert row["segments"] == 2


def test_union_uses_running_maximum_not_previous_end() -> None:
    # [0, 50) contains [5, 10); [20, 30) starts after 10 but inside the first interval.
    row = one(rec("a@x.com", dev(0, 50), dev(5, 10), dev(20, 30)))
    assert row["attended_seconds"] == 50 * 60
    assert row["segments"] == 1


def test_touching_intervals_are_one_segment() -> None:
    row = one(rec("a@x.com", dev(0, 30), dev(30, 60)))
    assert row["segments"] == 1 and row["attended_seconds"] == 3600


def test_breakout_time_is_attendance() -> None:
    breakouts = [{"id": "b1", "name": "Room 1", "joinedTime": at(40), "leftTime": at(55)}]
    row = one(rec("a@x.com", dev(0, 45), breakoutSessionsAttended=breakouts))
    assert row["attended_seconds"] == 55 * 60
    assert row["breakout_seconds"] == 15 * 60
    assert row["main_session_seconds"] == 40 * 60


def test_record_level_fallback_when_no_device_join_is_known() -> None:
    row = one(rec("a@x.com", dev(None, 30), joinedTime=at(5), leftTime=at(55)))
    assert row["attended_seconds"] == 50 * 60
    assert flags(row) == set()  # the device with no join was replaced, not dropped
    assert row["devices"] == 1


def test_record_level_fallback_for_a_record_without_devices() -> None:
    row = one(rec("a@x.com", joinedTime=at(0), leftTime=at(60)))
    assert row["attended_seconds"] == 3600 and row["devices"] == 0


def test_flag_unknown_join() -> None:
    row = one(rec("a@x.com", dev(0, 60), dev(None, 30)))
    assert flags(row) == {"UNKNOWN_JOIN"} and row["attended_seconds"] == 3600


def test_flag_in_progress() -> None:
    as_of = T0 + timedelta(minutes=30)
    row = one(rec("a@x.com", dev(10, None)), end=None, as_of=as_of)
    assert row["attended_seconds"] == 20 * 60
    assert row["meeting_seconds"] == 30 * 60
    assert row["meeting_end"] == pd.Timestamp(as_of)
    assert flags(row) == {"IN_PROGRESS", "LATE_JOIN"}


def test_no_early_leave_while_the_meeting_runs() -> None:
    # Left at 10 of a meeting still running at 30: no end yet to leave early from.
    as_of = T0 + timedelta(minutes=30)
    row = one(rec("a@x.com", dev(0, 10)), end=None, as_of=as_of)
    assert row["attended_seconds"] == 600
    assert flags(row) == {"IN_PROGRESS"}


def test_in_progress_meeting_flags_every_row() -> None:
    as_of = T0 + timedelta(minutes=30)
    row = one(rec("a@x.com", dev(0, 29)), end=None, as_of=as_of)
    assert flags(row) == {"IN_PROGRESS"}


def test_flag_left_time_inferred_from_record() -> None:
    row = one(rec("a@x.com", dev(0, None), leftTime=at(45)))
    assert row["attended_seconds"] == 45 * 60
    assert flags(row) == {"LEFT_TIME_INFERRED", "EARLY_LEAVE"}


def test_flag_left_time_inferred_from_meeting_end() -> None:
    row = one(rec("a@x.com", dev(0, None)))
    assert row["attended_seconds"] == 3600
    assert flags(row) == {"LEFT_TIME_INFERRED"}


def test_flag_unknown_leave() -> None:
    # Not looked up, and nobody has a known leave: no end to infer from.
    row = one(rec("a@x.com", dev(0, None)), start=None, end=None, looked_up=False)
    assert row["attended_seconds"] == 0
    assert flags(row) == {"UNKNOWN_LEAVE", "MEETING_WINDOW_INFERRED"}


def test_flag_invalid_interval() -> None:
    row = one(rec("a@x.com", dev(0, 60), dev(30, 20)))
    assert flags(row) == {"INVALID_INTERVAL"} and row["attended_seconds"] == 3600


def test_equal_ends_are_valid_and_empty() -> None:
    row = one(rec("a@x.com", dev(30, 30)))
    assert flags(row) == set()
    assert row["attended_seconds"] == 0 and row["segments"] == 0 and row["status"] == "absent"


def test_flag_duration_mismatch() -> None:
    row = one(rec("a@x.com", dev(0, 60, durationSecond=3600 - 61)))
    assert flags(row) == {"DURATION_MISMATCH"}
    assert row["attended_seconds"] == 3600  # the timestamps are kept


def test_duration_within_60_seconds_is_fine() -> None:
    row = one(rec("a@x.com", dev(0, 60, durationSecond=3600 - 60)))
    assert flags(row) == set()


def test_duration_not_checked_when_left_was_inferred() -> None:
    row = one(rec("a@x.com", dev(0, None, durationSecond=5), leftTime=at(60)))
    assert flags(row) == {"LEFT_TIME_INFERRED"}


def test_flag_lobby() -> None:
    row = one(rec("a@x.com", dev(0, 60), state="lobby"))
    assert flags(row) == {"LOBBY"}
    assert row["attended_seconds"] == 0 and row["status"] == "absent"
    assert row["devices"] == 1  # device entries are counted as received


# -- rule 4: the window ------------------------------------------------------------------


def test_intervals_are_clipped_to_the_window() -> None:
    breakouts = [{"id": "b", "name": "B", "joinedTime": at(55), "leftTime": at(70)}]
    row = one(rec("a@x.com", dev(-10, 30), breakoutSessionsAttended=breakouts))
    assert row["attended_seconds"] == 35 * 60
    assert row["breakout_seconds"] == 5 * 60
    assert row["first_join"] == pd.Timestamp(T0)


def test_flag_meeting_window_inferred() -> None:
    result = run(
        meeting(
            rec("a@x.com", dev(5, 50)),
            rec("b@x.com", dev(10, 40)),
            start=None,
            end=None,
            looked_up=False,
        )
    )
    a = result.attendance.set_index("person_key")
    assert a.loc["a@x.com", "meeting_seconds"] == 45 * 60
    assert a.loc["b@x.com", "attended_seconds"] == 30 * 60
    # No LATE_JOIN / EARLY_LEAVE on an inferred window, though b joined 5 min late.
    assert set(a["flags"]) == {"MEETING_WINDOW_INFERRED"}
    assert a.loc["a@x.com", "meeting_start"] == pd.Timestamp(T0 + timedelta(minutes=5))


def test_open_ended_window_for_a_running_meeting() -> None:
    as_of = T0 + timedelta(minutes=40)
    row = one(rec("a@x.com", dev(0, 80)), end=None, as_of=as_of)
    assert row["attended_seconds"] == 40 * 60 and row["meeting_seconds"] == 40 * 60


# -- rule 6: status and thresholds -------------------------------------------------------


def test_share_exactly_at_the_threshold_is_complete() -> None:
    row = one(rec("a@x.com", dev(0, 48)))  # 2880 s × 100 = 80 × 3600
    assert row["status"] == "complete"


def test_share_one_second_below_is_partial() -> None:
    row = one(rec("a@x.com", dev("2026-10-05T09:00:01Z", at(48))))
    assert row["attended_seconds"] == 2879 and row["status"] == "partial"


def test_fractional_share_integer_comparison() -> None:
    rules = Rules(min_attendance=Threshold(percent="87.5"))
    # 87.5 % of 3600 s is exactly 3150 s.
    assert one(rec("a@x.com", dev(0, 52.5)), rules=rules)["status"] == "complete"
    below = dev("2026-10-05T09:00:00.001Z", at(52.5))
    assert one(rec("a@x.com", below), rules=rules)["status"] == "partial"


def test_duration_threshold() -> None:
    rules = Rules(min_attendance=Threshold(seconds=45 * 60))
    assert one(rec("a@x.com", dev(0, 45)), rules=rules)["status"] == "complete"
    assert one(rec("a@x.com", dev(0, 44)), rules=rules)["status"] == "partial"


def test_absent_with_zero_seconds_even_when_threshold_is_zero() -> None:
    rules = Rules(min_attendance=Threshold(percent=0))
    row = one(rec("a@x.com", dev("2026-10-05T09:00:00Z", "2026-10-05T09:00:00.999Z")), rules=rules)
    assert row["attended_seconds"] == 0 and row["status"] == "absent"


def test_flag_late_join_exactly_at_grace_is_not_late() -> None:
    assert flags(one(rec("a@x.com", dev(5, 60)))) == set()
    late = one(rec("a@x.com", dev("2026-10-05T09:05:00.001Z", at(60))))
    assert flags(late) == {"LATE_JOIN"}


def test_flag_early_leave_exactly_at_grace_is_not_early() -> None:
    assert flags(one(rec("a@x.com", dev(0, 55)))) == set()
    early = one(rec("a@x.com", dev(0, "2026-10-05T09:54:59.999Z")))
    assert flags(early) == {"EARLY_LEAVE"}


def test_no_late_or_early_flag_for_zero_seconds() -> None:
    row = one(rec("a@x.com", dev(30, 30)))
    assert flags(row) == set()


def test_host_and_cohost_from_any_record() -> None:
    row = one(rec("a@x.com", dev(0, 10), host=True), rec("a@x.com", dev(20, 30), coHost=True))
    assert bool(row["is_host"]) and bool(row["is_cohost"])


def test_worked_example_from_rules_for_users() -> None:
    """The worked example of the README (How attendance is computed), number for number."""
    breakouts = [{"id": "b1", "name": "Group work", "joinedTime": at(30), "leftTime": at(45)}]
    row = one(
        rec("ann@example.com", dev(2, 20), dev(10, 25, phoneNumber="+49 30 1234567")),
        rec("ann@example.com", dev(28, 52), breakoutSessionsAttended=breakouts),
    )
    assert row["attended_seconds"] == 23 * 60 + 24 * 60  # 09:02-09:25 and 09:28-09:52
    assert row["breakout_seconds"] == 15 * 60
    assert row["main_session_seconds"] == 32 * 60
    assert row["segments"] == 2 and row["devices"] == 3
    assert row["status"] == "partial"  # 2820 × 100 < 80 × 3600
    assert flags(row) == {"EARLY_LEAVE"}  # left 09:52, before 09:55


# -- rule 7: rosters ---------------------------------------------------------------------

ROSTER = Roster(
    entries=(
        RosterEntry(
            email="Ann@Example.com",
            name="Ann Official",
            department="Ops",
            aliases=("ann.private@gmail.com",),
        ),
        RosterEntry(email="bob@example.com", name="Bob", department="Sales"),
    )
)


def test_roster_alias_maps_onto_one_key_and_absent_rows() -> None:
    result = run(
        meeting(
            rec("ann.private@gmail.com", dev(0, 30)),
            rec("ann@example.com", dev(30, 60)),
            rec("eve@example.com", dev(0, 60)),
        ),
        rosters={"m1": ROSTER},
    )
    a = result.attendance.set_index("person_key")
    assert sorted(a.index) == ["ann@example.com", "bob@example.com", "eve@example.com"]
    assert a.loc["ann@example.com", "attended_seconds"] == 3600
    assert a.loc["ann@example.com", "roster_name"] == "Ann Official"
    assert a.loc["ann@example.com", "email"] == "Ann@Example.com"
    assert a.loc["bob@example.com", "status"] == "absent"
    assert a.loc["bob@example.com", "display_name"] == "Bob"
    assert a.loc["bob@example.com", "department"] == "Sales"


def test_flag_not_on_roster() -> None:
    result = run(meeting(rec("eve@example.com", dev(0, 60))), rosters={"m1": ROSTER})
    a = result.attendance.set_index("person_key")
    assert flags(a.loc["eve@example.com"]) == {"NOT_ON_ROSTER"}
    assert flags(a.loc["bob@example.com"]) == set()


def test_roster_applies_per_instance() -> None:
    result = run(meeting(rec("eve@example.com", dev(0, 60))), rosters={"m0": ROSTER, "m1": None})
    assert result.attendance["person_key"].tolist() == ["eve@example.com"]
    assert result.attendance["flags"].tolist() == [""]


# -- rule 8: courses ---------------------------------------------------------------------


def test_courses_group_entries_by_label_and_count_sessions() -> None:
    data = [
        meeting(
            rec("a@x.com", dev(0, 60)), rec("b@x.com", dev(0, 10)), mid="m1", entry=0, course="sec"
        ),
        meeting(
            rec("a@x.com", dev(0, 60)),
            mid="m2",
            entry=1,
            course="sec",
            start=T0 + timedelta(days=7),
            end=T0 + timedelta(days=7, hours=1),
        ),
        meeting(rec("b@x.com", dev(0, 60)), mid="m3", entry=2, course="other"),
    ]
    result = run(*data)
    c = result.courses.set_index(["course", "person_key"])
    assert c.loc[("sec", "a@x.com"), "sessions_total"] == 2
    # m2's window is a week later, so a's device times fall outside it: absent there.
    assert c.loc[("sec", "a@x.com"), "sessions_complete"] == 1
    assert not c.loc[("sec", "a@x.com"), "completed"]
    assert c.loc[("sec", "b@x.com"), "sessions_complete"] == 0
    assert c.loc[("other", "b@x.com"), "completed"]
    assert result.courses["course"].tolist()[:2] == ["sec", "sec"]


def test_a_planned_session_that_was_not_fetched_counts_as_not_completed() -> None:
    fetched = meeting(rec("a@x.com", dev(0, 60)), mid="s1", course="c")
    missing = meeting(mid="s2", course="c").instance
    result = compute([fetched], Rules(), {}, AS_OF, planned=[fetched.instance, missing])
    course = result.courses.iloc[0]
    assert (course["sessions_total"], course["sessions_complete"]) == (2, 1)
    assert not course["completed"]


def test_course_completion_with_sessions_required() -> None:
    data = [
        meeting(rec("a@x.com", dev(0, 60)), mid="m1", course="c"),
        meeting(rec("a@x.com", dev(0, 10)), mid="m2", course="c"),
    ]
    assert not run(*data).courses.iloc[0]["completed"]
    assert run(*data, rules=Rules(sessions_required=1)).courses.iloc[0]["completed"]


# -- outputs -----------------------------------------------------------------------------


def test_columns_and_dtypes() -> None:
    result = run(
        meeting(
            rec(
                "a@x.com",
                dev(0, 60, phoneNumber="123", durationSecond=3600),
                breakoutSessionsAttended=[{"id": "b", "joinedTime": at(1), "leftTime": at(2)}],
            )
        )
    )
    a = result.attendance
    assert list(a.columns[:19]) == [
        "meeting_id",
        "meeting_title",
        "meeting_start",
        "meeting_end",
        "meeting_seconds",
        "person_key",
        "display_name",
        "email",
        "is_host",
        "is_cohost",
        "attended_seconds",
        "main_session_seconds",
        "breakout_seconds",
        "first_join",
        "last_leave",
        "segments",
        "devices",
        "status",
        "flags",
    ]
    # DESIGN.md "Output additions": appended after the first 19, in this order.
    assert list(a.columns[19:26]) == [
        "role",
        "required",
        "override",
        "override_reason",
        "override_reviewer",
        "override_date",
        "seen_as",
    ]
    assert list(a.columns[26:]) == ["course", "roster_name", "department"]
    assert a["required"].dtype == bool
    for column in ("meeting_start", "meeting_end", "first_join", "last_leave"):
        assert isinstance(a[column].dtype, pd.DatetimeTZDtype) and str(a[column].dt.tz) == "UTC"
    for column in ("meeting_seconds", "attended_seconds", "segments", "devices"):
        assert a[column].dtype == "int64"
    assert a["is_host"].dtype == bool
    assert list(result.devices.columns) == [
        "meeting_id",
        "person_key",
        "correlation_id",
        "device_type",
        "audio_type",
        "call_type",
        "phone_number",
        "joined",
        "left",
        "duration_seconds",
    ]
    assert result.devices["duration_seconds"].tolist() == [3600]
    assert list(result.breakouts.columns) == [
        "meeting_id",
        "person_key",
        "breakout_id",
        "breakout_name",
        "joined",
        "left",
        "duration_seconds",
    ]
    assert result.breakouts["duration_seconds"].tolist() == [60]
    assert list(result.courses.columns) == [
        "course",
        "person_key",
        "display_name",
        "email",
        "sessions_total",
        "sessions_complete",
        "completed",
        "department",
        "required",
        "sessions_excused",
        "status",
        "missing",
    ]


def test_flags_are_sorted_and_joined() -> None:
    row = one(rec("a@x.com", dev(10, 40), dev(None, 5), dev(30, 20)))
    assert row["flags"] == "EARLY_LEAVE;INVALID_INTERVAL;LATE_JOIN;UNKNOWN_JOIN"


def test_row_order_is_meeting_start_then_name() -> None:
    data = [
        meeting(
            rec("z@x.com", dev(0, 60), displayName="zed"),
            rec("y@x.com", dev(0, 60), displayName="Amy"),
            mid="late",
            start=T0 + timedelta(days=1),
            end=T0 + timedelta(days=1, hours=1),
        ),
        meeting(rec("b@x.com", dev(0, 60), displayName="bea"), mid="early"),
    ]
    a = run(*data).attendance
    assert a["display_name"].tolist() == ["bea", "Amy", "zed"]


def test_empty_input() -> None:
    result = run()
    assert result.attendance.empty and result.devices.empty and result.courses.empty


def test_every_flag_is_explained() -> None:
    assert set(FLAG_EXPLANATIONS) == set(ALL_FLAGS)
    assert len(ALL_FLAGS) == 16
    assert all(text.endswith(".") for text in FLAG_EXPLANATIONS.values())


def test_malformed_records_do_not_crash() -> None:
    result = run(
        meeting(
            rec("a@x.com", dev(0, 60)),
            {"email": "b@x.com", "devices": "not a list", "breakoutSessionsAttended": [1, None]},
            {"email": "c@x.com", "devices": [None, {"joinedTime": at(0), "leftTime": at(60)}]},
            "not a record",  # type: ignore[arg-type]
        )
    )
    a = result.attendance.set_index("person_key")
    assert a.loc["c@x.com", "devices"] == 2 and a.loc["c@x.com", "attended_seconds"] == 3600
    assert a.loc["b@x.com", "attended_seconds"] == 0
