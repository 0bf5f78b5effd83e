"""Benchmark: 1,000,000 device intervals (~300,000 person-meeting rows) → attendance.csv.

    .venv/bin/python bench/engine_speed.py [--devices N] [--overrides N] [--no-reference]

The input has what a month of audits has (rules 7 and 10-13): a roster of the people,
with aliases and some phones, on every meeting (``roster_phone_region: DE``); dial-in
callers without an email (one in 50 people: half of them on the roster, found by number,
half unidentified, with hints); and 10,000 reviewer decisions (excused, present, absent
per instance, course or ``*``, and ``same_as`` for callers).

The records are built, then held as what the store keeps and the fetch hands on: JSON page
bodies of 100 records (``ParticipantPages``), the records themselves dropped (not timed).
Every contestant starts from those same bytes, and what is timed is the whole job:

- the product: ``compute`` (the pages decoded against the schema straight into its
  columns, BAD_RECORD checked) plus writing attendance.csv with its own writer
  (``reporting.render.csv``, times in Europe/Berlin);
- the plain reference of tests/attendance_reference.py: its ``reference_compute`` over
  the records (read from the pages as dicts with the schema check, as the fetch read them
  before), then its plain ``reference_attendance_csv`` (one cell at a time through the csv
  module);
- a plain pandas pipeline written here: the pages decoded to dicts (msgspec, the faster
  plain reader), device rows, ``pd.to_datetime``, clip, groupby-cummax union, threshold,
  ``to_csv``.

Prints wall times, the speed-ups, whether the engine's and the reference's CSVs have the
same bytes, the CSV's SHA-256 (the same input must always give the same bytes) and the
peak RSS while the product runs (the page bytes included: they are its input).
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import logging
import multiprocessing
import resource
import sys
import tempfile
import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
import numpy as np
import pandas as pd

from reporting.attendance import compute, ingest
from reporting.model import Instance, InstanceRecords
from reporting.overrides import Override
from reporting.participants import ParticipantPages
from reporting.render.csv import write_attendance_csv
from reporting.roster import Roster, RosterEntry

ROOT = Path(__file__).resolve().parents[1]
T0 = datetime(2026, 10, 1, 8, 0, tzinfo=UTC)
TZ = "Europe/Berlin"


def load_reference():  # type: ignore[no-untyped-def]
    path = ROOT / "tests" / "attendance_reference.py"
    spec = importlib.util.spec_from_file_location("attendance_reference", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["attendance_reference"] = module
    spec.loader.exec_module(module)
    return module


def iso(ms: np.ndarray) -> list[str]:
    text = np.datetime_as_string(ms.astype("datetime64[ms]"), unit="ms")
    return [t + "Z" for t in text.tolist()]


def build(n_devices: int, people_per_meeting: int, seed: int = 7) -> list[InstanceRecords]:
    """About 3.3 devices per person: most join once on a laptop + phone + a rejoin, some
    come back in a second record. Times are spread over the hour, with overlaps."""
    rng = np.random.default_rng(seed)
    data: list[InstanceRecords] = []
    devices_made = 0
    meeting = 0
    while devices_made < n_devices:
        start = T0 + timedelta(days=meeting // 8, hours=meeting % 8)
        end = start + timedelta(hours=1)
        s_ms = (start - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(milliseconds=1)
        n_people = people_per_meeting
        records_per = np.where(rng.random(n_people) < 0.3, 2, 1)
        n_rec = int(records_per.sum())
        devs_per = np.where(records_per.repeat(records_per) == 2, 2, 3)
        n_dev = int(devs_per.sum())
        j = s_ms + rng.integers(-300_000, 2_400_000, n_dev)
        left = j + rng.integers(60_000, 2_400_000, n_dev)
        j_s, l_s = iso(j), iso(left)
        dur = ((left - j) // 1000).tolist()
        rec_j = iso(s_ms + rng.integers(-300_000, 600_000, n_rec))
        rec_l = iso(s_ms + rng.integers(2_400_000, 3_900_000, n_rec))
        phones = rng.random(n_dev) < 0.2
        records = []
        d = 0
        r = 0
        for person in range(n_people):
            caller = person % 50 == 7  # dials in without an email
            for nth in range(int(records_per[person])):
                devices = []
                for _ in range(int(devs_per[r])):
                    dev = {
                        "correlationId": f"c{meeting}-{d}",
                        "deviceType": "webex_meeting_center_mac",
                        "audioType": "pstn" if phones[d] else "voip",
                        "joinedTime": j_s[d],
                        "leftTime": l_s[d],
                        "durationSecond": dur[d],
                    }
                    if phones[d] or caller:
                        dev["callType"] = "callIn"
                        dev["phoneNumber"] = f"+49 30 {person:07d}"
                    devices.append(dev)
                    d += 1
                # A caller's second record (a rejoin from the laptop) has the email: the
                # unidentified callers get hints from it.
                record_email = (
                    {} if caller and nth == 0 else {"email": f"person{person}@example.com"}
                )
                records.append(
                    {
                        "id": f"{meeting}-{r}",
                        **record_email,
                        "displayName": f"Person {person}",
                        "host": person == 0,
                        "coHost": False,
                        "state": "end",
                        "joinedTime": rec_j[r],
                        "leftTime": rec_l[r],
                        "devices": devices,
                        "breakoutSessionsAttended": (
                            [
                                {
                                    "id": "b1",
                                    "name": "Room 1",
                                    "joinedTime": j_s[d - 1],
                                    "leftTime": l_s[d - 1],
                                }
                            ]
                            if person % 10 == 0
                            else []
                        ),
                    }
                )
                r += 1
        devices_made += n_dev
        inst = Instance(
            id=f"series_I_{meeting}",
            entry_index=meeting % 4,
            entry_id=f"series{meeting % 4}",
            course=f"course-{meeting % 4}",
            title=f"Training {meeting}",
            series_id=None,
            start=start,
            end=end,
            state="ended",
            host_email=None,
        )
        data.append(InstanceRecords(inst, tuple(records)))
        meeting += 1
    return data


def as_pages(data: list[InstanceRecords]) -> list[InstanceRecords]:
    """The records as page bodies of 100, as the store holds them."""
    encode = msgspec.json.Encoder().encode
    return [
        InstanceRecords(
            d.instance,
            ParticipantPages(
                encode({"items": list(d.records[i : i + 100])})
                for i in range(0, len(d.records), 100)
            ),
        )
        for d in data
    ]


def built_pages(
    n_devices: int, people: int, n_overrides: int
) -> tuple[list[Instance], list[tuple[bytes, ...]], list[Any], int, int]:
    """The bench's input, made in a child process: instances, page bodies, overrides."""
    built = build(n_devices, people)
    pages = as_pages(built)
    n_rec = sum(len(d.records) for d in built)
    n_dev = sum(len(r["devices"]) for d in built for r in d.records)
    overrides = build_overrides(built, people, n_overrides)
    return (
        [d.instance for d in pages],
        [d.records.bodies for d in pages],  # type: ignore[attr-defined]
        overrides,
        n_rec,
        n_dev,
    )


def fresh(data: list[InstanceRecords]) -> list[InstanceRecords]:
    """The same pages, nothing decoded yet (each contestant decodes them itself)."""
    return [
        InstanceRecords(d.instance, ParticipantPages(d.records.bodies))  # type: ignore[attr-defined]
        for d in data
    ]


def build_roster(people: int) -> Roster:
    """Everyone but one in ten, with an alias each and the phones of every other caller
    (national form, as rosters are written in Germany)."""
    return Roster(
        tuple(
            RosterEntry(
                email=f"person{p}@example.com",
                name=f"Person {p}",
                department=f"Dept {p % 7}",
                aliases=(f"p{p}@private.example.org",),
                phones=(f"+4930{p:07d}",) if p % 100 == 7 else (),
            )
            for p in range(people)
            if p % 10 != 3
        ),
        source="bench roster",
    )


def build_overrides(data: list[InstanceRecords], people: int, n: int, seed: int = 11) -> list[Any]:
    rng = np.random.default_rng(seed)
    scopes = [d.instance.id for d in data]
    courses = sorted({d.instance.course for d in data})
    decisions = ["excused", "present", "absent"]
    out: list[Any] = []
    for line in range(2, n + 2):
        person = int(rng.integers(0, people))
        kind = rng.random()
        if person % 50 == 7 and kind < 0.01:
            out.append(
                Override(
                    f"tel:+49 30 {person:07d}",
                    "*",
                    "same_as",
                    f"person{person}@example.com",
                    "their phone",
                    "lead@example.com",
                    date(2026, 11, 3),
                    line,
                    "bench.csv",
                )
            )
            continue
        scope = (
            scopes[int(rng.integers(0, len(scopes)))]
            if kind < 0.9
            else courses[int(rng.integers(0, len(courses)))]
            if kind < 0.99
            else "*"
        )
        out.append(
            Override(
                f"person{person}@example.com",
                scope,
                decisions[line % 3],
                None,
                "reviewed",
                "lead@example.com",
                date(2026, 11, 3),
                line,
                "bench.csv",
            )
        )
    return out


def rss_mib() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * resource.getpagesize() / 2**20


class PeakRss:
    """The largest resident set while the block runs, sampled every 2 ms (ru_maxrss keeps
    the whole process's peak, which building the input may have set)."""

    def __enter__(self) -> PeakRss:
        self.start = self.peak = rss_mib()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.002):
            self.peak = max(self.peak, rss_mib())

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_mib())


def plain_pandas(data: list[InstanceRecords], rules: Any, as_of: datetime, out: Path) -> int:
    """The third contestant: the attended-time job as a plain pandas pipeline would write
    it. The pages decoded to dicts, device rows from them (one comprehension), times parsed by
    ``pd.to_datetime``, clipped to the meeting window, the union of each person's
    intervals by sort + groupby-cummax, the threshold, then ``to_csv``.

    It does less than the engine (person key = email, else display name; no fallbacks,
    breakouts, rosters, decisions, flags or roles), so the ratio to it is conservative."""
    decode = msgspec.json.Decoder().decode
    records = [
        [r for body in item.records.bodies for r in decode(body)["items"]]  # type: ignore[attr-defined]
        for item in data
    ]
    rows = [
        (
            m,
            (r.get("email") or "").strip().lower() or "name:" + (r.get("displayName") or ""),
            r.get("displayName"),
            dev.get("joinedTime"),
            dev.get("leftTime"),
        )
        for m, items in enumerate(records)
        for r in items
        if r.get("state") != "lobby"
        for dev in r.get("devices") or ()
    ]
    df = pd.DataFrame(rows, columns=["meeting", "person", "name", "joined", "left"])
    for column in ("joined", "left"):
        df[column] = pd.to_datetime(df[column], utc=True, format="ISO8601", errors="coerce")
    meetings = pd.DataFrame(
        {
            "meeting_id": [d.instance.id for d in data],
            "start": pd.to_datetime([d.instance.start for d in data], utc=True),
            "end": pd.to_datetime([d.instance.end or as_of for d in data], utc=True),
        }
    )
    df = df.join(meetings[["start", "end"]], on="meeting")
    df["joined"] = df["joined"].clip(lower=df["start"])
    df["left"] = df["left"].clip(upper=df["end"])
    df = df[df["left"] > df["joined"]].sort_values(["meeting", "person", "joined"])
    group = df.groupby(["meeting", "person"], sort=False)
    reach = group["left"].cummax()
    before = reach.groupby([df["meeting"], df["person"]]).shift()
    df["block"] = (before.isna() | (df["joined"] > before)).cumsum()
    blocks = df.groupby("block").agg(
        meeting=("meeting", "first"),
        person=("person", "first"),
        name=("name", "first"),
        start=("joined", "min"),
        end=("left", "max"),
    )
    blocks["seconds"] = (blocks["end"] - blocks["start"]).dt.total_seconds()
    people = blocks.groupby(["meeting", "person"], sort=True).agg(
        display_name=("name", "first"),
        attended_seconds=("seconds", "sum"),
        first_join=("start", "min"),
        last_leave=("end", "max"),
        segments=("start", "size"),
    )
    people = people.reset_index().join(meetings, on="meeting")
    meeting_seconds = (people["end"] - people["start"]).dt.total_seconds()
    people["attended_seconds"] = people["attended_seconds"].astype("int64")
    share = float(rules.min_attendance.percent or 0) / 100
    people["status"] = np.where(
        people["attended_seconds"] >= share * meeting_seconds, "complete", "partial"
    )
    people.drop(columns=["meeting", "start", "end"]).to_csv(out, index=False)
    return len(people)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--devices", type=int, default=1_000_000)
    parser.add_argument("--people", type=int, default=1000, help="people per meeting")
    parser.add_argument("--overrides", type=int, default=10_000)
    parser.add_argument("--no-reference", action="store_true")
    parser.add_argument(
        "--one-core",
        action="store_true",
        help="read the pages in this process alone (the product does below a size)",
    )
    args = parser.parse_args()
    if args.one_core:
        ingest.PARALLEL_MIN_BYTES = sys.maxsize
    # The second reader's share, its memory file and its own peak (a process of its own:
    # not in the peak RSS below).
    shares = logging.getLogger(ingest.__name__)
    shares.setLevel(logging.DEBUG)
    shares.addHandler(logging.StreamHandler(sys.stdout))

    t = time.perf_counter()
    # Built in a child process: the records' memory, once freed, would stay in this
    # process's heap and hide what the product itself needs at its peak.
    with multiprocessing.get_context("fork").Pool(1) as pool:
        instances, bodies, overrides, n_rec, n_dev = pool.apply(
            built_pages, (args.devices, args.people, args.overrides)
        )
    data = [InstanceRecords(i, ParticipantPages(b)) for i, b in zip(instances, bodies, strict=True)]
    del instances, bodies
    pages_mib = sum(len(b) for d in data for b in d.records.bodies) / 2**20  # type: ignore[attr-defined]
    print(
        f"built {len(data)} meetings, {n_rec:,} records, {n_dev:,} devices, as "
        f"{sum(len(d.records.bodies) for d in data):,} pages of JSON ({pages_mib:.0f} MiB) "  # type: ignore[attr-defined]
        f"in {time.perf_counter() - t:.1f} s (not timed)"
    )
    roster = build_roster(args.people)
    rosters = {d.instance.id: roster for d in data}
    print(
        f"roster of {len(roster):,} people on every meeting, {len(overrides):,} overrides, "
        "callers without an email (not timed)"
    )
    from attendance_reference import Rules

    rules = Rules()
    as_of = datetime(2026, 12, 1, tzinfo=UTC)

    with tempfile.TemporaryDirectory() as tmp, PeakRss() as memory:
        t0 = time.perf_counter()
        result = compute(data, rules, rosters, as_of, overrides=overrides, phone_region="DE")
        t1 = time.perf_counter()
        path = write_attendance_csv(result, Path(tmp), TZ)
        t2 = time.perf_counter()
        size = path.stat().st_size
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
    # The devices table is built on first use (attendance.csv does not need it); what it
    # costs is shown apart, so the figure above hides nothing a full run pays.
    t5 = time.perf_counter()
    n_device_rows = len(result.devices)
    devices_s = time.perf_counter() - t5
    compute_s, csv_s, engine_s = t1 - t0, t2 - t1, t2 - t0
    print(
        f"engine: compute {compute_s:.2f} s + attendance.csv {csv_s:.2f} s "
        f"= {engine_s:.2f} s wall for {len(result.attendance):,} rows "
        f"({size / 2**20:.0f} MiB CSV, sha256 {digest[:16]}) (target ≤ 5 s, issue 16 ≤ 1.5 s)"
    )
    print(
        f"devices table ({n_device_rows:,} rows, built on first use, not part of the "
        f"figure above): {devices_s:.2f} s"
    )
    print(
        f"peak RSS during the engine run: {memory.peak:.0f} MiB = {memory.peak / 1024:.2f} GiB "
        f"(of which {memory.start:.0f} MiB is the process with the input pages in memory "
        f"before it; the engine added {memory.peak - memory.start:.0f} MiB) (target ≤ 1.2 GiB)"
    )

    with tempfile.TemporaryDirectory() as tmp, PeakRss() as pandas_memory:
        t7 = time.perf_counter()
        pandas_rows = plain_pandas(fresh(data), rules, as_of, Path(tmp) / "attendance.csv")
        pandas_s = time.perf_counter() - t7
    print(
        f"plain pandas pipeline: {pandas_s:.2f} s wall for {pandas_rows:,} rows (peak "
        f"{pandas_memory.peak:.0f} MiB, added {pandas_memory.peak - pandas_memory.start:.0f} "
        f"MiB); the engine is {pandas_s / engine_s:.2f}× as fast (target ≥ 2.5×), doing more"
    )

    if not args.no_reference:
        reference = sys.modules["attendance_reference"]
        reference_data = fresh(data)
        t3 = time.perf_counter()
        rows, _ = reference.reference_compute(
            reference_data, rules, rosters, as_of, overrides=overrides, phone_region="DE"
        )
        t4 = time.perf_counter()
        reference_csv = reference.reference_attendance_csv(rows, ZoneInfo(TZ))
        t6 = time.perf_counter()
        assert len(rows) == len(result.attendance)
        reference_s, reference_csv_s = t4 - t3, t6 - t4
        same = hashlib.sha256(reference_csv).hexdigest() == digest
        print(
            f"reference: compute {reference_s:.2f} s + attendance.csv {reference_csv_s:.2f} s "
            f"= {reference_s + reference_csv_s:.2f} s wall; the two CSVs are "
            f"{'byte-identical' if same else 'DIFFERENT'}"
        )
        print(
            f"speed-up: compute alone {reference_s / compute_s:.1f}×; pages → "
            f"attendance.csv {(reference_s + reference_csv_s) / engine_s:.1f}× "
            "(targets ≥ 10×, issue 16 ≥ 20×)"
        )
    flags = result.attendance["flags"]
    print(
        f"part two: {int(result.attendance['required'].sum()):,} required rows, "
        f"{int(flags.str.contains('OVERRIDDEN').sum()):,} overridden, "
        f"{int(flags.str.contains('UNIDENTIFIED_CALLER').sum()):,} unidentified callers "
        f"({len(result.caller_hints):,} hints), "
        f"{int(result.attendance['seen_as'].notna().sum()):,} rows with seen_as, "
        f"{len(result.unmatched_overrides):,} overrides matched no row"
    )
    print("figures are from a shared 2-core machine and are contended")


if __name__ == "__main__":
    load_reference()
    main()
