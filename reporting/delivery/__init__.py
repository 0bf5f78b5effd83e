"""Email each report's PDFs to the recipients who still need it, with a send ledger.

`deliver` asks the ledger (`reporting.delivery.ledger.needs`, the rule `--dry-run` asks
too) what each recipient of each report needs, given the report's content key
(`reporting.delivery.content_key`) and the audit's ``ledger_key`` (the period and the
audited meetings, see `reporting.delivery.ledger.ledger_key`):

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

The package's modules, in the order a run uses them: `ledger` (who needs what),
`content_key` (what a report says), `plan` (the messages), `content` and `message` (what
an email says and how it is built), `corrections`, `send` and `transport` (SMTP or the
outbox), `outcome` (what happened); `preview` is the part of `--dry-run` that lists who
would be sent what.
"""

from __future__ import annotations

from reporting.delivery.corrections import CORRECTED_PREFIX
from reporting.delivery.outcome import DeliverySummary, MessagePlan, RecipientOutcome
from reporting.delivery.plan import RenderedReport
from reporting.delivery.send import deliver
from reporting.errors import DeliveryError

__all__ = [
    "CORRECTED_PREFIX",
    "DeliveryError",
    "DeliverySummary",
    "MessagePlan",
    "RecipientOutcome",
    "RenderedReport",
    "deliver",
]
