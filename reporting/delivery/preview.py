"""What `--dry-run` says about sending: who of each report's recipients would be sent it,
and why the others would not, asked of the ledger exactly as a run asks
(`reporting.delivery.ledger.needs` under `ledger_key`). Nothing is built or sent."""

from __future__ import annotations

from reporting.config import Config
from reporting.delivery.ledger import Decision, ledger_key, needs
from reporting.render.formats import selected
from reporting.store.ledger import SendLedger

__all__ = ["send_lines"]


def send_lines(
    config: Config, ledger: SendLedger | None, *, send_email: bool, resend: bool
) -> list[str]:
    """The dry run's lines about email (``ledger`` None: no store yet)."""
    if config.email is None:
        return ["Would send nothing: the config has no `email:` section."]
    if not send_email:
        return ["Would send nothing: --no-email."]
    how = "SMTP" if config.email.smtp is not None else f"the outbox {config.email.outbox}"
    key = ledger_key(config)
    hold = config.email.corrections == "hold"
    lines = [f"Would send through {how}:"]
    for spec in config.reports:
        if not spec.email_to:
            lines.append(f"  {spec.name}: nothing (no recipients)")
            continue
        # As delivery does: one message per report, its PDF attached when it has one.
        attached = [fmt.file_name(spec.name) for fmt in selected(spec.formats) if fmt.attached]
        what = " + ".join(attached) or f"{spec.name} (no attachment)"
        # The content is not computed here, so whoever received the report is
        # "received": a correction goes out only if its content changed.
        decisions = needs(
            ledger,
            key,
            spec.name,
            spec.email_to,
            content_key=None,
            resend=resend,
            hold_corrections=hold,
        )
        todo = [d.recipient for d in decisions if d.sends]
        lines.append(f"  {what} to {', '.join(todo) or 'nobody'}")
        for decision in decisions:
            note = _decision_note(decision, hold=hold)
            if note:
                lines.append(f"    {decision.recipient}: {note}")
    return lines


def _decision_note(decision: Decision, *, hold: bool) -> str | None:
    last, doubt = decision.last, decision.doubt
    if decision.action == "received" and last is not None:
        then = "held (email.corrections: hold)" if hold else "sent as a correction"
        return (
            f"already sent by run {last.run_id or '(before run ids were kept)'} at {last.at}; "
            f"{then} only if the report's content changed (--resend to send again)"
        )
    if decision.action == "doubt" and doubt is not None:
        return (
            f"the send of run {doubt.run_id} ({doubt.message_id}) is in doubt; "
            "not sent again without --resend"
        )
    if decision.forced and doubt is not None:
        return (
            f"the send in doubt ({doubt.message_id}) is sent again, under the same "
            "Message-ID if the report's content did not change"
        )
    return None
