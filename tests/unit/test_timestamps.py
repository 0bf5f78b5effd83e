"""RFC 3339 in full, bare dates flagged, impossible windows, the period, DST folds, and an
HTTP-date Retry-After."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from test_attendance_rules import dev, flags, one, rec

from reporting.render.context import fmt_local, fmt_local_many
from reporting.render.xlsx_sheet import column_values as _column_values
from reporting.timestamps import parse_instant, window_problem
from reporting.webex.models import impossible_windows, outside_period
from reporting.webex.ratelimit import parse_retry_after

NINE = datetime(2026, 10, 5, 9, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "moment"),
    [
        ("2026-10-05T09:00:00Z", NINE),
        ("2026-10-05t09:00:00z", NINE),
        ("2026-10-05 09:00:00Z", NINE),
        ("2026-10-05T11:00:00+02:00", NINE),
        ("2026-10-05T11:00:00+0200", NINE),
        ("2026-10-05T09:00:00,5Z", NINE.replace(microsecond=500_000)),
        ("2026-10-05T09:00:00.123456789Z", NINE.replace(microsecond=123_456)),
        ("2026-10-05T09:00:00", NINE),  # no offset: UTC, the API's zone (rule 1)
    ],
)
def test_every_rfc_3339_spelling_is_the_same_instant(text: str, moment: datetime) -> None:
    assert parse_instant(text).moment == moment


@pytest.mark.parametrize(
    ("value", "bad", "problem"),
    [
        ("2026-10-05", True, "a date without a time"),
        ("05.10.2026 09:00", True, "is not a time"),
        (1791277200, True, "is not a time"),
        ("1970-01-01t00:00:00,000z", False, "sentinel"),
        ("", False, "missing"),
        (None, False, "missing"),
    ],
)
def test_what_is_not_an_instant(value: object, bad: bool, problem: str) -> None:
    parsed = parse_instant(value)
    assert parsed.moment is None and parsed.bad is bad
    assert parsed.problem is not None and problem in parsed.problem


def test_lowercase_and_comma_fractions_count_as_attendance() -> None:
    row = one(rec("a@x.com", dev("2026-10-05t09:10:00z", "2026-10-05T09:40:00,000Z")))
    assert row["attended_seconds"] == 1800
    assert "BAD_TIMESTAMP" not in flags(row)


def test_a_bare_date_is_flagged_never_midnight() -> None:
    # Read as midnight it would be clipped to the start: a full hour for a date.
    row = one(rec("a@x.com", dev("2026-10-05", "2026-10-05T09:40:00Z")))
    assert row["attended_seconds"] == 0
    assert "BAD_TIMESTAMP" in flags(row)


@pytest.mark.parametrize(
    ("start", "end", "problem"),
    [
        ("1970-01-01T00:00:00Z", "2026-10-05T10:00:00Z", "start '1970-01-01T00:00:00Z' is the"),
        ("2026-10-05T09:00:00Z", "1970-01-01T00:00:00.000Z", "its end '1970-01-01T00:00:00.000Z'"),
        ("soon", "2026-10-05T10:00:00Z", "its start 'soon' is not a time"),
        ("2026-10-05T09:00:00Z", None, "it ended, but its end missing"),
        ("2026-10-05T09:00:00Z", "2026-10-05", "is a date without a time"),
        ("2026-10-05T09:00:00Z", "2026-10-05T08:00:00Z", "is before its start"),
        ("2026-10-05T09:00:00Z", "2026-10-06T09:00:01Z", "longer than 24 hours"),
    ],
)
def test_impossible_windows_are_named(start: str, end: str | None, problem: str) -> None:
    meeting = {"id": "m_I_1", "state": "ended", "start": start, "end": end}
    found = window_problem(meeting)
    assert found is not None and problem in found
    [message] = impossible_windows(2, "series", [meeting]).values()
    assert message.startswith("meeting instance m_I_1 (meetings[2] series): not audited")


def test_possible_windows_pass() -> None:
    assert window_problem({"state": "ended", "start": "2026-10-05T09:00:00Z",
                           "end": "2026-10-06T09:00:00Z"}) is None  # fmt: skip
    assert window_problem({"state": "inProgress", "start": "2026-10-05T09:00:00Z"}) is None
    assert impossible_windows(0, "x", [{"id": "x", "lookedUp": False}]) == {}


def test_listed_instances_outside_the_period_are_left_out() -> None:
    period = (datetime(2026, 9, 30, 22, tzinfo=UTC), datetime(2026, 10, 31, 23, tzinfo=UTC))
    assert outside_period({"start": "2026-09-30T21:59:59Z"}, period)
    assert not outside_period({"start": "2026-09-30T22:00:00Z"}, period)
    assert outside_period({"start": "2026-10-31T23:00:00Z"}, period)  # the end is exclusive
    assert not outside_period({"start": "garbage"}, period)  # named by the window check


def test_times_in_a_dst_fold_carry_their_offset() -> None:
    tz = ZoneInfo("Europe/Berlin")
    first, second = "2026-10-25T00:30:00Z", "2026-10-25T01:30:00Z"  # both 02:30 local
    assert fmt_local(first, tz) == "2026-10-25 02:30:00 +02:00"
    assert fmt_local(second, tz) == "2026-10-25 02:30:00 +01:00"
    assert fmt_local("2026-10-25T03:30:00Z", tz) == "2026-10-25 04:30:00"
    assert fmt_local_many([first, second, None], tz, date=False) == [
        "02:30:00 +02:00",
        "02:30:00 +01:00",
        "",
    ]
    cells = _column_values(pd.Series([first, "2026-10-05T09:00:00Z"]), "datetime", tz)
    assert cells == ["2026-10-25 02:30:00 +02:00", datetime(2026, 10, 5, 11, 0)]


def test_retry_after_as_an_http_date() -> None:
    now = datetime(2026, 12, 2, 17, 29, 50, tzinfo=UTC)
    assert parse_retry_after("Wed, 02 Dec 2026 17:30:00 GMT", now) == 10.0
    assert parse_retry_after("Wed, 02 Dec 2026 17:00:00 GMT", now) == 0.0
    assert parse_retry_after("7", now) == 7.0
    assert parse_retry_after("rand(30),add(30)", now) is None
    assert parse_retry_after("Wed, 99 Foo 2026 25:00:00 GMT", now) is None
