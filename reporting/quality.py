"""Data-quality notes of a run, as one line each: records with fields of the wrong type.

The lines go to stderr, the manifest's notes and the reports' data-quality section, all
from here, so they say the same thing everywhere.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from reporting.logs import redact
from reporting.model import InstanceRecords

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
