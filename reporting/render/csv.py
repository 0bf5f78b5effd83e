"""The CSV exports of DESIGN.md: attendance.csv, devices.csv, courses.csv.

Format decisions (also in the user docs):

- UTF-8 without BOM, comma-separated, header row, `\\n` line ends, minimal quoting;
- times ISO 8601 with the offset of the config zone, to the second
  (`2026-10-05T09:00:00+02:00`), with milliseconds only when the instant has some
  (`...T09:00:00.250+02:00`); empty when unknown;
- booleans `true` / `false`; durations and counts as integers; missing values empty;
- text that a spreadsheet would run as a formula (starting with `=`, `+`, `-`, `@`, tab
  or CR) gets a leading `'` — the OWASP CSV-injection advice;
- the same input always gives the same bytes (no clock, no dict order, no locale).
"""

from __future__ import annotations

import csv
import functools
import io
import re
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt
import pandas as pd

from reporting.columns import ATTENDANCE_CSV_COLUMNS, COURSE_CSV_COLUMNS, DEVICE_CSV_COLUMNS
from reporting.protocols import ResultLike
from reporting.render.context import to_local
from reporting.render.safety import FORMULA_PREFIXES, neutralise_csv
from reporting.safe_files import open_output

# Re-exported under the names the renderers and tests use.
ATTENDANCE_COLUMNS = ATTENDANCE_CSV_COLUMNS
DEVICE_COLUMNS = DEVICE_CSV_COLUMNS
COURSE_COLUMNS = COURSE_CSV_COLUMNS
# A phone number in its usual spellings cannot call a function, so it stays as written.
_PHONE = re.compile(r"^\+?[0-9 ().\-]+$")
TIME_COLUMNS = frozenset(
    {"meeting_start", "meeting_end", "first_join", "last_leave", "joined", "left"}
)


def iso_local(value: Any, tz: ZoneInfo) -> str:
    local = to_local(value, tz)
    if local is None:
        return ""
    return local.isoformat(timespec="milliseconds" if local.microsecond else "seconds")


def format_cell(value: Any, column: str, tz: ZoneInfo) -> str:
    if column in TIME_COLUMNS:
        return iso_local(value, tz)
    if value is None or value is pd.NaT:
        return ""
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        return "true" if value else "false"
    if isinstance(value, float):
        if pd.isna(value):
            return ""
        # Integer columns turn float when they hold a gap; keep "42", not "42.0".
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, int | datetime):
        return str(value)
    try:
        if pd.isna(value):
            return ""
    except (TypeError, ValueError):
        pass
    if hasattr(value, "item"):  # numpy scalars
        return format_cell(value.item(), column, tz)
    text = str(value)
    if column == "phone_number" and _PHONE.match(text):
        return text
    return neutralise_csv(text)


# Rows are formatted and written in slices, so a large table never has every cell as a
# Python string at once (1,000,000 devices × 10 columns would be ~10 M objects).
_CHUNK_ROWS = 65_536
# The only characters that make the csv module quote a field (QUOTE_MINIMAL with `,`, `"`
# and a `\n` line end; newer Pythons also quote `\r`). A field without them is written as
# is; a field with them is quoted by the csv module itself, so the bytes are its bytes.
_QUOTED_CHARACTERS = (",", '"', "\n", "\r")
_NEEDS_QUOTING = re.compile("[" + re.escape("".join(_QUOTED_CHARACTERS)) + "]")
# `.fff` for each millisecond, behind "" for instants without a fraction: index 0 is "no
# fraction", index 1 + ms is the millisecond text.
_FRACTIONS = np.array([""] + [f".{ms:03d}" for ms in range(1000)], dtype=object)
_US_PER_S = 1_000_000
_BOOL_TEXTS = np.array(["false", "true"], dtype=object)

# Instants whose local time is surely within the years 1-9999 (a day from either end).
_MIN_ISO_S = int(np.datetime64("0001-01-02T00:00:00", "s").astype(np.int64))
_MAX_ISO_S = int(np.datetime64("9999-12-30T23:59:59", "s").astype(np.int64))


def _quoted(text: str) -> str:
    """`text` as the csv module writes it in a row (quoted only when it must be)."""
    if not _NEEDS_QUOTING.search(text):
        return text
    buffer = io.StringIO(newline="")
    # A second field keeps the csv module from quoting a lone empty field.
    csv.writer(buffer, lineterminator="\n").writerow([text, "x"])
    return buffer.getvalue()[: -len(",x\n")]


def _offset_text(seconds: int) -> str:
    """A UTC offset as `datetime.isoformat` writes it (`+02:00`, `+00:53:28`)."""
    zone = timezone(timedelta(seconds=seconds))
    return datetime(2000, 1, 1, tzinfo=zone).isoformat()[len("2000-01-01T00:00:00") :]


def iso_local_texts(series: pd.Series, tz: ZoneInfo) -> list[str]:
    """`iso_local` of every value of a datetime column, vectorised; the same text.

    Each distinct instant is formatted once (meeting starts and ends repeat on every row
    of their meeting); missing values are empty.
    """
    index = pd.DatetimeIndex(series)
    if index.tz is None:
        index = index.tz_localize("UTC")
    codes, distinct = pd.factorize(index)  # NaT → -1
    texts = _instant_texts(pd.DatetimeIndex(distinct), tz)
    if texts is None:
        return [iso_local(v, tz) for v in series.tolist()]
    result: list[str] = np.append(texts, "")[codes].tolist()  # -1 takes the ""
    return result


def _instant_texts(index: pd.DatetimeIndex, tz: ZoneInfo) -> npt.NDArray[np.object_] | None:
    """ISO 8601 text of aware instants (no NaT) in `tz`, as `iso_local` writes them; None
    when some instant is near or outside the years 1-9999, where Python cannot make a
    datetime (the caller then keeps the value-by-value path and whatever it does there).

    The local wall time is the UTC instant plus the zone's offset at that instant (pandas
    converts a whole column at once). Then: date text once per distinct day, clock text
    from a table of the day's seconds, fraction + offset text from a table of their
    combinations; three lookups and two concatenations per value.
    """
    per_s = {"s": 1, "ms": 1000, "us": _US_PER_S, "ns": 1000 * _US_PER_S}[index.unit]
    utc_raw = index.asi8
    utc_s = utc_raw // per_s
    if len(utc_s) and not (utc_s.min() >= _MIN_ISO_S and utc_s.max() <= _MAX_ISO_S):
        return None
    local_raw = index.tz_convert(tz).tz_localize(None).asi8
    offset_s = (local_raw - index.tz_localize(None).asi8) // per_s
    # Python datetimes hold microseconds; nanoseconds are dropped (floor), as in
    # `Timestamp.to_pydatetime`.
    if per_s >= _US_PER_S:
        utc_us = utc_raw // (per_s // _US_PER_S)
    else:
        utc_us = utc_raw * (_US_PER_S // per_s)
    local_s, fraction_us = np.divmod(utc_us + offset_s * _US_PER_S, _US_PER_S)
    day, second_of_day = np.divmod(local_s, 86_400)
    days, day_index = np.unique(day, return_inverse=True)
    day_texts = np.datetime_as_string(days.astype("datetime64[D]"), unit="D").astype(object)
    offsets, offset_index = np.unique(offset_s, return_inverse=True)
    offset_texts = [_offset_text(int(o)) for o in offsets.tolist()]
    tails = np.array([f + o for f in _FRACTIONS.tolist() for o in offset_texts], dtype=object)
    fraction_index = np.where(fraction_us != 0, 1 + fraction_us // 1000, 0)
    text: npt.NDArray[np.object_] = (
        day_texts[day_index.reshape(-1)]
        + _clock_texts()[second_of_day]
        + tails[fraction_index * len(offset_texts) + offset_index.reshape(-1)]
    )
    return text


def _is_text(series: pd.Series) -> bool:
    """Every present value is a `str` (missing values: None, NaN, NA)."""
    if isinstance(series.dtype, pd.StringDtype):
        return True
    return series.dtype == object and pd.api.types.infer_dtype(series, skipna=True) in (
        "string",
        "empty",
    )


# A column needs more than its values as written when a value starts with a formula
# prefix (`format_cell` neutralises it) or holds a character the csv module quotes. Both
# are searched for in all of a column's values joined by NUL at once: a formula prefix as
# a NUL followed by one of them (one regex; a multi-line `^[...]` pattern is ten times
# slower), each character to quote by `in`, a C memchr-like scan some 60 times faster
# than a regex character class over a column's 1-2 MB.
_FORMULA_AFTER_NUL = re.compile("\x00[" + re.escape("".join(FORMULA_PREFIXES)) + "]")


def _needs_work(joined: str) -> bool:
    return bool(
        joined.startswith(FORMULA_PREFIXES)
        or _FORMULA_AFTER_NUL.search(joined)
        or any(c in joined for c in _QUOTED_CHARACTERS)
    )


def _text_cells(series: pd.Series, column: str, tz: ZoneInfo) -> list[str]:
    """`format_cell` of a text column, already CSV-quoted.

    Nearly always every value is a string that goes out as written: one C-level join and
    one regex search show that for the whole column. Otherwise each distinct value is
    formatted once.
    """
    values: list[object] = series.tolist()
    try:
        joined = "\x00".join(values)  # type: ignore[arg-type]  # TypeError on a missing value
    except TypeError:
        joined = None
    if joined is not None and not _needs_work(joined):
        return values  # type: ignore[return-value]  # all str, checked by the join
    codes, uniques = pd.factorize(series)
    texts = [_quoted(format_cell(u, column, tz)) for u in uniques.tolist()]
    table = np.array([*texts, ""], dtype=object)  # code -1 (missing) takes the last
    result: list[str] = table[codes].tolist()
    return result


def _int_cells(values: npt.NDArray[np.integer[Any]]) -> list[str]:
    """`str` of each integer; small non-negative ones (seconds, counts) from a table."""
    small = _small_ints()
    if len(values) and values.min() >= 0 and values.max() < len(small):
        result: list[str] = small[values].tolist()
        return result
    return list(map(str, values.tolist()))


@functools.cache
def _small_ints() -> npt.NDArray[np.object_]:
    return np.array([str(i) for i in range(100_000)], dtype=object)


@functools.cache
def _clock_texts() -> npt.NDArray[np.object_]:
    """`THH:MM:SS` for every second of a day."""
    return np.array(
        [f"T{h:02d}:{m:02d}:{s:02d}" for h in range(24) for m in range(60) for s in range(60)],
        dtype=object,
    )


def _column_cells(series: pd.Series | None, column: str, tz: ZoneInfo, n: int) -> list[str]:
    """The CSV fields of one column: `format_cell` of each value, quoted as csv does.

    The common dtypes of the attendance tables take vectorised paths that give the same
    text; anything else goes through `format_cell` value by value.
    """
    if series is None:
        return [""] * n
    dtype = series.dtype
    if column in TIME_COLUMNS:
        if isinstance(dtype, pd.DatetimeTZDtype) or dtype.kind == "M":
            return iso_local_texts(series, tz)
        return [iso_local(v, tz) for v in series.tolist()]
    if dtype == np.bool_:
        result: list[str] = _BOOL_TEXTS[series.to_numpy().astype(np.intp)].tolist()
        return result
    if isinstance(dtype, np.dtype) and dtype.kind in "iu":
        return _int_cells(series.to_numpy())
    if _is_text(series):
        return _text_cells(series, column, tz)
    return [_quoted(format_cell(v, column, tz)) for v in series.tolist()]


def _csv_chunks(frame: pd.DataFrame, columns: Sequence[str], tz: ZoneInfo) -> Iterator[str]:
    """The CSV text (header first), a slice of rows at a time."""
    header = io.StringIO(newline="")
    csv.writer(header, lineterminator="\n", quoting=csv.QUOTE_MINIMAL).writerow(columns)
    yield header.getvalue()
    if len(columns) < 2:
        # A one-column row with an empty field is written `""`; keep the csv module's rules.
        yield _csv_rows_plain(frame, columns, tz)
        return
    series = {c: frame[c] for c in columns if c in frame.columns}
    for begin in range(0, len(frame), _CHUNK_ROWS):
        end = min(begin + _CHUNK_ROWS, len(frame))
        cells = [
            _column_cells(series[c].iloc[begin:end] if c in series else None, c, tz, end - begin)
            for c in columns
        ]
        yield "\n".join(map(",".join, zip(*cells, strict=True))) + "\n"


def _csv_rows_plain(frame: pd.DataFrame, columns: Sequence[str], tz: ZoneInfo) -> str:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    data = {c: frame[c].tolist() for c in columns if c in frame.columns}
    for i in range(len(frame)):
        writer.writerow([format_cell(data[c][i], c, tz) if c in data else "" for c in columns])
    return buffer.getvalue()


def frame_to_csv(frame: pd.DataFrame, columns: Sequence[str], tz: ZoneInfo) -> bytes:
    return "".join(_csv_chunks(frame, columns, tz)).encode("utf-8")


def write_frame_csv(frame: pd.DataFrame, columns: Sequence[str], tz: ZoneInfo, path: Path) -> None:
    """Write `frame` as CSV to `path`, streaming slices of rows (the bytes of
    `frame_to_csv`)."""
    with open_output(path) as fh:
        for text in _csv_chunks(frame, columns, tz):
            fh.write(text.encode("utf-8"))


def write_attendance_csv(result: ResultLike, out_dir: Path, tz: ZoneInfo | str) -> Path:
    """Write attendance.csv alone into `out_dir` (what `write_csvs` writes for it)."""
    zone = ZoneInfo(tz) if isinstance(tz, str) else tz
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "attendance.csv"
    write_frame_csv(result.attendance, ATTENDANCE_COLUMNS, zone, path)
    return path


def write_csvs(result: ResultLike, out_dir: Path, tz: ZoneInfo | str) -> list[Path]:
    """Write attendance.csv, devices.csv and courses.csv into `out_dir`; return the paths."""
    zone = ZoneInfo(tz) if isinstance(tz, str) else tz
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, frame, columns in (
        ("attendance.csv", result.attendance, ATTENDANCE_COLUMNS),
        ("devices.csv", result.devices, DEVICE_COLUMNS),
        ("courses.csv", result.courses, COURSE_COLUMNS),
    ):
        path = out_dir / name
        write_frame_csv(frame, columns, zone, path)
        written.append(path)
    return written
