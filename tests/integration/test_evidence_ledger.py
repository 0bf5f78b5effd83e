"""Who still needs a report (one rule for the run and --dry-run), content keys, corrections
held or forced, and the run folders, on real parts (an SQLite ledger, a real SMTP server,
files on disk).
"""

from __future__ import annotations

import dataclasses
import json
import zlib
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from reporting.delivery import RenderedReport, deliver
from reporting.delivery.content_key import (
    LISTED,
    ReportContent,
    describe_changes,
    report_content,
)
from reporting.delivery.ledger import LedgerEntry, decide, needs
from reporting.manifest import verify_outputs
from reporting.run_folder import RunFolder
from tests.deliver_support import (
    LEDGER_KEY,
    PASSWORD,
    USER,
    EmailCfg,
    Input,
    MemoryLedger,
    SmtpServer,
    make_certificate,
    make_report,
    make_result,
    smtp_server,
)

CRITERIA = {"min_attendance": "80%", "sessions_required": "all"}


def entry(id: int, recipient: str, status: str, key: str = "", run: str = "r") -> LedgerEntry:
    return LedgerEntry(id, "k", run, "rep", recipient, status, "", f"<{id}@x>", key, (), "", "")


# -- the rule ---------------------------------------------------------------------------------


def test_decide_covers_every_state_and_compares_addresses_casefolded() -> None:
    rows = [
        entry(1, "Straße@x.io", "sent", "sha256:a"),  # casefold: STRASSE@x.io is the same
        entry(2, "same@x.io", "sent", "sha256:b"),
        entry(3, "refused@x.io", "refused", "sha256:a"),
        entry(4, "doubt@x.io", "sent", "sha256:a", run="r1"),
        entry(5, "doubt@x.io", "sending", "sha256:a", run="r2"),
        entry(6, "legacy@x.io", "sent", ""),
        entry(7, "failed@x.io", "failed", "sha256:a"),
    ]
    wanted = [
        "STRASSE@X.IO",
        "same@x.io",
        "refused@x.io",
        "doubt@x.io",
        "legacy@x.io",
        "failed@x.io",
        "new@x.io",
    ]
    got = {d.recipient: d for d in decide(rows, wanted, content_key="sha256:b")}
    assert {r: d.action for r, d in got.items()} == {
        "STRASSE@X.IO": "correct",
        "same@x.io": "has-it",
        "refused@x.io": "send",
        "doubt@x.io": "doubt",
        "legacy@x.io": "has-it",  # sent before content keys: nothing says it changed
        "failed@x.io": "send",
        "new@x.io": "send",
    }
    assert got["STRASSE@X.IO"].supersedes == rows[0]
    held = decide(rows, ["STRASSE@X.IO"], content_key="sha256:b", hold_corrections=True)
    assert [d.action for d in held] == ["hold"]
    # Unknown content (a dry run): whoever received it is "received", nothing more.
    assert [d.action for d in decide(rows, ["same@x.io"], content_key=None)] == ["received"]
    # A later successful send settles an older doubt.
    settled = [*rows, entry(8, "doubt@x.io", "sent", "sha256:b", run="r3")]
    assert [d.action for d in decide(settled, ["doubt@x.io"], content_key="sha256:b")] == ["has-it"]


def test_resend_repeats_a_doubt_as_the_same_message_or_corrects_it() -> None:
    rows = [
        entry(1, "a@x.io", "sent", "sha256:old", run="r1"),
        dataclasses.replace(entry(2, "a@x.io", "sending", "sha256:new", run="r2"), corrects="r1"),
    ]
    (same,) = decide(rows, ["a@x.io"], content_key="sha256:new", resend=True)
    assert same.action == "correct" and same.reuse_message_id == "<2@x>"
    assert same.supersedes == rows[0]
    (changed,) = decide(rows, ["a@x.io"], content_key="sha256:newer", resend=True)
    assert changed.action == "correct" and changed.reuse_message_id is None
    assert changed.supersedes == rows[1]  # the doubt may have arrived: it is replaced
    (plain,) = decide(rows[:1], ["a@x.io"], content_key="sha256:old", resend=True)
    assert plain.action == "send" and plain.forced


def test_the_dry_run_reads_recipients_as_delivery_sends_to_them(tmp_path: Path) -> None:
    """A display name or another case of an address is the recipient delivery sent to: the
    dry run once compared the raw `email_to` text with the ledger and said "send" again."""
    email_to = ("Ann Example <Ann@X.io>", "ann@x.io", "bob@x.io")
    ledger = MemoryLedger()
    report = make_report(tmp_path, "managers", email_to)
    summary = deliver(
        [report],
        EmailCfg(outbox=tmp_path / "outbox"),
        ledger,
        ledger_key=LEDGER_KEY,
        credentials=None,
    )
    assert sorted(o.recipient for o in summary.sent) == ["Ann@X.io", "bob@x.io"]
    preview = needs(ledger, LEDGER_KEY, "managers", email_to, content_key=None)
    assert [(d.recipient, d.action) for d in preview] == [
        ("Ann@X.io", "received"),
        ("bob@x.io", "received"),
    ]
    # No store yet: everyone would be sent it, each once.
    fresh = needs(None, LEDGER_KEY, "managers", email_to, content_key=None)
    assert [(d.recipient, d.action) for d in fresh] == [("Ann@X.io", "send"), ("bob@x.io", "send")]


# -- content keys -----------------------------------------------------------------------------


def _input(folder: Path, **changes: object) -> Input:
    report = make_report(folder, "managers", ("a@x.io",))
    assert isinstance(report.input, Input)
    return dataclasses.replace(report.input, **changes)  # type: ignore[arg-type]


def _content(inp: Input, criteria: dict[str, str] = CRITERIA) -> ReportContent:
    return report_content(_WithProblems(inp), criteria)


@dataclasses.dataclass(frozen=True)
class _WithProblems:
    inner: Input
    page_problems: dict[str, tuple[str, ...]] = dataclasses.field(default_factory=dict)

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)


def test_the_content_key_is_what_the_report_says_not_when(tmp_path: Path) -> None:
    base = _input(tmp_path)
    later = dataclasses.replace(
        base.run, run_id="another", as_of=base.run.as_of + timedelta(days=3), tool_version="9"
    )
    assert _content(base).key == _content(dataclasses.replace(base, run=later)).key
    # Row order is not content either.
    shuffled = make_result()
    shuffled = dataclasses.replace(
        shuffled, attendance=shuffled.attendance.iloc[::-1].reset_index(drop=True)
    )
    assert _content(base).key == _content(dataclasses.replace(base, result=shuffled)).key

    other = make_result()
    other.attendance.loc[2, "status"] = "complete"
    assert _content(dataclasses.replace(base, result=other)).key != _content(base).key
    stricter = {**CRITERIA, "min_attendance": "90%"}
    assert _content(base, stricter).key != _content(base).key
    summary = dataclasses.replace(base, spec=dataclasses.replace(base.spec, audience="other"))
    assert _content(summary).key != _content(base).key


def test_a_correction_says_what_changed(tmp_path: Path) -> None:
    base = _input(tmp_path)
    other = make_result()
    other.attendance.loc[2, "status"] = "complete"
    other.attendance["override"] = ["", "", "present"]
    lines = describe_changes(
        _content(base).snapshot,
        _content(
            dataclasses.replace(base, result=other), {**CRITERIA, "min_attendance": "75%"}
        ).snapshot,
    )
    text = "\n".join(lines)
    assert "Criteria: min_attendance 80% -> 75%" in text
    assert "Rows whose status changed: 1" in text
    assert "•••••••0199 (Security awareness): absent -> complete" in text
    assert "Overrides changed: 1" in text and "none -> present" in text
    assert describe_changes(_content(base).snapshot, _content(base).snapshot) == [
        "Figures changed (attended times or other details); no meeting, status, override "
        "or criterion changed"
    ]
    assert "cannot be listed" in describe_changes(None, _content(base).snapshot)[0]


def _snapshot(meetings: dict[str, str], failed: list[str], rows: list[list[str]]) -> bytes:
    data = {"criteria": CRITERIA, "meetings": meetings, "failed": failed, "rows": rows}
    return zlib.compress(json.dumps(data).encode())


def test_a_correction_names_meetings_and_counts_rows() -> None:
    def rows(numbers: range, status: str) -> list[list[str]]:
        return [["m1", f"p{i}", "", "Intro", status, ""] for i in numbers]

    before = _snapshot({"m1": "Intro", "m2": "Gone"}, ["m3"], rows(range(25), "absent"))
    # p3..p24 stay and change status (22 of them, more than are named); p0..p2 leave,
    # p25..p27 come.
    after = _snapshot(
        {"m1": "Intro", "m3": "Fetched", "m4": "New"},
        ["m2"],
        rows(range(3, 25), "complete") + rows(range(25, 28), "absent"),
    )
    lines = describe_changes(before, after)
    assert lines[:5] == [
        "Meetings added: Fetched (m3); New (m4)",
        "Meetings fetched now that could not be fetched before: Fetched (m3)",
        "Meetings no longer in the report: Gone (m2)",
        "Meetings that could not be fetched this time: Gone (m2)",
        "Rows whose status changed: 22",
    ]
    named = lines[5 : 5 + LISTED]
    assert named[0] == "  - p3 (Intro): absent -> complete"
    assert named[-1] == f"  - p{3 + LISTED - 1} (Intro): absent -> complete"
    assert lines[5 + LISTED :] == [
        "  - and 2 more; see the attached report",
        "Attendance rows added: 3",
        "Attendance rows no longer present: 3",
    ]


# -- delivery: corrections sent, held, forced ----------------------------------------------


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return make_certificate(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def server(certificate: tuple[Path, Path]) -> Iterator[SmtpServer]:
    with smtp_server(*certificate) as running:
        yield running


def test_corrections_are_sent_once_held_on_request_and_forced_by_resend(
    server: SmtpServer, tmp_path: Path
) -> None:
    ledger = MemoryLedger()
    report = make_report(tmp_path, "managers", ("a@example.com", "b@example.com"))
    assert isinstance(report.input, Input)
    changed_input = dataclasses.replace(report.input, result=_failing_bob())
    changed = RenderedReport(input=changed_input, files=report.files)

    def send(
        item: RenderedReport, run_id: str, *, resend: bool = False, hold: bool = False
    ) -> list[str]:
        before = len(server.handler.received)
        config = server.config(corrections="hold" if hold else "send")
        summary = deliver(
            [item],
            config,
            ledger,
            ledger_key=LEDGER_KEY,
            credentials=(USER, PASSWORD),
            ssl_context=server.client_context(),
            run_id=run_id,
            contents={"managers": _content(item.input)},  # type: ignore[arg-type]
            resend=resend,
        )
        assert len(summary.sent) == 2 * (len(server.handler.received) - before)
        return [str(r.message["Subject"]).strip() for r in server.handler.received[before:]]

    assert len(send(report, "run1")) == 1
    assert send(report, "run2") == []  # unchanged content is never sent again
    assert send(changed, "run3", hold=True) == []  # held: only reported
    (subject,) = send(changed, "run4")
    assert subject.startswith("Corrected: ")
    body = server.handler.received[-1].message.get_body(preferencelist=("plain",))
    assert body is not None
    assert "replaces the one sent by run run1" in body.get_content()
    assert "Bob <b>Bold</b> (Security awareness): partial -> absent" in body.get_content()
    html = server.handler.received[-1].message.get_body(preferencelist=("html",))
    assert html is not None and "Bob &lt;b&gt;Bold&lt;/b&gt;" in html.get_content()
    assert send(changed, "run5") == []
    (forced,) = send(changed, "run6", resend=True)
    assert not forced.startswith("Corrected")  # the same content, sent again on request
    rows = ledger.ledger_rows()
    assert [r["corrects"] for r in rows if r["run_id"] == "run4"] == ["run1", "run1"]
    assert {r["run_id"] for r in rows} == {"run1", "run4", "run6"}
    assert ledger.content_snapshot("run1", "managers") is not None


def _failing_bob() -> object:
    result = make_result()
    result.attendance.loc[1, "status"] = "absent"
    return result


# -- run folders -------------------------------------------------------------------------------


def _fake_run(out: Path, run_id: str, files: dict[str, bytes]) -> RunFolder:
    from datetime import UTC, datetime

    from reporting.manifest import write_manifest
    from reporting.model import RunInfo

    folder = RunFolder(out, run_id)
    work = folder.start()
    paths = []
    for name, data in files.items():
        (work / name).write_bytes(data)
        paths.append(work / name)
    moment = datetime(2026, 10, 2, tzinfo=UTC)
    info = RunInfo(run_id, "c.yaml", "h", "2026-09", moment, moment, moment, "UTC", "0")
    write_manifest(
        work, run=info, meetings_fetched=[], meetings_failed=[], row_counts={}, files=paths
    )
    folder.finish()
    folder.publish()
    return folder


def test_each_run_has_its_folder_and_the_top_holds_the_latest(tmp_path: Path) -> None:
    out = tmp_path / "out"
    _fake_run(out, "run1", {"a.csv": b"1", "old.pdf": b"pdf"})
    (out / "notes").mkdir()  # a subfolder of the operator's is left alone
    # A killed run left a partial folder; the next run removes it.
    (out / "runs" / ".dead.partial").mkdir()
    (out / "runs" / ".dead.partial" / "a.csv").write_bytes(b"half")
    _fake_run(out, "run2", {"a.csv": b"2"})
    assert not (out / "runs" / ".dead.partial").exists()
    assert (out / "runs" / "run1" / "a.csv").read_bytes() == b"1"
    assert (out / "runs" / "run1" / "old.pdf").exists()
    assert (out / "a.csv").read_bytes() == b"2"
    # What the previous latest run wrote and this one did not is gone from the top.
    assert not (out / "old.pdf").exists()
    assert json.loads((out / "manifest.json").read_text())["run_id"] == "run2"
    for folder in (out, out / "runs" / "run1", out / "runs" / "run2"):
        assert verify_outputs(folder) == [], folder
    # Copies, not links: editing the latest file leaves the archived run as it was.
    (out / "a.csv").write_bytes(b"edited")
    assert (out / "runs" / "run2" / "a.csv").read_bytes() == b"2"
    assert verify_outputs(out) != [] and verify_outputs(out / "runs" / "run2") == []
