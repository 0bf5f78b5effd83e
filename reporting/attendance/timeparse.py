"""Vectorised timestamp parsing (rule 1 of ATTENDANCE_RULES.md).

Every timestamp of a run is parsed in one call: the caller gathers the raw values of
every record, device and breakout into one list, and gets back integer milliseconds since
the epoch (UTC) plus two masks. Working in ``int64`` milliseconds keeps every later sum
and comparison exact; seconds are only taken (rounded down) at the very end.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import numpy as np
import numpy.typing as npt
import pandas as pd

from reporting.timestamps import parse_instant

I64 = npt.NDArray[np.int64]
Mask = npt.NDArray[np.bool_]
_NAT = np.iinfo(np.int64).min  # how a DatetimeIndex holds NaT in its int64 view
_DAY_US = 86_400_000_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class ParsedTimes:
    """Parsed timestamps, aligned with the input values."""

    ms: I64  # milliseconds since the epoch, UTC; 0 where not known
    known: Mask  # a real instant (parsed, and not the epoch sentinel)
    bad: Mask  # present but not a timestamp: the row gets BAD_TIMESTAMP

    def part(self, start: int, stop: int) -> ParsedTimes:
        return ParsedTimes(self.ms[start:stop], self.known[start:stop], self.bad[start:stop])

    @staticmethod
    def joined(parts: Sequence[ParsedTimes]) -> ParsedTimes:
        if not parts:
            return ParsedTimes(
                np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.bool_), np.zeros(0, np.bool_)
            )
        return ParsedTimes(
            np.concatenate([p.ms for p in parts]),
            np.concatenate([p.known for p in parts]),
            np.concatenate([p.bad for p in parts]),
        )


@dataclass(frozen=True)
class FlatTimes:
    """The six timestamp columns of the records, devices and breakout entries, parsed."""

    rec_joined: ParsedTimes
    rec_left: ParsedTimes
    dev_joined: ParsedTimes
    dev_left: ParsedTimes
    bo_joined: ParsedTimes
    bo_left: ParsedTimes


def parse_times(values: Sequence[object] | npt.NDArray[np.object_]) -> ParsedTimes:
    """Parse ISO 8601 timestamps with their offsets into UTC milliseconds.

    Unknown (``known`` False, ``bad`` False): missing, ``None``, empty or blank, or the
    epoch instant in any spelling (``1970-01-01T00:00:00Z``, ``...00.000Z``,
    ``1970-01-01T01:00:00+01:00``). Unknown and bad (``bad`` True): anything else that does
    not parse, including non-string values. A timestamp without an offset is read as UTC,
    the API's default zone. Sub-millisecond digits are dropped (floor), so two spellings
    of the same millisecond compare equal.
    """
    n = len(values)
    if isinstance(values, np.ndarray) and values.dtype == object:
        array = values  # read, never written: the originals decide missing vs bad below
    else:
        # fromiter stores each value as it is, even a list (slice assignment would unpack it).
        array = np.fromiter(values, dtype=object, count=n)
    texts = array
    # pandas would read a number as seconds or nanoseconds since the epoch; only text is a
    # timestamp here, so anything else is blanked first (and later found to be bad).
    if pd.api.types.infer_dtype(array, skipna=True) not in ("string", "empty"):
        blanked = (v if type(v) is str else None for v in array.tolist())
        texts = np.fromiter(blanked, dtype=object, count=n)
    # The object array itself, not a Series of it: pandas parses it in place (a Series or
    # a text column around 2.8 M values costs a copy first).
    # (pandas-stubs list no object ndarray among to_datetime's inputs; pandas takes it.)
    parsed = pd.to_datetime(cast(Any, texts), utc=True, format="ISO8601", errors="coerce")
    # The resolution pandas picks depends on the input; pin it so the arithmetic is exact.
    raw = parsed.as_unit("us").asi8.copy()
    # pandas reads a bare date as midnight; midnight UTC is rare enough to look at each
    # (RFC 3339 needs a time: a date alone is not an instant, see reporting.timestamps).
    for i in np.flatnonzero(raw % _DAY_US == 0).tolist():
        if raw[i] != _NAT and parse_instant(array[i]).bad:
            raw[i] = _NAT
    # What pandas' ISO 8601 reader refuses but RFC 3339 allows (lowercase t and z, a
    # comma before the fraction) is read one by one: such spellings are rare.
    for i in np.flatnonzero(raw == _NAT).tolist():
        moment = parse_instant(array[i]).moment if isinstance(array[i], str) else None
        if moment is not None:
            raw[i] = (moment - _EPOCH) // timedelta(microseconds=1)
    nat = raw == _NAT
    # Rule 1 computes at millisecond resolution, so 00:00:00.0004Z is the epoch too.
    epoch = ~nat & (np.floor_divide(raw, 1000) == 0)
    known = ~nat & ~epoch
    ms = np.where(known, np.floor_divide(raw, 1000), 0).astype(np.int64)
    bad = np.zeros(n, dtype=np.bool_)
    # Only the values that failed to parse need a closer look (missing vs garbage); they
    # are few, so a plain loop over them is cheap.
    for i in np.flatnonzero(nat).tolist():
        bad[i] = not _is_missing(array[i]) and parse_instant(array[i]).bad
    return ParsedTimes(ms=ms, known=known, bad=bad)


def _is_missing(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    # A float NaN is how a missing value looks after some JSON round trips.
    return isinstance(value, float) and value != value
