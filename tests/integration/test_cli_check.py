"""`attendance check` through the command line: exit codes and one-line messages."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from reporting.cli import main

ROOT = Path(__file__).resolve().parents[2]
BROKEN = sorted((ROOT / "tests" / "broken_configs").glob("*.yaml"))


@pytest.mark.parametrize("path", BROKEN, ids=[p.stem for p in BROKEN])
def test_check_on_a_broken_config_prints_one_line_and_exits_2(path: Path) -> None:
    result = CliRunner().invoke(main, ["check", str(path)])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, lines
    # file:line: key: problem — the file is named, with a line number.
    assert re.match(rf"error: .*{re.escape(path.name)}(:\d+)?: ", lines[0]), lines[0]


def test_check_on_the_demo_prints_the_plan_and_exits_0() -> None:
    result = CliRunner().invoke(main, ["check", str(ROOT / "configs" / "demo.yaml")])
    assert result.exit_code == 0, result.output
    assert "October 2026" in result.output
    assert "d75df7ee5c1faa9f52135cb13ccc38b7" in result.output
    assert "compliance" in result.output


def test_check_with_a_bad_period_option_exits_2() -> None:
    result = CliRunner().invoke(
        main, ["check", str(ROOT / "configs" / "demo.yaml"), "--period", "2026-13"]
    )
    assert result.exit_code == 2
    assert "--period" in result.output


def test_check_on_a_missing_file_exits_2() -> None:
    result = CliRunner().invoke(main, ["check", "does-not-exist.yaml"])
    assert result.exit_code == 2
    assert "does-not-exist.yaml" in result.output
    assert "Traceback" not in result.output


def test_run_with_both_period_forms_exits_2() -> None:
    result = CliRunner().invoke(
        main,
        [
            "run",
            str(ROOT / "configs" / "demo.yaml"),
            "--period",
            "2026-10",
            "--from",
            "2026-10-01",
            "--to",
            "2026-11-01",
        ],
    )
    assert result.exit_code == 2
    assert "either --period or --from/--to" in result.output
