"""The result tables: attendance rows with their window figures, status and flags (rules
5, 6 and 8; reading 13's order), and the devices and breakouts tables."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import TypeVar

import numpy as np
import numpy.typing as npt
import pandas as pd

from reporting.attendance import flags as F
from reporting.attendance.audit import ROLES, Audit
from reporting.attendance.intervals import NO_TIME
from reporting.attendance.records import Flat, breakout_fields, device_fields
from reporting.attendance.rows import Rows
from reporting.attendance.tables import fold_codes, strings, strings_from_codes
from reporting.attendance.timeparse import ParsedTimes
from reporting.attendance.windows import MAX, Windows
from reporting.columns import (
    ATTENDANCE_CSV_COLUMNS,
    BREAKOUT_COLUMNS,
    DEVICE_CSV_COLUMNS,
)
from reporting.model import InstanceRecords
from reporting.protocols import RulesLike, ThresholdLike

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

COMPLETE = "complete"
PARTIAL = "partial"
ABSENT = "absent"
EXCUSED = "excused"  # set only by a reviewer's decision (rule 13)
STATUSES = [COMPLETE, PARTIAL, ABSENT, EXCUSED]


@dataclass(frozen=True)
class RecordOwners:
    """Per record: the id of its session and its person's key and row position (where
    the person's row sits in the attendance table), for the devices and breakouts."""

    meeting_id: Obj
    person_key: Obj
    position: I64


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


def _instance_rank(data: Sequence[InstanceRecords], win: Windows) -> I64:
    starts = np.where(win.start_known, win.start, MAX)
    ids = np.array([d.instance.id for d in data], dtype=object)
    id_codes, _ = pd.factorize(ids, sort=True)
    order = np.lexsort((np.arange(len(data)), id_codes, starts))
    rank = np.empty(len(data), dtype=np.int64)
    rank[order] = np.arange(len(data))
    return rank


def _flagstrings(masks: I64) -> pd.Series:
    """Flag text once per distinct bit mask."""
    uniques, inverse = np.unique(masks, return_inverse=True)
    texts = [F.flags_text(int(m)) for m in uniques.tolist()]
    return strings_from_codes(texts, inverse.reshape(-1))


def attendance_frame(
    data: Sequence[InstanceRecords],
    rows: Rows,
    win: Windows,
    rules: RulesLike,
    audit: Audit,
) -> tuple[pd.DataFrame, I64]:
    """The attendance table in reading 13's order, and each row's position in it."""
    inst = rows.inst
    ws, wsk = win.start[inst], win.start_known[inst]
    we, wek = win.end[inst], win.end_known[inst]
    meeting_seconds = win.length[inst] // 1000
    attended = rows.total_ms // 1000
    breakout = rows.breakout_ms // 1000
    meets = meets_threshold(attended, meeting_seconds, rules.min_attendance)
    some = attended > 0
    flags = _row_flags(rows, win, rules, audit, some)
    has_union = rows.first != NO_TIME
    order = _row_order(data, rows, win)
    position = np.empty(len(order), dtype=np.int64)
    position[order] = np.arange(len(order))

    # Every column is taken into row order before it becomes a Series (taking a finished
    # frame copies every text column a second time); per-meeting text is made once per
    # meeting and taken by the rows' meeting index.
    ids = [d.instance.id for d in data]
    titles = [d.instance.title for d in data]
    courses = [d.instance.course for d in data]
    inst_o = inst[order]
    status_codes = np.where(some & meets, 0, np.where(some, 1, 2))
    # Rule 13: a reviewer's decision sets the status; the figures stay as computed.
    status_codes = np.where(audit.status >= 0, audit.status, status_codes)

    def by_row(values: npt.NDArray[_G]) -> npt.NDArray[_G]:
        return values[order]

    columns = {
        "meeting_id": strings_from_codes(ids, inst_o),
        "meeting_title": strings_from_codes(titles, inst_o),
        "meeting_start": _utc(by_row(ws), by_row(wsk)),
        "meeting_end": _utc(by_row(we), by_row(wek)),
        "meeting_seconds": pd.Series(by_row(meeting_seconds), dtype=np.int64),
        "person_key": strings(by_row(rows.key)),
        "display_name": strings(by_row(rows.name)),
        "email": strings(by_row(rows.email)),
        "is_host": pd.Series(by_row(rows.host), dtype=bool),
        "is_cohost": pd.Series(by_row(rows.cohost), dtype=bool),
        "attended_seconds": pd.Series(by_row(attended), dtype=np.int64),
        "main_session_seconds": pd.Series(by_row(attended - breakout), dtype=np.int64),
        "breakout_seconds": pd.Series(by_row(breakout), dtype=np.int64),
        "first_join": _utc(by_row(rows.first), by_row(has_union)),
        "last_leave": _utc(by_row(rows.last), by_row(has_union)),
        "segments": pd.Series(by_row(rows.segments), dtype=np.int64),
        "devices": pd.Series(by_row(rows.devices), dtype=np.int64),
        "status": strings_from_codes(STATUSES, by_row(status_codes)),
        "flags": _flagstrings(by_row(flags)),
        "course": strings_from_codes(courses, inst_o),
        "roster_name": strings(by_row(rows.roster_name)),
        "department": strings(by_row(rows.department)),
        "role": strings_from_codes(ROLES, by_row(audit.role)),
        "required": pd.Series(by_row(audit.required), dtype=bool),
        "override": strings(by_row(audit.override)),
        "override_reason": strings(by_row(audit.override_reason)),
        "override_reviewer": strings(by_row(audit.override_reviewer)),
        "override_date": strings(by_row(audit.override_date)),
        "seen_as": strings(by_row(audit.seen_as)),
    }
    # copy=False: the columns were made for this frame alone; a copy would only cost time.
    return pd.DataFrame(columns, columns=list(ATTENDANCE_COLUMNS), copy=False), position


def _row_flags(rows: Rows, win: Windows, rules: RulesLike, audit: Audit, some: Mask) -> I64:
    """The rows' flags: their persons', then LATE_JOIN, EARLY_LEAVE (reading 7: not for
    rows without time), NOT_ON_ROSTER, the window's and the audit's."""
    inst = rows.inst
    flags = rows.flags.copy()
    inferred = win.inferred[inst]
    checked = some & ~inferred
    late_after = win.start[inst] + rules.late_grace_seconds * 1000
    late = checked & win.start_known[inst] & (rows.first > late_after)
    running = win.in_progress[inst]
    # A running meeting has no end yet to leave early from; IN_PROGRESS says so instead.
    early_before = win.end[inst] - rules.early_leave_grace_seconds * 1000
    early = checked & win.end_known[inst] & ~running & (rows.last < early_before)
    flags[late] |= F.BIT[F.LATE_JOIN]
    flags[early] |= F.BIT[F.EARLY_LEAVE]
    flags[rows.on_roster_applies & ~rows.on_roster] |= F.BIT[F.NOT_ON_ROSTER]
    flags[inferred] |= F.BIT[F.MEETING_WINDOW_INFERRED]
    flags[running] |= F.BIT[F.IN_PROGRESS]
    flags |= audit.flags
    return flags


def _row_order(data: Sequence[InstanceRecords], rows: Rows, win: Windows) -> I64:
    """Reading 13: meeting start (unknown last), meeting id, folded name, person key."""
    order: I64 = np.lexsort(
        (
            pd.factorize(rows.key, sort=True)[0],
            fold_codes(rows.name),
            _instance_rank(data, win)[rows.inst],
        )
    )
    return order


def devices_frame(
    flat: Flat, owners: RecordOwners, joined: ParsedTimes, left: ParsedTimes
) -> pd.DataFrame:
    """One row per device entry, in its person's attendance order, then join time."""
    n = len(flat.dev_rec)
    pos = owners.position[flat.dev_rec]
    order = np.lexsort((np.arange(n), np.where(joined.known, joined.ms, MAX), pos))
    duration = (
        pd.array(np.floor(flat.dev_duration), dtype="Float64").astype("Int64")
        if n
        else pd.array([], dtype="Int64")
    )
    correlation_id, device_type, audio_type, call_type, phone_number = device_fields(flat)
    frame = pd.DataFrame(
        {
            "meeting_id": strings(owners.meeting_id[flat.dev_rec]),
            "person_key": strings(owners.person_key[flat.dev_rec]),
            "correlation_id": strings(correlation_id),
            "device_type": strings(device_type),
            "audio_type": strings(audio_type),
            "call_type": strings(call_type),
            "phone_number": strings(phone_number),
            "joined": _utc(joined.ms, joined.known),
            "left": _utc(left.ms, left.known),
            "duration_seconds": pd.Series(duration, dtype="Int64"),
        },
        columns=list(DEVICE_CSV_COLUMNS),
        copy=False,  # made for this frame alone, and `take` below copies anyway
    )
    return frame.take(order).reset_index(drop=True)


def breakouts_frame(
    flat: Flat, owners: RecordOwners, joined: ParsedTimes, left: ParsedTimes
) -> pd.DataFrame:
    """One row per breakout entry, in its person's attendance order, then join time."""
    n = len(flat.bo_rec)
    pos = owners.position[flat.bo_rec]
    order = np.lexsort((np.arange(n), np.where(joined.known, joined.ms, MAX), pos))
    both = joined.known & left.known
    duration = pd.array(np.where(both, (left.ms - joined.ms) // 1000, 0), dtype="Int64")
    duration[~both] = pd.NA
    breakout_id, breakout_name = breakout_fields(flat)
    frame = pd.DataFrame(
        {
            "meeting_id": strings(owners.meeting_id[flat.bo_rec]),
            "person_key": strings(owners.person_key[flat.bo_rec]),
            "breakout_id": strings(breakout_id),
            "breakout_name": strings(breakout_name),
            "joined": _utc(joined.ms, joined.known),
            "left": _utc(left.ms, left.known),
            "duration_seconds": pd.Series(duration, dtype="Int64"),
        },
        columns=list(BREAKOUT_COLUMNS),
        copy=False,  # made for this frame alone, and `take` below copies anyway
    )
    return frame.take(order).reset_index(drop=True)
