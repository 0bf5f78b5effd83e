"""One named test per rule of Part two (rules 10-13 and 15) and per new flag, hand-worked.

Times are minutes after 09:00 UTC on 2026-10-05; the default meeting runs 09:00-10:00
(3600 s), threshold 80 %, graces 5 min (see test_attendance_rules.py).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
from test_attendance_rules import AS_OF, T0, dev, flags, meeting, rec

from reporting.attendance import compute
from reporting.attendance.hints import hint_text
from reporting.attendance.sessions import session_instances
from reporting.model import Instance, InstanceRecords, Invitee
from reporting.overrides import Override
from reporting.roster import Roster, RosterEntry
from tests.attendance_reference import Rules

CLARA = RosterEntry(
    "clara@example.com",
    "Clara Weiß",
    "Sales",
    aliases=("clara.w@gmail.com",),
    phones=("+49895550002",),
)
BOB = RosterEntry("bob@example.com", "Bob", "Ops")
ROSTER = Roster((CLARA, BOB), source="roster.csv")


def decision(
    person: str,
    decision: str,
    scope: str = "*",
    value: str | None = None,
    line: int = 2,
) -> Override:
    return Override(
        person=person,
        scope=scope,
        decision=decision,
        value=value,
        reason=f"reason {line}",
        reviewer="lead@example.com",
        date=date(2026, 11, 3),
        line=line,
        source="overrides.csv",
    )


def run(
    *data: InstanceRecords,
    rosters: dict[str, Roster | None] | None = None,
    overrides: tuple[Override, ...] = (),
    rules: Rules | None = None,
    region: str | None = None,
    planned: tuple[Instance, ...] = (),
) -> Any:
    return compute(
        list(data),
        rules or Rules(),
        rosters or {},
        AS_OF,
        planned=planned,
        overrides=overrides,
        phone_region=region,
    )


def by_key(result: Any) -> pd.DataFrame:
    return result.attendance.set_index("person_key")


def caller(number: str, j: float = 0, lv: float = 60, name: str = "Call-in User") -> dict[str, Any]:
    return rec(None, dev(j, lv, phoneNumber=number, audioType="pstn"), displayName=name)


# -- rule 10: roles ------------------------------------------------------------------------


def test_rule_10_roles_host_cohost_panelist_attendee() -> None:
    data = meeting(
        rec("host@x.com", dev(0, 60), host=True, coHost=True),
        rec("co@x.com", dev(0, 60), coHost=True),
        rec("pan@x.com", dev(0, 60)),
        rec("att@x.com", dev(0, 60)),
    )
    data = InstanceRecords(
        data.instance,
        data.records,
        invitees=(Invitee("PAN@x.com", panelist=True), Invitee("att@x.com")),
    )
    a = by_key(run(data))
    assert a["role"].to_dict() == {
        "host@x.com": "host",
        "co@x.com": "cohost",
        "pan@x.com": "panelist",
        "att@x.com": "attendee",
    }


# -- rule 11: required ---------------------------------------------------------------------


def test_rule_11_without_roster_required_is_attendees_with_an_email_admitted() -> None:
    a = by_key(
        run(
            meeting(
                rec("host@x.com", dev(0, 60), host=True),
                rec("ann@x.com", dev(0, 60)),
                rec("lobby@x.com", dev(0, 60), state="lobby"),
                rec(None, dev(0, 60), displayName="Guest Name"),
                caller("+1 408 555 0199"),
            )
        )
    )
    assert a["required"].to_dict() == {
        "host@x.com": False,
        "ann@x.com": True,
        "lobby@x.com": False,
        "name:guest name": False,
        "tel:14085550199": False,
    }


def test_rule_11_with_roster_required_is_the_roster_people_whatever_their_role() -> None:
    a = by_key(
        run(
            meeting(
                rec("clara@example.com", dev(0, 60), host=True),
                rec("guest@x.com", dev(0, 60)),
            ),
            rosters={"m1": ROSTER},
        )
    )
    assert a["required"].to_dict() == {
        "clara@example.com": True,
        "bob@example.com": True,  # absent roster row
        "guest@x.com": False,
    }
    assert a.loc["clara@example.com", "role"] == "host"


# -- rule 12: phones -------------------------------------------------------------------------


def test_rule_12_a_caller_whose_number_is_a_roster_phone_is_that_person() -> None:
    a = by_key(
        run(
            meeting(caller("0049 (89) 555-0002", 0, 55), rec("bob@example.com", dev(0, 60))),
            rosters={"m1": ROSTER},
            region="DE",
        )
    )
    clara = a.loc["clara@example.com"]
    assert clara["attended_seconds"] == 3300 and clara["status"] == "complete"
    assert clara["seen_as"] == "tel:+49895550002"
    assert clara["required"] and clara["roster_name"] == "Clara Weiß"
    assert "UNIDENTIFIED_CALLER" not in flags(clara)
    assert not any(k.startswith("tel:") for k in a.index)


def test_rule_12_a_number_without_plus_is_read_with_its_country_code() -> None:
    a = by_key(run(meeting(caller("49895550002")), rosters={"m1": ROSTER}))
    assert a.loc["clara@example.com", "attended_seconds"] == 3600


def test_rule_12_matching_joins_the_callers_time_with_her_laptop() -> None:
    a = by_key(
        run(
            meeting(rec("clara.w@gmail.com", dev(0, 30)), caller("+49 89 5550002", 20, 50)),
            rosters={"m1": ROSTER},
        )
    )
    clara = a.loc["clara@example.com"]
    assert clara["attended_seconds"] == 50 * 60  # union 0-50, the overlap counted once
    assert clara["seen_as"] == "clara.w@gmail.com;tel:+49895550002"


def test_flag_unidentified_caller_with_hint() -> None:
    result = run(
        meeting(
            rec("dan@x.com", dev(0, 10, phoneNumber="+44 20 7946 0000"), displayName="Dan D"),
            caller("0044 20 7946 0000", 10, 60),
            caller("+1 408 555 0100", 0, 60),
        ),
        rosters={"m1": ROSTER},
        region="DE",
    )
    a = by_key(result)
    assert "UNIDENTIFIED_CALLER" in flags(a.loc["tel:00442079460000"])
    assert not a.loc["tel:00442079460000", "required"]
    assert a.loc["tel:00442079460000", "attended_seconds"] == 3000  # the figures stay
    hints = result.caller_hints
    assert hints[["person_key", "phone", "hint_name", "hint_email"]].values.tolist() == [
        ["tel:00442079460000", "+442079460000", "Dan D", "dan@x.com"]
    ]
    assert hints["used_on"].tolist() == [pd.Timestamp(T0)]
    assert "dan@x.com" in a.index  # a hint, never a merge
    assert hint_text("Dan D", "dan@x.com", T0, T0.tzinfo) == (  # type: ignore[arg-type]
        "possibly Dan D (dan@x.com), who used this number on 2026-10-05"
    )


def test_rule_12_a_caller_is_unidentified_without_any_roster_too() -> None:
    a = by_key(run(meeting(caller("+1 408 555 0100"))))
    assert flags(a.loc["tel:14085550100"]) == {"UNIDENTIFIED_CALLER"}


# -- rule 13: overrides ----------------------------------------------------------------------


def test_rule_13_excused_keeps_the_figures_and_sets_the_status() -> None:
    result = run(
        meeting(rec("bob@example.com", dev(0, 20))),
        rosters={"m1": ROSTER},
        overrides=(decision("Clara.W@gmail.com", "excused", scope="m1"),),
    )
    a = by_key(result)
    clara = a.loc["clara@example.com"]
    assert clara["status"] == "excused" and clara["attended_seconds"] == 0
    assert (clara["override"], clara["override_reason"]) == ("excused", "reason 2")
    assert (clara["override_reviewer"], clara["override_date"]) == (
        "lead@example.com",
        "2026-11-03",
    )
    assert "OVERRIDDEN" in flags(clara)
    assert a.loc["bob@example.com", "status"] == "partial"
    assert pd.isna(a.loc["bob@example.com", "override"])
    assert result.overrides["rows"].tolist() == [1]
    assert result.unmatched_overrides == []


def test_flag_overridden_present_and_absent() -> None:
    a = by_key(
        run(
            meeting(rec("bob@example.com", dev(0, 20)), rec("clara@example.com", dev(0, 60))),
            rosters={"m1": ROSTER},
            overrides=(
                decision("bob@example.com", "present", scope="course"),
                decision("clara@example.com", "absent", scope="e0", line=3),
            ),
        )
    )
    assert a.loc["bob@example.com", "status"] == "complete"
    assert a.loc["bob@example.com", "attended_seconds"] == 1200
    assert a.loc["clara@example.com", "status"] == "absent"
    assert a.loc["clara@example.com", "attended_seconds"] == 3600
    assert all("OVERRIDDEN" in flags(a.loc[k]) for k in a.index)


def test_rule_13_the_most_specific_scope_wins_then_the_later_line() -> None:
    a = by_key(
        run(
            meeting(rec("bob@example.com", dev(0, 20))),
            overrides=(
                decision("bob@example.com", "excused", scope="*", line=2),
                decision("bob@example.com", "present", scope="m1", line=3),
                decision("bob@example.com", "absent", scope="*", line=4),
            ),
        )
    )
    assert a.loc["bob@example.com", "status"] == "complete"


def test_rule_13_same_as_merges_a_caller_into_a_roster_person_before_computing() -> None:
    result = run(
        meeting(
            rec("clara@example.com", dev(0, 30)),
            caller("+1 408 555 0100", 30, 60),
        ),
        rosters={"m1": ROSTER},
        overrides=(
            decision("tel:+1 (408) 555-0100", "same_as", value="clara@example.com"),
            decision("tel:+14085550100", "excused", scope="m1", line=3),
        ),
    )
    a = by_key(result)
    clara = a.loc["clara@example.com"]
    assert clara["attended_seconds"] == 3600 and clara["segments"] == 1
    # the status decision names the caller's number: it follows the caller into Clara
    assert clara["status"] == "excused"
    assert clara["override"] == "same_as;excused"
    assert clara["override_reason"] == "reason 2;reason 3"
    assert clara["seen_as"] == "tel:+14085550100"
    assert "UNIDENTIFIED_CALLER" not in flags(clara)
    assert result.overrides["rows"].tolist() == [1, 1]


def test_rule_13_an_override_matching_no_row_is_a_warning() -> None:
    result = run(
        meeting(rec("bob@example.com", dev(0, 60))),
        overrides=(
            decision("nobody@x.com", "excused"),
            decision("bob@example.com", "present", scope="other-course", line=3),
            decision("name:nobody", "same_as", value="bob@example.com", line=4),
        ),
    )
    assert result.overrides["rows"].tolist() == [0, 0, 0]
    assert result.unmatched_overrides == [
        "overrides.csv:2: override excused for nobody@x.com in scope '*' matched no row",
        "overrides.csv:3: override present for bob@example.com in scope 'other-course' "
        "matched no row",
        "overrides.csv:4: override same_as for name:nobody in scope '*' matched no row",
    ]
    assert by_key(result).loc["bob@example.com", "flags"] == ""


def test_rule_13_course_excused_sessions_leave_the_total() -> None:
    late = dict(start=T0 + timedelta(days=7), end=T0 + timedelta(days=7, hours=1))
    data = [
        meeting(rec("bob@example.com", dev(0, 60)), mid="s1"),
        meeting(rec("bob@example.com", dev(0, 5)), mid="s2", **late),
        meeting(mid="s3", start=T0 + timedelta(days=14), end=T0 + timedelta(days=14, hours=1)),
    ]
    rosters: dict[str, Roster | None] = {m: ROSTER for m in ("s1", "s2", "s3")}
    result = run(
        *data,
        rosters=rosters,
        overrides=(
            decision("bob@example.com", "excused", scope="s2"),
            decision("clara@example.com", "excused", scope="course", line=3),
        ),
        rules=Rules(sessions_required=None),
    )
    c = result.courses.set_index("person_key")
    bob = c.loc["bob@example.com"]
    assert (bob["sessions_total"], bob["sessions_excused"], bob["sessions_complete"]) == (2, 1, 1)
    assert bob["status"] == "not_completed" and bob["missing"] == "s3"
    assert bob["department"] == "Ops" and bob["required"]
    clara = c.loc["clara@example.com"]
    assert (clara["sessions_total"], clara["sessions_excused"]) == (0, 3)
    assert clara["status"] == "excused" and not clara["completed"] and clara["missing"] == ""


def test_rule_13_sessions_required_is_capped_by_the_sessions_not_excused() -> None:
    late = dict(start=T0 + timedelta(days=7), end=T0 + timedelta(days=7, hours=1))
    result = run(
        meeting(rec("a@x.com", dev(0, 60)), mid="s1"),
        meeting(rec("a@x.com", dev(0, 5)), mid="s2", **late),
        overrides=(decision("a@x.com", "excused", scope="s2"),),
        rules=Rules(sessions_required=2),
    )
    course = result.courses.iloc[0]
    assert (course["sessions_total"], course["status"]) == (1, "completed")
    assert course["missing"] == ""


# -- seen_as -----------------------------------------------------------------------------


def test_seen_as_lists_the_aliases_merged_in_this_instance() -> None:
    a = by_key(
        run(
            meeting(rec("clara.w@gmail.com", dev(0, 30)), rec("Clara@Example.com", dev(30, 60))),
            rosters={"m1": ROSTER},
        )
    )
    assert a.loc["clara@example.com", "seen_as"] == "clara.w@gmail.com"
    assert pd.isna(a.loc["bob@example.com", "seen_as"])


# -- rule 15: restarted sessions ---------------------------------------------------------


def restarted(mid: str, start: float, end: float, *records: dict[str, Any]) -> InstanceRecords:
    inst = Instance(
        id=mid,
        entry_index=0,
        entry_id="series",
        course="course",
        title="Training",
        series_id="series",
        start=T0 + timedelta(minutes=start),
        end=T0 + timedelta(minutes=end),
        state="ended",
        host_email=None,
        scheduled_meeting_id="occurrence-1",
    )
    return InstanceRecords(inst, tuple(records))


def test_rule_15_restarted_instances_are_one_session() -> None:
    first = restarted("series_I_1", 0, 20, rec("a@x.com", dev(0, 20)), rec("b@x.com", dev(0, 20)))
    # Ended at 09:20, started again at 09:30 until 10:10; `a` rejoins, `b` does not.
    second = restarted("series_I_2", 30, 70, rec("a@x.com", dev(30, 70)))
    result = run(second, first, rosters={"series_I_1": ROSTER, "series_I_2": ROSTER})
    a = by_key(result)
    assert set(result.attendance["meeting_id"]) == {"series_I_1"}
    assert len(a) == 4  # a, b, and the roster's Clara and Bob, once each
    row = a.loc["a@x.com"]
    assert row["meeting_seconds"] == 60 * 60  # 20 + 40 minutes, the gap not counted
    assert row["attended_seconds"] == 60 * 60 and row["segments"] == 2
    assert row["status"] == "complete"
    assert row["meeting_start"] == pd.Timestamp(T0)
    assert row["meeting_end"] == pd.Timestamp(T0 + timedelta(minutes=70))
    assert flags(row) == {"NOT_ON_ROSTER", "RESTARTED"}
    b = a.loc["b@x.com"]
    assert b["attended_seconds"] == 20 * 60 and b["status"] == "partial"
    assert flags(b) == {"EARLY_LEAVE", "NOT_ON_ROSTER", "RESTARTED"}
    assert all("RESTARTED" in flags(a.loc[k]) for k in a.index)
    course = result.courses.set_index("person_key").loc["a@x.com"]
    assert course["sessions_total"] == 1 and course["completed"]


def test_rule_15_reports_show_a_restarted_session_once_with_its_whole_window() -> None:
    first = restarted("series_I_1", 0, 20).instance
    second = restarted("series_I_2", 30, 70).instance
    alone = meeting(mid="other").instance
    shown = session_instances([second, alone, first])
    assert [i.id for i in shown] == ["other", "series_I_1"]
    assert shown[1].start == T0 and shown[1].end == T0 + timedelta(minutes=70)
    # Still in progress when the run looked: the session has no end yet.
    running = replace(second, end=None, state="inProgress")
    (session,) = session_instances([first, running])
    assert session.id == "series_I_1" and session.end is None


def test_flag_restarted_intervals_are_clipped_to_the_union_of_windows() -> None:
    # A device of the first instance whose leave time runs into the second: the part in
    # the gap (09:20-09:30) is not counted, the part in the second window is.
    first = restarted("series_I_1", 0, 20, rec("a@x.com", dev(0, 45, durationSecond=2700)))
    second = restarted("series_I_2", 30, 70)
    row = by_key(run(first, second)).loc["a@x.com"]
    assert row["attended_seconds"] == (20 + 15) * 60
    assert row["segments"] == 2


def test_rule_15_a_course_counts_a_restarted_session_once() -> None:
    first = restarted("series_I_1", 0, 20, rec("a@x.com", dev(0, 20)))
    second = restarted("series_I_2", 30, 70)
    other = meeting(
        rec("a@x.com", dev(0, 60)),
        mid="m9",
        start=T0 + timedelta(days=1),
        end=T0 + timedelta(days=1, hours=1),
    )
    other = InstanceRecords(
        Instance(**{**other.instance.__dict__, "course": "course"}), other.records
    )
    result = run(first, second, other)
    course = result.courses.iloc[0]
    assert course["sessions_total"] == 2
    assert course["missing"] == "series_I_1;m9"


# -- the overrides loader (rule 13) ----------------------------------------------------------


def test_overrides_file_loads_with_semicolons(tmp_path: Path) -> None:
    from reporting.overrides import load_overrides

    path = tmp_path / "overrides.csv"
    path.write_text(
        "\ufeffPerson;Scope;Decision;Value;Reason;Reviewer;Date\n"
        "clara@example.com;*;Excused;;parental leave;lead@example.com;2026-11-03\n"
        "tel:+49 89 5550002;m1;same_as;clara@example.com;her phone;lead@example.com;2026-11-03\n",
        encoding="utf-8",
    )
    first, second = load_overrides(path)
    assert (first.decision, first.value, first.line, first.date) == (
        "excused",
        None,
        2,
        date(2026, 11, 3),
    )
    assert second.person_key == "tel:49895550002"
    assert second.where == f"{path}:3"
