"""Reading one API timestamp (RFC 3339 in full), and what makes a meeting window impossible.

RFC 3339 lets a timestamp be written with a lowercase ``t`` and ``z`` (§5.6, "NOTE: Per
[ABNF] ... may alternatively be lower case") and ISO 8601 lets the fraction use a comma;
Webex stand-ins and proxies produce all of these, and each is the same instant as its
canonical spelling. A value that is only a date (``2026-10-06``) is *not* an instant:
taking it as midnight would put a person in a meeting they may never have joined, so it
is reported as a bad timestamp, never silently read as 00:00.

A timestamp without an offset is read as UTC, the API's default zone (rule 1). The epoch
instant in any spelling is the API's "unknown" (rule 1).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

__all__ = [
    "MAX_MEETING",
    "Instant",
    "parse_instant",
    "window_problem",
]

# A meeting lasting longer than this is not a meeting but a broken window (Webex ends a
# meeting after 24 hours at the latest).
MAX_MEETING = timedelta(hours=24)

_RFC3339 = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2})"
    r"(?:[Tt ](?P<time>\d{2}:\d{2}(?::\d{2})?)(?:[.,](?P<frac>\d+))?)?"
    r"\s*(?P<offset>[Zz]|[+-]\d{2}(?::?\d{2})?)?"
)


@dataclass(frozen=True)
class Instant:
    """A parsed value: ``moment`` when it is a known instant, else why not (``problem``)."""

    moment: datetime | None
    problem: str | None = None  # None: fine, or missing / the sentinel (both "unknown")
    bad: bool = False  # present but not an instant: rule 1's BAD_TIMESTAMP


def parse_instant(value: Any) -> Instant:
    """One API timestamp, read as RFC 3339 / ISO 8601 with its offset, as aware UTC."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return Instant(None, "missing")
    if not isinstance(value, str):
        return Instant(None, f"{_show(value)} is not a time", bad=True)
    match = _RFC3339.fullmatch(value.strip())
    if match is None:
        return Instant(None, f"{_show(value)} is not a time", bad=True)
    if match["time"] is None:
        if match["offset"] is None and match["frac"] is None:
            return Instant(None, f"{_show(value)} is a date without a time", bad=True)
        return Instant(None, f"{_show(value)} is not a time", bad=True)
    text = f"{match['date']}T{match['time']}"
    if match["frac"]:
        text += "." + (match["frac"] + "000000")[:6]  # below a microsecond is dropped
    offset = match["offset"]
    if offset is not None and offset not in ("Z", "z"):
        digits = offset[1:].replace(":", "")
        text += f"{offset[0]}{digits[:2]}:{digits[2:4] or '00'}"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return Instant(None, f"{_show(value)} is not a time", bad=True)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    if moment.timestamp() < 0.001:  # rule 1: the epoch at millisecond resolution
        return Instant(None, f"{_show(value)} is the 'unknown' sentinel")
    return Instant(moment)


def window_problem(meeting: Mapping[str, Any]) -> str | None:
    """Why an instance's window from Get Meeting / List Meetings cannot be used, or None.

    An ended instance needs a real start and a real end, the end not before the start and
    at most `MAX_MEETING` after it; an instance in progress needs a real start. Without
    this check a sentinel start clipped nothing and made a 57-day window.
    """
    state = str(meeting.get("state") or "")
    start = parse_instant(meeting.get("start"))
    if start.moment is None:
        return f"its start {start.problem}"
    if state != "ended":
        return None
    end = parse_instant(meeting.get("end"))
    if end.moment is None:
        return f"it ended, but its end {end.problem}"
    if end.moment < start.moment:
        return f"its end {meeting.get('end')} is before its start {meeting.get('start')}"
    if end.moment - start.moment > MAX_MEETING:
        return f"its window {meeting.get('start')} to {meeting.get('end')} is longer than 24 hours"
    return None


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
