"""Stand-ins and a real SMTP server for the delivery tests.

The stand-ins carry the attribute names of `ReportInput`, `EmailConfig`, `SmtpConfig` and
the store's ledger methods, so these tests do not depend on those modules' classes.
"""

from __future__ import annotations

import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from reporting.delivery import RenderedReport
from reporting.model import FetchFailure, Instance, RunInfo
from reporting.render.summary import ReportSummary, summarize
from reporting.store import Store

USER = "mailer"
PASSWORD = "s3cret-smtp-pass-word"

RUN = RunInfo(
    run_id="run000000001",
    config_path="/cfg/monthly.yaml",
    config_hash="c" * 64,
    period_label="2026-10",
    period_start=datetime(2026, 9, 30, 22, tzinfo=UTC),
    period_end=datetime(2026, 10, 31, 23, tzinfo=UTC),
    as_of=datetime(2026, 11, 2, 5, tzinfo=UTC),
    timezone="Europe/Berlin",
    tool_version="0.1.0",
)
LEDGER_KEY = f"{RUN.config_hash}:{RUN.period_label}"


# -- stand-ins ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Spec:
    name: str
    audience: str
    email_to: tuple[str, ...]
    formats: tuple[str, ...] = ("pdf",)
    show_devices: bool = False


@dataclass(frozen=True)
class Result:
    attendance: pd.DataFrame
    courses: pd.DataFrame
    devices: pd.DataFrame = field(default_factory=pd.DataFrame)
    breakouts: pd.DataFrame = field(default_factory=pd.DataFrame)


@dataclass(frozen=True)
class Input:
    spec: Spec
    run: RunInfo
    instances: list[Instance]
    result: Result
    failures: list[FetchFailure] = field(default_factory=list)
    page_problems: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @cached_property
    def summary(self) -> ReportSummary:
        return summarize(self)


@dataclass(frozen=True)
class SmtpCfg:
    host: str
    port: int
    starttls: bool = True
    ssl: bool = False
    username_env: str | None = "SMTP_USER"
    password_env: str | None = "SMTP_PASSWORD"
    timeout_seconds: float = 10.0


@dataclass(frozen=True)
class EmailCfg:
    from_addr: str = "Attendance bot <attendance@example.com>"
    smtp: SmtpCfg | None = None
    outbox: Path | None = None
    max_message_bytes: int | None = 10 * 1024 * 1024
    corrections: str = "send"


class MemoryLedger(Store):
    """The store's ledger, in a real SQLite database held in memory."""

    def __init__(self) -> None:
        opened = Store.open(":memory:")
        super().__init__(opened._conn, opened.path)

    def ledger_record(
        self,
        key: str,
        report: str,
        recipient: str,
        status: str,
        detail: str = "",
        message_id: str = "",
        *,
        run_id: str = "",
        content_key: str = "",
    ) -> None:
        """A row as a finished send leaves it (sending, then settled as `status`)."""
        (row_id,) = self.ledger_sending(
            key, run_id, report, [recipient], message_id, content_key, [], ""
        )
        if status != "sending":
            self.ledger_settle(row_id, status, detail)

    @property
    def rows(self) -> list[tuple[str, str, str, str, str, str]]:
        """(key, report, recipient, status, detail, message_id) of every row, oldest first."""
        return [
            (r["key"], r["report"], r["recipient"], r["status"], r["detail"], r["message_id"])
            for r in self.ledger_rows()
        ]


def instance(title: str = "Security awareness", course: str = "security-2026") -> Instance:
    return Instance(
        id="inst-1",
        entry_index=0,
        entry_id="series-1",
        course=course,
        title=title,
        series_id="series-1",
        start=datetime(2026, 10, 5, 8, tzinfo=UTC),
        end=datetime(2026, 10, 5, 9, tzinfo=UTC),
        state="ended",
        host_email="host@example.com",
    )


def make_result(course: str = "security-2026", title: str = "Security awareness") -> Result:
    people = [
        ("email:ada@example.com", "Ada Lovelace", "ada@example.com", "complete", 3600, ""),
        (
            "email:bob@example.com",
            "Bob <b>Bold</b>",
            "bob@example.com",
            "partial",
            1200,
            "LATE_JOIN",
        ),
        ("tel:•••••••0199", "•••••••0199", "", "absent", 0, ""),
    ]
    attendance = pd.DataFrame(
        {
            "meeting_id": ["inst-1"] * 3,
            "meeting_title": [title] * 3,
            "person_key": [p[0] for p in people],
            "display_name": [p[1] for p in people],
            "email": [p[2] for p in people],
            "status": [p[3] for p in people],
            "attended_seconds": [p[4] for p in people],
            "flags": [p[5] for p in people],
            "course": [course] * 3,
        }
    )
    courses = pd.DataFrame(
        {
            "course": [course] * 3,
            "person_key": [p[0] for p in people],
            "display_name": [p[1] for p in people],
            "email": [p[2] for p in people],
            "sessions_total": [1, 1, 1],
            "sessions_complete": [1, 0, 0],
            "completed": [True, False, False],
        }
    )
    return Result(attendance=attendance, courses=courses)


def make_report(
    folder: Path,
    name: str,
    email_to: tuple[str, ...],
    *,
    audience: str = "summary",
    title: str = "Security awareness",
    pdf_bytes: int = 4000,
    extra_files: tuple[str, ...] = (),
    failures: list[FetchFailure] | None = None,
) -> RenderedReport:
    """A report with a PDF of `pdf_bytes` pseudo-random bytes (every byte value occurs)."""
    folder.mkdir(parents=True, exist_ok=True)
    pdf = folder / f"{name}.pdf"
    pdf.write_bytes(b"%PDF-1.7\n" + bytes((i * 131 + 7) % 256 for i in range(pdf_bytes)))
    files = [pdf]
    for extra in extra_files:
        path = folder / extra
        path.write_bytes(b"not attached")
        files.append(path)
    inp = Input(
        spec=Spec(name=name, audience=audience, email_to=email_to),
        run=RUN,
        instances=[instance(title)],
        result=make_result(title=title),
        failures=failures or [],
    )
    return RenderedReport(input=inp, files=files)


def parse(raw: bytes) -> EmailMessage:
    msg = BytesParser(policy=default).parsebytes(raw)
    assert isinstance(msg, EmailMessage)
    return msg


def attachments_of(msg: EmailMessage) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    for part in msg.iter_attachments():
        assert isinstance(part, EmailMessage)
        name = part.get_filename()
        assert name is not None
        payload = part.get_content()
        assert isinstance(payload, bytes)
        out[name] = payload
    return out


# -- a real SMTP server -------------------------------------------------------------------


def free_port() -> int:
    # aiosmtpd's Controller(port=0) cannot report the port it got, so pick one first.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost, made with openssl."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
            "-keyout", str(key), "-out", str(cert), "-days", "2",
            "-subj", "/CN=localhost",
            "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    content: bytes

    @property
    def message(self) -> EmailMessage:
        return parse(self.content)


class Recorder:
    """aiosmtpd handler: keeps every message; refuses chosen recipients or contents."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.refuse_rcpt: set[str] = set()
        self.refuse_data_for: set[str] = set()  # refuse DATA when this report name is in it
        self.lock = threading.Lock()

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if address.lower() in self.refuse_rcpt:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        content = bytes(envelope.original_content or envelope.content)
        if any(f"X-Attendance-Report: {n}".encode() in content for n in self.refuse_data_for):
            return "554 5.6.0 message content rejected"
        with self.lock:
            self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), content))
        return "250 2.0.0 queued"


def authenticator(
    server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
) -> AuthResult:
    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login == USER.encode()
        and auth_data.password == PASSWORD.encode()
    )
    # handled=False: aiosmtpd itself answers 535 to a failed login.
    return AuthResult(success=ok, handled=False)


@dataclass
class SmtpServer:
    handler: Recorder
    port: int
    cert: Path
    implicit_tls: bool

    def config(self, **changes: Any) -> EmailCfg:
        smtp = SmtpCfg(
            host="127.0.0.1",
            port=self.port,
            starttls=not self.implicit_tls,
            ssl=self.implicit_tls,
        )
        fields: dict[str, Any] = {"smtp": smtp}
        fields.update(changes)
        return EmailCfg(**fields)

    def client_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.cert))


@contextmanager
def smtp_server(
    cert: Path, key: Path, *, implicit_tls: bool = False, data_size_limit: int = 33554432
) -> Iterator[SmtpServer]:
    handler = Recorder()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(cert), str(key))
    port = free_port()
    common: dict[str, Any] = {
        "hostname": "127.0.0.1",
        "port": port,
        "authenticator": authenticator,
        "auth_required": True,
        "data_size_limit": data_size_limit,
    }
    if implicit_tls:
        # The whole connection is TLS; aiosmtpd's auth_require_tls only knows STARTTLS.
        controller = Controller(handler, ssl_context=context, auth_require_tls=False, **common)
    else:
        controller = Controller(
            handler, tls_context=context, require_starttls=True, auth_require_tls=True, **common
        )
    controller.start()
    try:
        yield SmtpServer(handler=handler, port=port, cert=cert, implicit_tls=implicit_tls)
    finally:
        controller.stop()
