"""Acceptance (issue 14): a meeting that failed and is fetched later reaches every
recipient once, as a correction; nothing else is ever sent twice, and every PDF that was
emailed is kept, byte for byte, in the run folder whose SHA-256 the ledger holds.

A real SMTP server (aiosmtpd), the sandbox, the command line and the store. Run 1 cannot
fetch one meeting (the sandbox does not know it yet: 404) and exits 3; run 2 can; run 3
changes nothing.
"""

from __future__ import annotations

import json
from pathlib import Path

from reporting.webex.sandbox import SandboxServer
from tests.deliver_support import Received
from tests.evidence_support import (
    folder_hashes,
    ledger,
    pdf_attachments,
    plain_smtp,
    run_folders,
    sha256,
    smtp_config,
)
from tests.pipeline_support import (
    config_meetings,
    dataset_file,
    pdf_text,
    run_cli,
)

TOKEN = "evidence-corrections-token"
SHAPE = {"meetings": 6, "participants": 30, "seed": 11}
REPORTS = (
    {
        "name": "compliance",
        "audience": "compliance",
        "formats": ["pdf"],
        "email_to": ["officer@example.com", "AUDITOR@example.com"],
    },
    # No PDF: a message without attachments, to a recipient of its own.
    {
        "name": "managers",
        "audience": "summary",
        "formats": ["xlsx"],
        "email_to": ["lead@example.com"],
    },
)
RECIPIENTS = {"officer@example.com", "AUDITOR@example.com", "lead@example.com"}


def _without(dataset: Path, instance_id: str, target: Path) -> Path:
    data = json.loads(dataset.read_text(encoding="utf-8"))
    data["meetings"] = [m for m in data["meetings"] if m["id"] != instance_id]
    data["participants"].pop(instance_id, None)
    target.write_text(json.dumps(data), encoding="utf-8")
    return target


def test_a_meeting_fetched_later_is_sent_once_as_a_correction(tmp_path: Path) -> None:
    full = dataset_file(tmp_path / "data", **SHAPE)
    meetings = config_meetings(**SHAPE)
    late = meetings[1]  # a single instance: unknown to the sandbox in run 1
    assert "_I_" in late
    partial = _without(full, late, tmp_path / "data" / "without-one.json")
    late_title = next(
        m["title"]
        for m in json.loads(full.read_text(encoding="utf-8"))["meetings"]
        if m["id"] == late
    )
    folder = tmp_path / "audit"
    out, store = folder / "out", folder / "store.sqlite"

    with plain_smtp() as (smtp, port):

        def run(dataset: Path) -> tuple[int, str, str]:
            with SandboxServer(dataset, tokens={TOKEN: "compliance"}) as sandbox:
                config = smtp_config(
                    folder, base_url=sandbox.base_url, meetings=meetings, reports=REPORTS,
                    smtp_port=port,
                )  # fmt: skip
                result = run_cli("run", str(config), token=TOKEN)
            return result.exit_code, result.stdout, result.stderr

        code1, stdout1, stderr1 = run(partial)
        assert code1 == 3, stdout1 + stderr1
        assert late in stderr1
        first = list(smtp.received)
        assert sorted(r for m in first for r in m.rcpt_tos) == sorted(
            ["officer@example.com", "AUDITOR@example.com", "lead@example.com"]
        )
        assert not any(_subject(m).startswith("Corrected") for m in first)

        code2, stdout2, stderr2 = run(full)
        assert code2 == 0, stdout2 + stderr2
        second = smtp.received[len(first) :]
        # Exactly one message more per recipient, each a correction.
        assert sorted(r for m in second for r in m.rcpt_tos) == sorted(
            ["officer@example.com", "AUDITOR@example.com", "lead@example.com"]
        )
        # (Python folds these subjects onto a continuation line; unfolded, the value
        # starts with the fold's space.)
        assert all(_subject(m).startswith("Corrected: ") for m in second)
        assert "(3 correction(s))" in stdout2

        code3, stdout3, stderr3 = run(full)
        assert code3 == 0, stdout3 + stderr3
        assert len(smtp.received) == len(first) + len(second)
        assert "emailed 0 recipient(s)" in stdout3 and "3 already sent earlier" in stdout3
        received = list(smtp.received)

    runs = json.loads(json.dumps([list(r) for r in _runs(store)]))
    assert [status for _id, status in runs] == ["partial", "complete", "complete"]
    run1, run2, run3 = (run_id for run_id, _status in runs)

    # The correction names the run it supersedes and what changed: the meeting added.
    for item in second:
        text = item.message.get_body(preferencelist=("plain",))
        assert text is not None
        body = text.get_content()
        assert f"replaces the one sent by run {run1}" in body
        assert "Meetings fetched now that could not be fetched before" in body
        assert late_title in body
        html = item.message.get_body(preferencelist=("html",))
        assert html is not None and run1 in html.get_content()

    # The corrected PDF is the complete report: the late meeting is in it, no failure is.
    folders = run_folders(out)
    assert set(folders) == {run1, run2, run3}
    complete_pdf = folders[run2] / "compliance.pdf"
    assert late_title in pdf_text(complete_pdf)
    # The first report listed the meeting as not fetched; the correction does not.
    assert "answered 404" in pdf_text(folders[run1] / "compliance.pdf")
    assert "answered 404" not in pdf_text(complete_pdf)

    # Every PDF emailed is byte-identical to a file under runs/ whose SHA-256 the ledger
    # holds for that very message and recipient.
    rows = ledger(store)
    kept = {
        digest: run_id
        for run_id, path in folders.items()
        for digest in folder_hashes(path).values()
    }
    attached = pdf_attachments(received)
    assert len(attached) == 2  # the compliance report (one message to both), twice
    for item, name, data in attached:
        digest = sha256(data)
        assert digest in kept, f"{name} of {item.message['Subject']} is kept under no run"
        message_rows = [r for r in rows if r["message_id"] == item.message["Message-ID"]]
        assert {r["recipient"] for r in message_rows} == set(item.rcpt_tos)
        for row in message_rows:
            assert row["status"] == "sent"
            assert json.loads(row["attachments"]) == [[name, digest]]
            assert row["run_id"] == kept[digest]
    assert {r["recipient"] for r in rows} == RECIPIENTS
    assert [r["corrects"] for r in rows if r["run_id"] == run2] == [run1] * 3
    assert {r["run_id"] for r in rows} == {run1, run2}
    # The content key is what the report says: runs 2 and 3 said the same.
    assert len({r["content_key"] for r in rows if r["report"] == "compliance"}) == 2

    # Every run folder and the top folder (the latest run's copy) verify.
    for path in [out, *folders.values()]:
        check = run_cli("verify", str(path))
        assert check.exit_code == 0, check.output
    assert folder_hashes(out)["manifest.json"] == folder_hashes(folders[run3])["manifest.json"]

    history = run_cli("history", str(folder / "audit.yaml"), "--period", "2026-09")
    assert history.exit_code == 0, history.output
    text = history.stdout
    for run_id, status in runs:
        assert any(run_id in line and status in line for line in text.splitlines()), text
    sends = [line for line in text.splitlines() if " sent " in f" {line} "]
    assert len(sends) == 6, text
    for _item, _name, data in attached:
        assert sha256(data) in text
    assert sum(f"correction of run {run1}" in line for line in sends) == 3


def _runs(store: Path) -> list[tuple[str, str]]:
    from tests.pipeline_support import store_rows

    return [(r[0], r[1]) for r in store_rows(store, "SELECT id, status FROM runs ORDER BY started")]


def _subject(item: Received) -> str:
    return str(item.message["Subject"]).strip()
