"""Roster CSV loading: tolerant of BOM and white space, strict about emails."""

from __future__ import annotations

from pathlib import Path

import pytest

from reporting.errors import ConfigError
from reporting.roster import load_roster


def write(tmp_path: Path, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / "roster.csv"
    path.write_bytes(text.encode(encoding))
    return path


def test_load_all_columns_with_bom_and_trailing_whitespace(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "\ufeffEmail , Name ,department,aliases  \n"
        "Ann@Example.com ,Ann Official , Ops ,ann.private@gmail.com; a2@x.org \n"
        "\n"
        "bob@example.com,,,\n",
    )
    roster = load_roster(path)
    assert [e.key for e in roster] == ["ann@example.com", "bob@example.com"]
    ann = roster.entries[0]
    assert ann.email == "Ann@Example.com" and ann.name == "Ann Official" and ann.department == "Ops"
    assert ann.aliases == ("ann.private@gmail.com", "a2@x.org")
    assert roster.entries[1].name is None
    assert roster.key_for_email("ann.private@gmail.com") == "ann@example.com"
    assert roster.key_for_email("a2@x.org") == "ann@example.com"
    assert roster.key_for_email("nobody@x.org") is None


def test_email_column_alone_is_enough(tmp_path: Path) -> None:
    assert len(load_roster(write(tmp_path, "email\na@x.com\n"))) == 1


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name\nAnn\n", r"roster.csv:1: column 'email': the roster has no email column"),
        ("", r"roster.csv:1: column 'email': the roster has no email column"),
        ("email,name\na@x.com,A\n,B\n", r"roster.csv:3: column 'email': the email is empty"),
        (
            "email\na@x.com\nnot-an-email\n",
            r"roster.csv:3: column 'email': 'not-an-email' is not an email address",
        ),
        (
            "email\na@x.com\nA@X.com\n",
            r"roster.csv:3: column 'email': 'A@X.com' is already on line 2",
        ),
        (
            "email,aliases\na@x.com,b@x.com\nb@x.com,\n",
            r"roster.csv:3: column 'email': 'b@x.com' is already on line 2 \(column 'aliases'\)",
        ),
        (
            "email,aliases\na@x.com,bad alias\n",
            r"roster.csv:2: column 'aliases': 'bad alias' is not an email address",
        ),
    ],
)
def test_errors_name_file_line_and_column(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_roster(write(tmp_path, text))


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="roster file not found"):
        load_roster(tmp_path / "nope.csv")


def test_non_utf8_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_roster(write(tmp_path, "email\nmüller@x.com\n", encoding="latin-1"))


def test_config_error_exit_code(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_roster(write(tmp_path, "name\n"))
    assert info.value.exit_code == 2
