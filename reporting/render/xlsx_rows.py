"""Fast data rows for the big XLSX sheets: SpreadsheetML built per column, not per cell.

openpyxl spends ~3-5 µs of Python on every cell it writes (value binding, type and style
lookups, one XML element per cell), so 200,000 attendance rows × 23 columns take half a
minute even in write-only mode with lxml. The cells of a table column all have one kind,
so this module converts each column once (vectorised, and per *distinct* value where text
or numbers repeat), turns it into the cell XML openpyxl would write, and streams the rows
straight into the worksheet's ZIP entry, compressed on a second thread while the next
rows are built.

openpyxl still writes everything else of the workbook (styles, the header row, frozen
panes, autofilter, column widths, the small Summary and Data quality sheets); `assemble`
then copies its parts and splices the rows into the `<sheetData>` of the big sheets.
The cells are exactly those openpyxl's write-only mode produces for the same values:
inline strings (formula-like text stays text), `t="b"` booleans, numbers printed with
`%.16g`, date-times as Excel serials, and an empty styled cell where a formatted value is
missing.
"""

from __future__ import annotations

import queue
import threading
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from openpyxl.utils import get_column_letter

from reporting.render.context import ambiguous_mask, fmt_local
from reporting.render.safety import strip_controls

MAX_CELL_CHARS = 32_767
CHUNK_ROWS = 4000  # rows per XML chunk: bounds memory (~5 MiB of text per chunk)
_SECONDS_PER_DAY = 86400
_EXCEL_EPOCH = np.datetime64("1899-12-30T00:00:00", "us")  # openpyxl's WINDOWS_EPOCH


def _xml_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _number(value: float | int) -> str:
    """A number as openpyxl's `safe_string` prints it (`%.16g`, empty for nan/inf)."""
    if isinstance(value, float) and not np.isfinite(value):
        return ""
    return "%.16g" % value  # noqa: UP031 - exactly openpyxl's safe_string


def _factorize(values: pd.Series | np.ndarray) -> tuple[np.ndarray, list[Any]]:
    """Codes per row (-1 for missing) and the distinct values as Python objects."""
    codes, uniques = pd.factorize(values)
    return np.asarray(codes, dtype=np.int32), list(uniques.tolist())


@dataclass(frozen=True)
class ColumnXml:
    """One column as cell-XML tails (`<c r="A2"` + tail) per distinct value, and codes.

    `codes[i]` indexes `tails`; the last tail is for missing values: empty (no cell at all)
    for unstyled kinds, an empty formatted cell otherwise, as openpyxl writes them.
    """

    letter: str
    tails: np.ndarray  # object array of str
    codes: np.ndarray  # int array, one per row
    omit_missing: bool


def _tails_for_text(uniques: Sequence[Any]) -> list[str]:
    out = []
    for value in uniques:
        text = strip_controls(str(value))[:MAX_CELL_CHARS]
        if not text:
            out.append(' t="inlineStr"/>')
            continue
        space = ' xml:space="preserve"' if text != text.strip() else ""
        out.append(f' t="inlineStr"><is><t{space}>{_xml_text(text)}</t></is></c>')
    return out


def _excel_serials(local: pd.Series) -> np.ndarray:
    """Naive local date-times as Excel serial numbers, computed as openpyxl's to_excel."""
    values = local.to_numpy(dtype="datetime64[us]")
    micros = (values - _EXCEL_EPOCH).astype(np.int64)
    us_per_day = _SECONDS_PER_DAY * 1_000_000
    days = np.floor_divide(micros, us_per_day)
    days = np.where((days > 0) & (days <= 60), days - 1, days)  # Excel's 1900 leap bug
    in_day = np.mod(micros, us_per_day)
    whole_seconds = in_day // 1_000_000
    fraction = (whole_seconds.astype(np.float64) + (in_day % 1_000_000) / 10**6) / _SECONDS_PER_DAY
    result: np.ndarray = days.astype(np.float64) + fraction
    return result


def column_xml(
    series: pd.Series | None,
    n: int,
    index: int,
    kind: str,
    tz: ZoneInfo,
    style_id: int | None,
) -> ColumnXml:
    """The cells of one column; `series` None means the source column is absent."""
    letter = get_column_letter(index)
    styled = f' s="{style_id}"' if style_id is not None else ""
    missing = f'{styled} t="n"/>' if style_id is not None else ""
    if series is None or n == 0:
        return ColumnXml(
            letter, np.array([missing], dtype=object), np.zeros(n, np.int32), not styled
        )
    if kind == "datetime":
        ts = pd.to_datetime(series, utc=True, errors="coerce")
        aware = ts.dt.tz_convert(tz)
        local = aware.dt.tz_localize(None)
        valid = local.notna().to_numpy()
        serial = np.full(n, np.nan)
        if valid.any():
            serial[valid] = _excel_serials(local[valid])
        codes, uniques = _factorize(serial)  # NaN (missing) -> -1
        tails = [f'{styled} t="n"><v>{_number(float(v))}</v></c>' for v in uniques]
        # A wall time a DST change repeats is a text cell with its offset (a date cell
        # cannot tell 01:30 +02:00 from 01:30 +01:00).
        folded = np.flatnonzero(ambiguous_mask(aware, tz))
        if folded.size:
            labels = [fmt_local(aware.iloc[i], tz) for i in folded.tolist()]
            extra, extra_codes = np.unique(np.array(labels, dtype=object), return_inverse=True)
            codes = np.asarray(codes).copy()
            codes[folded] = len(tails) + extra_codes
            tails = tails + _tails_for_text(list(extra))
    elif kind == "text":
        if pd.api.types.infer_dtype(series, skipna=True) != "string":
            # 1, 1.0 and True are one key to factorize but three different texts.
            series = series.map(str, na_action="ignore")
        codes, uniques = _factorize(series)
        tails = _tails_for_text(uniques)
    else:
        if kind == "duration":
            values: pd.Series = pd.to_numeric(series, errors="coerce") / 86400.0
        else:
            values = series
        codes, uniques = _factorize(values)
        if kind == "int":
            texts = [_number(int(v)) for v in uniques]
        elif kind == "bool":
            texts = [_number(bool(v)) for v in uniques]
        else:  # duration | share | float
            texts = [_number(float(v)) for v in uniques]
        vtype = "b" if kind == "bool" else "n"
        tails = [f'{styled} t="{vtype}"><v>{t}</v></c>' for t in texts]
    tails.append(missing)
    codes[codes < 0] = len(tails) - 1
    return ColumnXml(letter, np.array(tails, dtype=object), codes, not styled)


def rows_xml(columns: Sequence[ColumnXml], start: int, stop: int, first_row: int) -> str:
    """`<row>` elements for rows `start:stop` of the columns; sheet row `first_row` first."""
    numbers = np.arange(first_row + start, first_row + stop).astype(str).astype(object)
    opens = ('<row r="' + numbers + '">').tolist()
    cells = []
    for col in columns:
        tails = col.tails[col.codes[start:stop]]
        xml = ('<c r="' + col.letter + numbers + '"') + tails
        if col.omit_missing:
            xml[col.codes[start:stop] == len(col.tails) - 1] = ""
        cells.append(xml.tolist())
    closes = ["</row>"] * (stop - start)
    return "".join(["".join(parts) for parts in zip(opens, *cells, closes, strict=True)])


@dataclass
class BigSheet:
    """Rows to splice into the worksheet `member` of the workbook openpyxl wrote."""

    worksheet: Any  # the openpyxl worksheet; its ZIP member is known once it is saved
    columns: Sequence[ColumnXml]
    rows: int
    first_row: int = 2  # below the header

    @property
    def member(self) -> str:
        """The ZIP member name, e.g. xl/worksheets/sheet2.xml (after the workbook is saved)."""
        return str(self.worksheet.path).lstrip("/")

    def write(self, out: Callable[[bytes], Any]) -> None:
        for start in range(0, self.rows, CHUNK_ROWS):
            stop = min(start + CHUNK_ROWS, self.rows)
            out(rows_xml(self.columns, start, stop, self.first_row).encode("utf-8"))


class _BackgroundWriter:
    """Writes (and so deflates) chunks on a thread; zlib releases the GIL meanwhile."""

    def __init__(self, handle: IO[bytes]) -> None:
        self._handle = handle
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=3)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="xlsx-deflate", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (chunk := self._queue.get()) is not None:
            if self._error is None:
                try:
                    self._handle.write(chunk)
                except BaseException as exc:  # re-raised in the producing thread
                    self._error = exc

    def __call__(self, chunk: bytes) -> None:
        if self._error is not None:
            raise self._error
        self._queue.put(chunk)

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join()
        if self._error is not None:
            raise self._error


def assemble(skeleton: IO[bytes], path: Path | IO[bytes], sheets: Sequence[BigSheet]) -> None:
    """Copy the workbook `skeleton` to `path` (a file or a seekable handle), splicing each
    big sheet's rows in."""
    by_member = {s.member: s for s in sheets}
    with zipfile.ZipFile(skeleton) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        missing = set(by_member) - set(src.namelist())
        if missing:
            raise ValueError(f"workbook has no {', '.join(sorted(missing))}")
        for info in src.infolist():
            data = src.read(info)
            sheet = by_member.get(info.filename)
            if sheet is None:
                dst.writestr(info, data)
                continue
            head, end, tail = data.partition(b"</sheetData>")
            if not end:
                raise ValueError(f"{info.filename}: no <sheetData> to fill")
            entry = zipfile.ZipInfo(info.filename, date_time=info.date_time)
            entry.compress_type = zipfile.ZIP_DEFLATED
            # Zip64 only when the entry might pass 2 GiB (~100 bytes of XML per cell).
            big = sheet.rows * len(sheet.columns) * 100 > 2**31 - 2**27
            with dst.open(entry, "w", force_zip64=big) as handle:
                handle.write(head)
                writer = _BackgroundWriter(handle)
                try:
                    sheet.write(writer)
                finally:
                    writer.close()
                handle.write(end + tail)
