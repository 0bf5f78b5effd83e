"""Message content, outbox, dry run, size limit and header safety (no SMTP server needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from reporting.delivery import content, deliver
from reporting.delivery.content import header_text
from reporting.errors import DeliveryError
from reporting.model import FetchFailure
from tests.deliver_support import (
    LEDGER_KEY,
    EmailCfg,
    MemoryLedger,
    SmtpCfg,
    attachments_of,
    free_port,
    make_report,
    parse,
)


def outbox_config(tmp_path: Path, **changes: object) -> EmailCfg:
    return EmailCfg(outbox=tmp_path / "outbox", **changes)  # type: ignore[arg-type]


def eml_files(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "outbox").glob("*.eml"))


def body_texts(raw: bytes) -> tuple[str, str]:
    msg = parse(raw)
    text = msg.get_body(preferencelist=("plain",))
    html = msg.get_body(preferencelist=("html",))
    assert text is not None and html is not None
    return str(text.get_content()), str(html.get_content())


def test_outbox_writes_one_parseable_eml_per_report_once(tmp_path: Path) -> None:
    reports = [
        make_report(tmp_path / "out", "compliance", ("c@example.com",), audience="compliance"),
        make_report(tmp_path / "out", "managers", ("m1@example.com", "m2@example.com")),
    ]
    ledger = MemoryLedger()
    summary = deliver(
        reports, outbox_config(tmp_path), ledger, ledger_key=LEDGER_KEY, credentials=None
    )
    files = eml_files(tmp_path)
    assert len(files) == 2
    assert all(f.name.startswith("2026-10_") for f in files)
    by_report = {parse(f.read_bytes())["X-Attendance-Report"]: f for f in files}
    for name, path in by_report.items():
        msg = parse(path.read_bytes())
        assert attachments_of(msg) == {
            f"{name}.pdf": (tmp_path / "out" / f"{name}.pdf").read_bytes()
        }
        assert msg["From"].addresses[0].addr_spec == "attendance@example.com"
        assert msg["Auto-Submitted"] == "auto-generated"
    assert parse(by_report["managers"].read_bytes())["To"] == "m1@example.com, m2@example.com"
    assert len(summary.sent) == 3
    assert all(o.detail.startswith("outbox:") for o in summary.sent)
    assert len(ledger.rows) == 3
    # No temporary files are left behind for a watcher to pick up.
    assert sorted((tmp_path / "outbox").iterdir()) == files

    again = deliver(
        reports, outbox_config(tmp_path), ledger, ledger_key=LEDGER_KEY, credentials=None
    )
    assert again.sent == [] and len(again.already_sent) == 3
    assert len(eml_files(tmp_path)) == 2


def test_dry_run_sends_and_writes_nothing(tmp_path: Path) -> None:
    reports = [make_report(tmp_path / "out", "managers", ("m@example.com",))]
    ledger = MemoryLedger()
    summary = deliver(
        reports,
        outbox_config(tmp_path),
        ledger,
        ledger_key=LEDGER_KEY,
        credentials=None,
        dry_run=True,
    )
    assert not (tmp_path / "outbox").exists()
    assert ledger.rows == []
    assert [o.recipient for o in summary.would_send] == ["m@example.com"]
    assert summary.describe() == "would email 1 recipient(s)"
    [line] = summary.lines()
    assert line.startswith("managers: ") and "m@example.com" in line and "managers.pdf" in line


def test_dry_run_never_connects(tmp_path: Path) -> None:
    # Nothing listens on this port: any connection attempt would raise.
    config = EmailCfg(smtp=SmtpCfg(host="127.0.0.1", port=free_port()))
    summary = deliver(
        [make_report(tmp_path, "managers", ("m@example.com",))],
        config,
        MemoryLedger(),
        ledger_key=LEDGER_KEY,
        credentials=("user", "password"),
        dry_run=True,
    )
    assert len(summary.would_send) == 1


def test_dry_run_honours_the_ledger(tmp_path: Path) -> None:
    reports = [make_report(tmp_path / "out", "managers", ("a@example.com", "b@example.com"))]
    ledger = MemoryLedger()
    ledger.ledger_record(LEDGER_KEY, "managers", "a@example.com", "sent", "", "<x@y>")
    summary = deliver(
        reports,
        outbox_config(tmp_path),
        ledger,
        ledger_key=LEDGER_KEY,
        credentials=None,
        dry_run=True,
    )
    assert [o.recipient for o in summary.would_send] == ["b@example.com"]
    assert [o.recipient for o in summary.already_sent] == ["a@example.com"]


def test_oversized_message_is_refused_with_a_clear_error(tmp_path: Path) -> None:
    reports = [
        make_report(tmp_path / "out", "big", ("big@example.com",), pdf_bytes=200_000),
        make_report(tmp_path / "out", "small", ("small@example.com",), pdf_bytes=1_000),
    ]
    ledger = MemoryLedger()
    config = outbox_config(tmp_path, max_message_bytes=100_000)
    with pytest.raises(DeliveryError) as caught:
        deliver(reports, config, ledger, ledger_key=LEDGER_KEY, credentials=None)
    message = str(caught.value)
    assert "report 'big'" in message
    assert "over the limit of 97.7 KiB (100000 bytes, email.max_message_bytes)" in message
    # The small report still went out; the big one is not recorded, so it is tried again.
    assert [r[1] for r in ledger.rows] == ["small"]
    assert len(eml_files(tmp_path)) == 1
    summary = caught.value.summary  # type: ignore[attr-defined]
    assert [o.recipient for o in summary.failed] == ["big@example.com"]

    dry = deliver(
        reports, config, MemoryLedger(), ledger_key=LEDGER_KEY, credentials=None, dry_run=True
    )
    assert "NOT SENT" in dry.lines()[0] and dry.errors


def test_only_pdfs_are_attached(tmp_path: Path) -> None:
    report = make_report(
        tmp_path / "out", "compliance", ("c@example.com",), extra_files=("compliance.xlsx",)
    )
    deliver(
        [report], outbox_config(tmp_path), MemoryLedger(), ledger_key=LEDGER_KEY, credentials=None
    )
    [eml] = eml_files(tmp_path)
    assert list(attachments_of(parse(eml.read_bytes()))) == ["compliance.pdf"]


INJECTED = "Intro\r\nBcc: evil@attacker.example\r\n\r\nbody"


def test_header_injection_through_a_meeting_title_stays_in_the_subject(tmp_path: Path) -> None:
    report = make_report(tmp_path / "out", "managers", ("m@example.com",), title=INJECTED)
    deliver(
        [report], outbox_config(tmp_path), MemoryLedger(), ledger_key=LEDGER_KEY, credentials=None
    )
    [eml] = eml_files(tmp_path)
    raw = eml.read_bytes()
    msg = parse(raw)
    assert msg["Bcc"] is None
    headers = raw.split(b"\r\n\r\n", 1)[0]
    assert b"\nBcc:" not in headers
    assert msg["Subject"].strip().startswith("Intro Bcc: evil@attacker.example body 2026-10")
    assert "\n" not in msg["Subject"] and "\r" not in msg["Subject"]
    assert [a.addr_spec for a in msg["To"].addresses] == ["m@example.com"]


def test_header_injection_through_a_user_subject_template(tmp_path: Path) -> None:
    templates = tmp_path / "my-templates"
    templates.mkdir()
    (templates / "email_subject.txt.j2").write_text(
        "Attendance\n{{ report.name }}\r\nBcc: evil@attacker.example\u2028X-Evil: 1\n"
    )
    report = make_report(tmp_path / "out", "managers", ("m@example.com",))
    deliver(
        [report],
        outbox_config(tmp_path),
        MemoryLedger(),
        ledger_key=LEDGER_KEY,
        credentials=None,
        templates=templates,
    )
    [eml] = eml_files(tmp_path)
    msg = parse(eml.read_bytes())
    assert msg["Subject"] == "Attendance managers Bcc: evil@attacker.example X-Evil: 1"
    assert msg["Bcc"] is None and msg["X-Evil"] is None
    # The shipped body templates still apply where the folder has none.
    assert "Training attendance, 2026-10-01 to 2026-10-31" in body_texts(eml.read_bytes())[0]


@pytest.mark.parametrize(
    "recipient",
    [
        "a@example.com\r\nBcc: evil@attacker.example",
        "a@example.com, b@example.com",
        "not-an-address",
    ],
)
def test_bad_recipient_entries_are_refused_before_anything_is_sent(
    tmp_path: Path, recipient: str
) -> None:
    reports = [
        make_report(tmp_path / "out", "fine", ("ok@example.com",)),
        make_report(tmp_path / "out", "bad", (recipient,)),
    ]
    with pytest.raises(DeliveryError, match=r"(?s)report 'bad': recipient .*reports\[\]\.email_to"):
        deliver(
            reports,
            outbox_config(tmp_path),
            MemoryLedger(),
            ledger_key=LEDGER_KEY,
            credentials=None,
        )
    assert eml_files(tmp_path) == []


def test_a_from_address_with_a_line_break_is_refused(tmp_path: Path) -> None:
    config = outbox_config(tmp_path, from_addr="bot@example.com\r\nBcc: evil@attacker.example")
    with pytest.raises(DeliveryError, match=r"email\.from"):
        deliver(
            [make_report(tmp_path / "out", "m", ("m@example.com",))],
            config,
            MemoryLedger(),
            ledger_key=LEDGER_KEY,
            credentials=None,
        )


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("a\r\nb", "a b"),
        ("a\nBcc: x", "a Bcc: x"),
        ("a\u2028b\u2029c\x85d", "a b c d"),
        ("a\x00b\x1bc", "a b c"),
        ("  many   spaces\t", "many spaces"),
        ("x" * 300, "x" * 199 + "…"),
    ],
)
def test_header_text_is_one_clean_line(raw: str, expected: str) -> None:
    assert header_text(raw) == expected


def test_body_names_who_is_not_compliant_and_what_failed(tmp_path: Path) -> None:
    failure = FetchFailure("series-9", None, "Fire safety (series-9): 403 Forbidden")
    report = make_report(tmp_path / "out", "managers", ("m@example.com",), failures=[failure])
    deliver(
        [report], outbox_config(tmp_path), MemoryLedger(), ledger_key=LEDGER_KEY, credentials=None
    )
    [eml] = eml_files(tmp_path)
    msg = parse(eml.read_bytes())
    text, html = body_texts(eml.read_bytes())
    assert "1 meeting(s) NOT FETCHED" in msg["Subject"]
    assert "Security awareness 2026-10 (managers): 2 of 3 required not complete" in msg["Subject"]
    for body in (text, html):
        assert "Fire safety (series-9): 403 Forbidden" in body
        assert "bob@example.com" in body
        # The masked number arrives as the input had it: nothing unmasks it.
        assert "•••••••0199" in body
        assert "Ada Lovelace" not in body.split("Not completed")[1]
    # Named as the roster names them, the email beside (rule 14).
    assert "Bob <b>Bold</b> (bob@example.com): Security awareness, 0 of 1 session(s)" in text
    assert "Bob <b>Bold</b> <bob@example.com>: Security awareness, 0:20:00 (LATE_JOIN)" in text
    assert "<b>Bold</b>" not in html  # autoescaped
    assert "Course completions: 1 of 3" in text


def test_long_lists_are_cut_and_point_to_the_pdf(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(content, "MAX_LISTED", 1)
    report = make_report(tmp_path / "out", "managers", ("m@example.com",))
    deliver(
        [report], outbox_config(tmp_path), MemoryLedger(), ledger_key=LEDGER_KEY, credentials=None
    )
    [eml] = eml_files(tmp_path)
    text, html = body_texts(eml.read_bytes())
    assert "... and 1 more; see the attached report." in text
    assert "… and 1 more; see the attached report." in html


def test_a_broken_user_template_names_itself(tmp_path: Path) -> None:
    templates = tmp_path / "my-templates"
    templates.mkdir()
    (templates / "email_body.txt.j2").write_text("line\n{{ totals.nope }\n")
    with pytest.raises(DeliveryError, match=r"email template email_body\.txt\.j2:2"):
        deliver(
            [make_report(tmp_path / "out", "m", ("m@example.com",))],
            outbox_config(tmp_path),
            MemoryLedger(),
            ledger_key=LEDGER_KEY,
            credentials=None,
            templates=templates,
        )


def test_no_transport_configured_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(DeliveryError, match="neither smtp nor outbox"):
        deliver(
            [make_report(tmp_path, "m", ("m@example.com",))],
            EmailCfg(),
            MemoryLedger(),
            ledger_key=LEDGER_KEY,
            credentials=None,
        )


def test_the_real_store_keeps_the_ledger_across_runs(tmp_path: Path) -> None:
    store_module = pytest.importorskip("reporting.store")
    reports = [make_report(tmp_path / "out", "managers", ("a@example.com", "b@example.com"))]
    path = tmp_path / "store.sqlite"
    with store_module.Store.open(path) as store:
        deliver(reports, outbox_config(tmp_path), store, ledger_key=LEDGER_KEY, credentials=None)
    with store_module.Store.open(path) as store:
        summary = deliver(
            reports, outbox_config(tmp_path), store, ledger_key=LEDGER_KEY, credentials=None
        )
        rows = store.ledger_rows()
    assert summary.sent == [] and len(summary.already_sent) == 2
    assert len(eml_files(tmp_path)) == 1
    assert [(r["recipient"], r["status"]) for r in rows] == [
        ("a@example.com", "sent"),
        ("b@example.com", "sent"),
    ]
