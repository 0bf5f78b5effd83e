"""Reviewers' status decisions on attendance rows (rule 13): excused, present, absent.

Applied after the figures are computed, so no figure changes; only `status`, the flag
`OVERRIDDEN` and the override columns. An override names its person by email (matched
like rule 2: the row's key, any email merged into it, or an email a roster maps to it)
or by a person key (`tel:…`, `name:…`, also matching a caller merged into a roster
person), and its scope names instances. When several decisions name one row, the most
specific scope wins (an instance, then a series, then a course, then `*`); among equals,
the later line of the file.

Matching is one join of (row key, session) with (decision key, session named by its
scope): a decision's scope names few sessions (one meeting, a course's), so 10,000
decisions over a month of rows make few pairs and cost no Python loop per row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from reporting.attendance.sessions import (
    BY_ALL,
    BY_COURSE,
    BY_INSTANCE,
    BY_SERIES,
    EVERYWHERE,
    Sessions,
)
from reporting.model import Instance
from reporting.overrides import STATUS_DECISIONS, Override
from reporting.roster import Roster

I64 = npt.NDArray[np.int64]
Obj = npt.NDArray[np.object_]
I8 = npt.NDArray[np.int8]

NO_SCOPE = 9  # larger than every specificity


@dataclass(frozen=True)
class StatusDecisions:
    """Per row: the index (into the overrides given) of the decision applied, or -1;
    per override: how many rows it applied to."""

    chosen: I64
    rows_per_override: I64


def decide(
    row_inst: I64,
    row_key: Obj,
    also_known_as: dict[int, set[str]],
    instances: Sequence[Instance],
    sessions: Sessions,
    rosters: Sequence[Roster | None],
    overrides: Sequence[Override],
) -> StatusDecisions:
    """``row_inst`` is each row's session (its first instance's index), ``also_known_as``
    the other keys of a row's person (emails and numbers merged into it)."""
    n_rows = len(row_inst)
    chosen = np.full(n_rows, -1, dtype=np.int64)
    per_override = np.zeros(len(overrides), dtype=np.int64)
    status = [i for i, o in enumerate(overrides) if o.decision in STATUS_DECISIONS]
    if not status or n_rows == 0:
        return StatusDecisions(chosen, per_override)

    o_index, o_key = _override_keys(overrides, status, rosters)
    # (row, key) pairs: each row's key, and the keys merged into it.
    extra_rows = np.array([row for row, keys in also_known_as.items() for _ in keys], np.int64)
    extra_keys = [key for keys in also_known_as.values() for key in keys]
    # One code per distinct key, over the rows' keys and the decisions' keys together.
    codes, _ = pd.factorize(np.concatenate([row_key, np.array(extra_keys + o_key, dtype=object)]))
    codes = codes.astype(np.int64)
    n_have = n_rows + len(extra_rows)
    have_row = np.concatenate([np.arange(n_rows, dtype=np.int64), extra_rows])
    n_inst = max(len(instances), 1)
    have = pd.DataFrame({"at": codes[:n_have] * n_inst + row_inst[have_row], "row": have_row})
    want_pair, want_session, want_rank = _named_sessions(
        [overrides[i].scope for i in o_index], instances, sessions
    )
    want_override = np.array(o_index, dtype=np.int64)[want_pair]
    want = pd.DataFrame(
        {
            "at": codes[n_have:][want_pair] * n_inst + want_session,
            "override": want_override,
            "rank": want_rank,
        }
    )
    # Only rows whose key and session some decision names take part in the join.
    have = have[have["at"].isin(want["at"])]
    pairs = have.merge(want, on="at").drop_duplicates(["row", "override"])
    if pairs.empty:
        return StatusDecisions(chosen, per_override)

    pair_row = pairs["row"].to_numpy(dtype=np.int64)
    pair_override = pairs["override"].to_numpy(dtype=np.int64)
    rank = pairs["rank"].to_numpy(dtype=np.int64)
    lines = np.array([o.line for o in overrides], dtype=np.int64)[pair_override]
    # Best first within each row: most specific scope, then the latest line.
    order = np.lexsort((-lines, rank, pair_row))
    pair_row, pair_override = pair_row[order], pair_override[order]
    first = np.ones(len(pair_row), dtype=np.bool_)
    first[1:] = pair_row[1:] != pair_row[:-1]
    chosen[pair_row[first]] = pair_override[first]
    np.add.at(per_override, pair_override[first], 1)
    return StatusDecisions(chosen, per_override)


def _override_keys(
    overrides: Sequence[Override], status: list[int], rosters: Sequence[Roster | None]
) -> tuple[list[int], list[str]]:
    """(override, key) pairs: the person as written, and what each roster maps it to."""
    distinct_rosters = {id(r): r for r in rosters if r is not None}.values()
    o_index: list[int] = []
    o_key: list[str] = []
    for i in status:
        person_key = overrides[i].person_key
        keys = {person_key}
        if "@" in person_key and not person_key.startswith(("name:", "id:")):
            for roster in distinct_rosters:
                mapped = roster.key_for_email(person_key)
                if mapped is not None:
                    keys.add(mapped)
        o_index.extend([i] * len(keys))
        o_key.extend(keys)
    return o_index, o_key


def _named_sessions(
    scopes: list[str], instances: Sequence[Instance], sessions: Sessions
) -> tuple[I64, I64, I64]:
    """For each of ``scopes``, the sessions it names: (position in ``scopes``, session,
    specificity) triples. A decision scoped to one meeting names one session, to a
    course its sessions, so the triples are few; no pair of a decision with a row is
    made that its scope rules out."""
    scope_codes, distinct = pd.factorize(np.array(scopes, dtype=object))
    table = _specificity_table([str(s) for s in distinct], instances, sessions)
    named = [np.flatnonzero(row < NO_SCOPE) for row in table]
    per_scope = np.array([len(n) for n in named], dtype=np.int64)
    flat = np.concatenate([*named, np.zeros(0, dtype=np.int64)]).astype(np.int64)
    scope_start = np.cumsum(per_scope) - per_scope
    counts = per_scope[scope_codes]
    pair = np.repeat(np.arange(len(scopes), dtype=np.int64), counts)
    within = np.arange(len(pair), dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)
    code = scope_codes[pair]
    session = flat[scope_start[code] + within]
    return pair, session, table[code, session].astype(np.int64)


def _specificity_table(scopes: list[str], instances: Sequence[Instance], sessions: Sessions) -> I8:
    """[scope, instance] → the specificity with which the scope names the instance's
    session (any of its instances: the most specific), NO_SCOPE when it does not; only
    sessions' first instances are filled in."""
    table = np.full((len(scopes), len(instances)), NO_SCOPE, dtype=np.int8)
    index = {scope: k for k, scope in enumerate(scopes)}
    at_scope: list[int] = []
    at_session: list[int] = []
    ranks: list[int] = []
    for i, instance in enumerate(instances):
        first = int(sessions.of[i])
        for name, rank in (
            (instance.id, BY_INSTANCE),
            (instance.series_id, BY_SERIES),
            (instance.entry_id, BY_SERIES),
            (instance.course, BY_COURSE),
            (EVERYWHERE, BY_ALL),
        ):
            k = index.get(name) if name is not None else None
            if k is not None:
                at_scope.append(k)
                at_session.append(first)
                ranks.append(rank)
    # scope_specificity takes the first of these that names the instance: the smallest.
    np.minimum.at(table, (np.array(at_scope, np.intp), np.array(at_session, np.intp)), ranks)
    return table
