"""Persons: one per (session, final person key); records are grouped in two steps.

First by (instance, the record's own key of rule 2): cheap, vectorised over every record.
Then each of those groups gets its final key (roster aliases, ``same_as`` overrides,
roster phones: :mod:`reporting.attendance.identity`) and its session (restarted instances
are one, rule 15), and groups with equal (session, final key) become one person.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from reporting.attendance.identity import resolve
from reporting.attendance.records import Flat
from reporting.attendance.sessions import Sessions, scope_specificity
from reporting.model import Instance
from reporting.overrides import SAME_AS, Override
from reporting.roster import Roster

I64 = npt.NDArray[np.int64]
Obj = npt.NDArray[np.object_]


@dataclass(frozen=True)
class Persons:
    rec_pid: I64  # record → person
    inst: I64  # person → their session's first instance
    key: Obj  # person → final key
    # Only for the few persons that have them (person index → value):
    seen: dict[int, set[str]]  # emails / numbers merged in, as shown in `seen_as`
    also_known_as: dict[int, set[str]]  # the records' own keys merged in (for overrides)
    same_as: dict[int, list[Override]]  # the same_as decisions that merged records in
    phone: dict[int, str]  # a `tel:` person's number as written

    def __len__(self) -> int:
        return len(self.inst)


def group_persons(
    flat: Flat,
    instances: Sequence[Instance],
    sessions: Sessions,
    rosters: Sequence[Roster | None],
    overrides: Sequence[Override],
    region: str | None,
) -> Persons:
    key_codes, key_uniques = pd.factorize(np.asarray(flat.rec_key, dtype=object))
    n_keys = max(len(key_uniques), 1)
    proto_of_rec, proto_comb = pd.factorize(flat.rec_inst * n_keys + key_codes)
    proto_of_rec = proto_of_rec.astype(np.int64)
    proto_inst = (proto_comb // n_keys).astype(np.int64)
    proto_key = np.asarray(key_uniques, dtype=object)[proto_comb % n_keys]
    proto_phone: dict[int, str] = {}
    if flat.tel_rec:
        protos = proto_of_rec[np.array(flat.tel_rec, dtype=np.int64)].tolist()
        for proto, written in zip(protos, flat.tel_phone, strict=True):
            proto_phone.setdefault(proto, written)

    same_as = [o for o in overrides if o.decision == SAME_AS]
    if not same_as and all(r is None for r in rosters) and not sessions.any_restarted:
        # Nothing can merge two groups: each is a person, as keyed by its records.
        return Persons(proto_of_rec, proto_inst, proto_key, {}, {}, {}, proto_phone)

    cache: dict[tuple[str, int], int | None] = {}

    def specificity(override: Override, instance: int) -> int | None:
        first = int(sessions.of[instance])
        found = cache.get((override.scope, first), -1)
        if found == -1:
            ranks = [
                r
                for m in sessions.members[first]
                if (r := scope_specificity(override.scope, instances[m])) is not None
            ]
            found = cache[(override.scope, first)] = min(ranks) if ranks else None
        return found

    ident = resolve(proto_inst, proto_key, proto_phone, rosters, same_as, specificity, region)
    final_codes, final_uniques = pd.factorize(ident.key)
    n_final = max(len(final_uniques), 1)
    session = sessions.of[proto_inst]
    person_of_proto, comb = pd.factorize(session * n_final + final_codes)
    person_of_proto = person_of_proto.astype(np.int64)
    key = np.asarray(final_uniques, dtype=object)[comb % n_final]

    seen: dict[int, set[str]] = {}
    aka: dict[int, set[str]] = {}
    merged_by: dict[int, list[Override]] = {}
    for proto in np.flatnonzero(pd.notna(ident.seen)).tolist():
        person = int(person_of_proto[proto])
        seen.setdefault(person, set()).add(ident.seen[proto])
        aka.setdefault(person, set()).add(proto_key[proto])
    for proto, override in ident.same_as.items():
        decisions = merged_by.setdefault(int(person_of_proto[proto]), [])
        if override not in decisions:
            decisions.append(override)
    phone = {
        int(person_of_proto[proto]): written
        for proto, written in sorted(proto_phone.items(), reverse=True)
    }
    return Persons(
        person_of_proto[proto_of_rec],
        (comb // n_final).astype(np.int64),
        key,
        seen,
        aka,
        {p: sorted(d, key=lambda o: o.line) for p, d in merged_by.items()},
        phone,
    )
