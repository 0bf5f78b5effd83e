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
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from typing import TypeVar

import numpy as np
import numpy.typing as npt
import pandas as pd

from reporting.attendance import flags as F
from reporting.attendance.audit import ROLES, Audit, audit_rows
from reporting.attendance.courses import courses_frame
from reporting.attendance.hints import caller_hints, empty_hints
from reporting.attendance.intervals import NO_TIME, union_by_group
from reporting.attendance.persons import Persons, group_persons
from reporting.attendance.records import (
    Flat,
    bad_record_positions,
    breakout_fields,
    device_fields,
    flatten,
)
from reporting.attendance.sessions import Sessions
from reporting.attendance.tables import fold_codes as _fold_codes
from reporting.attendance.tables import overrides_frame
from reporting.attendance.tables import strings as _strings
from reporting.attendance.tables import strings_from_codes as _strings_from_codes
from reporting.attendance.timeparse import parse_times
from reporting.collector import collector_paused
from reporting.columns import (
    ATTENDANCE_CSV_COLUMNS,
    BREAKOUT_COLUMNS,
    COURSE_CSV_COLUMNS,
    DEVICE_CSV_COLUMNS,
)
from reporting.model import Instance, InstanceRecords
from reporting.overrides import Override
from reporting.protocols import RulesLike, ThresholdLike
from reporting.roster import Roster, RosterEntry

I64 = npt.NDArray[np.int64]
Mask = npt.NDArray[np.bool_]
Obj = npt.NDArray[np.object_]
_G = TypeVar("_G", bound=np.generic)

# The CSV contracts of DESIGN.md, then what the reports also show.
ATTENDANCE_COLUMNS: tuple[str, ...] = (
    *ATTENDANCE_CSV_COLUMNS,
    "course",
    "roster_name",
    "department",
)
DEVICE_COLUMNS = DEVICE_CSV_COLUMNS
COURSE_COLUMNS = COURSE_CSV_COLUMNS

COMPLETE = "complete"
PARTIAL = "partial"
ABSENT = "absent"
EXCUSED = "excused"  # set only by a reviewer's decision (rule 13)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)
_MAX = np.iinfo(np.int64).max


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


def to_ms(moment: datetime) -> int:
    """Milliseconds since the epoch, rounded down; a naive datetime is read as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - _EPOCH) // _MS


@dataclass(frozen=True)
class _Windows:
    start: I64
    start_known: Mask
    end: I64
    end_known: Mask
    inferred: Mask
    in_progress: Mask
    length: I64  # ms: end - start; for a restarted session, the union of its windows


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
    # collections, and a full one walks every container in the process: right after the
    # records are loaded that is millions of record and device dicts, for nothing (0.2-0.5 s
    # on the 1M-device benchmark).
    with collector_paused():
        return _compute(data, rules, rosters, as_of, planned, overrides, phone_region)


def _compute(  # noqa: PLR0915
    data: Sequence[InstanceRecords],
    rules: RulesLike,
    rosters: Mapping[str, Roster | None],
    as_of: datetime,
    planned: Sequence[Instance],
    overrides: Sequence[Override],
    phone_region: str | None,
) -> AttendanceResult:
    as_of_ms = to_ms(as_of)
    n_inst = len(data)
    flat = flatten(data)
    n_rec, n_dev, n_bo = len(flat.rec_key), len(flat.dev_rec), len(flat.bo_rec)

    raw_times = [
        flat.rec_joined,
        flat.rec_left,
        flat.dev_joined,
        flat.dev_left,
        flat.bo_joined,
        flat.bo_left,
    ]
    times = parse_times(np.concatenate(raw_times))
    cuts = np.cumsum([0, n_rec, n_rec, n_dev, n_dev, n_bo, n_bo])

    def part(k: int) -> tuple[I64, Mask, Mask]:
        sl = slice(int(cuts[k]), int(cuts[k + 1]))
        return times.ms[sl], times.known[sl], times.bad[sl]

    rj, rjk, rjb = part(0)
    rl, rlk, rlb = part(1)
    dj, djk, djb = part(2)
    dl, dlk, dlb = part(3)
    bj, bjk, bjb = part(4)
    bl, blk, blb = part(5)

    lobby = flat.rec_lobby
    dev_inst = flat.rec_inst[flat.dev_rec]
    bo_inst = flat.rec_inst[flat.bo_rec]

    # -- persons: one per (session, final person key) (rules 2, 7, 12, 13, 15) --------
    instances = [d.instance for d in data]
    sessions = Sessions.of_instances(instances)
    inst_roster = [rosters.get(i.id) for i in instances]
    persons = group_persons(flat, instances, sessions, inst_roster, overrides, phone_region)
    rec_pid = persons.rec_pid
    n_p = len(persons)
    p_inst = persons.inst
    p_key = persons.key

    # -- the meeting windows (rule 4) -------------------------------------------------
    admitted_dev = ~lobby[flat.dev_rec]
    admitted_bo = ~lobby[flat.bo_rec]
    join_inst = np.concatenate(
        [flat.rec_inst[~lobby], dev_inst[admitted_dev], bo_inst[admitted_bo]]
    )
    join_ms = np.concatenate([rj[~lobby], dj[admitted_dev], bj[admitted_bo]])
    join_known = np.concatenate([rjk[~lobby], djk[admitted_dev], bjk[admitted_bo]])
    leave_ms = np.concatenate([rl[~lobby], dl[admitted_dev], bl[admitted_bo]])
    leave_known = np.concatenate([rlk[~lobby], dlk[admitted_dev], blk[admitted_bo]])
    win = _windows(data, as_of_ms, join_inst, join_ms, join_known, leave_ms, leave_known)

    # -- intervals (rule 3) -----------------------------------------------------------
    rec_uses_dev = np.zeros(n_rec, dtype=np.bool_)
    rec_uses_dev[flat.dev_rec[djk]] = True
    dsel = admitted_dev & rec_uses_dev[flat.dev_rec]
    fsel = ~lobby & ~rec_uses_dev
    bsel = admitted_bo
    n_d, n_f, n_b = int(dsel.sum()), int(fsel.sum()), int(bsel.sum())
    rec = np.concatenate([flat.dev_rec[dsel], np.flatnonzero(fsel), flat.bo_rec[bsel]])
    src = np.repeat(np.array([0, 1, 2], dtype=np.int8), [n_d, n_f, n_b])
    j = np.concatenate([dj[dsel], rj[fsel], bj[bsel]])
    jk = np.concatenate([djk[dsel], rjk[fsel], bjk[bsel]])
    left = np.concatenate([dl[dsel], rl[fsel], bl[bsel]])
    lk = np.concatenate([dlk[dsel], rlk[fsel], blk[bsel]])
    dur = np.concatenate([flat.dev_duration[dsel], np.full(n_f + n_b, np.nan)])

    inst = flat.rec_inst[rec]
    iflags = np.zeros(len(rec), dtype=np.int64)
    iflags[~jk] |= F.BIT[F.UNKNOWN_JOIN]
    open_left = jk & ~lk
    running = win.in_progress[inst]
    rec_left_known = rlk[rec]
    to_as_of = open_left & running
    to_rec_left = open_left & ~running & rec_left_known
    to_end = open_left & ~running & ~rec_left_known & win.end_known[inst]
    lost = open_left & ~running & ~rec_left_known & ~win.end_known[inst]
    left = np.where(to_as_of, as_of_ms, left)
    left = np.where(to_rec_left, rl[rec], left)
    left = np.where(to_end, win.end[inst], left)
    iflags[to_as_of] |= F.BIT[F.IN_PROGRESS]
    iflags[to_rec_left | to_end] |= F.BIT[F.LEFT_TIME_INFERRED]
    iflags[lost] |= F.BIT[F.UNKNOWN_LEAVE]
    resolved = jk & ~lost
    invalid = resolved & (left < j)
    iflags[invalid] |= F.BIT[F.INVALID_INTERVAL]
    valid = resolved & ~invalid
    checked = valid & (src == 0) & lk & ~np.isnan(dur)
    mismatch = np.zeros(len(rec), dtype=np.bool_)
    mismatch[checked] = (
        np.abs(dur[checked] * 1000.0 - (left[checked] - j[checked]).astype(np.float64)) > 60000.0
    )
    iflags[mismatch] |= F.BIT[F.DURATION_MISMATCH]

    # Clip to the window; an unknown window edge (empty inferred window) clips nothing,
    # and then there is no interval with a known join either.
    ws = win.start[inst]
    we = win.end[inst]
    cs = np.where(win.start_known[inst], np.maximum(j, ws), j)
    ce = np.where(win.end_known[inst], np.minimum(left, we), left)
    keep = valid & (ce > cs)
    gid = rec_pid[rec]
    if sessions.any_restarted:
        # Rule 15: a restarted session's window is the union of its instances' windows,
        # and every interval is clipped to that union: to its own window (above) and to
        # each other instance's (here); the union of the pieces counts no gap twice.
        extra, other = _restart_copies(sessions, inst, valid, win)
        ocs = np.maximum(j[extra], win.start[other])
        oce = np.minimum(left[extra], win.end[other])
        okeep = oce > ocs
        keep_idx = np.concatenate([np.flatnonzero(keep), extra[okeep]])
        cs = np.concatenate([cs[keep], ocs[okeep]])
        ce = np.concatenate([ce[keep], oce[okeep]])
        is_bo = src[keep_idx] == 2
        g = gid[keep_idx]
        union_all = union_by_group(g, cs, ce, n_p)
        union_bo = union_by_group(g[is_bo], cs[is_bo], ce[is_bo], n_p)
    else:
        union_all = union_by_group(gid[keep], cs[keep], ce[keep], n_p)
        keep_bo = keep & (src == 2)
        union_bo = union_by_group(gid[keep_bo], cs[keep_bo], ce[keep_bo], n_p)

    # -- per-record and per-person facts ----------------------------------------------
    rec_flags = np.zeros(n_rec, dtype=np.int64)
    hit = iflags != 0
    np.bitwise_or.at(rec_flags, rec[hit], iflags[hit])
    rec_bad = rjb | rlb
    rec_bad[flat.dev_rec[djb | dlb]] = True
    rec_bad[flat.bo_rec[bjb | blb]] = True
    rec_flags[rec_bad & ~lobby] |= F.BIT[F.BAD_TIMESTAMP]
    rec_flags[lobby] = F.BIT[F.LOBBY]
    rec_flags[bad_record_positions(data, flat)] |= F.BIT[F.BAD_RECORD]
    p_flags = np.zeros(n_p, dtype=np.int64)
    hit = rec_flags != 0
    np.bitwise_or.at(p_flags, rec_pid[hit], rec_flags[hit])

    p_host = np.zeros(n_p, dtype=np.bool_)
    p_host[rec_pid[flat.rec_host]] = True
    p_cohost = np.zeros(n_p, dtype=np.bool_)
    p_cohost[rec_pid[flat.rec_cohost]] = True
    p_devices = np.bincount(rec_pid[flat.dev_rec], minlength=n_p).astype(np.int64)
    p_name, p_email = _representatives(flat, rec_pid, n_p, rj, rjk, dj, djk, bj, bjk)
    p_admitted = np.bincount(rec_pid[~lobby], minlength=n_p) > 0

    # -- rosters: names, departments, absent rows, NOT_ON_ROSTER (rule 7) ------------
    # A session's roster is its first instance's; only that instance gets rows.
    session_roster = [
        roster if sessions.of[i] == i else None for i, roster in enumerate(inst_roster)
    ]
    rows = _Rows.from_persons(
        p_inst,
        p_key,
        p_name,
        p_email,
        p_host,
        p_cohost,
        p_devices,
        p_flags,
        union_all.total,
        union_bo.total,
        union_all.first,
        union_all.last,
        union_all.segments,
    )
    rows = rows.with_rosters(session_roster, n_inst)

    # -- part two: roles, required, overrides, seen_as (rules 10-13) -----------------
    session_win = _session_windows(win, sessions)
    audit = audit_rows(
        rows.inst,
        rows.key,
        rows.host,
        rows.cohost,
        rows.on_roster_applies,
        rows.on_roster,
        p_admitted,
        persons,
        instances,
        sessions,
        inst_roster,
        overrides,
        [d.invitees for d in data],
    )
    attendance, person_pos = _attendance_frame(data, rows, session_win, rules, audit)
    courses = courses_frame(data, planned, sessions, attendance, rules)
    ids = np.array([i.id for i in instances], dtype=object)
    rec_session_id = ids[sessions.of[flat.rec_inst]]
    rec_person_key = p_key[rec_pid]
    hints = _hints(flat, persons, rows.key, rec_session_id, dj, djk, phone_region, ids)
    return AttendanceResult(
        attendance,
        devices=lambda: _devices_frame(
            flat, rec_session_id, rec_person_key, rec_pid, person_pos, dj, djk, dl, dlk
        ),
        breakouts=lambda: _breakouts_frame(
            flat, rec_session_id, rec_person_key, rec_pid, person_pos, bj, bjk, bl, blk
        ),
        courses=courses,
        caller_hints=hints,
        overrides=overrides_frame(overrides, audit.rows_per_override),
    )


def _restart_copies(sessions: Sessions, inst: I64, valid: Mask, win: _Windows) -> tuple[I64, I64]:
    """(interval index, another instance of its session) for every valid interval of a
    restarted session and each other instance whose window is known at both ends."""
    siblings: list[list[int]] = [[] for _ in range(len(sessions.of))]
    for members in sessions.members.values():
        for m in members:
            siblings[m] = [o for o in members if o != m and win.start_known[o] and win.end_known[o]]
    counts = np.array([len(s) for s in siblings], dtype=np.int64)
    flat_siblings = np.array([o for s in siblings for o in s], dtype=np.int64)
    offsets = np.cumsum(counts) - counts
    idx = np.flatnonzero(valid & (counts[inst] > 0))
    per = counts[inst[idx]]
    extra = np.repeat(idx, per)
    within = np.arange(len(extra)) - np.repeat(np.cumsum(per) - per, per)
    other = flat_siblings[offsets[inst[extra]] + within] if len(extra) else extra
    return extra, other


def _session_windows(win: _Windows, sessions: Sessions) -> _Windows:
    """The windows of sessions, at each session's first instance: for a restarted one,
    from its first start to its last end, `length` the union of its instances' windows."""
    if not sessions.any_restarted:
        return win
    start, start_known = win.start.copy(), win.start_known.copy()
    end, end_known = win.end.copy(), win.end_known.copy()
    inferred, in_progress, length = win.inferred.copy(), win.in_progress.copy(), win.length.copy()
    for first, members in sessions.members.items():
        if len(members) < 2:
            continue
        m = np.array(members, dtype=np.int64)
        starts, ends = m[win.start_known[m]], m[win.end_known[m]]
        start_known[first], end_known[first] = len(starts) > 0, len(ends) > 0
        start[first] = win.start[starts].min() if len(starts) else 0
        end[first] = win.end[ends].max() if len(ends) else 0
        inferred[first] = bool(win.inferred[m].any())
        in_progress[first] = bool(win.in_progress[m].any())
        both = m[win.start_known[m] & win.end_known[m] & (win.end[m] > win.start[m])]
        blocks = union_by_group(
            np.zeros(len(both), dtype=np.int64), win.start[both], win.end[both], 1
        )
        length[first] = blocks.total[0]
    return _Windows(start, start_known, end, end_known, inferred, in_progress, length)


def _hints(
    flat: Flat,
    persons: Persons,
    row_key: Obj,
    rec_session_id: Obj,
    dj: I64,
    djk: Mask,
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
        np.where(djk, dj, NO_TIME)[with_phone],
        region,
    )


def _windows(
    data: Sequence[InstanceRecords],
    as_of_ms: int,
    join_inst: I64,
    join_ms: I64,
    join_known: Mask,
    leave_ms: I64,
    leave_known: Mask,
) -> _Windows:
    n = len(data)
    looked_up = np.array([d.instance.looked_up for d in data], dtype=np.bool_)
    has_start = np.array([d.instance.start is not None for d in data], dtype=np.bool_)
    has_end = np.array([d.instance.end is not None for d in data], dtype=np.bool_)
    start = np.array(
        [to_ms(d.instance.start) if d.instance.start is not None else 0 for d in data],
        dtype=np.int64,
    )
    end = np.array(
        [to_ms(d.instance.end) if d.instance.end is not None else 0 for d in data],
        dtype=np.int64,
    )
    inferred = ~looked_up | ~has_start
    in_progress = looked_up & ~has_end

    first_join = np.full(n, _MAX, dtype=np.int64)
    np.minimum.at(first_join, join_inst[join_known], join_ms[join_known])
    last_leave = np.full(n, NO_TIME, dtype=np.int64)
    np.maximum.at(last_leave, join_inst[leave_known], leave_ms[leave_known])

    start_known = np.where(inferred, first_join != _MAX, True)
    start = np.where(inferred, np.where(start_known, first_join, 0), start)
    end_known = np.where(in_progress | (looked_up & has_end), True, last_leave != NO_TIME)
    end = np.where(
        in_progress,
        as_of_ms,
        np.where(looked_up & has_end, end, np.where(end_known, last_leave, 0)),
    )
    length = np.where(start_known & end_known, np.maximum(end - start, 0), 0)
    return _Windows(start, start_known, end, end_known, inferred, in_progress, length)


def _representatives(
    flat: Flat,
    rec_pid: I64,
    n_p: int,
    rj: I64,
    rjk: Mask,
    dj: I64,
    djk: Mask,
    bj: I64,
    bjk: Mask,
) -> tuple[Obj, Obj]:
    """The display name and email of each person's earliest-joining admitted record."""
    n_rec = len(rec_pid)
    first = np.where(rjk, rj, _MAX)
    np.minimum.at(first, flat.dev_rec[djk], dj[djk])
    np.minimum.at(first, flat.bo_rec[bjk], bj[bjk])
    order = np.lexsort((np.arange(n_rec), first, flat.rec_lobby, rec_pid))
    out: list[Obj] = []
    for values in (flat.rec_name, flat.rec_email):
        column = np.empty(n_p, dtype=object)
        column[:] = None
        arr = values
        # A name or email is a non-empty text or None, so truth is presence; it is taken
        # in record order (where the texts lie in memory), then into the sorted order.
        present = order[arr.astype(np.bool_)[order]]
        pids = rec_pid[present]
        # `order` sorts by person first: each person's first present record is where the
        # person id changes.
        first_of_person = np.flatnonzero(np.diff(pids, prepend=-1) != 0)
        column[pids[first_of_person]] = arr[present[first_of_person]]
        out.append(column)
    return out[0], out[1]


@dataclass(frozen=True)
class _Rows:
    """Attendance rows before the window-dependent figures: persons, then absent rows."""

    inst: I64
    key: Obj
    name: Obj
    email: Obj
    host: Mask
    cohost: Mask
    devices: I64
    flags: I64
    total_ms: I64
    breakout_ms: I64
    first: I64
    last: I64
    segments: I64
    roster_name: Obj
    department: Obj
    on_roster_applies: Mask  # a roster applies to the row's instance
    on_roster: Mask

    @classmethod
    def from_persons(
        cls,
        inst: I64,
        key: Obj,
        name: Obj,
        email: Obj,
        host: Mask,
        cohost: Mask,
        devices: I64,
        flags: I64,
        total_ms: I64,
        breakout_ms: I64,
        first: I64,
        last: I64,
        segments: I64,
    ) -> _Rows:
        n = len(inst)
        none = np.empty(n, dtype=object)
        none[:] = None
        no = np.zeros(n, dtype=np.bool_)
        return cls(
            inst,
            key,
            name,
            email,
            host,
            cohost,
            devices,
            flags,
            total_ms,
            breakout_ms,
            first,
            last,
            segments,
            none,
            none.copy(),
            no,
            no.copy(),
        )

    def with_rosters(self, inst_roster: list[Roster | None], n_inst: int) -> _Rows:
        if all(r is None for r in inst_roster):
            return self
        n = len(self.inst)
        roster_name = self.roster_name.copy()
        department = self.department.copy()
        email = self.email.copy()
        on = np.zeros(n, dtype=np.bool_)
        # One pass per distinct roster (one roster usually serves many meetings), over
        # the distinct keys of its rows.
        by_roster: dict[int, tuple[Roster, list[int]]] = {}
        for i, roster in enumerate(inst_roster):
            if roster is not None:
                by_roster.setdefault(id(roster), (roster, []))[1].append(i)
        roster_of_inst = np.full(n_inst, -1, dtype=np.int64)
        absent_inst: list[I64] = []
        absent_entry: list[I64] = []
        absent_roster: list[I64] = []
        rosters = [roster for roster, _ in by_roster.values()]
        for r, (roster, instances) in enumerate(by_roster.values()):
            roster_of_inst[instances] = r
            rows = np.flatnonzero(roster_of_inst[self.inst] == r)
            codes, distinct = pd.factorize(self.key[rows])
            entries = [roster.entry_for_key(k) for k in distinct.tolist()]
            found = np.array([e is not None for e in entries] + [False], dtype=np.bool_)
            hit = found[codes]
            on[rows[hit]] = True
            listed = _entry_columns([e for e in entries if e is not None])
            # Positions of the found entries among `listed`, per distinct key.
            where = np.cumsum(found) - 1
            taken = where[codes[hit]]
            roster_name[rows[hit]] = listed.name[taken]
            department[rows[hit]] = listed.department[taken]
            email[rows[hit]] = listed.email[taken]
            inst_r, entry_r = _absent_entries(roster, instances, self.inst[rows], self.key[rows])
            absent_inst.append(inst_r)
            absent_entry.append(entry_r)
            absent_roster.append(np.full(len(inst_r), r, dtype=np.int64))
        applies = roster_of_inst[self.inst] >= 0
        # Absent rows in meeting order, each meeting's in roster order.
        a_inst = np.concatenate(absent_inst)
        order = np.argsort(a_inst, kind="stable")
        a_inst = a_inst[order]
        a_entry = np.concatenate(absent_entry)[order]
        a_roster = np.concatenate(absent_roster)[order]
        absent = _absent_columns(rosters, a_roster, a_entry)
        m = len(a_inst)
        zeros = np.zeros(m, dtype=np.int64)
        return _Rows(
            inst=np.concatenate([self.inst, a_inst]),
            key=np.concatenate([self.key, absent.key]),
            name=np.concatenate([self.name, absent.shown]),
            email=np.concatenate([email, absent.email]),
            host=np.concatenate([self.host, zeros.astype(np.bool_)]),
            cohost=np.concatenate([self.cohost, zeros.astype(np.bool_)]),
            devices=np.concatenate([self.devices, zeros]),
            flags=np.concatenate([self.flags, zeros]),
            total_ms=np.concatenate([self.total_ms, zeros]),
            breakout_ms=np.concatenate([self.breakout_ms, zeros]),
            first=np.concatenate([self.first, np.full(m, NO_TIME, dtype=np.int64)]),
            last=np.concatenate([self.last, np.full(m, NO_TIME, dtype=np.int64)]),
            segments=np.concatenate([self.segments, zeros]),
            roster_name=np.concatenate([roster_name, absent.name]),
            department=np.concatenate([department, absent.department]),
            on_roster_applies=np.concatenate([applies, np.ones(m, dtype=np.bool_)]),
            on_roster=np.concatenate([on, np.ones(m, dtype=np.bool_)]),
        )


@dataclass(frozen=True)
class _EntryColumns:
    key: Obj
    email: Obj
    name: Obj
    shown: Obj  # the name, or the email for a person without one
    department: Obj


def _objects(values: list[str | None]) -> Obj:
    array = np.empty(len(values), dtype=object)
    array[:] = values
    return array


def _entry_columns(entries: Sequence[RosterEntry]) -> _EntryColumns:
    return _EntryColumns(
        key=_objects([e.key for e in entries]),
        email=_objects([e.email for e in entries]),
        name=_objects([e.name for e in entries]),
        shown=_objects([e.name or e.email for e in entries]),
        department=_objects([e.department for e in entries]),
    )


def _absent_columns(rosters: list[Roster], roster: I64, entry: I64) -> _EntryColumns:
    """The columns of roster ``entry`` of ``rosters[roster]``, per absent row."""
    tables = [_entry_columns(r.entries) for r in rosters]
    sizes = np.array([len(r.entries) for r in rosters], dtype=np.int64)
    at = (np.cumsum(sizes) - sizes)[roster] + entry

    def joined(field: str) -> Obj:
        column: Obj = np.concatenate([getattr(t, field) for t in tables])[at]
        return column

    return _EntryColumns(
        joined("key"), joined("email"), joined("name"), joined("shown"), joined("department")
    )


def _absent_entries(
    roster: Roster, instances: list[int], row_inst: I64, row_key: Obj
) -> tuple[I64, I64]:
    """(instance, entry position) of each roster entry with no row in the instance, in
    instance order, then roster order."""
    entry_codes, entry_keys = pd.factorize(_objects([e.key for e in roster.entries]))
    local = np.full(int(max(instances)) + 1, -1, dtype=np.int64)
    local[instances] = np.arange(len(instances))
    present = np.zeros((len(instances), len(entry_keys) + 1), dtype=np.bool_)
    at = pd.Index(entry_keys).get_indexer(pd.Index(row_key))  # -1: not a roster key
    present[local[row_inst], at] = True  # -1 marks the spare last column
    absent = ~present[:, entry_codes]
    inst_pos, entry = np.nonzero(absent)
    return np.array(instances, dtype=np.int64)[inst_pos], entry.astype(np.int64)


def meets_threshold(attended: I64, meeting: I64, threshold: ThresholdLike) -> Mask:
    """Rule 6, in exact integer arithmetic: `attended × 100 ≥ share × meeting` for a
    share (a `Fraction` percent such as 87.5), or `attended ≥ seconds` for a duration."""
    if threshold.percent is not None:
        share = Fraction(threshold.percent)
        num, den = share.numerator, share.denominator
        lhs_max = (int(attended.max()) if len(attended) else 0) * 100 * den
        rhs_max = (int(meeting.max()) if len(meeting) else 0) * abs(num)
        if max(lhs_max, rhs_max) < 2**62:
            return np.asarray(attended * (100 * den) >= meeting * num, dtype=np.bool_)
        # Python integers never overflow; only reached for absurd shares or durations.
        return np.array(
            [
                a * 100 * den >= m * num
                for a, m in zip(attended.tolist(), meeting.tolist(), strict=True)
            ],
            dtype=np.bool_,
        )
    if threshold.seconds is not None:
        return np.asarray(attended >= threshold.seconds, dtype=np.bool_)
    raise ValueError("rules.min_attendance has neither a percent nor a duration")


def _utc(ms: I64, known: Mask) -> pd.Series:
    values = np.where(known, ms, NO_TIME).view("datetime64[ms]")
    return pd.Series(values).dt.tz_localize("UTC")


def _instance_rank(data: Sequence[InstanceRecords], win: _Windows) -> I64:
    starts = np.where(win.start_known, win.start, _MAX)
    ids = np.array([d.instance.id for d in data], dtype=object)
    id_codes, _ = pd.factorize(ids, sort=True)
    order = np.lexsort((np.arange(len(data)), id_codes, starts))
    rank = np.empty(len(data), dtype=np.int64)
    rank[order] = np.arange(len(data))
    return rank


def _flag_strings(masks: I64) -> pd.Series:
    """Flag text once per distinct bit mask."""
    uniques, inverse = np.unique(masks, return_inverse=True)
    texts = [F.flags_text(int(m)) for m in uniques.tolist()]
    return _strings_from_codes(texts, inverse.reshape(-1))


def _attendance_frame(
    data: Sequence[InstanceRecords],
    rows: _Rows,
    win: _Windows,
    rules: RulesLike,
    audit: Audit,
) -> tuple[pd.DataFrame, I64]:
    inst = rows.inst
    ws, wsk = win.start[inst], win.start_known[inst]
    we, wek = win.end[inst], win.end_known[inst]
    meeting_seconds = win.length[inst] // 1000
    attended = rows.total_ms // 1000
    breakout = rows.breakout_ms // 1000
    meets = meets_threshold(attended, meeting_seconds, rules.min_attendance)
    some = attended > 0

    flags = rows.flags.copy()
    inferred = win.inferred[inst]
    checked = some & ~inferred
    late = checked & wsk & (rows.first > ws + rules.late_grace_seconds * 1000)
    running = win.in_progress[inst]
    # A running meeting has no end yet to leave early from; IN_PROGRESS says so instead.
    early = checked & wek & ~running & (rows.last < we - rules.early_leave_grace_seconds * 1000)
    flags[late] |= F.BIT[F.LATE_JOIN]
    flags[early] |= F.BIT[F.EARLY_LEAVE]
    flags[rows.on_roster_applies & ~rows.on_roster] |= F.BIT[F.NOT_ON_ROSTER]
    flags[inferred] |= F.BIT[F.MEETING_WINDOW_INFERRED]
    flags[running] |= F.BIT[F.IN_PROGRESS]
    flags |= audit.flags

    has_union = rows.first != NO_TIME
    order = np.lexsort(
        (
            pd.factorize(rows.key, sort=True)[0],
            _fold_codes(rows.name),
            _instance_rank(data, win)[inst],
        )
    )
    position = np.empty(len(order), dtype=np.int64)
    position[order] = np.arange(len(order))

    # Every column is taken into row order before it becomes a Series (taking a finished
    # frame copies every text column a second time); per-meeting text is made once per
    # meeting and taken by the rows' meeting index.
    ids = [d.instance.id for d in data]
    titles = [d.instance.title for d in data]
    courses = [d.instance.course for d in data]
    inst_o = inst[order]
    statuses = [COMPLETE, PARTIAL, ABSENT, EXCUSED]
    status_codes = np.where(some & meets, 0, np.where(some, 1, 2))
    # Rule 13: a reviewer's decision sets the status; the figures stay as computed.
    status_codes = np.where(audit.status >= 0, audit.status, status_codes)

    def by_row(values: npt.NDArray[_G]) -> npt.NDArray[_G]:
        return values[order]

    columns = {
        "meeting_id": _strings_from_codes(ids, inst_o),
        "meeting_title": _strings_from_codes(titles, inst_o),
        "meeting_start": _utc(by_row(ws), by_row(wsk)),
        "meeting_end": _utc(by_row(we), by_row(wek)),
        "meeting_seconds": pd.Series(by_row(meeting_seconds), dtype=np.int64),
        "person_key": _strings(by_row(rows.key)),
        "display_name": _strings(by_row(rows.name)),
        "email": _strings(by_row(rows.email)),
        "is_host": pd.Series(by_row(rows.host), dtype=bool),
        "is_cohost": pd.Series(by_row(rows.cohost), dtype=bool),
        "attended_seconds": pd.Series(by_row(attended), dtype=np.int64),
        "main_session_seconds": pd.Series(by_row(attended - breakout), dtype=np.int64),
        "breakout_seconds": pd.Series(by_row(breakout), dtype=np.int64),
        "first_join": _utc(by_row(rows.first), by_row(has_union)),
        "last_leave": _utc(by_row(rows.last), by_row(has_union)),
        "segments": pd.Series(by_row(rows.segments), dtype=np.int64),
        "devices": pd.Series(by_row(rows.devices), dtype=np.int64),
        "status": _strings_from_codes(statuses, by_row(status_codes)),
        "flags": _flag_strings(by_row(flags)),
        "course": _strings_from_codes(courses, inst_o),
        "roster_name": _strings(by_row(rows.roster_name)),
        "department": _strings(by_row(rows.department)),
        "role": _strings_from_codes(ROLES, by_row(audit.role)),
        "required": pd.Series(by_row(audit.required), dtype=bool),
        "override": _strings(by_row(audit.override)),
        "override_reason": _strings(by_row(audit.override_reason)),
        "override_reviewer": _strings(by_row(audit.override_reviewer)),
        "override_date": _strings(by_row(audit.override_date)),
        "seen_as": _strings(by_row(audit.seen_as)),
    }
    # copy=False: the columns were made for this frame alone; a copy would only cost time.
    return pd.DataFrame(columns, columns=list(ATTENDANCE_COLUMNS), copy=False), position


def _devices_frame(
    flat: Flat,
    rec_meeting_id: Obj,
    rec_person_key: Obj,
    rec_pid: I64,
    person_pos: I64,
    dj: I64,
    djk: Mask,
    dl: I64,
    dlk: Mask,
) -> pd.DataFrame:
    n = len(flat.dev_rec)
    pos = person_pos[rec_pid[flat.dev_rec]] if n else np.zeros(0, dtype=np.int64)
    order = np.lexsort((np.arange(n), np.where(djk, dj, _MAX), pos))
    duration = (
        pd.array(np.floor(flat.dev_duration), dtype="Float64").astype("Int64")
        if n
        else pd.array([], dtype="Int64")
    )
    correlation_id, device_type, audio_type, call_type, phone_number = device_fields(flat)
    frame = pd.DataFrame(
        {
            "meeting_id": _strings(rec_meeting_id[flat.dev_rec]),
            "person_key": _strings(rec_person_key[flat.dev_rec]),
            "correlation_id": _strings(correlation_id),
            "device_type": _strings(device_type),
            "audio_type": _strings(audio_type),
            "call_type": _strings(call_type),
            "phone_number": _strings(phone_number),
            "joined": _utc(dj, djk),
            "left": _utc(dl, dlk),
            "duration_seconds": pd.Series(duration, dtype="Int64"),
        },
        columns=list(DEVICE_COLUMNS),
        copy=False,  # made for this frame alone, and `take` below copies anyway
    )
    return frame.take(order).reset_index(drop=True)


def _breakouts_frame(
    flat: Flat,
    rec_meeting_id: Obj,
    rec_person_key: Obj,
    rec_pid: I64,
    person_pos: I64,
    bj: I64,
    bjk: Mask,
    bl: I64,
    blk: Mask,
) -> pd.DataFrame:
    n = len(flat.bo_rec)
    pos = person_pos[rec_pid[flat.bo_rec]] if n else np.zeros(0, dtype=np.int64)
    order = np.lexsort((np.arange(n), np.where(bjk, bj, _MAX), pos))
    both = bjk & blk
    duration = pd.array(np.where(both, (bl - bj) // 1000, 0), dtype="Int64")
    duration[~both] = pd.NA
    breakout_id, breakout_name = breakout_fields(flat)
    frame = pd.DataFrame(
        {
            "meeting_id": _strings(rec_meeting_id[flat.bo_rec]),
            "person_key": _strings(rec_person_key[flat.bo_rec]),
            "breakout_id": _strings(breakout_id),
            "breakout_name": _strings(breakout_name),
            "joined": _utc(bj, bjk),
            "left": _utc(bl, blk),
            "duration_seconds": pd.Series(duration, dtype="Int64"),
        },
        columns=list(BREAKOUT_COLUMNS),
        copy=False,  # made for this frame alone, and `take` below copies anyway
    )
    return frame.take(order).reset_index(drop=True)
