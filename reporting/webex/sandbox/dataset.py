"""The sandbox dataset: what the simulated Webex org holds.

File format (JSON, UTF-8)::

    {
      "now": "2026-11-03T09:00:00Z",          # optional; the server clock for every
                                                # default that says "current time"
                                                # (absent: the real wall clock)
      "org": {"orgId": "...", "siteUrl": "example.webex.com"},   # optional
      "tokens": {                               # bearer token -> role
        "tok-admin": "admin",                   #   sees every meeting, may pass hostEmail
        "tok-compliance": "compliance",         #   like admin, and sees devices[].phoneNumber
                                                #   of ended meetings
        "tok-host": "host:trainer@example.com"  #   sees only meetings it hosts
      },
      "meetings": [ ... ],                      # Meeting objects in the API's own shape
      "participants": {"<instance id>": [ ... ]},   # Participant objects, API shape
      "invitees": {"<meeting id>": [ ... ]},    # optional; invitee objects (email,
                                                # displayName, coHost, panelist) of a
                                                # series, scheduled meeting or instance
      "registrants": {"<series id>": [ ... ]},  # optional; Registrant objects (email,
                                                # firstName, lastName, status, ...)
      "faults": "seed=7,429=5%"                 # optional, the --faults SPEC syntax
    }

``meetings`` holds three kinds, told apart by ``meetingType``:

- ``meetingSeries`` — ``id`` is 32 hex digits; ``start``/``end`` are the first occurrence.
- ``scheduledMeeting`` — ``id`` is ``<series>_<YYYYMMDDTHHMMSSZ>``, with ``meetingSeriesId``.
- ``meeting`` — an instance that happened: ``id`` is ``<series>_I_<digits>``, with
  ``meetingSeriesId``, ``scheduledMeetingId`` (may be absent for ad-hoc instances),
  ``state`` ``ended`` or ``inProgress``, ``start``/``end`` the actual times.

Each needs ``id``, ``meetingType``, ``title``, ``start``, ``end`` and ``hostEmail``; every
other field the OpenAPI schema requires (``password``, ``timezone``, ``hostUserId``,
``siteUrl``, ``webLink``, ``telephony`` ...) is filled with a plausible value on load, so
hand-written test datasets stay short. ``scheduledType`` is ``meeting`` (default),
``webinar`` or ``personalRoomMeeting``.

``participants`` are stored as the API returns them to a compliance officer after the
meeting ended: ``devices[].phoneNumber`` present, ``breakoutSessionsAttended`` present.
The app strips what a role or meeting state must not show. Timestamps are stored in UTC
(``Z``); the app renders them in the ``timezone`` header's zone. Keys starting with ``_``
are the sandbox's own and never sent:

- ``_panelist: true`` — a designated webinar panelist;
- ``_unmuted: true`` — a webinar attendee who was unmuted to speak (counts as panelist
  while the webinar is in progress).

``invitees`` of an instance are its own list when it has one, else its scheduled
meeting's, else its series' (an occurrence is sent to whoever the series invites);
``id`` and ``meetingId`` are filled in when served. ``registrants`` belong to series ids.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from reporting.errors import ConfigError

Dataset = dict[str, Any]
Json = dict[str, Any]

SERIES_ID = re.compile(r"^[0-9a-f]{32}$")
ROLES = ("admin", "compliance")
EPOCH_SENTINEL = "1970-01-01T00:00:00.000Z"


class DatasetError(ConfigError):
    """A sandbox dataset file is unreadable or does not follow the format above."""


@dataclass(frozen=True)
class Role:
    """What a token may do: ``kind`` is admin, compliance or host."""

    kind: str
    email: str | None = None

    @property
    def is_admin_level(self) -> bool:
        return self.kind in ROLES

    def __str__(self) -> str:
        return f"host:{self.email}" if self.kind == "host" else self.kind


def parse_role(text: str) -> Role:
    """``admin`` | ``compliance`` | ``host:EMAIL`` → Role; raises DatasetError."""
    value = text.strip()
    if value in ROLES:
        return Role(value)
    if value.startswith("host:") and "@" in value[5:]:
        return Role("host", value[5:].strip().lower())
    raise DatasetError(f"unknown token role {text!r}", hint="use admin, compliance or host:EMAIL")


def parse_time(value: str) -> datetime:
    """Any ISO 8601 form the API accepts; naive values are UTC. Raises ValueError."""
    text = value.strip()
    if text.endswith(("z", "Z")):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def utc_text(moment: datetime, *, millis: bool = False) -> str:
    """The API's UTC form: ``2026-10-06T08:00:00Z`` (``.000Z`` with ``millis``)."""
    spec = "milliseconds" if millis else "seconds"
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec=spec) + "Z"


def load_dataset(path: Path | str) -> Dataset:
    """Read and check a dataset file."""
    source = Path(path)
    try:
        data = json.loads(source.read_text(encoding="utf-8"))
    except OSError as exc:
        raise DatasetError(f"{source}: cannot read the sandbox dataset: {exc}") from exc
    except json.JSONDecodeError as exc:
        raise DatasetError(f"{source}:{exc.lineno}: not valid JSON: {exc.msg}") from exc
    check_dataset(data, str(source))
    return dict(data)


def save_dataset(data: Mapping[str, Any], path: Path | str) -> None:
    """Write a dataset compactly (large generated datasets stay fast to load)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("w", encoding="utf-8") as out:
        json.dump(data, out, ensure_ascii=False, separators=(",", ":"))
        out.write("\n")


_TOP_KEYS = frozenset(
    ("now", "org", "tokens", "meetings", "participants", "faults", "invitees", "registrants")
)


def check_dataset(data: Any, where: str = "dataset") -> None:
    """Raise DatasetError naming the first thing that breaks the format."""
    if not isinstance(data, dict):
        raise DatasetError(f"{where}: the top level must be a JSON object")
    unknown = set(data) - _TOP_KEYS
    if unknown:
        raise DatasetError(f"{where}: unknown key(s) {sorted(unknown)}")
    if data.get("now") is not None:
        try:
            parse_time(str(data["now"]))
        except ValueError as exc:
            raise DatasetError(f"{where}: now: not an ISO 8601 time") from exc
    _check_tokens(data.get("tokens", {}), where)
    seen = _check_meetings(data.get("meetings", []), where)
    participants = data.get("participants", {})
    if not isinstance(participants, dict):
        raise DatasetError(f"{where}: participants must map instance id -> list")
    for instance_id, items in participants.items():
        if instance_id not in seen:
            raise DatasetError(f"{where}: participants[{instance_id}]: no such meeting")
        if not isinstance(items, list) or not all(isinstance(p, dict) for p in items):
            raise DatasetError(f"{where}: participants[{instance_id}] must be a list of objects")
    for key in ("invitees", "registrants"):
        _check_people(key, data.get(key, {}), seen, where)


def _check_tokens(tokens: Any, where: str) -> None:
    if not isinstance(tokens, dict):
        raise DatasetError(f"{where}: tokens must map token -> role")
    for token, role in tokens.items():
        try:
            parse_role(str(role))
        except DatasetError as exc:
            raise DatasetError(f"{where}: tokens[{token[:4]}…]: {exc.message}") from exc


def _check_meetings(meetings: Any, where: str) -> set[str]:
    """The meetings' ids, once each is checked."""
    if not isinstance(meetings, list):
        raise DatasetError(f"{where}: meetings must be a list")
    seen: set[str] = set()
    for number, meeting in enumerate(meetings):
        if not isinstance(meeting, dict):
            raise DatasetError(f"{where}: meetings[{number}] must be an object")
        for key in ("id", "meetingType", "title", "start", "end", "hostEmail"):
            if key not in meeting:
                raise DatasetError(f"{where}: meetings[{number}]: missing {key!r}")
        if meeting["meetingType"] not in ("meetingSeries", "scheduledMeeting", "meeting"):
            raise DatasetError(
                f"{where}: meetings[{number}].meetingType: {meeting['meetingType']!r}"
            )
        if meeting["id"] in seen:
            raise DatasetError(f"{where}: meetings[{number}]: duplicate id {meeting['id']}")
        seen.add(meeting["id"])
        for key in ("start", "end"):
            try:
                parse_time(str(meeting[key]))
            except ValueError as exc:
                raise DatasetError(f"{where}: meetings[{number}].{key}: not ISO 8601") from exc
    return seen


def _check_people(key: str, lists: Any, seen: set[str], where: str) -> None:
    """``invitees`` or ``registrants``: meeting id -> objects with an email."""
    if not isinstance(lists, dict):
        raise DatasetError(f"{where}: {key} must map meeting id -> list")
    for meeting_id, items in lists.items():
        if meeting_id not in seen:
            raise DatasetError(f"{where}: {key}[{meeting_id}]: no such meeting")
        if not isinstance(items, list) or not all(
            isinstance(p, dict) and isinstance(p.get("email"), str) for p in items
        ):
            raise DatasetError(
                f"{where}: {key}[{meeting_id}] must be a list of objects with an email"
            )


_TELEPHONY = {
    "accessCode": "1234567890",
    "callInNumbers": [{"label": "DE Toll", "callInNumber": "+49-69-2222-1234", "tollType": "toll"}],
    "links": [],
}


def complete_meeting(meeting: Mapping[str, Any], site_url: str) -> Json:
    """Fill the fields the schema requires that a dataset may leave out."""
    full = dict(meeting)
    number = (
        str(int(str(full["id"])[:8], 16) % 10**10).rjust(10, "2")
        if SERIES_ID.match(str(full["id"])[:32])
        else "2000000000"
    )
    host = str(full["hostEmail"])
    full.setdefault("meetingSeriesId", str(full["id"])[:32])
    full.setdefault("meetingNumber", number)
    full.setdefault("password", "Tr41ning!")
    full.setdefault("phoneAndVideoSystemPassword", "87246464")
    full.setdefault("state", "ended" if full["meetingType"] == "meeting" else "active")
    full.setdefault("timezone", "UTC")
    full.setdefault("scheduledType", "meeting")
    full.setdefault("hostDisplayName", host.split("@")[0].replace(".", " ").title())
    full.setdefault("hostUserId", "Y2lzY29zcGFyazovL3VzL1BFT1BMRS9" + number)
    full.setdefault("hostKey", number[-6:])
    full.setdefault("siteUrl", site_url)
    full.setdefault("webLink", f"https://{site_url}/{site_url.split('.')[0]}/j.php?MTID=m{number}")
    full.setdefault("sipAddress", f"{number}@{site_url}")
    full.setdefault("telephony", _TELEPHONY)
    full.setdefault("enabledBreakoutSessions", False)
    return full


@dataclass
class Index:
    """A dataset precomputed for serving: lookups, orderings, roles."""

    now: datetime | None
    org_id: str
    site_url: str
    tokens: dict[str, Role]
    meetings: dict[str, Json]
    ordered_meetings: list[Json]
    instances_of: dict[str, list[Json]]
    participants: dict[str, list[Json]]
    participant_by_id: dict[str, tuple[str, int]]
    faults: str | None
    starts: dict[str, datetime] = field(default_factory=dict)
    ends: dict[str, datetime] = field(default_factory=dict)
    invitees: dict[str, list[Json]] = field(default_factory=dict)  # sorted by email
    registrants: dict[str, list[Json]] = field(default_factory=dict)

    def invitees_of(self, meeting: Json) -> list[Json]:
        """A meeting's invitees: its own, else its scheduled meeting's, else its series'."""
        for key in ("id", "scheduledMeetingId", "meetingSeriesId"):
            owner = meeting.get(key)
            if owner and owner in self.invitees:
                return self.invitees[str(owner)]
        return []

    def is_invited(self, meeting: Json, email: str) -> bool:
        return any(str(i["email"]).lower() == email for i in self.invitees_of(meeting))


def build_index(data: Mapping[str, Any]) -> Index:
    """Precompute everything the app needs per request (sorted lists, parsed times)."""
    check_dataset(dict(data))
    org = data.get("org") or {}
    site_url = str(org.get("siteUrl", "example.webex.com"))
    meetings = {m["id"]: complete_meeting(m, site_url) for m in data.get("meetings", [])}
    starts = {mid: parse_time(m["start"]) for mid, m in meetings.items()}
    ends = {mid: parse_time(m["end"]) for mid, m in meetings.items()}
    ordered = sorted(meetings.values(), key=lambda m: (starts[m["id"]], m["id"]))
    instances_of: dict[str, list[Json]] = {}
    for meeting in ordered:
        if meeting["meetingType"] != "meeting":
            continue
        for parent in {meeting.get("meetingSeriesId"), meeting.get("scheduledMeetingId")}:
            if parent and parent != meeting["id"]:
                instances_of.setdefault(str(parent), []).append(meeting)
    participants: dict[str, list[Json]] = {}
    by_id: dict[str, tuple[str, int]] = {}
    for instance_id, items in data.get("participants", {}).items():
        # A deterministic order (join time, then id) makes cursors positions, not state.
        ordered_items = sorted(items, key=_participant_order)
        participants[instance_id] = ordered_items
        for position, item in enumerate(ordered_items):
            if "id" in item:
                by_id[str(item["id"])] = (instance_id, position)
    now = parse_time(data["now"]) if data.get("now") else None
    tokens = {str(t): parse_role(str(r)) for t, r in (data.get("tokens") or {}).items()}
    return Index(
        now=now,
        org_id=str(org.get("orgId", "1eb65fdf-9643-417f-9974-ad72cae0e10f")),
        site_url=site_url,
        tokens=tokens,
        meetings=meetings,
        ordered_meetings=ordered,
        instances_of=instances_of,
        participants=participants,
        participant_by_id=by_id,
        faults=data.get("faults"),
        starts=starts,
        ends=ends,
        invitees={
            str(mid): sorted(items, key=lambda i: (str(i["email"]).lower(), str(i.get("id", ""))))
            for mid, items in (data.get("invitees") or {}).items()
        },
        registrants={
            str(mid): list(items) for mid, items in (data.get("registrants") or {}).items()
        },
    )


def _participant_order(item: Mapping[str, Any]) -> tuple[float, str]:
    joined = item.get("joinedTime")
    try:
        stamp = parse_time(str(joined)).timestamp() if joined else 0.0
    except ValueError:
        stamp = 0.0
    return (stamp, str(item.get("id", "")))
