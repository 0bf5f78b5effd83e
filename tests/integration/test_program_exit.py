"""`attendance` as a program: the command's exit code, its output flushed, the exit
handlers run, and the interpreter's teardown skipped (`reporting.cli.program`)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from reporting import cli


class _Exited(Exception):
    def __init__(self, code: int) -> None:
        self.code = code


@pytest.fixture
def exits(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """`os._exit` raising instead (the test goes on), and what ran before it."""
    ran: list[str] = []

    def fake_exit(code: int) -> None:
        raise _Exited(code)

    monkeypatch.setattr(cli.os, "_exit", fake_exit)
    monkeypatch.setattr(cli.atexit, "_run_exitfuncs", lambda: ran.append("exit handlers"))
    return ran


@pytest.mark.parametrize(
    ("raised", "code", "said"),
    [(None, 0, ""), (SystemExit(0), 0, ""), (SystemExit(3), 3, ""), (SystemExit("why"), 1, "why")],
)
def test_the_commands_exit_code_is_the_programs(
    exits: list[str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    raised: SystemExit | None,
    code: int,
    said: str,
) -> None:
    def command() -> None:
        if raised is not None:
            raise raised

    monkeypatch.setattr(cli, "main", command)
    with pytest.raises(_Exited) as ended:
        cli.program()
    assert ended.value.code == code
    assert exits == ["exit handlers"]
    assert capsys.readouterr().err.strip() == said


def test_the_program_as_a_process_prints_all_and_exits_with_the_code() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "reporting", "--help"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0
    assert done.stdout.rstrip().splitlines()[-1].split()[0] == "verify"  # the last command
    bad = subprocess.run(
        [sys.executable, "-m", "reporting", "run", "no-such-config.yaml"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2
    assert bad.stderr.startswith("error: ") and "Traceback" not in bad.stderr
