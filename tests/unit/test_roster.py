"""Roster CSV loading: tolerant of BOM and white space, strict about emails."""

from __future__ import annotations

from pathlib import Path

import pytest

from reporting.errors import ConfigError
from reporting.roster import (
    Person,
    Roster,
    RosterEntry,
    load_roster,
    roster_from_people,
    union_rosters,
)


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


# -- Part two: phones, delimiters, encodings, rosters from Webex (rules 12 and 14) ---------


def test_phones_column_is_normalised_to_e164(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "email,phones\nclara@x.com,+49 89 5550002; 0049 (89) 555-0003\ndan@x.com,089 5550004\n",
    )
    roster = load_roster(path, phone_region="DE")
    assert roster.entries[0].phones == ("+49895550002", "+49895550003")
    assert roster.entries[1].phones == ("+49895550004",)
    assert roster.key_for_phone("+49895550004") == "dan@x.com"
    assert roster.phone_map["+49895550002"] == "clara@x.com"


def test_international_phones_need_no_region(tmp_path: Path) -> None:
    roster = load_roster(write(tmp_path, "email,phones\nclara@x.com,+1 (408) 555-0199\n"))
    assert roster.entries[0].phones == ("+14085550199",)


def test_national_phone_without_region_is_a_config_error_naming_file_and_line(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, "email,phones\na@x.com,\nclara@x.com,089 5550002\n")
    with pytest.raises(ConfigError) as info:
        load_roster(path)
    assert str(info.value).startswith(f"{path}:3: column 'phones': '089 5550002' is in national")
    assert "roster_phone_region" in str(info.value)


def test_a_phone_that_is_no_number_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"roster.csv:2: column 'phones': 'call me' is not a"):
        load_roster(write(tmp_path, "email,phones\na@x.com,call me\n"), phone_region="DE")


def test_two_people_sharing_a_phone_is_an_error_naming_both(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "email,phones\nclara@x.com,+49 89 5550002\nbob@x.com,\ndan@x.com,089 555 0002\n",
    )
    with pytest.raises(ConfigError) as info:
        load_roster(path, phone_region="DE")
    message = str(info.value)
    assert message.startswith(f"{path}:4: column 'phones'")
    assert "clara@x.com on line 2" in message


def test_one_person_may_list_a_number_twice(tmp_path: Path) -> None:
    roster = load_roster(
        write(tmp_path, "email,phones\na@x.com,+49 89 5550002;089 5550002\n"), phone_region="DE"
    )
    assert roster.entries[0].phones == ("+49895550002",)


def test_semicolon_delimiter_is_detected(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "Email;Name;Department;Aliases;Phones\n"
        'ann@x.com;Weiß, Ann;Ops;"a2@x.com;a3@x.com";+49 89 5550002\n',
    )
    ann = load_roster(path).entries[0]
    assert (ann.name, ann.department) == ("Weiß, Ann", "Ops")
    assert ann.aliases == ("a2@x.com", "a3@x.com")
    assert ann.phones == ("+49895550002",)


def test_comma_file_keeps_semicolons_inside_cells(tmp_path: Path) -> None:
    ann = load_roster(write(tmp_path, "email,aliases\nann@x.com,a2@x.com;a3@x.com\n")).entries[0]
    assert ann.aliases == ("a2@x.com", "a3@x.com")


@pytest.mark.parametrize("bom", ["", "\ufeff"])
def test_utf8_with_or_without_bom(tmp_path: Path, bom: str) -> None:
    roster = load_roster(write(tmp_path, bom + "email;name\nmüller@x.com;Jürgen Müller\n"))
    assert roster.entries[0].name == "Jürgen Müller"
    assert roster.entries[0].key == "müller@x.com"


def test_not_utf8_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "email,name\na@x.com,Ann\nb@x.com,Jürgen\n", encoding="latin-1")
    with pytest.raises(ConfigError, match=r"roster.csv:3: roster is not UTF-8 text"):
        load_roster(path)


def test_header_only_roster_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"roster.csv:1: the roster lists no people"):
        load_roster(write(tmp_path, "email,name\n\n"))


def test_roster_from_people_keys_dedupes_and_skips_addresses_without_at() -> None:
    roster = roster_from_people(
        [
            Person("Ann@X.com", "Ann"),
            Person("not-an-address"),
            Person("ann@x.com", None, "Ops"),
            Person(" bob@x.com ", " "),
        ],
        source="invitees",
    )
    assert roster.keys == ("ann@x.com", "bob@x.com")
    ann = roster.entries[0]
    assert (ann.email, ann.name, ann.department, ann.origin) == (
        "Ann@X.com",
        "Ann",
        "Ops",
        "invitees",
    )
    assert roster.entries[1].name is None
    assert roster.source == "invitees"


def test_union_of_rosters_joins_by_person_key(tmp_path: Path) -> None:
    csv_roster = load_roster(
        write(tmp_path, "email,name,aliases,phones\nann@x.com,Ann,a2@x.com,+49 89 5550002\n")
    )
    webex = roster_from_people(
        [Person("ANN@x.com", "Ann W", "Ops"), Person("a2@x.com"), Person("bob@x.com", "Bob")],
        source="invitees",
    )
    union = union_rosters([csv_roster, webex])
    assert union is not None
    assert union.keys == ("ann@x.com", "bob@x.com")
    ann = union.entries[0]
    assert (ann.name, ann.department, ann.phones) == ("Ann", "Ops", ("+49895550002",))
    assert union.key_for_email("a2@x.com") == "ann@x.com"
    assert union.source == f"{csv_roster.source} + invitees"
    assert union_rosters([]) is None
    assert union_rosters([webex]) is webex


def test_union_of_rosters_sharing_a_phone_between_people_is_an_error(tmp_path: Path) -> None:
    first = load_roster(write(tmp_path, "email,phones\nann@x.com,+49 89 5550002\n"))
    other = tmp_path / "other.csv"
    other.write_text("email,phones\nbob@x.com,+49 (0)89 5550002\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        union_rosters([first, load_roster(other)])
    message = str(info.value)
    assert message.startswith(f"{other}:2: phone +49895550002 of bob@x.com")
    assert f"ann@x.com ({tmp_path / 'roster.csv'}:2)" in message


def test_an_alias_never_takes_over_another_persons_primary_email() -> None:
    roster = Roster(
        entries=(
            RosterEntry("bob@x.com", None, None),
            RosterEntry("ann@x.com", None, None, aliases=("bob@x.com",)),
        )
    )
    assert roster.key_for_email("bob@x.com") == "bob@x.com"
