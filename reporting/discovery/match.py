"""Rule 16: a ``match:`` entry selects listed instances by title, host and type.

List Meetings has no title filter, and ``hostEmail`` also lists the meetings a host was
only invited to, so every field is checked here on each listed instance.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from fnmatch import fnmatchcase
from typing import Any

from reporting.protocols import MatchLike
from reporting.webex.models import INSTANCE, parse_time


def title_matches(pattern: str, title: str) -> bool:
    """Shell-style (``*``, ``?``, ``[...]``), case-insensitive, over the whole title."""
    return fnmatchcase(title.casefold(), pattern.casefold())


def selects(spec: MatchLike, meeting: Mapping[str, Any], period: tuple[datetime, datetime]) -> bool:
    """Whether a List Meetings item is an ended instance of the period the match wants."""
    if meeting.get("meetingType", INSTANCE) != INSTANCE or "id" not in meeting:
        return False
    if meeting.get("state", "ended") != "ended":
        return False
    start = parse_time(meeting.get("start"))
    if start is None or not period[0] <= start < period[1]:
        return False
    if spec.title is not None and not title_matches(spec.title, str(meeting.get("title") or "")):
        return False
    if spec.hosts and str(meeting.get("hostEmail") or "").strip().lower() not in spec.hosts:
        return False
    scheduled = str(meeting.get("scheduledType") or "meeting")
    return spec.type is None or scheduled == spec.type


def selection_item(meeting: Mapping[str, Any]) -> dict[str, str]:
    """What a reviewer needs to approve one selected instance (title, start, host, id)."""
    return {
        "title": str(meeting.get("title") or ""),
        "start": str(meeting.get("start") or ""),
        "host": str(meeting.get("hostEmail") or ""),
        "id": str(meeting.get("id") or ""),
    }
