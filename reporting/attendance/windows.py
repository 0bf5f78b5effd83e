"""Meeting windows (rule 4, readings 8 and 9) and the windows of restarted sessions (rule 15).

A window is per instance: looked up (the instance's own start and end), running (it ends
at the as-of time), or inferred from the times of the admitted records, devices and
breakouts when the instance could not be looked up.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from reporting.attendance.intervals import NO_TIME, union_by_group
from reporting.attendance.records import Flat
from reporting.attendance.sessions import Sessions
from reporting.attendance.timeparse import FlatTimes
from reporting.model import InstanceRecords

I64 = npt.NDArray[np.int64]
Mask = npt.NDArray[np.bool_]
_G = TypeVar("_G", bound=np.generic)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)
MAX = np.iinfo(np.int64).max


def to_ms(moment: datetime) -> int:
    """Milliseconds since the epoch, rounded down; a naive datetime is read as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - _EPOCH) // _MS


@dataclass(frozen=True)
class Windows:
    """Per instance (or, from `session_windows`, per session at its first instance)."""

    start: I64
    start_known: Mask
    end: I64
    end_known: Mask
    inferred: Mask
    in_progress: Mask
    length: I64  # ms: end - start; for a restarted session, the union of its windows


def meeting_windows(
    data: Sequence[InstanceRecords], as_of_ms: int, flat: Flat, times: FlatTimes
) -> Windows:
    """Each instance's window; an inferred one spans the admitted records' known times."""
    lobby = flat.rec_lobby
    admitted_dev = ~lobby[flat.dev_rec]
    admitted_bo = ~lobby[flat.bo_rec]
    inst = np.concatenate(
        [
            flat.rec_inst[~lobby],
            flat.rec_inst[flat.dev_rec[admitted_dev]],
            flat.rec_inst[flat.bo_rec[admitted_bo]],
        ]
    )

    def admitted(
        rec: npt.NDArray[_G], dev: npt.NDArray[_G], bo: npt.NDArray[_G]
    ) -> npt.NDArray[_G]:
        return np.concatenate([rec[~lobby], dev[admitted_dev], bo[admitted_bo]])

    joined = (times.rec_joined, times.dev_joined, times.bo_joined)
    left = (times.rec_left, times.dev_left, times.bo_left)
    join_ms = admitted(*(t.ms for t in joined))
    join_known = admitted(*(t.known for t in joined))
    leave_ms = admitted(*(t.ms for t in left))
    leave_known = admitted(*(t.known for t in left))

    n = len(data)
    first_join = np.full(n, MAX, dtype=np.int64)
    np.minimum.at(first_join, inst[join_known], join_ms[join_known])
    last_leave = np.full(n, NO_TIME, dtype=np.int64)
    np.maximum.at(last_leave, inst[leave_known], leave_ms[leave_known])
    return _windows(data, as_of_ms, first_join, last_leave)


def _windows(
    data: Sequence[InstanceRecords], as_of_ms: int, first_join: I64, last_leave: I64
) -> Windows:
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

    start_known = np.where(inferred, first_join != MAX, True)
    start = np.where(inferred, np.where(start_known, first_join, 0), start)
    end_known = np.where(in_progress | (looked_up & has_end), True, last_leave != NO_TIME)
    end = np.where(
        in_progress,
        as_of_ms,
        np.where(looked_up & has_end, end, np.where(end_known, last_leave, 0)),
    )
    length = np.where(start_known & end_known, np.maximum(end - start, 0), 0)
    return Windows(start, start_known, end, end_known, inferred, in_progress, length)


def restart_copies(sessions: Sessions, inst: I64, valid: Mask, win: Windows) -> tuple[I64, I64]:
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


def session_windows(win: Windows, sessions: Sessions) -> Windows:
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
    return Windows(start, start_known, end, end_known, inferred, in_progress, length)
