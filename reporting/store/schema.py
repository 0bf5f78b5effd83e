"""The store's SQLite schema and its migrations.

Tables (``PRAGMA user_version`` = 2; a version-1 store is migrated when opened for
writing, and read as it is by `open_readonly`)::

    runs          id, started, finished, status (running | complete | partial | failed |
                  interrupted: killed before it ended), config_path, config_hash, period_label,
                  period_start, period_end, as_of, offline, tool_version, counts (JSON)
    plan_entries  run_id, entry_id, period_start, period_end, host_email, planned_at,
                  meetings (JSON list of the Meeting objects the entry expanded to; an
                  instance Get Meeting could not describe is {"id": .., "lookedUp": false}),
                  failure (text, when the entry could not be planned)
    fetches       one walk through the participant pages of one instance (or through its
                  invitees, ``invitees:<instance id>``, or a series' registrants,
                  ``registrants:<series id>@<period label>``): instance_id,
                  run_id (that started it), state (the instance's state then), next_url
                  (the cursor: where the walk continues), pages, complete (walked to the
                  end with every page usable), abandoned. A walk that reached the end with
                  an unusable page is left incomplete with next_url NULL ("finished"): its
                  pages are read for this run, and the next run fetches it again
    pages         every response body as received: run_id, fetch_id (participant pages)
                  or NULL (lookups), subject (instance or entry id), kind (participants |
                  invitees | registrants | meeting | meetings), seq, method, url (no
                  secrets), status, headers (the ones that matter: Link, TrackingId,
                  Retry-After, Content-Type, Date), body, fetched_at, problem (why the
                  body is unusable), superseded
    failures      run_id, entry_id, instance_id, message
    ledger        one row per recipient of a message: key (the audit: period and
                  meetings), run_id, report, recipient, status (sending | sent | refused |
                  failed), detail, message_id, content_key (what the report said, see
                  `reporting.delivery.content_key`), attachments (JSON [[name, sha256],
                  ...]), corrects (the run whose report this message superseded), at.
                  ``sending`` is written before the message leaves
                  (`reporting.delivery.ledger`)
    contents      run_id, report, content_key, snapshot (zlib JSON: the rows a later
                  correction compares against), kept for every report a run emailed
"""

from __future__ import annotations

TABLES = ("runs", "plan_entries", "fetches", "pages", "failures", "ledger", "contents")

SCHEMA_VERSION = 2

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,
    started TEXT NOT NULL,
    finished TEXT,
    status TEXT NOT NULL,
    config_path TEXT,
    config_hash TEXT,
    period_label TEXT,
    period_start TEXT,
    period_end TEXT,
    as_of TEXT,
    offline INTEGER NOT NULL DEFAULT 0,
    tool_version TEXT,
    counts TEXT
);
CREATE TABLE IF NOT EXISTS plan_entries (
    id INTEGER PRIMARY KEY,
    run_id TEXT NOT NULL,
    entry_id TEXT NOT NULL,
    period_start TEXT NOT NULL,
    period_end TEXT NOT NULL,
    host_email TEXT NOT NULL DEFAULT '',
    planned_at TEXT NOT NULL,
    meetings TEXT,
    failure TEXT
);
CREATE INDEX IF NOT EXISTS plan_entries_key
    ON plan_entries (entry_id, period_start, period_end, host_email, id);
CREATE TABLE IF NOT EXISTS fetches (
    id INTEGER PRIMARY KEY,
    instance_id TEXT NOT NULL,
    run_id TEXT NOT NULL,
    started TEXT NOT NULL,
    updated TEXT NOT NULL,
    state TEXT NOT NULL,
    next_url TEXT,
    pages INTEGER NOT NULL DEFAULT 0,
    complete INTEGER NOT NULL DEFAULT 0,
    abandoned INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS fetches_instance ON fetches (instance_id, id);
CREATE TABLE IF NOT EXISTS pages (
    id INTEGER PRIMARY KEY,
    run_id TEXT NOT NULL,
    fetch_id INTEGER REFERENCES fetches (id),
    subject TEXT NOT NULL,
    kind TEXT NOT NULL,
    seq INTEGER NOT NULL DEFAULT 0,
    method TEXT NOT NULL,
    url TEXT NOT NULL,
    status INTEGER NOT NULL,
    headers TEXT NOT NULL,
    body BLOB NOT NULL,
    fetched_at TEXT NOT NULL,
    problem TEXT,
    superseded INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS pages_fetch ON pages (fetch_id, seq);
CREATE INDEX IF NOT EXISTS pages_subject ON pages (subject, kind);
CREATE TABLE IF NOT EXISTS failures (
    id INTEGER PRIMARY KEY,
    run_id TEXT NOT NULL,
    entry_id TEXT NOT NULL,
    instance_id TEXT,
    message TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS failures_instance ON failures (instance_id, id);
CREATE TABLE IF NOT EXISTS ledger (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL,
    run_id TEXT NOT NULL DEFAULT '',
    report TEXT NOT NULL,
    recipient TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('sending', 'sent', 'refused', 'failed')),
    detail TEXT NOT NULL DEFAULT '',
    message_id TEXT NOT NULL DEFAULT '',
    content_key TEXT NOT NULL DEFAULT '',
    attachments TEXT NOT NULL DEFAULT '[]',
    corrects TEXT NOT NULL DEFAULT '',
    at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ledger_key ON ledger (key, report, recipient);
CREATE TABLE IF NOT EXISTS contents (
    run_id TEXT NOT NULL,
    report TEXT NOT NULL,
    content_key TEXT NOT NULL,
    snapshot BLOB NOT NULL,
    PRIMARY KEY (run_id, report)
);
"""

# Version 1's ledger had neither run ids, content keys nor attachment hashes, and its
# status CHECK allowed only sent | refused; SQLite cannot change a CHECK, so the table is
# rebuilt. Its rows keep their ids (the order decisions rely on) with empty new columns:
# `reporting.delivery.ledger.decide` reads an empty content key as "content not known".
# One transaction: a kill halfway leaves the version-1 store as it was.
MIGRATE_1_TO_2 = """
BEGIN IMMEDIATE;
ALTER TABLE ledger RENAME TO ledger_v1;
DROP INDEX IF EXISTS ledger_key;
{schema}
INSERT INTO ledger (id, key, run_id, report, recipient, status, detail, message_id,
                    content_key, attachments, corrects, at)
    SELECT id, key, '', report, recipient, status, detail, message_id, '', '[]', '', at
    FROM ledger_v1;
DROP TABLE ledger_v1;
PRAGMA user_version = 2;
COMMIT;
"""

# What `open_readonly` reads a version-1 ledger as (a dry run or `history` writes nothing,
# so it cannot migrate).
LEDGER_V1_VIEW = (
    "(SELECT id, key, '' AS run_id, report, recipient, status, detail, message_id,"
    " '' AS content_key, '[]' AS attachments, '' AS corrects, at FROM ledger)"
)
