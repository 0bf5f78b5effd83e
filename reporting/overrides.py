"""The overrides file: reviewers' decisions, recorded (rule 13 of ATTENDANCE_RULES.md).

A CSV (``,`` or ``;``, UTF-8 with or without BOM) with the columns ``person, scope,
decision, value, reason, reviewer, date``, all required but ``value``:

- ``person``: an email (matched like rule 2, roster aliases included) or a person key
  (``tel:+49 89 5550002``, ``name:Clara W``, ``id:…``);
- ``scope``: an instance id, a series id, a course label, or ``*``;
- ``decision``: ``same_as`` (``value`` is the roster person's email), ``excused``,
  ``present`` or ``absent``;
- ``reason``, ``reviewer`` (an email), ``date`` (ISO ``2026-10-14``).

Every problem names the file, the line and the column. ``attendance run`` stops at the
first; ``attendance check`` lists them all, then what would not apply to the planned
meetings and rosters (:func:`check_overrides`).
"""

from __future__ import annotations

import csv
import difflib
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from reporting.csvtext import delimiter, read_text
from reporting.errors import ConfigError
from reporting.keys import normalise_name, phone_digits
from reporting.roster import Roster

SAME_AS = "same_as"
EXCUSED = "excused"
PRESENT = "present"
ABSENT = "absent"
DECISIONS = (SAME_AS, EXCUSED, PRESENT, ABSENT)
STATUS_DECISIONS = (EXCUSED, PRESENT, ABSENT)
EVERYWHERE = "*"

COLUMNS = ("person", "scope", "decision", "value", "reason", "reviewer", "date")
_REQUIRED = ("person", "scope", "decision", "reason", "reviewer", "date")
_EMAIL = re.compile(r"^[^@\s;,]+@[^@\s;,]+\.[^@\s;,]+$")
_KEY_PREFIXES = ("tel:", "name:", "id:")


@dataclass(frozen=True)
class Override:
    """One line of the overrides file, checked."""

    person: str  # as written, trimmed
    scope: str
    decision: str  # one of DECISIONS
    value: str | None  # same_as: the roster person's email
    reason: str
    reviewer: str
    date: date
    line: int
    source: str  # the file, for messages

    @property
    def where(self) -> str:
        return f"{self.source}:{self.line}"

    @property
    def person_key(self) -> str:
        """The person key ``person`` stands for before any roster: an email lower-cased,
        ``tel:`` + digits, ``name:`` + the normalised name, or ``id:…`` as written."""
        return person_key_of(self.person)


def person_key_of(person: str) -> str:
    text = person.strip()
    lowered = text.lower()
    if lowered.startswith("tel:"):
        return "tel:" + phone_digits(text[4:])
    if lowered.startswith("name:"):
        return "name:" + normalise_name(text[5:])
    if lowered.startswith("id:"):
        return "id:" + text[3:].strip()
    return lowered


def read_overrides(path: Path | str) -> tuple[tuple[Override, ...], list[str]]:
    """The good lines of the file and one message per problem (file:line: column …).

    A file that cannot be read, or has no header naming the required columns, raises
    :class:`ConfigError`."""
    path = Path(path)
    text = read_text(path, "overrides", "overrides")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter(text, "person"))
    header: list[str] | None = None
    header_line = 1
    for row in reader:
        if any(c.strip() for c in row):
            header = [c.strip().lower() for c in row]
            header_line = reader.line_num
            break
    missing = [c for c in _REQUIRED if header is None or c not in header]
    if header is None or missing:
        raise ConfigError(
            f"{path}:{header_line}: the overrides file has no column "
            + ", ".join(repr(c) for c in missing),
            hint="the first line must be: person,scope,decision,value,reason,reviewer,date",
        )
    col = {name: header.index(name) for name in COLUMNS if name in header}
    overrides: list[Override] = []
    problems: list[str] = []
    for row in reader:
        line = reader.line_num
        if not any(c.strip() for c in row):
            continue
        cells = {name: (row[i].strip() if i < len(row) else "") for name, i in col.items()}
        found = _check_line(cells, f"{path}:{line}")
        if isinstance(found, str):
            problems.append(found)
            continue
        person, scope, decision, value, reason, reviewer, when = found
        overrides.append(
            Override(person, scope, decision, value, reason, reviewer, when, line, str(path))
        )
    if not overrides and not problems:
        problems.append(
            f"{path}:{header_line}: the overrides file lists no decisions, only its header"
        )
    return tuple(overrides), problems


def load_overrides(path: Path | str) -> tuple[Override, ...]:
    """The decisions of the file; :class:`ConfigError` at its first problem."""
    overrides, problems = read_overrides(path)
    if problems:
        more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
        raise ConfigError(
            problems[0] + more, hint="`attendance check` lists every problem of the file"
        )
    return overrides


def _check_line(
    cells: Mapping[str, str], where: str
) -> str | tuple[str, str, str, str | None, str, str, date]:
    for name in _REQUIRED:
        if not cells.get(name):
            return f"{where}: column '{name}': empty; every decision needs a {name}"
    person = cells["person"]
    if not (_EMAIL.match(person) or person.lower().startswith(_KEY_PREFIXES)):
        return (
            f"{where}: column 'person': {person!r} is neither an email nor a person key "
            "(tel:…, name:…, id:…)"
        )
    if person.lower().startswith("tel:") and not phone_digits(person):
        return f"{where}: column 'person': {person!r} has no phone number after tel:"
    decision = cells["decision"].lower()
    if decision not in DECISIONS:
        close = difflib.get_close_matches(decision, DECISIONS, n=1, cutoff=0.6)
        guess = f"did you mean {close[0]!r}? " if close else ""
        return (
            f"{where}: column 'decision': unknown decision {cells['decision']!r} "
            f"({guess}use same_as, excused, present or absent)"
        )
    value = cells.get("value") or None
    if decision == SAME_AS and (value is None or not _EMAIL.match(value)):
        return (
            f"{where}: column 'value': same_as needs the email of the roster person, "
            f"got {value or 'nothing'!r}"
        )
    reviewer = cells["reviewer"]
    if not _EMAIL.match(reviewer):
        return f"{where}: column 'reviewer': {reviewer!r} is not an email address"
    try:
        when = date.fromisoformat(cells["date"])
    except ValueError:
        return f"{where}: column 'date': {cells['date']!r} is not a date (write 2026-10-14)"
    return person, cells["scope"], decision, value, cells["reason"], reviewer, when


@dataclass(frozen=True)
class PlannedScope:
    """What a config entry lets a scope name before anything is fetched."""

    entry_id: str | None  # a series, scheduled meeting or instance id; None for `match:`
    course: str
    roster: Roster | None


def check_overrides(overrides: Sequence[Override], entries: Iterable[PlannedScope]) -> list[str]:
    """What would not apply, one line each: a scope that names no planned meeting, series
    or course; a person who is on no roster of their scope (emails only: numbers and
    names are only known once fetched); a same_as whose value is on no roster of the
    scope; two decisions on one person and scope that disagree."""
    entries = list(entries)
    problems: list[str] = []
    seen: dict[tuple[str, str, str], Override] = {}
    for override in overrides:
        covered = [e for e in entries if _names(override.scope, e)]
        if not covered:
            problems.append(
                f"{override.where}: column 'scope': {override.scope!r} names no meeting, "
                "series or course of the config (use an instance id, a series id, a course "
                "label or *)"
            )
            continue
        rosters = [e.roster for e in covered if e.roster is not None]
        key = override.person_key
        is_email = "@" in key and not key.startswith(("name:", "id:"))
        if is_email and rosters and not any(r.key_for_email(key) for r in rosters):
            problems.append(
                f"{override.where}: column 'person': {override.person} is on no roster of "
                f"scope {override.scope!r}; the decision applies only if they attended"
            )
        if override.decision == SAME_AS:
            target = (override.value or "").lower()
            if not any(r.key_for_email(target) for r in rosters):
                problems.append(
                    f"{override.where}: column 'value': {override.value} is on no roster of "
                    f"scope {override.scope!r} (same_as names a roster person)"
                )
        if override.decision in STATUS_DECISIONS:
            # One person however written: an alias counts as the roster person.
            if is_email:
                key = next((k for r in rosters if (k := r.key_for_email(key))), key)
            other = seen.get((key, override.scope, "status"))
            if other is not None and other.decision != override.decision:
                problems.append(
                    f"{override.where}: column 'decision': {override.decision} contradicts "
                    f"{other.decision} on line {other.line} for the same person and scope; "
                    "the later line applies"
                )
            seen[(key, override.scope, "status")] = override
    return problems


def _names(scope: str, entry: PlannedScope) -> bool:
    if scope == EVERYWHERE or scope == entry.course:
        return True
    if entry.entry_id is None:
        # A `match:` entry's instances are known only once listed; its course still counts.
        return "_I_" in scope
    return scope == entry.entry_id or scope.split("_I_")[0] == entry.entry_id.split("_I_")[0]
