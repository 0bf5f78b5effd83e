"""Course rows (rules 8, 11, 13, 15): one per (course, person) over the attendance rows.

A course's sessions are its instances in the period, fetched or only planned, a restarted
session counted once (under its first instance's id). For each person: excused sessions
leave their ``sessions_total``; they need every remaining session, or ``min(N, sessions
not excused)`` with ``sessions_required: N``; excused from all of them, their status is
``excused``. ``missing`` lists the sessions neither complete nor excused, in start order.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import numpy as np
import numpy.typing as npt
import pandas as pd

from reporting.attendance.sessions import Sessions, session_key
from reporting.attendance.tables import fold_codes, strings
from reporting.columns import COURSE_CSV_COLUMNS
from reporting.model import Instance, InstanceRecords
from reporting.protocols import RulesLike

I64 = npt.NDArray[np.int64]
Obj = npt.NDArray[np.object_]

COMPLETED, NOT_COMPLETED, EXCUSED = "completed", "not_completed", "excused"


def _when(instance: Instance) -> tuple[bool, datetime | None, str]:
    return (instance.start is None, instance.start, instance.id)


def course_sessions(
    data: Sequence[InstanceRecords], planned: Sequence[Instance], sessions: Sessions
) -> tuple[dict[str, list[str]], dict[str, int]]:
    """Each course's session ids in start order, and the first config entry of each."""
    instances = [d.instance for d in data]
    found: dict[str, list[Instance]] = {}
    first_entry: dict[str, int] = {}
    taken: set[tuple[str, str] | str] = set()
    for first, members in sessions.members.items():
        lead = instances[first]
        found.setdefault(lead.course, []).append(lead)
        taken.update(session_key(instances[m]) for m in members)
    fetched = {i.id for i in instances}
    unfetched: dict[tuple[str, str] | str, Instance] = {}
    for instance in planned:
        key = session_key(instance)
        if instance.id in fetched or key in taken:
            continue
        known = unfetched.get(key)
        if known is None or _when(instance) < _when(known):
            unfetched[key] = instance
    for instance in unfetched.values():
        found.setdefault(instance.course, []).append(instance)
    for instance in [*instances, *planned]:
        c = instance.course
        first_entry[c] = min(first_entry.get(c, instance.entry_index), instance.entry_index)
    ordered = {c: [i.id for i in sorted(v, key=_when)] for c, v in found.items()}
    return ordered, first_entry


def courses_frame(
    data: Sequence[InstanceRecords],
    planned: Sequence[Instance],
    sessions: Sessions,
    attendance: pd.DataFrame,
    rules: RulesLike,
) -> pd.DataFrame:
    by_course, first_entry = course_sessions(data, planned, sessions)
    if attendance.empty:
        return empty_courses()
    course_order = sorted(by_course, key=lambda c: (first_entry[c], c))
    course_rank = {c: i for i, c in enumerate(course_order)}

    course = attendance["course"].to_numpy(dtype=object)
    key = attendance["person_key"].to_numpy(dtype=object)
    course_codes, _ = pd.factorize(course)
    key_codes, key_uniques = pd.factorize(key)
    group, _ = pd.factorize(course_codes.astype(np.int64) * len(key_uniques) + key_codes)
    group = group.astype(np.int64)
    n_groups = int(group.max()) + 1
    first_row = np.full(n_groups, len(group), dtype=np.int64)
    np.minimum.at(first_row, group, np.arange(len(group)))
    status = attendance["status"].to_numpy(dtype=object)
    complete = status == "complete"
    excused = status == "excused"

    def count(mask: npt.NDArray[np.bool_]) -> I64:
        return np.bincount(group, weights=mask, minlength=n_groups).astype(np.int64)

    sessions_complete = count(complete)
    sessions_excused = count(excused)
    required = count(attendance["required"].to_numpy(dtype=np.bool_)) > 0

    def first_present(column: str) -> Obj:
        values = attendance[column].to_numpy(dtype=object)
        out = np.empty(n_groups, dtype=object)
        out[:] = None
        has = np.flatnonzero(pd.notna(values))
        # Rows are in attendance order, so the first row per group is the earliest meeting.
        unique_groups, first_index = np.unique(group[has], return_index=True)
        out[unique_groups] = values[has[first_index]]
        return out

    roster_name = first_present("roster_name")
    name = np.where(pd.notna(roster_name), roster_name, first_present("display_name"))
    g_course = course[first_row]
    g_key = key[first_row]
    total = np.array([len(by_course.get(c, ())) for c in g_course.tolist()], dtype=np.int64)
    not_excused = np.maximum(total - sessions_excused, 0)
    if rules.sessions_required is None:
        needed = not_excused
    else:
        needed = np.minimum(rules.sessions_required, not_excused)
    completed = (not_excused > 0) & (sessions_complete >= needed)
    status_text = np.where(not_excused == 0, EXCUSED, np.where(completed, COMPLETED, NOT_COMPLETED))
    missing = _missing(
        by_course,
        attendance["meeting_id"].to_numpy(dtype=object),
        complete | excused,
        group,
        g_course,
    )
    ranks = np.array([course_rank.get(c, len(course_rank)) for c in g_course.tolist()], np.int64)
    order = np.lexsort((pd.factorize(g_key, sort=True)[0], fold_codes(name), ranks))
    frame = pd.DataFrame(
        {
            "course": strings(g_course),
            "person_key": strings(g_key),
            "display_name": strings(name),
            "email": strings(first_present("email")),
            "sessions_total": pd.Series(not_excused, dtype=np.int64),
            "sessions_complete": pd.Series(sessions_complete, dtype=np.int64),
            "completed": pd.Series(completed, dtype=bool),
            "department": strings(first_present("department")),
            "required": pd.Series(required, dtype=bool),
            "sessions_excused": pd.Series(sessions_excused, dtype=np.int64),
            "status": strings(status_text),
            "missing": strings(missing),
        },
        columns=list(COURSE_CSV_COLUMNS),
    )
    return frame.take(order).reset_index(drop=True)


def _missing(
    by_course: dict[str, list[str]],
    meeting_id: Obj,
    settled: npt.NDArray[np.bool_],
    group: I64,
    g_course: Obj,
) -> Obj:
    """Per group, the `;`-joined ids of its course's sessions it has no settled row in."""
    position = {sid: i for ids in by_course.values() for i, sid in enumerate(ids)}
    width = max((len(ids) for ids in by_course.values()), default=0)
    n_groups = len(g_course)
    done = np.zeros((n_groups, max(width, 1)), dtype=np.bool_)
    pos = pd.Series(meeting_id, dtype=object).map(position).to_numpy(dtype=np.float64)
    hit = settled & ~np.isnan(pos)
    done[group[hit], pos[hit].astype(np.int64)] = True
    out = np.empty(n_groups, dtype=object)
    for g, c in enumerate(g_course.tolist()):
        ids = by_course.get(c, [])
        out[g] = ";".join(ids[i] for i in np.flatnonzero(~done[g, : len(ids)]).tolist())
    return out


def empty_courses() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "course": strings([]),
            "person_key": strings([]),
            "display_name": strings([]),
            "email": strings([]),
            "sessions_total": pd.Series([], dtype=np.int64),
            "sessions_complete": pd.Series([], dtype=np.int64),
            "completed": pd.Series([], dtype=bool),
            "department": strings([]),
            "required": pd.Series([], dtype=bool),
            "sessions_excused": pd.Series([], dtype=np.int64),
            "status": strings([]),
            "missing": strings([]),
        }
    )
