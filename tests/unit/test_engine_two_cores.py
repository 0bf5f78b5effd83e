"""The pages read on two cores (`reporting.attendance.ingest`) give the very bytes and
tables that one process reading them gives, BAD_RECORD included.

Inputs this small are read in one process in the product; the tests lower the size
threshold and the block size so every instance is a block, and hold this process back
until the second reader has claimed blocks, so both readers really read some.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import multiprocessing.context
import os
import re
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from reporting.attendance import compute, ingest
from reporting.attendance.ingest import _TwoCores
from reporting.model import Instance, InstanceRecords
from reporting.participants import ParticipantPages
from reporting.render.csv import write_csvs
from reporting.roster import Roster, RosterEntry
from tests.attendance_reference import Rules

T0 = datetime(2026, 10, 1, 8, 0, tzinfo=UTC)
_ORIGINAL_READ_HERE = _TwoCores._read_here


def _record(meeting: int, person: int, bad: bool) -> dict[str, Any]:
    start = T0 + timedelta(days=meeting)
    joined = (start + timedelta(minutes=person % 20)).isoformat().replace("+00:00", "Z")
    left = (start + timedelta(minutes=40 + person % 30)).isoformat().replace("+00:00", "Z")
    caller = person % 9 == 4
    device: dict[str, Any] = {"correlationId": f"c{person}", "joinedTime": joined}
    device |= {"leftTime": left, "durationSecond": 600 if person % 5 else 599.5}
    if caller or person % 4 == 0:
        device |= {"callType": "callIn", "phoneNumber": f"+49 30 {person:07d}"}
    record: dict[str, Any] = {
        "id": f"{meeting}-{person}",
        "displayName": f"Person {person}" if person % 11 else "  ",
        "host": person == 0,
        "state": "lobby" if person % 13 == 12 else "end",
        "joinedTime": joined,
        "leftTime": left if person % 7 else "not a time",
        "devices": [device] if person % 6 else [],
        "breakoutSessionsAttended": (
            [{"id": "b1", "name": "Room", "joinedTime": joined, "leftTime": left}]
            if person % 3 == 0
            else []
        ),
    }
    if not caller:
        record["email"] = f" Person{person}@Example.com "
    if bad and person == 3:
        record["joinedTime"] = 5  # the wrong type: BAD_RECORD, read as the fetch reads it
        device["durationSecond"] = "x"
    return record


def _data(n_meetings: int) -> list[InstanceRecords]:
    data = []
    for m in range(n_meetings):
        # The last instance, the first the second reader claims, has a bad record.
        records = [_record(m, p, bad=m == n_meetings - 1) for p in range(25 + m)]
        bodies = [
            json.dumps({"items": records[i : i + 10]}).encode() for i in range(0, len(records), 10)
        ]
        start = T0 + timedelta(days=m)
        instance = Instance(
            id=f"series_I_{m}",
            entry_index=m % 2,
            entry_id=f"series{m % 2}",
            course=f"course-{m % 2}",
            title=f"Training {m}",
            series_id=None,
            start=start,
            end=start + timedelta(hours=1),
            state="ended",
            host_email=None,
        )
        data.append(InstanceRecords(instance, ParticipantPages(bodies)))
    return data


ROSTER = Roster(
    tuple(
        RosterEntry(email=f"person{p}@example.com", name=f"P {p}", department="D", phones=())
        for p in range(0, 30, 2)
    ),
    source="test",
)


def _run(data: list[InstanceRecords], out: Path) -> tuple[Any, dict[str, bytes]]:
    rosters = {d.instance.id: ROSTER for d in data}
    result = compute(data, Rules(), rosters, T0 + timedelta(days=30), phone_region="DE")
    paths = write_csvs(result, out, "Europe/Berlin")
    return result, {p.name: p.read_bytes() for p in paths}


def _held_back(self: _TwoCores, block: int, *, serve: bool) -> None:
    """This process's first block waits until the second reader has claimed two."""
    deadline = time.monotonic() + 60
    while serve and block == 0 and self.back > len(self.blocks) - 2 and not self.done:
        assert time.monotonic() < deadline, "the second reader claimed nothing in 60 s"
        self._serve()
        time.sleep(0.01)
    _ORIGINAL_READ_HERE(self, block, serve=serve)


def test_two_readers_give_the_bytes_one_gives(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, ingest.__name__)
    one, one_csv = _run(_data(8), tmp_path / "one")
    monkeypatch.setattr(ingest, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(ingest, "BLOCK_BYTES", 1)
    monkeypatch.setattr(_TwoCores, "_read_here", _held_back)
    claimed: list[int] = []
    original_answer = _TwoCores._answer

    def answer(self: _TwoCores, message: Any) -> None:
        original_answer(self, message)
        claimed.append(len(self.blocks) - self.back)

    monkeypatch.setattr(_TwoCores, "_answer", answer)
    data = _data(8)
    two, two_csv = _run(data, tmp_path / "two")
    assert max(claimed) >= 2  # the second reader claimed blocks...
    # ...read all but the one with the bad record, which was read here
    read_there = re.search(r"second reader: (\d+) of 8 blocks", caplog.text)
    assert read_there is not None and int(read_there[1]) >= 1
    assert "has a bad record, read here" in caplog.text
    assert "lost" not in caplog.text
    assert two_csv == one_csv
    for name in ("attendance", "devices", "breakouts", "courses", "caller_hints"):
        pd.testing.assert_frame_equal(getattr(two, name), getattr(one, name), check_exact=True)
    assert [d.record_problems for d in data] == [d.record_problems for d in _data(8)]
    assert "BAD_RECORD" in one_csv["attendance.csv"].decode()


def test_a_reader_that_never_starts_costs_nothing_but_time(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _, one_csv = _run(_data(4), tmp_path / "one")
    monkeypatch.setattr(ingest, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(ingest, "BLOCK_BYTES", 1)

    def no_start(self: object) -> None:
        raise OSError("no fork server here")

    monkeypatch.setattr(multiprocessing.context.ForkServerProcess, "start", no_start)
    _, two_csv = _run(_data(4), tmp_path / "two")
    assert two_csv == one_csv


def test_a_reader_still_starting_is_not_waited_for(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _, one_csv = _run(_data(4), tmp_path / "one")
    monkeypatch.setattr(ingest, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(ingest, "BLOCK_BYTES", 1)
    release = threading.Event()
    starting: list[Any] = []
    original = multiprocessing.context.ForkServerProcess.start

    def slow_start(self: Any) -> None:
        starting.append(self)
        assert release.wait(60)
        original(self)

    monkeypatch.setattr(multiprocessing.context.ForkServerProcess, "start", slow_start)
    _, two_csv = _run(_data(4), tmp_path / "two")  # returns while the worker is starting
    assert starting and not release.is_set()
    assert two_csv == one_csv
    release.set()
    # Started late, it finds the read over and exits; the starting thread reaps it.
    deadline = time.monotonic() + 60
    while starting[0].exitcode is None:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert starting[0].exitcode == 0


@pytest.mark.timeout(60)
def test_a_block_of_many_small_pages_goes_to_the_reader_and_back(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # More pages than one writev takes (IOV_MAX, 1024), and a layout larger than the pipe
    # holds while the reader sends a large block back (it used to wait on this process,
    # which waited on it: a hang).
    def data() -> list[InstanceRecords]:
        out = _data(3)
        records = [_record(3, p, bad=False) for p in range(5000)]
        bodies = [json.dumps({"items": records[i : i + 100]}).encode() for i in range(0, 5000, 100)]
        out[1] = InstanceRecords(out[1].instance, ParticipantPages([b'{"items": []}'] * 30_000))
        out[2] = InstanceRecords(out[2].instance, ParticipantPages(bodies))
        return out

    caplog.set_level(logging.DEBUG, ingest.__name__)
    _, one_csv = _run(data(), tmp_path / "one")
    monkeypatch.setattr(ingest, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(ingest, "BLOCK_BYTES", 1)
    monkeypatch.setattr(_TwoCores, "_read_here", _held_back)
    _, two_csv = _run(data(), tmp_path / "two")
    assert "lost" not in caplog.text
    read_there = re.search(r"second reader: (\d+) of 3 blocks", caplog.text)
    assert read_there is not None and int(read_there[1]) == 2
    assert two_csv == one_csv


@pytest.mark.parametrize("fails", ["memfd", "pipe", "thread"])
def test_a_reader_that_cannot_be_set_up_costs_nothing_but_time(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, fails: str
) -> None:
    _, one_csv = _run(_data(4), tmp_path / "one")
    monkeypatch.setattr(ingest, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(ingest, "BLOCK_BYTES", 1)

    def refused(*_: object, **__: object) -> None:
        if fails == "thread":
            raise RuntimeError("can't start new thread")
        raise OSError(24, "Too many open files")

    owners = {"memfd": os, "pipe": multiprocessing, "thread": threading.Thread}
    owner: object = owners[fails]
    name = {"memfd": "memfd_create", "pipe": "Pipe"}.get(fails, "start")
    open_before = len(list(Path("/proc/self/fd").iterdir()))
    with monkeypatch.context() as patch:
        patch.setattr(owner, name, refused)
        _, two_csv = _run(_data(4), tmp_path / "two")
    assert two_csv == one_csv
    assert len(list(Path("/proc/self/fd").iterdir())) == open_before  # nothing left open
