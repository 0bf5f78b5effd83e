"""What delivery did: one outcome per recipient, one plan per message, and the summary the
run prints and `--dry-run` lists."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from reporting.delivery.message import human_size

__all__ = ["DeliverySummary", "MessagePlan", "OutcomeStatus", "RecipientOutcome"]

OutcomeStatus = Literal[
    "sent", "refused", "already-sent", "would-send", "failed", "in-doubt", "held"
]


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
