"""The Webex token never leaves the environment: not in logs, outputs, emails or the store.

Three runs log at ``-v`` as JSON lines (request-level detail): one that succeeds with a
distinctive compliance token, one where a config meeting id is unknown (404, error text
in the logs, reports, manifest and email), one whose token the sandbox refuses (401).
Then every byte they left behind is searched for either token: stdout, stderr, every
output file (CSV, PDF bytes, text and decompressed streams, XLSX members, manifest),
every outbox message (raw and every MIME part decoded), the config, and every cell of
every table of the store (plus the raw SQLite files).
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from tests.pipeline_support import (
    SECRET_TOKEN,
    WRONG_TOKEN,
    Blob,
    ReportedRun,
    eml_blobs,
    every_store_value,
    file_blobs,
    reported_runs,
)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, ReportedRun]:
    return reported_runs(tmp_path_factory.mktemp("reported"))


def _needles(token: str) -> list[bytes]:
    """The token, its halves (a truncated leak), percent- and base64-encoded forms."""
    raw = token.encode()
    half = len(raw) // 2
    return [
        raw,
        raw[:half],
        raw[half:],
        base64.b64encode(raw),
        base64.b64encode(b"Bearer " + raw),
    ]


NEEDLES = [*_needles(SECRET_TOKEN), *_needles(WRONG_TOKEN)]


def _everything(run: ReportedRun) -> list[Blob]:
    blobs = [
        Blob(f"{run.name}: stdout", run.stdout.encode()),
        Blob(f"{run.name}: stderr", run.stderr.encode()),
    ]
    for path in sorted(run.folder.rglob("*")):
        if not path.is_file():
            continue
        if path.suffix == ".eml":
            blobs += eml_blobs(path)
        else:
            blobs += file_blobs(path)  # incl. store.sqlite and its -wal, raw
    blobs += [
        Blob(f"{run.name}: store {table}", value) for table, value in every_store_value(run.store)
    ]
    return blobs


def test_the_runs_did_what_this_test_relies_on(runs: dict[str, ReportedRun]) -> None:
    ok, missing, refused = runs["ok"], runs["missing_meeting"], runs["bad_token"]
    assert ok.exit_code == 0, ok.stderr
    assert missing.exit_code == 3, missing.stderr
    # Nothing fetched: the run fails with the API's answer in its error line, writes no
    # report and sends nothing; its logs and store are still searched below.
    assert refused.exit_code == 1, refused.stderr
    assert "401" in refused.stderr
    assert not (refused.out / "compliance.pdf").exists()
    for run in runs.values():
        # JSON log lines; the CLI's own "not fetched:" / "error:" lines are plain text.
        lines = [json.loads(line) for line in run.stderr.splitlines() if line.startswith("{")]
        # -v: request-level lines, as JSON objects.
        assert any(e["level"] == "DEBUG" and "GET " in e["message"] for e in lines)
        assert every_store_value(run.store)
    for run in (ok, missing):
        assert (run.out / "compliance.pdf").exists() and (run.out / "compliance.xlsx").exists()
        assert len(list(run.outbox.glob("*.eml"))) == 1
    assert "404" in missing.stderr
    # Raw pages are in the store (the bodies are the API's, so the search covers them).
    assert any(table == "pages" for table, _ in every_store_value(ok.store))


@pytest.mark.parametrize("name", ["ok", "missing_meeting", "bad_token"])
def test_no_token_anywhere(runs: dict[str, ReportedRun], name: str) -> None:
    blobs = _everything(runs[name])
    assert len(blobs) > (20 if name != "bad_token" else 10)
    leaks = [
        f"{blob.where}: {needle[:6]!r}…"
        for blob in blobs
        for needle in NEEDLES
        if needle in blob.data or needle.lower() in blob.data.lower()
    ]
    assert not leaks, "token found in:\n" + "\n".join(leaks)


def test_the_search_would_find_a_leak(tmp_path: Path) -> None:
    """The search itself works: a token planted in each kind of file is found."""
    import zipfile

    planted = tmp_path / "book.xlsx"
    with zipfile.ZipFile(planted, "w", compression=zipfile.ZIP_DEFLATED) as book:
        book.writestr("xl/sharedStrings.xml", f"<t>{SECRET_TOKEN}</t>")
    assert any(SECRET_TOKEN.encode() in b.data for b in file_blobs(planted))
    assert SECRET_TOKEN.encode() not in planted.read_bytes()  # compressed: raw bytes miss it
