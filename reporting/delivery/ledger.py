"""The send ledger's rows, and the one rule that decides who still needs a report.

`needs` (over `decide`) is asked by the run (`reporting.delivery.send`) and by
`--dry-run` (`reporting.delivery.preview`) alike, with the same `ledger_key`, so the two
can never disagree about who gets what (recipients compared with ``casefold``).

A ledger row moves ``sending`` → ``sent`` | ``refused`` | ``failed``. ``sending`` is
written before the message leaves; a row still ``sending`` when a later run reads the
ledger belongs to a run that was killed (or lost its SMTP session) between handing the
message over and hearing the server's answer: the message may or may not have arrived.
Such a send is *in doubt*; it is reported, never silently repeated, and only ``--resend``
sends it again (with the same Message-ID when the content is the same, so a mail system
that deduplicates by Message-ID shows it once).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from reporting.delivery.content import parse_recipients
from reporting.store.ledger import LEDGER_STATUSES, LedgerEntry, SendLedger

if TYPE_CHECKING:
    from reporting.config import Config

__all__ = [
    "LEDGER_STATUSES",
    "Action",
    "Decision",
    "LedgerEntry",
    "SendLedger",
    "decide",
    "ledger_key",
    "needs",
]

# send: never received it; correct: received other content, gets this as `Corrected:`;
# has-it: received this content (or content from before the ledger kept content keys);
# received: received something, and the content to compare is not known (dry run);
# doubt: a send is in doubt, nothing is sent without --resend; hold: a correction that
# `email.corrections: hold` keeps back.
Action = Literal["send", "correct", "has-it", "received", "doubt", "hold"]


@dataclass(frozen=True)
class Decision:
    recipient: str
    action: Action
    last: LedgerEntry | None = None  # what the recipient last received (status sent)
    doubt: LedgerEntry | None = None  # the send in doubt, if any
    forced: bool = False  # --resend made it a send
    # For a correction: the message whose report this one replaces.
    supersedes: LedgerEntry | None = None
    # A forced resend of a send in doubt with the same content keeps its Message-ID.
    reuse_message_id: str | None = None

    @property
    def sends(self) -> bool:
        return self.action in ("send", "correct")


def ledger_key(config: Config) -> str:
    """What makes two runs the same audit for the send ledger: the period's label and a
    hash of the meetings entries (each entry's ``ref``: its id, or its ``match:``
    described), ``2026-10:<16 hex digits>``.

    Not the config file's bytes: fixing a comment, a path or a threshold and rerunning must
    not email every recipient again. Auditing other meetings is another audit.
    """
    meetings = "\n".join(sorted(entry.ref for entry in config.meetings))
    return f"{config.period.label}:{hashlib.sha256(meetings.encode()).hexdigest()[:16]}"


def needs(
    ledger: SendLedger | None,
    key: str,
    report: str,
    email_to: Sequence[str],
    *,
    content_key: str | None,
    resend: bool = False,
    hold_corrections: bool = False,
) -> list[Decision]:
    """Who of a report's ``email_to`` still needs it under the audit ``key``: the one rule
    a run and ``--dry-run`` both ask (``ledger`` None: a store not made yet, nobody has
    anything). Recipients are read as delivery sends to them: one address each, by its
    address part, duplicates in any case dropped."""
    recipients = [address.addr_spec for address in parse_recipients(report, email_to)]
    entries = ledger.ledger_entries(key, report) if ledger is not None else []
    return decide(
        entries,
        recipients,
        content_key=content_key,
        resend=resend,
        hold_corrections=hold_corrections,
    )


def decide(
    entries: Iterable[LedgerEntry],
    recipients: Iterable[str],
    *,
    content_key: str | None,
    resend: bool = False,
    hold_corrections: bool = False,
) -> list[Decision]:
    """What each recipient of one report needs, from that report's ledger rows.

    ``content_key`` None means the content is not known yet (a dry run computes nothing):
    a recipient who received the report is then ``received``, not compared.
    """
    rows = sorted(entries, key=lambda e: e.id)
    out: list[Decision] = []
    for recipient in recipients:
        wanted = recipient.casefold()
        mine = [e for e in rows if e.recipient.casefold() == wanted]
        last = next((e for e in reversed(mine) if e.status == "sent"), None)
        doubt = next(
            (
                e
                for e in reversed(mine)
                if e.status == "sending" and (last is None or e.id > last.id)
            ),
            None,
        )
        # A send in doubt may have arrived: what the recipient may have is its content.
        had = doubt if doubt is not None else last
        changed = (
            had is not None
            and content_key is not None
            and had.content_key != ""
            and had.content_key != content_key
        )
        if resend:
            out.append(_forced(recipient, mine, last, doubt, content_key, changed))
        elif doubt is not None:
            out.append(Decision(recipient, "doubt", last, doubt))
        elif last is None:
            out.append(Decision(recipient, "send"))
        elif content_key is None:
            out.append(Decision(recipient, "received", last))
        elif not changed:
            # Rows from before content keys were kept say nothing about the content:
            # such a recipient is not sent the report again (--resend forces).
            out.append(Decision(recipient, "has-it", last))
        elif hold_corrections:
            out.append(Decision(recipient, "hold", last))
        else:
            out.append(Decision(recipient, "correct", last, supersedes=last))
    return out


def _forced(
    recipient: str,
    mine: Sequence[LedgerEntry],
    last: LedgerEntry | None,
    doubt: LedgerEntry | None,
    content_key: str | None,
    changed: bool,
) -> Decision:
    """What --resend sends: the message in doubt again, a correction, or the report."""
    if doubt is not None and content_key is not None and doubt.content_key == content_key:
        # The same message again, a correction if it was one, under the same Message-ID.
        replaced = None
        if doubt.corrects:
            replaced = next(
                (e for e in reversed(mine) if e.run_id == doubt.corrects and e.status == "sent"),
                last,
            )
        return Decision(
            recipient,
            "correct" if replaced is not None else "send",
            last,
            doubt,
            forced=True,
            supersedes=replaced,
            reuse_message_id=doubt.message_id or None,
        )
    if changed:
        replaced = doubt if doubt is not None else last
        return Decision(recipient, "correct", last, doubt, forced=True, supersedes=replaced)
    return Decision(recipient, "send", last, doubt, forced=True)
