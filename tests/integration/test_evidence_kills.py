"""A SIGKILL at any point of a run leaves every earlier run folder intact and verifiable,
and the runs after it send nothing twice.

Each killed run is `python -m reporting run` in its own process with one function
replaced by one that SIGKILLs the process (tests/evidence_support.py `KILL_DRIVER`):
while fetching, before rendering, right after the manifest is written, halfway through
publishing the latest copies, and after the SMTP server accepted a message but before
its answer was recorded. That last one is the window a ledger cannot close: the rerun
must report the send in doubt and not send it, and only `--resend` sends it again, with
the same Message-ID.
"""

from __future__ import annotations

import json
from pathlib import Path

from reporting.webex.sandbox import SandboxServer
from tests.evidence_support import (
    folder_hashes,
    ledger,
    plain_smtp,
    run_folders,
    run_killed,
    smtp_config,
)
from tests.pipeline_support import config_meetings, dataset_file, run_cli

TOKEN = "evidence-kills-token"
SHAPE = {"meetings": 6, "participants": 30, "seed": 11}
REPORTS = (
    {
        "name": "compliance",
        "audience": "compliance",
        # A workbook, not a PDF: the same stages at a fraction of the time (the PDF
        # path of the evidence is tests/integration/test_evidence_corrections.py).
        "formats": ["xlsx"],
        "email_to": ["officer@example.com", "auditor@example.com"],
    },
)
KILLED = -9


def test_a_kill_at_any_point_keeps_earlier_runs_and_sends_nothing_twice(tmp_path: Path) -> None:
    dataset = dataset_file(tmp_path / "data", **SHAPE)
    meetings = config_meetings(**SHAPE)
    folder = tmp_path / "audit"
    out, store = folder / "out", folder / "store.sqlite"

    with (
        plain_smtp() as (smtp, port),
        SandboxServer(dataset, tokens={TOKEN: "compliance"}) as sandbox,
    ):

        def configure(min_attendance: str) -> str:
            return str(
                smtp_config(
                    folder,
                    base_url=sandbox.base_url,
                    meetings=meetings,
                    reports=REPORTS,
                    smtp_port=port,
                    min_attendance=min_attendance,
                )
            )

        config = configure("80%")
        first = run_cli("run", config, token=TOKEN)
        assert first.exit_code == 0, first.output
        assert len(smtp.received) == 1
        (first_run,) = run_folders(out)
        kept: dict[str, dict[str, str]] = {first_run: folder_hashes(out / "runs" / first_run)}

        def assert_earlier_runs_intact() -> None:
            folders = run_folders(out)
            for run_id, hashes in kept.items():
                assert folder_hashes(folders[run_id]) == hashes, run_id
                check = run_cli("verify", str(folders[run_id]))
                assert check.exit_code == 0, check.output
            # A folder under runs/ named by a run id is always a whole run.
            for run_id, path in folders.items():
                assert run_cli("verify", str(path)).exit_code == 0, run_id
                kept.setdefault(run_id, folder_hashes(path))

        for point, extra in (
            ("fetch", ["--refresh"]),
            ("render", []),
            ("manifest", []),
            ("publish", []),
        ):
            killed = run_killed(point, "run", config, *extra, token=TOKEN)
            assert killed.returncode == KILLED, (point, killed.stdout, killed.stderr)
            assert_earlier_runs_intact()
            assert len(smtp.received) == 1, point  # the same content: nothing to send
        # The publish kill left a whole run folder and a top folder without a manifest.
        assert len(run_folders(out)) == 2
        assert not (out / "manifest.json").exists()

        # New criteria change what the report says: a correction is due. The kill comes
        # after the server accepted it, before the ledger heard so.
        config = configure("75%")
        killed = run_killed("send", "run", config, token=TOKEN)
        assert killed.returncode == KILLED, (killed.stdout, killed.stderr)
        assert len(smtp.received) == 2
        delivered = smtp.received[1]
        assert str(delivered.message["Subject"]).strip().startswith("Corrected: ")
        assert_earlier_runs_intact()
        assert [r["status"] for r in ledger(store)][-2:] == ["sending", "sending"]

        # The rerun finds the send in doubt: it says so, sends nothing, exits 1.
        rerun = run_cli("run", config, token=TOKEN)
        assert rerun.exit_code == 1, rerun.output
        assert "in doubt" in rerun.stderr and "--resend" in rerun.stderr
        assert delivered.message["Message-ID"] in rerun.stderr
        assert len(smtp.received) == 2
        assert_earlier_runs_intact()
        # Its own run folder and the top folder are whole again.
        assert run_cli("verify", str(out)).exit_code == 0

        dry = run_cli("run", config, "--dry-run", token=TOKEN)
        assert dry.exit_code == 0, dry.output
        assert "compliance (no attachment) to nobody" in dry.stdout
        assert "in doubt" in dry.stdout and delivered.message["Message-ID"] in dry.stdout

        # --resend sends it once more, as the same message (same Message-ID).
        resent = run_cli("run", config, "--resend", token=TOKEN)
        assert resent.exit_code == 0, resent.output
        assert len(smtp.received) == 3
        again = smtp.received[2]
        assert again.message["Message-ID"] == delivered.message["Message-ID"]
        assert sorted(again.rcpt_tos) == ["auditor@example.com", "officer@example.com"]
        assert str(again.message["Subject"]).strip().startswith("Corrected: ")

        # And from now on nothing goes out.
        last = run_cli("run", config, token=TOKEN)
        assert last.exit_code == 0, last.output
        assert len(smtp.received) == 3

    statuses = [(r["recipient"], r["status"]) for r in ledger(store)]
    assert statuses.count(("officer@example.com", "sent")) == 2  # first run, the resend
    assert ("officer@example.com", "sending") in statuses  # the doubt stays on record
    runs = json.loads(json.dumps(run_folders(out), default=str))
    assert len(runs) >= 4
