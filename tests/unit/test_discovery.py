"""Rules 14-17 at the fetch: match entries, invitees, registrants, restarted sessions and
named instances outside the period, against the in-process sandbox with the demo data.

The config is a real one (load_config of a YAML file); the client is the real WebexClient
over httpx.ASGITransport; the store is a real SQLite file.
"""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from reporting.config import Config, load_config
from reporting.discovery.match import selects, title_matches
from reporting.discovery.rosters import rosters_by_instance
from reporting.fetch import FetchOutcome, fetch_all, load_offline
from reporting.roster import load_roster
from reporting.store import Store
from tests.fetch_support import FakeTime, client_for, sandbox_transport
from tests.sandbox_fixtures import ROOT, demo

SABINE = "sabine.hartmann@example.com"
MARKUS = "markus.braun@example.com"
OCTOBER = {"from": "2026-10-01", "to": "2026-11-01"}
SERIES = "d75df7ee5c1faa9f52135cb13ccc38b7"


def write(tmp_path: Path, meetings: list[dict[str, Any]], period: Any = None) -> Config:
    path = tmp_path / "audit.yaml"
    document = {
        "timezone": "Europe/Berlin",
        "period": period or OCTOBER,
        "webex": {"base_url": "http://sandbox.test/v1", "requests_per_minute": 100_000},
        "meetings": meetings,
        "store": "store.sqlite",
    }
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return load_config(path)


def run_fetch(
    config: Config,
    store: Store,
    data: dict[str, Any] | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    run_id: str = "run1",
) -> FetchOutcome:
    client = client_for(transport or sandbox_transport(copy.deepcopy(data or demo())), FakeTime())

    async def go() -> FetchOutcome:
        async with client:
            return await fetch_all(config, store, run_id, client)

    return asyncio.run(go())


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path / "store.sqlite") as opened:
        yield opened


def titles(outcome: FetchOutcome) -> list[str]:
    return [i.title for i in outcome.instances]


# -- rule 16 ---------------------------------------------------------------------------------


def test_rule16_title_pattern_is_case_insensitive_shell_style() -> None:
    assert title_matches("security awareness*", "Security Awareness Training")
    assert title_matches("*AWARENESS?TRAINING", "Security Awareness Training")
    assert not title_matches("Awareness*", "Security Awareness Training")  # whole title
    assert title_matches("Fire [SR]afety*", "Fire Safety Briefing")


def test_rule16_match_selects_every_listed_instance_matching_all_fields(
    tmp_path: Path, store: Store
) -> None:
    config = write(
        tmp_path,
        [
            {"match": {"title": "security awareness*", "hosts": [SABINE]}},
            {"match": {"type": "webinar"}},
            {"match": {"title": "*", "hosts": [MARKUS], "type": "meeting"}},
        ],
    )
    outcome = run_fetch(config, store)
    by_entry: dict[int, list[str]] = {}
    for instance in outcome.instances:
        by_entry.setdefault(instance.entry_index, []).append(instance.title)
    assert by_entry[0] == ["Security Awareness Training"] * 4  # October only, not Nov 3
    assert by_entry[1] == ["Fire Safety Briefing"]
    assert 2 not in by_entry  # Markus hosts only a webinar
    assert outcome.failures == []
    # Rule 16: the selection is recorded, and a match that selects nothing is a warning.
    assert [len(s["selected"]) for s in outcome.selections] == [4, 1, 0]
    assert outcome.selections[0]["selected"][0]["host"] == SABINE
    assert any("meetings[2]" in note and "selects no" in note for note in outcome.notes)
    # Course labels default to the title pattern (rule 16), else to the match described.
    assert {i.course for i in outcome.instances if i.entry_index == 0} == {"security awareness*"}
    assert {i.course for i in outcome.instances if i.entry_index == 1} == {"match type=webinar"}


def test_rule16_hosts_are_checked_on_each_instance_not_only_asked_for(
    tmp_path: Path, store: Store
) -> None:
    """hostEmail also lists meetings the host was invited to; those are not the host's."""
    data = copy.deepcopy(demo())
    webinar_series = next(m["id"] for m in data["meetings"] if m["title"] == "Fire Safety Briefing")
    data["invitees"][webinar_series].append(
        {"email": SABINE, "displayName": "Sabine Hartmann", "panelist": True}
    )
    config = write(tmp_path, [{"match": {"title": "*", "hosts": [SABINE]}}])
    outcome = run_fetch(config, store, data)
    assert "Fire Safety Briefing" not in titles(outcome)
    assert {i.host_email for i in outcome.instances} == {SABINE}
    listed = [
        json.loads(row["body"]) for row in store.table_rows("pages") if row["kind"] == "meetings"
    ]
    # ... although Webex listed it for her (the raw page is kept).
    assert any(m["title"] == "Fire Safety Briefing" for page in listed for m in page["items"])


def test_rule16_match_items_outside_the_period_are_not_selected() -> None:
    from datetime import UTC, datetime

    from reporting.config import MatchSpec

    spec = MatchSpec(title="x*")
    period = (datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC))
    item = {"id": "a_I_1", "meetingType": "meeting", "state": "ended", "title": "X ray"}
    assert selects(spec, {**item, "start": "2026-10-31T23:59:59Z"}, period)
    assert not selects(spec, {**item, "start": "2026-11-01T00:00:00Z"}, period)
    assert not selects(
        spec, {**item, "start": "2026-10-31T10:00:00Z", "state": "inProgress"}, period
    )
    assert not selects(
        spec, {**item, "start": "2026-10-15T10:00:00Z", "meetingType": "meetingSeries"}, period
    )


def test_rule16_offline_gives_the_same_selection(tmp_path: Path, store: Store) -> None:
    config = write(tmp_path, [{"match": {"title": "Anti-Bribery*"}, "roster": ["invitees"]}])
    online = run_fetch(config, store)
    offline = load_offline(config, store)
    assert offline.selections == online.selections
    assert offline.data == online.data
    assert offline.failures == []


# -- rule 17 ---------------------------------------------------------------------------------


def test_rule17_instance_named_by_id_outside_the_period_is_left_out_with_a_warning(
    tmp_path: Path, store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    october_6 = next(
        m["id"]
        for m in demo()["meetings"]
        if m.get("meetingSeriesId") == SERIES and m["meetingType"] == "meeting"
    )
    first_aid = next(
        m["id"]
        for m in demo()["meetings"]
        if m["title"] == "First Aid Refresher" and m["meetingType"] == "meeting"
    )
    config = write(
        tmp_path,
        [{"id": october_6}, {"id": first_aid}],
        period={"from": "2026-10-15", "to": "2026-11-01"},
    )
    outcome = run_fetch(config, store)
    assert [i.id for i in outcome.instances] == [first_aid]
    assert october_6 not in {d.instance.id for d in outcome.data}
    (note,) = [n for n in outcome.notes if october_6 in n]
    assert "outside the period" in note and "meetings[0]" in note
    assert any("outside the period" in r.getMessage() for r in caplog.records)
    offline = load_offline(config, store)
    assert [i.id for i in offline.instances] == [first_aid]
    assert any(october_6 in n for n in offline.notes)


# -- rule 14 ---------------------------------------------------------------------------------


def test_rule14_invitees_are_fetched_for_invitee_rosters_and_every_webinar(
    tmp_path: Path, store: Store
) -> None:
    config = write(
        tmp_path,
        [
            {"match": {"title": "Anti-Bribery*"}, "roster": ["invitees"]},
            {"match": {"type": "webinar"}},
            {"match": {"title": "First Aid*"}},
        ],
    )
    outcome = run_fetch(config, store)
    invitees = {d.instance.title: d.invitees for d in outcome.data}
    anti = invitees["Anti-Bribery Essentials"]
    assert anti is not None and len(anti) == 10
    webinar = invitees["Fire Safety Briefing"]
    assert webinar is not None and sum(i.panelist for i in webinar) == 2
    assert invitees["First Aid Refresher"] is None  # not asked: no roster needs them
    # Every page was fetched and kept: 10 invitees at max=100 is one page per instance.
    kinds = [row["kind"] for row in store.table_rows("pages")]
    assert kinds.count("invitees") == 3  # two Anti-Bribery instances and the webinar


def test_rule14_invitee_roster_leaves_panelists_out_and_unions_with_csv(
    tmp_path: Path, store: Store
) -> None:
    roster_csv = ROOT / "samples" / "roster.csv"
    config = write(
        tmp_path,
        [
            {"match": {"type": "webinar"}, "roster": [str(roster_csv), "invitees"]},
            {"match": {"title": "Anti-Bribery*"}, "roster": ["invitees"]},
        ],
    )
    outcome = run_fetch(config, store)
    rosters, notes = rosters_by_instance(config, outcome.data, outcome.registrants)
    assert notes == []
    csv_people = {e.key for e in load_roster(roster_csv)}
    for data in outcome.data:
        roster = rosters[data.instance.id]
        assert roster is not None
        assert data.invitees is not None
        panelists = {i.email.lower() for i in data.invitees if i.panelist}
        invited = {i.email.lower() for i in data.invitees if not i.panelist}
        if data.instance.scheduled_type == "webinar":
            assert panelists and set(roster.keys) == csv_people | invited
            # A panelist is on the roster only when the CSV names them.
            assert panelists - csv_people <= panelists - set(roster.keys)
        else:
            assert set(roster.keys) == invited
            # Names shown are the roster's: the invitee's displayName.
            assert all(roster.entry_for_key(k).name for k in roster.keys)  # type: ignore[union-attr]


def test_rule14_registrants_approved_only_on_every_instance_of_the_series(
    tmp_path: Path, store: Store
) -> None:
    config = write(tmp_path, [{"match": {"title": "Fire Safety*"}, "roster": ["registrants"]}])
    outcome = run_fetch(config, store)
    (data,) = outcome.data
    series = data.instance.series_id
    assert series is not None
    listed = demo()["registrants"][series]
    approved = {r["email"].lower() for r in listed if r["status"] == "approved"}
    refused = {r["email"].lower() for r in listed if r["status"] != "approved"}
    rosters, _ = rosters_by_instance(config, outcome.data, outcome.registrants)
    roster = rosters[data.instance.id]
    assert roster is not None and set(roster.keys) == approved
    assert refused and not refused & set(roster.keys)
    assert any(e.name and " " in e.name for e in roster)  # firstName lastName
    assert [row["kind"] for row in store.table_rows("pages")].count("registrants") == 1


def test_rule14_registrants_need_a_series_instance_ids_of_one_entry_share_one_request(
    tmp_path: Path, store: Store
) -> None:
    config = write(tmp_path, [{"match": {"title": "Anti-Bribery*"}, "roster": ["registrants"]}])
    outcome = run_fetch(config, store)
    assert len(outcome.data) == 2
    pages = [r for r in store.table_rows("pages") if r["kind"] == "registrants"]
    assert len(pages) == 1  # one series, asked once
    rosters, notes = rosters_by_instance(config, outcome.data, outcome.registrants)
    assert all(r is not None and len(r) == 0 for r in rosters.values())
    assert notes and "no approved registrant" in notes[0]


class _RefuseInvitees(httpx.AsyncBaseTransport):
    """The sandbox, except that GET /meetingInvitees answers 403 (a token without scope)."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/meetingInvitees"):
            body = {
                "message": "no",
                "errors": [{"description": "missing scope"}],
                "trackingId": "t",
            }
            return httpx.Response(403, json=body, request=request)
        return await self.inner.handle_async_request(request)


def test_rule14_invitees_a_roster_needs_fail_the_instance_webinar_roles_only_warn(
    tmp_path: Path, store: Store
) -> None:
    config = write(
        tmp_path,
        [
            {"match": {"title": "Anti-Bribery*"}, "roster": ["invitees"]},
            {"match": {"type": "webinar"}},
        ],
    )
    outcome = run_fetch(
        config, store, transport=_RefuseInvitees(sandbox_transport(copy.deepcopy(demo())))
    )
    failed = {f.instance_id for f in outcome.failures}
    assert len(failed) == 2 and all("403" in f.message for f in outcome.failures)
    (webinar,) = outcome.data
    assert webinar.invitees is None
    assert any("panelists are not told apart" in p for p in webinar.page_problems)


def test_rule14_union_keeps_the_first_name_and_adds_free_aliases() -> None:
    from reporting.roster import Person, Roster, RosterEntry, roster_from_people, union_rosters

    csv = Roster(
        (RosterEntry("a@x.io", "Anna CSV", "Finance", ("anna@old.io",)),),
    )
    invited = roster_from_people(
        [Person("A@X.IO", "Anna Webex"), Person("b@x.io", "Ben")], "invitees"
    )
    merged = union_rosters([csv, invited])
    assert merged is not None
    assert merged.keys == ("a@x.io", "b@x.io")
    anna = merged.entry_for_key("a@x.io")
    assert anna is not None and anna.name == "Anna CSV" and anna.department == "Finance"
    assert merged.key_for_email("anna@old.io") == "a@x.io"


# -- rule 15 (what the fetch hands the engine) -----------------------------------------------


def test_rule15_restarted_instances_carry_their_shared_scheduled_meeting_id(
    tmp_path: Path, store: Store
) -> None:
    config = write(tmp_path, [{"match": {"title": "Anti-Bribery*"}}])
    outcome = run_fetch(config, store)
    first, second = outcome.instances
    assert first.scheduled_meeting_id is not None
    assert first.scheduled_meeting_id == second.scheduled_meeting_id
    assert first.series_id == second.series_id and first.id != second.id
    assert first.end is not None and second.start is not None and first.end < second.start


def test_invitees_and_registrants_are_reused_from_the_store(tmp_path: Path, store: Store) -> None:
    config = write(
        tmp_path,
        [
            {"match": {"title": "Anti-Bribery*"}, "roster": ["invitees"]},
            {"match": {"title": "Fire Safety*"}, "roster": ["registrants"]},
        ],
    )
    first = run_fetch(config, store)
    second = run_fetch(config, store, run_id="run2")
    assert second.data == first.data and second.registrants == first.registrants
    asked = [r for r in store.table_rows("pages") if r["run_id"] == "run2"]
    assert {r["kind"] for r in asked} == {"meetings"}  # only the lists of meetings again


def test_registrants_are_asked_again_for_another_period_of_a_series(
    tmp_path: Path, store: Store
) -> None:
    """A series that goes on gains registrants: a later month never reuses an older list."""
    entry = [{"match": {"title": "Fire Safety*"}, "roster": ["registrants"]}]
    run_fetch(write(tmp_path, entry), store)
    (tmp_path / "november").mkdir()
    later = write(tmp_path / "november", entry, period={"from": "2026-10-10", "to": "2026-11-01"})
    run_fetch(later, store, run_id="run2")
    asked = [r["run_id"] for r in store.table_rows("pages") if r["kind"] == "registrants"]
    assert asked == ["run1", "run2"]
