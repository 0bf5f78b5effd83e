"""Planning a run's messages: for each report, who needs it (`reporting.delivery.ledger`),
and one message per group of recipients that need the same (the report, or a correction
of one run's report), rendered from the templates and measured against the size limit.
Nothing is sent here and no ledger row is written; a report's content snapshot is kept
before its messages go (a later correction compares against it)."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from pathlib import Path

from reporting.delivery.content import EmailTemplates, email_context
from reporting.delivery.content_key import ReportContent
from reporting.delivery.corrections import (
    CORRECTED_PREFIX,
    correction_notice,
    with_notice_html,
    with_notice_text,
)
from reporting.delivery.ledger import Decision, needs
from reporting.delivery.message import build_message, human_size, parse_recipients
from reporting.delivery.outcome import DeliverySummary, MessagePlan, RecipientOutcome
from reporting.protocols import EmailConfigLike, ReportInputLike
from reporting.render.formats import attached_suffixes
from reporting.store.ledger import SendLedger

__all__ = ["MessagePlanner", "PendingMessage", "RenderedReport"]

log = logging.getLogger(__name__)

# Recipients that get the same message: what they need, the run whose report it corrects,
# and the Message-ID a forced resend reuses.
_Group = tuple[str, str, str]


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
class PendingMessage:
    """A message built and ready to go to ``todo``, with what its ledger rows record."""

    name: str
    todo: list[Address]
    plan: MessagePlan
    msg: EmailMessage
    content_key: str
    attachments: tuple[tuple[str, str], ...]  # (name, SHA-256)


class MessagePlanner:
    """Builds the messages of one run's reports; records who is not sent anything."""

    def __init__(
        self,
        email: EmailConfigLike,
        ledger: SendLedger,
        ledger_key: str,
        summary: DeliverySummary,
        *,
        templates: Path | None,
        resend: bool,
        keep_contents: bool,
        run_id: str,
    ) -> None:
        self.email = email
        self.ledger = ledger
        self.ledger_key = ledger_key
        self.summary = summary
        self.renderer = EmailTemplates(templates)
        self.resend = resend
        self.keep_contents = keep_contents
        self.run_id = run_id
        self.hold = getattr(email, "corrections", "send") == "hold"

    def plan(self, report: RenderedReport, content: ReportContent | None) -> list[PendingMessage]:
        """The messages ``report`` needs this run (none when everybody has it)."""
        name = report.input.spec.name
        email_to = _email_to(report.input.spec)
        if not email_to:
            log.debug("report %r has no email_to; nothing to send", name)
            return []
        decisions = needs(
            self.ledger,
            self.ledger_key,
            name,
            email_to,
            content_key=content.key if content is not None else "",
            resend=self.resend,
            hold_corrections=self.hold,
        )
        groups = self._groups(name, decisions)
        if not groups:
            log.info("report %r: nobody needs it sent (again)", name)
            return []
        if content is not None and self.keep_contents:
            # Kept before anything is sent: a later correction compares against it.
            self.ledger.save_content(self.run_id, name, content.key, content.snapshot)
        addresses = {a.addr_spec: a for a in parse_recipients(name, email_to)}
        return self._messages(report, content, groups, addresses)

    def _groups(self, name: str, decisions: Sequence[Decision]) -> dict[_Group, list[Decision]]:
        groups: dict[_Group, list[Decision]] = {}
        for decision in decisions:
            _note_unsent(self.summary, name, decision)
            if decision.sends:
                superseded = decision.supersedes
                how = (
                    decision.action,
                    superseded.run_id if superseded is not None else "",
                    decision.reuse_message_id or "",
                )
                groups.setdefault(how, []).append(decision)
        return groups

    def _messages(
        self,
        report: RenderedReport,
        content: ReportContent | None,
        groups: dict[_Group, list[Decision]],
        addresses: dict[str, Address],
    ) -> list[PendingMessage]:
        attachments = report.attachments
        digests = tuple((p.name, _sha256(p)) for p in attachments)
        rendered = self.renderer.render(email_context(report.input, attachments))
        content_key = content.key if content is not None else ""
        out = []
        for (_action, _run, reuse_id), group in groups.items():
            todo = [addresses[d.recipient] for d in group]
            msg = self._message(report, content, group[0], todo, rendered)
            if reuse_id:
                # The same message again: a mail system that keeps the first copy (if it
                # did arrive) can tell the two apart as one.
                del msg["Message-ID"]
                msg["Message-ID"] = reuse_id
            plan = self._plan(report, group[0], todo, msg)
            out.append(PendingMessage(plan.report, todo, plan, msg, content_key, digests))
        return out

    def _message(
        self,
        report: RenderedReport,
        content: ReportContent | None,
        decision: Decision,
        todo: list[Address],
        rendered: tuple[str, str, str],
    ) -> EmailMessage:
        subject, text, html = rendered
        name = report.input.spec.name
        superseded = decision.supersedes
        notice: list[str] = []
        if superseded is not None:
            notice = correction_notice(self.ledger, superseded, name, content)
            subject = CORRECTED_PREFIX + subject
        return build_message(
            from_addr=self.email.from_addr,
            to=todo,
            subject=subject,
            text=with_notice_text(text, notice),
            html=with_notice_html(html, notice),
            attachments=report.attachments,
            headers={
                "X-Attendance-Report": name,
                "X-Attendance-Period": report.input.run.period_label,
            },
            date=datetime.now(UTC),
        )

    def _plan(
        self, report: RenderedReport, decision: Decision, todo: list[Address], msg: EmailMessage
    ) -> MessagePlan:
        size = len(msg.as_bytes())
        limit = self.email.max_message_bytes or None
        problem = None
        if limit is not None and size > limit:
            problem = (
                f"the message is {human_size(size)} ({size} bytes), over the limit of "
                f"{human_size(limit)} ({limit} bytes, email.max_message_bytes)"
            )
        superseded = decision.supersedes
        return MessagePlan(
            report=report.input.spec.name,
            recipients=tuple(a.addr_spec for a in todo),
            subject=str(msg["Subject"]),
            attachments=tuple(p.name for p in report.attachments),
            size_bytes=size,
            message_id=str(msg["Message-ID"]),
            problem=problem,
            corrects=superseded.run_id if superseded is not None else "",
        )


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


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _email_to(spec: object) -> Sequence[str]:
    # Read by name: the renderers' ReportSpecLike protocol has no `email_to`, and the
    # config's ReportSpec (what the pipeline passes) does.
    value = getattr(spec, "email_to", ())
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]
