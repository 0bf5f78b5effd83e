"""Who is who: the person key each person of an instance ends up with (rules 7, 12, 13).

The engine first groups records by (instance, the records' own key); this module then
maps each of those people onto their final key, in the order of the rules:

1. ``same_as`` overrides (rule 13), "applied before anything else, like an alias";
2. roster aliases (rule 7): any email of a roster person becomes their key;
3. roster phones (rule 12): a `tel:` caller whose number's E.164 form is a roster phone
   becomes that roster person.

What was merged is kept as ``seen``: the email or number actually seen, for `seen_as`.
Everything here works on people (a few hundred thousand a month at most), not records,
and only the people a rule can touch go through Python.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from reporting.overrides import SAME_AS, Override
from reporting.phones import PhoneIndex, device_e164s
from reporting.roster import Roster

Obj = npt.NDArray[np.object_]
Mask = npt.NDArray[np.bool_]
I64 = npt.NDArray[np.int64]

# (override, instance index) → how specifically its scope names the instance, or None.
Specificity = Callable[[Override, int], int | None]


@dataclass(frozen=True)
class Identities:
    """Per person of an instance (the engine's proto-persons), aligned with its input."""

    key: Obj  # the final person key
    seen: Obj  # the email or number seen, when `key` differs from the records' own; else None
    same_as: dict[int, Override]  # person → the same_as decision that merged them
    phone_matched: Mask


def resolve(  # noqa: C901
    inst: I64,
    raw_key: Obj,
    phone: dict[int, str],
    rosters: Sequence[Roster | None],
    same_as: Sequence[Override],
    specificity: Specificity,
    region: str | None,
) -> Identities:
    """Final keys of the people (``inst``, ``raw_key``); ``phone`` gives the number as
    written of each `tel:` person, ``rosters`` the roster of each instance."""
    n = len(inst)
    key = raw_key.copy()
    # -- roster aliases, one roster at a time (rosters are shared by many instances) ----
    by_roster: dict[int, tuple[Roster, list[int]]] = {}
    for i, roster in enumerate(rosters):
        if roster is not None:
            by_roster.setdefault(id(roster), (roster, []))[1].append(i)
    keys = pd.Series(raw_key, dtype=object)
    for roster, instances in by_roster.values():
        rows = np.flatnonzero(np.isin(inst, instances))
        if len(rows):
            aliased = keys.iloc[rows].map(roster.email_map)
            hit = aliased.notna().to_numpy()
            key[rows[hit]] = aliased.to_numpy(dtype=object)[hit]

    # -- same_as: on the records' own key or the alias-mapped one ---------------------
    decided: dict[int, Override] = {}
    if same_as:
        decided = _same_as(inst, raw_key, key, phone, same_as, specificity, region)
        for person, override in decided.items():
            target = (override.value or "").lower()
            roster = rosters[int(inst[person])]
            mapped = roster.key_for_email(target) if roster is not None else None
            key[person] = mapped or target

    # -- roster phones -------------------------------------------------------------------
    matched = np.zeros(n, dtype=np.bool_)
    matched_e164: dict[int, str] = {}
    indexes: dict[int, PhoneIndex] = {}
    for person, written in phone.items():
        if person in decided:
            continue
        roster = rosters[int(inst[person])]
        if roster is None or not roster.has_phones:
            continue
        index = indexes.get(id(roster))
        if index is None:
            index = indexes[id(roster)] = PhoneIndex(dict(roster.phone_map), region)
        found = index.lookup(written)
        if found is not None:
            matched_e164[person], key[person] = found
            matched[person] = True

    seen = np.empty(n, dtype=object)
    seen[:] = None
    changed = np.flatnonzero(key != raw_key)
    for person in changed.tolist():
        raw = raw_key[person]
        # Numbers as `tel:+E.164`: plain to read, masked like a key, and no spreadsheet
        # reads a leading `+` as a formula.
        if person in matched_e164:
            seen[person] = "tel:" + matched_e164[person]
        elif person in phone and number_shown(phone[person], region).startswith("+"):
            seen[person] = "tel:" + number_shown(phone[person], region)
        else:
            seen[person] = raw
    return Identities(key, seen, decided, matched)


def number_shown(written: str, region: str | None) -> str:
    """A caller's number as the reports show it: E.164 when it reads as one, else the
    digits as written."""
    forms = device_e164s(written, region)
    return forms[0] if forms else written.strip()


def _same_as(
    inst: I64,
    raw_key: Obj,
    key: Obj,
    phone: dict[int, str],
    overrides: Sequence[Override],
    specificity: Specificity,
    region: str | None,
) -> dict[int, Override]:
    by_key: dict[str, list[Override]] = {}
    by_number: dict[str, list[Override]] = {}
    for override in overrides:
        if override.decision != SAME_AS:
            continue
        person_key = override.person_key
        by_key.setdefault(person_key, []).append(override)
        if person_key.startswith("tel:"):
            for e164 in device_e164s(override.person.strip()[4:], region):
                by_number.setdefault(e164, []).append(override)
    wanted = list(by_key)
    candidates = np.flatnonzero(
        pd.Series(raw_key, dtype=object).isin(wanted).to_numpy()
        | pd.Series(key, dtype=object).isin(wanted).to_numpy()
    ).tolist()
    if by_number:
        candidates = sorted(set(candidates) | set(phone))
    decided: dict[int, Override] = {}
    for person in candidates:
        options = [*by_key.get(raw_key[person], ()), *by_key.get(key[person], ())]
        if person in phone:
            for e164 in device_e164s(phone[person], region):
                options.extend(by_number.get(e164, ()))
        best: tuple[int, int] | None = None
        for override in options:
            rank = specificity(override, int(inst[person]))
            if rank is None:
                continue
            # The most specific scope wins; among equals, the later line of the file.
            score = (-rank, override.line)
            if best is None or score > best:
                best = score
                decided[person] = override
    return decided
