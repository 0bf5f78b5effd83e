"""The workbook's audit sheets (rules 11-13): non-compliance first, then the rates with
their criteria, departments, overrides, unidentified callers and the other participants.
Each is a short table through openpyxl, read from the report's summary."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from openpyxl import Workbook

from reporting.render.context import ReportInput
from reporting.render.summary import ReportSummary
from reporting.render.xlsx_sheet import Col, small_sheet

RATE_COLS = (
    Col("Completion", "share", 11),
    Col("Rate (rounded down)", "text", 22),
    Col("Criteria", "text", 90),
)


def _local(value: datetime | None, tz: ZoneInfo) -> datetime | None:
    return None if value is None else value.astimezone(tz).replace(tzinfo=None)


def audit_sheets(wb: Workbook, inp: ReportInput) -> None:
    """The audit sheets, in the order a reviewer reads them."""
    summary, tz = inp.summary, inp.tz
    _noncompliance(wb, summary, tz)
    _course_rates(wb, summary)
    if summary.departments:
        _departments(wb, summary)
    _overrides(wb, summary, tz)
    if summary.callers:
        _callers(wb, summary, tz)
    _others(wb, summary)


def _noncompliance(wb: Workbook, summary: ReportSummary, tz: ZoneInfo) -> None:
    small_sheet(
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


def _course_rates(wb: Workbook, summary: ReportSummary) -> None:
    small_sheet(
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
            *RATE_COLS,
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


def _departments(wb: Workbook, summary: ReportSummary) -> None:
    small_sheet(
        wb,
        "Departments",
        [
            Col("Course", "text", 22),
            Col("Department", "text", 20),
            Col("Required people", "int", 10),
            Col("Excused", "int", 9),
            Col("Completed", "int", 10),
            *RATE_COLS,
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


def _overrides(wb: Workbook, summary: ReportSummary, tz: ZoneInfo) -> None:
    small_sheet(
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


def _callers(wb: Workbook, summary: ReportSummary, tz: ZoneInfo) -> None:
    small_sheet(
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


def _others(wb: Workbook, summary: ReportSummary) -> None:
    small_sheet(
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
