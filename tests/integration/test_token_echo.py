"""A token Webex echoes back is redacted from everything: outputs, store, logs, email.

A hostile stand-in (tests/hostile_server.py) plants the run's own token in the three
places the API can return it: the error text of a 404, a next-page link's query string,
and a participant's display name. The run renders a compliance PDF and workbook, writes
its email to the outbox and logs request detail as JSON; then every byte it left is
searched for the token (whole, either half, base64).
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

from tests.hostile_server import (
    HOSTILE_MEETING,
    HostileServer,
    hostile_config,
    json_reply,
    record,
)
from tests.pipeline_support import (
    REPORTS_PDF_XLSX,
    Blob,
    eml_blobs,
    every_store_value,
    file_blobs,
    run_cli,
    store_rows,
)

TOKEN = "Ht5kW9qZ2xV7-echoed-by-webex-Lp3mN8rT4yB6"
UNKNOWN = "9000cccc9000cccc9000cccc9000cccc_I_100000000000000003"


def _needles() -> list[bytes]:
    raw = TOKEN.encode()
    half = len(raw) // 2
    return [raw, raw[:half], raw[half:], base64.b64encode(raw)]


def _script(number: int, base: str):  # type: ignore[no-untyped-def]
    echoed = record(f"Mallory {TOKEN}", "mallory@example.com")
    if number == 1:
        link = (
            f"{base}/meetingParticipants?meetingId={HOSTILE_MEETING}&max=100&page=2&cursor={TOKEN}"
        )
        return json_reply({"items": [echoed]}, headers=[("Link", f'<{link}>; rel="next"')])
    return json_reply({"items": [record("Page Two", "two@example.com")]})


def test_an_echoed_token_is_nowhere(tmp_path: Path) -> None:
    not_found = json.dumps(
        {"message": f"No meeting for token {TOKEN}", "errors": [{"description": f"bad {TOKEN}"}]}
    ).encode()
    with HostileServer(_script, not_found_body=not_found) as server:
        config = hostile_config(
            tmp_path,
            server.base_url,
            more_meetings=[UNKNOWN],
            reports=[dict(r) for r in REPORTS_PDF_XLSX],
            email=True,
        )
        result = run_cli("run", str(config), "-v", "--log-format", "json", token=TOKEN)
        assert any("cursor=" in r for r in server.requests)  # the echoing link was followed
    assert result.exit_code == 3, result.output
    # The places the token was planted all made it into the run, redacted.
    assert UNKNOWN in result.stderr and "Webex answered 404: bad ***" in result.stderr
    names = [n for (n,) in store_rows(tmp_path / "store.sqlite", "SELECT body FROM pages")]
    assert any(b"Mallory ***" in bytes(n) for n in names)

    blobs = [Blob("stdout", result.stdout.encode()), Blob("stderr", result.stderr.encode())]
    for path in sorted(tmp_path.rglob("*")):
        if path.is_file():
            blobs += eml_blobs(path) if path.suffix == ".eml" else file_blobs(path)
    blobs += [Blob(f"store {t}", v) for t, v in every_store_value(tmp_path / "store.sqlite")]
    assert any(p.suffix == ".eml" for p in tmp_path.rglob("*"))
    assert any(p.suffix == ".pdf" for p in tmp_path.rglob("*"))
    leaks = [
        f"{blob.where}: {needle[:6]!r}…"
        for blob in blobs
        for needle in _needles()
        if needle in blob.data or needle.lower() in blob.data.lower()
    ]
    assert not leaks, "token found in:\n" + "\n".join(leaks)
