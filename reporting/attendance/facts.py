"""Per-person facts from their records: flags, host and co-host, devices, the representative
name and email (reading 1), and whether any of their records was admitted."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from reporting.attendance import flags as F
from reporting.attendance.connections import Intervals
from reporting.attendance.records import Flat, bad_record_positions
from reporting.attendance.timeparse import FlatTimes
from reporting.attendance.windows import MAX
from reporting.model import InstanceRecords

I64 = npt.NDArray[np.int64]
Mask = npt.NDArray[np.bool_]
Obj = npt.NDArray[np.object_]


@dataclass(frozen=True)
class PersonFacts:
    """Per person (index = person id)."""

    flags: I64  # the flag bits of their records and intervals
    host: Mask
    cohost: Mask
    devices: I64  # device entries, as received (reading 5)
    name: Obj  # reading 1; None when no record has one
    email: Obj
    admitted: Mask  # has a record that is not in the lobby


def record_flags(
    data: Sequence[InstanceRecords], flat: Flat, times: FlatTimes, iv: Intervals
) -> I64:
    """Per record: its intervals' flags, BAD_TIMESTAMP (reading 10), LOBBY, BAD_RECORD."""
    rec_flags = np.zeros(len(flat.rec_inst), dtype=np.int64)
    hit = iv.flags != 0
    np.bitwise_or.at(rec_flags, iv.rec[hit], iv.flags[hit])
    rec_bad = times.rec_joined.bad | times.rec_left.bad
    rec_bad[flat.dev_rec[times.dev_joined.bad | times.dev_left.bad]] = True
    rec_bad[flat.bo_rec[times.bo_joined.bad | times.bo_left.bad]] = True
    lobby = flat.rec_lobby
    rec_flags[rec_bad & ~lobby] |= F.BIT[F.BAD_TIMESTAMP]
    rec_flags[lobby] = F.BIT[F.LOBBY]
    rec_flags[bad_record_positions(data, flat)] |= F.BIT[F.BAD_RECORD]
    return rec_flags


def person_facts(
    data: Sequence[InstanceRecords],
    flat: Flat,
    times: FlatTimes,
    iv: Intervals,
    rec_pid: I64,
    n_persons: int,
) -> PersonFacts:
    rec_flags = record_flags(data, flat, times, iv)
    flags = np.zeros(n_persons, dtype=np.int64)
    hit = rec_flags != 0
    np.bitwise_or.at(flags, rec_pid[hit], rec_flags[hit])
    host = np.zeros(n_persons, dtype=np.bool_)
    host[rec_pid[flat.rec_host]] = True
    cohost = np.zeros(n_persons, dtype=np.bool_)
    cohost[rec_pid[flat.rec_cohost]] = True
    devices = np.bincount(rec_pid[flat.dev_rec], minlength=n_persons).astype(np.int64)
    name, email = _representatives(flat, times, rec_pid, n_persons)
    admitted = np.bincount(rec_pid[~flat.rec_lobby], minlength=n_persons) > 0
    return PersonFacts(flags, host, cohost, devices, name, email, admitted)


def _representatives(flat: Flat, times: FlatTimes, rec_pid: I64, n_persons: int) -> tuple[Obj, Obj]:
    """The display name and email of each person's earliest-joining admitted record."""
    n_rec = len(rec_pid)
    rj, dj, bj = times.rec_joined, times.dev_joined, times.bo_joined
    first = np.where(rj.known, rj.ms, MAX)
    np.minimum.at(first, flat.dev_rec[dj.known], dj.ms[dj.known])
    np.minimum.at(first, flat.bo_rec[bj.known], bj.ms[bj.known])
    order = np.lexsort((np.arange(n_rec), first, flat.rec_lobby, rec_pid))
    out: list[Obj] = []
    for values in (flat.rec_name, flat.rec_email):
        column = np.empty(n_persons, dtype=object)
        column[:] = None
        # A name or email is a non-empty text or None, so truth is presence; it is taken
        # in record order (where the texts lie in memory), then into the sorted order.
        present = order[values.astype(np.bool_)[order]]
        pids = rec_pid[present]
        # `order` sorts by person first: each person's first present record is where the
        # person id changes.
        first_of_person = np.flatnonzero(np.diff(pids, prepend=-1) != 0)
        column[pids[first_of_person]] = values[present[first_of_person]]
        out.append(column)
    return out[0], out[1]
