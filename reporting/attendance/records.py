"""Flatten the stored participant records into column arrays, once per run.

The records are the API's JSON items, untouched; anything may be missing or of the wrong
type. The common case (well-formed dicts and lists) goes through list comprehensions that
touch each device once per field; odd values are normalised on the way instead of raising.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from itertools import chain
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from reporting.model import InstanceRecords
from reporting.roster import Roster

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
Mask = npt.NDArray[np.bool_]
Obj = npt.NDArray[np.object_]

# pandas' own list-of-dicts → 2-D object array loop (what DataFrame(list_of_dicts) uses);
# several times faster than one comprehension per field. Private, hence the fallback.
_dicts_to_array: Callable[[list[dict[str, Any]], list[str]], Obj] | None = getattr(
    importlib.import_module("pandas._libs.lib"), "dicts_to_array", None
)

_EMPTY: dict[str, Any] = {}
_DIGITS = frozenset("0123456789")


@dataclass(frozen=True)
class Flat:
    """Records, devices and breakout entries of every instance, as aligned columns."""

    # one entry per participant record
    rec_inst: I64
    rec_email: list[str | None]  # trimmed, as written; None unless it contains `@`
    rec_name: list[str | None]  # display name, ends trimmed; None when empty
    rec_key: list[str]  # person key (rule 2), roster aliases applied
    rec_host: Mask
    rec_cohost: Mask
    rec_lobby: Mask
    rec_joined: Obj
    rec_left: Obj
    # one entry per device
    dev_rec: I64
    dev_joined: Obj
    dev_left: Obj
    dev_duration: F64  # NaN when missing or not a number
    dev_items: list[dict[str, Any]]  # the device entries themselves, for `device_fields`
    # one entry per attended breakout session
    bo_rec: I64
    bo_joined: Obj
    bo_left: Obj
    bo_items: list[dict[str, Any]]  # the breakout entries themselves, for `breakout_fields`


DEVICE_FIELDS = ["correlationId", "deviceType", "audioType", "callType", "phoneNumber"]
BREAKOUT_FIELDS = ["id", "name"]


def device_fields(flat: Flat) -> list[Obj]:
    """The DEVICE_FIELDS columns of the device entries, as received (NaN when missing).

    Only the devices table needs them, so they are read when it is built, not with the
    times every attendance row needs."""
    return _table(flat.dev_items, DEVICE_FIELDS)


def breakout_fields(flat: Flat) -> list[Obj]:
    """The BREAKOUT_FIELDS columns of the breakout entries (NaN when missing)."""
    return _table(flat.bo_items, BREAKOUT_FIELDS)


def _items(value: object) -> list[dict[str, Any]]:
    if type(value) is not list:
        return []
    if all(type(v) is dict for v in value):
        return value
    # A non-object entry still counts as an entry (the devices count is of entries), but
    # carries no data.
    return [v if type(v) is dict else _EMPTY for v in value]


def phone_digits(value: object) -> str:
    """The ASCII digits of a phone number as written (`+1 (408) 555-0199` → `14085550199`)."""
    if not isinstance(value, str):
        return ""
    return "".join(c for c in value if c in _DIGITS)


def normalise_name(name: str) -> str:
    """Case-folded, white-space runs collapsed to one space, ends trimmed."""
    return " ".join(name.split()).casefold()


def person_key(record: Mapping[str, Any], email_map: Mapping[str, str] | None) -> str:
    """Rule 2: email, else `tel:` + digits of the first device phone number, else `name:`,
    else `id:`. With a roster, an email (primary or alias) maps onto the roster's key."""
    email = record.get("email")
    if isinstance(email, str):
        email = email.strip().lower()
        if "@" in email:
            if email_map is not None:
                return email_map.get(email, email)
            return email
    for device in _items(record.get("devices")):
        digits = phone_digits(device.get("phoneNumber"))
        if digits:
            return "tel:" + digits
    name = record.get("displayName")
    if isinstance(name, str):
        folded = normalise_name(name)
        if folded:
            return "name:" + folded
    rid = record.get("id")
    return "id:" + ("" if rid is None else str(rid))


def _table(rows: list[dict[str, Any]], columns: list[str]) -> list[Obj]:
    """Columns of a list of dicts (missing → NaN), via pandas' C loop when available."""
    if _dicts_to_array is not None:
        try:
            array = _dicts_to_array(rows, columns)
            return [array[:, j] for j in range(len(columns))]
        except Exception:  # noqa: S110 - a private helper; the plain path below is exact
            pass
    nan = float("nan")
    out = []
    for column in columns:
        values = np.empty(len(rows), dtype=object)
        values[:] = [r.get(column, nan) for r in rows]
        out.append(values)
    return out


def _lists(values: Obj) -> list[list[dict[str, Any]]]:
    """Per record, its list of entries; the well-formed case costs two type scans."""
    raw = values.tolist()
    # Anything but a list carries no entries (what `_items` says too).
    lists = [v if type(v) is list else [] for v in raw]
    if set(map(type, chain.from_iterable(lists))) <= {dict}:
        return lists
    return [_items(v) for v in raw]


def _durations(values: Obj) -> F64:
    """`durationSecond` as float; NaN when missing or not a number (true/false included)."""
    if pd.api.types.infer_dtype(values, skipna=True) in ("integer", "floating", "empty"):
        return values.astype(np.float64)
    numbers = pd.to_numeric(pd.Series(values, dtype=object), errors="coerce")
    out = numbers.to_numpy(dtype=np.float64, na_value=np.nan).copy()
    out[np.array([type(v) is bool for v in values.tolist()], dtype=np.bool_)] = np.nan
    return out


_REC = [
    "email",
    "displayName",
    "host",
    "coHost",
    "state",
    "joinedTime",
    "leftTime",
    "devices",
    "breakoutSessionsAttended",
]
_DEV = ["joinedTime", "leftTime", "durationSecond"]
_BO = ["joinedTime", "leftTime"]


def flatten(data: Sequence[InstanceRecords], rosters: Mapping[int, Roster | None]) -> Flat:
    recs: list[dict[str, Any]] = []
    rec_inst_list: list[int] = []
    for i, item in enumerate(data):
        good = [r for r in item.records if type(r) is dict]
        recs.extend(good)
        rec_inst_list.extend([i] * len(good))
    rec_inst = np.asarray(rec_inst_list, dtype=np.int64)
    email, name, host, cohost, state, joined, left, devices, breakouts = _table(recs, _REC)

    # The email path is the common one; only records without an email go through the
    # full rule. Roster aliases apply per instance (rosters belong to config entries).
    email_list = email.tolist()
    folded = [e.strip().lower() if type(e) is str else "" for e in email_list]
    maps = []
    for item in data:
        roster = rosters.get(item.instance.entry_index)
        maps.append(roster.email_map if roster is not None else {})
    rec_key = [
        maps[i].get(e, e) if "@" in e else person_key(r, maps[i])
        for e, r, i in zip(folded, recs, rec_inst_list, strict=True)
    ]

    dev_lists = _lists(devices)
    bo_lists = _lists(breakouts)
    dev_counts = np.array([len(x) for x in dev_lists], dtype=np.int64)
    bo_counts = np.array([len(x) for x in bo_lists], dtype=np.int64)
    devs = list(chain.from_iterable(dev_lists))
    bos = list(chain.from_iterable(bo_lists))
    rec_index = np.arange(len(recs), dtype=np.int64)
    d_joined, d_left, d_dur = _table(devs, _DEV)
    b_joined, b_left = _table(bos, _BO)

    return Flat(
        rec_inst=rec_inst,
        rec_email=[e.strip() if type(e) is str and "@" in e else None for e in email_list],
        rec_name=[(n.strip() or None) if type(n) is str else None for n in name.tolist()],
        rec_key=rec_key,
        rec_host=np.array([v is True for v in host.tolist()], dtype=np.bool_),
        rec_cohost=np.array([v is True for v in cohost.tolist()], dtype=np.bool_),
        rec_lobby=np.array([v == "lobby" for v in state.tolist()], dtype=np.bool_),
        rec_joined=joined,
        rec_left=left,
        dev_rec=np.repeat(rec_index, dev_counts),
        dev_joined=d_joined,
        dev_left=d_left,
        dev_duration=_durations(d_dur),
        dev_items=devs,
        bo_rec=np.repeat(rec_index, bo_counts),
        bo_joined=b_joined,
        bo_left=b_left,
        bo_items=bos,
    )
