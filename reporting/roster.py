"""Rosters: who is expected at a training (rule 7 of ATTENDANCE_RULES.md).

A roster is a CSV file with an ``email`` column and optional ``name``, ``department`` and
``aliases`` columns (``aliases``: further emails of the same person, separated by ``;``).
Every email, primary or alias, maps onto the person key of the primary email, so a person
who joins from a second address is still one person.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from reporting.errors import ConfigError

# Deliberately loose: it catches typos such as a missing `@` or a space, not every RFC
# 5322 corner; Webex itself is the authority on which addresses exist.
_EMAIL = re.compile(r"^[^@\s;,]+@[^@\s;,]+\.[^@\s;,]+$")

_COLUMNS = ("email", "name", "department", "aliases")


@dataclass(frozen=True)
class RosterEntry:
    """One person on a roster."""

    email: str  # as written, trimmed
    name: str | None
    department: str | None
    aliases: tuple[str, ...] = ()
    line: int = 0

    @property
    def key(self) -> str:
        """The person key of rule 2: the email, trimmed and lower-cased."""
        return self.email.lower()


@dataclass(frozen=True)
class Roster:
    """The people expected at a training, with the emails that identify each of them."""

    entries: tuple[RosterEntry, ...]
    source: Path | None = None
    _by_email: dict[str, RosterEntry] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )
    _by_key: dict[str, RosterEntry] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        for entry in self.entries:
            self._by_key[entry.key] = entry
            self._by_email[entry.key] = entry
            for alias in entry.aliases:
                self._by_email[alias.lower()] = entry

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

    def entry_for_key(self, key: str) -> RosterEntry | None:
        return self._by_key.get(key)

    def key_for_email(self, email: str) -> str | None:
        """The person key a trimmed, lower-cased email belongs to, if on the roster."""
        entry = self._by_email.get(email)
        return entry.key if entry is not None else None


def load_roster(path: Path | str) -> Roster:
    """Read a roster CSV; raise :class:`ConfigError` naming file, line and column.

    A UTF-8 byte order mark, surrounding white space, blank lines, header case and extra
    columns are tolerated. Errors: no ``email`` column; an empty or malformed email or alias;
    the same email (primary or alias, compared case-insensitively) on two lines.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: roster file not found", hint="check the `roster:` path in the config"
        ) from None
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{path}: roster is not UTF-8 text ({exc.reason} at byte {exc.start})",
            hint="save the roster as CSV UTF-8",
        ) from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read roster ({exc.strerror})") from None

    reader = csv.reader(io.StringIO(text, newline=""))
    header: list[str] | None = None
    header_line = 0
    for row in reader:
        if any(cell.strip() for cell in row):
            header = [cell.strip().lower() for cell in row]
            header_line = reader.line_num
            break
    if header is None or "email" not in header:
        raise ConfigError(
            f"{path}:{header_line or 1}: column 'email': the roster has no email column",
            hint="the first line must name the columns, e.g. email,name,department,aliases",
        )
    col = {name: header.index(name) for name in _COLUMNS if name in header}

    entries: list[RosterEntry] = []
    seen: dict[str, tuple[int, str]] = {}  # lower-cased email → (line, column)

    def cell(row: list[str], name: str) -> str:
        i = col.get(name)
        return row[i].strip() if i is not None and i < len(row) else ""

    def claim(email: str, line: int, column: str) -> None:
        if not _EMAIL.match(email):
            raise ConfigError(
                f"{path}:{line}: column '{column}': {email!r} is not an email address"
            )
        other = seen.get(email.lower())
        if other is not None:
            raise ConfigError(
                f"{path}:{line}: column '{column}': {email!r} is already on line {other[0]} "
                f"(column '{other[1]}')",
                hint="each email may appear once; list further emails of a person as aliases",
            )
        seen[email.lower()] = (line, column)

    for row in reader:
        line = reader.line_num
        if not any(c.strip() for c in row):
            continue
        email = cell(row, "email")
        if not email:
            raise ConfigError(f"{path}:{line}: column 'email': the email is empty")
        claim(email, line, "email")
        aliases = tuple(a.strip() for a in cell(row, "aliases").split(";") if a.strip())
        for alias in aliases:
            claim(alias, line, "aliases")
        entries.append(
            RosterEntry(
                email=email,
                name=cell(row, "name") or None,
                department=cell(row, "department") or None,
                aliases=aliases,
                line=line,
            )
        )
    return Roster(entries=tuple(entries), source=path)
