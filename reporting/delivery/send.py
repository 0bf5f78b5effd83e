"""Sending: each planned message over the transport (SMTP or the outbox), its ledger rows
written ``sending`` before it leaves and settled after the server's answer."""

from __future__ import annotations

import logging
import ssl
from collections.abc import Iterable, Mapping, Sequence
from email.headerregistry import Address
from pathlib import Path

from reporting.delivery.content_key import ReportContent
from reporting.delivery.message import human_size, parse_recipients
from reporting.delivery.outcome import DeliverySummary, RecipientOutcome
from reporting.delivery.plan import MessagePlanner, PendingMessage, RenderedReport
from reporting.delivery.transport import (
    MessageRejected,
    OutboxTransport,
    SmtpTransport,
    Transport,
)
from reporting.errors import DeliveryError
from reporting.logs import register_secret
from reporting.protocols import EmailConfigLike
from reporting.store.ledger import SendLedger

__all__ = ["deliver"]

log = logging.getLogger(__name__)


def deliver(
    reports: Sequence[RenderedReport],
    email: EmailConfigLike,
    ledger: SendLedger,
    *,
    ledger_key: str,
    credentials: Iterable[str] | None,
    resend: bool = False,
    dry_run: bool = False,
    templates: Path | None = None,
    ssl_context: ssl.SSLContext | None = None,
    run_id: str = "",
    contents: Mapping[str, ReportContent] | None = None,
) -> DeliverySummary:
    """Send each report to the recipients who still need it under `ledger_key`.

    `credentials` is (user, password) for SMTP login, already read from the environment
    (a tuple, or anything that unpacks to two strings such as `config.SmtpCredentials`);
    `templates` a folder whose email templates override the shipped ones; `ssl_context`
    replaces the default (system trust store) context, e.g. for a test server. `run_id`
    is the run sending; `contents` the content of each report by name (a report without
    one counts as unchanged for whoever received it).
    Raises `DeliveryError` when the transport cannot be used at all, or, after every other
    report went out, when some message could not be sent or a send is in doubt;
    `.summary` on the error holds what did happen.
    """
    login = _login(credentials)
    if email.smtp is None and email.outbox is None:
        raise DeliveryError(
            "email has neither smtp nor outbox configured", hint="set email.smtp or email.outbox"
        )
    summary = DeliverySummary(dry_run=dry_run, to_outbox=email.outbox is not None)
    planner = MessagePlanner(
        email,
        ledger,
        ledger_key,
        summary,
        templates=templates,
        resend=resend,
        keep_contents=not dry_run,
        run_id=run_id,
    )
    pending = [
        message
        for report in reports
        for message in planner.plan(report, (contents or {}).get(report.input.spec.name))
    ]
    sendable = _sendable(summary, pending)
    if dry_run:
        _would_send(summary, sendable)
        return summary
    if sendable:
        # Outbox files are named by the period of the reports they carry.
        period = reports[0].input.run.period_label
        with _transport(email, login, ssl_context, period) as transport:
            for item in sendable:
                _send_one(transport, ledger, ledger_key, run_id, email.from_addr, summary, item)
    if summary.errors:
        error = DeliveryError(
            "; ".join(summary.errors),
            hint="everything else was sent and recorded; fix this and run again "
            "(recipients who got their email are not sent it twice)",
        )
        error.summary = summary  # type: ignore[attr-defined]
        raise error
    return summary


def _login(credentials: Iterable[str] | None) -> tuple[str, str] | None:
    if credentials is None:
        return None
    user, password = credentials
    register_secret(password)
    return user, password


def _sendable(summary: DeliverySummary, pending: Sequence[PendingMessage]) -> list[PendingMessage]:
    """Every message planned goes into the summary; those over the size limit fail here."""
    for item in pending:
        summary.messages.append(item.plan)
        if item.plan.problem is not None:
            _fail(summary, item.name, item.todo, f"report {item.name!r}: {item.plan.problem}")
    return [item for item in pending if item.plan.problem is None]


def _would_send(summary: DeliverySummary, sendable: Sequence[PendingMessage]) -> None:
    for item in sendable:
        for address in item.todo:
            summary.outcomes.append(
                RecipientOutcome(
                    item.name,
                    address.addr_spec,
                    "would-send",
                    item.plan.subject,
                    corrects=item.plan.corrects,
                )
            )
    for line in summary.lines():
        log.info("dry run: %s", line)


def _send_one(
    transport: Transport,
    ledger: SendLedger,
    ledger_key: str,
    run_id: str,
    sender: str,
    summary: DeliverySummary,
    item: PendingMessage,
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
    # Recorded before the message leaves: if the run dies before the server's answer is
    # recorded, the next run finds these rows still `sending` and reports them in doubt
    # instead of sending a second copy.
    row_ids = ledger.ledger_sending(
        ledger_key,
        run_id,
        name,
        envelope,
        plan.message_id,
        item.content_key,
        item.attachments,
        plan.corrects,
    )
    try:
        result = transport.send(item.msg, _addr_spec(sender), envelope)
    except MessageRejected as exc:
        for row_id in row_ids:
            ledger.ledger_settle(row_id, "failed", str(exc))
        _fail(summary, name, todo, f"report {name!r}: {exc}")
        return
    except DeliveryError as exc:
        # The session broke during the transaction: the server may have taken the
        # message. The rows stay `sending`; the next run reports them in doubt.
        raise DeliveryError(
            f"{exc}; whether report {name!r} reached {', '.join(envelope)} is unknown",
            hint="the next run reports it as in doubt and does not send it again; "
            "check the mail server's log, and use --resend if it did not arrive",
        ) from None
    # Settled now, one by one, so that whatever happens later in the run these
    # recipients are never sent this report again.
    for row_id, addr in zip(row_ids, envelope, strict=True):
        if addr in result.refused:
            detail = result.refused[addr]
            ledger.ledger_settle(row_id, "refused", detail)
            summary.outcomes.append(
                RecipientOutcome(name, addr, "refused", detail, plan.message_id, plan.corrects)
            )
            log.warning("report %r: %s refused by the server: %s", name, addr, detail)
        else:
            ledger.ledger_settle(row_id, "sent", result.detail)
            summary.outcomes.append(
                RecipientOutcome(name, addr, "sent", result.detail, plan.message_id, plan.corrects)
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
        "report %r: %s to %d of %d recipient(s) via %s (%s)",
        name,
        f"correction of run {plan.corrects} sent" if plan.corrects else "sent",
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
