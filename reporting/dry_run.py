"""`attendance run --dry-run`: what a run would fetch, write and send. It does none of it.

No network, no file written, nothing sent: the store is read (if it exists) only to tell
what is already fetched and who was already emailed for this period.
"""

from __future__ import annotations

from pathlib import Path

from reporting.check import format_plan
from reporting.config import Config
from reporting.delivery.ledger import Decision, decide
from reporting.pipeline import ledger_key
from reporting.render.formats import selected
from reporting.store import Store


def describe_dry_run(
    config: Config, *, output_dir: Path | None, send_email: bool, resend: bool
) -> str:
    out_dir = output_dir or config.output_dir
    lines = ["Dry run: nothing is fetched, written or sent.", "", format_plan(config), ""]
    store = Store.open_readonly(config.store) if config.store.exists() else None
    try:
        lines += _fetch_lines(config, store)
        lines += ["", f"Would write to {out_dir}:"]
        lines += [f"  {name}" for name in _output_names(config)]
        lines += ["", *_send_lines(config, store, send_email=send_email, resend=resend)]
    finally:
        if store is not None:
            store.close()
    return "\n".join(lines)


def _fetch_lines(config: Config, store: Store | None) -> list[str]:
    sandbox = config.webex.base_url == "sandbox"
    source = "the bundled sandbox" if sandbox else config.webex.base_url
    lines = [f"Would fetch from {source}:"]
    period = (config.period.start, config.period.end)
    for entry in config.meetings:
        plan = store.latest_plan(entry.ref, period, config.webex.host_email) if store else None
        if plan is None or plan[0] is None:
            lines.append(f"  {entry.ref}: look up, expand to its instances, fetch participants")
            continue
        instances = [m["id"] for m in plan[0]]
        stored = [i for i in instances if store is not None and store.complete_fetch(i)]
        lines.append(
            f"  {entry.ref}: {len(instances)} instance(s) planned last time, "
            f"{len(stored)} already stored (not fetched again unless --refresh)"
        )
    return lines


def _output_names(config: Config) -> list[str]:
    names = ["attendance.csv", "devices.csv", "courses.csv"]
    for spec in config.reports:
        names += [fmt.file_name(spec.name) for fmt in selected(spec.formats)]
    return [*names, "manifest.json"]


def _send_lines(
    config: Config, store: Store | None, *, send_email: bool, resend: bool
) -> list[str]:
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
        entries = store.ledger_entries(key, spec.name) if store is not None else []
        # The run's own rule; the content is not computed here, so whoever received the
        # report is "received": a correction goes out only if its content changed.
        decisions = decide(
            entries, spec.email_to, content_key=None, resend=resend, hold_corrections=hold
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
