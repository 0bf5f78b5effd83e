"""Reviewers' status decisions on attendance rows (rule 13): excused, present, absent.

Applied after the figures are computed, so no figure changes; only `status`, the flag
`OVERRIDDEN` and the override columns. An override names its person by email (matched
like rule 2: the row's key, any email merged into it, or an email a roster maps to it)
or by a person key (`tel:…`, `name:…`, also matching a caller merged into a roster
person), and its scope names instances. When several decisions name one row, the most
specific scope wins (an instance, then a series, then a course, then `*`); among equals,
the later line of the file.

Matching is one join of (row, key) with (override, key), then one look-up of each pair's
scope in a table of (scope, session) specificities: 10,000 decisions over a month of
rows cost no Python loop per row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from reporting.attendance.sessions import Sessions, scope_specificity
from reporting.model import Instance
from reporting.overrides import STATUS_DECISIONS, Override
from reporting.roster import Roster

I64 = npt.NDArray[np.int64]
Obj = npt.NDArray[np.object_]

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

    # (override, key) pairs: the person as written, and what each roster maps it to.
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
    wanted = pd.DataFrame({"override": np.array(o_index, dtype=np.int64), "key": o_key})

    # (row, key) pairs: each row's key, and the keys merged into it.
    extra_rows = [row for row, keys in also_known_as.items() for _ in keys]
    extra_keys = [key for keys in also_known_as.values() for key in keys]
    have = pd.DataFrame(
        {
            "row": np.concatenate(
                [np.arange(n_rows, dtype=np.int64), np.array(extra_rows, dtype=np.int64)]
            ),
            "key": np.concatenate([row_key, np.array(extra_keys, dtype=object)]),
        }
    )
    # Only rows whose key some decision names take part in the join.
    have = have[have["key"].isin(wanted["key"])]
    pairs = have.merge(wanted, on="key")[["row", "override"]].drop_duplicates()
    if pairs.empty:
        return StatusDecisions(chosen, per_override)

    pair_row = pairs["row"].to_numpy(dtype=np.int64)
    pair_override = pairs["override"].to_numpy(dtype=np.int64)
    scopes = [overrides[i].scope for i in range(len(overrides))]
    scope_codes, distinct_scopes = pd.factorize(np.array(scopes, dtype=object))
    table = _specificity_table(list(distinct_scopes), instances, sessions)
    rank = table[scope_codes[pair_override], row_inst[pair_row]]
    keep = rank < NO_SCOPE
    pair_row, pair_override, rank = pair_row[keep], pair_override[keep], rank[keep]
    if len(pair_row) == 0:
        return StatusDecisions(chosen, per_override)
    lines = np.array([o.line for o in overrides], dtype=np.int64)[pair_override]
    # Best first within each row: most specific scope, then the latest line.
    order = np.lexsort((-lines, rank, pair_row))
    pair_row, pair_override = pair_row[order], pair_override[order]
    first = np.ones(len(pair_row), dtype=np.bool_)
    first[1:] = pair_row[1:] != pair_row[:-1]
    chosen[pair_row[first]] = pair_override[first]
    np.add.at(per_override, pair_override[first], 1)
    return StatusDecisions(chosen, per_override)


def _specificity_table(scopes: list[str], instances: Sequence[Instance], sessions: Sessions) -> I64:
    """[scope, instance] → the specificity with which the scope names the instance's
    session (any of its instances), NO_SCOPE when it does not."""
    table = np.full((len(scopes), len(instances)), NO_SCOPE, dtype=np.int64)
    for s, scope in enumerate(scopes):
        for first, members in sessions.members.items():
            ranks = [scope_specificity(scope, instances[m]) for m in members]
            known = [r for r in ranks if r is not None]
            if known:
                table[s, first] = min(known)
    return table
