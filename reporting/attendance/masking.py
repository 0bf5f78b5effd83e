"""Phone-number masking by audience (rule 9 of ATTENDANCE_RULES.md), and control characters.

Only the ``compliance`` audience sees phone numbers in full. Every other audience gets all
but the last four digits masked, one ``•`` per hidden digit, formatting dropped:
``+1 (408) 555-0199`` → ``•••••••0199``. A number of four digits or fewer is masked
entirely, since showing "the last four" would show all of it.

What is masked, beyond ``devices.phone_number``:

- ``tel:`` person keys (``tel:14085550199`` → ``tel:•••••••0199``) in every table, the
  ``tel:`` entries of ``seen_as``, the person an override names, and the callers' numbers
  and keys of the hints;
- phone numbers inside **every text field** of a non-compliance output: display names,
  ``name:`` keys, e-mail addresses (``14085550122@pstn.example.com``, whose local part is
  the caller's number), titles, and any text column added later (override reasons, the
  emails and numbers a person was seen as). Only identifiers and fixed vocabularies
  (meeting and correlation ids, status, flags, device types, course labels) are left as
  they are. PSTN callers often appear in Webex with their number as their name, in any
  shape: ``+49 89 5550002``, ``408_555_0177``, fullwidth ``４０８５５５０１６６``. So the
  text is first read with every Unicode decimal digit as its ASCII digit (and NFKC
  compatibility forms folded), then any run of at least five digits separated by at most
  three non-alphanumeric characters (space, ``_``, ``-``, ``.``, ``/``, dashes of any
  kind, …) is masked where it stands; the rest of the text is kept. A name with an
  unrelated long number in it is masked too: over-masking is the safe side of rule 9.
  Dates and times written as such (``2026-10-06``, ``09:30:00``) are not phone numbers
  and are kept.

Control characters (C0 but tab and newline, DEL, C1, and the bidirectional overrides and
isolates that can make a name display as something else) are removed from every text
field for every audience, compliance included: NUL, BEL or an ESC sequence from a
Webex display name never reaches a CSV, a workbook, a PDF or an email.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace

import pandas as pd

from reporting.attendance.engine import AttendanceResult
from reporting.model import Instance

COMPLIANCE = "compliance"
MASK = "•"

_MIN_DIGITS = 5
# After `_fold`: a digit, then digits each after at most three separators (any
# non-alphanumeric character, underscore included); a leading `+` / `(` belongs to it.
_PHONE_RUN = re.compile(r"\+?\(?[0-9](?:[\W_]{0,3}[0-9])*")
# Dates and clock times are written with digits too; these shapes are kept.
_DATE_OR_TIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]{1,2}:[0-9]{2}(?::[0-9]{2}(?:[.,][0-9]+)?)?"
)
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")

# Columns that hold identifiers or fixed vocabularies, not free text about a person.
_NOT_TEXT = frozenset(
    {
        "meeting_id",
        "instance_id",
        "series_id",
        "entry_id",
        "correlation_id",
        "breakout_id",
        "course",
        "status",
        "flags",
        "role",
        "required",
        "override",
        "override_date",
        "device_type",
        "audio_type",
        "call_type",
        "missing",
        # the overrides table: where a line is, what it decides, its scope and date
        "where",
        "scope",
        "decision",
        "date",
        # the caller hints: the meeting a hint comes from and the dates it was used on
        "hint_meeting_id",
        "used_on",
    }
)
# Columns holding person keys (`person`: the overrides table), or `;`-joined keys.
_KEY_COLUMNS = frozenset({"person_key", "person"})
_PHONE_COLUMNS = frozenset({"phone_number", "phone"})


def clean_text(text: str) -> str:
    """``text`` without control characters (see the module docstring)."""
    return _CONTROLS.sub("", text)


def _fold(text: str) -> str:
    """Every decimal digit of any script as its ASCII digit; compatibility forms folded."""
    folded = unicodedata.normalize("NFKC", text)
    if folded.isascii():
        return folded
    return "".join(
        str(unicodedata.decimal(c)) if not c.isascii() and unicodedata.decimal(c, None) is not None
        else c
        for c in folded
    )  # fmt: skip


def mask_phone(value: str) -> str:
    """All but the last four digits of a phone number masked; non-digits dropped."""
    digits = [c for c in _fold(value) if "0" <= c <= "9"]
    shown = 4 if len(digits) > 4 else 0
    return MASK * (len(digits) - shown) + "".join(digits[len(digits) - shown :])


def _mask_run(match: re.Match[str]) -> str:
    run = match.group(0)
    if sum("0" <= c <= "9" for c in run) < _MIN_DIGITS:
        return run
    if _DATE_OR_TIME.fullmatch(run.lstrip("+(")):
        return run
    return mask_phone(run)


def mask_text(text: str) -> str:
    """``text`` with every phone-number-like run of digits in it masked (any shape)."""
    folded = _fold(text)
    masked = _PHONE_RUN.sub(_mask_run, folded)
    # Unchanged text keeps its own characters (fullwidth letters, ligatures).
    return text if masked == folded else masked


def mask_name(name: str) -> str:
    """A name with every phone-number-like run of digits in it masked."""
    return mask_text(name)


def mask_key(key: str) -> str:
    """A person key with any phone number in it masked (``id:`` keys are identifiers)."""
    if key.startswith("tel:"):
        return "tel:" + mask_phone(key[4:])
    if key.startswith("id:"):
        return key
    return mask_text(key)


def _mask_keys(joined: str) -> str:
    """`seen_as`: `;`-joined emails and keys (`tel:+49…`), each masked like a key."""
    return ";".join(mask_key(part) for part in joined.split(";"))


def _changes(series: pd.Series, fn: Callable[[str], str]) -> dict[str, str]:
    # Distinct values only: keys and names repeat across tables and meetings.
    values = series.dropna().unique()
    mapping = {v: fn(v) for v in values.tolist() if isinstance(v, str)}
    return {k: v for k, v in mapping.items() if k != v}


def _map_column(series: pd.Series, fn: Callable[[str], str]) -> pd.Series:
    changed = _changes(series, fn)
    if not changed:
        return series
    return series.replace(changed).astype(series.dtype)


def _text_columns(df: pd.DataFrame) -> list[str]:
    return [
        str(c)
        for c in df.columns
        if c not in _NOT_TEXT and (df[c].dtype == object or isinstance(df[c].dtype, pd.StringDtype))
    ]


def _clean_frame(df: pd.DataFrame) -> pd.DataFrame:
    changes = {c: _changes(df[c], clean_text) for c in _text_columns(df)}
    if not any(changes.values()):
        return df
    df = df.copy()
    for column, changed in changes.items():
        if changed:
            df[column] = df[column].replace(changed).astype(df[column].dtype)
    return df


def _mask_frame(df: pd.DataFrame) -> pd.DataFrame:
    df = _clean_frame(df).copy()
    for column in _text_columns(df):
        if column in _KEY_COLUMNS:
            df[column] = _map_column(df[column], mask_key)
        elif column in _PHONE_COLUMNS:
            df[column] = _map_column(df[column], mask_phone)
        elif column == "seen_as":
            df[column] = _map_column(df[column], _mask_keys)
        else:
            df[column] = _map_column(df[column], mask_text)
    return df


def mask_result(result: AttendanceResult, audience: str) -> AttendanceResult:
    """The result as ``audience`` may see it: control characters removed for everyone,
    phone numbers masked for every audience but ``compliance``. A table with nothing to
    change is the same object."""
    frame = _mask_frame if audience != COMPLIANCE else _clean_frame
    # A result built outside the engine (render samples) may carry no hints or decisions.
    hints = getattr(result, "caller_hints", None)
    overrides = getattr(result, "overrides", None)
    # The devices and breakouts tables are masked when (and if) they are first used.
    return AttendanceResult(
        attendance=frame(result.attendance),
        devices=lambda: frame(result.devices),
        breakouts=lambda: frame(result.breakouts),
        courses=frame(result.courses),
        caller_hints=frame(hints) if hints is not None else None,
        overrides=frame(overrides) if overrides is not None else None,
    )


def mask_lines(lines: Iterable[str], audience: str) -> tuple[str, ...]:
    """Free text a report shows (data-quality notes, page problems) as ``audience`` may
    see it: a note names a bad record by its display name, which may be a phone number."""
    if audience == COMPLIANCE:
        return tuple(lines)
    return tuple(mask_text(line) for line in lines)


def mask_instances(instances: Sequence[Instance], audience: str) -> list[Instance]:
    """Meeting instances as ``audience`` may see them (titles and host emails are text)."""
    text = mask_text if audience != COMPLIANCE else (lambda value: value)
    out = []
    for inst in instances:
        title = text(clean_text(inst.title)) if inst.title else inst.title
        host = text(clean_text(inst.host_email)) if inst.host_email else inst.host_email
        out.append(inst if (title, host) == (inst.title, inst.host_email)
                   else replace(inst, title=title, host_email=host))  # fmt: skip
    return out
