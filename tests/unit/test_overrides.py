"""The overrides file (rule 13): every mistake named by file, line and column, and
`attendance check` listing what would not apply."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from reporting.cli import main
from reporting.errors import ConfigError
from reporting.overrides import PlannedScope, check_overrides, load_overrides, read_overrides
from reporting.roster import Roster, RosterEntry

HEADER = "person,scope,decision,value,reason,reviewer,date\n"
GOOD = "clara@example.com,*,excused,,parental leave,lead@example.com,2026-11-03\n"


def write(tmp_path: Path, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / "overrides.csv"
    path.write_bytes(text.encode(encoding))
    return path


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (
            "clara@example.com,*,excuse,,r,lead@example.com,2026-11-03",
            "column 'decision': unknown decision 'excuse' (did you mean 'excused'? use "
            "same_as, excused, present or absent)",
        ),
        (
            "clara@example.com,*,excused,,r,,2026-11-03",
            "column 'reviewer': empty; every decision needs a reviewer",
        ),
        (
            "clara@example.com,*,excused,,r,lead@example.com,",
            "column 'date': empty; every decision needs a date",
        ),
        (
            "clara@example.com,*,excused,,r,lead@example.com,03.11.2026",
            "column 'date': '03.11.2026' is not a date (write 2026-10-14)",
        ),
        (
            "clara@example.com,*,excused,,r,Lead,2026-11-03",
            "column 'reviewer': 'Lead' is not an email address",
        ),
        (
            "Clara Weiss,*,excused,,r,lead@example.com,2026-11-03",
            "column 'person': 'Clara Weiss' is neither an email nor a person key",
        ),
        (
            "tel:+49 89 5550002,*,same_as,,her phone,lead@example.com,2026-11-03",
            "column 'value': same_as needs the email of the roster person, got 'nothing'",
        ),
        (
            "clara@example.com,,excused,,r,lead@example.com,2026-11-03",
            "column 'scope': empty; every decision needs a scope",
        ),
    ],
)
def test_a_bad_line_is_named_by_file_line_and_column(
    tmp_path: Path, line: str, message: str
) -> None:
    path = write(tmp_path, HEADER + GOOD + line + "\n")
    with pytest.raises(ConfigError) as info:
        load_overrides(path)
    assert str(info.value).startswith(f"{path}:3: {message}")
    assert info.value.exit_code == 2


def test_every_bad_line_is_listed(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + "a@x.com,*,maybe,,r,l@x.com,2026-11-03\n" + GOOD + "x,,,,,,\n")
    overrides, problems = read_overrides(path)
    assert len(overrides) == 1
    assert [p.split(": ")[0] for p in problems] == [f"{path}:2", f"{path}:4"]


def test_missing_columns_header_only_and_encoding(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"overrides.csv:1: the overrides file has no column"):
        load_overrides(write(tmp_path, "person,scope,decision\n"))
    with pytest.raises(ConfigError, match=r"overrides.csv:1: the overrides file lists no"):
        load_overrides(write(tmp_path, HEADER))
    with pytest.raises(ConfigError, match=r"overrides.csv:2: overrides is not UTF-8 text"):
        load_overrides(
            write(
                tmp_path,
                HEADER + "müller@x.com,*,excused,,r,l@x.com,2026-11-03\n",
                encoding="latin-1",
            )
        )


ROSTER = Roster(
    (RosterEntry("clara@example.com", "Clara", None, aliases=("clara.w@gmail.com",)),),
    source="roster.csv",
)


def test_check_lists_what_would_not_apply(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        HEADER
        + "clara.w@gmail.com,security,excused,,r,l@x.com,2026-11-03\n"  # fine (an alias)
        + "nobody@x.com,security,excused,,r,l@x.com,2026-11-03\n"
        + "clara@example.com,nothing-like-it,present,,r,l@x.com,2026-11-03\n"
        + "tel:+4989555,abc123_I_77,same_as,eve@x.com,r,l@x.com,2026-11-03\n"
        + "clara@example.com,security,absent,,r,l@x.com,2026-11-04\n",
    )
    overrides, problems = read_overrides(path)
    assert problems == []
    entries = [PlannedScope("abc123", "security", ROSTER)]
    found = check_overrides(overrides, entries)
    assert found == [
        f"{path}:3: column 'person': nobody@x.com is on no roster of scope 'security'; the "
        "decision applies only if they attended",
        f"{path}:4: column 'scope': 'nothing-like-it' names no meeting, series or course of "
        "the config (use an instance id, a series id, a course label or *)",
        f"{path}:5: column 'value': eve@x.com is on no roster of scope 'abc123_I_77' (same_as "
        "names a roster person)",
        f"{path}:6: column 'decision': absent contradicts excused on line 2 for the same "
        "person and scope; the later line applies",
    ]


def test_attendance_check_reads_the_overrides_file(tmp_path: Path) -> None:
    (tmp_path / "roster.csv").write_text("email\nclara@example.com\n", encoding="utf-8")
    write(tmp_path, HEADER + GOOD + "nobody@x.com,*,present,,r,l@x.com,2026-11-03\n")
    config = tmp_path / "config.yaml"
    config.write_text(
        textwrap.dedent(
            """\
            timezone: Europe/Berlin
            webex: {base_url: sandbox, sandbox_dataset: data.json}
            meetings:
              - id: abc123
                roster: roster.csv
            overrides: overrides.csv
            """
        ),
        encoding="utf-8",
    )
    (tmp_path / "data.json").write_text("{}", encoding="utf-8")
    result = CliRunner().invoke(main, ["check", str(config)])
    assert f"overrides  {tmp_path / 'overrides.csv'}: 2 decision(s)" in result.output
    assert "warning: " in result.output and "nobody@x.com is on no roster" in result.output

    write(tmp_path, HEADER + "clara@example.com,*,excuse,,r,l@x.com,2026-11-03\n")
    result = CliRunner().invoke(main, ["check", str(config)])
    assert result.exit_code == 2
    assert "overrides.csv:2: column 'decision': unknown decision 'excuse'" in result.output
