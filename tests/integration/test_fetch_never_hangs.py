"""A monthly cron job must end: looping next links and a trickling server, on loopback.

Each case audits a good meeting and a hostile one through the command line; the hostile
one must end as a failure naming it (exit 3, listed like any other failure) within
``timeout_seconds × (max_retries + 1)`` plus the run's own work.
"""

from __future__ import annotations

import asyncio
import csv
import time
from pathlib import Path

import pytest

from reporting.webex.client import WebexClient, WebexRequestError
from tests.hostile_server import (
    GOOD_MEETING,
    HOSTILE_MEETING,
    HostileServer,
    Reply,
    hostile_config,
    json_reply,
    next_link,
    record,
)
from tests.pipeline_support import run_cli

TOKEN = "hang-test-token-5f1c9e"


def _fetched(out: Path) -> set[str]:
    with (out / "attendance.csv").open(encoding="utf-8", newline="") as handle:
        return {row["meeting_id"] for row in csv.DictReader(handle)}


def _run(tmp_path: Path, server: HostileServer, **webex: object) -> tuple[int, str, float]:
    config = hostile_config(tmp_path, server.base_url, **webex)
    started = time.monotonic()
    result = run_cli("run", str(config), token=TOKEN)
    return result.exit_code, result.output + result.stderr, time.monotonic() - started


def _page(number: int, base: str, *, to: int | None) -> Reply:
    link = [next_link(base, to)] if to is not None else []
    return json_reply({"items": [record(f"P{number}", f"p{number}@example.com")]}, headers=link)


def test_a_next_link_back_to_the_same_page_ends_the_meeting_as_a_failure(tmp_path: Path) -> None:
    with HostileServer(lambda n, base: _page(n, base, to=1)) as server:
        code, output, _ = _run(tmp_path, server)
        asked = sum(1 for r in server.requests if "meetingParticipants" in r)
    assert code == 3, output
    assert "Traceback" not in output
    assert f"not fetched: meeting {HOSTILE_MEETING}" in output
    assert "leads back to page 1 of this list (a loop)" in output
    assert asked <= 3  # page 1, its next link (page 1 again) is never asked
    assert _fetched(tmp_path / "out") == {GOOD_MEETING}


def test_two_pages_pointing_at_each_other_end_the_meeting_as_a_failure(tmp_path: Path) -> None:
    # page 1 -> page 2 -> page 1
    with HostileServer(lambda n, base: _page(n, base, to=2 if n == 1 else 1)) as server:
        code, output, _ = _run(tmp_path, server)
    assert code == 3, output
    assert "Traceback" not in output
    assert f"not fetched: meeting {HOSTILE_MEETING}" in output
    assert "next-page link on page 2 leads back to page 1" in output


def test_next_links_that_never_end_stop_at_the_meetings_ceiling(tmp_path: Path) -> None:
    # Every page names a new one: no URL repeats, so only the page ceiling can end it.
    # A meeting holds at most 10,000 records: 100 pages of 100, plus an empty last one.
    with HostileServer(lambda n, base: _page(n, base, to=n + 1)) as server:
        code, output, _ = _run(tmp_path, server)
        asked = sum(1 for r in server.requests if "meetingParticipants" in r and "bbbb" in r)
    assert code == 3, output
    assert f"not fetched: meeting {HOSTILE_MEETING}" in output
    assert "goes on past 101 pages of 100" in output
    assert asked == 101


def test_a_server_trickling_one_byte_a_second_is_given_up_within_the_deadlines(
    tmp_path: Path,
) -> None:
    body = json_reply({"items": [record("Slow", "slow@example.com")]}).body
    timeout, retries = 1.5, 1

    def trickle(number: int, base: str) -> Reply:
        return Reply(headers=[("Content-Type", "application/json")], body=body, trickle=0.5)

    with HostileServer(trickle) as server:
        code, output, seconds = _run(tmp_path, server, timeout_seconds=timeout, max_retries=retries)
    assert code == 3, output
    assert f"not fetched: meeting {HOSTILE_MEETING}" in output
    assert "gave up after 2 attempts (no complete answer within the deadline" in output
    # The whole run (planning, the good meeting, CSVs) on top of the two attempts.
    # Without the deadline one attempt would take minutes (a byte every half second).
    assert seconds < timeout * (retries + 1) + 6.0, seconds


def test_the_deadline_bounds_a_single_request_of_the_client() -> None:
    body = b'{"items": []}'
    with HostileServer(
        lambda n, base: Reply(headers=[("Content-Type", "application/json")], body=body, trickle=1)
    ) as server:

        async def ask() -> None:
            client = WebexClient(server.base_url, TOKEN, timeout=0.8, max_retries=2)
            async with client:
                async for _ in client.pages(
                    "meetingParticipants", {"meetingId": HOSTILE_MEETING}, what="meeting H"
                ):
                    pass

        started = time.monotonic()
        with pytest.raises(WebexRequestError, match="gave up after 3 attempts"):
            asyncio.run(ask())
        elapsed = time.monotonic() - started
    # Without the deadline each attempt would take 13 s (a byte a second).
    assert elapsed < 0.8 * 3 + 2.0, elapsed
