"""`attendance run` on the demo config, end to end over a real loopback sandbox.

The figures are checked against the dataset file itself: the plain reference
implementation of the rules (tests/attendance_reference.py) is run on the raw records,
and every output (CSV, PDF text, XLSX cells, manifest hashes, outbox) is opened and read.
"""

from __future__ import annotations

import csv
import email
import hashlib
import json
import re
from datetime import datetime
from email import policy
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner, Result
from pypdf import PdfReader

from reporting.cli import main
from reporting.config import load_config
from reporting.discovery.match import selects
from reporting.model import Instance, InstanceRecords, Invitee
from reporting.overrides import load_overrides
from reporting.roster import Person, Roster, load_roster, roster_from_people
from tests.attendance_reference import reference_compute

ATTENDANCE_HEADER = (
    "meeting_id,meeting_title,meeting_start,meeting_end,meeting_seconds,person_key,"
    "display_name,email,is_host,is_cohost,attended_seconds,main_session_seconds,"
    "breakout_seconds,first_join,last_leave,segments,devices,status,flags,"
    "role,required,override,override_reason,override_reviewer,override_date,seen_as"
)
SERIES = "d75df7ee5c1faa9f52135cb13ccc38b7"
OCT_20 = "d75df7ee5c1faa9f52135cb13ccc38b7_I_386417399800811989"


def run_cli(*args: str) -> Result:
    # WEBEX_TOKEN unset: the demo mints a token for its in-process sandbox.
    return CliRunner().invoke(main, list(args), env={"WEBEX_TOKEN": None})


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    import shutil

    root = Path(__file__).resolve().parents[2]
    tree = tmp_path_factory.mktemp("demo")
    for folder in ("configs", "samples"):
        shutil.copytree(root / folder, tree / folder, ignore=shutil.ignore_patterns("*.png"))
    config_path = tree / "configs" / "demo.yaml"
    first = run_cli("run", str(config_path))
    out = tree / "reports" / "demo"
    first_csv = (out / "attendance.csv").read_bytes() if out.exists() else b""
    return {"tree": tree, "config": config_path, "out": out, "first": first, "first_csv": first_csv}


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value)


def reference_rows(tree: Path) -> dict[tuple[str, str], dict[str, Any]]:
    """The rules applied by the plain reference implementation to the raw dataset.

    Which instances each entry stands for, and each instance's roster, are read from the
    dataset here, apart from the product's fetch: an `id` names an instance or its series,
    a `match:` selects by title, host and type (rule 16); rosters are the CSV, the
    invitees that are not panelists, or the approved registrants (rule 14)."""
    config = load_config(tree / "configs" / "demo.yaml")
    dataset = json.loads((tree / "samples" / "demo-dataset.json").read_text(encoding="utf-8"))
    meetings = {m["id"]: m for m in dataset["meetings"]}
    period = (config.period.start, config.period.end)

    def entry_of(meeting: dict[str, Any]) -> int:
        for index, entry in enumerate(config.meetings):
            if entry.id is not None and entry.id in (meeting["id"], meeting["meetingSeriesId"]):
                return index
            if entry.match is not None and selects(entry.match, meeting, period):
                return index
        return -1

    def invitees_of(meeting: dict[str, Any]) -> list[dict[str, Any]]:
        for key in ("id", "scheduledMeetingId", "meetingSeriesId"):
            if meeting.get(key) in dataset["invitees"]:
                return list(dataset["invitees"][meeting[key]])
        return []

    csv_roster = load_roster(tree / "samples" / "roster.csv")
    data = []
    rosters: dict[str, Roster | None] = {}
    for instance_id, records in dataset["participants"].items():
        meeting = meetings[instance_id]
        series = meeting.get("meetingSeriesId")
        index = entry_of(meeting)
        start = parse_time(meeting["start"])
        if index < 0 or not (config.period.start <= start < config.period.end):
            continue
        entry = config.meetings[index]
        sources = entry.roster_sources
        invited = invitees_of(meeting)
        wants_invitees = "invitees" in sources or meeting.get("scheduledType") == "webinar"
        data.append(
            InstanceRecords(
                instance=Instance(
                    id=instance_id,
                    entry_index=index,
                    entry_id=entry.ref,
                    course=entry.course
                    or (entry.match.title if entry.match else None)
                    or entry.ref,
                    title=entry.title or meeting["title"],
                    series_id=series,
                    start=start,
                    end=parse_time(meeting["end"]),
                    state=meeting["state"],
                    host_email=meeting["hostEmail"],
                    scheduled_type=meeting.get("scheduledType", "meeting"),
                    scheduled_meeting_id=meeting.get("scheduledMeetingId"),
                ),
                records=tuple(records),
                invitees=tuple(
                    Invitee(i["email"], i.get("displayName"), bool(i.get("panelist")))
                    for i in invited
                )
                if wants_invitees
                else None,
            )
        )
        if entry.roster_files:
            rosters[instance_id] = csv_roster
        elif "invitees" in sources:
            rosters[instance_id] = roster_from_people(
                (
                    Person(i["email"], i.get("displayName"))
                    for i in invited
                    if not i.get("panelist")
                ),
                "invitees",
            )
        elif "registrants" in sources:
            rosters[instance_id] = roster_from_people(
                (
                    Person(r["email"], f"{r['firstName']} {r['lastName']}")
                    for r in dataset["registrants"].get(series, [])
                    if r["status"] == "approved"
                ),
                "registrants",
            )
        else:
            rosters[instance_id] = None
    rows, _courses = reference_compute(
        data,
        config.rules,
        rosters,
        datetime.fromisoformat("2026-11-02T09:00:00+00:00"),
        overrides=load_overrides(config.overrides) if config.overrides else (),
        phone_region=config.roster_phone_region,
    )
    return {(row["meeting_id"], row["person_key"]): row for row in rows}


def test_run_succeeds_and_writes_every_output(demo: dict[str, Any]) -> None:
    assert demo["first"].exit_code == 0, demo["first"].output
    names = {p.name for p in demo["out"].iterdir()}
    expected = {
        "attendance.csv",
        "devices.csv",
        "courses.csv",
        "compliance.pdf",
        "compliance.xlsx",
        "managers.pdf",
        "manifest.json",
    }
    assert expected <= names
    assert "9 meeting instance(s) audited, 0 failed" in demo["first"].output


def test_attendance_csv_figures_match_the_rules_applied_to_the_dataset(
    demo: dict[str, Any],
) -> None:
    lines = (demo["out"] / "attendance.csv").read_text(encoding="utf-8").splitlines()
    assert lines[0] == ATTENDANCE_HEADER
    rows = read_csv(demo["out"] / "attendance.csv")
    expected = reference_rows(demo["tree"])
    got = {(r["meeting_id"], r["person_key"]): r for r in rows}
    assert set(got) == set(expected)
    for key, row in got.items():
        want = expected[key]
        for column in (
            "attended_seconds",
            "breakout_seconds",
            "meeting_seconds",
            "segments",
            "devices",
        ):
            assert int(row[column]) == want[column], (key, column)
        assert row["status"] == want["status"], key
        assert row["flags"] == want["flags"], key


def test_hand_picked_facts_of_the_demo(demo: dict[str, Any]) -> None:
    rows = read_csv(demo["out"] / "attendance.csv")
    series_rows = [r for r in rows if r["meeting_id"].startswith(SERIES + "_I_")]
    # Two roster people never joined: a row in each of the four October sessions, absent,
    # or excused where samples/overrides.csv records a reviewer's decision (rule 13).
    for person, status in (
        ("simon.braun@example.com", "excused"),
        ("tanja.hartmann@example.com", "absent"),
    ):
        mine = [r for r in series_rows if r["person_key"] == person]
        assert len(mine) == 4
        assert {r["status"] for r in mine} == {status}
        assert {r["attended_seconds"] for r in mine} == {"0"}
    excused = [r for r in series_rows if r["person_key"] == "simon.braun@example.com"]
    assert all("OVERRIDDEN" in r["flags"] and r["override"] == "excused" for r in excused)
    assert {r["override_reviewer"] for r in excused} == {"compliance.lead@example.com"}
    # Rule 12: Clara's own number dialled in; the caller is Clara, not an absentee.
    clara = [r for r in series_rows if r["person_key"] == "clara.weiss@example.com"]
    assert len(clara) == 4 and "absent" not in {r["status"] for r in clara}
    assert any(r["seen_as"] == "tel:+49895550002" for r in clara)
    # One decision of each kind from samples/overrides.csv reaches attendance.csv.
    decisions = {d for r in rows for d in r["override"].split(";") if d}
    assert decisions == {"same_as", "excused", "present", "absent"}
    # A mixed-case email is one person; an alias maps onto the roster email.
    assert not any(
        r["person_key"] != r["person_key"].lower() for r in rows if "@" in r["person_key"]
    )
    assert any(r["person_key"] == "jonas.weber@example.com" for r in series_rows)
    assert not any(r["person_key"] == "j.weber@partner-mail.example" for r in rows)
    # The device whose durationSecond disagrees with its timestamps is flagged, not dropped.
    ben = [
        r
        for r in rows
        if r["meeting_id"] == OCT_20 and r["person_key"] == "ben.mueller@example.com"
    ]
    assert len(ben) == 1 and "DURATION_MISMATCH" in ben[0]["flags"].split(";")
    # The lobby-only guest contributes nothing.
    lobby = [r for r in rows if "LOBBY" in r["flags"].split(";")]
    assert lobby and all(r["attended_seconds"] == "0" for r in lobby)
    # Times are in the config zone: +02:00 before the switch to winter time, +01:00 after.
    starts = {r["meeting_start"][-6:] for r in series_rows}
    assert starts == {"+02:00", "+01:00"}


def test_compliance_pdf_shows_figures_and_phone_numbers(demo: dict[str, Any]) -> None:
    text = "\n".join(
        page.extract_text() for page in PdfReader(demo["out"] / "compliance.pdf").pages
    )
    for title in (
        "Security Awareness Training",
        "Data Protection Basics",
        "Fire Safety Briefing",
        "First Aid Refresher",
    ):
        assert title in text
    assert "Simon Braun" in text
    phones = [r["phone_number"] for r in read_csv(demo["out"] / "devices.csv") if r["phone_number"]]
    assert phones, "the demo has PSTN callers"
    squashed = re.sub(r"\s+", "", text)
    assert any(re.sub(r"\s+", "", p) in squashed for p in phones)
    # A real figure: someone's attended time as h:mm:ss appears in the table.
    row = next(
        r for r in read_csv(demo["out"] / "attendance.csv") if int(r["attended_seconds"]) > 3600
    )
    seconds = int(row["attended_seconds"])
    assert f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}" in text


def test_managers_pdf_masks_every_phone_number(demo: dict[str, Any]) -> None:
    text = "\n".join(page.extract_text() for page in PdfReader(demo["out"] / "managers.pdf").pages)
    digits = re.sub(r"\D", "", text)
    dataset = json.loads(
        (demo["tree"] / "samples" / "demo-dataset.json").read_text(encoding="utf-8")
    )
    numbers = {
        re.sub(r"\D", "", d["phoneNumber"])
        for records in dataset["participants"].values()
        for r in records
        for d in r.get("devices", [])
        if d.get("phoneNumber")
    }
    assert numbers
    for number in numbers:
        assert number not in digits


def test_workbook_cells_agree_with_the_csv(demo: dict[str, Any]) -> None:
    rows = read_csv(demo["out"] / "attendance.csv")
    book = openpyxl.load_workbook(demo["out"] / "compliance.xlsx")
    assert {"Summary", "Attendance", "Devices", "Breakouts", "Courses", "Data quality"} <= set(
        book.sheetnames
    )
    sheet = book["Attendance"]
    header = [c.value for c in next(sheet.iter_rows(max_row=1))]
    assert sheet.freeze_panes == "A2"
    body = [
        dict(zip(header, row, strict=True)) for row in sheet.iter_rows(min_row=2, values_only=True)
    ]
    assert len(body) == len(rows)
    by_key = {(r["Meeting id"], r["Person key"]): r for r in body}
    for row in rows:
        cell = by_key[(row["meeting_id"], row["person_key"])]
        # Durations are real numbers with a duration format, read back as timedeltas.
        assert cell["Attended"].total_seconds() == int(row["attended_seconds"])
        assert cell["Breakouts"].total_seconds() == int(row["breakout_seconds"])
        assert cell["Status"] == row["status"]
        # The CSV prefixes formula-like text with ' (OWASP); the workbook stores it as text.
        name = cell["Name"]
        assert row["display_name"] == ("'" + name if name[0] in "=+-@" else name)
        if row["first_join"]:
            local = datetime.fromisoformat(row["first_join"]).replace(tzinfo=None)
            assert cell["First join"] == local


def test_manifest_hashes_every_output_and_verify_passes(demo: dict[str, Any]) -> None:
    manifest = json.loads((demo["out"] / "manifest.json").read_text(encoding="utf-8"))
    text = json.dumps(manifest)
    assert "7" in text
    hashed = manifest["files"]
    for name in (
        "attendance.csv",
        "devices.csv",
        "courses.csv",
        "compliance.pdf",
        "compliance.xlsx",
        "managers.pdf",
    ):
        entry = (
            hashed[name]
            if isinstance(hashed, dict)
            else next(f for f in hashed if f["name"] == name)
        )
        digest = entry["sha256"] if isinstance(entry, dict) else entry
        assert digest == hashlib.sha256((demo["out"] / name).read_bytes()).hexdigest()
    result = run_cli("verify", str(demo["out"]))
    assert result.exit_code == 0, result.output


def test_outbox_holds_one_message_per_report_with_the_pdf(demo: dict[str, Any]) -> None:
    messages = sorted((demo["out"] / "outbox").glob("*.eml"))
    assert len(messages) == 2
    received = {}
    for path in messages:
        message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        for part in message.iter_attachments():
            received[part.get_filename()] = part.get_payload(decode=True)
    assert received["compliance.pdf"] == (demo["out"] / "compliance.pdf").read_bytes()


def test_rerun_offline_gives_the_same_csv_and_sends_nothing_again(demo: dict[str, Any]) -> None:
    again = run_cli("run", str(demo["config"]), "--offline")
    assert again.exit_code == 0, again.output
    assert (demo["out"] / "attendance.csv").read_bytes() == demo["first_csv"]
    assert len(list((demo["out"] / "outbox").glob("*.eml"))) == 2


def test_tampered_output_fails_verify(demo: dict[str, Any], tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "out"
    shutil.copytree(demo["out"], copy)
    data = bytearray((copy / "courses.csv").read_bytes())
    data[-2] ^= 0x01
    (copy / "courses.csv").write_bytes(bytes(data))
    result = run_cli("verify", str(copy))
    assert result.exit_code == 1
    assert "courses.csv" in result.output


def test_manifest_records_each_match_and_what_it_selected(demo: dict[str, Any]) -> None:
    manifest = json.loads((demo["out"] / "manifest.json").read_text(encoding="utf-8"))
    selections = {s["match"]: s for s in manifest["selections"]}
    assert set(selections) == {
        "match title='data protection*' hosts=sabine.hartmann@example.com",
        "match title='Fire Safety*' type=webinar",
        "match title='Anti-Bribery*'",
    }
    anti = selections["match title='Anti-Bribery*'"]
    assert anti["entry"] == 4 and len(anti["selected"]) == 2
    assert {s["title"] for s in anti["selected"]} == {"Anti-Bribery Essentials"}
    assert all(set(s) == {"title", "start", "host", "id"} for s in anti["selected"])
    fetched = set(manifest["meetings"]["fetched"])
    assert {i["id"] for s in manifest["selections"] for i in s["selected"]} <= fetched


def _pdf_text(path: Path) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(path).pages)


def test_a_restarted_session_is_one_meeting_in_every_report(demo: dict[str, Any]) -> None:
    """Rule 15 on the demo: the dataset's two Anti-Bribery instances (one
    scheduledMeetingId) are one session in the CSVs, both PDFs and the workbook."""
    dataset = json.loads(
        (demo["tree"] / "samples" / "demo-dataset.json").read_text(encoding="utf-8")
    )
    by_scheduled: dict[str, list[dict[str, Any]]] = {}
    for meeting in dataset["meetings"]:
        if meeting["meetingType"] == "meeting" and meeting.get("scheduledMeetingId"):
            by_scheduled.setdefault(meeting["scheduledMeetingId"], []).append(meeting)
    (restarted,) = [
        sorted(m, key=lambda m: m["start"]) for m in by_scheduled.values() if len(m) > 1
    ]
    first, second = restarted[0]["id"], restarted[1]["id"]
    title = restarted[0]["title"]

    rows = [r for r in read_csv(demo["out"] / "attendance.csv") if r["meeting_title"] == title]
    assert rows and {r["meeting_id"] for r in rows} == {first}
    assert all("RESTARTED" in r["flags"].split(";") for r in rows)
    # The session's window runs from the first instance's start to the second's end.
    assert {parse_time(r["meeting_end"]) for r in rows} == {parse_time(restarted[1]["end"])}
    courses = [
        r for r in read_csv(demo["out"] / "courses.csv") if r["course"] == "anti-bribery-2026"
    ]
    assert courses and {r["sessions_total"] for r in courses} == {"1"}

    for name in ("compliance.pdf", "managers.pdf"):
        text = _pdf_text(demo["out"] / name)
        assert second not in re.sub(r"\s+", "", text), name
        assert text.count(f"{title} (") == 1, name  # the per-meeting rates, once
    book = openpyxl.load_workbook(demo["out"] / "compliance.xlsx", read_only=True)
    summary = [
        r for r in book["Summary"].iter_rows(values_only=True) if r and r[0] in (first, second)
    ]
    assert [r[0] for r in summary] == [first]


def test_webinar_panelists_are_apart_from_its_attendees(demo: dict[str, Any]) -> None:
    """Rules 10 and 14 on the demo: the webinar's panelists (its invitees with
    `panelist: true`) get the role `panelist`, are not required, count in no rate, and
    appear under "Other participants", not in the non-compliance list."""
    dataset = json.loads(
        (demo["tree"] / "samples" / "demo-dataset.json").read_text(encoding="utf-8")
    )
    webinars = [m for m in dataset["meetings"] if m.get("scheduledType") == "webinar"]
    panelists = {
        i["email"]
        for m in webinars
        for key in ("id", "scheduledMeetingId", "meetingSeriesId")
        for i in dataset["invitees"].get(m.get(key) or "", [])
        if i.get("panelist")
    }
    webinar_ids = {m["id"] for m in webinars}
    rows = [r for r in read_csv(demo["out"] / "attendance.csv") if r["meeting_id"] in webinar_ids]
    seen = {r["email"] for r in rows if r["email"] in panelists}
    assert seen, "the demo's panelists attend the webinar"
    for row in rows:
        is_panelist = row["email"] in panelists
        assert (row["role"] == "panelist") == is_panelist, row["email"]
        if is_panelist:
            assert row["required"] == "false"

    required = [r for r in rows if r["required"] == "true"]
    done = sum(r["status"] == "complete" for r in required)
    rate = f"{done * 1000 // len(required) / 10:.1f} %"  # rounded down, like every report
    text = _pdf_text(demo["out"] / "compliance.pdf")
    assert f"{rows[0]['meeting_title']} ({rows[0]['meeting_start'][:10]})\n{rate}" in text
    noncompliance = text[: text.index("Other participants")]
    for address in seen:
        name = next(r["display_name"] for r in rows if r["email"] == address)
        assert f"{name} · {address}" in text  # listed, in the meeting's other participants
        assert f"({address}) fire-safety-2026" not in noncompliance
