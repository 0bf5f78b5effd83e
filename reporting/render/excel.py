"""The XLSX report: Summary, Attendance, Devices, Breakouts, Courses, Data quality.

Every sheet is written in openpyxl's write-only mode, except the data rows of the big
tables (Attendance, Devices, Breakouts, Courses): those are built column by column and
streamed into the file by `xlsx_rows` (same cells, ~10x faster; 200,000 rows in seconds
and a few MiB of working memory). One row per record, no merged cells, a frozen
header and an autofilter, so each sheet can be sorted and filtered as it is. Durations are
numbers (fractions of a day) formatted `[h]:mm:ss`; times are naive date-times in the
config zone (Excel has no zones; the zone is named on the Summary sheet).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
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

from reporting.errors import RenderError
from reporting.render.context import (
    ReportInput,
    ambiguous_mask,
    flag_explanations,
    fmt_local,
    is_ambiguous,
)
from reporting.render.safety import strip_controls
from reporting.render.summary import criteria_facts
from reporting.render.xlsx_rows import MAX_CELL_CHARS, BigSheet, assemble, column_xml
from reporting.safe_files import open_output

DURATION_FORMAT = "[h]:mm:ss"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
SHARE_FORMAT = "0.0%"
_NUMBER_FORMATS = {
    "duration": DURATION_FORMAT,
    "datetime": DATETIME_FORMAT,
    "share": SHARE_FORMAT,
}

_HEADER_FONT = Font(bold=True, color="FFFFFF")
_HEADER_FILL = PatternFill("solid", fgColor="1F3A5F")


@dataclass(frozen=True)
class Col:
    header: str
    kind: str  # text | int | duration | datetime | bool | share | float
    width: float = 14


def _text(value: Any) -> str | None:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return strip_controls(str(value))[:MAX_CELL_CHARS]


def _column_values(series: pd.Series, kind: str, tz: ZoneInfo) -> list[Any]:
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
    return [_text(v) for v in series]


def _print_landscape_fit_to_width(ws: WriteOnlyWorksheet) -> None:
    """Printed (or exported to PDF), a sheet keeps all its columns on one page width."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0  # as many pages down as the rows need
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.print_title_rows = "1:1"


class _SheetWriter:
    """Streams one table into a write-only sheet, reusing one styled cell per column.

    Each appended row is serialised at once, so a cell object can be refilled for the next
    row; that avoids a style lookup per cell, which dominates openpyxl's write time.
    """

    def __init__(self, ws: WriteOnlyWorksheet, columns: Sequence[Col]) -> None:
        self.ws = ws
        self.columns = columns
        self.rows_written = 0
        _print_landscape_fit_to_width(ws)
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
            cell.font = _HEADER_FONT
            cell.fill = _HEADER_FILL
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
            _column_values(frame[src], col.kind, tz)
            if src in frame.columns
            else [None] * len(frame)
            for src, col in zip(sources, self.columns, strict=True)
        ]
        self.rows(zip(*values, strict=True))


def _finish(writer: _SheetWriter, first_row: int = 1) -> None:
    if writer.columns:
        last = get_column_letter(len(writer.columns))
        writer.ws.auto_filter.ref = f"A{first_row}:{last}{first_row + max(writer.rows_written, 1)}"


def _style_id(ws: WriteOnlyWorksheet, kind: str) -> int | None:
    """The workbook style id of a data cell of `kind` (None: unstyled)."""
    number_format = _NUMBER_FORMATS.get(kind)
    if number_format is None:
        return None
    cell = WriteOnlyCell(ws)
    cell.number_format = number_format
    style_id: int = cell.style_id  # registers the style with the workbook
    return style_id


def _table(
    wb: Workbook,
    title: str,
    columns: Sequence[tuple[str, str, str, float]],
    frame: pd.DataFrame,
    tz: ZoneInfo,
    overrides: dict[str, pd.Series] | None = None,
) -> BigSheet:
    """The sheet with its header through openpyxl; the rows come from `BigSheet.write`."""
    ws = wb.create_sheet(title)
    cols = [Col(header, kind, width) for _, header, kind, width in columns]
    writer = _SheetWriter(ws, cols)
    # Autofilter and panes must be set before rows stream out; the range is known upfront.
    writer.rows_written = len(frame)
    _finish(writer)
    writer.rows_written = 0
    writer.header()
    n = len(frame)
    cells = []
    for i, (src, _, kind, _) in enumerate(columns, start=1):
        series = (overrides or {}).get(src)
        if series is None and src in frame.columns:
            series = frame[src]
        cells.append(column_xml(series, n, i, kind, tz, _style_id(ws, kind)))
    return BigSheet(ws, cells, n)


ATTENDANCE_SHEET = (
    ("meeting_id", "Meeting id", "text", 22),
    ("meeting_title", "Meeting", "text", 30),
    ("course", "Course", "text", 18),
    ("meeting_start", "Meeting start", "datetime", 19),
    ("meeting_end", "Meeting end", "datetime", 19),
    ("meeting_seconds", "Meeting duration", "duration", 11),
    ("person_key", "Person key", "text", 26),
    ("display_name", "Name", "text", 26),
    ("email", "Email", "text", 28),
    ("department", "Department", "text", 16),
    ("roster_name", "Roster name", "text", 20),
    ("is_host", "Host", "bool", 7),
    ("is_cohost", "Co-host", "bool", 8),
    ("attended_seconds", "Attended", "duration", 11),
    ("share", "Share of meeting", "share", 10),
    ("main_session_seconds", "Main session", "duration", 11),
    ("breakout_seconds", "Breakouts", "duration", 11),
    ("first_join", "First join", "datetime", 19),
    ("last_leave", "Last leave", "datetime", 19),
    ("segments", "Segments", "int", 9),
    ("devices", "Devices", "int", 8),
    ("status", "Status", "text", 10),
    ("flags", "Flags", "text", 30),
    ("role", "Role", "text", 9),
    ("required", "Required", "bool", 9),
    ("override", "Override", "text", 12),
    ("override_reason", "Override reason", "text", 30),
    ("override_reviewer", "Override reviewer", "text", 26),
    ("override_date", "Override date", "text", 11),
    ("seen_as", "Seen as", "text", 22),
)
DEVICES_SHEET = (
    ("meeting_id", "Meeting id", "text", 22),
    ("person_key", "Person key", "text", 26),
    ("correlation_id", "Correlation id", "text", 24),
    ("device_type", "Device type", "text", 16),
    ("audio_type", "Audio type", "text", 12),
    ("call_type", "Call type", "text", 12),
    ("phone_number", "Phone number", "text", 18),
    ("joined", "Joined", "datetime", 19),
    ("left", "Left", "datetime", 19),
    ("duration_seconds", "Duration", "duration", 11),
)
BREAKOUTS_SHEET = (
    ("meeting_id", "Meeting id", "text", 22),
    ("person_key", "Person key", "text", 26),
    ("breakout_id", "Breakout id", "text", 22),
    ("breakout_name", "Breakout", "text", 24),
    ("joined", "Joined", "datetime", 19),
    ("left", "Left", "datetime", 19),
    ("duration_seconds", "Duration", "duration", 11),
)
COURSES_SHEET = (
    ("course", "Course", "text", 22),
    ("person_key", "Person key", "text", 26),
    ("display_name", "Name", "text", 26),
    ("email", "Email", "text", 28),
    ("sessions_total", "Sessions", "int", 9),
    ("sessions_complete", "Complete", "int", 9),
    ("completed", "Course completed", "bool", 10),
    ("department", "Department", "text", 16),
    ("required", "Required", "bool", 9),
    ("sessions_excused", "Sessions excused", "int", 9),
    ("status", "Course status", "text", 13),
    ("missing", "Missing sessions", "text", 40),
)


def _share(att: pd.DataFrame) -> dict[str, pd.Series]:
    """The derived `share` column (no copy of the frame: it may hold 200,000 rows)."""
    if {"attended_seconds", "meeting_seconds"} <= set(att.columns):
        # Rounded down to 0.1 % in whole numbers before it is stored: the `0.0%` format
        # would round 66.66 % up to 66.7 % (rule 11: one rounding, down, everywhere).
        meeting = pd.to_numeric(att["meeting_seconds"], errors="coerce")
        attended = pd.to_numeric(att["attended_seconds"], errors="coerce")
        valid = (meeting > 0) & attended.notna()
        permille = (attended.where(valid, 0).astype("int64") * 1000) // meeting.where(
            valid, 1
        ).astype("int64")
        return {"share": (permille / 1000).where(valid).astype("float64")}
    return {}


def _facts(inp: ReportInput) -> list[tuple[str, Any]]:
    run = inp.run
    summary = inp.summary
    tz = inp.tz

    def local(value: datetime) -> datetime | str:
        aware = value.astimezone(tz)
        return fmt_local(aware, tz) if is_ambiguous(aware) else aware.replace(tzinfo=None)

    return [
        ("Report", inp.spec.name),
        ("Audience", inp.spec.audience),
        ("Period", run.period_label),
        ("Period start", local(run.period_start)),
        ("Period end (exclusive)", local(run.period_end)),
        ("Generated at (as of)", local(run.as_of)),
        ("Time zone of all times", run.timezone),
        ("Run id", run.run_id),
        ("Config hash (SHA-256)", run.config_hash),
        ("Tool version", run.tool_version),
        ("Meetings", summary.meetings_planned),
        ("Meetings not fetched", summary.meetings_failed),
        ("Attendance rows", summary.statuses.rows),
        ("Completion (required people)", summary.rate.long),
        ("Required rows", summary.statuses.rows),
        ("Complete", summary.statuses.complete),
        ("Partial", summary.statuses.partial),
        ("Absent", summary.statuses.absent),
        ("Excused", summary.statuses.excused),
        ("Other participants (rows in no rate)", len(summary.others)),
        *[(f"Criteria: {label}", value) for label, value in criteria_facts(summary)],
    ]


def _summary_sheet(wb: Workbook, inp: ReportInput) -> None:
    ws = wb.create_sheet("Summary")
    facts = _facts(inp)
    table = inp.summary.meeting_table()
    cols = [
        ("meeting_id", "Meeting id", "text", 22),
        ("title", "Meeting", "text", 34),
        ("course", "Course", "text", 20),
        ("start", "Start", "datetime", 19),
        ("end", "End", "datetime", 19),
        ("meeting_seconds", "Duration", "duration", 11),
        ("host", "Host", "text", 26),
        ("people", "Required", "int", 8),
        ("complete", "Complete", "int", 9),
        ("partial", "Partial", "int", 9),
        ("absent", "Absent", "int", 9),
        ("excused", "Excused", "int", 9),
        ("others", "Other participants", "int", 10),
        ("completion", "Completion", "share", 11),
        ("rate", "Rate (rounded down)", "text", 20),
        ("criteria", "Criteria", "text", 90),
    ]
    writer = _SheetWriter(ws, [Col(h, k, w) for _, h, k, w in cols])
    first = len(facts) + 2  # facts, one blank row, then the meeting table's header
    writer.rows_written = len(table)
    _finish(writer, first)
    writer.rows_written = 0
    for i, col in enumerate(writer.columns, start=1):
        ws.column_dimensions[get_column_letter(i)].width = col.width
    ws.freeze_panes = f"A{first + 1}"
    date_cell = WriteOnlyCell(ws)
    date_cell.number_format = DATETIME_FORMAT
    for label, value in facts:
        label_cell = WriteOnlyCell(ws, value=label)
        label_cell.font = Font(bold=True)
        if isinstance(value, datetime):
            date_cell.value = value
            ws.append([label_cell, date_cell])
        else:
            value_cell = WriteOnlyCell(ws, value=_text(value) if isinstance(value, str) else value)
            if isinstance(value, str):
                value_cell.data_type = "s"
            ws.append([label_cell, value_cell])
    ws.append([])
    header = []
    for col in writer.columns:
        cell = WriteOnlyCell(ws, value=col.header)
        cell.font = _HEADER_FONT
        cell.fill = _HEADER_FILL
        header.append(cell)
    ws.append(header)
    if len(table):
        writer.frame(table, [c[0] for c in cols], inp.tz)


def _small_sheet(
    wb: Workbook, title: str, cols: Sequence[Col], rows: list[tuple[Any, ...]]
) -> None:
    """A sheet of a few hundred rows at most, through openpyxl (text cells stay text)."""
    ws = wb.create_sheet(title)
    writer = _SheetWriter(ws, cols)
    writer.rows_written = len(rows)
    _finish(writer)
    writer.rows_written = 0
    writer.header()
    kinds = [c.kind for c in cols]
    writer.rows(
        tuple(_text(v) if k == "text" else v for k, v in zip(kinds, row, strict=True))
        for row in rows
    )


def _local(value: datetime | None, tz: ZoneInfo) -> datetime | None:
    return None if value is None else value.astimezone(tz).replace(tzinfo=None)


def _audit_sheets(wb: Workbook, inp: ReportInput) -> None:
    """Non-compliance first, then the rates with their criteria, departments, overrides,
    unidentified callers and the other participants (rules 11-13)."""
    summary, tz = inp.summary, inp.tz
    _small_sheet(
        wb,
        "Non-compliance",
        [
            Col("Person", "text", 28),
            Col("Email", "text", 28),
            Col("Seen as", "text", 22),
            Col("Department", "text", 16),
            Col("Course", "text", 22),
            Col("Sessions complete", "int", 10),
            Col("Sessions required of", "int", 10),
            Col("Missing session date", "datetime", 19),
            Col("Missing meeting", "text", 30),
            Col("Meeting id", "text", 22),
            Col("Why", "text", 40),
            Col("Overrides", "text", 40),
        ],
        [
            (
                n.person.name,
                n.person.email,
                n.person.seen_as,
                n.department,
                n.course,
                n.sessions_complete,
                n.sessions_total,
                _local(m.start, tz) if m else None,
                m.title if m else None,
                m.meeting_id if m else None,
                m.why if m else "sessions required not reached",
                "; ".join(d.text for d in n.decisions),
            )
            for n in summary.noncompliance
            for m in (n.missing or (None,))
        ],
    )
    rate_cols = [
        Col("Completion", "share", 11),
        Col("Rate (rounded down)", "text", 22),
        Col("Criteria", "text", 90),
    ]
    _small_sheet(
        wb,
        "Course rates",
        [
            Col("Course", "text", 22),
            Col("Title", "text", 30),
            Col("Sessions", "int", 9),
            Col("Required people", "int", 10),
            Col("Excused", "int", 9),
            Col("Completed", "int", 10),
            Col("Not completed", "int", 10),
            Col("Other participants", "int", 10),
            *rate_cols,
        ],
        [
            (
                c.course,
                c.title,
                c.sessions,
                c.people,
                c.excused,
                c.completed,
                c.not_completed,
                c.others,
                c.rate.value,
                c.rate.long,
                summary.criteria_line(c.population),
            )
            for c in summary.courses
        ],
    )
    if summary.departments:
        _small_sheet(
            wb,
            "Departments",
            [
                Col("Course", "text", 22),
                Col("Department", "text", 20),
                Col("Required people", "int", 10),
                Col("Excused", "int", 9),
                Col("Completed", "int", 10),
                *rate_cols,
            ],
            [
                (
                    d.course,
                    d.department,
                    d.people,
                    d.excused,
                    d.completed,
                    d.rate.value,
                    d.rate.long,
                    summary.criteria_line(),
                )
                for d in summary.departments
            ],
        )
    _small_sheet(
        wb,
        "Overrides",
        [
            Col("Person", "text", 26),
            Col("Person key", "text", 26),
            Col("Meeting id", "text", 22),
            Col("Meeting", "text", 30),
            Col("Meeting start", "datetime", 19),
            Col("Decision", "text", 10),
            Col("Reason", "text", 30),
            Col("Reviewer", "text", 26),
            Col("Decided on", "text", 11),
            Col("Status now", "text", 10),
        ],
        [
            (
                o.person.label,
                o.person.key,
                o.meeting_id,
                o.title,
                _local(o.start, tz),
                o.decision.decision,
                o.decision.reason,
                o.decision.reviewer,
                o.decision.date,
                o.status,
            )
            for o in summary.overrides
        ],
    )
    if summary.callers:
        _small_sheet(
            wb,
            "Unidentified callers",
            [
                Col("Caller", "text", 24),
                Col("Meeting id", "text", 22),
                Col("Meeting", "text", 30),
                Col("Meeting start", "datetime", 19),
                Col("Attended", "duration", 11),
                Col("Status", "text", 10),
                Col("Hints (never merged)", "text", 70),
            ],
            [
                (
                    c.person.label,
                    c.meeting_id,
                    c.title,
                    _local(c.start, tz),
                    c.attended_seconds / 86400,
                    c.status,
                    "\n".join(c.hints),
                )
                for c in summary.callers
            ],
        )
    _small_sheet(
        wb,
        "Other participants",
        [
            Col("Person", "text", 30),
            Col("Person key", "text", 26),
            Col("Meeting id", "text", 22),
            Col("Role", "text", 10),
            Col("Why not counted", "text", 28),
            Col("Attended", "duration", 11),
            Col("Status", "text", 10),
        ],
        [
            (
                o.person.label,
                o.person.key,
                o.meeting_id,
                o.role,
                o.why,
                o.attended_seconds / 86400,
                o.status,
            )
            for o in summary.others
        ],
    )


def _quality_sheet(wb: Workbook, inp: ReportInput) -> None:
    ws = wb.create_sheet("Data quality")
    explanations = flag_explanations()
    rows: list[tuple[Any, ...]] = []
    summary = inp.summary
    for flag, n in summary.flags.items():
        rows.append(("flag", flag, None, n, explanations.get(flag, "")))
    for p in summary.problems:
        rows.append((p.kind, p.entry_id, p.instance_id, None, p.message))
    for note in summary.notes:
        rows.append(("note", None, None, None, note))
    cols = [
        Col("Kind", "text", 14),
        Col("Flag or entry", "text", 28),
        Col("Meeting instance", "text", 28),
        Col("Rows", "int", 8),
        Col("Explanation", "text", 100),
    ]
    writer = _SheetWriter(ws, cols)
    writer.rows_written = len(rows)
    _finish(writer)
    writer.rows_written = 0
    writer.header()
    writer.rows(rows)


Sheet = Callable[[Workbook, ReportInput], None]


def render_xlsx(inp: ReportInput, path: Path) -> Path:
    """Write the report workbook to `path` and return it."""
    tz = inp.tz
    result = inp.result
    wb = Workbook(write_only=True)
    try:
        _summary_sheet(wb, inp)
        _audit_sheets(wb, inp)
        att = result.attendance
        sheets = [_table(wb, "Attendance", ATTENDANCE_SHEET, att, tz, _share(att))]
        if inp.show_devices:
            sheets.append(_table(wb, "Devices", DEVICES_SHEET, result.devices, tz))
        sheets.append(_table(wb, "Breakouts", BREAKOUTS_SHEET, result.breakouts, tz))
        sheets.append(_table(wb, "Courses", COURSES_SHEET, result.courses, tz))
        _quality_sheet(wb, inp)
        skeleton = io.BytesIO()
        wb.save(skeleton)  # everything but the big sheets' rows: a few KiB
        with open_output(path) as handle:
            assemble(skeleton, handle, sheets)
    except (OSError, ValueError) as exc:
        raise RenderError(f"could not write {path}: {exc}") from exc
    return path


render = render_xlsx  # the renderer interface of `reporting.render.formats`
