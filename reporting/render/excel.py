"""The XLSX report: Summary, Attendance, Devices, Breakouts, Courses, Data quality.

Every sheet is written in openpyxl's write-only mode, except the data rows of the big
tables (Attendance, Devices, Breakouts, Courses): those are built column by column and
streamed into the file by `xlsx_rows` (same cells, many times faster, in a few MiB of working
memory; bench/render_xlsx.py). One row per record, no merged cells, a frozen
header and an autofilter, so each sheet can be sorted and filtered as it is. Durations are
numbers (fractions of a day) formatted `[h]:mm:ss`; times are naive date-times in the
config zone (Excel has no zones; the zone is named on the Summary sheet).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from reporting.errors import RenderError
from reporting.render.context import (
    ReportInput,
    flag_explanations,
    fmt_local,
    is_ambiguous,
)
from reporting.render.summary import criteria_facts
from reporting.render.xlsx_audit import audit_sheets
from reporting.render.xlsx_rows import BigSheet, assemble, column_xml
from reporting.render.xlsx_sheet import (
    DATETIME_FORMAT,
    HEADER_FILL,
    HEADER_FONT,
    Col,
    SheetWriter,
    cell_text,
    finish,
    style_id,
)
from reporting.safe_files import open_output


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
    writer = SheetWriter(ws, cols)
    # Autofilter and panes must be set before rows stream out; the range is known upfront.
    writer.rows_written = len(frame)
    finish(writer)
    writer.rows_written = 0
    writer.header()
    n = len(frame)
    cells = []
    for i, (src, _, kind, _) in enumerate(columns, start=1):
        series = (overrides or {}).get(src)
        if series is None and src in frame.columns:
            series = frame[src]
        cells.append(column_xml(series, n, i, kind, tz, style_id(ws, kind)))
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
    writer = SheetWriter(ws, [Col(h, k, w) for _, h, k, w in cols])
    first = len(facts) + 2  # facts, one blank row, then the meeting table's header
    writer.rows_written = len(table)
    finish(writer, first)
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
            value_cell = WriteOnlyCell(
                ws, value=cell_text(value) if isinstance(value, str) else value
            )
            if isinstance(value, str):
                value_cell.data_type = "s"
            ws.append([label_cell, value_cell])
    ws.append([])
    header = []
    for col in writer.columns:
        cell = WriteOnlyCell(ws, value=col.header)
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
        header.append(cell)
    ws.append(header)
    if len(table):
        writer.frame(table, [c[0] for c in cols], inp.tz)


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
    writer = SheetWriter(ws, cols)
    writer.rows_written = len(rows)
    finish(writer)
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
        audit_sheets(wb, inp)
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
