"""A correction: a report sent again because what it says changed since a recipient got
it. Its subject starts ``Corrected:``; its body first names the run whose report it
supersedes and what changed (`reporting.delivery.content_key.describe_changes`)."""

from __future__ import annotations

import html as html_lib
import re
from collections.abc import Sequence

from reporting.delivery.content_key import ReportContent, describe_changes
from reporting.store.ledger import LedgerEntry, SendLedger

__all__ = ["CORRECTED_PREFIX", "correction_notice", "with_notice_html", "with_notice_text"]

CORRECTED_PREFIX = "Corrected: "


def correction_notice(
    ledger: SendLedger, superseded: LedgerEntry, report: str, content: ReportContent | None
) -> list[str]:
    """The lines a correction starts with: what it replaces, then what changed."""
    return _notice(superseded, _changes(ledger, superseded, report, content))


def _changes(
    ledger: SendLedger, superseded: LedgerEntry, report: str, content: ReportContent | None
) -> list[str]:
    if content is None:
        return []
    old = ledger.content_snapshot(superseded.run_id, report) if superseded.run_id else None
    try:
        return describe_changes(old, content.snapshot)
    except ValueError:  # a snapshot that cannot be read is as good as none
        return describe_changes(None, content.snapshot)


def _notice(superseded: LedgerEntry, changes: Sequence[str]) -> list[str]:
    run = superseded.run_id or "an earlier run"
    when = superseded.at[:16].replace("T", " ") + " UTC" if superseded.at else "earlier"
    lines = [
        f"CORRECTION: this report replaces the one sent by run {run} ({when}); "
        "that report is superseded.",
        "What changed:",
    ]
    lines += [line if line.startswith("  ") else f"- {line}" for line in changes]
    return lines


def with_notice_text(text: str, notice: Sequence[str]) -> str:
    if not notice:
        return text
    return "\n".join(notice) + "\n\n" + text


_BODY_TAG = re.compile(r"<body[^>]*>", re.IGNORECASE)


def with_notice_html(html: str, notice: Sequence[str]) -> str:
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
