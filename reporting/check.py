"""`attendance check`: the resolved plan of a config as readable text; no network.

The point is to let a user see what the tool *understood* (local period bounds, absolute
paths, which roster applies to which meeting, who gets which report) before a monthly run
sends anything to anyone.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from reporting.config import (
    COMPLIANCE,
    SANDBOX,
    Config,
    EmailConfig,
    MeetingEntry,
    Rules,
    format_duration,
)
from reporting.signing import describe_signing

__all__ = ["format_plan"]


def format_plan(config: Config) -> str:
    """The plan of ``config``: period, meetings, rules, reports, outputs and email mode."""
    tz = config.tz
    period = config.period
    lines = [
        f"config     {config.source}",
        f"           sha256 {config.config_hash[:16]}…",
        f"period     {period.display}, label {period.label}",
        f"           from {_local(period.start, tz)} (inclusive)",
        f"           to   {_local(period.end, tz)} (exclusive)",
        f"webex      {_webex(config)}",
        f"meetings   {len(config.meetings)}",
    ]
    for number, entry in enumerate(config.meetings, start=1):
        if entry.id is None:
            kind = "every ended instance it selects in the period"
        elif "_I_" in entry.id:
            kind = "instance"
        else:
            kind = "series / meeting: every ended instance"
        lines.append(f"  {number}. {entry.ref} ({kind})")
        lines.append(f"     title  {entry.title or '(from Webex)'}")
        course = entry.course or (entry.match.title if entry.match else None) or entry.ref
        lines.append(f"     course {course}")
        lines.append(f"     roster {_roster(config, entry)}")
    lines.append(f"rules      {_rules(config.rules)}")
    lines.extend(_overrides(config))
    lines.append(f"reports    {len(config.reports) or 'none (CSV files only)'}")
    for spec in config.reports:
        detail = "full detail" if spec.audience == COMPLIANCE else "masked phone numbers"
        devices = ", device table" if spec.show_devices else ""
        lines.append(
            f"  - {spec.name}: audience {spec.audience} ({detail}{devices}); "
            f"formats {', '.join(spec.formats)}"
        )
        recipients = ", ".join(spec.email_to) if spec.email_to else "nobody"
        lines.append(f"    email to {recipients}")
    lines.append(f"output     {config.output_dir}")
    lines.append(f"store      {config.store}")
    lines.append(f"email      {_email(config.email)}")
    lines.append(f"templates  {config.templates or 'shipped'}")
    pdfa = ", PDF/A-3b" if config.pdf.pdfa else ""
    lines.append(f"pdf        {config.pdf.page_size}{pdfa}")
    lines.append(f"signing    {describe_signing(config)}")
    return "\n".join(lines)


def _roster(config: Config, entry: MeetingEntry) -> str:
    if entry.roster is None:
        if config.roster is None:
            return "none: attendees only, no absentees"
        return f"{config.roster} (default)"
    parts = [str(path) for path in entry.roster_files or ()]
    if "invitees" in entry.roster_sources:
        parts.append("Webex invitees (panelists apart)")
    if "registrants" in entry.roster_sources:
        parts.append("approved Webex registrants of the series")
    return " + ".join(parts)


def _overrides(config: Config) -> list[str]:
    from reporting.overrides_check import check_config_overrides

    found = check_config_overrides(config)
    if found.path is None:
        return ["overrides  none"]
    lines = [f"overrides  {found.path}: {found.decisions} decision(s)"]
    lines.extend(f"  error: {e}" for e in found.errors)
    lines.extend(f"  warning: {w}" for w in found.warnings)
    return lines


def _local(moment: datetime, tz: ZoneInfo) -> str:
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M %Z (UTC%z)")


def _webex(config: Config) -> str:
    webex = config.webex
    if webex.base_url == SANDBOX:
        dataset = webex.sandbox_dataset or "no dataset set"
        where = f"bundled sandbox ({dataset}), role {webex.sandbox_role}"
    else:
        where = webex.base_url
    auth = f"token from ${webex.token_env}"
    if webex.oauth is not None:
        auth += f" or OAuth refresh via ${webex.oauth.refresh_token_env}"
    host = f", acting for {webex.host_email}" if webex.host_email else ""
    return (
        f"{where}; {auth}{host}; {webex.max_concurrency} concurrent, "
        f"{webex.requests_per_minute} requests/min, {webex.max_retries} retries"
    )


def _rules(rules: Rules) -> str:
    threshold = rules.min_attendance
    share = "of the meeting" if threshold.percent is not None else ""
    sessions = (
        "every session"
        if rules.sessions_required is None
        else f"{rules.sessions_required} session(s)"
    )
    return (
        f"attended if at least {threshold} {share}".rstrip()
        + f"; late if joined over {format_duration(rules.late_grace_seconds)} after the start"
        + f", early if left over {format_duration(rules.early_leave_grace_seconds)} before the end"
        + f"; a course is complete after {sessions}"
    )


def _email(email: EmailConfig | None) -> str:
    if email is None:
        return "not configured: nothing is sent"
    if email.outbox is not None:
        return f"from {email.from_addr}; written as .eml files to {email.outbox} (not sent)"
    smtp = email.smtp
    assert smtp is not None  # EmailConfig guarantees exactly one transport
    tls = "implicit TLS" if smtp.ssl else "STARTTLS" if smtp.starttls else "no TLS"
    login = (
        f"login from ${smtp.username_env} / ${smtp.password_env}"
        if smtp.username_env
        else "no login"
    )
    return f"from {email.from_addr}; SMTP {smtp.host}:{smtp.port}, {tls}, {login}"
