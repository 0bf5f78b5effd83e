"""Writing sheets through openpyxl's write-only mode: column kinds and their number
formats, one styled cell reused per column, header, frozen pane and autofilter."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet.properties import PageSetupProperties

from reporting.render.context import ambiguous_mask, fmt_local
from reporting.render.safety import strip_controls
from reporting.render.xlsx_rows import MAX_CELL_CHARS

DURATION_FORMAT = "[h]:mm:ss"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
SHARE_FORMAT = "0.0%"
_NUMBER_FORMATS = {
    "duration": DURATION_FORMAT,
    "datetime": DATETIME_FORMAT,
    "share": SHARE_FORMAT,
}

HEADER_FONT = Font(bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor="1F3A5F")


@dataclass(frozen=True)
class Col:
    header: str
    kind: str  # text | int | duration | datetime | bool | share | float
    width: float = 14


def cell_text(value: Any) -> str | None:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return strip_controls(str(value))[:MAX_CELL_CHARS]


def column_values(series: pd.Series, kind: str, tz: ZoneInfo) -> list[Any]:
    """Column values converted once, vectorised where pandas allows."""
    if kind == "datetime":
        ts = pd.to_datetime(series, utc=True, errors="coerce")
        aware = ts.dt.tz_convert(tz)
        local = aware.dt.tz_localize(None)
        values: list[Any] = [None if pd.isna(v) else v.to_pydatetime() for v in local]
        # A wall time a DST change repeats is text with its offset: a date cell has none.
        for i in np.flatnonzero(ambiguous_mask(aware, tz)).tolist():
            values[i] = fmt_local(aware.iloc[i], tz)
        return values
    if kind == "duration":
        num = pd.to_numeric(series, errors="coerce") / 86400.0
        return [None if pd.isna(v) else float(v) for v in num]
    if kind == "int":
        return [None if pd.isna(v) else int(v) for v in series]
    if kind in ("share", "float"):
        return [None if pd.isna(v) else float(v) for v in series]
    if kind == "bool":
        return [None if pd.isna(v) else bool(v) for v in series]
    return [cell_text(v) for v in series]


def print_landscape_fit_to_width(ws: WriteOnlyWorksheet) -> None:
    """Printed (or exported to PDF), a sheet keeps all its columns on one page width."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0  # as many pages down as the rows need
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.print_title_rows = "1:1"


class SheetWriter:
    """Streams one table into a write-only sheet, reusing one styled cell per column.

    Each appended row is serialised at once, so a cell object can be refilled for the next
    row; that avoids a style lookup per cell, which dominates openpyxl's write time.
    """

    def __init__(self, ws: WriteOnlyWorksheet, columns: Sequence[Col]) -> None:
        self.ws = ws
        self.columns = columns
        self.rows_written = 0
        print_landscape_fit_to_width(ws)
        self._cells = []
        for col in columns:
            cell = WriteOnlyCell(ws)
            if col.kind == "duration":
                cell.number_format = DURATION_FORMAT
            elif col.kind == "datetime":
                cell.number_format = DATETIME_FORMAT
            elif col.kind == "share":
                cell.number_format = SHARE_FORMAT
            self._cells.append(cell)

    def header(self, first_row: int = 1) -> None:
        for i, col in enumerate(self.columns, start=1):
            self.ws.column_dimensions[get_column_letter(i)].width = col.width
        if self.columns:
            self.ws.freeze_panes = f"A{first_row + 1}"
        cells = []
        for col in self.columns:
            cell = WriteOnlyCell(self.ws, value=col.header)
            cell.font = HEADER_FONT
            cell.fill = HEADER_FILL
            cells.append(cell)
        self.ws.append(cells)

    def rows(self, data: Iterable[Sequence[Any]]) -> None:
        kinds = [c.kind for c in self.columns]
        cells = self._cells
        append = self.ws.append
        for row in data:
            for cell, kind, value in zip(cells, kinds, row, strict=True):
                cell.value = value
                if kind == "text" and value is not None:
                    # `=cmd|...` from a display name must stay text, never a formula.
                    cell.data_type = "s"
            append(cells)
            self.rows_written += 1

    def frame(self, frame: pd.DataFrame, sources: Sequence[str], tz: ZoneInfo) -> None:
        values = [
            column_values(frame[src], col.kind, tz) if src in frame.columns else [None] * len(frame)
            for src, col in zip(sources, self.columns, strict=True)
        ]
        self.rows(zip(*values, strict=True))


def finish(writer: SheetWriter, first_row: int = 1) -> None:
    if writer.columns:
        last = get_column_letter(len(writer.columns))
        writer.ws.auto_filter.ref = f"A{first_row}:{last}{first_row + max(writer.rows_written, 1)}"


def style_id(ws: WriteOnlyWorksheet, kind: str) -> int | None:
    """The workbook style id of a data cell of `kind` (None: unstyled)."""
    number_format = _NUMBER_FORMATS.get(kind)
    if number_format is None:
        return None
    cell = WriteOnlyCell(ws)
    cell.number_format = number_format
    sid: int = cell.style_id  # registers the style with the workbook
    return sid


def small_sheet(wb: Workbook, title: str, cols: Sequence[Col], rows: list[tuple[Any, ...]]) -> None:
    """A sheet of a few hundred rows at most, through openpyxl (text cells stay text)."""
    ws = wb.create_sheet(title)
    writer = SheetWriter(ws, cols)
    writer.rows_written = len(rows)
    finish(writer)
    writer.rows_written = 0
    writer.header()
    kinds = [c.kind for c in cols]
    writer.rows(
        tuple(cell_text(v) if k == "text" else v for k, v in zip(kinds, row, strict=True))
        for row in rows
    )
