"""Flatten the stored participant records into column arrays, once per run.

The records are the API's JSON items, untouched; anything may be missing or of the wrong
type. One pass over the records reads every field the attendance rows need, checking each
value's type once where it is read; odd values are normalised on the way instead of
raising. The text fields of devices and breakouts are read later, only when their tables
are built.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from itertools import chain
from operator import attrgetter
from typing import Any, Protocol, TypeVar

import numpy as np
import numpy.typing as npt
import pandas as pd

from reporting.attendance.tables import object_array
from reporting.attendance.timeparse import FlatTimes, ParsedTimes, parse_times
from reporting.keys import normalise_name, phone_digits
from reporting.model import InstanceRecords
from reporting.participants import ParticipantPages
from reporting.webex.schema import Participant

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
_PARSE_BATCH = 1 << 16  # timestamps parsed at once (see `Columns.parse_times`)
_T = TypeVar("_T")
_NAN = float("nan")


@dataclass(frozen=True)
class Flat:
    """Records, devices and breakout entries of every instance, as aligned columns."""

    # one entry per participant record
    rec_inst: I64
    rec_email: Obj  # trimmed, as written; None unless it contains `@`
    rec_name: Obj  # display name, ends trimmed; None when empty
    rec_key: Obj  # person key (rule 2) as the record gives it, before any roster
    rec_host: Mask
    rec_cohost: Mask
    rec_lobby: Mask
    # records keyed `tel:` (no email): their index and the phone number as written
    tel_rec: list[int]
    tel_phone: list[str]
    # one entry per device
    dev_rec: I64
    dev_duration: F64  # NaN when missing or not a number
    dev_phone: Obj  # `phoneNumber` as received; None when missing
    # one entry per attended breakout session
    bo_rec: I64
    # the timestamps of records, devices and breakout entries, parsed (rule 1)
    times: FlatTimes
    # Per instance, where the text of its device and breakout entries is read from when
    # their tables are built (`device_fields`, `breakout_fields`).
    entry_text: list[EntryText]


DEVICE_FIELDS = ["correlationId", "deviceType", "audioType", "callType", "phoneNumber"]
BREAKOUT_FIELDS = ["id", "name"]


class EntryText(Protocol):
    """The text fields of one instance's device and breakout entries, in entry order."""

    def devices(self) -> list[Obj]: ...  # the DEVICE_FIELDS columns
    def breakouts(self) -> list[Obj]: ...  # the BREAKOUT_FIELDS columns


@dataclass(frozen=True)
class _DictEntries:
    """Entries read from the records' own lists (missing → NaN)."""

    dev_lists: list[list[object]]
    bo_lists: list[list[object]]

    def devices(self) -> list[Obj]:
        return _table(_entries(self.dev_lists), DEVICE_FIELDS)

    def breakouts(self) -> list[Obj]:
        return _table(_entries(self.bo_lists), BREAKOUT_FIELDS)


class PageEntries:
    """Entries read again from the page bodies, their text fields alone (missing → None);
    holding the decoded entries until then would keep every field of every device. One
    decode gives both tables' columns (a run writes devices.csv, and the compliance
    workbook shows breakouts): only those columns are kept, not the entries."""

    def __init__(self, pages: ParticipantPages) -> None:
        self.pages = pages
        self._tables: tuple[list[Obj], list[Obj]] | None = None

    def devices(self) -> list[Obj]:
        return self._read()[0]

    def breakouts(self) -> list[Obj]:
        return self._read()[1]

    def _read(self) -> tuple[list[Obj], list[Obj]]:
        if self._tables is None:
            entries = self.pages.entries()
            devices = list(chain.from_iterable(e.devices or () for e in entries))
            rooms = list(chain.from_iterable(e.breakout_sessions_attended or () for e in entries))
            self._tables = (
                [object_array(list(map(attrgetter(f), devices))) for f in _DEVICE_ATTRS],
                [object_array(list(map(attrgetter(f), rooms))) for f in ("id", "name")],
            )
        return self._tables


_DEVICE_ATTRS = ("correlation_id", "device_type", "audio_type", "call_type", "phone_number")


def _joined(columns: list[list[Obj]], width: int) -> list[Obj]:
    if not columns:
        return [np.empty(0, dtype=object) for _ in range(width)]
    return [np.concatenate([c[j] for c in columns]) for j in range(width)]


def device_fields(flat: Flat) -> list[Obj]:
    """The DEVICE_FIELDS columns of the device entries, as received (NaN or None when
    missing).

    Only the devices table needs them, so they are read when it is built, not with the
    times every attendance row needs."""
    return _joined([t.devices() for t in flat.entry_text], len(DEVICE_FIELDS))


def breakout_fields(flat: Flat) -> list[Obj]:
    """The BREAKOUT_FIELDS columns of the breakout entries (NaN or None when missing)."""
    return _joined([t.breakouts() for t in flat.entry_text], len(BREAKOUT_FIELDS))


def _entries(lists: list[list[object]]) -> list[dict[str, Any]]:
    """The entries of every list in order; a non-object entry still counts as an entry (the
    devices count is of entries) but carries no data."""
    return [v if type(v) is dict else _EMPTY for entries in lists for v in entries]


def _items(value: object) -> list[dict[str, Any]]:
    if type(value) is not list:
        return []
    return _entries([value])


def person_key(record: Mapping[str, Any], email_map: Mapping[str, str] | None) -> str:
    """Rule 2: email, else `tel:` + digits of the first device phone number, else `name:`,
    else `id:`. With a roster, an email (primary or alias) maps onto the roster's key."""
    return person_key_and_phone(record, email_map)[0]


def person_key_and_phone(
    record: Mapping[str, Any], email_map: Mapping[str, str] | None
) -> tuple[str, str | None]:
    """`person_key`, and for a `tel:` key the phone number as written."""
    email = record.get("email")
    if isinstance(email, str):
        email = email.strip().lower()
        if "@" in email:
            if email_map is not None:
                return email_map.get(email, email), None
            return email, None
    for device in _items(record.get("devices")):
        number = device.get("phoneNumber")
        digits = phone_digits(number)
        if digits:
            assert isinstance(number, str)  # only text has digits
            return "tel:" + digits, number
    name = record.get("displayName")
    if isinstance(name, str):
        folded = normalise_name(name)
        if folded:
            return "name:" + folded, None
    rid = record.get("id")
    return "id:" + ("" if rid is None else str(rid)), None


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


def _durations(values: Obj) -> F64:
    """`durationSecond` as float; NaN when missing or not a number (true/false included)."""
    if pd.api.types.infer_dtype(values, skipna=True) in ("integer", "floating", "empty"):
        return values.astype(np.float64)
    numbers = pd.to_numeric(pd.Series(values, dtype=object), errors="coerce")
    out = numbers.to_numpy(dtype=np.float64, na_value=np.nan).copy()
    out[np.array([type(v) is bool for v in values.tolist()], dtype=np.bool_)] = np.nan
    return out


def flatten(data: Sequence[InstanceRecords]) -> Flat:
    """Every record, device and breakout entry of `data` as aligned columns. Person keys
    are the records' own (rule 2); rosters and overrides are applied per person later."""
    columns = Columns()
    for item in data:
        columns.read(item.records)
    return join_parts([columns.part()], columns.entry_text)


@dataclass(frozen=True)
class Part:
    """The columns of consecutive instances (`Columns.part`), joined into `Flat` by
    `join_parts`. Arrays and a list of text alone: a worker process hands one back."""

    records_per_instance: I64
    email: Obj
    name: Obj
    key: Obj
    host: Mask
    cohost: Mask
    lobby: Mask
    tel_rec: I64  # positions among the part's records
    tel_phone: list[str]
    devices_per_record: I64
    dev_duration: F64
    dev_phone: Obj
    breakouts_per_record: I64
    times: tuple[ParsedTimes, ...]  # the six columns of `FlatTimes`, in its order


def _cat(arrays: list[npt.NDArray[Any]]) -> npt.NDArray[Any]:
    return arrays[0] if len(arrays) == 1 else np.concatenate(arrays)


def join_parts(parts: Sequence[Part], entry_text: list[EntryText]) -> Flat:
    """The parts of consecutive instances, in instance order, as one `Flat`."""
    per_inst = _cat([p.records_per_instance for p in parts])
    devices_per_record = _cat([p.devices_per_record for p in parts])
    n_rec = len(devices_per_record)
    rec_index = np.arange(n_rec, dtype=np.int64)
    starts = np.cumsum([0] + [len(p.key) for p in parts[:-1]])
    return Flat(
        rec_inst=np.repeat(np.arange(len(per_inst), dtype=np.int64), per_inst),
        rec_email=_cat([p.email for p in parts]),
        rec_name=_cat([p.name for p in parts]),
        rec_key=_cat([p.key for p in parts]),
        rec_host=_cat([p.host for p in parts]),
        rec_cohost=_cat([p.cohost for p in parts]),
        rec_lobby=_cat([p.lobby for p in parts]),
        tel_rec=_cat([p.tel_rec + s for p, s in zip(parts, starts, strict=True)]).tolist(),
        tel_phone=list(chain.from_iterable(p.tel_phone for p in parts)),
        dev_rec=np.repeat(rec_index, devices_per_record),
        dev_duration=_cat([p.dev_duration for p in parts]),
        dev_phone=_cat([p.dev_phone for p in parts]),
        bo_rec=np.repeat(rec_index, _cat([p.breakouts_per_record for p in parts])),
        times=FlatTimes(*(ParsedTimes.joined([p.times[j] for p in parts]) for j in range(6))),
        entry_text=entry_text,
    )


class Columns:
    """The columns of `Flat` as plain lists, filled by one pass over the records.

    The pass appends through local names (no dict row per record, no second pass per
    field) and checks each value's type once, where it is read. Entries that are not
    objects count as entries but carry no data; values of the wrong type are read as
    missing or false, exactly as the rules' readings say."""

    def __init__(self) -> None:
        self.records_per_instance: list[int] = []
        self.email: list[str | None] = []
        self.name: list[str | None] = []
        self.key: list[str] = []
        self.host: list[bool] = []
        self.cohost: list[bool] = []
        self.lobby: list[bool] = []
        self.joined: list[object] = []
        self.left: list[object] = []
        self.tel_rec: list[int] = []
        self.tel_phone: list[str] = []
        self.devices_per_record: list[int] = []
        self.entry_text: list[EntryText] = []
        self.dev_joined: list[object] = []
        self.dev_left: list[object] = []
        self.dev_duration: list[object] = []
        self.dev_phone: list[object] = []
        self.breakouts_per_record: list[int] = []
        self.bo_joined: list[object] = []
        self.bo_left: list[object] = []
        # per time column of `FlatTimes`, its parsed parts so far
        self.parsed: list[list[ParsedTimes]] = [[] for _ in range(6)]

    def read(self, records: Sequence[object]) -> None:
        """One instance's records: its pages decoded against the schema, or read as dicts
        (records given as dicts, or pages with a record of the wrong types, read as the
        fetch reads them: the bad fields missing)."""
        typed = records.typed() if isinstance(records, ParticipantPages) else None
        if typed is not None:
            assert isinstance(records, ParticipantPages)
            self.read_typed(typed, records)
        else:
            self.read_instance(records)
        self.parse_times(whole=False)

    def read_instance(self, records: Sequence[object]) -> None:
        """The columns from records given as dicts (anything else is not a record at all:
        no row, no entries)."""
        objects: list[dict[str, Any]] = [r for r in records if type(r) is dict]
        self.records_per_instance.append(len(objects))
        self._read_dict_fields(objects)
        device_lists = self._read_dict_devices(objects)
        breakout_lists = self._read_dict_breakouts(objects)
        self.entry_text.append(_DictEntries(device_lists, breakout_lists))

    def _read_dict_fields(self, records: list[dict[str, Any]]) -> None:
        # Bound once per instance: the loop below runs once per record.
        add_email, add_name, add_key = self.email.append, self.name.append, self.key.append
        add_host, add_cohost = self.host.append, self.cohost.append
        add_lobby, add_joined, add_left = self.lobby.append, self.joined.append, self.left.append
        for record in records:
            get = record.get
            email = get("email")
            if type(email) is str and "@" in email:  # trimming and lower-casing keep "@"
                trimmed = email.strip()
                add_key(trimmed.lower())
                add_email(trimmed)
            else:
                key, phone = person_key_and_phone(record, None)
                add_key(key)
                add_email(None)
                if phone is not None:
                    self.tel_rec.append(len(self.key) - 1)
                    self.tel_phone.append(phone)
            name = get("displayName")
            add_name((name.strip() or None) if type(name) is str else None)
            add_host(get("host") is True)
            add_cohost(get("coHost") is True)
            add_lobby(get("state") == "lobby")
            add_joined(get("joinedTime"))
            add_left(get("leftTime"))

    def _read_dict_devices(self, records: list[dict[str, Any]]) -> list[list[object]]:
        """Each record's device entries (an entry that is not an object carries no data);
        returns the records' device lists, for the devices table."""
        lists: list[list[object]] = []
        add_count = self.devices_per_record.append
        add_dj, add_dl = self.dev_joined.append, self.dev_left.append
        add_dd, add_dp = self.dev_duration.append, self.dev_phone.append
        nan = _NAN
        for record in records:
            devices = record.get("devices")
            if type(devices) is not list:
                add_count(0)
                continue
            add_count(len(devices))
            lists.append(devices)
            for device in devices:
                if type(device) is dict:
                    field = device.get
                    add_dj(field("joinedTime"))
                    add_dl(field("leftTime"))
                    add_dd(field("durationSecond", nan))
                    add_dp(field("phoneNumber"))
                else:
                    add_dj(None)
                    add_dl(None)
                    add_dd(nan)
                    add_dp(None)
        return lists

    def _read_dict_breakouts(self, records: list[dict[str, Any]]) -> list[list[object]]:
        """Each record's breakout entries; returns their lists, for the breakouts table."""
        lists: list[list[object]] = []
        add_count = self.breakouts_per_record.append
        add_bj, add_bl = self.bo_joined.append, self.bo_left.append
        for record in records:
            breakouts = record.get("breakoutSessionsAttended")
            if type(breakouts) is not list:
                add_count(0)
                continue
            add_count(len(breakouts))
            lists.append(breakouts)
            for breakout in breakouts:
                if type(breakout) is dict:
                    add_bj(breakout.get("joinedTime"))
                    add_bl(breakout.get("leftTime"))
                else:
                    add_bj(None)
                    add_bl(None)
        return lists

    def read_typed(self, records: list[Participant], pages: ParticipantPages) -> None:
        """The same columns from records decoded against the schema (every field of the
        documented type or None), a column at a time: no dict, no loop per device."""
        self.records_per_instance.append(len(records))
        self.entry_text.append(PageEntries(pages))
        self._read_keys(records)
        self.name.extend(_trimmed_or_none(list(map(_NAME, records))))
        # True, False or None: `finish` reads None as false, as `is True` does.
        self.host.extend(map(_HOST, records))
        self.cohost.extend(map(_COHOST, records))
        self.lobby.extend((object_array(list(map(_STATE, records))) == "lobby").tolist())
        self.joined.extend(map(_JOINED, records))
        self.left.extend(map(_LEFT, records))
        lists = _lists(list(map(_DEVICES, records)))
        self.devices_per_record.extend(map(len, lists))
        devices = list(chain.from_iterable(lists))
        self.dev_joined.extend(map(_JOINED, devices))
        self.dev_left.extend(map(_LEFT, devices))
        # None (missing) becomes NaN in `finish`, as a missing durationSecond does.
        self.dev_duration.extend(map(_DURATION, devices))
        self.dev_phone.extend(map(_PHONE, devices))
        rooms = _lists(list(map(_BREAKOUTS, records)))
        self.breakouts_per_record.extend(map(len, rooms))
        entries = list(chain.from_iterable(rooms))
        self.bo_joined.extend(map(_JOINED, entries))
        self.bo_left.extend(map(_LEFT, entries))

    def _read_keys(self, records: list[Participant]) -> None:
        """Emails and the records' own keys (rule 2), as `read_instance` reads them."""
        emails = list(map(_EMAIL, records))
        with_at = [e is not None and "@" in e for e in emails]  # trimming keeps "@"
        if all(with_at):
            every: list[str] = list(map(str.strip, emails))  # type: ignore[arg-type]
            self.email.extend(every)
            self.key.extend(map(str.lower, every))
            return
        trimmed = [e.strip() if at else None for e, at in zip(emails, with_at, strict=True)]
        keys: list[str | None] = [t.lower() if t is not None else None for t in trimmed]
        start = len(self.key)
        for i in [i for i, at in enumerate(with_at) if not at]:
            key, phone = _typed_key(records[i])
            keys[i] = key
            if phone is not None:
                self.tel_rec.append(start + i)
                self.tel_phone.append(phone)
        self.email.extend(trimmed)
        self.key.extend(keys)  # type: ignore[arg-type]  # every None was replaced

    def parse_times(self, *, whole: bool) -> None:
        """Parse the timestamps read so far and let go of their texts. Done every few
        instances, while the texts just decoded are still in the processor's caches (read
        later, scattered over the heap, the same parse takes several times as long); with
        ``whole`` False, only once enough of them are waiting."""
        raw = [self.joined, self.left, self.dev_joined, self.dev_left, self.bo_joined]
        raw.append(self.bo_left)
        waiting = sum(map(len, raw))
        if not waiting or (not whole and waiting < _PARSE_BATCH):
            return
        times = parse_times(list(chain.from_iterable(raw)))
        cut = 0
        for column, values in zip(self.parsed, raw, strict=True):
            column.append(times.part(cut, cut + len(values)))
            cut += len(values)
            values.clear()

    def part(self) -> Part:
        self.parse_times(whole=True)
        n_rec = len(self.key)
        return Part(
            records_per_instance=np.array(self.records_per_instance, dtype=np.int64),
            email=object_array(self.email),
            name=object_array(self.name),
            key=object_array(self.key),
            host=np.array(self.host, dtype=np.bool_).reshape(n_rec),
            cohost=np.array(self.cohost, dtype=np.bool_).reshape(n_rec),
            lobby=np.array(self.lobby, dtype=np.bool_).reshape(n_rec),
            tel_rec=np.array(self.tel_rec, dtype=np.int64),
            tel_phone=self.tel_phone,
            devices_per_record=np.array(self.devices_per_record, dtype=np.int64),
            dev_duration=_durations(object_array(self.dev_duration)),
            dev_phone=object_array(self.dev_phone),
            breakouts_per_record=np.array(self.breakouts_per_record, dtype=np.int64),
            times=tuple(ParsedTimes.joined(parts) for parts in self.parsed),
        )


_EMAIL, _NAME, _STATE = attrgetter("email"), attrgetter("display_name"), attrgetter("state")
_HOST, _COHOST = attrgetter("host"), attrgetter("co_host")
_JOINED, _LEFT = attrgetter("joined_time"), attrgetter("left_time")
_DEVICES, _BREAKOUTS = attrgetter("devices"), attrgetter("breakout_sessions_attended")
_DURATION, _PHONE = attrgetter("duration_second"), attrgetter("phone_number")


def _trimmed_or_none(names: list[str | None]) -> list[str | None]:
    """Each name with its ends trimmed; None for a missing or blank one."""
    if None in names:
        return [(n.strip() or None) if n is not None else None for n in names]
    trimmed: list[str | None] = list(map(str.strip, names))  # type: ignore[arg-type]
    if "" in trimmed:
        return [t or None for t in trimmed]
    return trimmed


def _lists(values: list[list[_T] | None]) -> Sequence[Sequence[_T]]:
    """Missing lists as empty ones."""
    if None in values:
        return [v or () for v in values]
    return values  # type: ignore[return-value]  # no None left


def _typed_key(record: Participant) -> tuple[str, str | None]:
    """`person_key_and_phone` of a typed record without an email."""
    for device in record.devices or ():
        number = device.phone_number
        digits = phone_digits(number)
        if digits:
            assert number is not None
            return "tel:" + digits, number
    name = record.display_name
    if name is not None:
        folded = normalise_name(name)
        if folded:
            return "name:" + folded, None
    return "id:" + ("" if record.id is None else record.id), None


def bad_record_positions(data: Sequence[InstanceRecords], flat: Flat) -> I64:
    """Where the records of ``data`` that have a `RecordProblem` sit in ``flat``.

    Records that are not objects have no row in ``flat``, so positions are counted over
    the objects of each instance."""
    starts = np.searchsorted(flat.rec_inst, np.arange(len(data), dtype=np.int64))
    positions: list[int] = []
    for k, item in enumerate(data):
        if not item.record_problems:
            continue
        records = item.records
        for problem in item.record_problems:
            if 0 <= problem.index < len(records) and type(records[problem.index]) is dict:
                before = sum(1 for r in records[: problem.index] if type(r) is not dict)
                positions.append(int(starts[k]) + problem.index - before)
    return np.array(positions, dtype=np.int64)
