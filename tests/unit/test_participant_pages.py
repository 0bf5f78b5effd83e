"""Records given as page bodies (`ParticipantPages`, what the fetch now hands the engine)
give the very tables the same pages gave when they were decoded to dicts first (the
fetch's reading before: `decode_participant_page`, bad fields read as missing, BAD_RECORD).

The pages are the property test's random meetings, cut into pages of random sizes: as
generated (wrong types included, so some pages fail the typed check and are read through
dicts) and repaired first (every page typed-clean, read column by column).
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
import pytest
from examples_budget import examples
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reporting.attendance import compute
from reporting.model import InstanceRecords, RecordProblem
from reporting.participants import ParticipantPages
from reporting.webex.schema import decode_participant_page
from tests.unit.test_attendance_property import _MISSING, Case, scenario


def _json(value: Any) -> Any:
    """The value as JSON holds it: the generator's "missing" marker is a missing key."""
    if isinstance(value, dict):
        return {k: _json(v) for k, v in value.items() if v is not _MISSING}
    if isinstance(value, list):
        return [_json(v) for v in value]
    return value


def _pages(records: Any, sizes: list[int]) -> list[bytes]:
    records = _json(list(records))
    out: list[bytes] = []
    start = 0
    for size in sizes:
        if start >= len(records):
            break
        out.append(json.dumps({"items": list(records[start : start + size])}).encode())
        start += size
    if start < len(records):
        out.append(json.dumps({"items": list(records[start:])}).encode())
    return out


def _as_before(instance: Any, bodies: list[bytes]) -> InstanceRecords:
    """What the fetch gave the engine before: the pages decoded to dicts, with problems."""
    records: list[dict[str, Any]] = []
    problems: list[RecordProblem] = []
    for body in bodies:
        page = decode_participant_page(body)
        problems.extend(RecordProblem(len(records) + b.index, b.fields, b.detail) for b in page.bad)
        records.extend(page.items)
    return InstanceRecords(instance, tuple(records), problems=tuple(problems))


def _assert_same(before: list[InstanceRecords], now: list[InstanceRecords], case: Case) -> None:
    _, rules, rosters, as_of, extra = case
    kwargs: dict[str, Any] = {"overrides": extra.overrides, "phone_region": extra.region}
    old = compute(before, rules, rosters, as_of, **kwargs)
    new = compute(now, rules, rosters, as_of, **kwargs)
    for name in ("attendance", "devices", "breakouts", "courses", "caller_hints"):
        pd.testing.assert_frame_equal(getattr(new, name), getattr(old, name), check_exact=True)
    assert [d.record_problems for d in now] == [d.record_problems for d in before]


@pytest.mark.slow
@settings(
    max_examples=examples(300),
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(scenario(), st.lists(st.integers(1, 4), min_size=1, max_size=6), st.booleans())
def test_pages_give_the_tables_the_dicts_gave(case: Case, sizes: list[int], repair: bool) -> None:
    data = case[0]
    before: list[InstanceRecords] = []
    now: list[InstanceRecords] = []
    for item in data:
        records: Any = item.records
        if repair:  # every field of the schema's type: each page is read column by column
            records = [r for body in _pages(records, [len(records) or 1]) for r in _items(body)]
        bodies = _pages(records, sizes)
        before.append(_replace(_as_before(item.instance, bodies), item))
        now.append(InstanceRecords(item.instance, ParticipantPages(bodies), invitees=item.invitees))
    if repair:
        assert all(
            isinstance(d.records, ParticipantPages) and d.records.typed() is not None for d in now
        )
    _assert_same(before, now, case)


def _items(body: bytes) -> list[dict[str, Any]]:
    return decode_participant_page(body).items


def _replace(built: InstanceRecords, item: InstanceRecords) -> InstanceRecords:
    return InstanceRecords(
        built.instance, built.records, problems=built.problems, invitees=item.invitees
    )


def test_a_bad_record_on_a_page_is_flagged_and_named() -> None:
    bodies = [
        json.dumps({"items": [{"email": "a@x.org", "joinedTime": "2026-10-01T08:00:00Z"}]}),
        json.dumps({"items": [{"email": "b@x.org", "joinedTime": 5}]}),
    ]
    pages = ParticipantPages(b.encode() for b in bodies)
    assert pages.typed() is None
    assert [(p.index, p.fields) for p in pages.record_problems] == [(1, ("joinedTime",))]
    assert pages[1] == {"email": "b@x.org"}
    assert len(pages) == 2


def test_clean_pages_have_no_problems_and_read_as_dicts() -> None:
    body = {"items": [{"email": "a@x.org", "devices": [{"joinedTime": None}]}]}
    pages = ParticipantPages([b"\xef\xbb\xbf" + json.dumps(body).encode()])
    typed = pages.typed()
    assert typed is not None and typed[0].email == "a@x.org"
    assert pages.record_problems == ()
    assert list(pages) == body["items"]
