"""The intervals of rule 3 (readings 2-4 and 6): what each device, record fallback and
breakout entry contributes, the flags it raises, and each person's union of them.

An interval's unknown end is resolved first (as-of time, the record's own leftTime, the
meeting's end: rule 3), then it is checked (INVALID_INTERVAL, DURATION_MISMATCH) and
clipped to its meeting's window; a restarted session's intervals are clipped to the union
of its instances' windows (rule 15).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from reporting.attendance import flags as F
from reporting.attendance.intervals import UnionStats, union_by_group
from reporting.attendance.records import Flat
from reporting.attendance.sessions import Sessions
from reporting.attendance.timeparse import FlatTimes
from reporting.attendance.windows import Windows, restart_copies

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
Mask = npt.NDArray[np.bool_]
_G = TypeVar("_G", bound=np.generic)

# Where an interval comes from.
DEVICE, FALLBACK, BREAKOUT = 0, 1, 2
_MISMATCH_MS = 60_000.0  # rule 3's tolerance between durationSecond and the device's times


@dataclass(frozen=True)
class Intervals:
    """One entry per interval, before clipping; times in ms."""

    rec: I64  # the record it belongs to
    source: npt.NDArray[np.int8]  # DEVICE, FALLBACK or BREAKOUT
    inst: I64  # the record's instance
    join: I64
    left: I64  # the unknown ends resolved (rule 3)
    valid: Mask  # both ends known and in order: it may count
    flags: I64  # the flag bits it raises for its record


@dataclass(frozen=True)
class Unions:
    """Per person: the union of all their clipped intervals, and of the breakout ones."""

    all: UnionStats
    breakout: UnionStats


def intervals(flat: Flat, times: FlatTimes, win: Windows, as_of_ms: int) -> Intervals:
    """The devices of admitted records that have a known join, else the record itself
    (reading 2), and every breakout entry of an admitted record."""
    lobby = flat.rec_lobby
    n_rec = len(lobby)
    rec_uses_dev = np.zeros(n_rec, dtype=np.bool_)
    rec_uses_dev[flat.dev_rec[times.dev_joined.known]] = True
    dsel = ~lobby[flat.dev_rec] & rec_uses_dev[flat.dev_rec]
    fsel = ~lobby & ~rec_uses_dev
    bsel = ~lobby[flat.bo_rec]
    n_d, n_f, n_b = int(dsel.sum()), int(fsel.sum()), int(bsel.sum())
    rec = np.concatenate([flat.dev_rec[dsel], np.flatnonzero(fsel), flat.bo_rec[bsel]])
    source = np.repeat(np.array([DEVICE, FALLBACK, BREAKOUT], dtype=np.int8), [n_d, n_f, n_b])

    def picked(dev: npt.NDArray[_G], rec: npt.NDArray[_G], bo: npt.NDArray[_G]) -> npt.NDArray[_G]:
        return np.concatenate([dev[dsel], rec[fsel], bo[bsel]])

    join = picked(times.dev_joined.ms, times.rec_joined.ms, times.bo_joined.ms)
    join_known = picked(times.dev_joined.known, times.rec_joined.known, times.bo_joined.known)
    left = picked(times.dev_left.ms, times.rec_left.ms, times.bo_left.ms)
    left_known = picked(times.dev_left.known, times.rec_left.known, times.bo_left.known)
    duration = np.concatenate([flat.dev_duration[dsel], np.full(n_f + n_b, np.nan)])

    inst = flat.rec_inst[rec]
    flags = np.zeros(len(rec), dtype=np.int64)
    flags[~join_known] |= F.BIT[F.UNKNOWN_JOIN]
    left, lost = _resolve_left(flags, inst, rec, join_known, left, left_known, times, win, as_of_ms)
    resolved = join_known & ~lost
    invalid = resolved & (left < join)
    flags[invalid] |= F.BIT[F.INVALID_INTERVAL]
    valid = resolved & ~invalid
    checked = valid & (source == DEVICE) & left_known & ~np.isnan(duration)
    mismatch = np.zeros(len(rec), dtype=np.bool_)
    mismatch[checked] = (
        np.abs(duration[checked] * 1000.0 - (left[checked] - join[checked]).astype(np.float64))
        > _MISMATCH_MS
    )
    flags[mismatch] |= F.BIT[F.DURATION_MISMATCH]
    return Intervals(rec, source, inst, join, left, valid, flags)


def _resolve_left(
    flags: I64,
    inst: I64,
    rec: I64,
    join_known: Mask,
    left: I64,
    left_known: Mask,
    times: FlatTimes,
    win: Windows,
    as_of_ms: int,
) -> tuple[I64, Mask]:
    """Rule 3's steps for an unknown leftTime (sets their flags in ``flags``); returns the
    resolved ends and where none could be found (UNKNOWN_LEAVE)."""
    open_left = join_known & ~left_known
    running = win.in_progress[inst]
    rec_left_known = times.rec_left.known[rec]
    to_as_of = open_left & running
    to_rec_left = open_left & ~running & rec_left_known
    to_end = open_left & ~running & ~rec_left_known & win.end_known[inst]
    lost = open_left & ~running & ~rec_left_known & ~win.end_known[inst]
    left = np.where(to_as_of, as_of_ms, left)
    left = np.where(to_rec_left, times.rec_left.ms[rec], left)
    left = np.where(to_end, win.end[inst], left)
    flags[to_as_of] |= F.BIT[F.IN_PROGRESS]
    flags[to_rec_left | to_end] |= F.BIT[F.LEFT_TIME_INFERRED]
    flags[lost] |= F.BIT[F.UNKNOWN_LEAVE]
    return left, lost


def person_unions(
    iv: Intervals, win: Windows, sessions: Sessions, rec_pid: I64, n_persons: int
) -> Unions:
    """Clip to the window and take the union per person (reading 6). An unknown window
    edge (an empty inferred window) clips nothing, and then there is no interval with a
    known join either."""
    inst, join, left = iv.inst, iv.join, iv.left
    cs = np.where(win.start_known[inst], np.maximum(join, win.start[inst]), join)
    ce = np.where(win.end_known[inst], np.minimum(left, win.end[inst]), left)
    keep = iv.valid & (ce > cs)
    gid = rec_pid[iv.rec]
    if not sessions.any_restarted:
        keep_bo = keep & (iv.source == BREAKOUT)
        return Unions(
            union_by_group(gid[keep], cs[keep], ce[keep], n_persons),
            union_by_group(gid[keep_bo], cs[keep_bo], ce[keep_bo], n_persons),
        )
    # Rule 15: a restarted session's window is the union of its instances' windows, and
    # every interval is clipped to that union: to its own window (above) and to each
    # other instance's (here); the union of the pieces counts no gap twice.
    extra, other = restart_copies(sessions, inst, iv.valid, win)
    ocs = np.maximum(join[extra], win.start[other])
    oce = np.minimum(left[extra], win.end[other])
    okeep = oce > ocs
    keep_idx = np.concatenate([np.flatnonzero(keep), extra[okeep]])
    cs = np.concatenate([cs[keep], ocs[okeep]])
    ce = np.concatenate([ce[keep], oce[okeep]])
    is_bo = iv.source[keep_idx] == BREAKOUT
    g = gid[keep_idx]
    return Unions(
        union_by_group(g, cs, ce, n_persons),
        union_by_group(g[is_bo], cs[is_bo], ce[is_bo], n_persons),
    )
