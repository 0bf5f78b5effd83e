"""Rosters: who is expected at a training (rules 7, 12 and 14 of ATTENDANCE_RULES.md).

A roster is a CSV file with an ``email`` column and optional ``name``, ``department``,
``aliases`` (further emails of the same person, separated by ``;``) and ``phones``
(numbers separated by ``;``, kept in E.164 form) columns. Every email, primary or alias,
maps onto the person key of the primary email, so a person who joins from a second
address is still one person; a dial-in caller whose number is a roster phone becomes that
roster person too (rule 12, in the engine).

Rosters also come from Webex (invitees, approved registrants): :func:`roster_from_people`
builds one from people, and :func:`union_rosters` joins several by person key.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from reporting.csvtext import delimiter, read_text
from reporting.errors import ConfigError
from reporting.phones import NationalFormError, roster_e164

if TYPE_CHECKING:
    from _csv import Reader as CsvReader

# Deliberately loose: it catches typos such as a missing `@` or a space, not every RFC
# 5322 corner; Webex itself is the authority on which addresses exist.
_EMAIL = re.compile(r"^[^@\s;,]+@[^@\s;,]+\.[^@\s;,]+$")

_COLUMNS = ("email", "name", "department", "aliases", "phones")


@dataclass(frozen=True)
class RosterEntry:
    """One person on a roster."""

    email: str  # as written, trimmed
    name: str | None
    department: str | None
    aliases: tuple[str, ...] = ()
    line: int = 0  # the line of a roster CSV; 0 for people from Webex
    phones: tuple[str, ...] = ()  # E.164 (`+49895550002`)
    origin: str = ""  # where the person is written: `rosters/staff.csv:4`, `invitees`

    @property
    def key(self) -> str:
        """The person key of rule 2: the email, trimmed and lower-cased."""
        return self.email.lower()


@dataclass(frozen=True)
class Roster:
    """The people expected at a training, with the emails and phones that identify them."""

    entries: tuple[RosterEntry, ...]
    # The CSV file, or a description of a roster from Webex (`invitees`), or of a union
    # (`rosters/staff.csv + invitees`), for the reports' criteria.
    source: Path | str | None = None
    _by_email: dict[str, RosterEntry] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )
    _by_key: dict[str, RosterEntry] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )
    _by_phone: dict[str, RosterEntry] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        for entry in self.entries:
            self._by_key[entry.key] = entry
            self._by_email[entry.key] = entry
        # A primary email is never taken over by another person's alias.
        for entry in self.entries:
            for alias in entry.aliases:
                self._by_email.setdefault(alias.lower(), entry)
            for phone in entry.phones:
                self._by_phone.setdefault(phone, entry)

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self) -> Iterator[RosterEntry]:
        return iter(self.entries)

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(e.key for e in self.entries)

    @property
    def email_map(self) -> Mapping[str, str]:
        """Every known email (lower-cased) → the person key of its roster entry."""
        return {email: entry.key for email, entry in self._by_email.items()}

    @property
    def phone_map(self) -> Mapping[str, str]:
        """Every roster phone (E.164) → the person key of its roster entry."""
        return {phone: entry.key for phone, entry in self._by_phone.items()}

    @property
    def has_phones(self) -> bool:
        return bool(self._by_phone)

    def entry_for_key(self, key: str) -> RosterEntry | None:
        return self._by_key.get(key)

    def key_for_email(self, email: str) -> str | None:
        """The person key a trimmed, lower-cased email belongs to, if on the roster."""
        entry = self._by_email.get(email)
        return entry.key if entry is not None else None

    def key_for_phone(self, e164: str) -> str | None:
        entry = self._by_phone.get(e164)
        return entry.key if entry is not None else None


def load_roster(path: Path | str, phone_region: str | None = None) -> Roster:
    """Read a roster CSV; raise :class:`ConfigError` naming file, line and column.

    The delimiter (``,`` or ``;``) is taken from the header line; the text must be UTF-8,
    with or without a byte order mark. Surrounding white space, blank lines, header case
    and extra columns are tolerated. Errors: no ``email`` column; no people; an empty or
    malformed email or alias; the same email (primary or alias, compared
    case-insensitively) on two lines; a phone that is not a number, or in national form
    without ``phone_region``; one phone on two people.
    """
    path = Path(path)
    text = read_text(path, "roster", "roster")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter(text, "email"))
    header, header_line = _header(reader, path)
    lines = _RosterLines(path, header, phone_region)
    entries = [lines.entry(row, reader.line_num) for row in reader if any(c.strip() for c in row)]
    if not entries:
        raise ConfigError(
            f"{path}:{header_line}: the roster lists no people, only its header",
            hint="add one line per person, or remove the roster from the config",
        )
    return Roster(entries=tuple(entries), source=path)


def _header(reader: CsvReader, path: Path) -> tuple[list[str], int]:
    """The first line that is not blank, lower-cased, and its number; it must name email."""
    for row in reader:
        if any(cell.strip() for cell in row):
            line = reader.line_num
            header = [cell.strip().lower() for cell in row]
            if "email" in header:
                return header, line
            break
    else:
        line = 0
    raise ConfigError(
        f"{path}:{line or 1}: column 'email': the roster has no email column",
        hint="the first line must name the columns, e.g. email,name,department,aliases,phones",
    )


class _RosterLines:
    """The people lines of one roster CSV, checked against each other as they are read."""

    def __init__(self, path: Path, header: list[str], phone_region: str | None) -> None:
        self.path = path
        self.phone_region = phone_region
        self.columns = {name: header.index(name) for name in _COLUMNS if name in header}
        self.seen: dict[str, tuple[int, str]] = {}  # lower-cased email → (line, column)
        self.phone_owner: dict[str, tuple[int, str]] = {}  # E.164 → (line, email)

    def entry(self, row: list[str], line: int) -> RosterEntry:
        email = self._cell(row, "email")
        if not email:
            raise ConfigError(f"{self.path}:{line}: column 'email': the email is empty")
        self._claim(email, line, "email")
        aliases = tuple(a.strip() for a in self._cell(row, "aliases").split(";") if a.strip())
        for alias in aliases:
            self._claim(alias, line, "aliases")
        numbers = [p.strip() for p in self._cell(row, "phones").split(";") if p.strip()]
        phones = tuple(dict.fromkeys(self._phone(raw, line, email) for raw in numbers))
        return RosterEntry(
            email=email,
            name=self._cell(row, "name") or None,
            department=self._cell(row, "department") or None,
            aliases=aliases,
            line=line,
            phones=phones,
            origin=f"{self.path}:{line}",
        )

    def _cell(self, row: list[str], name: str) -> str:
        i = self.columns.get(name)
        return row[i].strip() if i is not None and i < len(row) else ""

    def _claim(self, email: str, line: int, column: str) -> None:
        where = f"{self.path}:{line}: column '{column}'"
        if not _EMAIL.match(email):
            raise ConfigError(f"{where}: {email!r} is not an email address")
        other = self.seen.get(email.lower())
        if other is not None:
            raise ConfigError(
                f"{where}: {email!r} is already on line {other[0]} (column '{other[1]}')",
                hint="each email may appear once; list further emails of a person as aliases",
            )
        self.seen[email.lower()] = (line, column)

    def _phone(self, raw: str, line: int, email: str) -> str:
        where = f"{self.path}:{line}: column 'phones'"
        try:
            e164 = roster_e164(raw, self.phone_region)
        except NationalFormError:
            raise ConfigError(
                f"{where}: {raw!r} is in national form and the config sets no roster_phone_region",
                hint="write it with its country code (+49 89 …), or set roster_phone_region: "
                "DE (the ISO code of the country the numbers are from) in the config",
            ) from None
        if e164 is None:
            raise ConfigError(
                f"{where}: {raw!r} is not a phone number", hint="separate several numbers with ';'"
            )
        owner = self.phone_owner.get(e164)
        if owner is not None and owner[1] != email.lower():
            raise ConfigError(
                f"{where}: {raw!r} ({e164}) is also the number of {owner[1]} on line {owner[0]}",
                hint="a number identifies one person; keep it on one line only",
            )
        self.phone_owner[e164] = (line, email.lower())
        return e164


@dataclass(frozen=True)
class Person:
    """Someone on a roster that comes from Webex rather than a CSV file (rule 14)."""

    email: str
    name: str | None = None
    department: str | None = None


def roster_from_people(people: Iterable[Person], source: str) -> Roster:
    """A roster of ``people`` (Webex invitees, approved registrants), one entry per person
    key in the order first listed; ``source`` says where they came from (``invitees``).

    The data is Webex's, so nothing here raises: a person without an ``@`` in the email
    cannot be matched to any record and is left out; a person listed twice keeps the first
    name and department given."""
    by_key: dict[str, RosterEntry] = {}
    for person in people:
        email = person.email.strip() if isinstance(person.email, str) else ""
        if "@" not in email:
            continue
        name = (person.name or "").strip() or None
        department = (person.department or "").strip() or None
        key = email.lower()
        known = by_key.get(key)
        if known is None:
            by_key[key] = RosterEntry(email, name, department, origin=source)
        elif (known.name is None and name) or (known.department is None and department):
            by_key[key] = replace(
                known, name=known.name or name, department=known.department or department
            )
    return Roster(entries=tuple(by_key.values()), source=source)


def union_rosters(rosters: Iterable[Roster]) -> Roster | None:
    """One roster of everyone on any of ``rosters`` (rule 14), joined by person key.

    A person on several keeps the first name and department given, and all their aliases
    and phones. A person whose email is another's alias is that person. One phone on two
    people is a :class:`ConfigError` naming both. None when ``rosters`` is empty."""
    rosters = list(rosters)
    if not rosters:
        return None
    if len(rosters) == 1:
        return rosters[0]
    merged: dict[str, RosterEntry] = {}
    owner: dict[str, str] = {}  # every email (lower-cased) → the key it belongs to
    phone_owner: dict[str, str] = {}  # E.164 → key
    for roster in rosters:
        for entry in roster:
            key = owner.get(entry.key, entry.key)
            known = merged.get(key)
            # Later sources only add aliases no other person holds (rule 14).
            free = tuple(
                dict.fromkeys(
                    a
                    for a in (entry.email, *entry.aliases)
                    if a.lower() not in owner and a.lower() != key
                )
            )
            if known is None:
                # replace(): every other field of the entry (phones, origin...) is kept.
                combined = replace(entry, aliases=free)
            else:
                combined = replace(
                    known,
                    name=known.name or entry.name,
                    department=known.department or entry.department,
                    aliases=known.aliases + free,
                    phones=tuple(dict.fromkeys((*known.phones, *entry.phones))),
                )
            owner[key] = key
            owner.update((a.lower(), key) for a in free)
            for e164 in entry.phones:
                other = phone_owner.setdefault(e164, key)
                if other != key:
                    first = merged[other]
                    raise ConfigError(
                        f"{entry.origin or roster.source}: phone {e164} of {entry.email} is "
                        f"also the number of {first.email} ({first.origin or 'another roster'})",
                        hint="a number identifies one person; keep it on one roster line only",
                    )
            merged[key] = combined
    sources = " + ".join(str(r.source) for r in rosters if r.source is not None)
    return Roster(entries=tuple(merged.values()), source=sources or None)
