"""Email each report's PDFs to the recipients who still need it, with a send ledger.

`deliver` asks the ledger (`reporting.delivery.ledger.decide`, the rule `--dry-run` uses
too) what each recipient of each report needs, given the report's content key
(`reporting.content`) and the audit's ``ledger_key`` (the period and the audited
meetings, see ``pipeline.ledger_key``):

- a recipient who never received the report gets it;
- a recipient who received other content (a meeting that failed is now fetched, an
  override was added, the rules changed) gets this report as a correction: subject
  starting ``Corrected:``, a body naming the run it supersedes and what changed; with
  ``email.corrections: hold`` the correction is only reported (``held``);
- a recipient who received this content is not sent it again, unless ``resend=True``;
- a recipient whose last send is *in doubt* (recorded as ``sending`` by a run that ended
  before the server's answer was recorded) is not sent anything: the run reports it and
  ends in `DeliveryError`; ``resend=True`` sends it again, with the same Message-ID when
  the content is the same.

The ledger rows of a message (one per recipient, with the run id, the content key and
the SHA-256 of each attachment) are written as ``sending`` before the message leaves and
settled right after its SMTP transaction (``sent``, ``refused`` with the server's reply,
or ``failed`` when the message as a whole was rejected), before the next message.
Refused and failed recipients are tried again next run. A message that cannot go at all
(too large, sender or content refused) does not stop the other reports; `DeliveryError`
is raised at the end naming it.

``dry_run=True`` builds every message and reports what would be sent; it opens no
connection and writes neither files nor ledger rows.
"""

from __future__ import annotations

import hashlib
import html as html_lib
import logging
import re
import ssl
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from pathlib import Path
from typing import Literal

from reporting.content import ReportContent, describe_changes
from reporting.delivery.content import (
    EmailTemplates,
    build_message,
    email_context,
    human_size,
    parse_recipients,
)
from reporting.delivery.ledger import Decision, Ledger, LedgerEntry, decide
from reporting.delivery.transport import (
    MessageRejected,
    OutboxTransport,
    SmtpTransport,
    Transport,
)
from reporting.errors import DeliveryError
from reporting.logs import register_secret
from reporting.protocols import EmailConfigLike, ReportInputLike
from reporting.render.formats import attached_suffixes

__all__ = [
    "CORRECTED_PREFIX",
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

CORRECTED_PREFIX = "Corrected: "

OutcomeStatus = Literal[
    "sent", "refused", "already-sent", "would-send", "failed", "in-doubt", "held"
]


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
    corrects: str = ""  # the run whose report a correction superseded


@dataclass(frozen=True)
class MessagePlan:
    """One message: built for every group of recipients of a report that need the same."""

    report: str
    recipients: tuple[str, ...]
    subject: str
    attachments: tuple[str, ...]
    size_bytes: int
    message_id: str
    problem: str | None = None  # why it cannot be sent (too large, ...)
    corrects: str = ""

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

    @property
    def in_doubt(self) -> list[RecipientOutcome]:
        return self._with("in-doubt")

    @property
    def held(self) -> list[RecipientOutcome]:
        return self._with("held")

    def describe(self) -> str:
        """One clause for the run's summary line."""
        corrected = [o for o in self.sent if o.corrects]
        extra = f" ({len(corrected)} correction(s))" if corrected else ""
        if self.dry_run:
            parts = [f"would email {len(self.would_send)} recipient(s)"]
        elif self.to_outbox:
            parts = [
                f"message(s) to {len(self.sent)} recipient(s){extra} written to the outbox "
                "(not sent)"
            ]
        else:
            parts = [f"emailed {len(self.sent)} recipient(s){extra}"]
        if self.already_sent:
            parts.append(f"{len(self.already_sent)} already sent earlier")
        if self.held:
            parts.append(f"{len(self.held)} correction(s) held (email.corrections: hold)")
        if self.in_doubt:
            parts.append(f"{len(self.in_doubt)} in doubt (not sent again)")
        if self.refused:
            parts.append(f"{len(self.refused)} refused (retried next run)")
        if self.failed:
            parts.append(f"{len(self.failed)} not sent (see errors)")
        return ", ".join(parts)

    def lines(self) -> list[str]:
        """One line per message, then every refusal, hold and error: for --dry-run and logs."""
        out = [plan.describe() for plan in self.messages]
        out += [f"refused: {o.report} → {o.recipient}: {o.detail}" for o in self.refused]
        out += [f"held: {o.report} → {o.recipient}: {o.detail}" for o in self.held]
        out += [f"error: {e}" for e in self.errors]
        return out


@dataclass(frozen=True)
class _Pending:
    name: str
    todo: list[Address]
    plan: MessagePlan
    msg: EmailMessage
    content_key: str
    attachments: tuple[tuple[str, str], ...]  # (name, SHA-256)


def deliver(  # noqa: C901, PLR0915
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
    hold = getattr(email, "corrections", "send") == "hold"

    pending: list[_Pending] = []
    for report in reports:
        spec = report.input.spec
        recipients = parse_recipients(spec.name, _email_to(spec))
        if not recipients:
            log.debug("report %r has no email_to; nothing to send", spec.name)
            continue
        content = (contents or {}).get(spec.name)
        content_key = content.key if content is not None else ""
        decisions = decide(
            ledger.ledger_entries(ledger_key, spec.name),
            [a.addr_spec for a in recipients],
            content_key=content_key,
            resend=resend,
            hold_corrections=hold,
        )
        by_addr = {a.addr_spec: a for a in recipients}
        groups: dict[tuple[str, str, str], list[Decision]] = {}
        for decision in decisions:
            _note_unsent(summary, spec.name, decision)
            if decision.sends:
                superseded = decision.supersedes
                how = (
                    decision.action,
                    superseded.run_id if superseded is not None else "",
                    decision.reuse_message_id or "",
                )
                groups.setdefault(how, []).append(decision)
        if not groups:
            log.info("report %r: nobody needs it sent (again)", spec.name)
            continue
        if content is not None and not dry_run:
            # Kept before anything is sent: a later correction compares against it.
            ledger.save_content(run_id, spec.name, content.key, content.snapshot)

        attachments = report.attachments
        digests = tuple((p.name, _sha256(p)) for p in attachments)
        context = email_context(report.input, attachments)
        subject, text, html = renderer.render(context)
        for (_action, _run, reuse_id), group in groups.items():
            superseded = group[0].supersedes
            notice: list[str] = []
            msg_subject = subject
            if superseded is not None:
                changes = _changes(ledger, superseded, spec.name, content)
                notice = _correction_notice(superseded, changes)
                msg_subject = CORRECTED_PREFIX + subject
            todo = [by_addr[d.recipient] for d in group]
            msg = build_message(
                from_addr=email.from_addr,
                to=todo,
                subject=msg_subject,
                text=_with_notice_text(text, notice),
                html=_with_notice_html(html, notice),
                attachments=attachments,
                headers={
                    "X-Attendance-Report": spec.name,
                    "X-Attendance-Period": report.input.run.period_label,
                },
                date=datetime.now(UTC),
            )
            if reuse_id:
                # The same message again: a mail system that keeps the first copy (if it
                # did arrive) can tell the two apart as one.
                del msg["Message-ID"]
                msg["Message-ID"] = reuse_id
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
                corrects=superseded.run_id if superseded is not None else "",
            )
            pending.append(_Pending(spec.name, todo, plan, msg, content_key, digests))

    for item in pending:
        summary.messages.append(item.plan)
        if item.plan.problem is not None:
            _fail(summary, item.name, item.todo, f"report {item.name!r}: {item.plan.problem}")

    sendable = [item for item in pending if item.plan.problem is None]
    if dry_run:
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


def _note_unsent(summary: DeliverySummary, name: str, decision: Decision) -> None:
    """The outcome of a recipient who is not sent anything this run."""
    recipient = decision.recipient
    if decision.action in ("has-it", "received"):
        summary.outcomes.append(RecipientOutcome(name, recipient, "already-sent"))
    elif decision.action == "hold":
        last = decision.last
        detail = f"a correction of run {last.run_id if last else '?'} is held"
        summary.outcomes.append(RecipientOutcome(name, recipient, "held", detail))
        log.warning("report %r: %s for %s (email.corrections: hold)", name, detail, recipient)
    elif decision.action == "doubt":
        doubt = decision.doubt
        assert doubt is not None
        message = (
            f"report {name!r} to {recipient}: the send of run {doubt.run_id or '?'} "
            f"({doubt.message_id or 'no Message-ID'}, {doubt.at}) is in doubt: that run "
            "ended before the mail server's answer was recorded, so it may or may not have "
            "arrived. Not sent again; check the mail server's log for that Message-ID, and "
            "run with --resend to send it again"
        )
        summary.outcomes.append(
            RecipientOutcome(name, recipient, "in-doubt", message, doubt.message_id)
        )
        summary.errors.append(message)
        log.error("%s", message)


def _changes(
    ledger: Ledger, superseded: LedgerEntry, report: str, content: ReportContent | None
) -> list[str]:
    if content is None:
        return []
    old = ledger.content_snapshot(superseded.run_id, report) if superseded.run_id else None
    try:
        return describe_changes(old, content.snapshot)
    except ValueError:  # a snapshot that cannot be read is as good as none
        return describe_changes(None, content.snapshot)


def _correction_notice(superseded: LedgerEntry, changes: Sequence[str]) -> list[str]:
    run = superseded.run_id or "an earlier run"
    when = superseded.at[:16].replace("T", " ") + " UTC" if superseded.at else "earlier"
    lines = [
        f"CORRECTION: this report replaces the one sent by run {run} ({when}); "
        "that report is superseded.",
        "What changed:",
    ]
    lines += [line if line.startswith("  ") else f"- {line}" for line in changes]
    return lines


def _with_notice_text(text: str, notice: Sequence[str]) -> str:
    if not notice:
        return text
    return "\n".join(notice) + "\n\n" + text


_BODY_TAG = re.compile(r"<body[^>]*>", re.IGNORECASE)


def _with_notice_html(html: str, notice: Sequence[str]) -> str:
    if not notice:
        return html
    items = "".join(f"<li>{html_lib.escape(line.strip(' -'))}</li>" for line in notice[2:])
    block = (
        '<div style="border: 2px solid #b00020; padding: 8px; margin: 12px 0;">'
        f"<p><strong>{html_lib.escape(notice[0])}</strong></p>"
        f"<p>{html_lib.escape(notice[1])}</p><ul>{items}</ul></div>"
    )
    match = _BODY_TAG.search(html)
    if match is None:
        return block + html
    return html[: match.end()] + block + html[match.end() :]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _send_one(
    transport: Transport,
    ledger: Ledger,
    ledger_key: str,
    run_id: str,
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
