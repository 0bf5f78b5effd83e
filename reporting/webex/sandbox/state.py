"""The state one sandbox app keeps: the dataset's index, tokens and OAuth integrations,
the rate limiter and fault attempts, and each instance's participant page cache."""

from __future__ import annotations

import hmac
import secrets
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from reporting.webex.sandbox.conventions import PARTICIPANT_TIMES, _render_time, _zone, encode_json
from reporting.webex.sandbox.dataset import (
    EPOCH_SENTINEL,
    DatasetError,
    Index,
    Json,
    Role,
    parse_role,
    parse_time,
)
from reporting.webex.sandbox.faults import Attempts, FaultSpec, RateLimiter

ACCESS_TOKEN_LIFETIME = 14 * 24 * 3600.0  # an integration's access token: about 14 days
REFRESH_TOKEN_LIFETIME = 90 * 24 * 3600.0  # its refresh token: about 90 days


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
            return encode_json(self.participant_view(record, meeting, zone, compliance))

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

    def participant_view(
        self, record: Json, meeting: Json, zone: ZoneInfo | None, compliance: bool
    ) -> Json:
        """What a caller may see of a stored record, timestamps in ``zone``."""
        ended = meeting.get("state") != "inProgress"
        if ended and compliance and zone is None:
            # Nothing to hide and no time to convert: the record goes out as stored.
            return _as_stored(record)
        view = {k: v for k, v in record.items() if k[:1] != "_"}
        if ended:
            view.pop("orgId", None)
        else:
            view["orgId"] = self.index.org_id
            view.setdefault("state", "joined")
            view.pop("breakoutSessionsAttended", None)
            if "leftTime" in view:
                view["leftTime"] = EPOCH_SENTINEL
        if "devices" in view:
            phones = compliance and ended
            view["devices"] = [
                _device_view(d, zone, phones, ended) for d in view.get("devices") or []
            ]
        if "breakoutSessionsAttended" in view:
            view["breakoutSessionsAttended"] = [
                {k: _render_time(v, zone) if k in _DEVICE_TIMES else v for k, v in b.items()}
                for b in view["breakoutSessionsAttended"]
            ]
        for key in PARTICIPANT_TIMES:
            if key in view:
                view[key] = _render_time(view[key], zone)
        return view


_DEVICE_TIMES = ("joinedTime", "leftTime")


def _as_stored(record: Json) -> Json:
    """An ended meeting's record for a compliance officer in UTC: the stored record itself
    when it holds nothing to leave out (no ``orgId``, no key of the sandbox's own, devices
    a list), else a copy without those."""
    devices = record.get("devices", ())
    if "orgId" not in record and devices is not None and not any(k[:1] == "_" for k in record):
        return record if devices or devices == () or devices == [] else {**record, "devices": []}
    view = {k: v for k, v in record.items() if k[:1] != "_"}
    view.pop("orgId", None)
    if "devices" in view and not view["devices"]:
        view["devices"] = []
    return view


def _device_view(device: Json, zone: ZoneInfo | None, phones: bool, ended: bool) -> Json:
    shown = dict(device)
    if not phones:
        shown.pop("phoneNumber", None)
    if not ended and "leftTime" in shown:
        shown["leftTime"] = EPOCH_SENTINEL
    for key in _DEVICE_TIMES:
        if key in shown:
            shown[key] = _render_time(shown[key], zone)
    return shown


def _join_stamp(record: Mapping[str, Any]) -> float | None:
    value = record.get("joinedTime")
    if not value:
        return None
    try:
        stamp = parse_time(str(value)).timestamp()
    except ValueError:
        return None
    return None if stamp == 0 else stamp


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
