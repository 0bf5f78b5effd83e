"""Settings that make a result meaningless are said, not silently applied: on stderr, in
the manifest, in the reports' data-quality section, and by `check` where it can know.

One run on a hostile stand-in (tests/hostile_server.py, meetings of one hour) with a pass
mark of two hours, two sessions required of one-session courses, a compliance report, and
a dial-in device that came without its number (a host's token) and a record whose
joinedTime is a number.
"""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import yaml
from click.testing import CliRunner

from reporting.cli import main
from tests.hostile_server import HOSTILE_MEETING, HostileServer, hostile_config, json_reply, record
from tests.pipeline_support import pdf_text, run_cli

TOKEN = "warnings-test-token-77ab"


def _pages(number: int, base: str):  # type: ignore[no-untyped-def]
    caller = record("Dial In", None)
    caller["devices"][0].update({"audioType": "pstn", "callType": "callIn"})
    odd = record("Odd Time", "odd@example.com", joinedTime=1789027200000)
    return json_reply({"items": [caller, odd]})


def _config(folder: Path, base_url: str) -> Path:
    path = hostile_config(
        folder,
        base_url,
        reports=[{"name": "compliance", "audience": "compliance", "formats": ["pdf", "xlsx"]}],
    )
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    config["rules"] = {"min_attendance": "2h", "sessions_required": 2}
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


def test_meaningless_settings_are_warned_about_everywhere(tmp_path: Path) -> None:
    with HostileServer(_pages) as server:
        result = run_cli("run", str(_config(tmp_path, server.base_url)), token=TOKEN)
    assert result.exit_code == 0, result.output
    expected = [
        f"meeting {HOSTILE_MEETING}: rules.min_attendance 2h is longer than the meeting (1h)",
        "course course-1: rules.sessions_required is 2 but the course has 1 session(s)",
        "1 dial-in device(s) came without a phone number",
        f"meeting {HOSTILE_MEETING}: participant record 2 (Odd Time odd@example.com): "
        "joinedTime: expected text, got a number; read as missing",
    ]
    out = tmp_path / "out"
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    book = openpyxl.load_workbook(out / "compliance.xlsx", read_only=True)
    sheet = "\n".join(
        str(cell) for row in book["Data quality"].iter_rows(values_only=True) for cell in row
    )
    pdf = " ".join(pdf_text(out / "compliance.pdf").split())
    for line in expected:
        assert line in result.stderr, line
        assert any(line in note for note in manifest["notes"]), line
        assert line in sheet, line
        assert " ".join(line.split()) in pdf, line


def test_check_warns_when_a_course_names_fewer_sessions_than_required(tmp_path: Path) -> None:
    config = tmp_path / "audit.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "timezone": "Europe/Berlin",
                "webex": {"base_url": "sandbox", "sandbox_dataset": "d.json"},
                "meetings": [
                    {"id": "aaaa_I_1", "course": "fire"},
                    {"id": "aaaa_I_2", "course": "fire"},
                    {"id": "bbbb", "course": "first-aid"},
                ],
                "rules": {"sessions_required": 3},
                "output": {"dir": "out"},
            }
        ),
        encoding="utf-8",
    )
    (tmp_path / "d.json").write_text(
        (Path(__file__).parents[2] / "samples" / "demo-dataset.json").read_text("utf-8"),
        encoding="utf-8",
    )
    result = CliRunner().invoke(main, ["check", str(config)])
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning: ")]
    assert warnings == [
        "warning: course fire: rules.sessions_required is 3 but the config names 2 "
        "session(s) of it, so nobody can complete it"
    ]


def test_check_warns_when_the_sandbox_role_cannot_see_phone_numbers(tmp_path: Path) -> None:
    config = tmp_path / "audit.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "timezone": "Europe/Berlin",
                "webex": {
                    "base_url": "sandbox",
                    "sandbox_dataset": str(
                        Path(__file__).parents[2] / "samples" / "demo-dataset.json"
                    ),
                    "sandbox_role": "admin",
                },
                "meetings": [{"id": "aaaa_I_1"}],
                "reports": [{"name": "officers", "audience": "compliance"}],
                "output": {"dir": "out"},
            }
        ),
        encoding="utf-8",
    )
    result = CliRunner().invoke(main, ["check", str(config)])
    assert result.exit_code == 0, result.output
    assert (
        "warning: webex.sandbox_role is admin, so dial-in callers come without phone numbers"
        in result.stderr
    )
