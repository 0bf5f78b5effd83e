"""The audited period: `Period` (midnight to midnight in the config's zone), and how
``period:``, ``--period`` and ``--from/--to`` become one."""

from __future__ import annotations

import calendar
import contextlib
import re
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel

from reporting.config.values import MODEL_CONFIG, invalid, show_value
from reporting.errors import ConfigError


class Period(BaseModel):
    """The audited time range: ``[start, end)``, midnight to midnight in ``timezone``.

    ``start`` / ``end`` are aware UTC datetimes; ``first_day`` / ``end_day`` are the local
    calendar dates they came from (``end_day`` exclusive). ``label`` names output folders
    and the email ledger (``2026-10`` for a calendar month, else
    ``2026-10-01_2026-11-01``); ``display`` is for humans.
    """

    model_config = MODEL_CONFIG

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


def parse_period(value: Any, zone: ZoneInfo, now: datetime | None) -> Period:
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
            raise invalid(
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
                raise invalid(
                    f"{key}: not a date: {show_value(raw)}",
                    "write dates as YYYY-MM-DD, e.g. 2026-10-01",
                )
            ends.append(raw)
        if not ends[0] < ends[1]:
            raise invalid(
                f"from {ends[0].isoformat()} is not before to {ends[1].isoformat()}",
                "`to` is exclusive: October 2026 is {from: 2026-10-01, to: 2026-11-01}",
            )
        return Period.between(ends[0], ends[1], zone, option="period")
    raise invalid(
        f"not a period: {show_value(value)}",
        "write `last-month`, a month such as 2026-10, or {from: 2026-10-01, to: 2026-11-01}",
    )
