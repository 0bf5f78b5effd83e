"""Mistakes a new user makes, each with the one line and exit code it must give.

Every case goes through the command line (click's CliRunner, in process) the way a user
types it. None may end in a traceback; `check` must catch what `run` would, before any
request: the cases that name `run` and `check` run both and expect the same line.
Nothing here listens on the network except the busy-port case's own socket.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from reporting.cli import main

UNUSED_URL = "http://127.0.0.1:9/v1"  # nothing is asked of it: each case fails first
TOKEN_ENV = "ATTENDANCE_MISTAKES_TOKEN"


def _config(folder: Path, **changes: Any) -> Path:
    config: dict[str, Any] = {
        "timezone": "Europe/Berlin",
        "period": "2026-09",
        "webex": {"base_url": UNUSED_URL, "token_env": TOKEN_ENV},
        "meetings": [{"id": "0123456789abcdef0123456789abcdef_I_1"}],
        "output": {"dir": "out"},
        "store": "store.sqlite",
    }
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(config.get(key), dict):
            config[key] = {**config[key], **value}
        else:
            config[key] = value
    path = folder / "audit.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


def _file(folder: Path, name: str, data: bytes) -> str:
    (folder / name).write_bytes(data)
    return name


@dataclass(frozen=True)
class Mistake:
    name: str
    setup: Callable[[Path], list[str]]  # makes the files, returns the arguments
    says: str
    exit_code: int
    env: dict[str, str | None] | None = None


def _run_config(**changes: Any) -> Callable[[Path], list[str]]:
    return lambda folder: ["run", str(_config(folder, **changes)), "--no-email"]


def _check_config(**changes: Any) -> Callable[[Path], list[str]]:
    return lambda folder: ["check", str(_config(folder, **changes))]


def _with_roster(data: bytes, command: str = "check") -> Callable[[Path], list[str]]:
    def setup(folder: Path) -> list[str]:
        roster = _file(folder, "roster.csv", data)
        return [command, str(_config(folder, roster=roster))]

    return setup


def _under_a_file(key: str, command: str) -> Callable[[Path], list[str]]:
    def setup(folder: Path) -> list[str]:
        _file(folder, "taken", b"a file, not a folder\n")
        changes: dict[str, Any] = {
            "output": {"dir": "taken/reports"} if key == "output" else {"dir": "out"},
        }
        if key == "store":
            changes["store"] = "taken/store.sqlite"
        if key == "outbox":
            changes["email"] = {"from": "a@example.com", "outbox": "taken/outbox"}
        args = [command, str(_config(folder, **changes))]
        return args + (["--no-email"] if command == "run" and key != "outbox" else [])

    return setup


def _busy_port(folder: Path) -> list[str]:
    # The socket stays bound while the command runs (closed by the test's end).
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(1)
    _BUSY.append(sock)
    return ["sandbox", "serve", "--port", str(sock.getsockname()[1])]


_BUSY: list[socket.socket] = []
READ_ONLY = "/sys/attendance-reports"  # read-only even for root

MISTAKES = [
    Mistake(
        "offline_and_refresh",
        lambda f: ["run", str(_config(f)), "--offline", "--refresh"],
        "--offline and --refresh contradict each other",
        2,
    ),
    Mistake(
        "output_dir_is_a_file",
        lambda f: ["check", str(_config(f, output={"dir": _file(f, "out.txt", b"x")}))],
        "is a file, not a folder",
        1,
        env={TOKEN_ENV: "t0ken"},
    ),
    Mistake(
        "roster_in_latin1",
        # Excel's "CSV" in Western European locales: Müller with a one-byte ü.
        _with_roster("email,name\nmueller@example.com,Müller\n".encode("latin-1")),
        "roster.csv",
        2,
        env={TOKEN_ENV: "t0ken"},
    ),
    Mistake(
        "audience_capital_c",
        _check_config(reports=[{"name": "officers", "audience": "Compliance"}]),
        "'Compliance' is not the compliance audience",
        2,
    ),
    Mistake(
        "audience_typo",
        _check_config(reports=[{"name": "officers", "audience": "complience"}]),
        "did you mean 'compliance'?",
        2,
    ),
    Mistake(
        "email_to_without_email_section",
        _check_config(reports=[{"name": "m", "audience": "summary", "email_to": ["a@b.io"]}]),
        "reports[0].email_to: recipients are listed but the config has no `email:` section",
        2,
    ),
    Mistake(
        "roster_without_email_column_check",
        _with_roster(b"name,department\nAda,IT\n"),
        "roster.csv:1: column 'email'",
        2,
    ),
    Mistake(
        "roster_without_email_column_run",
        _with_roster(b"name,department\nAda,IT\n", command="run"),
        "roster.csv:1: column 'email'",
        2,
        env={TOKEN_ENV: "t0ken-for-the-run"},
    ),
    Mistake(
        "roster_duplicate_email",
        _with_roster(b"email,name\nada@example.com,Ada\nADA@example.com,Ada L\n"),
        "roster.csv:3: column 'email': 'ADA@example.com' is already on line 2",
        2,
    ),
    Mistake(
        "roster_bad_email",
        _with_roster(b"email,name\nada at example.com,Ada\n"),
        "roster.csv:2: column 'email': 'ada at example.com' is not an email address",
        2,
    ),
    Mistake(
        "sandbox_dataset_not_json",
        lambda f: [
            "check",
            str(
                _config(
                    f,
                    webex={"base_url": "sandbox", "sandbox_dataset": _file(f, "d.json", b"{x")},
                )
            ),
        ],
        "webex.sandbox_dataset:",
        2,
    ),
    Mistake(
        "sandbox_dataset_wrong_shape",
        lambda f: [
            "check",
            str(
                _config(
                    f, webex={"base_url": "sandbox", "sandbox_dataset": _file(f, "d.json", b"[]")}
                )
            ),
        ],
        "webex.sandbox_dataset:",
        2,
    ),
    Mistake(
        "token_variable_not_set",
        _check_config(),
        f"environment variable {TOKEN_ENV} is not set",
        2,
    ),
    Mistake(
        "smtp_password_not_set",
        _check_config(
            email={
                "from": "a@example.com",
                "smtp": {
                    "host": "smtp.example.com",
                    "username_env": "ATTENDANCE_MISTAKES_USER",
                    "password_env": "ATTENDANCE_MISTAKES_PASSWORD",
                },
            }
        ),
        "environment variable ATTENDANCE_MISTAKES_USER is not set",
        2,
        env={TOKEN_ENV: "t0ken", "ATTENDANCE_MISTAKES_USER": None},
    ),
    Mistake(
        "oauth_variables_not_set",
        _check_config(
            webex={
                "oauth": {
                    "client_id_env": "ATTENDANCE_MISTAKES_ID",
                    "client_secret_env": "ATTENDANCE_MISTAKES_SECRET",
                    "refresh_token_env": "ATTENDANCE_MISTAKES_REFRESH",
                }
            }
        ),
        "environment variable ATTENDANCE_MISTAKES_ID is not set",
        2,
    ),
    Mistake(
        "output_under_a_file_check",
        _under_a_file("output", "check"),
        "output folder (output.dir)",
        1,
        env={TOKEN_ENV: "t0ken"},
    ),
    Mistake(
        "output_under_a_file_run",
        _under_a_file("output", "run"),
        "is a file, not a folder",
        1,
        env={TOKEN_ENV: "t0ken"},
    ),
    Mistake(
        "store_under_a_file",
        _under_a_file("store", "check"),
        "store folder (store)",
        1,
        env={TOKEN_ENV: "t0ken"},
    ),
    Mistake(
        "outbox_under_a_file",
        _under_a_file("outbox", "run"),
        "outbox folder (email.outbox)",
        1,
        env={TOKEN_ENV: "t0ken"},
    ),
    Mistake(
        "output_not_writable_check",
        _check_config(output={"dir": READ_ONLY}),
        f"output folder (output.dir) {READ_ONLY} cannot be written",
        1,
        env={TOKEN_ENV: "t0ken"},
    ),
    Mistake(
        "output_not_writable_run",
        _run_config(output={"dir": READ_ONLY}),
        f"output folder (output.dir) {READ_ONLY} cannot be written",
        1,
        env={TOKEN_ENV: "t0ken"},
    ),
    Mistake(
        "output_option_not_writable",
        lambda f: ["run", str(_config(f)), "--no-email", "--output", READ_ONLY + "/x"],
        "cannot be written",
        1,
        env={TOKEN_ENV: "t0ken"},
    ),
    Mistake("serve_on_a_busy_port", _busy_port, "is already in use", 1),
    Mistake(
        "faults_latency_without_unit",
        lambda f: ["sandbox", "serve", "--faults", "latency=20"],
        "faults: latency=20: a duration needs its unit (ms, s, m, h, d)",
        2,
    ),
    Mistake(
        "faults_share_without_percent",
        lambda f: ["sandbox", "serve", "--faults", "429=5"],
        "faults: 429=5: a share needs its unit, % (e.g. 429=5%)",
        2,
    ),
    Mistake(
        "faults_slow_delay_without_unit",
        lambda f: ["sandbox", "serve", "--faults", "slow=5%:2"],
        "faults: slow=5%:2: a duration needs its unit",
        2,
    ),
]


@pytest.mark.parametrize("mistake", MISTAKES, ids=[m.name for m in MISTAKES])
def test_a_user_mistake_gets_one_clear_line(mistake: Mistake, tmp_path: Path) -> None:
    env: dict[str, str | None] = {TOKEN_ENV: None}
    env.update(mistake.env or {})
    try:
        result: Result = CliRunner().invoke(main, mistake.setup(tmp_path), env=env)
    finally:
        for sock in _BUSY:
            sock.close()
        _BUSY.clear()
    output = result.output + result.stderr
    assert "Traceback" not in output
    assert isinstance(result.exception, SystemExit), (result.exception, output)
    assert result.exit_code == mistake.exit_code, output
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert any(mistake.says in line for line in errors), output
    assert not (tmp_path / "out").exists()  # nothing was written


def test_there_are_at_least_20_mistakes() -> None:
    assert len(MISTAKES) >= 20
