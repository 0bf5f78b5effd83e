"""The meetings and participants endpoints (invitees and registrants are in `people`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import Response

from reporting.webex.sandbox.conventions import (
    JSON_TYPE,
    MAX_INSTANCES,
    MEETINGS_TYPE,
    ApiError,
    _add_months,
    _check_host_email,
    _json,
    _max,
    _next_link,
    _param_time,
    _read_cursor,
    _render_time,
    _role,
    _zone,
    _zone_name,
)
from reporting.webex.sandbox.dataset import Json
from reporting.webex.sandbox.state import Sandbox

# -- endpoints -----------------------------------------------------------------------------


def _resolve_instance(sandbox: Sandbox, request: Request, meeting_id: str) -> Json:
    index = sandbox.index
    meeting = index.meetings.get(meeting_id)
    if meeting is None:
        raise ApiError(404, f"Meeting {meeting_id[:80]} not found.")
    _check_host_email(request, meeting)
    kind = meeting["meetingType"]
    if kind == "meeting":
        return meeting
    if meeting.get("scheduledType") == "personalRoomMeeting":
        raise ApiError(
            400,
            "The meeting ID of a scheduled personal room meeting is not supported for this API.",
        )
    zone = _zone(_zone_name(request))
    params = request.query_params
    start_from = _param_time(params, "meetingStartTimeFrom", zone)
    start_to = _param_time(params, "meetingStartTimeTo", zone)
    if start_from is not None or start_to is not None:
        if start_from is None:
            assert start_to is not None
            start_from = _add_months(start_to, -1)
        if start_to is None:
            start_to = min(_add_months(start_from, 1), sandbox.now())
        if start_from > start_to:
            raise ApiError(400, "meetingStartTimeFrom must be before meetingStartTimeTo.")
    chosen: Json | None = None
    for instance in index.instances_of.get(meeting_id, []):
        if instance.get("state") not in ("ended", "inProgress"):
            continue
        start = index.starts[instance["id"]]
        if start_from is not None and start_to is not None and not start_from < start < start_to:
            continue
        chosen = instance  # ordered by start: the last match is the last instance
    if chosen is None:
        raise ApiError(
            404, f"No ended or in-progress instance of meeting {meeting_id} in the time range."
        )
    return chosen


async def list_participants(request: Request) -> Response:
    sandbox: Sandbox = request.app.state.sandbox
    params = request.query_params
    meeting_id = params.get("meetingId")
    if not meeting_id:
        raise ApiError(400, "The meetingId parameter is required.")
    zone_name = _zone_name(request)
    zone = _zone(zone_name)
    limit = _max(params)
    join_from = _param_time(params, "joinTimeFrom", zone)
    join_to = _param_time(params, "joinTimeTo", zone)
    if join_from is not None or join_to is not None:
        if join_from is None:
            assert join_to is not None
            join_from = join_to - timedelta(days=7)
        if join_to is None:
            join_to = join_from + timedelta(days=7)
        if join_to < join_from:
            raise ApiError(400, "joinTimeFrom must not be after joinTimeTo.")
        if join_to - join_from > timedelta(days=90):
            raise ApiError(
                400, "The interval between joinTimeFrom and joinTimeTo must be within 90 days."
            )
    instance = _resolve_instance(sandbox, request, meeting_id)
    breakout = params.get("breakoutSessionId")
    if breakout is not None and instance.get("state") == "inProgress":
        raise ApiError(400, "breakoutSessionId only applies to ended meeting instances.")
    page = sandbox.page(instance, zone_name, _role(request).kind == "compliance")
    positions: Sequence[int] = range(len(page.ids))
    ids = page.ids
    if join_from is not None or breakout is not None:
        lo = join_from.timestamp() if join_from else 0.0
        hi = join_to.timestamp() if join_to else 0.0
        positions = [
            n
            for n in positions
            if (join_from is None or (page.joins[n] is not None and lo <= page.joins[n] < hi))  # type: ignore[operator]
            and (breakout is None or breakout in page.breakouts[n])
        ]
        ids = [ids[n] for n in positions]
    offset = _read_cursor(params.get("cursor"), ids)
    chunk = page.items(positions[offset : offset + limit])
    body = b'{"items":[' + b",".join(chunk) + b"]}"
    headers = {}
    end = offset + len(chunk)
    if end < len(ids):
        headers["Link"] = _next_link(request, end, ids[end - 1])
    return Response(body, media_type=JSON_TYPE, headers=headers)


async def get_participant(request: Request) -> Response:
    sandbox: Sandbox = request.app.state.sandbox
    participant_id = request.path_params["participantId"]
    found = sandbox.index.participant_by_id.get(participant_id)
    if found is None:
        raise ApiError(404, f"Participant {participant_id[:100]} not found.")
    instance_id, position = found
    meeting = sandbox.index.meetings[instance_id]
    _check_host_email(request, meeting)
    record = sandbox.index.participants[instance_id][position]
    zone = _zone(_zone_name(request))
    view = sandbox.participant_view(record, meeting, zone, _role(request).kind == "compliance")
    return _json(view, JSON_TYPE)


def _meeting_view(meeting: Json, zone: ZoneInfo | None) -> Json:
    view = {k: v for k, v in meeting.items() if not k.startswith("_")}
    for key in ("start", "end"):
        view[key] = _render_time(view[key], zone)
    return view


_STATES = ("active", "scheduled", "ready", "lobby", "inProgress", "ended", "missed", "expired")


@dataclass(frozen=True)
class _MeetingQuery:
    """What a List Meetings request asks for, checked, with its window worked out."""

    series_id: str | None
    kind: str  # the meetingType listed; "" for every kind of a series
    state: str | None
    scheduled_type: str | None
    host: str | None
    start: datetime
    end: datetime
    limit: int


async def list_meetings(request: Request) -> Response:
    sandbox: Sandbox = request.app.state.sandbox
    params = request.query_params
    zone = _zone(_zone_name(request))
    query = _meeting_query(sandbox, request, zone)
    selected = [m for m in sandbox.index.ordered_meetings if _lists(sandbox, query, m)]
    if query.kind == "meeting":
        selected = selected[:MAX_INSTANCES]
    ids = [str(m["id"]) for m in selected]
    offset = _read_cursor(params.get("cursor"), ids)
    chunk = selected[offset : offset + query.limit]
    headers = {}
    if offset + len(chunk) < len(selected):
        headers["Link"] = _next_link(request, offset + len(chunk), ids[offset + len(chunk) - 1])
    return _json({"items": [_meeting_view(m, zone) for m in chunk]}, MEETINGS_TYPE, headers)


def _meeting_query(sandbox: Sandbox, request: Request, zone: ZoneInfo | None) -> _MeetingQuery:
    params = request.query_params
    series_id = params.get("meetingSeriesId") or None
    meeting_type = params.get("meetingType")
    if meeting_type not in (None, "meetingSeries", "scheduledMeeting", "meeting"):
        raise ApiError(400, f"Invalid meetingType '{meeting_type[:40]}'.")
    state = params.get("state")
    if state is not None and state not in _STATES:
        raise ApiError(400, f"Invalid state '{state[:40]}'.")
    scheduled_type = params.get("scheduledType")
    if scheduled_type not in (None, "meeting", "webinar", "personalRoomMeeting"):
        raise ApiError(400, f"Invalid scheduledType '{scheduled_type[:40]}'.")
    limit = _max(params)
    host = _check_host_email(request, _series(sandbox, series_id))
    kind = meeting_type or ("" if series_id else "meetingSeries")
    start, end = _window(sandbox, request, zone, kind)
    if series_id:
        scheduled_type = None  # ignored with meetingSeriesId, as the reference says
    elif scheduled_type == "personalRoomMeeting" and kind != "scheduledMeeting":
        raise ApiError(400, f"scheduledType personalRoomMeeting is not supported with {kind}.")
    return _MeetingQuery(series_id, kind, state, scheduled_type, host, start, end, limit)


def _series(sandbox: Sandbox, series_id: str | None) -> Json | None:
    if not series_id:
        return None
    series = sandbox.index.meetings.get(series_id)
    if series is None or series["meetingType"] != "meetingSeries":
        raise ApiError(404, f"Meeting series {series_id[:80]} not found.")
    if series.get("scheduledType") == "personalRoomMeeting":
        raise ApiError(400, "The meeting ID of a scheduled personal room meeting is not supported.")
    return series


def _window(
    sandbox: Sandbox, request: Request, zone: ZoneInfo | None, kind: str
) -> tuple[datetime, datetime]:
    """``from``/``to`` with the reference's defaults: the past week for instances, the
    coming week for everything else."""
    params = request.query_params
    now = sandbox.now()
    start = _param_time(params, "from", zone)
    end = _param_time(params, "to", zone)
    week = timedelta(days=7)
    if kind == "meeting":
        start = start or ((end - week) if end else now - week)
        end = end or (start + week if params.get("from") else now)
    else:
        start = start or ((end - week) if end else now)
        end = end or start + week
    if start > end:
        raise ApiError(400, "from cannot be after to.")
    return start, end


def _lists(sandbox: Sandbox, query: _MeetingQuery, meeting: Json) -> bool:
    """Whether List Meetings with ``query`` lists ``meeting``."""
    index = sandbox.index
    kind = meeting["meetingType"]
    if query.series_id and (
        meeting.get("meetingSeriesId") != query.series_id or kind == "meetingSeries"
    ):
        return False
    if (query.kind and kind != query.kind) or (
        query.state is not None and meeting.get("state") != query.state
    ):
        return False
    # hostEmail (or a host's own token) also lists what the user is invited to.
    if (
        query.host
        and str(meeting["hostEmail"]).lower() != query.host
        and not index.is_invited(meeting, query.host)
    ):
        return False
    if not _scheduled_type_matches(meeting, kind, query.scheduled_type, query.series_id):
        return False
    if kind == "meetingSeries":
        first, last = sandbox.spans.get(
            meeting["id"], (index.starts[meeting["id"]], index.ends[meeting["id"]])
        )
        return first < query.end and last > query.start
    return query.start <= index.starts[meeting["id"]] < query.end


def _scheduled_type_matches(
    meeting: Json, kind: str, wanted: str | None, series_id: str | None
) -> bool:
    """List Meetings' ``scheduledType`` rule: without it, series and instances of meetings
    and webinars (not personal rooms); a personal-room instance counts as a meeting."""
    if series_id:
        return True
    have = str(meeting.get("scheduledType") or "meeting")
    if kind == "meeting" and have == "personalRoomMeeting":
        have = "meeting"
    if wanted is not None:
        return have == wanted
    return kind == "scheduledMeeting" or have in ("meeting", "webinar")


async def get_meeting(request: Request) -> Response:
    sandbox: Sandbox = request.app.state.sandbox
    meeting_id = request.path_params["meetingId"]
    meeting = sandbox.index.meetings.get(meeting_id)
    if meeting is None:
        raise ApiError(404, f"Meeting {meeting_id[:80]} not found.")
    _check_host_email(request, meeting)
    return _json(_meeting_view(meeting, _zone(_zone_name(request))), MEETINGS_TYPE)
