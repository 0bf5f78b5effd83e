"""Flatten the stored participant records into column arrays, once per run.

The records are the API's JSON items, untouched; anything may be missing or of the wrong
type. The common case (well-formed dicts and lists) goes through list comprehensions that
touch each device once per field; odd values are normalised on the way instead of raising.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import chain
from typing import Any

import numpy as np
import numpy.typing as npt

from reporting.model import InstanceRecords
from reporting.roster import Roster

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
Mask = npt.NDArray[np.bool_]

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
    rec_joined: list[object]
    rec_left: list[object]
    # one entry per device
    dev_rec: I64
    dev_correlation_id: list[str | None]
    dev_device_type: list[str | None]
    dev_audio_type: list[str | None]
    dev_call_type: list[str | None]
    dev_phone_number: list[str | None]
    dev_joined: list[object]
    dev_left: list[object]
    dev_duration: F64  # NaN when missing or not a number
    # one entry per attended breakout session
    bo_rec: I64
    bo_id: list[str | None]
    bo_name: list[str | None]
    bo_joined: list[object]
    bo_left: list[object]


def _text(value: object) -> str | None:
    if value is None:
        return None
    text = value if type(value) is str else str(value)
    return text if text else None


def _texts(values: list[object]) -> list[str | None]:
    return [v if type(v) is str and v else _text(v) for v in values]


def _number(value: object) -> float:
    if type(value) is int or type(value) is float:
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return float("nan")
    return float("nan")


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


def flatten(data: Sequence[InstanceRecords], rosters: Mapping[int, Roster | None]) -> Flat:
    recs: list[dict[str, Any]] = []
    rec_inst_list: list[int] = []
    rec_key: list[str] = []
    for i, item in enumerate(data):
        roster = rosters.get(item.instance.entry_index)
        email_map = roster.email_map if roster is not None else None
        good = [r for r in item.records if type(r) is dict]
        recs.extend(good)
        rec_inst_list.extend([i] * len(good))
        rec_key.extend([person_key(r, email_map) for r in good])

    emails = [r.get("email") for r in recs]
    rec_email = [e.strip() if type(e) is str and "@" in e else None for e in emails]
    names = [r.get("displayName") for r in recs]
    rec_name = [n.strip() if type(n) is str and n.strip() else None for n in names]

    dev_lists = [_items(r.get("devices")) for r in recs]
    bo_lists = [_items(r.get("breakoutSessionsAttended")) for r in recs]
    dev_counts = np.fromiter((len(x) for x in dev_lists), dtype=np.int64, count=len(recs))
    bo_counts = np.fromiter((len(x) for x in bo_lists), dtype=np.int64, count=len(recs))
    devs = list(chain.from_iterable(dev_lists))
    bos = list(chain.from_iterable(bo_lists))
    rec_index = np.arange(len(recs), dtype=np.int64)

    return Flat(
        rec_inst=np.asarray(rec_inst_list, dtype=np.int64),
        rec_email=rec_email,
        rec_name=rec_name,
        rec_key=rec_key,
        rec_host=np.fromiter((r.get("host") is True for r in recs), np.bool_, len(recs)),
        rec_cohost=np.fromiter((r.get("coHost") is True for r in recs), np.bool_, len(recs)),
        rec_lobby=np.fromiter((r.get("state") == "lobby" for r in recs), np.bool_, len(recs)),
        rec_joined=[r.get("joinedTime") for r in recs],
        rec_left=[r.get("leftTime") for r in recs],
        dev_rec=np.repeat(rec_index, dev_counts),
        dev_correlation_id=_texts([d.get("correlationId") for d in devs]),
        dev_device_type=_texts([d.get("deviceType") for d in devs]),
        dev_audio_type=_texts([d.get("audioType") for d in devs]),
        dev_call_type=_texts([d.get("callType") for d in devs]),
        dev_phone_number=_texts([d.get("phoneNumber") for d in devs]),
        dev_joined=[d.get("joinedTime") for d in devs],
        dev_left=[d.get("leftTime") for d in devs],
        dev_duration=np.fromiter(
            (_number(d.get("durationSecond")) for d in devs), np.float64, len(devs)
        ),
        bo_rec=np.repeat(rec_index, bo_counts),
        bo_id=_texts([b.get("id") for b in bos]),
        bo_name=_texts([b.get("name") for b in bos]),
        bo_joined=[b.get("joinedTime") for b in bos],
        bo_left=[b.get("leftTime") for b in bos],
    )
