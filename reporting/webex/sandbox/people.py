"""``GET /meetingInvitees`` and ``GET /meetings/{meetingId}/registrants`` of the sandbox.

How the reference is read where it leaves room:

- Invitees: ``meetingId`` may be a series, a scheduled meeting or an ended or in-progress
  instance (see `dataset` for which list an instance gets); a scheduled personal-room
  meeting → 400; unknown → 404. Roles as for participants: a host token sees only the
  meetings it hosts (403 otherwise, and 403 for another ``hostEmail``); an admin or
  compliance token sees every meeting, and its ``hostEmail`` must be the meeting's host
  (404 otherwise). ``panelist=true`` lists only panelists and ``false`` only the others,
  for webinars only: on any other meeting the filter is ignored (no one there is a
  panelist, and the reference says it filters "for webinars only"); a value other than
  true/false → 400. Items are sorted by email; ``max`` ≤ 100 (default 10), paginated
  with ``Link``.
- Registrants: only a series id is accepted; a scheduled meeting, an instance or a
  personal-room series → 400; unknown → 404. The host and the series' co-hosts (invitees
  with ``coHost: true``) may read them, any other host token → 403; admin-level tokens
  as above. ``email`` filters by address (case-insensitive); ``registrationTimeFrom`` /
  ``To`` filter when at least one is given (the missing one is 7 days from the other,
  at most 90 days apart, else 400); without either, every registrant is listed.
  ``current`` is accepted and changes nothing (the sandbox has no per-occurrence
  registration). A series without registration lists nobody (200, empty).
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from reporting.webex.sandbox.conventions import (
    JSON_TYPE,
    MEETINGS_TYPE,
    ApiError,
    _check_host_email,
    _json,
    _max,
    _next_link,
    _param_time,
    _read_cursor,
    _role,
    _zone,
    _zone_name,
)
from reporting.webex.sandbox.dataset import Json, parse_time
from reporting.webex.sandbox.state import Sandbox

PERSONAL_ROOM = "personalRoomMeeting"


def _page(request: Request, items: list[Json], ids: list[str]) -> tuple[list[Json], dict[str, str]]:
    limit = _max(request.query_params)
    offset = _read_cursor(request.query_params.get("cursor"), ids)
    chunk = items[offset : offset + limit]
    headers = {}
    end = offset + len(chunk)
    if end < len(items):
        headers["Link"] = _next_link(request, end, ids[end - 1])
    return chunk, headers


def _invitee_id(owner: str, email: str) -> str:
    digits = int(hashlib.blake2b(email.lower().encode(), digest_size=4).hexdigest(), 16)
    return f"{owner[:32]}_{digits}"


async def list_invitees(request: Request) -> Response:
    sandbox: Sandbox = request.app.state.sandbox
    params = request.query_params
    meeting_id = params.get("meetingId")
    if not meeting_id:
        raise ApiError(400, "The meetingId parameter is required.")
    meeting = sandbox.index.meetings.get(meeting_id)
    if meeting is None:
        raise ApiError(404, f"Meeting {meeting_id[:80]} not found.")
    _check_host_email(request, meeting)
    if meeting["meetingType"] != "meeting" and meeting.get("scheduledType") == PERSONAL_ROOM:
        raise ApiError(
            400,
            "The meeting ID of a scheduled personal room meeting is not supported for this API.",
        )
    if meeting["meetingType"] == "meeting" and meeting.get("state") not in ("ended", "inProgress"):
        raise ApiError(404, f"Meeting instance {meeting_id[:80]} has not happened.")
    panelist = params.get("panelist")
    if panelist not in (None, "true", "false"):
        raise ApiError(400, f"Invalid panelist '{panelist[:16]}': must be true or false.")
    people = sandbox.index.invitees_of(meeting)
    if panelist is not None and meeting.get("scheduledType") == "webinar":
        wanted = panelist == "true"
        people = [p for p in people if bool(p.get("panelist")) == wanted]
    items = [
        {
            "id": str(p.get("id") or _invitee_id(meeting_id, str(p["email"]))),
            "email": str(p["email"]),
            "displayName": str(p.get("displayName") or p["email"]),
            "coHost": bool(p.get("coHost", False)),
            "meetingId": meeting_id,
            "panelist": bool(p.get("panelist", False)),
        }
        for p in people
    ]
    chunk, headers = _page(request, items, [str(i["id"]) for i in items])
    return _json({"items": chunk}, MEETINGS_TYPE, headers)


def _check_registrant_reader(request: Request, series: Json, index: Any) -> None:
    role = _role(request)
    wanted = request.query_params.get("hostEmail")
    wanted_lower = wanted.strip().lower() if wanted else None
    host = str(series["hostEmail"]).lower()
    if role.kind == "host":
        assert role.email is not None
        if wanted_lower and wanted_lower != role.email:
            raise ApiError(403, "hostEmail requires an administrator token.")
        cohost = any(
            str(i["email"]).lower() == role.email and i.get("coHost")
            for i in index.invitees_of(series)
        )
        if host != role.email and not cohost:
            raise ApiError(403, "Only the meeting's host and cohosts can list its registrants.")
    elif wanted_lower and wanted_lower != host:
        raise ApiError(404, f"No meeting {series['id']} hosted by {wanted_lower[:128]}.")


async def list_registrants(request: Request) -> Response:
    sandbox: Sandbox = request.app.state.sandbox
    index = sandbox.index
    meeting_id = request.path_params["meetingId"]
    meeting = index.meetings.get(meeting_id)
    if meeting is None:
        raise ApiError(404, f"Meeting {meeting_id[:80]} not found.")
    if meeting["meetingType"] != "meetingSeries" or meeting.get("scheduledType") == PERSONAL_ROOM:
        raise ApiError(
            400,
            "Only the ID of the meeting series is supported for meetingId; IDs of scheduled "
            "meetings, meeting instances and scheduled personal room meetings are not.",
        )
    _check_registrant_reader(request, meeting, index)
    params = request.query_params
    current = params.get("current")
    if current not in (None, "true", "false"):
        raise ApiError(400, f"Invalid current '{current[:16]}': must be true or false.")
    zone = _zone(_zone_name(request))
    since = _param_time(params, "registrationTimeFrom", zone)
    until = _param_time(params, "registrationTimeTo", zone)
    if since is not None or until is not None:
        since = since or (until - timedelta(days=7) if until else None)
        until = until or (since + timedelta(days=7) if since else None)
        assert since is not None and until is not None
        if since > until:
            raise ApiError(400, "registrationTimeFrom must not be after registrationTimeTo.")
        if until - since > timedelta(days=90):
            raise ApiError(
                400,
                "The interval between registrationTimeFrom and registrationTimeTo must be "
                "within 90 days.",
            )
    email = (params.get("email") or "").strip().lower()
    items: list[Json] = []
    for number, person in enumerate(index.registrants.get(meeting_id, [])):
        if email and str(person["email"]).lower() != email:
            continue
        if since is not None and until is not None:
            registered = person.get("registrationTime")
            try:
                moment = parse_time(str(registered)) if registered else None
            except ValueError:
                moment = None
            if moment is None or not since <= moment < until:
                continue
        view = {k: v for k, v in person.items() if not k.startswith("_")}
        view.setdefault("id", f"{meeting_id[:8]}-{number:04d}-reg")
        view.setdefault("status", "approved")
        items.append(view)
    chunk, headers = _page(request, items, [str(i["id"]) for i in items])
    return _json({"items": chunk}, JSON_TYPE, headers)
