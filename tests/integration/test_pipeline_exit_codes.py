"""Exit codes as a user (or systemd, or cron) sees them, with what each code promises.

0 all done; 3 reports produced but some meetings not fetched (and those are named in the
reports and the manifest); 2 bad config or arguments, in one line; 1 failure, in one line.
No case shows a Python traceback.
"""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from tests.pipeline_support import (
    ROOT,
    TOKEN_ENV,
    UNKNOWN_MEETING,
    ReportedRun,
    config_meetings,
    dataset_file,
    pdf_text,
    reported_runs,
    run_subprocess,
    subprocess_env,
    unused_port,
    write_config,
)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, ReportedRun]:
    return reported_runs(tmp_path_factory.mktemp("reported"))


def _manifest(run: ReportedRun) -> Any:
    return json.loads((run.out / "manifest.json").read_text(encoding="utf-8"))


def test_exit_0_when_everything_was_fetched(runs: dict[str, ReportedRun]) -> None:
    ok = runs["ok"]
    assert ok.exit_code == 0, ok.stderr
    assert "5 meeting instance(s) audited, 0 failed" in ok.stdout
    manifest = _manifest(ok)
    assert manifest["meetings"]["failed"] == []
    assert len(manifest["meetings"]["fetched"]) == 5
    assert "not fetched" not in ok.stderr


def test_exit_3_names_the_unfetched_meeting_and_reports_the_others(
    runs: dict[str, ReportedRun],
) -> None:
    run = runs["missing_meeting"]
    assert run.exit_code == 3, run.stderr
    assert "5 meeting instance(s) audited, 1 failed" in run.stdout
    # JSON logging: the operator's line is a log record too, one JSON object per line.
    records = [json.loads(line) for line in run.stderr.splitlines() if line.startswith("{")]
    assert any(re.search(rf"^not fetched: .*{UNKNOWN_MEETING}.*404", r["message"]) for r in records)
    assert all(line.startswith("{") for line in run.stderr.splitlines() if line.strip())

    failed = _manifest(run)["meetings"]["failed"]
    assert [f["entry_id"] for f in failed] == [UNKNOWN_MEETING]
    assert "404" in failed[0]["message"]

    # The PDF has a section for it, naming the meeting and the cause.
    text = pdf_text(run.out / "compliance.pdf")
    section = text.split("Meetings that could not be fetched", 1)
    assert len(section) == 2, "no 'could not be fetched' section in the PDF"
    squashed = re.sub(r"\s+", "", section[1])
    assert UNKNOWN_MEETING in squashed
    assert "answered404" in squashed

    # The workbook's Data quality sheet lists it.
    book = openpyxl.load_workbook(run.out / "compliance.xlsx", read_only=True)
    rows = list(book["Data quality"].iter_rows(values_only=True))
    hits = [r for r in rows if any(UNKNOWN_MEETING in str(c) for c in r if c)]
    assert hits and any("404" in str(c) for c in hits[0])

    # The other meetings' reports were produced in full: same rows as the clean run.
    def instances(path: Path) -> set[str]:
        with path.open(encoding="utf-8", newline="") as handle:
            return {row["meeting_id"] for row in csv.DictReader(handle)}

    produced = instances(run.out / "attendance.csv")
    assert produced == instances(runs["ok"].out / "attendance.csv")
    assert len(produced) == 5 and UNKNOWN_MEETING not in produced
    for name in ("devices.csv", "courses.csv", "compliance.pdf", "compliance.xlsx"):
        assert (run.out / name).stat().st_size > 0


def _assert_one_clean_line(stdout: str, stderr: str) -> str:
    assert "Traceback" not in stdout + stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error: ")
    assert stdout == ""
    return lines[0]


def test_exit_2_for_a_bad_config_in_one_line(tmp_path: Path) -> None:
    config = write_config(
        tmp_path, base_url=f"http://127.0.0.1:{unused_port()}/v1", meetings=config_meetings()
    )
    text = config.read_text(encoding="utf-8").replace("min_attendance:", "min_atendance:")
    config.write_text(text, encoding="utf-8")
    result = run_subprocess("run", str(config), token="some-token")
    assert result.returncode == 2, result.stderr
    line = _assert_one_clean_line(result.stdout, result.stderr)
    assert "audit.yaml:" in line and "min_atendance" in line
    assert "min_attendance" in line  # the "did you mean" hint
    assert not (tmp_path / "out").exists()


def test_exit_2_when_the_token_variable_is_missing(tmp_path: Path) -> None:
    config = write_config(
        tmp_path, base_url=f"http://127.0.0.1:{unused_port()}/v1", meetings=config_meetings()
    )
    result = run_subprocess("run", str(config), token=None)
    assert result.returncode == 2, result.stderr
    line = _assert_one_clean_line(result.stdout, result.stderr)
    assert TOKEN_ENV in line
    assert not (tmp_path / "out").exists()


def test_exit_1_when_the_store_is_not_sqlite(tmp_path: Path) -> None:
    config = write_config(
        tmp_path, base_url=f"http://127.0.0.1:{unused_port()}/v1", meetings=config_meetings()
    )
    store = tmp_path / "store.sqlite"
    garbage = b"this is not a database\n" * 400
    store.write_bytes(garbage)
    result = run_subprocess("run", str(config), token="some-token")
    assert result.returncode == 1, result.stderr
    line = _assert_one_clean_line(result.stdout, result.stderr)
    assert str(store) in line and "SQLite" in line
    assert store.read_bytes() == garbage, "the file that is not a store was changed"
    assert not (tmp_path / "out").exists()


def test_a_run_that_fetched_nothing_is_a_failure(runs: dict[str, ReportedRun]) -> None:
    run = runs["bad_token"]
    assert run.exit_code == 1
    assert not list(run.outbox.glob("*.eml")), "an empty report was emailed"


def test_unfetched_meetings_appear_as_text_not_a_traceback(runs: dict[str, ReportedRun]) -> None:
    for run in runs.values():
        assert "Traceback" not in run.stdout + run.stderr
        for line in io.StringIO(run.stderr):
            if line.startswith("{"):
                assert "exc" not in json.loads(line), line


def test_pdf_workers_that_cannot_start_ahead_do_not_end_the_run(tmp_path: Path) -> None:
    # The fork server listens on a Unix socket under TMPDIR; past ~108 bytes of path it
    # cannot. The run starts it only as a head start, so it goes on and lays the PDFs out
    # itself instead of dying with a traceback before it fetches.
    deep = tmp_path / ("t" * 60) / ("m" * 60)
    deep.mkdir(parents=True)
    config = write_config(
        tmp_path,
        base_url="sandbox",
        meetings=config_meetings(2, 5),
        sandbox_dataset=dataset_file(tmp_path, meetings=2, participants=5),
        reports=({"name": "managers", "audience": "summary", "formats": ["pdf"]},),
    )
    env = subprocess_env(None) | {"TMPDIR": str(deep)}
    done = subprocess.run(
        [sys.executable, "-m", "reporting", "run", str(config), "--no-email"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert "PDF workers could not start" in done.stderr
    assert "Training attendance" in pdf_text(tmp_path / "out" / "managers.pdf")
