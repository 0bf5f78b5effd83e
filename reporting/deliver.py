"""Email each report's PDFs to its recipients, once per period, with a send ledger.

`deliver` builds one message per report (subject, text and HTML bodies from the email
templates, the report's PDFs attached), then sends it over SMTP or writes it to the outbox
folder. The ledger in the store remembers, per ``ledger_key`` (the period and the audited
meetings, see ``pipeline.ledger_key``), report and recipient, whether the server accepted
the message:

- a recipient the server accepted (or an outbox file written for) is never sent this
  report for this key again, unless ``resend=True``;
- a recipient the server refused (in part, as smtplib's returned dict, or all at once,
  as `SMTPRecipientsRefused`) is recorded as ``refused`` and tried again next run;
- each recipient is recorded right after its SMTP transaction, before the next message,
  so a crash later in the run never causes a second copy of what already went out;
- a message that cannot go at all (too large, sender or content refused) records nothing,
  the other reports still go, and `DeliveryError` is raised at the end naming it.

``dry_run=True`` builds every message and reports what would be sent; it opens no
connection and writes neither files nor ledger rows.
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from pathlib import Path
from typing import Literal, Protocol

from reporting.delivery.content import (
    EmailTemplates,
    ReportInputLike,
    build_message,
    email_context,
    human_size,
    parse_recipients,
)
from reporting.delivery.transport import (
    MessageRejected,
    OutboxTransport,
    SmtpConfigLike,
    SmtpTransport,
    Transport,
)
from reporting.errors import DeliveryError
from reporting.logs import register_secret
from reporting.render.formats import attached_suffixes

__all__ = [
    "DeliveryError",
    "DeliverySummary",
    "EmailConfigLike",
    "Ledger",
    "MessagePlan",
    "RecipientOutcome",
    "RenderedReport",
    "deliver",
]

log = logging.getLogger(__name__)

LedgerStatus = Literal["sent", "refused"]
OutcomeStatus = Literal["sent", "refused", "already-sent", "would-send", "failed"]


class Ledger(Protocol):
    """The send ledger `reporting.store.Store` keeps (positional-only: names may differ)."""

    def ledger_sent(self, key: str, report: str, /) -> set[str]:
        """Recipients whose server accepted this report under this key."""
        ...

    def ledger_record(
        self,
        key: str,
        report: str,
        recipient: str,
        status: LedgerStatus,
        detail: str,
        message_id: str,
        /,
    ) -> None: ...


class EmailConfigLike(Protocol):
    @property
    def from_addr(self) -> str: ...
    @property
    def smtp(self) -> SmtpConfigLike | None: ...
    @property
    def outbox(self) -> Path | None: ...
    @property
    def max_message_bytes(self) -> int | None: ...


@dataclass(frozen=True)
class RenderedReport:
    input: ReportInputLike
    files: list[Path]

    @property
    def attachments(self) -> list[Path]:
        # DESIGN.md: the PDFs are emailed; spreadsheets stay in the output folder. Which
        # formats go out is the format table's `attached`.
        suffixes = attached_suffixes()
        return [p for p in self.files if p.suffix.lower() in suffixes]


@dataclass(frozen=True)
class RecipientOutcome:
    report: str
    recipient: str
    status: OutcomeStatus
    detail: str = ""
    message_id: str = ""


@dataclass(frozen=True)
class MessagePlan:
    """One message: built for every report that has someone left to send to."""

    report: str
    recipients: tuple[str, ...]
    subject: str
    attachments: tuple[str, ...]
    size_bytes: int
    message_id: str
    problem: str | None = None  # why it cannot be sent (too large, ...)

    def describe(self) -> str:
        files = ", ".join(self.attachments) or "no attachments"
        line = (
            f"{self.report}: {self.subject!r} to {', '.join(self.recipients)} "
            f"({files}; {human_size(self.size_bytes)})"
        )
        return f"{line}: NOT SENT, {self.problem}" if self.problem else line


@dataclass
class DeliverySummary:
    dry_run: bool = False
    to_outbox: bool = False  # .eml files written to email.outbox; nothing sent over SMTP
    messages: list[MessagePlan] = field(default_factory=list)
    outcomes: list[RecipientOutcome] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def _with(self, status: OutcomeStatus) -> list[RecipientOutcome]:
        return [o for o in self.outcomes if o.status == status]

    @property
    def sent(self) -> list[RecipientOutcome]:
        return self._with("sent")

    @property
    def refused(self) -> list[RecipientOutcome]:
        return self._with("refused")

    @property
    def already_sent(self) -> list[RecipientOutcome]:
        return self._with("already-sent")

    @property
    def would_send(self) -> list[RecipientOutcome]:
        return self._with("would-send")

    @property
    def failed(self) -> list[RecipientOutcome]:
        return self._with("failed")

    def describe(self) -> str:
        """One clause for the run's summary line."""
        if self.dry_run:
            parts = [f"would email {len(self.would_send)} recipient(s)"]
        elif self.to_outbox:
            parts = [
                f"message(s) to {len(self.sent)} recipient(s) written to the outbox (not sent)"
            ]
        else:
            parts = [f"emailed {len(self.sent)} recipient(s)"]
        if self.already_sent:
            parts.append(f"{len(self.already_sent)} already sent earlier")
        if self.refused:
            parts.append(f"{len(self.refused)} refused (retried next run)")
        if self.failed:
            parts.append(f"{len(self.failed)} not sent (see errors)")
        return ", ".join(parts)

    def lines(self) -> list[str]:
        """One line per message, then every refusal and error: for --dry-run and logs."""
        out = [plan.describe() for plan in self.messages]
        out += [f"refused: {o.report} → {o.recipient}: {o.detail}" for o in self.refused]
        out += [f"error: {e}" for e in self.errors]
        return out


@dataclass(frozen=True)
class _Pending:
    name: str
    todo: list[Address]
    plan: MessagePlan
    msg: EmailMessage


def deliver(
    reports: Sequence[RenderedReport],
    email: EmailConfigLike,
    ledger: Ledger,
    *,
    ledger_key: str,
    credentials: Iterable[str] | None,
    resend: bool = False,
    dry_run: bool = False,
    templates: Path | None = None,
    ssl_context: ssl.SSLContext | None = None,
) -> DeliverySummary:
    """Send each report to the recipients who have not had it under `ledger_key`.

    `credentials` is (user, password) for SMTP login, already read from the environment
    (a tuple, or anything that unpacks to two strings such as `config.SmtpCredentials`);
    `templates` a folder whose email templates override the shipped ones; `ssl_context`
    replaces the default (system trust store) context, e.g. for a test server.
    Raises `DeliveryError` when the transport cannot be used at all, or, after every other
    report went out, when some message could not be sent; `.summary` on the error holds
    what did happen.
    """
    login: tuple[str, str] | None = None
    if credentials is not None:
        user, password = credentials
        login = (user, password)
        register_secret(password)
    if email.smtp is None and email.outbox is None:
        raise DeliveryError(
            "email has neither smtp nor outbox configured", hint="set email.smtp or email.outbox"
        )
    summary = DeliverySummary(dry_run=dry_run, to_outbox=email.outbox is not None)
    renderer = EmailTemplates(templates)
    limit = email.max_message_bytes or None

    pending: list[_Pending] = []
    for report in reports:
        spec = report.input.spec
        recipients = parse_recipients(spec.name, _email_to(spec))
        if not recipients:
            log.debug("report %r has no email_to; nothing to send", spec.name)
            continue
        done = (
            set() if resend else {r.casefold() for r in ledger.ledger_sent(ledger_key, spec.name)}
        )
        todo = []
        for address in recipients:
            if address.addr_spec.casefold() in done:
                summary.outcomes.append(
                    RecipientOutcome(spec.name, address.addr_spec, "already-sent")
                )
            else:
                todo.append(address)
        if not todo:
            log.info("report %r: every recipient already has it; not sent again", spec.name)
            continue

        attachments = report.attachments
        context = email_context(report.input, attachments)
        subject, text, html = renderer.render(context)
        msg = build_message(
            from_addr=email.from_addr,
            to=todo,
            subject=subject,
            text=text,
            html=html,
            attachments=attachments,
            headers={
                "X-Attendance-Report": spec.name,
                "X-Attendance-Period": report.input.run.period_label,
            },
            date=datetime.now(UTC),
        )
        size = len(msg.as_bytes())
        problem = None
        if limit is not None and size > limit:
            problem = (
                f"the message is {human_size(size)} ({size} bytes), over the limit of "
                f"{human_size(limit)} ({limit} bytes, email.max_message_bytes)"
            )
        plan = MessagePlan(
            report=spec.name,
            recipients=tuple(a.addr_spec for a in todo),
            subject=str(msg["Subject"]),
            attachments=tuple(p.name for p in attachments),
            size_bytes=size,
            message_id=str(msg["Message-ID"]),
            problem=problem,
        )
        pending.append(_Pending(spec.name, todo, plan, msg))

    for item in pending:
        summary.messages.append(item.plan)
        if item.plan.problem is not None:
            _fail(summary, item.name, item.todo, f"report {item.name!r}: {item.plan.problem}")

    sendable = [item for item in pending if item.plan.problem is None]
    if dry_run:
        for item in sendable:
            for address in item.todo:
                summary.outcomes.append(
                    RecipientOutcome(item.name, address.addr_spec, "would-send", item.plan.subject)
                )
        for line in summary.lines():
            log.info("dry run: %s", line)
        return summary

    if sendable:
        # Outbox files are named by the period of the reports they carry.
        period = reports[0].input.run.period_label
        with _transport(email, login, ssl_context, period) as transport:
            for item in sendable:
                _send_one(transport, ledger, ledger_key, email.from_addr, summary, item)

    if summary.errors:
        error = DeliveryError(
            "; ".join(summary.errors),
            hint="everything else was sent and recorded; fix this and run again "
            "(recipients who got their email are not sent it twice)",
        )
        error.summary = summary  # type: ignore[attr-defined]
        raise error
    return summary


def _send_one(
    transport: Transport,
    ledger: Ledger,
    ledger_key: str,
    sender: str,
    summary: DeliverySummary,
    item: _Pending,
) -> None:
    name, todo, plan = item.name, item.todo, item.plan
    server_limit = transport.size_limit()
    if server_limit is not None and plan.size_bytes > server_limit:
        _fail(
            summary,
            name,
            todo,
            f"report {name!r}: the message is {human_size(plan.size_bytes)}, over the "
            f"{human_size(server_limit)} the SMTP server accepts",
        )
        return
    envelope = [a.addr_spec for a in todo]
    try:
        result = transport.send(item.msg, _addr_spec(sender), envelope)
    except MessageRejected as exc:
        _fail(summary, name, todo, f"report {name!r}: {exc}")
        return
    # Recorded now, one by one, so that whatever happens later in the run these
    # recipients are never sent this report again.
    for addr in envelope:
        if addr in result.refused:
            detail = result.refused[addr]
            ledger.ledger_record(ledger_key, name, addr, "refused", detail, plan.message_id)
            summary.outcomes.append(
                RecipientOutcome(name, addr, "refused", detail, plan.message_id)
            )
            log.warning("report %r: %s refused by the server: %s", name, addr, detail)
        else:
            ledger.ledger_record(ledger_key, name, addr, "sent", result.detail, plan.message_id)
            summary.outcomes.append(
                RecipientOutcome(name, addr, "sent", result.detail, plan.message_id)
            )
    accepted = len(envelope) - len(result.refused)
    if summary.to_outbox:
        # Nothing left the machine: the log must not say "sent".
        log.info(
            "report %r: message to %d recipient(s) written to the outbox, not sent (%s, %s)",
            name,
            len(envelope),
            result.detail,
            plan.message_id,
        )
        return
    log.info(
        "report %r: sent to %d of %d recipient(s) via %s (%s)",
        name,
        accepted,
        len(envelope),
        result.detail,
        plan.message_id,
    )


def _fail(summary: DeliverySummary, name: str, todo: list[Address], message: str) -> None:
    summary.errors.append(message)
    for address in todo:
        summary.outcomes.append(RecipientOutcome(name, address.addr_spec, "failed", message))
    log.error("%s", message)


def _email_to(spec: object) -> Sequence[str]:
    # Read by name: the renderers' ReportSpecLike protocol has no `email_to`, and the
    # config's ReportSpec (what the pipeline passes) does.
    value = getattr(spec, "email_to", ())
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]


def _addr_spec(from_addr: str) -> str:
    return parse_recipients("email.from", [from_addr])[0].addr_spec


def _transport(
    email: EmailConfigLike,
    credentials: tuple[str, str] | None,
    ssl_context: ssl.SSLContext | None,
    period: str,
) -> Transport:
    if email.smtp is not None:
        return SmtpTransport(email.smtp, credentials, ssl_context=ssl_context)
    assert email.outbox is not None
    return OutboxTransport(email.outbox, prefix=period)
