"""Attendance rows before the window-dependent figures: one per person, then, where a
roster applies, its names and departments and one row per roster person with no record
(rule 7)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from reporting.attendance.connections import Unions
from reporting.attendance.facts import PersonFacts
from reporting.attendance.intervals import NO_TIME
from reporting.attendance.persons import Persons
from reporting.attendance.tables import object_array
from reporting.roster import Roster, RosterEntry

I64 = npt.NDArray[np.int64]
Mask = npt.NDArray[np.bool_]
Obj = npt.NDArray[np.object_]


@dataclass(frozen=True)
class Rows:
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
    def of_persons(cls, persons: Persons, facts: PersonFacts, unions: Unions) -> Rows:
        n = len(persons)
        none = np.empty(n, dtype=object)
        none[:] = None
        no = np.zeros(n, dtype=np.bool_)
        return cls(
            inst=persons.inst,
            key=persons.key,
            name=facts.name,
            email=facts.email,
            host=facts.host,
            cohost=facts.cohost,
            devices=facts.devices,
            flags=facts.flags,
            total_ms=unions.all.total,
            breakout_ms=unions.breakout.total,
            first=unions.all.first,
            last=unions.all.last,
            segments=unions.all.segments,
            roster_name=none,
            department=none.copy(),
            on_roster_applies=no,
            on_roster=no.copy(),
        )

    def with_rosters(self, inst_roster: list[Roster | None], n_inst: int) -> Rows:
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
        return Rows(
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


def _entry_columns(entries: Sequence[RosterEntry]) -> _EntryColumns:
    return _EntryColumns(
        key=object_array([e.key for e in entries]),
        email=object_array([e.email for e in entries]),
        name=object_array([e.name for e in entries]),
        shown=object_array([e.name or e.email for e in entries]),
        department=object_array([e.department for e in entries]),
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
    entry_codes, entry_keys = pd.factorize(object_array([e.key for e in roster.entries]))
    local = np.full(int(max(instances)) + 1, -1, dtype=np.int64)
    local[instances] = np.arange(len(instances))
    present = np.zeros((len(instances), len(entry_keys) + 1), dtype=np.bool_)
    at = pd.Index(entry_keys).get_indexer(pd.Index(row_key))  # -1: not a roster key
    present[local[row_inst], at] = True  # -1 marks the spare last column
    absent = ~present[:, entry_codes]
    inst_pos, entry = np.nonzero(absent)
    return np.array(instances, dtype=np.int64)[inst_pos], entry.astype(np.int64)
