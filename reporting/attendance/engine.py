"""From stored participant records to attendance, device, breakout and course rows.

``compute`` implements ATTENDANCE_RULES.md over whole columns at once: the records of every
instance are flattened into one intervals table, every timestamp is parsed in one call,
and the union of each person's intervals is one sort plus one running maximum. All times
are integer milliseconds (UTC) until the output columns are built, so every comparison
and sum is exact; seconds are rounded down at the end.

Readings of the rules
---------------------
Where ATTENDANCE_RULES.md leaves a choice, the engine reads it as a compliance officer
would expect; the tests name each reading.

1. *Representative record.* A person's ``display_name`` and ``email`` come from their
   earliest-joining admitted record (lobby records last, then API order), skipping records
   where that field is empty. ``display_name`` is always what Webex showed; the roster's
   name is in ``roster_name`` (a roster person with no record shows the roster name, or
   the email, as ``display_name``). ``email`` is the roster's primary email when the
   person is on the roster, else the record's email (trimmed, case kept); empty for
   people without an email.
2. *Record-level fallback.* A record with no device whose ``joinedTime`` is known
   contributes one interval from its own ``joinedTime``/``leftTime`` and none from its
   devices; those devices raise no ``UNKNOWN_JOIN`` (the fallback replaced them). If the
   record's own join is unknown too, that interval raises ``UNKNOWN_JOIN``. Breakout
   entries count in addition, whether or not the fallback applied.
3. *Unknown ends apply to breakouts too.* A breakout entry with unknown ``leftTime``
   follows the same steps as a device (as-of time / record's leftTime / meeting end).
4. *Duration check.* ``DURATION_MISMATCH`` compares ``durationSecond`` with the device's
   own timestamps only when both were known (not when ``left`` was inferred or the
   meeting is running), on the unclipped times; a missing or non-numeric
   ``durationSecond`` is not checked.
5. *Lobby records* contribute no interval, no flag but ``LOBBY``, and take no part in
   inferring a window; their device entries are still listed in ``devices`` and counted
   in the ``devices`` column (the column counts device entries, as received), and their
   ``host``/``coHost`` still count for ``is_host``/``is_cohost`` (rule 5: "any record").
6. *Clipping.* Device, fallback and breakout intervals are all clipped to the window.
   Empty intervals (equal ends, or nothing left after clipping) add nothing to the union:
   no time, no segment, no first join.
7. *Zero seconds.* ``status`` is ``absent`` whenever ``attended_seconds`` (rounded down)
   is 0, even if the threshold would be met (e.g. a 0-second meeting); ``LATE_JOIN`` /
   ``EARLY_LEAVE`` are never raised for such rows.
8. *In-progress meetings.* The window ends at the as-of time: ``meeting_end`` is the
   as-of time and ``meeting_seconds`` = as-of − start. Every row of such a meeting
   carries ``IN_PROGRESS`` (its figures are provisional), not only rows with an open
   connection. A looked-up instance with no ``end`` is in progress. ``EARLY_LEAVE``
   is not raised while the meeting runs: it has no end yet to leave early from.
9. *Inferred window.* Used when the instance could not be looked up (or has no start):
   earliest known join to latest known leave over records, devices and breakouts of
   admitted records, before clipping. If nothing is known, the window is empty
   (``meeting_seconds`` 0, start/end empty). For "unknown left, meeting ended", the
   inferred end is the meeting's end.
10. *BAD_TIMESTAMP* marks a row when any timestamp of the person's admitted records
    (record, device or breakout) is present but unparseable, whether or not it was needed.
11. *Person keys.* ``tel:`` uses the first device that has a phone number with digits.
    A record with no email, phone, name or id gets the key ``id:`` (empty id).
    Timestamps without an offset are read as UTC (the API's default zone).
12. *Courses.* ``sessions_total`` counts the course's instances in the period: those
    fetched and, given ``planned``, those planned but not fetched. A session that could
    not be fetched therefore counts as not completed by anyone, so nobody completes a
    course on the strength of the sessions that happened to be fetched. Rule 13 caps
    ``sessions_required`` at the sessions not excused (Part two's readings, in
    docs/ATTENDANCE_RULES.md, cover rules 10-13 and 15). A course
    row's ``display_name`` is the roster name when the person is on a roster in any of
    the course's instances, else the name of their earliest row.
13. *Row order.* attendance: meeting start (unknown last), meeting id, display name
    (case-folded, empty last), person key. devices/breakouts: the attendance order of
    their person, then join time (unknown last), then API order. courses: course (by the
    config entry it first appears in, then label), display name, person key.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime

import numpy as np
import numpy.typing as npt
import pandas as pd

from reporting.attendance.audit import Audit, audit_rows
from reporting.attendance.connections import intervals, person_unions
from reporting.attendance.courses import courses_frame
from reporting.attendance.facts import person_facts
from reporting.attendance.frames import (
    ABSENT,
    ATTENDANCE_COLUMNS,
    COMPLETE,
    EXCUSED,
    PARTIAL,
    RecordOwners,
    attendance_frame,
    breakouts_frame,
    devices_frame,
    meets_threshold,
)
from reporting.attendance.hints import caller_hints, empty_hints
from reporting.attendance.ingest import read_columns
from reporting.attendance.intervals import NO_TIME
from reporting.attendance.persons import Persons, group_persons
from reporting.attendance.records import Flat
from reporting.attendance.rows import Rows
from reporting.attendance.sessions import Sessions
from reporting.attendance.tables import overrides_frame
from reporting.attendance.timeparse import FlatTimes
from reporting.attendance.windows import meeting_windows, session_windows, to_ms
from reporting.collector import collector_paused
from reporting.columns import COURSE_CSV_COLUMNS, DEVICE_CSV_COLUMNS
from reporting.model import Instance, InstanceRecords
from reporting.overrides import Override
from reporting.protocols import RulesLike
from reporting.roster import Roster

I64 = npt.NDArray[np.int64]
Obj = npt.NDArray[np.object_]

__all__ = [
    "ABSENT",
    "ATTENDANCE_COLUMNS",
    "COMPLETE",
    "COURSE_COLUMNS",
    "DEVICE_COLUMNS",
    "EXCUSED",
    "PARTIAL",
    "AttendanceResult",
    "compute",
    "meets_threshold",
    "to_ms",
]

DEVICE_COLUMNS = DEVICE_CSV_COLUMNS
COURSE_COLUMNS = COURSE_CSV_COLUMNS


class AttendanceResult:
    """The computed tables; datetimes are tz-aware UTC, durations integer seconds.

    `devices` and `breakouts` may be given as functions that build the table: it is then
    built on first use and kept. attendance.csv and the course figures need neither, and
    the devices table (one row per device entry, several columns of text) costs about as
    much as the attendance rows themselves.
    """

    __slots__ = ("_breakouts", "_devices", "attendance", "caller_hints", "courses", "overrides")

    def __init__(
        self,
        attendance: pd.DataFrame,
        devices: pd.DataFrame | Callable[[], pd.DataFrame],
        breakouts: pd.DataFrame | Callable[[], pd.DataFrame],
        courses: pd.DataFrame,
        caller_hints: pd.DataFrame | None = None,
        overrides: pd.DataFrame | None = None,
    ) -> None:
        self.attendance = attendance
        self._devices = devices
        self._breakouts = breakouts
        self.courses = courses
        # Rule 12: one row per unidentified caller and email seen with their number
        # (CALLER_HINT_COLUMNS); `hint_text` words one.
        self.caller_hints = caller_hints if caller_hints is not None else empty_hints()
        # Rule 13: every override line given, with `rows` (how many rows it applied to);
        # a line with 0 rows matched nothing and is a warning.
        self.overrides = overrides if overrides is not None else overrides_frame((), None)

    @property
    def unmatched_overrides(self) -> list[str]:
        """One warning per override that matched no row (rule 13)."""
        frame = self.overrides
        return [
            f"{where}: override {decision} for {person} in scope {scope!r} matched no row"
            for where, decision, person, scope in frame.loc[
                frame["rows"] == 0, ["where", "decision", "person", "scope"]
            ].itertuples(index=False)
        ]

    @property
    def devices(self) -> pd.DataFrame:
        if not isinstance(self._devices, pd.DataFrame):
            self._devices = self._devices()
        return self._devices

    @property
    def breakouts(self) -> pd.DataFrame:
        if not isinstance(self._breakouts, pd.DataFrame):
            self._breakouts = self._breakouts()
        return self._breakouts


def compute(
    data: Sequence[InstanceRecords],
    rules: RulesLike,
    rosters: Mapping[str, Roster | None],
    as_of: datetime,
    *,
    planned: Sequence[Instance] = (),
    overrides: Sequence[Override] = (),
    phone_region: str | None = None,
) -> AttendanceResult:
    """Apply ATTENDANCE_RULES.md to every instance (see the module docstring).

    ``rosters`` maps an instance id to the roster that applies to it (rules 7 and 14); an
    instance missing from it, or mapped to None, has no roster.

    ``planned`` lists every instance of the period, fetched or not; courses count the
    ones missing from ``data`` as sessions nobody completed (reading 12).

    ``overrides`` are the reviewers' decisions (rule 13); ``phone_region`` the config's
    ``roster_phone_region``, in which callers' numbers without ``+`` are also read.
    """
    # The engine makes no reference cycles, but its many short-lived objects trigger
    # collections, and a full one walks every container in the process (the decoded
    # records of every page among them), for nothing.
    with collector_paused():
        return _compute(data, rules, rosters, as_of, planned, overrides, phone_region)


def _compute(
    data: Sequence[InstanceRecords],
    rules: RulesLike,
    rosters: Mapping[str, Roster | None],
    as_of: datetime,
    planned: Sequence[Instance],
    overrides: Sequence[Override],
    phone_region: str | None,
) -> AttendanceResult:
    """The phases, in order: columns, times, persons, windows, intervals and their
    unions, per-person facts, rows with their rosters, the audit, then the tables."""
    as_of_ms = to_ms(as_of)
    flat = read_columns(data)
    times = flat.times
    instances = [d.instance for d in data]
    sessions = Sessions.of_instances(instances)
    inst_roster = [rosters.get(i.id) for i in instances]
    persons = group_persons(flat, instances, sessions, inst_roster, overrides, phone_region)
    win = meeting_windows(data, as_of_ms, flat, times)
    iv = intervals(flat, times, win, as_of_ms)
    unions = person_unions(iv, win, sessions, persons.rec_pid, len(persons))
    facts = person_facts(data, flat, times, iv, persons.rec_pid, len(persons))
    # A session's roster is its first instance's; only that instance gets rows.
    session_roster = [
        roster if sessions.of[i] == i else None for i, roster in enumerate(inst_roster)
    ]
    rows = Rows.of_persons(persons, facts, unions).with_rosters(session_roster, len(data))
    audit = _audit(data, rows, facts.admitted, persons, sessions, inst_roster, overrides)
    attendance, person_pos = attendance_frame(
        data, rows, session_windows(win, sessions), rules, audit
    )
    ids = np.array([i.id for i in instances], dtype=object)
    owners = RecordOwners(
        meeting_id=ids[sessions.of[flat.rec_inst]],
        person_key=persons.key[persons.rec_pid],
        position=person_pos[persons.rec_pid],
    )
    return AttendanceResult(
        attendance,
        devices=lambda: devices_frame(flat, owners, times.dev_joined, times.dev_left),
        breakouts=lambda: breakouts_frame(flat, owners, times.bo_joined, times.bo_left),
        courses=courses_frame(data, planned, sessions, attendance, rules),
        caller_hints=_hints(flat, times, persons, rows.key, owners.meeting_id, phone_region, ids),
        overrides=overrides_frame(overrides, audit.rows_per_override),
    )


def _audit(
    data: Sequence[InstanceRecords],
    rows: Rows,
    admitted: npt.NDArray[np.bool_],
    persons: Persons,
    sessions: Sessions,
    inst_roster: list[Roster | None],
    overrides: Sequence[Override],
) -> Audit:
    """Part two's columns of the rows: roles, required, overrides, seen_as (rules 10-13)."""
    return audit_rows(
        rows.inst,
        rows.key,
        rows.host,
        rows.cohost,
        rows.on_roster_applies,
        rows.on_roster,
        admitted,
        persons,
        [d.instance for d in data],
        sessions,
        inst_roster,
        overrides,
        [d.invitees for d in data],
    )


def _hints(
    flat: Flat,
    times: FlatTimes,
    persons: Persons,
    row_key: Obj,
    rec_session_id: Obj,
    region: str | None,
    ids: Obj,
) -> pd.DataFrame:
    """Rule 12's hints for the unidentified callers among the persons."""
    callers = [
        (str(ids[persons.inst[p]]), str(row_key[p]), written)
        for p, written in sorted(persons.phone.items())
        if str(row_key[p]).startswith("tel:")
    ]
    if not callers:
        return empty_hints()
    # Only devices with a number can hint at anyone: they are taken first (a fifth of
    # the devices or fewer), and the rest of the work is over them alone.
    phones = flat.dev_phone
    with_phone = np.flatnonzero(phones != None)  # noqa: E711 - elementwise, not identity
    rec = flat.dev_rec[with_phone]
    return caller_hints(
        callers,
        phones[with_phone],
        flat.rec_email[rec],
        flat.rec_name[rec],
        rec_session_id[rec],
        np.where(times.dev_joined.known, times.dev_joined.ms, NO_TIME)[with_phone],
        region,
    )
