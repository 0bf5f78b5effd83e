"""The audit columns of attendance rows (rules 10-13): role, required, overrides, seen_as.

None of them changes a figure. They say who had to attend (`required`), in what role,
what a reviewer decided (`override*`, a status set by a decision) and which emails or
numbers were merged into the person (`seen_as`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from reporting.attendance import flags as F
from reporting.attendance.decisions import StatusDecisions, decide
from reporting.attendance.persons import Persons
from reporting.attendance.sessions import Sessions
from reporting.model import Instance, Invitee
from reporting.overrides import ABSENT, EXCUSED, PRESENT, Override
from reporting.roster import Roster

I64 = npt.NDArray[np.int64]
Mask = npt.NDArray[np.bool_]
Obj = npt.NDArray[np.object_]

ROLES = ("host", "cohost", "panelist", "attendee")
HOST, COHOST, PANELIST, ATTENDEE = range(4)
# The status a decision sets, as an index into the engine's status names
# (complete, partial, absent, excused).
STATUS_OF_DECISION = {PRESENT: 0, ABSENT: 2, EXCUSED: 3}
NOT_EMAIL_KEYS = ("tel:", "name:", "id:")


@dataclass(frozen=True)
class Audit:
    """Per attendance row (in the engine's row order before sorting)."""

    role: I64  # index into ROLES
    required: Mask
    status: I64  # index of the status a decision set, -1 when none did
    flags: I64  # OVERRIDDEN, RESTARTED, UNIDENTIFIED_CALLER bits
    override: Obj  # the four override columns and seen_as; None when empty
    override_reason: Obj
    override_reviewer: Obj
    override_date: Obj
    seen_as: Obj
    rows_per_override: I64  # per override given: the rows it applied to


def audit_rows(
    row_inst: I64,
    row_key: Obj,
    host: Mask,
    cohost: Mask,
    roster_applies: Mask,
    on_roster: Mask,
    admitted: Mask,  # per person (the first rows): has an admitted record
    persons: Persons,
    instances: Sequence[Instance],
    sessions: Sessions,
    rosters: Sequence[Roster | None],
    overrides: Sequence[Override],
    invitees: Sequence[tuple[Invitee, ...] | None],
) -> Audit:
    n = len(row_inst)
    n_p = len(persons)

    # -- rule 10: roles -----------------------------------------------------------------
    role = np.full(n, ATTENDEE, dtype=np.int64)
    panelist = _panelists(row_inst, row_key, persons, sessions, invitees)
    role[panelist] = PANELIST
    role[cohost] = COHOST
    role[host] = HOST

    # -- rule 11: required --------------------------------------------------------------
    # Keys repeat (a person in every meeting): each distinct key is looked at once.
    key_codes, distinct_keys = pd.factorize(row_key)
    distinct = distinct_keys.tolist()
    email_key = _per_key(
        key_codes, [isinstance(k, str) and not k.startswith(NOT_EMAIL_KEYS) for k in distinct]
    )
    lobby_only = np.zeros(n, dtype=np.bool_)
    lobby_only[:n_p] = ~admitted
    required = np.where(roster_applies, on_roster, (role == ATTENDEE) & email_key & ~lobby_only)

    # -- rule 13: decisions -------------------------------------------------------------
    chosen = decide(
        row_inst, row_key, persons.also_known_as, instances, sessions, rosters, overrides
    )
    has = chosen.chosen >= 0
    status, columns, rows_per_override = _decided(chosen, has, persons, overrides)
    seen_as = np.full(n, None, dtype=object)
    for person, seen in persons.seen.items():
        seen_as[person] = ";".join(sorted(seen))

    caller = _per_key(key_codes, [isinstance(k, str) and k.startswith("tel:") for k in distinct])
    flags = np.zeros(n, dtype=np.int64)
    flags[has] |= F.BIT[F.OVERRIDDEN]
    flags[np.array(list(persons.same_as), dtype=np.intp)] |= F.BIT[F.OVERRIDDEN]
    flags[sessions.restarted[row_inst]] |= F.BIT[F.RESTARTED]
    # Rule 12: a caller still keyed by number matched no roster phone.
    flags[caller] |= F.BIT[F.UNIDENTIFIED_CALLER]
    return Audit(
        role,
        required,
        status,
        flags,
        override=columns[0],
        override_reason=columns[1],
        override_reviewer=columns[2],
        override_date=columns[3],
        seen_as=seen_as,
        rows_per_override=rows_per_override,
    )


def _decided(
    chosen: StatusDecisions, has: Mask, persons: Persons, overrides: Sequence[Override]
) -> tuple[I64, list[Obj], I64]:
    """Per row: the status a decision set (-1: none), the four override columns; and
    per override, the rows it applied to."""
    n = len(chosen.chosen)
    status = np.full(n, -1, dtype=np.int64)
    columns = [np.full(n, None, dtype=object) for _ in range(4)]
    if has.any():
        codes = np.array(
            [STATUS_OF_DECISION.get(o.decision, -1) for o in overrides], dtype=np.int64
        )
        status[has] = codes[chosen.chosen[has]]
        # A row with one decision shows that decision's texts: taken per override.
        for column, texts in zip(columns, _override_texts(overrides), strict=True):
            column[has] = texts[chosen.chosen[has]]
    rows_per_override = chosen.rows_per_override.copy()
    position = {id(o): i for i, o in enumerate(overrides)}
    # Rows with merges (same_as decisions) are few: their texts list every decision.
    for row in sorted(persons.same_as):
        applied = list(persons.same_as[row])
        for override in applied:
            rows_per_override[position[id(override)]] += 1
        if has[row]:
            applied.append(overrides[int(chosen.chosen[row])])
        columns[0][row] = ";".join(o.decision for o in applied)
        columns[1][row] = ";".join(o.reason for o in applied)
        columns[2][row] = ";".join(o.reviewer for o in applied)
        columns[3][row] = ";".join(o.date.isoformat() for o in applied)
    return status, columns, rows_per_override


def _per_key(codes: I64, per_distinct: list[bool]) -> Mask:
    """A row mask from one truth value per distinct key (false for a row without one)."""
    table = np.array([*per_distinct, False], dtype=np.bool_)
    result: Mask = table[codes]  # code -1 (no key) takes the last
    return result


def _override_texts(overrides: Sequence[Override]) -> list[Obj]:
    """Per override: decision, reason, reviewer and date as the override columns show them."""
    texts = [np.empty(len(overrides), dtype=object) for _ in range(4)]
    texts[0][:] = [o.decision for o in overrides]
    texts[1][:] = [o.reason for o in overrides]
    texts[2][:] = [o.reviewer for o in overrides]
    texts[3][:] = [o.date.isoformat() for o in overrides]
    return texts


def _panelists(
    row_inst: I64,
    row_key: Obj,
    persons: Persons,
    sessions: Sessions,
    invitees: Sequence[tuple[Invitee, ...] | None],
) -> Mask:
    """Rows whose person's email (their key or one merged in) is a panelist invitee of
    any instance of their session."""
    out = np.zeros(len(row_inst), dtype=np.bool_)
    by_session: dict[int, set[str]] = {}
    for i, listed in enumerate(invitees):
        emails = {p.email.strip().lower() for p in listed or () if p.panelist and p.email}
        if emails:
            by_session.setdefault(int(sessions.of[i]), set()).update(emails)
    if not by_session:
        return out
    rows = np.flatnonzero(np.isin(row_inst, list(by_session)))
    for row in rows.tolist():
        emails = by_session[int(row_inst[row])]
        if row_key[row] in emails or persons.also_known_as.get(row, set()) & emails:
            out[row] = True
    return out
