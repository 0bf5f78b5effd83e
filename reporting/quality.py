"""Data-quality notes of a run, one line each: records with fields of the wrong type, and
warnings about settings that make the result meaningless.

The lines go to stderr, the manifest's notes and the reports' data-quality section, all
from here, so they say the same thing everywhere.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from reporting.logs import redact
from reporting.model import InstanceRecords

if TYPE_CHECKING:
    from reporting.config import Config
    from reporting.protocols import ResultLike

# Past this many bad records in one meeting, the rest are counted, not listed.
LISTED_PER_MEETING = 20


def record_problem_lines(data: Sequence[InstanceRecords]) -> Iterator[str]:
    """One line per record flagged ``BAD_RECORD``, naming the meeting and the fields."""
    for item in data:
        problems = item.record_problems
        for problem in problems[:LISTED_PER_MEETING]:
            who = _who(item.records[problem.index]) if problem.index < len(item.records) else ""
            yield (
                f"meeting {item.instance.id}: participant record {problem.index + 1}{who}: "
                f"{problem.detail}; read as missing (row flagged BAD_RECORD)"
            )
        if len(problems) > LISTED_PER_MEETING:
            yield (
                f"meeting {item.instance.id}: {len(problems) - LISTED_PER_MEETING} more "
                "participant record(s) with fields of the wrong type (rows flagged BAD_RECORD)"
            )


def _who(record: object) -> str:
    """`` (name <email>)`` of a record as far as they are text; untrusted, so shortened,
    without control characters and secrets."""
    if not isinstance(record, dict):
        return ""
    parts = [
        value
        for value in (record.get("displayName"), record.get("email"))
        if isinstance(value, str) and value.strip()
    ]
    if not parts:
        return ""
    text = " ".join(parts)
    text = "".join(c if c.isprintable() else " " for c in text)
    text = " ".join(redact(text).split())
    return f" ({text[:80]})"


def setting_warnings(config: Config, result: ResultLike) -> list[str]:
    """Settings that make the result meaningless for some meeting or course, and a
    compliance report whose dial-in callers came without their numbers."""
    from reporting.config import COMPLIANCE, format_duration

    warnings: list[str] = []
    rules = config.rules
    needed = rules.min_attendance.seconds
    attendance = result.attendance
    if needed is not None and len(attendance):
        meetings = attendance.drop_duplicates("meeting_id")
        lengths = meetings["meeting_seconds"].fillna(0).astype("int64").tolist()
        for meeting_id, length in zip(meetings["meeting_id"].tolist(), lengths, strict=True):
            if 0 < length < needed:
                warnings.append(
                    f"meeting {meeting_id}: rules.min_attendance {format_duration(needed)} "
                    f"is longer than the meeting ({format_duration(length)}), so nobody can "
                    "attend it completely; use a share such as 80% or a shorter duration"
                )
    required = rules.sessions_required
    courses = result.courses
    if required is not None and len(courses):
        first = courses.drop_duplicates("course")
        totals = first["sessions_total"].astype("int64").tolist()
        for course, total in zip(first["course"].tolist(), totals, strict=True):
            if total < required:
                warnings.append(
                    f"course {course}: rules.sessions_required is {required} but the "
                    f"course has {total} session(s) in the period, so "
                    "nobody can complete it; lower it or leave it out (all sessions)"
                )
    if any(spec.audience == COMPLIANCE for spec in config.reports):
        devices = result.devices
        if len(devices):
            dial_in = (devices["audio_type"] == "pstn") | devices["call_type"].isin(
                ("callIn", "callBack")
            )
            unnumbered = dial_in & devices["phone_number"].fillna("").astype(str).eq("")
            count = int(unnumbered.sum())
            if count:
                warnings.append(
                    f"{count} dial-in device(s) came without a phone number, so the compliance "
                    "report's phone column is empty for them: Webex gives phone numbers only "
                    "to a compliance officer's token (scope spark-compliance:meetings_read), "
                    "and only after the meeting ended"
                )
    return warnings


def check_warnings(config: Config) -> list[str]:
    """What `check` can tell without Webex: a course made of named instances only has
    as many sessions as it names; the bundled sandbox gives phone numbers only to its
    compliance role."""
    from reporting.config import COMPLIANCE, SANDBOX

    warnings: list[str] = []
    webex = config.webex
    if (
        webex.base_url == SANDBOX
        and webex.sandbox_role != COMPLIANCE
        and any(spec.audience == COMPLIANCE for spec in config.reports)
    ):
        warnings.append(
            f"webex.sandbox_role is {webex.sandbox_role}, so dial-in callers come without "
            "phone numbers and the compliance report's phone column stays empty (only the "
            "compliance role sees them)"
        )
    required = config.rules.sessions_required
    if required is None:
        return warnings
    named: dict[str, int] = {}
    for entry in config.meetings:
        course = entry.course or (entry.match.title if entry.match else None) or entry.ref
        if entry.id is None or "_I_" not in entry.id:
            # A series or a match: its number of sessions is Webex's.
            named[course] = -(10**9)
        else:
            named[course] = named.get(course, 0) + 1
    warnings += [
        f"course {course}: rules.sessions_required is {required} but the config names "
        f"{count} session(s) of it, so nobody can complete it"
        for course, count in named.items()
        if 0 < count < required
    ]
    return warnings
