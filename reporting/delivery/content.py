"""What an email says: the template context of one report, and the templates it fills.

Templates (`email_subject.txt.j2`, `email_body.txt.j2`, `email_body.html.j2`) come from
the config's `templates:` folder when it has them, else from the shipped set. Only the
HTML body is autoescaped; the text parts are plain text, and the subject is reduced to
one line (`reporting.delivery.message.header_text`). The context's figures are the
report's summary (`reporting.render.summary`), the ones the PDF and the workbook state.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
import pandas as pd

from reporting.delivery.message import (
    SUBJECT_MAX_CHARS,
    build_message,
    header_text,
    human_size,
    parse_recipients,
)
from reporting.errors import DeliveryError
from reporting.protocols import ReportInputLike
from reporting.render.summary import PARTIAL, ReportSummary, column, split_flags, text, truthy
from reporting.resources import templates_dir
from reporting.templating import ConfinedLoader, sandboxed_environment, template_problem

__all__ = [
    "MAX_LISTED",
    "SUBJECT_MAX_CHARS",
    "EmailTemplates",
    "ReportInputLike",
    "build_message",
    "email_context",
    "header_text",
    "human_size",
    "parse_recipients",
]

SUBJECT_TEMPLATE = "email_subject.txt.j2"
TEXT_TEMPLATE = "email_body.txt.j2"
HTML_TEMPLATE = "email_body.html.j2"

# The email is a summary; the attached PDF has every row. A list of thousands of names
# in a mail body helps nobody and can push the message over the size limit on its own.
MAX_LISTED = 200


# -- template context ----------------------------------------------------------------------


def email_context(inp: ReportInputLike, attachments: Sequence[Path]) -> dict[str, Any]:
    """Everything the email templates may use (documented in docs/OPERATIONS.md)."""
    run = inp.run
    tz = ZoneInfo(run.timezone)
    summary = inp.summary
    noncompliant = _noncompliant(summary, tz)
    partial, partial_total = _partial_rows(inp.result.attendance)
    return {
        "report": {"name": inp.spec.name, "audience": inp.spec.audience},
        "period": _period(inp, tz),
        "run": {
            "run_id": run.run_id,
            "as_of": run.as_of.astimezone(tz).strftime("%Y-%m-%d %H:%M %Z"),
            "tool_version": run.tool_version,
            "offline": run.offline,
        },
        "totals": _totals(summary),
        "rate": summary.rate.long,
        "criteria": summary.criteria_line(),
        "titles": sorted({i.title for i in inp.instances if i.title}),
        "courses": _courses(summary),
        "noncompliant": noncompliant,
        "noncompliant_total": len(summary.noncompliance),
        "noncompliant_more": max(0, len(summary.noncompliance) - len(noncompliant)),
        "partial": partial,
        "partial_more": max(0, partial_total - len(partial)),
        "overrides": _overrides(summary, tz),
        "callers": _callers(summary, tz),
        "failures": [p.message for p in summary.problems if p.kind == "fetch failure"],
        "attachments": [
            {"name": p.name, "bytes": p.stat().st_size, "size": human_size(p.stat().st_size)}
            for p in attachments
        ],
    }


def _period(inp: ReportInputLike, tz: ZoneInfo) -> dict[str, str]:
    run = inp.run
    start = run.period_start.astimezone(tz)
    end = run.period_end.astimezone(tz)
    # The period's end is exclusive; people read "1–31 October", not "1 October–1 November".
    last_day = (end - timedelta(microseconds=1)).date() if end > start else start.date()
    return {
        "label": run.period_label,
        "first_day": start.date().isoformat(),
        "last_day": last_day.isoformat(),
        "start": start.isoformat(),
        "end": end.isoformat(),
        "timezone": run.timezone,
    }


def _totals(summary: ReportSummary) -> dict[str, int]:
    statuses = summary.statuses
    return {
        "meetings": summary.meetings_planned,
        "meetings_failed": summary.meetings_failed,
        "people": summary.required_people,
        "rows": statuses.rows,
        "complete": statuses.complete,
        "partial": statuses.partial,
        "absent": statuses.absent,
        "excused_rows": statuses.excused,
        "others": len(summary.others),
        "course_people": summary.course_people,
        "excused": summary.course_excused,
        "counted": summary.course_people - summary.course_excused,
        "completed": summary.course_completed,
        "not_completed": summary.course_not_completed,
    }


def _courses(summary: ReportSummary) -> list[dict[str, Any]]:
    return [
        {
            "course": c.course,
            "title": c.title,
            "people": c.people,
            "completed": c.completed,
            "not_completed": c.not_completed,
            "excused": c.excused,
            "rate": c.rate.long,
            "population": c.population or "not stated",
            "criteria": summary.criteria_line(c.population),
        }
        for c in summary.courses
    ]


def _noncompliant(summary: ReportSummary, tz: ZoneInfo) -> list[dict[str, Any]]:
    return [
        {
            "course": n.course,
            "course_title": n.course_title,
            "display_name": n.person.label,
            "email": n.person.email,
            "person_key": n.person.key,
            "department": n.department,
            "sessions_complete": n.sessions_complete,
            "sessions_total": n.sessions_total,
            "missing": [m.text(tz) for m in n.missing],
            "decisions": [d.text for d in n.decisions],
        }
        for n in summary.noncompliance[:MAX_LISTED]
    ]


def _overrides(summary: ReportSummary, tz: ZoneInfo) -> list[dict[str, Any]]:
    return [
        {
            "person": o.person.label,
            "meeting": f"{_day(o.start, tz)} {o.title}".strip(),
            "decision": o.decision.decision,
            "reason": o.decision.reason,
            "reviewer": o.decision.reviewer,
            "date": o.decision.date,
            "status": o.status,
        }
        for o in summary.overrides[:MAX_LISTED]
    ]


def _callers(summary: ReportSummary, tz: ZoneInfo) -> list[dict[str, Any]]:
    return [
        {
            "caller": c.person.label,
            "meeting": f"{_day(c.start, tz)} {c.title}".strip(),
            "hints": list(c.hints),
        }
        for c in summary.callers[:MAX_LISTED]
    ]


def _partial_rows(attendance: pd.DataFrame) -> tuple[list[dict[str, Any]], int]:
    """Row-level detail for required people who attended something but not enough, with
    the attended time they did reach (absences need no time column), and how many there
    are in all."""
    status = column(attendance, "status").astype(object)
    required = (
        column(attendance, "required").map(truthy).astype(bool)
        if "required" in attendance.columns
        else pd.Series(True, index=attendance.index, dtype=bool)
    )
    mask = (status == PARTIAL) & required
    rows = [
        {
            "meeting_title": text(row.get("meeting_title")),
            "display_name": text(row.get("roster_name")) or text(row.get("display_name")),
            "email": text(row.get("email")),
            "attended": _fmt_duration(row.get("attended_seconds")),
            "flags": split_flags(row.get("flags")),
        }
        for _, row in attendance[mask].head(MAX_LISTED).iterrows()
    ]
    return rows, int(mask.sum())


def _fmt_duration(seconds: Any) -> str:
    if seconds is None or pd.isna(seconds):
        return ""
    hours, rest = divmod(int(seconds), 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}"


def _day(value: datetime | None, tz: ZoneInfo) -> str:
    return value.astimezone(tz).date().isoformat() if value is not None else ""


# -- templates -----------------------------------------------------------------------------


class EmailTemplates:
    """The three email templates, a user folder first and the shipped ones behind it."""

    def __init__(self, override: Path | None = None) -> None:
        folders = [str(override)] if override is not None else []
        folders.append(str(templates_dir()))
        self._env = sandboxed_environment(
            ConfinedLoader(folders),
            # Only the HTML body is markup; escaping the text parts would show "&amp;".
            html_extensions=("html.j2", "html"),
            plain_extensions=("txt.j2", "txt"),
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )

    def render(self, context: Mapping[str, Any]) -> tuple[str, str, str]:
        """Subject (one line), text body and HTML body."""
        subject = header_text(self._render(SUBJECT_TEMPLATE, context))
        if not subject:
            raise DeliveryError(f"the email subject rendered from {SUBJECT_TEMPLATE} is empty")
        return subject, self._render(TEXT_TEMPLATE, context), self._render(HTML_TEMPLATE, context)

    def _render(self, name: str, context: Mapping[str, Any]) -> str:
        try:
            return self._env.get_template(name).render(context)
        except jinja2.TemplateNotFound:
            raise DeliveryError(
                f"email template {name} not found",
                hint="copy it from the shipped templates into your templates folder",
            ) from None
        except jinja2.TemplateError as exc:
            raise DeliveryError(f"email template {template_problem(exc, name)}") from None
