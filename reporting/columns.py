"""The CSV column contracts of DESIGN.md, in order: other programs read these files."""

from __future__ import annotations

ATTENDANCE_CSV_COLUMNS: tuple[str, ...] = (
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
    # Part two (rules 10-13), appended so programs reading the first 19 keep working.
    "role",
    "required",
    "override",
    "override_reason",
    "override_reviewer",
    "override_date",
    "seen_as",
)
DEVICE_CSV_COLUMNS: tuple[str, ...] = (
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
COURSE_CSV_COLUMNS: tuple[str, ...] = (
    "course",
    "person_key",
    "display_name",
    "email",
    "sessions_total",
    "sessions_complete",
    "completed",
    # Part two (rules 11 and 13).
    "department",
    "required",
    "sessions_excused",
    "status",
    "missing",
)
# The breakouts table has no CSV; the PDF and the workbook show it.
BREAKOUT_COLUMNS: tuple[str, ...] = (
    "meeting_id",
    "person_key",
    "breakout_id",
    "breakout_name",
    "joined",
    "left",
    "duration_seconds",
)
# Unidentified callers' hints (rule 12); the reports show them, no CSV.
CALLER_HINT_COLUMNS: tuple[str, ...] = (
    "meeting_id",
    "person_key",
    "phone",
    "hint_name",
    "hint_email",
    "hint_meeting_id",
    "used_on",
)
