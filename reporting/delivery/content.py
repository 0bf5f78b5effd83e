"""What an email says: the template context of one report and the `EmailMessage` built from it.

Templates (`email_subject.txt.j2`, `email_body.txt.j2`, `email_body.html.j2`) come from
the config's `templates:` folder when it has them, else from the shipped set. Only the
HTML body is autoescaped; the text parts are plain text, and the subject is reduced to
one line (no CR, LF or other control characters) whatever the template or the meeting
titles contain, so nothing from the API can add a header.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, getaddresses, make_msgid
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
import pandas as pd

from reporting.errors import DeliveryError
from reporting.protocols import ReportInputLike
from reporting.render.formats import for_file
from reporting.render.summary import PARTIAL, column, split_flags, text, truthy
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
SUBJECT_MAX_CHARS = 200


# -- headers -------------------------------------------------------------------------------

_SPACES = re.compile(r"\s+")


def header_text(value: str, *, limit: int = SUBJECT_MAX_CHARS) -> str:
    """`value` as a single header line: control and line-break characters become spaces.

    EmailMessage already refuses CR/LF in a header; this keeps a meeting title such as
    ``"Intro\\r\\nBcc: x@evil"`` from failing the delivery, and also removes the Unicode
    line separators and other control characters that some clients render as breaks.
    """
    cleaned = "".join(
        " " if unicodedata.category(ch) in {"Cc", "Cf", "Zl", "Zp"} else ch for ch in value
    )
    cleaned = _SPACES.sub(" ", cleaned).strip()
    if len(cleaned) > limit:
        cleaned = cleaned[: limit - 1].rstrip() + "…"
    return cleaned


def parse_recipients(report: str, entries: Sequence[str]) -> list[Address]:
    """The report's `email_to` as addresses, one each, duplicates (any case) dropped.

    An entry that is not exactly one plain address (a comma-separated list, a line break,
    no ``@``) is an error naming the report, not something to guess about.
    """
    seen: set[str] = set()
    out: list[Address] = []
    for entry in entries:
        problem = None
        if any(unicodedata.category(ch) in {"Cc", "Zl", "Zp"} for ch in entry):
            problem = "contains a line break or control character"
        else:
            parsed = getaddresses([entry])
            if len(parsed) != 1 or "@" not in parsed[0][1]:
                problem = "is not a single email address"
        if problem is not None:
            raise DeliveryError(
                f"report {report!r}: recipient {entry!r} {problem}",
                hint="list one address per entry in reports[].email_to",
            )
        display, addr = parsed[0]
        try:
            address = Address(display_name=display, addr_spec=addr)
        except (ValueError, IndexError) as exc:
            raise DeliveryError(
                f"report {report!r}: recipient {entry!r} is not a valid address ({exc})"
            ) from None
        if address.addr_spec.casefold() in seen:
            continue
        seen.add(address.addr_spec.casefold())
        out.append(address)
    return out


# -- template context ----------------------------------------------------------------------


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("bytes", "KiB", "MiB"):
        if value < 1024 or unit == "MiB":
            return f"{int(value)} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")  # pragma: no cover


def _fmt_duration(seconds: Any) -> str:
    if seconds is None or pd.isna(seconds):
        return ""
    hours, rest = divmod(int(seconds), 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}"


def _day(value: datetime | None, tz: ZoneInfo) -> str:
    return value.astimezone(tz).date().isoformat() if value is not None else ""


def email_context(inp: ReportInputLike, attachments: Sequence[Path]) -> dict[str, Any]:
    """Everything the email templates may use (documented in docs/OPERATIONS.md)."""
    run = inp.run
    tz = ZoneInfo(run.timezone)
    start = run.period_start.astimezone(tz)
    end = run.period_end.astimezone(tz)
    # The period's end is exclusive; people read "1–31 October", not "1 October–1 November".
    last_day = (end - timedelta(microseconds=1)).date() if end > start else start.date()

    summary = inp.summary
    attendance = inp.result.attendance
    status = column(attendance, "status").astype(object)
    required = (
        column(attendance, "required").map(truthy).astype(bool)
        if "required" in attendance.columns
        else pd.Series(True, index=attendance.index, dtype=bool)
    )
    per_course = [
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
    noncompliant = [
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
    overrides = [
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
    callers = [
        {
            "caller": c.person.label,
            "meeting": f"{_day(c.start, tz)} {c.title}".strip(),
            "hints": list(c.hints),
        }
        for c in summary.callers[:MAX_LISTED]
    ]

    # Row-level detail for required people who attended something but not enough, and
    # the attended time they did reach; absences need no time column.
    partial_mask = (status == PARTIAL) & required
    partial_rows = attendance[partial_mask].head(MAX_LISTED)
    partial = [
        {
            "meeting_title": text(row.get("meeting_title")),
            "display_name": text(row.get("roster_name")) or text(row.get("display_name")),
            "email": text(row.get("email")),
            "attended": _fmt_duration(row.get("attended_seconds")),
            "flags": split_flags(row.get("flags")),
        }
        for _, row in partial_rows.iterrows()
    ]

    failures = [p.message for p in summary.problems if p.kind == "fetch failure"]
    titles = sorted({i.title for i in inp.instances if i.title})
    return {
        "report": {"name": inp.spec.name, "audience": inp.spec.audience},
        "period": {
            "label": run.period_label,
            "first_day": start.date().isoformat(),
            "last_day": last_day.isoformat(),
            "start": start.isoformat(),
            "end": end.isoformat(),
            "timezone": run.timezone,
        },
        "run": {
            "run_id": run.run_id,
            "as_of": run.as_of.astimezone(tz).strftime("%Y-%m-%d %H:%M %Z"),
            "tool_version": run.tool_version,
            "offline": run.offline,
        },
        "totals": {
            "meetings": summary.meetings_planned,
            "meetings_failed": summary.meetings_failed,
            "people": summary.required_people,
            "rows": summary.statuses.rows,
            "complete": summary.statuses.complete,
            "partial": summary.statuses.partial,
            "absent": summary.statuses.absent,
            "excused_rows": summary.statuses.excused,
            "others": len(summary.others),
            "course_people": summary.course_people,
            "excused": summary.course_excused,
            "counted": summary.course_people - summary.course_excused,
            "completed": summary.course_completed,
            "not_completed": summary.course_not_completed,
        },
        "rate": summary.rate.long,
        "criteria": summary.criteria_line(),
        "titles": titles,
        "courses": per_course,
        "noncompliant": noncompliant,
        "noncompliant_total": len(summary.noncompliance),
        "noncompliant_more": max(0, len(summary.noncompliance) - len(noncompliant)),
        "partial": partial,
        "partial_more": max(0, int(partial_mask.sum()) - len(partial)),
        "overrides": overrides,
        "callers": callers,
        "failures": failures,
        "attachments": [
            {"name": p.name, "bytes": p.stat().st_size, "size": human_size(p.stat().st_size)}
            for p in attachments
        ],
    }


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


# -- the message ---------------------------------------------------------------------------


def build_message(
    *,
    from_addr: str,
    to: Sequence[Address],
    subject: str,
    text: str,
    html: str,
    attachments: Sequence[Path],
    headers: Mapping[str, str] | None = None,
    date: datetime,
) -> EmailMessage:
    """A multipart message (text + HTML alternatives, PDFs attached) with the SMTP policy.

    Built with `email.policy.SMTP`, so its serialised size is what goes over the wire
    (CRLF line ends) and any CR/LF left in a header value raises instead of splitting it.
    """
    sender = parse_recipients("email.from", [from_addr])[0]
    msg = EmailMessage(policy=SMTP)
    try:
        msg["From"] = sender
        msg["To"] = list(to)
        msg["Subject"] = header_text(subject)
        msg["Date"] = format_datetime(date)
        msg["Message-ID"] = make_msgid(domain=sender.domain or None)
        # RFC 3834: keeps vacation responders from answering a batch job.
        msg["Auto-Submitted"] = "auto-generated"
        for name, value in (headers or {}).items():
            msg[name] = header_text(value)
    except ValueError as exc:  # CR/LF or a malformed value that slipped past the checks
        raise DeliveryError(f"cannot build the email header: {exc}") from None
    msg.set_content(text, subtype="plain", cte="quoted-printable")
    msg.add_alternative(html, subtype="html", cte="quoted-printable")
    for path in attachments:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise DeliveryError(f"cannot read attachment {path}: {exc.strerror}") from None
        fmt = for_file(path)
        maintype, _, subtype = (fmt.mime_type if fmt else "application/octet-stream").partition("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=path.name)
    return msg
