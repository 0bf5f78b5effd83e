"""The conventions every sandbox endpoint shares: Webex's error shape, times in the
``timezone`` header's zone, ``max``, opaque cursors and ``Link`` headers, roles and
``hostEmail``."""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl, urlencode
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from reporting.webex.sandbox.dataset import Json, Role, parse_time

JSON_TYPE = "application/json"
MEETINGS_TYPE = "application/json;charset=UTF-8"
FORM_TYPE = "application/x-www-form-urlencoded"
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


# One encoder for every answer: msgspec writes a participant in a fraction of the time
# json.dumps takes, and the sandbox's CPU is shared with the client it serves.
_ENCODER = msgspec.json.Encoder()
encode_json = _ENCODER.encode


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
    return encode_json(
        {
            "message": message,
            "errors": [{"description": description}],
            "trackingId": tracking_id,
        }
    )


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
    body = encode_json(payload)
    return Response(body, media_type=media_type, headers=dict(headers or {}))
