"""The ASGI app: Webex's meetings and participants endpoints over a dataset.

Routes (all under ``/v1``): ``GET /meetingParticipants``, ``GET /meetingParticipants/{id}``,
``GET /meetings``, ``GET /meetings/{meetingId}``, ``GET /meetingInvitees`` and
``GET /meetings/{meetingId}/registrants`` (see `people`), and ``POST /access_token`` (an OAuth
integration refreshes its access token). A raw ASGI front layer does what every Webex
endpoint does before routing: ``TrackingId``, bearer-token authentication, the per-token
rate limit and fault injection (see `faults`). Starlette routes the rest.

OAuth integrations (``Sandbox.add_integration``): each is a client id, its client secret
and the refresh tokens it may present, each refresh token with the role of the user who
granted it. ``POST /v1/access_token`` (form-encoded ``grant_type=refresh_token``,
``client_id``, ``client_secret``, ``refresh_token``) mints a new access token with that role
and answers ``{"access_token", "expires_in", "refresh_token", "refresh_token_expires_in",
"token_type": "Bearer"}``. How the documentation is read there:

- The token endpoint authenticates the integration by its form fields, so it is answered
  without a bearer token, and neither the per-token rate limit nor fault injection (both
  keyed by the bearer token) applies to it.
- A minted access token lives ``token_lifetime`` seconds (default 14 days) on the sandbox's
  clock; once expired it draws 401, exactly like an unknown token. ``expires_in`` is that
  lifetime rounded down to whole seconds, so it never promises more than the token has.
  An earlier access token keeps working until its own expiry.
- A refresh token lives ``refresh_token_lifetime`` seconds (default 90 days) from its
  registration; refreshing neither replaces nor extends it: the answer returns the same
  refresh token and its remaining lifetime.
- Unknown ``client_id`` or a wrong ``client_secret`` → 401; a missing field, an unsupported
  ``grant_type`` (only ``refresh_token`` is simulated), a body that is not form-encoded, or
  a refresh token unknown to the integration or expired → 400. No error text repeats a
  secret.
- Tokens from the dataset or ``add_token`` never expire, as before.

How the reference page's rules are read where it is vague:

- ``meetingStartTimeFrom``/``To`` apply to series and scheduled-meeting ids only and only
  when at least one is given (the page's "both absent" default, ``to`` = now − 1 month,
  would make a bare series id return nothing, contradicting "returns the last instance");
  a missing one is derived from the other (``from`` = ``to`` − 1 month; ``to`` = the
  earlier of ``from`` + 1 month and now). Both bounds are exclusive.
- ``joinTimeFrom``/``To`` filter on the participant's ``joinedTime`` only when at least one
  is given; a participant whose join time is unknown does not match a join-time filter.
- A series or scheduled-meeting id with no ended or in-progress instance (in range) → 404.
- ``hostEmail`` from a host token is refused (403) unless it is the host's own address;
  from an admin or compliance token it restricts to meetings that user hosts (404 if not).
- Personal-room refusal: a series or scheduled-meeting id whose ``scheduledType`` is
  ``personalRoomMeeting`` → 400; instance ids of personal-room meetings are served.
- ``breakoutSessionId`` on an in-progress instance → 400; unknown on an ended one → empty.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import json
import secrets
import time
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl, urlencode
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from reporting.webex.sandbox.dataset import (
    EPOCH_SENTINEL,
    DatasetError,
    Index,
    Json,
    Role,
    build_index,
    parse_role,
    parse_time,
)
from reporting.webex.sandbox.faults import (
    Attempts,
    FaultSpec,
    RateLimiter,
    decide,
    parse_faults,
)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

JSON_TYPE = "application/json"
MEETINGS_TYPE = "application/json;charset=UTF-8"
FORM_TYPE = "application/x-www-form-urlencoded"
ACCESS_TOKEN_PATH = "/v1/access_token"  # noqa: S105 - a path, not a secret
ACCESS_TOKEN_LIFETIME = 14 * 24 * 3600.0  # an integration's access token: about 14 days
REFRESH_TOKEN_LIFETIME = 90 * 24 * 3600.0  # its refresh token: about 90 days
MAX_LIMIT = 100
MAX_INSTANCES = 10_000  # List Meetings with meetingType=meeting lists at most this many
DEFAULT_MAX = 10
PARTICIPANT_TIMES = ("meetingStartTime", "joinedTime", "leftTime")
ERROR_TEXT = {
    400: "The request was invalid or cannot be otherwise served.",
    401: "The request requires a valid access token set in the Authorization request header.",
    403: "The server understood the request, but refused to fulfill it because the access "
    "token is missing required scopes or the user is missing required roles or licenses.",
    404: "The requested resource could not be found.",
    405: "The request was made to a resource using an HTTP request method that is not supported.",
    423: "The requested resource is temporarily unavailable.",
    429: "Too Many Requests",
    500: "Something went wrong on the server.",
    502: "Bad gateway.",
    503: "Service Unavailable",
    504: "Gateway Timeout: an upstream server failed to respond on time. If your query uses "
    "the max parameter, please try to reduce it.",
}


class ApiError(Exception):
    """An error answer in Webex's shape."""

    def __init__(
        self,
        status: int,
        description: str | None = None,
        headers: Mapping[str, str] | None = None,
        *,
        message: str | None = None,
    ) -> None:
        super().__init__(description or ERROR_TEXT.get(status, ""))
        self.status = status
        self.description = description or ERROR_TEXT.get(status, "")
        self.headers = dict(headers or {})
        self.message = message  # None: the status's standard text (400: the description)


def error_body(
    status: int, description: str, tracking_id: str, message: str | None = None
) -> bytes:
    if message is None:
        message = description if status == 400 else ERROR_TEXT.get(status, description)
    return json.dumps(
        {
            "message": message,
            "errors": [{"description": description}],
            "trackingId": tracking_id,
        }
    ).encode()


# One encoder for every participant view: json.dumps with a keyword builds a new one per call.
_ENCODE = json.JSONEncoder(ensure_ascii=False).encode


@lru_cache(maxsize=512)
def _zone(name: str) -> ZoneInfo | None:
    """None for UTC (timestamps stay as stored); raises ApiError for unknown names."""
    if name.upper() in ("UTC", "Z", "ETC/UTC", "GMT"):
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ApiError(400, f"Invalid timezone '{name[:64]}'.") from None


def _render_time(value: Any, zone: ZoneInfo | None) -> Any:
    if zone is None or not isinstance(value, str):
        return value
    try:
        moment = parse_time(value)
    except ValueError:
        return value
    spec = "milliseconds" if "." in value else "seconds"
    return moment.astimezone(zone).isoformat(timespec=spec)


def _add_months(moment: datetime, months: int) -> datetime:
    month0 = moment.month - 1 + months
    year, month = moment.year + month0 // 12, month0 % 12 + 1
    days = [
        31,
        29 if year % 4 == 0 and (year % 100 or year % 400 == 0) else 28,
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ][month - 1]
    return moment.replace(year=year, month=month, day=min(moment.day, days))


@dataclass
class _Page:
    """One instance's visible participants for one (zone, view), each encoded once.

    A record's view is encoded the first time a page that holds it is asked for, so a
    request costs the records it answers with (a meeting of 1,000 people no longer holds
    up the server's loop for all of them on its first page). Join times and breakout ids
    are read only when a request filters by them."""

    records: list[Json]
    ids: list[str]
    encode: Callable[[Json], bytes]
    _encoded: list[bytes | None] = field(default_factory=list)
    _joins: list[float | None] | None = None
    _breakouts: list[frozenset[str]] | None = None

    def items(self, positions: Iterable[int]) -> list[bytes]:
        if not self._encoded:
            self._encoded = [None] * len(self.records)
        out = []
        for n in positions:
            item = self._encoded[n]
            if item is None:
                item = self._encoded[n] = self.encode(self.records[n])
            out.append(item)
        return out

    @property
    def joins(self) -> list[float | None]:
        if self._joins is None:
            self._joins = [_join_stamp(r) for r in self.records]
        return self._joins

    @property
    def breakouts(self) -> list[frozenset[str]]:
        if self._breakouts is None:
            self._breakouts = [
                frozenset(str(b.get("id")) for b in r.get("breakoutSessionsAttended", []) or [])
                for r in self.records
            ]
        return self._breakouts


@dataclass
class Grant:
    """One user's authorisation of an integration: what its refresh token is worth."""

    role: Role
    expires_at: float  # on the sandbox clock


@dataclass
class Integration:
    """An OAuth integration the sandbox knows: its credentials and accepted refresh tokens."""

    client_id: str
    client_secret: str
    grants: dict[str, Grant] = field(default_factory=dict)  # refresh token -> grant

    def __repr__(self) -> str:
        return f"Integration({self.client_id!r}, <redacted>, {len(self.grants)} refresh token(s))"


class Sandbox:
    """State shared by the requests of one app: dataset index, tokens, limits, caches.

    ``token_lifetime`` / ``refresh_token_lifetime`` (seconds on ``clock``) apply to access
    tokens minted from then on / refresh tokens registered from then on.
    """

    def __init__(
        self,
        index: Index,
        faults: FaultSpec,
        clock: Callable[[], float],
        *,
        token_lifetime: float = ACCESS_TOKEN_LIFETIME,
        refresh_token_lifetime: float = REFRESH_TOKEN_LIFETIME,
    ) -> None:
        self.index = index
        self.faults = faults
        self.clock = clock
        self.tokens: dict[str, Role] = dict(index.tokens)
        self.expiry: dict[str, float] = {}  # minted access token -> when it stops working
        self.integrations: dict[str, Integration] = {}
        self.token_lifetime = token_lifetime
        self.refresh_token_lifetime = refresh_token_lifetime
        self.minted = 0  # access tokens minted by POST /access_token
        self.limiter = RateLimiter(faults.rate_limit, faults.rate_window)
        self.attempts = Attempts()
        self.spans = _series_spans(index)
        self._pages: OrderedDict[tuple[str, str, bool], _Page] = OrderedDict()

    def add_token(self, token: str, role: str | Role) -> None:
        self.tokens[token] = role if isinstance(role, Role) else parse_role(role)
        self.expiry.pop(token, None)  # a token added by hand never expires

    def role_of(self, token: str) -> Role | None:
        """The role of a valid bearer token; None when it is unknown or has expired."""
        role = self.tokens.get(token)
        if role is None:
            return None
        expires_at = self.expiry.get(token)
        if expires_at is not None and self.clock() >= expires_at:
            self.tokens.pop(token, None)
            self.expiry.pop(token, None)
            return None
        return role

    # -- OAuth integrations -----------------------------------------------------------------

    def add_integration(
        self, client_id: str, client_secret: str, refresh_token: str, role: str | Role
    ) -> None:
        """Accept ``refresh_token`` from integration ``client_id``; it mints ``role`` tokens.

        Registering the same client id again adds a refresh token; its secret must match.
        """
        if not client_id or not client_secret or not refresh_token:
            raise DatasetError(
                "an integration needs a client id, a client secret and a refresh token"
            )
        parsed = role if isinstance(role, Role) else parse_role(role)
        integration = self.integrations.get(client_id)
        if integration is None:
            integration = self.integrations[client_id] = Integration(client_id, client_secret)
        elif not hmac.compare_digest(integration.client_secret.encode(), client_secret.encode()):
            raise DatasetError(
                f"integration {client_id[:12]}: registered again with another client secret"
            )
        integration.grants[refresh_token] = Grant(
            parsed, self.clock() + self.refresh_token_lifetime
        )

    def mint(self, role: Role) -> tuple[str, float]:
        """A new access token for ``role`` and its lifetime in seconds."""
        token = secrets.token_urlsafe(48)
        lifetime = self.token_lifetime
        self.tokens[token] = role
        self.expiry[token] = self.clock() + lifetime
        self.minted += 1
        return token, lifetime

    def now(self) -> datetime:
        return self.index.now or datetime.now(UTC)

    # -- participants --------------------------------------------------------------------

    def page(self, meeting: Json, zone_name: str, compliance: bool) -> _Page:
        ended = meeting.get("state") != "inProgress"
        key = (str(meeting["id"]), zone_name, compliance and ended)
        cached = self._pages.get(key)
        if cached is not None:
            self._pages.move_to_end(key)
            return cached
        zone = _zone(zone_name)
        webinar = meeting.get("scheduledType") == "webinar"

        def encode(record: Json) -> bytes:
            return _ENCODE(self.participant_view(record, meeting, zone, compliance)).encode()

        page = _Page([], [], encode)
        for record in self.index.participants.get(str(meeting["id"]), []):
            if not ended and record.get("state", "joined") == "end":
                continue  # in progress: only who is there now
            if not ended and webinar and not (record.get("_panelist") or record.get("_unmuted")):
                continue
            page.records.append(record)
            page.ids.append(str(record.get("id", "")))
        self._pages[key] = page
        if len(self._pages) > 4096:
            self._pages.popitem(last=False)
        return page

    def participant_view(  # noqa: C901
        self, record: Json, meeting: Json, zone: ZoneInfo | None, compliance: bool
    ) -> Json:
        """What a caller may see of a stored record, timestamps in ``zone``."""
        ended = meeting.get("state") != "inProgress"
        view = {k: v for k, v in record.items() if k[:1] != "_"}
        if ended and compliance and zone is None:
            # Nothing to hide and no time to convert: devices and breakouts go out as stored
            # (the copies below would be equal).
            view.pop("orgId", None)
            if "devices" in view and not view["devices"]:
                view["devices"] = []
            return view
        if ended:
            view.pop("orgId", None)
        else:
            view["orgId"] = self.index.org_id
            view.setdefault("state", "joined")
            view.pop("breakoutSessionsAttended", None)
            if "leftTime" in view:
                view["leftTime"] = EPOCH_SENTINEL
        devices = []
        for device in view.get("devices", []) or []:
            shown = dict(device)
            if not (compliance and ended):
                shown.pop("phoneNumber", None)
            if not ended and "leftTime" in shown:
                shown["leftTime"] = EPOCH_SENTINEL
            for key in ("joinedTime", "leftTime"):
                if key in shown:
                    shown[key] = _render_time(shown[key], zone)
            devices.append(shown)
        if "devices" in view:
            view["devices"] = devices
        if "breakoutSessionsAttended" in view:
            view["breakoutSessionsAttended"] = [
                {
                    k: _render_time(v, zone) if k in ("joinedTime", "leftTime") else v
                    for k, v in b.items()
                }
                for b in view["breakoutSessionsAttended"]
            ]
        for key in PARTICIPANT_TIMES:
            if key in view:
                view[key] = _render_time(view[key], zone)
        return view


def _join_stamp(record: Mapping[str, Any]) -> float | None:
    value = record.get("joinedTime")
    if not value:
        return None
    try:
        stamp = parse_time(str(value)).timestamp()
    except ValueError:
        return None
    return None if stamp == 0 else stamp


# -- helpers shared by the endpoints -----------------------------------------------------


def _param_time(params: Mapping[str, str], name: str, zone: ZoneInfo | None) -> datetime | None:
    value = params.get(name)
    if value is None or value == "":
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ApiError(400, f"Invalid {name} '{value[:64]}': not an ISO 8601 date-time.") from None
    if moment.tzinfo is None:
        # A local time is read in the zone of the `timezone` header, like the API does.
        moment = moment.replace(tzinfo=zone or UTC)
    return moment


def _max(params: Mapping[str, str]) -> int:
    raw = params.get("max")
    if raw is None:
        return DEFAULT_MAX
    try:
        value = int(float(raw))
    except ValueError:
        raise ApiError(400, f"Invalid max '{raw[:32]}': must be a positive number.") from None
    if value < 1:
        raise ApiError(400, f"Invalid max '{raw[:32]}': must be a positive number.")
    return min(value, MAX_LIMIT)


def _cursor_token(offset: int, last_id: str) -> str:
    check = hashlib.blake2b(last_id.encode(), digest_size=6).hexdigest()
    return base64.urlsafe_b64encode(f"v1:{offset}:{check}".encode()).decode().rstrip("=")


def _read_cursor(raw: str | None, ids: list[str]) -> int:
    if raw is None:
        return 0
    try:
        text = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode()
        version, offset_text, check = text.split(":")
        offset = int(offset_text)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise ApiError(400, "Invalid cursor.") from None
    if version != "v1" or not 0 < offset <= len(ids):
        raise ApiError(400, "Invalid cursor.")
    if hashlib.blake2b(ids[offset - 1].encode(), digest_size=6).hexdigest() != check:
        raise ApiError(400, "Invalid cursor.")
    return offset


def _next_link(request: Request, offset: int, last_id: str) -> str:
    pairs = [
        (k, v) for k, v in parse_qsl(request.url.query, keep_blank_values=True) if k != "cursor"
    ]
    pairs.append(("cursor", _cursor_token(offset, last_id)))
    base = f"{request.url.scheme}://{request.url.netloc}{request.url.path}"
    return f'<{base}?{urlencode(pairs)}>; rel="next"'


def _role(request: Request) -> Role:
    role: Role = request.scope["sandbox.role"]
    return role


def _check_host_email(request: Request, meeting: Json | None) -> str | None:
    """Apply the hostEmail/ownership rules; returns the hostEmail filter if any."""
    role = _role(request)
    wanted = request.query_params.get("hostEmail")
    wanted_lower = wanted.strip().lower() if wanted else None
    if role.kind == "host":
        if wanted_lower and wanted_lower != role.email:
            raise ApiError(403, "hostEmail requires an administrator token.")
        if meeting is not None and str(meeting["hostEmail"]).lower() != role.email:
            raise ApiError(403, "The caller is not the host of this meeting.")
        return role.email
    if wanted_lower and meeting is not None and str(meeting["hostEmail"]).lower() != wanted_lower:
        raise ApiError(404, f"No meeting {meeting['id']} hosted by {wanted_lower[:128]}.")
    return wanted_lower


def _zone_name(request: Request) -> str:
    name = request.headers.get("timezone", "UTC").strip() or "UTC"
    _zone(name)
    return name


def _json(payload: Any, media_type: str, headers: Mapping[str, str] | None = None) -> Response:
    body = json.dumps(payload, ensure_ascii=False).encode()
    return Response(body, media_type=media_type, headers=dict(headers or {}))


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


async def list_meetings(request: Request) -> Response:  # noqa: C901, PLR0915
    sandbox: Sandbox = request.app.state.sandbox
    index = sandbox.index
    params = request.query_params
    zone_name = _zone_name(request)
    zone = _zone(zone_name)
    series_id = params.get("meetingSeriesId")
    meeting_type = params.get("meetingType")
    if meeting_type not in (None, "meetingSeries", "scheduledMeeting", "meeting"):
        raise ApiError(400, f"Invalid meetingType '{meeting_type[:40]}'.")
    state = params.get("state")
    states = ("active", "scheduled", "ready", "lobby", "inProgress", "ended", "missed", "expired")
    if state is not None and state not in states:
        raise ApiError(400, f"Invalid state '{state[:40]}'.")
    scheduled_type = params.get("scheduledType")
    if scheduled_type not in (None, "meeting", "webinar", "personalRoomMeeting"):
        raise ApiError(400, f"Invalid scheduledType '{scheduled_type[:40]}'.")
    limit = _max(params)
    series: Json | None = None
    if series_id:
        series = index.meetings.get(series_id)
        if series is None or series["meetingType"] != "meetingSeries":
            raise ApiError(404, f"Meeting series {series_id[:80]} not found.")
        if series.get("scheduledType") == "personalRoomMeeting":
            raise ApiError(
                400, "The meeting ID of a scheduled personal room meeting is not supported."
            )
    host_filter = _check_host_email(request, series)
    now = sandbox.now()
    start = _param_time(params, "from", zone)
    end = _param_time(params, "to", zone)
    effective_type = meeting_type or ("" if series_id else "meetingSeries")
    if series_id:
        scheduled_type = None  # ignored with meetingSeriesId, as the reference says
    elif scheduled_type == "personalRoomMeeting" and effective_type != "scheduledMeeting":
        raise ApiError(
            400, f"scheduledType personalRoomMeeting is not supported with {effective_type}."
        )
    if effective_type == "meeting":
        start = start or ((end - timedelta(days=7)) if end else now - timedelta(days=7))
        end = end or (start + timedelta(days=7) if params.get("from") else now)
    else:
        start = start or ((end - timedelta(days=7)) if end else now)
        end = end or start + timedelta(days=7)
    if start > end:
        raise ApiError(400, "from cannot be after to.")
    spans = sandbox.spans
    selected: list[Json] = []
    for meeting in index.ordered_meetings:
        kind = meeting["meetingType"]
        if series_id and (meeting.get("meetingSeriesId") != series_id or kind == "meetingSeries"):
            continue
        if effective_type and kind != effective_type:
            continue
        if state is not None and meeting.get("state") != state:
            continue
        # hostEmail (or a host's own token) also lists what the user is invited to.
        if (
            host_filter
            and str(meeting["hostEmail"]).lower() != host_filter
            and not index.is_invited(meeting, host_filter)
        ):
            continue
        if not _scheduled_type_matches(meeting, kind, scheduled_type, series_id):
            continue
        if kind == "meetingSeries":
            first, last = spans.get(
                meeting["id"], (index.starts[meeting["id"]], index.ends[meeting["id"]])
            )
            if not (first < end and last > start):
                continue
        elif not start <= index.starts[meeting["id"]] < end:
            continue
        selected.append(meeting)
    if effective_type == "meeting":
        selected = selected[:MAX_INSTANCES]
    ids = [str(m["id"]) for m in selected]
    offset = _read_cursor(params.get("cursor"), ids)
    chunk = selected[offset : offset + limit]
    headers = {}
    if offset + len(chunk) < len(selected):
        headers["Link"] = _next_link(request, offset + len(chunk), ids[offset + len(chunk) - 1])
    return _json({"items": [_meeting_view(m, zone) for m in chunk]}, MEETINGS_TYPE, headers)


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


def _series_spans(index: Index) -> dict[str, tuple[datetime, datetime]]:
    """First start and last end over each series' occurrences and instances."""
    spans: dict[str, tuple[datetime, datetime]] = {}
    for meeting in index.ordered_meetings:
        parent = meeting.get("meetingSeriesId")
        if not parent or parent == meeting["id"]:
            continue
        first, last = spans.get(parent, (index.starts[meeting["id"]], index.ends[meeting["id"]]))
        spans[parent] = (
            min(first, index.starts[meeting["id"]]),
            max(last, index.ends[meeting["id"]]),
        )
    return spans


async def get_meeting(request: Request) -> Response:
    sandbox: Sandbox = request.app.state.sandbox
    meeting_id = request.path_params["meetingId"]
    meeting = sandbox.index.meetings.get(meeting_id)
    if meeting is None:
        raise ApiError(404, f"Meeting {meeting_id[:80]} not found.")
    _check_host_email(request, meeting)
    return _json(_meeting_view(meeting, _zone(_zone_name(request))), MEETINGS_TYPE)


async def access_token(request: Request) -> Response:
    """``POST /access_token``: an integration trades its refresh token for an access token."""
    sandbox: Sandbox = request.app.state.sandbox
    kind = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if kind != FORM_TYPE:
        raise ApiError(400, f"The request body must be form-encoded ({FORM_TYPE}).")
    try:
        text = (await request.body()).decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError(400, "The request body is not valid UTF-8.") from None
    form: dict[str, str] = {}
    for key, value in parse_qsl(text, keep_blank_values=True):
        form.setdefault(key, value)
    grant_type = form.get("grant_type", "")
    if not grant_type:
        raise ApiError(400, "The grant_type parameter is required.")
    if grant_type != "refresh_token":
        raise ApiError(
            400, f"Unsupported grant_type '{grant_type[:40]}': the sandbox accepts refresh_token."
        )
    for name in ("client_id", "client_secret", "refresh_token"):
        if not form.get(name):
            raise ApiError(400, f"The {name} parameter is required.")
    integration = sandbox.integrations.get(form["client_id"])
    if integration is None or not hmac.compare_digest(
        integration.client_secret.encode(), form["client_secret"].encode()
    ):
        # Not the standard 401 text, which speaks of the Authorization header.
        text = "Invalid client_id or client_secret."
        raise ApiError(401, text, message=text)
    refresh_token = form["refresh_token"]
    grant = integration.grants.get(refresh_token)
    if grant is None:
        raise ApiError(400, "Invalid refresh_token for this client_id.")
    remaining = grant.expires_at - sandbox.clock()
    if remaining <= 0:
        raise ApiError(400, "The refresh_token has expired; the user must authorise again.")
    token, lifetime = sandbox.mint(grant.role)
    body = {
        "access_token": token,
        "expires_in": int(lifetime),
        "refresh_token": refresh_token,
        "refresh_token_expires_in": int(remaining),
        "token_type": "Bearer",
    }
    # RFC 6749 section 5.1: a response carrying tokens must not be cached.
    return _json(body, JSON_TYPE, {"Cache-Control": "no-store", "Pragma": "no-cache"})


# -- the front layer -------------------------------------------------------------------------


class SandboxApp:
    """ASGI entry: tracking id, auth, rate limit and faults, then Starlette routing."""

    def __init__(self, sandbox: Sandbox) -> None:
        from reporting.webex.sandbox.people import list_invitees, list_registrants

        self.sandbox = sandbox
        self.router = Starlette(
            routes=[
                Route("/v1/meetingParticipants", list_participants, methods=["GET"]),
                Route("/v1/meetingInvitees", list_invitees, methods=["GET"]),
                Route("/v1/meetings/{meetingId}/registrants", list_registrants, methods=["GET"]),
                Route("/v1/meetingParticipants/{participantId}", get_participant, methods=["GET"]),
                Route("/v1/meetings", list_meetings, methods=["GET"]),
                Route("/v1/meetings/{meetingId}", get_meeting, methods=["GET"]),
                Route(ACCESS_TOKEN_PATH, access_token, methods=["POST"]),
            ],
            exception_handlers={ApiError: _api_error, HTTPException: _http_error},
        )
        self.router.state.sandbox = sandbox
        self.state = self.router.state

    def add_token(self, token: str, role: str | Role) -> None:
        self.sandbox.add_token(token, role)

    def add_integration(
        self, client_id: str, client_secret: str, refresh_token: str, role: str | Role
    ) -> None:
        self.sandbox.add_integration(client_id, client_secret, refresh_token, role)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.router(scope, receive, send)
            return
        tracking_id = f"SANDBOX_{uuid.uuid4()}"
        scope["sandbox.tracking_id"] = tracking_id

        async def send_with_tracking(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [
                    *message.get("headers", []),
                    (b"trackingid", tracking_id.encode()),
                ]
            await send(message)

        if scope["path"] == ACCESS_TOKEN_PATH:
            # The integration authenticates with its form fields: no bearer token, and no
            # per-token rate limit or fault (both are keyed by the bearer token).
            await self.router(scope, receive, send_with_tracking)
            return
        sandbox = self.sandbox
        token = _bearer(scope) or ""
        role = sandbox.role_of(token) if token else None
        if role is None:
            await _send_error(send, 401, ERROR_TEXT[401], tracking_id)
            return
        scope["sandbox.role"] = role
        wait = sandbox.limiter.check(token, sandbox.clock())
        if wait is not None:
            await _send_error(
                send,
                429,
                "Too many requests for this token; retry later.",
                tracking_id,
                {"Retry-After": str(wait)},
            )
            return
        spec = sandbox.faults
        if spec.injects or spec.latency:
            query = scope.get("query_string", b"").decode("latin-1")
            target = scope["path"] + ("?" + query if query else "")
            attempt = sandbox.attempts.next(token, target) if spec.injects else 0
            decision = decide(spec, token, target, attempt)
            if decision.delay:
                await asyncio.sleep(decision.delay)
            if decision.kind == "drop":
                await _drop(scope)
                return
            if decision.kind is not None:
                status = int(decision.kind)
                extra = {"Retry-After": decision.retry_after} if decision.retry_after else {}
                await _send_error(send, status, ERROR_TEXT[status], tracking_id, extra)
                return
        await self.router(scope, receive, send_with_tracking)


def _bearer(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            text = bytes(value).decode("latin-1").strip()
            if text[:7].lower() == "bearer " and text[7:].strip():
                return text[7:].strip()
            return None
    return None


async def _send_error(
    send: Send,
    status: int,
    description: str,
    tracking_id: str,
    headers: Mapping[str, str] | None = None,
) -> None:
    body = error_body(status, description, tracking_id)
    raw = [
        (b"content-type", JSON_TYPE.encode()),
        (b"content-length", str(len(body)).encode()),
        (b"trackingid", tracking_id.encode()),
    ]
    raw += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


async def _drop(scope: Scope) -> None:
    transport = scope.get("sandbox.transport")
    if transport is None:
        # In process (httpx.ASGITransport) there is no socket to close: raise what httpx
        # raises when a real server hangs up without answering.
        import httpx

        raise httpx.RemoteProtocolError("Server disconnected without sending a response.")
    transport.abort()
    # Let the protocol see connection_lost before we return, so it does not answer 500.
    for _ in range(3):
        await asyncio.sleep(0)


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    tracking_id = request.scope.get("sandbox.tracking_id", "")
    return Response(
        error_body(exc.status, exc.description, tracking_id, exc.message),
        status_code=exc.status,
        media_type=JSON_TYPE,
        headers=exc.headers,
    )


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    tracking_id = request.scope.get("sandbox.tracking_id", "")
    text = ERROR_TEXT.get(exc.status_code, str(exc.detail))
    return Response(
        error_body(exc.status_code, text, tracking_id),
        status_code=exc.status_code,
        media_type=JSON_TYPE,
    )


def create_app(
    dataset: Mapping[str, Any] | Index,
    faults: FaultSpec | str | None = None,
    clock: Callable[[], float] | None = None,
    *,
    token_lifetime: float = ACCESS_TOKEN_LIFETIME,
    refresh_token_lifetime: float = REFRESH_TOKEN_LIFETIME,
) -> SandboxApp:
    """The sandbox as an ASGI app; ``faults`` None uses the dataset's own ``faults`` key.

    ``clock`` (monotonic seconds) drives the rate limiter and token expiry; tests pass a
    fake one. ``token_lifetime`` / ``refresh_token_lifetime``: seconds an access token
    minted by ``POST /access_token`` / a registered refresh token lives.
    """
    index = dataset if isinstance(dataset, Index) else build_index(dataset)
    if isinstance(faults, FaultSpec):
        spec = faults
    else:
        spec = parse_faults(faults if faults is not None else index.faults)
    sandbox = Sandbox(
        index,
        spec,
        clock or time.monotonic,
        token_lifetime=token_lifetime,
        refresh_token_lifetime=refresh_token_lifetime,
    )
    return SandboxApp(sandbox)
