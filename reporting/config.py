"""The config file: YAML → validated, frozen models; every error names file, line and key.

What users write is documented in DESIGN.md ("The config"); this module also accepts the
keys the architecture adds (see each model's docstring). Loading happens in three passes
so that every problem can be reported as ``file:line: key.path: problem (how to fix)``:

1. PyYAML composes the node tree; the line of every mapping key and sequence item is
   recorded under its key path (``("meetings", 0, "roster")``).
2. The node tree is checked against the keys the models accept, so an unknown key gets a
   "did you mean" hint and the exact line before pydantic sees anything.
3. Pydantic validates; each error's ``loc`` is a key path, looked up in the line table.

Secrets never enter a config: only the *names* of environment variables do. The values are
read at run time by :func:`resolve_token` and :func:`resolve_smtp_credentials`.
"""

from __future__ import annotations

import calendar
import contextlib
import difflib
import hashlib
import os
import re
import types
import typing
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from email.utils import parseaddr
from fractions import Fraction
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    Strict,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from reporting.errors import ConfigError
from reporting.render.formats import FORMATS, choices_text
from reporting.safe_files import DEFAULT_MODE, parse_mode

__all__ = [
    "COMPLIANCE",
    "Config",
    "EmailConfig",
    "MatchSpec",
    "MeetingEntry",
    "OAuthConfig",
    "PdfOptions",
    "Period",
    "ReportSpec",
    "Rules",
    "SigningConfig",
    "SmtpConfig",
    "SmtpCredentials",
    "Threshold",
    "WebexConfig",
    "format_duration",
    "load_config",
    "parse_duration",
    "parse_period_arg",
    "parse_threshold",
    "resolve_smtp_credentials",
    "resolve_token",
]

COMPLIANCE = "compliance"
DEFAULT_BASE_URL = "https://webexapis.com/v1"
SANDBOX = "sandbox"

Loc = tuple[str | int, ...]

_MODEL_CONFIG = ConfigDict(
    frozen=True,
    extra="forbid",
    # YAML uses the short keys (aliases); code and tests may use the descriptive names.
    validate_by_alias=True,
    validate_by_name=True,
    arbitrary_types_allowed=True,
)

StrictInt = Annotated[int, Strict()]
StrictBool = Annotated[bool, Strict()]
StrictStr = Annotated[str, Strict()]
PositiveInt = Annotated[int, Strict(), Field(gt=0)]
PositiveFloat = Annotated[float, Strict(), Field(gt=0)]


# --------------------------------------------------------------------------- helpers


def _bad(message: str, hint: str | None = None) -> PydanticCustomError:
    """A validation error whose text is already user-facing (no pydantic prefix)."""
    return PydanticCustomError("config", "{message}", {"message": message, "hint": hint or ""})


class _LocatedError(ConfigError):
    """Raised from validators that know a deeper key than pydantic's ``loc`` would give
    (e.g. *which* item of a list is the duplicate). Pydantic lets it through unwrapped,
    and :func:`load_config` adds file and line; built directly, it is a plain ConfigError.
    """

    def __init__(self, loc: Loc, problem: str, hint: str | None = None) -> None:
        super().__init__(f"{_key_path(loc)}: {problem}", hint=hint)
        self.loc = loc
        self.problem = problem


def _key_path(loc: Loc) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


def _ctx(info: ValidationInfo) -> dict[str, Any]:
    return info.context if isinstance(info.context, dict) else {}


def _resolve_path(value: Any, info: ValidationInfo, what: str) -> Path:
    if isinstance(value, Path):
        path = value
    elif isinstance(value, str) and value.strip():
        path = Path(value.strip())
    else:
        raise _bad(f"expected a path, got {_show(value)}", f"write the {what} as a file path")
    path = path.expanduser()
    base = _ctx(info).get("base")
    if not path.is_absolute() and isinstance(base, Path):
        path = base / path
    # normpath rather than resolve(): keep symlinks as the user wrote them, drop the `..`.
    return Path(os.path.normpath(path)) if path.is_absolute() else path


def _checks_files(info: ValidationInfo) -> bool:
    return bool(_ctx(info).get("check_files", False))


def _show(value: Any) -> str:
    text = repr(value.isoformat() if isinstance(value, date) else value)
    return text if len(text) <= 60 else text[:57] + "...'"


_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _env_name(value: Any, *, required: bool = True) -> str | None:
    if value is None and not required:
        return None
    # Never echo the value: a user who pasted the token itself here must not see it in
    # logs or CI output.
    if not isinstance(value, str) or not _ENV_NAME.match(value.strip()):
        raise _bad(
            "expected the NAME of an environment variable (letters, digits, _)",
            "never put a secret in the config: export it, e.g. WEBEX_TOKEN=..., "
            "and write that variable's name here",
        )
    return value.strip()


_EMAIL = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$")


def _email(value: Any, *, allow_display_name: bool = False) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _bad(f"expected an email address, got {_show(value)}")
    text = value.strip()
    address = parseaddr(text)[1] if allow_display_name else text
    if not _EMAIL.match(address):
        raise _bad(
            f"not an email address: {_show(text)}",
            "write it like name@example.com",
        )
    return text


# --------------------------------------------------------------------------- durations


_DURATION = re.compile(r"^(?:(\d+)\s*h)?\s*(?:(\d+)\s*m)?\s*(?:(\d+)\s*s)?$")
_DURATION_HINT = "write durations like 45m, 1h30m or 90s"


def parse_duration(text: Any) -> int:
    """``45m`` / ``1h30m`` / ``90s`` / ``0m`` → seconds. Bare numbers are refused: whether
    ``5`` means seconds or minutes is exactly the ambiguity an audit must not have."""
    if isinstance(text, bool) or not isinstance(text, str):
        raise _bad(f"not a duration: {_show(text)}", _DURATION_HINT + " (a number needs a unit)")
    match = _DURATION.match(text.strip().lower())
    if not text.strip() or match is None or not any(match.groups()):
        raise _bad(f"not a duration: {_show(text)}", _DURATION_HINT)
    hours, minutes, seconds = (int(g) if g else 0 for g in match.groups())
    return hours * 3600 + minutes * 60 + seconds


def format_duration(seconds: int) -> str:
    """Seconds → the config's own notation (``1h30m``, ``45m``, ``90s`` → ``1m30s``)."""
    if seconds == 0:
        return "0m"
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [
        f"{hours}h" if hours else "",
        f"{minutes}m" if minutes else "",
        f"{secs}s" if secs else "",
    ]
    return "".join(parts)


# --------------------------------------------------------------------------- period


class Period(BaseModel):
    """The audited time range: ``[start, end)``, midnight to midnight in ``timezone``.

    ``start`` / ``end`` are aware UTC datetimes; ``first_day`` / ``end_day`` are the local
    calendar dates they came from (``end_day`` exclusive). ``label`` names output folders
    and the email ledger (``2026-10`` for a calendar month, else
    ``2026-10-01_2026-11-01``); ``display`` is for humans.
    """

    model_config = _MODEL_CONFIG

    start: datetime
    end: datetime
    label: str
    display: str
    timezone: str = "UTC"
    first_day: date
    end_day: date

    @classmethod
    def between(
        cls, from_: date, to: date, tz: str | ZoneInfo, *, option: str = "--from/--to"
    ) -> Period:
        """Local midnight of ``from_`` (inclusive) to local midnight of ``to`` (exclusive).

        Raises :class:`ConfigError` naming ``option`` when the range is empty or reversed.
        """
        zone = tz if isinstance(tz, ZoneInfo) else _zone(tz)
        if isinstance(from_, datetime) or isinstance(to, datetime):
            from_, to = _as_date(from_), _as_date(to)
        if not from_ < to:
            raise ConfigError(
                f"{option}: the period is empty: from {from_.isoformat()} is not before "
                f"to {to.isoformat()}",
                hint="`to` is exclusive: October 2026 is from 2026-10-01 to 2026-11-01",
            )
        start = datetime.combine(from_, time(0), tzinfo=zone).astimezone(UTC)
        end = datetime.combine(to, time(0), tzinfo=zone).astimezone(UTC)
        is_month = from_.day == 1 and to == _next_month(from_)
        if is_month:
            label = f"{from_.year:04d}-{from_.month:02d}"
            display = f"{calendar.month_name[from_.month]} {from_.year} ({zone.key})"
        else:
            label = f"{from_.isoformat()}_{to.isoformat()}"
            last = date.fromordinal(to.toordinal() - 1)
            shown = _day(from_) if last == from_ else f"{_day(from_)} – {_day(last)}"
            display = f"{shown} ({zone.key})"
        return cls(
            start=start,
            end=end,
            label=label,
            display=display,
            timezone=zone.key,
            first_day=from_,
            end_day=to,
        )

    @classmethod
    def month(cls, year: int, month: int, tz: str | ZoneInfo) -> Period:
        first = date(year, month, 1)
        return cls.between(first, _next_month(first), tz, option="--period")

    @classmethod
    def last_month(cls, tz: str | ZoneInfo, now: datetime | None = None) -> Period:
        """The calendar month before the one ``now`` falls in, in zone ``tz``."""
        zone = tz if isinstance(tz, ZoneInfo) else _zone(tz)
        moment = now if now is not None else datetime.now(UTC)
        if moment.tzinfo is None:
            raise ValueError("last_month needs an aware 'now'")
        local = moment.astimezone(zone)
        year, month = (local.year, local.month - 1) if local.month > 1 else (local.year - 1, 12)
        return cls.month(year, month, zone)

    def in_zone(self, tz: str | ZoneInfo, *, option: str = "--period") -> Period:
        """The same calendar dates anchored at midnight in another zone."""
        return Period.between(self.first_day, self.end_day, tz, option=option)

    def contains(self, moment: datetime) -> bool:
        return self.start <= moment < self.end


def _day(d: date) -> str:
    return f"{d.day} {calendar.month_abbr[d.month]} {d.year}"


def _next_month(d: date) -> date:
    return date(d.year + 1, 1, 1) if d.month == 12 else date(d.year, d.month + 1, 1)


def _as_date(value: date) -> date:
    return value.date() if isinstance(value, datetime) else value


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(
            f"unknown time zone {name!r}", hint="use an IANA name such as Europe/Berlin"
        ) from exc


_MONTH_ARG = re.compile(r"^(\d{4})-(\d{2})$")


def parse_period_arg(value: str, tz: str | ZoneInfo = "UTC") -> Period:
    """``--period 2026-10`` → that calendar month.

    ``tz`` defaults to UTC because the command line is parsed before the config is read;
    :func:`load_config` re-anchors an override to the config's zone by its calendar dates,
    so the result is always midnight to midnight in ``timezone``.
    """
    match = _MONTH_ARG.match(value.strip())
    month = int(match.group(2)) if match else 0
    if match is None or not 1 <= month <= 12:
        raise ConfigError(
            f"--period: {value!r} is not a calendar month",
            hint="write the month as YYYY-MM, e.g. --period 2026-10",
        )
    return Period.month(int(match.group(1)), month, tz)


def _parse_period(value: Any, zone: ZoneInfo, now: datetime | None) -> Period:
    if isinstance(value, Period):
        return value.in_zone(zone)
    if isinstance(value, str) and value.strip() == "last-month":
        return Period.last_month(zone, now)
    month = _MONTH_ARG.match(value.strip()) if isinstance(value, str) else None
    if month is not None and 1 <= int(month.group(2)) <= 12:
        # `period: 2026-10` reads like `--period 2026-10`; accept it the same way.
        return Period.month(int(month.group(1)), int(month.group(2)), zone)
    if isinstance(value, dict):
        missing = [k for k in ("from", "to") if k not in value]
        if missing:
            raise _bad(
                f"missing {' and '.join(repr(k) for k in missing)}",
                "write period: {from: 2026-10-01, to: 2026-11-01}",
            )
        ends: list[date] = []
        for key in ("from", "to"):
            raw = value[key]
            if isinstance(raw, str):
                with contextlib.suppress(ValueError):
                    raw = date.fromisoformat(raw.strip())
            if not isinstance(raw, date) or isinstance(raw, datetime):
                raise _bad(
                    f"{key}: not a date: {_show(raw)}", "write dates as YYYY-MM-DD, e.g. 2026-10-01"
                )
            ends.append(raw)
        if not ends[0] < ends[1]:
            raise _bad(
                f"from {ends[0].isoformat()} is not before to {ends[1].isoformat()}",
                "`to` is exclusive: October 2026 is {from: 2026-10-01, to: 2026-11-01}",
            )
        return Period.between(ends[0], ends[1], zone, option="period")
    raise _bad(
        f"not a period: {_show(value)}",
        "write `last-month`, a month such as 2026-10, or {from: 2026-10-01, to: 2026-11-01}",
    )


# --------------------------------------------------------------------------- models


class Threshold(BaseModel):
    """``rules.min_attendance``: exactly one of a share (``percent``, e.g. ``Fraction(80)``
    for ``80%``, ``Fraction(175, 2)`` for ``87.5%``) or a duration in ``seconds``.

    In YAML it is one string: ``80%`` / ``87.5%`` (0 < p ≤ 100) or ``45m`` / ``1h30m``.
    """

    model_config = _MODEL_CONFIG

    percent: Fraction | None = None
    seconds: int | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, data: Any) -> Any:
        if isinstance(data, (str, int, float)) and not isinstance(data, bool):
            return _threshold_fields(data)
        return data

    @field_validator("percent", mode="before")
    @classmethod
    def _percent(cls, value: Any) -> Any:
        if value is None or isinstance(value, Fraction):
            return value
        if isinstance(value, bool):
            raise _bad(f"not a percentage: {_show(value)}")
        try:
            # via str: Fraction(87.5) is exact but Fraction(0.1) would not be
            return Fraction(str(value))
        except (ValueError, ZeroDivisionError):
            raise _bad(f"not a percentage: {_show(value)}", "write it like 80%") from None

    @model_validator(mode="after")
    def _one_of(self) -> Threshold:
        if (self.percent is None) == (self.seconds is None):
            raise _bad("give exactly one of a percentage or a duration", "e.g. 80% or 45m")
        if self.percent is not None and not 0 < self.percent <= 100:
            raise _bad(
                f"percentage must be above 0% and at most 100%, got {float(self.percent):g}%"
            )
        if self.seconds is not None and self.seconds <= 0:
            raise _bad("the minimum duration must be above 0", "e.g. 45m")
        return self

    def __str__(self) -> str:
        if self.percent is not None:
            return f"{float(self.percent):g}%"
        return format_duration(self.seconds or 0)


_PERCENT = re.compile(r"^(\d+(?:\.\d+)?)\s*%$")


def parse_threshold(text: str) -> Threshold:
    """``80%`` / ``87.5%`` → a share; ``45m`` → a duration (see :class:`Threshold`).
    Raises pydantic's ``ValidationError`` (a ``ValueError``) when ``text`` is neither."""
    return Threshold.model_validate(text)


def _threshold_fields(text: Any) -> dict[str, Any]:
    if not isinstance(text, str):
        raise _bad(
            f"not a percentage or duration: {_show(text)}",
            "write a percentage like 80% or a duration like 45m",
        )
    match = _PERCENT.match(text.strip())
    if match:
        return {"percent": Fraction(match.group(1))}
    if text.strip().endswith("%"):
        raise _bad(f"not a percentage: {_show(text)}", "write it like 80% or 87.5%")
    try:
        return {"seconds": parse_duration(text)}
    except PydanticCustomError:
        raise _bad(
            f"not a percentage or duration: {_show(text)}",
            "write a percentage like 80% or a duration like 45m or 1h30m",
        ) from None


class Rules(BaseModel):
    """The attendance rules (ATTENDANCE_RULES.md, rule 6): the minimum to count as
    attended, the grace before a join is "late" / a leave "early", and how many sessions
    of a course make it complete (``sessions_required``: ``None`` = all of them)."""

    model_config = _MODEL_CONFIG

    min_attendance: Threshold = Field(default_factory=lambda: Threshold(percent=Fraction(80)))
    late_grace_seconds: int = Field(300, alias="late_grace")
    early_leave_grace_seconds: int = Field(300, alias="early_leave_grace")
    sessions_required: int | None = None

    @field_validator("late_grace_seconds", "early_leave_grace_seconds", mode="before")
    @classmethod
    def _grace(cls, value: Any, info: ValidationInfo) -> Any:
        # Direct construction passes seconds; YAML must say its unit (see parse_duration).
        if isinstance(value, int) and not isinstance(value, bool) and not _ctx(info).get("yaml"):
            if value < 0:
                raise _bad("a grace cannot be negative")
            return value
        return parse_duration(value)

    @field_validator("sessions_required", mode="before")
    @classmethod
    def _sessions(cls, value: Any) -> Any:
        if value is None or (isinstance(value, str) and value.strip() == "all"):
            return None
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
        raise _bad(
            f"expected `all` or a positive whole number, got {_show(value)}",
            "e.g. sessions_required: all, or sessions_required: 3",
        )


class OAuthConfig(BaseModel):
    """``webex.oauth``: refresh the access token with an integration's credentials. Each
    key is the NAME of the environment variable holding the value."""

    model_config = _MODEL_CONFIG

    client_id_env: str
    client_secret_env: str
    refresh_token_env: str

    @field_validator("client_id_env", "client_secret_env", "refresh_token_env", mode="before")
    @classmethod
    def _names(cls, value: Any) -> Any:
        return _env_name(value)


class WebexConfig(BaseModel):
    """``webex``: where and how to call the API.

    Beyond DESIGN.md: ``timeout_seconds`` (per request, default 30), ``max_retries``
    (default 6), ``retry_after_ceiling_seconds`` (longest ``Retry-After`` honoured,
    default 120), ``sandbox_dataset`` / ``sandbox_role`` (with ``base_url: sandbox``: the
    dataset file for the bundled simulator and the role of the minted token — ``admin``,
    ``compliance`` or ``host:EMAIL``), and ``oauth`` (see :class:`OAuthConfig`).
    """

    model_config = _MODEL_CONFIG

    base_url: str = DEFAULT_BASE_URL
    token_env: str = "WEBEX_TOKEN"  # noqa: S105 - a variable name, not a secret
    host_email: str | None = None
    max_concurrency: PositiveInt = 8
    requests_per_minute: PositiveInt = 300
    timeout_seconds: PositiveFloat = 30.0
    max_retries: Annotated[int, Strict(), Field(ge=0)] = 6
    retry_after_ceiling_seconds: PositiveFloat = 120.0
    sandbox_dataset: Path | None = None
    sandbox_role: str = COMPLIANCE
    oauth: OAuthConfig | None = None

    @field_validator("base_url", mode="before")
    @classmethod
    def _base_url(cls, value: Any) -> Any:
        if isinstance(value, str) and value.strip() == SANDBOX:
            return SANDBOX
        if isinstance(value, str) and re.match(r"^https?://[^\s/]+", value.strip()):
            return value.strip().rstrip("/")
        raise _bad(
            f"not a URL: {_show(value)}",
            f"use {DEFAULT_BASE_URL} or `sandbox` for the bundled simulator",
        )

    @field_validator("token_env", mode="before")
    @classmethod
    def _token_env(cls, value: Any) -> Any:
        return _env_name(value)

    @field_validator("host_email", mode="before")
    @classmethod
    def _host_email(cls, value: Any) -> Any:
        return None if value is None else _email(value)

    @field_validator("sandbox_dataset", mode="before")
    @classmethod
    def _dataset(cls, value: Any, info: ValidationInfo) -> Any:
        return None if value is None else _resolve_path(value, info, "dataset")

    @field_validator("sandbox_role", mode="before")
    @classmethod
    def _role(cls, value: Any) -> Any:
        if isinstance(value, str):
            role = value.strip()
            if role in ("admin", COMPLIANCE):
                return role
            if role.startswith("host:"):
                _email(role[len("host:") :])
                return role
        raise _bad(f"unknown sandbox role {_show(value)}", "use admin, compliance or host:EMAIL")


_STEM = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9._-]*$")


RosterSource = Literal["invitees", "registrants"]
ROSTER_SOURCES: tuple[RosterSource, ...] = ("invitees", "registrants")
MATCH_TYPES = ("meeting", "webinar")


class MatchSpec(BaseModel):
    """``match:`` of a meetings entry (rule 16): every ended instance of the period whose
    title matches ``title`` (a case-insensitive shell-style pattern), whose host is one of
    ``hosts`` (each listed with ``hostEmail``) and whose ``scheduledType`` is ``type``."""

    model_config = _MODEL_CONFIG

    title: str | None = None
    hosts: tuple[str, ...] = ()
    type: Literal["meeting", "webinar"] | None = None

    @field_validator("title", mode="before")
    @classmethod
    def _title(cls, value: Any) -> Any:
        if value is None or (isinstance(value, str) and value.strip()):
            return value.strip() if isinstance(value, str) else None
        raise _bad(f"expected a title pattern, got {_show(value)}", 'e.g. "Security awareness*"')

    @field_validator("hosts", mode="before")
    @classmethod
    def _hosts(cls, value: Any) -> Any:
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, (list, tuple)) or not items:
            raise _bad(f"expected a list of host emails, got {_show(value)}", "or leave it out")
        return tuple(_email(item).lower() for item in items)

    @field_validator("type", mode="before")
    @classmethod
    def _type(cls, value: Any) -> Any:
        if value is None or value in MATCH_TYPES:
            return value
        raise _bad(f"unknown meeting type {_show(value)}", "use meeting or webinar")

    @model_validator(mode="after")
    def _something(self) -> MatchSpec:
        if self.title is None and not self.hosts and self.type is None:
            raise _bad("match selects every meeting", "give at least one of title, hosts, type")
        return self

    def describe(self) -> str:
        """One line naming what the match asks for (also its key in the store)."""
        parts = []
        if self.title is not None:
            parts.append(f"title={self.title!r}")
        if self.hosts:
            parts.append("hosts=" + ",".join(self.hosts))
        if self.type is not None:
            parts.append(f"type={self.type}")
        return "match " + " ".join(parts)


class MeetingEntry(BaseModel):
    """One ``meetings:`` entry: a series id (every ended instance in the period), a
    scheduled meeting id, or a single instance id (``..._I_...``); or, instead of ``id``,
    a ``match:`` (rule 16). ``title`` overrides the API's title in reports; ``course``
    groups entries; ``roster`` overrides the top-level ``roster`` for this entry: a CSV
    path (resolved against the config's folder) or a list of CSV paths and the sources
    ``invitees`` / ``registrants`` (rule 14)."""

    model_config = _MODEL_CONFIG

    id: str | None = None
    match: MatchSpec | None = None
    title: str | None = None
    course: str | None = None
    roster: tuple[Path | RosterSource, ...] | None = None

    @field_validator("id", mode="before")
    @classmethod
    def _id(cls, value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, str) and value.strip() and not re.search(r"\s", value.strip()):
            return value.strip()
        raise _bad(
            f"not a meeting id: {_show(value)}",
            "copy the id from Webex (a series id, or an instance id containing _I_)",
        )

    @field_validator("title", "course", mode="before")
    @classmethod
    def _text(cls, value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, str) and value.strip():
            return value.strip()
        raise _bad(f"expected non-empty text, got {_show(value)}", "leave the key out instead")

    @field_validator("roster", mode="before")
    @classmethod
    def _roster(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None:
            return None
        items = list(value) if isinstance(value, (list, tuple)) else [value]
        if not items:
            raise _bad("empty roster list", "name CSV files, invitees or registrants")
        out: list[Path | str] = []
        for number, item in enumerate(items):
            if isinstance(item, str) and item.strip().lower() in ROSTER_SOURCES:
                out.append(item.strip().lower())
                continue
            try:
                out.append(_roster_path(item, info))
            except PydanticCustomError as exc:
                where = f"item {number + 1}: " if len(items) > 1 else ""
                guess = _suggest(item.strip(), ROSTER_SOURCES) if isinstance(item, str) else None
                raise _bad(
                    where + str(exc.context["message"] if exc.context else exc),
                    f"did you mean {guess!r}?"
                    if guess
                    else "a CSV path (relative to the config's folder), invitees or registrants",
                ) from None
        return tuple(out)

    @model_validator(mode="after")
    def _one_selector(self) -> MeetingEntry:
        if (self.id is None) == (self.match is None):
            raise _bad(
                "give either id or match" if self.id is None else "give id or match, not both",
                'write `- id: <meeting id>` or `- match: {title: "Security awareness*"}`',
            )
        return self

    @property
    def ref(self) -> str:
        """How the entry is named in messages, the store and reports: its id or its match."""
        if self.id is not None:
            return self.id
        assert self.match is not None
        return self.match.describe()

    @property
    def roster_files(self) -> tuple[Path, ...] | None:
        """The entry's own roster CSVs; None when it names no roster (the default applies)."""
        if self.roster is None:
            return None
        return tuple(item for item in self.roster if isinstance(item, Path))

    @property
    def roster_sources(self) -> frozenset[str]:
        """``invitees`` / ``registrants`` when the entry's roster names them."""
        return frozenset(item for item in self.roster or () if isinstance(item, str))


def _roster_path(value: Any, info: ValidationInfo) -> Path:
    path = _resolve_path(value, info, "roster")
    if _checks_files(info) and not path.is_file():
        raise _bad(
            f"roster file not found: {path}",
            "the path is relative to the config file's folder",
        )
    return path


def _known_format(value: Any) -> Any:
    # Read at validation time: the format table (reporting.render.formats) is the one
    # list of formats.
    if isinstance(value, str) and value in FORMATS:
        return value
    raise PydanticCustomError(
        "literal_error", "Input should be {expected}", {"expected": choices_text()}
    )


ReportFormatName = Annotated[str, BeforeValidator(_known_format)]


class ReportSpec(BaseModel):
    """One ``reports:`` entry. ``name`` is the file stem of its outputs (only letters,
    digits, ``.``, ``_``, ``-``; no leading dot). ``audience: compliance`` shows full
    detail; any other audience text gets masked phone numbers. ``formats`` is a subset of
    ``pdf`` / ``xlsx`` (default ``[pdf]``). Beyond DESIGN.md: ``show_devices`` (the
    per-device table; default: true for the compliance audience only)."""

    model_config = _MODEL_CONFIG

    name: str
    audience: str
    formats: tuple[ReportFormatName, ...] = ("pdf",)
    email_to: tuple[str, ...] = ()
    show_devices: bool = False

    @model_validator(mode="before")
    @classmethod
    def _default_devices(cls, data: Any) -> Any:
        if isinstance(data, dict) and "show_devices" not in data:
            audience = data.get("audience")
            devices = isinstance(audience, str) and audience.strip() == COMPLIANCE
            return {**data, "show_devices": devices}
        return data

    @field_validator("name", mode="before")
    @classmethod
    def _name(cls, value: Any) -> Any:
        if isinstance(value, str) and _STEM.match(value) and value not in (".", ".."):
            return value
        raise _bad(
            f"{_show(value)} cannot be a file name",
            "use only letters, digits, '.', '_' and '-', not starting with a dot",
        )

    @field_validator("audience", mode="before")
    @classmethod
    def _audience(cls, value: Any) -> Any:
        if isinstance(value, str) and value.strip():
            text = value.strip()
            if text != COMPLIANCE and _close_to_compliance(text):
                # Any other word is a masked audience: a slip here would silently hide
                # the phone numbers the compliance officer needs.
                raise _bad(
                    f"{_show(text)} is not the compliance audience (audience names are "
                    "exact: only `compliance` shows full phone numbers)",
                    "did you mean 'compliance'? write another word (e.g. summary) for "
                    "masked numbers",
                )
            return text
        raise _bad(
            "audience is empty",
            "write `compliance` for full detail, or any other word (e.g. summary) for "
            "masked phone numbers",
        )

    @field_validator("formats", mode="before")
    @classmethod
    def _formats(cls, value: Any) -> Any:
        if isinstance(value, (list, tuple)):
            if not value:
                raise _bad("no formats", f"list at least one of {', '.join(FORMATS)}")
            # Dedupe so a repeated format never renders (and emails) the same file twice.
            return tuple(
                dict.fromkeys(v.strip().lower() if isinstance(v, str) else v for v in value)
            )
        return value

    @field_validator("email_to", mode="before")
    @classmethod
    def _recipients(cls, value: Any) -> Any:
        if isinstance(value, (list, tuple)):
            return tuple(dict.fromkeys(_email(v) for v in value))
        return value

    @field_validator("show_devices", mode="before")
    @classmethod
    def _devices(cls, value: Any) -> Any:
        if isinstance(value, bool):
            return value
        raise _bad(f"expected true or false, got {_show(value)}")


def _close_to_compliance(text: str) -> bool:
    folded = text.casefold()
    if folded == COMPLIANCE or "complian" in folded:
        return True
    return difflib.SequenceMatcher(None, folded, COMPLIANCE).ratio() >= 0.75


class SmtpConfig(BaseModel):
    """``email.smtp``. ``username_env`` / ``password_env`` name environment variables
    (both or neither). Beyond DESIGN.md: ``ssl`` (implicit TLS, usually port 465; not
    together with ``starttls``) and ``timeout_seconds`` (default 30)."""

    model_config = _MODEL_CONFIG

    host: StrictStr
    port: Annotated[int, Strict(), Field(gt=0, le=65535)] = 587
    starttls: StrictBool = True
    ssl: StrictBool = False
    username_env: str | None = None
    password_env: str | None = None
    timeout_seconds: PositiveFloat = 30.0

    @field_validator("username_env", "password_env", mode="before")
    @classmethod
    def _names(cls, value: Any) -> Any:
        return _env_name(value, required=False)

    @model_validator(mode="before")
    @classmethod
    def _implicit_tls(cls, data: Any) -> Any:
        # `ssl: true` alone means implicit TLS; starttls then defaults off rather than
        # making the user write `starttls: false` to avoid the conflict below.
        if isinstance(data, dict) and data.get("ssl") is True and "starttls" not in data:
            return {**data, "starttls": False}
        return data

    @model_validator(mode="after")
    def _consistent(self) -> SmtpConfig:
        if self.ssl and self.starttls:
            raise _bad("ssl and starttls are exclusive", "ssl: true for port 465, else starttls")
        if (self.username_env is None) != (self.password_env is None):
            raise _bad(
                "give both username_env and password_env, or neither",
                "they name the environment variables holding the SMTP login",
            )
        return self


class EmailConfig(BaseModel):
    """``email``: absent means nothing is sent. Exactly one of ``smtp`` (send) or
    ``outbox`` (a folder for ``.eml`` files, resolved against the config's folder).
    Beyond DESIGN.md: ``max_message_bytes`` (default 10 MiB): a message larger than this is
    not sent; the run fails with an error naming the report, before any server bounces it.
    ``corrections``: what a rerun does for a recipient whose report's content changed
    since it was emailed: ``send`` it as a correction (default) or ``hold`` (report only)."""

    model_config = _MODEL_CONFIG

    from_addr: str = Field(alias="from")
    smtp: SmtpConfig | None = None
    outbox: Path | None = None
    max_message_bytes: PositiveInt = 10 * 1024 * 1024
    corrections: Literal["send", "hold"] = "send"

    @field_validator("from_addr", mode="before")
    @classmethod
    def _from(cls, value: Any) -> Any:
        return _email(value, allow_display_name=True)

    @field_validator("outbox", mode="before")
    @classmethod
    def _outbox(cls, value: Any, info: ValidationInfo) -> Any:
        return None if value is None else _resolve_path(value, info, "outbox folder")

    @model_validator(mode="after")
    def _one_transport(self) -> EmailConfig:
        if (self.smtp is None) == (self.outbox is None):
            problem = "both smtp and outbox" if self.smtp else "neither smtp nor outbox"
            raise _bad(
                f"has {problem}",
                "give smtp: {host: ...} to send, or outbox: outbox/ to write .eml files",
            )
        return self


class PdfOptions(BaseModel):
    """``pdf`` (beyond DESIGN.md): ``page_size`` ``A4`` (default) or ``Letter``; ``pdfa``
    for archival PDF/A-3b output."""

    model_config = _MODEL_CONFIG

    page_size: Literal["A4", "Letter"] = "A4"
    pdfa: StrictBool = False

    @field_validator("page_size", mode="before")
    @classmethod
    def _size(cls, value: Any) -> Any:
        sizes = {"a4": "A4", "letter": "Letter"}
        if isinstance(value, str) and value.strip().lower() in sizes:
            return sizes[value.strip().lower()]
        raise _bad(f"unknown page size {_show(value)}", "use A4 or Letter")


class SigningConfig(BaseModel):
    """``signing``: absent means nothing is signed. ``pkcs12_env`` / ``password_env`` name
    the environment variables holding the PKCS#12 file's path and its password (read by
    `reporting.signing.load_signing_key`); ``timestamp_url`` an RFC 3161 time-stamping
    service for PAdES B-T, else B-B."""

    model_config = _MODEL_CONFIG

    pkcs12_env: str = "ATTENDANCE_SIGNING_P12"
    password_env: str = "ATTENDANCE_SIGNING_PASSWORD"  # noqa: S105 - a variable name
    timestamp_url: str | None = None

    @field_validator("pkcs12_env", "password_env", mode="before")
    @classmethod
    def _names(cls, value: Any) -> Any:
        return _env_name(value)

    @field_validator("timestamp_url", mode="before")
    @classmethod
    def _timestamp_url(cls, value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, str) and re.match(r"^https?://[^\s/?#]+[^\s]*$", value.strip()):
            return value.strip()
        raise _bad(
            f"expected an http:// or https:// URL, got {_show(value)}",
            "the address of an RFC 3161 time-stamping service, or leave it out",
        )


class Config(BaseModel):
    """A validated config; every relative path is already absolute (resolved against
    the config file's folder) and ``output_dir`` has ``{period}`` substituted.

    Top-level keys beyond DESIGN.md: ``templates`` (a folder whose files override the
    shipped templates) and ``pdf`` (see :class:`PdfOptions`). ``period`` defaults to
    ``last-month``, ``output.dir`` to ``reports/{period}`` and ``store`` to
    ``.attendance/store.sqlite``.
    """

    model_config = _MODEL_CONFIG

    source: Path
    config_hash: str
    timezone: str
    period: Period = Field(default="last-month", validate_default=True)  # type: ignore[assignment]
    webex: WebexConfig = Field(default_factory=WebexConfig)
    meetings: tuple[MeetingEntry, ...]
    rules: Rules = Field(default_factory=Rules)
    roster: Path | None = None
    roster_phone_region: str | None = None  # rule 12: reads national-form roster phones
    overrides: Path | None = None  # rule 13: the reviewers' decisions (CSV)
    reports: tuple[ReportSpec, ...] = ()
    output_dir: Path = Field(Path("reports/{period}"), alias="output", validate_default=True)
    # `output.mode` in the file (moved here by `_output_mode`): the mode of every output.
    output_mode: int = DEFAULT_MODE
    email: EmailConfig | None = None
    store: Path = Field(Path(".attendance/store.sqlite"), validate_default=True)
    templates: Path | None = None
    pdf: PdfOptions = Field(default_factory=PdfOptions)
    signing: SigningConfig | None = None

    # file:line of each key path, for messages raised after loading (resolve_token).
    _display: str = PrivateAttr(default="")
    _lines: dict[Loc, int] = PrivateAttr(default_factory=dict)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def location(self, *keys: str | int) -> str:
        """``configs/x.yaml:7`` for a key path such as ``("webex", "token_env")``; the
        nearest enclosing key's line when the key itself was left to its default."""
        display = self._display or str(self.source)
        line = _line_for(tuple(keys), self._lines)
        return f"{display}:{line}" if line else display

    @model_validator(mode="after")
    def _recipients_need_email(self) -> Config:
        if self.email is None:
            for index, spec in enumerate(self.reports):
                if spec.email_to:
                    raise _LocatedError(
                        ("reports", index, "email_to"),
                        "recipients are listed but the config has no `email:` section, so "
                        "nothing would be sent",
                        "add email: with from: and smtp: (or outbox: folder/), or remove email_to",
                    )
        return self

    @field_validator("timezone", mode="before")
    @classmethod
    def _timezone(cls, value: Any) -> Any:
        if isinstance(value, str):
            try:
                return ZoneInfo(value.strip()).key
            except (ZoneInfoNotFoundError, ValueError):
                pass
        guess = _suggest(str(value), _zone_names())
        raise _bad(
            f"unknown time zone {_show(value)}",
            (f"did you mean {guess!r}? " if guess else "")
            + "use an IANA name such as Europe/Berlin",
        )

    @field_validator("period", mode="before")
    @classmethod
    def _period(cls, value: Any, info: ValidationInfo) -> Any:
        ctx = _ctx(info)
        # A broken timezone is reported on its own line; still check the period's shape.
        zone = ZoneInfo(info.data.get("timezone", "UTC"))
        parsed = _parse_period(value, zone, ctx.get("now"))
        override = ctx.get("period_override")
        if isinstance(override, Period):
            return override.in_zone(zone, option="--period")
        if isinstance(override, tuple):
            return Period.between(override[0], override[1], zone, option="--from/--to")
        return parsed

    @field_validator("meetings", mode="before")
    @classmethod
    def _meetings(cls, value: Any) -> Any:
        if isinstance(value, (list, tuple)) and not value:
            raise _bad("no meetings listed", "add at least one entry: - id: <meeting id>")
        if isinstance(value, (list, tuple)):
            _no_duplicates(value, "meetings", "id", "meeting id", casefold=False)
        return value

    @field_validator("roster", mode="before")
    @classmethod
    def _roster(cls, value: Any, info: ValidationInfo) -> Any:
        return None if value is None else _roster_path(value, info)

    @field_validator("roster_phone_region", mode="before")
    @classmethod
    def _phone_region(cls, value: Any) -> Any:
        from reporting.phones import is_region

        if value is None:
            return None
        if isinstance(value, str) and is_region(value.strip().upper()):
            return value.strip().upper()
        raise _bad(
            f"unknown phone region {_show(value)}",
            "use the ISO 3166 code of the roster numbers' country, such as DE or US",
        )

    @field_validator("overrides", mode="before")
    @classmethod
    def _overrides(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None:
            return None
        path = _resolve_path(value, info, "overrides file")
        if _checks_files(info) and not path.is_file():
            raise _bad(
                f"overrides file not found: {path}",
                "the path is relative to the config file's folder",
            )
        return path

    @field_validator("reports", mode="before")
    @classmethod
    def _reports(cls, value: Any) -> Any:
        if isinstance(value, (list, tuple)):
            # Case-insensitive: on macOS / Windows two names differing in case are one file.
            _no_duplicates(value, "reports", "name", "report name", casefold=True)
        return value

    @model_validator(mode="before")
    @classmethod
    def _output_mode(cls, data: Any) -> Any:
        output = data.get("output") if isinstance(data, dict) else None
        if not isinstance(output, dict) or "mode" not in output:
            return data
        try:
            mode = parse_mode(output["mode"])
        except ValueError as exc:
            raise _LocatedError(("output", "mode"), str(exc), 'e.g. mode: "0640"') from None
        rest = {key: value for key, value in output.items() if key != "mode"}
        return {**data, "output": rest, "output_mode": mode}

    @field_validator("output_dir", mode="before")
    @classmethod
    def _output(cls, value: Any, info: ValidationInfo) -> Any:
        where: Loc = ("output",)
        if isinstance(value, dict):
            where = ("output", "dir")
            value = value.get("dir", "reports/{period}")
            if not isinstance(value, str) or not value.strip():
                raise _LocatedError(where, f"expected a folder path, got {_show(value)}")
        elif not isinstance(value, Path):
            raise _bad(
                f"expected a mapping, got {_show(value)}", "write output: {dir: reports/{period}}"
            )
        text = str(value)
        period = info.data.get("period")
        label = period.label if isinstance(period, Period) else "period"
        text = text.replace("{period}", label)
        stray = re.search(r"\{[^}]*\}", text)
        if stray:
            raise _LocatedError(
                where, f"unknown placeholder {stray.group(0)}", "only {period} is substituted"
            )
        return _resolve_path(text, info, "output folder")

    @field_validator("store", mode="before")
    @classmethod
    def _store(cls, value: Any, info: ValidationInfo) -> Any:
        return _resolve_path(value, info, "store file")

    @field_validator("templates", mode="before")
    @classmethod
    def _templates(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None:
            return None
        path = _resolve_path(value, info, "templates folder")
        if _checks_files(info) and not path.is_dir():
            raise _bad(
                f"templates folder not found: {path}",
                "the path is relative to the config file's folder; leave `templates` out "
                "to use the shipped templates",
            )
        return path


def _no_duplicates(items: Any, list_key: str, key: str, what: str, *, casefold: bool) -> None:
    seen: dict[str, int] = {}
    for index, item in enumerate(items):
        raw = item.get(key) if isinstance(item, dict) else getattr(item, key, None)
        if not isinstance(raw, str):
            continue
        norm = raw.strip().casefold() if casefold else raw.strip()
        if norm in seen:
            raise _LocatedError(
                (list_key, index, key),
                f"duplicate {what} {raw.strip()!r} (also at {list_key}[{seen[norm]}])",
                "each entry must be unique; remove or rename one",
            )
        seen[norm] = index


_ZONES: list[str] = []


def _zone_names() -> list[str]:
    if not _ZONES:
        import zoneinfo

        _ZONES.extend(sorted(zoneinfo.available_timezones()))
    return _ZONES


def _suggest(word: str, options: typing.Iterable[str]) -> str | None:
    options = list(options)
    lowered = {o.lower(): o for o in options}
    if word.lower() in lowered:
        return lowered[word.lower()]
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    return close[0] if close else None


# --------------------------------------------------------------------------- secrets


@dataclass(frozen=True)
class SmtpCredentials:
    """The SMTP login read from the environment; the password never shows in a repr.
    Unpacks as ``username, password = credentials``."""

    username: str
    password: str = field(repr=False)

    def __iter__(self) -> Iterator[str]:
        return iter((self.username, self.password))


def resolve_token(config: Config, env: Mapping[str, str] | None = None) -> str | None:
    """The Webex access token from the environment variable ``webex.token_env``.

    Returns ``None`` (instead of raising) when the variable is unset and a token can be
    had otherwise: with ``base_url: sandbox`` the pipeline mints one for the simulator,
    and with ``webex.oauth`` the client obtains one by refresh (the OAuth variables are
    checked here). Otherwise raises :class:`ConfigError` naming the variable and the key.
    """
    env = os.environ if env is None else env
    name = config.webex.token_env
    token = (env.get(name) or "").strip()
    if token:
        return token
    if config.webex.base_url == SANDBOX:
        return None
    oauth = config.webex.oauth
    if oauth is not None:
        for key in ("client_id_env", "client_secret_env", "refresh_token_env"):
            var = getattr(oauth, key)
            if not (env.get(var) or "").strip():
                raise ConfigError(
                    f"environment variable {var} is not set "
                    f"(webex.oauth.{key} in {config.location('webex', 'oauth', key)})",
                    hint=f"export {var}=... with your Webex integration's value",
                )
        return None
    raise ConfigError(
        f"environment variable {name} is not set "
        f"(webex.token_env in {config.location('webex', 'token_env')})",
        hint=f"export {name}=<your Webex access token>, or set webex.token_env to the "
        "variable that holds it",
    )


def resolve_smtp_credentials(
    config: Config, env: Mapping[str, str] | None = None
) -> SmtpCredentials | None:
    """The SMTP login from ``email.smtp.username_env`` / ``password_env``; ``None`` when no
    SMTP login is configured. Raises :class:`ConfigError` naming a variable that is unset."""
    env = os.environ if env is None else env
    smtp = config.email.smtp if config.email is not None else None
    if smtp is None or smtp.username_env is None or smtp.password_env is None:
        return None
    values: list[str] = []
    for key, var in (("username_env", smtp.username_env), ("password_env", smtp.password_env)):
        value = env.get(var)
        if not value:
            raise ConfigError(
                f"environment variable {var} is not set "
                f"(email.smtp.{key} in {config.location('email', 'smtp', key)})",
                hint=f"export {var}=... before the run, or use email.outbox to write .eml files",
            )
        values.append(value)
    return SmtpCredentials(values[0], values[1])


# --------------------------------------------------------------------------- loading


def load_config(
    path: Path | str,
    *,
    period: Period | tuple[date, date] | None = None,
    now: datetime | None = None,
) -> Config:
    """Read, validate and resolve the config at ``path``.

    ``period`` overrides the file's ``period`` (from ``--period`` via
    :func:`parse_period_arg`, or a ``(from, to)`` date pair from ``--from/--to``); either
    way its calendar dates are anchored at midnight in the config's ``timezone``. ``now``
    is the clock for ``last-month`` (default: the current time). Raises
    :class:`ConfigError` with ``file:line: key.path: problem (how to fix)``.
    """
    display = str(path)
    source = Path(path).expanduser().absolute()
    try:
        if source.stat().st_size > MAX_CONFIG_BYTES:
            raise ConfigError(
                f"{display}: the config is {source.stat().st_size} bytes, more than a "
                f"config can be ({MAX_CONFIG_BYTES // 1024} KiB)",
                hint="is this the right file?",
            )
        raw = source.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{display}: config file not found") from None
    except OSError as exc:
        raise ConfigError(f"{display}: cannot read the config ({exc.strerror})") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{display}: the config is not UTF-8 text (byte {exc.start})",
            hint="save the file as UTF-8",
        ) from None

    _check_characters(text, display)
    data, lines = _parse_yaml(text, display)
    _check_keys(data.node, _schema(), (), lines, display)

    context = {
        "base": source.parent,
        "now": now,
        "period_override": period,
        "check_files": True,
        "yaml": True,
    }
    payload = {**data.value, "source": source, "config_hash": hashlib.sha256(raw).hexdigest()}
    try:
        config = Config.model_validate(payload, context=context)
    except _LocatedError as exc:
        raise _located(display, lines, exc.loc, exc.problem, exc.hint) from None
    except ValidationError as exc:
        raise _from_validation(exc, display, lines) from None
    except ConfigError as exc:
        # Period.between on an override: the message already names the option.
        raise exc from None
    config._display = display
    config._lines = lines
    return config


def _located(
    display: str, lines: dict[Loc, int], loc: Loc, problem: str, hint: str | None
) -> ConfigError:
    line = _line_for(loc, lines) or 1
    return ConfigError(f"{display}:{line}: {_key_path(loc)}: {problem}", hint=hint or None)


def _line_for(loc: Loc, lines: Mapping[Loc, int]) -> int | None:
    for end in range(len(loc), -1, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return None


# Pydantic error types → the words a config author understands.
_TYPE_WORDS = {
    "int_type": "expected a whole number",
    "int_parsing": "expected a whole number",
    "int_from_float": "expected a whole number",
    "float_type": "expected a number",
    "float_parsing": "expected a number",
    "string_type": "expected text",
    "bool_type": "expected true or false",
    "bool_parsing": "expected true or false",
    "tuple_type": "expected a list",
    "list_type": "expected a list",
    "model_type": "expected a mapping of keys",
    "model_attributes_type": "expected a mapping of keys",
    "dict_type": "expected a mapping of keys",
}


def _from_validation(exc: ValidationError, display: str, lines: dict[Loc, int]) -> ConfigError:
    errors = exc.errors(include_url=False)
    # Report the problem nearest the top of the file: fixing top-down is how people work.
    first = min(
        enumerate(errors),
        key=lambda pair: (_line_for(tuple(pair[1]["loc"]), lines) or 0, pair[0]),
    )[1]
    loc: Loc = tuple(first["loc"])
    kind = first["type"]
    ctx = first.get("ctx") or {}
    value = first.get("input")
    secret_ish = any(isinstance(p, str) and p.endswith("_env") for p in loc)
    shown = "" if secret_ish else f", got {_show(value)}"
    hint: str | None = None
    if kind == "config":
        problem, hint = str(ctx.get("message")), str(ctx.get("hint") or "") or None
    elif kind == "missing":
        problem = "required key is missing"
        hint = _MISSING_HINTS.get(str(loc[-1]) if loc else "")
    elif kind in _TYPE_WORDS:
        problem = _TYPE_WORDS[kind] + shown
        if kind in ("tuple_type", "list_type"):
            hint = "write [a, b] or one `- item` per line"
        elif loc[:1] == ("meetings",) and len(loc) == 2:
            hint = "write each entry as `- id: <meeting id>`"
    elif kind == "greater_than":
        problem = f"must be greater than {ctx.get('gt')}{shown}"
    elif kind == "greater_than_equal":
        problem = f"must be at least {ctx.get('ge')}{shown}"
    elif kind == "less_than_equal":
        problem = f"must be at most {ctx.get('le')}{shown}"
    elif kind == "literal_error":
        problem = f"must be {ctx.get('expected')}{shown}"
    elif kind == "extra_forbidden":
        problem = "unknown key"
    elif kind == "value_error":
        problem = str(first["msg"]).removeprefix("Value error, ")
    else:
        problem = str(first["msg"])
    return _located(display, lines, loc, problem, hint)


_MISSING_HINTS = {
    "timezone": "add e.g. timezone: Europe/Berlin",
    "meetings": "add a meetings: list with at least one `- id: <meeting id>`",
    "id": "every meetings entry needs `id: <meeting id>` or `match:`",
    "name": "every report needs `name:` (the file stem of its outputs)",
    "audience": "every report needs `audience:` (compliance, or e.g. summary)",
    "from": "add from: attendance@example.com",
    "host": "add host: smtp.example.com",
}


# --------------------------------------------------------------------------- YAML layer


@dataclass(frozen=True)
class _Parsed:
    value: dict[str, Any]
    node: yaml.Node


# Keys whose values are text even when YAML reads them as numbers or booleans: a meeting
# id `0123` must not become 83, nor a title `yes` become True.
_TEXT_KEYS: dict[str, frozenset[str]] = {
    "meetings": frozenset({"id", "title", "course"}),
    "reports": frozenset({"name", "audience"}),
}


# Bounds on what a config may make the YAML reader do (a config is a page of settings):
# its size, how deeply it nests, and how many values it stands for once every alias is
# expanded (a "billion laughs" file is a few hundred bytes and hangs any reader that
# walks it).
MAX_CONFIG_BYTES = 1 << 20
MAX_CONFIG_DEPTH = 40
MAX_CONFIG_VALUES = 100_000
# Characters YAML does not allow in a file (C0 but tab and line ends, DEL, C1 but NEL).
_RAW_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\x80-\x84\x86-\x9f\ufffe\uffff]")


def _check_characters(text: str, display: str) -> None:
    found = _RAW_CONTROL.search(text)
    if found is not None:
        line = text.count("\n", 0, found.start()) + 1
        raise ConfigError(
            f"{display}:{line}: a control character (U+{ord(found.group()):04X}) is in the file",
            hint="remove it; YAML allows only printable text, tabs and line breaks",
        )


def _check_expansion(root: yaml.Node, display: str) -> None:
    """Refuse recursive aliases and configs that expand to too many values (iteratively:
    a walk by recursion is what a recursive alias turned into a traceback)."""
    sizes: dict[int, int] = {}
    entered: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, finished = stack.pop()
        key = id(node)
        children = _children(node)
        if finished:
            entered.discard(key)
            sizes[key] = 1 + sum(sizes[id(child)] for child in children)
            if sizes[key] > MAX_CONFIG_VALUES:
                raise ConfigError(
                    f"{display}:{node.start_mark.line + 1}: the config stands for more than "
                    f"{MAX_CONFIG_VALUES} values once its aliases are expanded",
                    hint="write the settings out; a config needs no alias chains",
                )
            continue
        if key in sizes:
            continue
        entered.add(key)
        stack.append((node, True))
        for child in children:
            if id(child) in entered:
                raise ConfigError(
                    f"{display}:{child.start_mark.line + 1}: a recursive alias (a value that "
                    "contains itself)",
                    hint="an alias (*name) may only repeat a value defined before it, not one "
                    "it is part of",
                )
            if id(child) not in sizes:
                stack.append((child, False))


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


class _Loader(yaml.SafeLoader):
    """SafeLoader whose value errors (e.g. the date 2026-13-01) carry the node's line, and
    which refuses nesting deeper than `MAX_CONFIG_DEPTH` while it reads."""

    def __init__(self, stream: str, display: str = "config") -> None:
        super().__init__(stream)
        self._depth = 0
        self._display = display

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        self._depth += 1
        try:
            if self._depth > MAX_CONFIG_DEPTH:
                mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
                raise ConfigError(
                    f"{self._display}:{mark.line + 1}: values nested more than "
                    f"{MAX_CONFIG_DEPTH} deep",
                    hint="a config is a few levels of keys and lists",
                )
            return super().compose_node(parent, index)  # type: ignore[no-any-return]
        finally:
            self._depth -= 1

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)
        except (ValueError, OverflowError) as exc:
            raise yaml.constructor.ConstructorError(
                None, None, f"cannot read {node.value!r}: {exc}", node.start_mark
            ) from exc


def _parse_yaml(text: str, display: str) -> tuple[_Parsed, dict[Loc, int]]:
    loader = _Loader(text, display)
    lines: dict[Loc, int] = {(): 1}
    try:
        node = loader.get_single_node()
        if node is not None:
            _check_expansion(node, display)
            # Lines first: a value error while constructing can then name its key.
            _node_lines(node, (), lines, display)
        value = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        last_line = len(text.splitlines()) or 1
        if exc.context_mark is not None and (mark is None or mark.line + 1 > last_line):
            # "got <stream end>" points past the file; where the construct began helps more.
            mark = exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        problem = (exc.problem or exc.context or "invalid YAML").strip()
        if exc.context and exc.problem:
            problem = f"{exc.context.strip()}: {problem}"
        if isinstance(exc, yaml.constructor.ConstructorError):
            at = [loc for loc, where in lines.items() if where == line and loc]
            key = f" {_key_path(max(at, key=len))}:" if at else ""
            raise ConfigError(
                f"{display}:{line}:{key} {problem}",
                hint="dates are YYYY-MM-DD; quote text that YAML misreads",
            ) from None
        raise ConfigError(
            f"{display}:{line}: YAML syntax error: {problem}",
            hint="check indentation, colons and quotes on this line or the one before",
        ) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{display}:1: YAML error: {exc}") from None
    finally:
        loader.dispose()
    if node is None or value is None:
        raise ConfigError(
            f"{display}:1: the config is empty", hint="start from configs/example-monthly.yaml"
        )
    if not isinstance(value, dict) or not isinstance(node, yaml.MappingNode):
        raise ConfigError(
            f"{display}:{node.start_mark.line + 1}: the config must be a mapping of keys "
            "(timezone:, meetings:, ...)",
            hint="start from configs/example-monthly.yaml",
        )
    _repair_text(node, (), value)
    return _Parsed(value, node), lines


def _node_lines(node: yaml.Node, path: Loc, lines: dict[Loc, int], display: str) -> None:
    """Record the line of every mapping key and sequence item below ``node``."""
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise ConfigError(
                    f"{display}:{key_node.start_mark.line + 1}: {_key_path(path)}: "
                    "a key must be a plain word"
                )
            here = (*path, key_node.value)
            line = key_node.start_mark.line + 1
            if key_node.value in seen:
                raise ConfigError(
                    f"{display}:{line}: {_key_path(here)}: duplicate key",
                    hint="YAML keeps only the last one; remove one of them",
                )
            seen.add(key_node.value)
            lines[here] = line
            _node_lines(value_node, here, lines, display)
    elif isinstance(node, yaml.SequenceNode):
        for index, item_node in enumerate(node.value):
            lines[(*path, index)] = item_node.start_mark.line + 1
            _node_lines(item_node, (*path, index), lines, display)


def _repair_text(node: yaml.Node, path: Loc, value: Any) -> None:
    """Put back the written text of keys that are text even when YAML read a number."""
    if isinstance(node, yaml.MappingNode) and isinstance(value, dict):
        for key_node, value_node in node.value:
            key = str(key_node.value)
            constructed = _lookup(value, key)
            if (
                isinstance(value_node, yaml.ScalarNode)
                and len(path) == 2
                and isinstance(path[0], str)
                and key in _TEXT_KEYS.get(path[0], ())
                and isinstance(constructed, (int, float, bool))
                and value_node.style is None
            ):
                value[_constructed_key(value, key)] = value_node.value
            else:
                _repair_text(value_node, (*path, key), constructed)
    elif isinstance(node, yaml.SequenceNode) and isinstance(value, list):
        for index, (item_node, item) in enumerate(zip(node.value, value, strict=False)):
            _repair_text(item_node, (*path, index), item)


def _constructed_key(mapping: dict[Any, Any], text: str) -> Any:
    # YAML 1.1 reads keys such as `on` / `yes` as booleans and `1` as an int; map the
    # key's text back to the key the constructor produced.
    if text in mapping:
        return text
    for key in mapping:
        if isinstance(key, bool):
            if text.lower() in _BOOL_WORDS and key == (text.lower() in _TRUE_WORDS):
                return key
        elif str(key) == text:
            return key
    return text


_TRUE_WORDS = frozenset({"yes", "on", "true"})
_BOOL_WORDS = _TRUE_WORDS | {"no", "off", "false"}


def _lookup(mapping: dict[Any, Any], text: str) -> Any:
    return mapping.get(_constructed_key(mapping, text))


# The keys each model accepts, derived from the models so the two never drift apart.
# Values: a nested schema (dict), _Items for a list, or None for a leaf value.
@dataclass(frozen=True)
class _Items:
    item: Any


_INTERNAL = frozenset({"source", "config_hash", "output_mode"})
# Fields whose YAML form is a small mapping or a string rather than a model.
_OVERRIDES: dict[tuple[str, str], Any] = {
    ("Config", "period"): {"from": None, "to": None},
    ("Config", "output_dir"): {"dir": None, "mode": None},
    ("Rules", "min_attendance"): None,
}
_schema_cache: dict[str, Any] = {}


def _schema() -> dict[str, Any]:
    if "root" not in _schema_cache:
        _schema_cache["root"] = _model_schema(Config)
    schema: dict[str, Any] = _schema_cache["root"]
    return schema


def _model_schema(model: type[BaseModel]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        if name in _INTERNAL:
            continue
        key = info.alias or name
        override = (model.__name__, name)
        out[key] = _OVERRIDES[override] if override in _OVERRIDES else _type_schema(info.annotation)
    return out


def _type_schema(annotation: Any) -> Any:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            found = _type_schema(arg)
            if found is not None:
                return found
        return None
    if origin is tuple:
        args = typing.get_args(annotation)
        return _Items(_type_schema(args[0])) if args else None
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return _model_schema(annotation)
    return None


def _check_keys(
    node: yaml.Node, schema: Any, path: Loc, lines: dict[Loc, int], display: str
) -> None:
    if isinstance(schema, dict) and isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = str(key_node.value)
            here = (*path, key)
            if key not in schema:
                guess = _suggest(key, schema)
                hint = (
                    f"did you mean {guess!r}?"
                    if guess
                    else "allowed here: " + ", ".join(sorted(schema))
                )
                raise ConfigError(
                    f"{display}:{key_node.start_mark.line + 1}: {_key_path(here)}: unknown key",
                    hint=hint,
                )
            _check_keys(value_node, schema[key], here, lines, display)
    elif isinstance(schema, _Items) and isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _check_keys(item, schema.item, (*path, index), lines, display)
