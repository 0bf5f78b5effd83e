"""Meeting objects (Get Meeting / List Meetings) → `reporting.model.Instance`.

Only what planning needs is read; the raw object stays in the store.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from reporting.model import Instance

SERIES = "meetingSeries"
SCHEDULED = "scheduledMeeting"
INSTANCE = "meeting"
IN_PROGRESS = "inProgress"
UNKNOWN_STATE = "unknown"


def parse_time(value: Any) -> datetime | None:
    """An API timestamp as aware UTC; None when missing, unparsable or the epoch sentinel."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    return None if moment.timestamp() == 0 else moment


def meeting_type(meeting: Mapping[str, Any]) -> str:
    return str(meeting.get("meetingType") or "")


def looks_like_instance_id(meeting_id: str) -> bool:
    """Webex instance ids are ``<series>_I_<digits>``."""
    return "_I_" in meeting_id


def to_instance(
    meeting: Mapping[str, Any],
    *,
    entry_index: int,
    entry_id: str,
    course: str | None,
    title: str | None,
) -> Instance:
    """An ended or in-progress meeting instance object as the Instance to audit."""
    state = str(meeting.get("state") or UNKNOWN_STATE)
    end = parse_time(meeting.get("end"))
    if state == IN_PROGRESS:
        end = None  # a live instance's `end` is the scheduled one, not an actual end
    host = meeting.get("hostEmail")
    series = meeting.get("meetingSeriesId")
    scheduled = meeting.get("scheduledMeetingId")
    return Instance(
        id=str(meeting["id"]),
        entry_index=entry_index,
        entry_id=entry_id,
        course=course or entry_id,
        title=title or str(meeting.get("title") or meeting["id"]),
        series_id=str(series) if series else None,
        start=parse_time(meeting.get("start")),
        end=end,
        state=state,
        host_email=str(host) if host else None,
        scheduled_type=str(meeting.get("scheduledType") or "meeting"),
        looked_up=True,
        scheduled_meeting_id=str(scheduled) if scheduled else None,
    )


def unlooked_instance(
    instance_id: str, *, entry_index: int, entry_id: str, course: str | None, title: str | None
) -> Instance:
    """An instance Get Meeting could not describe: the engine infers its window (rule 4)."""
    return Instance(
        id=instance_id,
        entry_index=entry_index,
        entry_id=entry_id,
        course=course or entry_id,
        title=title or instance_id,
        series_id=instance_id.split("_I_")[0] if looks_like_instance_id(instance_id) else None,
        start=None,
        end=None,
        state=UNKNOWN_STATE,
        host_email=None,
        looked_up=False,
    )
