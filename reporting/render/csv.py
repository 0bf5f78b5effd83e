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
import io
import re
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd

from reporting.render.context import ResultLike, to_local
from reporting.render.safety import neutralise_csv

ATTENDANCE_COLUMNS = (
    "meeting_id",
    "meeting_title",
    "meeting_start",
    "meeting_end",
    "meeting_seconds",
    "person_key",
    "display_name",
    "email",
    "is_host",
    "is_cohost",
    "attended_seconds",
    "main_session_seconds",
    "breakout_seconds",
    "first_join",
    "last_leave",
    "segments",
    "devices",
    "status",
    "flags",
)
DEVICE_COLUMNS = (
    "meeting_id",
    "person_key",
    "correlation_id",
    "device_type",
    "audio_type",
    "call_type",
    "phone_number",
    "joined",
    "left",
    "duration_seconds",
)
COURSE_COLUMNS = (
    "course",
    "person_key",
    "display_name",
    "email",
    "sessions_total",
    "sessions_complete",
    "completed",
)
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


def frame_to_csv(frame: pd.DataFrame, columns: Sequence[str], tz: ZoneInfo) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(columns)
    present = [c for c in columns if c in frame.columns]
    data = {c: frame[c].tolist() for c in present}
    for i in range(len(frame)):
        writer.writerow([format_cell(data[c][i], c, tz) if c in data else "" for c in columns])
    return buffer.getvalue().encode("utf-8")


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
        path.write_bytes(frame_to_csv(frame, columns, zone))
        written.append(path)
    return written
