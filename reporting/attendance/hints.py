"""Hints for unidentified callers (rule 12): who else used the number in this run.

A `tel:` caller that matched no roster phone stays unidentified. When the same number
(compared in E.164) was seen on a device of a record that has an email, the reports say
"possibly NAME (EMAIL), who used this number on DATE": a hint for the reviewer, never a
merge. One hint per (caller row, email): the latest use in the run.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo

import numpy as np
import numpy.typing as npt
import pandas as pd

from reporting.attendance.identity import number_shown
from reporting.attendance.intervals import NO_TIME
from reporting.columns import CALLER_HINT_COLUMNS
from reporting.phones import PhoneIndex

I64 = npt.NDArray[np.int64]
Mask = npt.NDArray[np.bool_]
Obj = npt.NDArray[np.object_]


def hint_text(name: str | None, email: str, used_on: datetime | None, tz: tzinfo) -> str:
    """The hint as the reports word it, with the date in the display zone."""
    who = f"{name} ({email})" if name else email
    when = f" on {used_on.astimezone(tz).date().isoformat()}" if used_on is not None else ""
    return f"possibly {who}, who used this number{when}"


def _text(column: pd.Series) -> pd.Series:
    return pd.Series(column.to_numpy(dtype=object), dtype="str")


def empty_hints() -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series([], dtype="str") for c in CALLER_HINT_COLUMNS})
    frame["used_on"] = pd.Series([], dtype="datetime64[ms, UTC]")
    return frame


def caller_hints(
    callers: Sequence[tuple[str, str, str]],  # (meeting id, person key, number as written)
    dev_phone: Obj,
    dev_email: Obj,  # the device's record's email (trimmed), None without one
    dev_name: Obj,  # the device's record's display name
    dev_meeting: Obj,  # the device's instance id
    dev_used: I64,  # join time (ms), NO_TIME when unknown
    region: str | None,
) -> pd.DataFrame:
    """One row per (caller, email seen with the caller's number), in caller order."""
    empty = empty_hints()
    if not callers:
        return empty
    numbers: dict[str, str] = {}
    shown: list[str] = []
    for _, _, written in callers:
        number = number_shown(written, region)
        shown.append(number)
        if number.startswith("+"):
            numbers[number] = number
    index = PhoneIndex(numbers, region)
    if not index:
        return empty
    with_email = np.flatnonzero(pd.notna(dev_email))
    phones = dev_phone[with_email]
    text = np.array([isinstance(p, str) for p in phones.tolist()], dtype=np.bool_)
    with_email, phones = with_email[text], phones[text]
    if not len(with_email):
        return empty
    codes, distinct = pd.factorize(phones)
    found = [index.lookup(p) for p in distinct.tolist()]
    number_of = np.array([f[1] if f is not None else None for f in found], dtype=object)
    matched = number_of[codes]
    hit = pd.notna(matched)
    uses = pd.DataFrame(
        {
            "phone": matched[hit],
            "hint_email": dev_email[with_email[hit]],
            "hint_name": dev_name[with_email[hit]],
            "hint_meeting_id": dev_meeting[with_email[hit]],
            "used": dev_used[with_email[hit]],
        }
    )
    if uses.empty:
        return empty
    uses["email_key"] = uses["hint_email"].str.lower()
    uses = uses.sort_values("used", kind="stable").drop_duplicates(
        ["phone", "email_key"], keep="last"
    )
    wanted = pd.DataFrame(
        {
            "caller": np.arange(len(callers)),
            "meeting_id": [c[0] for c in callers],
            "person_key": [c[1] for c in callers],
            "phone": shown,
        }
    )
    out = wanted.merge(uses, on="phone").sort_values(["caller", "used"], kind="stable")
    used = out["used"].to_numpy(dtype=np.int64)
    result = pd.DataFrame(
        {
            "meeting_id": _text(out["meeting_id"]),
            "person_key": _text(out["person_key"]),
            "phone": _text(out["phone"]),
            "hint_name": _text(out["hint_name"]),
            "hint_email": _text(out["hint_email"]),
            "hint_meeting_id": pd.Series(
                out["hint_meeting_id"].to_numpy(dtype=object), dtype="str"
            ),
            "used_on": pd.Series(
                np.where(used == NO_TIME, NO_TIME, used).view("datetime64[ms]")
            ).dt.tz_localize("UTC"),
        }
    )
    return result.reset_index(drop=True)
