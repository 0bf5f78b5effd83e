"""What a run's outcome means for the exit code: pages that could not be used count."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from reporting.fetch import FetchOutcome
from reporting.model import FetchFailure, Instance, InstanceRecords, RunInfo
from reporting.pipeline import EXIT_OK, EXIT_PARTIAL, RunOutcome

MOMENT = datetime(2026, 10, 1, tzinfo=UTC)
RUN = RunInfo("r1", "c.yaml", "h", "2026-10", MOMENT, MOMENT, MOMENT, "UTC", "0")
INSTANCE = Instance("m_I_1", 0, "m", "m", "Training", None, MOMENT, MOMENT, "ended", None)


def outcome(*, problems: tuple[str, ...] = (), failed: bool = False) -> RunOutcome:
    data = [InstanceRecords(INSTANCE, records=(), page_problems=problems)]
    failures = [FetchFailure("m2", None, "404")] if failed else []
    return RunOutcome(
        run=RUN,
        output_dir=Path("."),
        files=[],
        fetch=FetchOutcome(instances=[INSTANCE], data=data, failures=failures),
    )


def test_a_clean_run_exits_0() -> None:
    assert outcome().exit_code == EXIT_OK


def test_an_unusable_page_makes_the_run_partial() -> None:
    assert outcome(problems=("page 2: not JSON",)).exit_code == EXIT_PARTIAL


def test_a_failed_meeting_makes_the_run_partial() -> None:
    assert outcome(failed=True).exit_code == EXIT_PARTIAL
