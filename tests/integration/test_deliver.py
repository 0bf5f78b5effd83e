"""Delivery against a real SMTP server (aiosmtpd on loopback) with STARTTLS or TLS and AUTH."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reporting.delivery import DeliverySummary, deliver
from reporting.errors import DeliveryError
from tests.deliver_support import (
    LEDGER_KEY,
    PASSWORD,
    USER,
    MemoryLedger,
    SmtpServer,
    attachments_of,
    make_certificate,
    make_report,
    smtp_server,
)

CREDS = (USER, PASSWORD)

# The implicit-TLS server has no STARTTLS, which aiosmtpd's warning does not account for.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")


def send(server: SmtpServer, reports: list[Any], ledger: Any, **options: Any) -> DeliverySummary:
    """`deliver` to the test's server, over its TLS, under the tests' ledger key and login."""
    return deliver(
        reports,
        server.config(),
        ledger,
        ledger_key=LEDGER_KEY,
        credentials=CREDS,
        ssl_context=server.client_context(),
        **options,
    )


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return make_certificate(tmp_path_factory.mktemp("tls"))


@pytest.fixture(params=["starttls", "implicit-tls"])
def server(request: pytest.FixtureRequest, certificate: tuple[Path, Path]) -> Iterator[SmtpServer]:
    cert, key = certificate
    with smtp_server(cert, key, implicit_tls=request.param == "implicit-tls") as running:
        yield running


@pytest.fixture
def starttls_server(certificate: tuple[Path, Path]) -> Iterator[SmtpServer]:
    cert, key = certificate
    with smtp_server(cert, key) as running:
        yield running


def test_each_report_arrives_once_with_its_pdf_intact(server: SmtpServer, tmp_path: Path) -> None:
    reports = [
        make_report(
            tmp_path,
            "compliance",
            ("compliance@example.com",),
            audience="compliance",
            extra_files=("compliance.xlsx",),
        ),
        make_report(tmp_path, "managers", ("lead-a@example.com", "Lead B <lead-b@example.com>")),
    ]
    ledger = MemoryLedger()
    summary = send(server, reports, ledger)

    received = server.handler.received
    assert len(received) == 2
    by_report = {r.message["X-Attendance-Report"]: r for r in received}
    assert by_report["compliance"].rcpt_tos == ["compliance@example.com"]
    assert by_report["managers"].rcpt_tos == ["lead-a@example.com", "lead-b@example.com"]
    for name, item in by_report.items():
        msg = item.message
        assert item.mail_from == "attendance@example.com"
        # Only the PDF goes out; the spreadsheet stays in the output folder.
        assert attachments_of(msg) == {f"{name}.pdf": (tmp_path / f"{name}.pdf").read_bytes()}
        assert "2026-10" in msg["Subject"]
        assert msg["Message-ID"]
        text = msg.get_body(preferencelist=("plain",))
        html = msg.get_body(preferencelist=("html",))
        assert text is not None and html is not None
        assert "Bob <b>Bold</b>" in text.get_content()
        assert "Bob &lt;b&gt;Bold&lt;/b&gt;" in html.get_content()

    assert {(o.report, o.recipient) for o in summary.sent} == {
        ("compliance", "compliance@example.com"),
        ("managers", "lead-a@example.com"),
        ("managers", "lead-b@example.com"),
    }
    assert [row[3] for row in ledger.rows] == ["sent"] * 3
    assert {row[5] for row in ledger.rows} == {
        by_report["compliance"].message["Message-ID"],
        by_report["managers"].message["Message-ID"],
    }


def test_a_second_run_sends_nothing_and_resend_forces(
    starttls_server: SmtpServer, tmp_path: Path
) -> None:
    server = starttls_server
    reports = [make_report(tmp_path, "managers", ("a@example.com", "b@example.com"))]
    ledger = MemoryLedger()
    kwargs = {
        "ledger_key": LEDGER_KEY,
        "credentials": CREDS,
        "ssl_context": server.client_context(),
    }
    deliver(reports, server.config(), ledger, **kwargs)  # type: ignore[arg-type]
    assert len(server.handler.received) == 1

    again = deliver(reports, server.config(), ledger, **kwargs)  # type: ignore[arg-type]
    assert len(server.handler.received) == 1
    assert again.sent == []
    assert len(again.already_sent) == 2
    assert "2 already sent" in again.describe()

    # Same recipients under another period's key are new.
    other = deliver(
        reports,
        server.config(),
        ledger,
        ledger_key="c" * 64 + ":2026-11",
        credentials=CREDS,
        ssl_context=server.client_context(),
    )
    assert len(other.sent) == 2

    forced = deliver(reports, server.config(), ledger, resend=True, **kwargs)  # type: ignore[arg-type]
    assert len(forced.sent) == 2
    assert len(server.handler.received) == 3


def test_recipient_case_does_not_defeat_the_ledger(
    starttls_server: SmtpServer, tmp_path: Path
) -> None:
    server = starttls_server
    ledger = MemoryLedger()
    first = [make_report(tmp_path, "managers", ("Lead@Example.com",))]
    send(server, first, ledger)
    second = [make_report(tmp_path, "managers", ("lead@example.com", "LEAD@example.com"))]
    summary = send(server, second, ledger)
    assert summary.sent == []
    assert len(server.handler.received) == 1


def test_a_refused_recipient_is_recorded_and_is_the_only_one_retried(
    server: SmtpServer, tmp_path: Path
) -> None:
    reports = [make_report(tmp_path, "managers", ("ok@example.com", "gone@example.com"))]
    ledger = MemoryLedger()
    server.handler.refuse_rcpt = {"gone@example.com"}
    summary = send(server, reports, ledger)
    assert [o.recipient for o in summary.sent] == ["ok@example.com"]
    assert [(o.recipient, o.detail[:3]) for o in summary.refused] == [("gone@example.com", "550")]
    assert "1 refused (retried next run)" in summary.describe()
    assert [(r[2], r[3]) for r in ledger.rows] == [
        ("ok@example.com", "sent"),
        ("gone@example.com", "refused"),
    ]
    assert "550" in ledger.rows[1][4]

    server.handler.refuse_rcpt = set()
    retry = send(server, reports, ledger)
    assert [o.recipient for o in retry.sent] == ["gone@example.com"]
    assert server.handler.received[-1].rcpt_tos == ["gone@example.com"]
    assert server.handler.received[-1].message["To"] == "gone@example.com"
    assert len(server.handler.received) == 2


def test_all_recipients_refused_is_recorded_not_raised(
    starttls_server: SmtpServer, tmp_path: Path
) -> None:
    server = starttls_server
    server.handler.refuse_rcpt = {"x@example.com", "y@example.com"}
    ledger = MemoryLedger()
    summary = send(
        server, [make_report(tmp_path, "managers", ("x@example.com", "y@example.com"))], ledger
    )
    assert len(summary.refused) == 2
    assert [r[3] for r in ledger.rows] == ["refused", "refused"]
    assert server.handler.received == []


def test_a_rejected_message_does_not_stop_the_others_and_is_retried(
    starttls_server: SmtpServer, tmp_path: Path
) -> None:
    server = starttls_server
    server.handler.refuse_data_for = {"compliance"}
    reports = [
        make_report(tmp_path, "compliance", ("c@example.com",)),
        make_report(tmp_path, "managers", ("m@example.com",)),
    ]
    ledger = MemoryLedger()
    with pytest.raises(DeliveryError, match=r"report 'compliance'.*554") as caught:
        send(server, reports, ledger)
    summary = caught.value.summary  # type: ignore[attr-defined]
    assert [o.recipient for o in summary.sent] == ["m@example.com"]
    assert [o.recipient for o in summary.failed] == ["c@example.com"]
    # The rejected message is recorded as failed (it is not in doubt) and retried.
    assert [(r[1], r[2], r[3]) for r in ledger.rows] == [
        ("compliance", "c@example.com", "failed"),
        ("managers", "m@example.com", "sent"),
    ]
    assert "554" in ledger.rows[0][4]

    server.handler.refuse_data_for = set()
    retry = send(server, reports, ledger)
    assert [(o.report, o.recipient) for o in retry.sent] == [("compliance", "c@example.com")]
    assert [r.rcpt_tos for r in server.handler.received] == [["m@example.com"], ["c@example.com"]]


def test_ledger_is_written_after_each_transaction_so_a_crash_loses_nothing(
    starttls_server: SmtpServer, tmp_path: Path
) -> None:
    server = starttls_server

    class CrashingLedger(MemoryLedger):
        """Dies before the second message is recorded, as if the process were killed."""

        crash = True

        def ledger_sending(self, *args: Any) -> list[int]:
            if self.crash and self.rows:
                raise RuntimeError("killed")
            return super().ledger_sending(*args)

    reports = [
        make_report(tmp_path, "first", ("one@example.com",)),
        make_report(tmp_path, "second", ("two@example.com",)),
    ]
    ledger = CrashingLedger()
    with pytest.raises(RuntimeError, match="killed"):
        send(server, reports, ledger)
    # The first report was recorded as sent before the second transaction began.
    assert [(r[1], r[2], r[3]) for r in ledger.rows] == [("first", "one@example.com", "sent")]

    ledger.crash = False
    send(server, reports, ledger)
    # The first report never went out twice.
    assert [r.rcpt_tos for r in server.handler.received].count(["one@example.com"]) == 1


def test_wrong_password_is_a_clear_error_without_the_password(
    starttls_server: SmtpServer, tmp_path: Path
) -> None:
    server = starttls_server
    wrong = "not-the-password-xyz"
    with pytest.raises(DeliveryError) as caught:
        deliver(
            [make_report(tmp_path, "managers", ("a@example.com",))],
            server.config(),
            MemoryLedger(),
            ledger_key=LEDGER_KEY,
            credentials=(USER, wrong),
            ssl_context=server.client_context(),
        )
    message = str(caught.value)
    assert "rejected the login" in message and "535" in message
    assert "password_env" in message
    assert wrong not in message
    assert server.handler.received == []


def test_untrusted_certificate_is_refused(starttls_server: SmtpServer, tmp_path: Path) -> None:
    with pytest.raises(DeliveryError, match="TLS certificate is not trusted"):
        deliver(
            [make_report(tmp_path, "managers", ("a@example.com",))],
            starttls_server.config(),
            MemoryLedger(),
            ledger_key=LEDGER_KEY,
            credentials=CREDS,
            ssl_context=None,  # the system trust store does not know the test CA
        )


def test_password_is_never_sent_without_tls(starttls_server: SmtpServer, tmp_path: Path) -> None:
    server = starttls_server
    config = server.config()
    assert config.smtp is not None
    plain = type(config)(
        from_addr=config.from_addr,
        smtp=type(config.smtp)(host="127.0.0.1", port=server.port, starttls=False, ssl=False),
    )
    with pytest.raises(DeliveryError, match="unencrypted connection"):
        deliver(
            [make_report(tmp_path, "managers", ("a@example.com",))],
            plain,
            MemoryLedger(),
            ledger_key=LEDGER_KEY,
            credentials=CREDS,
        )


def test_nobody_listening_is_a_clear_error(tmp_path: Path) -> None:
    from tests.deliver_support import EmailCfg, SmtpCfg, free_port

    config = EmailCfg(smtp=SmtpCfg(host="127.0.0.1", port=free_port(), timeout_seconds=2))
    with pytest.raises(DeliveryError, match=r"cannot connect to the SMTP server 127\.0\.0\.1:"):
        deliver(
            [make_report(tmp_path, "managers", ("a@example.com",))],
            config,
            MemoryLedger(),
            ledger_key=LEDGER_KEY,
            credentials=CREDS,
        )


def test_server_size_limit_refuses_before_sending(
    certificate: tuple[Path, Path], tmp_path: Path
) -> None:
    cert, key = certificate
    with smtp_server(cert, key, data_size_limit=20_000) as server:
        ledger = MemoryLedger()
        with pytest.raises(DeliveryError, match=r"report 'big'.*the SMTP server accepts"):
            deliver(
                [
                    make_report(tmp_path, "big", ("a@example.com",), pdf_bytes=50_000),
                    make_report(tmp_path, "small", ("b@example.com",), pdf_bytes=1_000),
                ],
                server.config(),
                ledger,
                ledger_key=LEDGER_KEY,
                credentials=CREDS,
                ssl_context=server.client_context(),
            )
        assert [r.rcpt_tos for r in server.handler.received] == [["b@example.com"]]
        assert [r[1] for r in ledger.rows] == ["small"]


def test_the_smtp_password_never_reaches_the_log(
    starttls_server: SmtpServer, tmp_path: Path
) -> None:
    import io
    import logging

    from reporting import logs

    stream = io.StringIO()
    root = logging.getLogger()
    saved_level, saved_handlers = root.level, list(root.handlers)
    handler = logs.setup_logging(1, "text", (), stream=stream)
    wrong = "wrong-but-still-secret-pw"
    try:
        # deliver registers the password it was given before it opens a connection.
        try:
            deliver(
                [make_report(tmp_path, "managers", ("a@example.com",))],
                starttls_server.config(),
                MemoryLedger(),
                ledger_key=LEDGER_KEY,
                credentials=(USER, wrong),
                ssl_context=starttls_server.client_context(),
            )
        except DeliveryError as error:
            logging.getLogger("reporting.pipeline").exception(
                "delivery failed with %s and %r", wrong, error
            )
        else:
            pytest.fail("a wrong password must fail the delivery")
        logging.getLogger("reporting.test").info("login was %s:%s", USER, wrong)
    finally:
        root.removeHandler(handler)
        root.setLevel(saved_level)
        for kept in saved_handlers:
            if kept not in root.handlers:
                root.addHandler(kept)
        logging.captureWarnings(False)
        logs._forget_secrets()
    output = stream.getvalue()
    assert "rejected the login" in output and "Traceback" in output
    assert wrong not in output
    assert f"login was {USER}:***" in output
