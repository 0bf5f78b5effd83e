"""Emails go out once per period: a rerun sends nothing, `--resend` sends again, and
`--no-email` sends nothing at all (the outbox stands in for the mail server).

The reports are workbooks only, so no PDF has to be rendered: the send ledger does not
care what is attached.
"""

from __future__ import annotations

from pathlib import Path

from reporting.webex.sandbox import SandboxServer
from tests.pipeline_support import (
    config_meetings,
    dataset_file,
    run_cli,
    store_rows,
    write_config,
)

TOKEN = "pipeline-email-token"
REPORTS = (
    {
        "name": "compliance",
        "audience": "compliance",
        "formats": ["xlsx"],
        "email_to": ["compliance@example.com"],
    },
    {
        "name": "managers",
        "audience": "summary",
        "formats": ["xlsx"],
        "email_to": ["lead-a@example.com", "lead-b@example.com"],
    },
)


def _outbox(folder: Path) -> set[str]:
    outbox = folder / "outbox"
    return {p.name for p in outbox.glob("*.eml")} if outbox.exists() else set()


def test_each_period_is_emailed_once_unless_resent(tmp_path: Path) -> None:
    dataset = dataset_file(tmp_path)
    with SandboxServer(dataset, tokens={TOKEN: "compliance"}) as sandbox:
        config = write_config(
            tmp_path,
            base_url=sandbox.base_url,
            meetings=config_meetings(),
            reports=REPORTS,
            email=True,
        )

        first = run_cli("run", str(config), token=TOKEN)
        assert first.exit_code == 0, first.output
        sent = _outbox(tmp_path)
        assert len(sent) == 2  # one message per report
        assert all(name.startswith("2026-09_") for name in sent)
        assert "to 3 recipient(s) written to the outbox (not sent)" in first.stdout

        # The same period again (as OPERATIONS.md says to rerun): nothing new.
        again = run_cli("run", str(config), "--period", "2026-09", token=TOKEN)
        assert again.exit_code == 0, again.output
        assert _outbox(tmp_path) == sent
        assert "to 0 recipient(s) written to the outbox (not sent)" in again.stdout

        # Without email: nothing, and nothing said about email.
        quiet = run_cli("run", str(config), "--no-email", token=TOKEN)
        assert quiet.exit_code == 0, quiet.output
        assert _outbox(tmp_path) == sent
        assert ", emailed" not in quiet.stdout

        # --resend: every report to everyone again.
        resent = run_cli("run", str(config), "--resend", token=TOKEN)
        assert resent.exit_code == 0, resent.output
        after_resend = _outbox(tmp_path)
        assert after_resend > sent and len(after_resend) == 4
        assert "to 3 recipient(s) written to the outbox (not sent)" in resent.stdout

        # And --no-email wins over --resend.
        both = run_cli("run", str(config), "--resend", "--no-email", token=TOKEN)
        assert both.exit_code == 0, both.output
        assert _outbox(tmp_path) == after_resend

    ledger = store_rows(
        tmp_path / "store.sqlite", "SELECT report, recipient, status FROM ledger ORDER BY id"
    )
    expected_once = [
        ("compliance", "compliance@example.com", "sent"),
        ("managers", "lead-a@example.com", "sent"),
        ("managers", "lead-b@example.com", "sent"),
    ]
    assert sorted(ledger) == sorted(expected_once * 2)


def test_editing_the_config_resends_only_what_changed_and_other_meetings_are_another_audit(
    tmp_path: Path,
) -> None:
    dataset = dataset_file(tmp_path)
    with SandboxServer(dataset, tokens={TOKEN: "compliance"}) as sandbox:
        meetings = config_meetings()
        config = write_config(
            tmp_path, base_url=sandbox.base_url, meetings=meetings, reports=REPORTS, email=True
        )
        assert run_cli("run", str(config), token=TOKEN).exit_code == 0
        assert len(_outbox(tmp_path)) == 2

        # A comment: the same audit and the same content, nothing is sent again.
        text = config.read_text(encoding="utf-8")
        config.write_text(text + "\n# reviewed by the compliance team\n", encoding="utf-8")
        again = run_cli("run", str(config), token=TOKEN)
        assert again.exit_code == 0, again.output
        assert len(_outbox(tmp_path)) == 2

        # A threshold change changes what the reports say: each recipient gets one
        # correction naming the criterion, and a rerun sends nothing more.
        config.write_text(text.replace("80%", "75%"), encoding="utf-8")
        changed = run_cli("run", str(config), token=TOKEN)
        assert changed.exit_code == 0, changed.output
        assert "to 3 recipient(s) (3 correction(s)) written to the outbox" in changed.stdout
        corrections = _outbox(tmp_path)
        assert len(corrections) == 4
        for name in corrections:
            body = (tmp_path / "outbox" / name).read_bytes()
            if b"Corrected:" in body:
                assert b"min_attendance 80% -> 75%" in body
        assert run_cli("run", str(config), token=TOKEN).exit_code == 0
        assert _outbox(tmp_path) == corrections

        # Auditing fewer meetings is another audit: its reports go out.
        config = write_config(
            tmp_path, base_url=sandbox.base_url, meetings=meetings[:-1], reports=REPORTS, email=True
        )
        other = run_cli("run", str(config), token=TOKEN)
        assert other.exit_code == 0, other.output
        assert len(_outbox(tmp_path)) == 6
