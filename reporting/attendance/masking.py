"""Phone-number masking by audience (rule 9 of ATTENDANCE_RULES.md).

Only the ``compliance`` audience sees phone numbers in full. Every other audience gets all
but the last four digits masked, one ``•`` per hidden digit, formatting dropped:
``+1 (408) 555-0199`` → ``•••••••0199``. A number of four digits or fewer is masked
entirely, since showing "the last four" would show all of it.

What is masked, beyond ``devices.phone_number``:

- ``tel:`` person keys (``tel:14085550199`` → ``tel:•••••••0199``) in every table;
- ``tel:`` entries of ``seen_as``, and the callers' numbers and keys of the hints;
- phone numbers inside display names (and the name part of ``name:`` person keys).
  PSTN callers often appear in Webex with their number as their name ("+49 89 5550002",
  "Call-in 14085550100"), which would leak it in full. Any run of at least five digits,
  with the usual phone punctuation (spaces, ``+ - ( ) . /``) inside it, is masked where
  it stands; the rest of the name is kept. A name with an unrelated long number in it is
  masked too: over-masking a name is the safe side of rule 9.
"""

from __future__ import annotations

import re

import pandas as pd

from reporting.attendance.engine import AttendanceResult

COMPLIANCE = "compliance"
MASK = "•"

# A digit, then digits and phone punctuation, ending in a digit; at least five digits
# (checked in _mask_run) make it a phone number.
_PHONE_RUN = re.compile(r"\+?\(?\d[\d\s\-().\/]*\d")
_MIN_DIGITS = 5


def mask_phone(value: str) -> str:
    """All but the last four digits of a phone number masked; non-digits dropped."""
    digits = [c for c in value if "0" <= c <= "9"]
    shown = 4 if len(digits) > 4 else 0
    return MASK * (len(digits) - shown) + "".join(digits[len(digits) - shown :])


def _mask_run(match: re.Match[str]) -> str:
    run = match.group(0)
    if sum("0" <= c <= "9" for c in run) < _MIN_DIGITS:
        return run
    # Keep the separator that ended the run (e.g. the space before a following word).
    trailing = run[len(run.rstrip(" ")) :]
    return mask_phone(run) + trailing


def mask_name(name: str) -> str:
    """A name with every phone-number-like run of digits in it masked."""
    return _PHONE_RUN.sub(_mask_run, name)


def mask_key(key: str) -> str:
    """A person key with any phone number in it masked."""
    if key.startswith("tel:"):
        return "tel:" + mask_phone(key[4:])
    if key.startswith("name:"):
        return "name:" + mask_name(key[5:])
    return key


def _mask_keys(joined: str) -> str:
    """`seen_as`: `;`-joined emails and keys (`tel:+49…`), each masked like a key."""
    return ";".join(mask_key(part) for part in joined.split(";"))


def _map_column(series: pd.Series, fn: object) -> pd.Series:
    # Map distinct values only: keys repeat across tables and meetings.
    assert callable(fn)
    values = series.dropna().unique()
    mapping = {v: fn(v) for v in values.tolist()}
    changed = {k: v for k, v in mapping.items() if k != v}
    if not changed:
        return series
    return series.replace(changed).astype(series.dtype)


def mask_result(result: AttendanceResult, audience: str) -> AttendanceResult:
    """The result as ``audience`` may see it; the same object for ``compliance``."""
    if audience == COMPLIANCE:
        return result

    def frame(df: pd.DataFrame) -> pd.DataFrame:
        df = df.copy()
        for column in ("person_key", "person"):  # `person`: of the overrides table
            if column in df:
                df[column] = _map_column(df[column], mask_key)
        for column in ("display_name", "roster_name"):
            if column in df:
                df[column] = _map_column(df[column], mask_name)
        if "phone_number" in df:
            df["phone_number"] = _map_column(df["phone_number"], mask_phone)
        if "seen_as" in df:
            df["seen_as"] = _map_column(df["seen_as"], _mask_keys)
        return df

    # A result built outside the engine (render samples) may carry no hints or decisions.
    hints = getattr(result, "caller_hints", None)
    if hints is not None:
        hints = hints.copy()
        hints["person_key"] = _map_column(hints["person_key"], mask_key)
        hints["phone"] = _map_column(hints["phone"], mask_phone)
    overrides = getattr(result, "overrides", None)

    # The devices and breakouts tables are masked when (and if) they are first used.
    return AttendanceResult(
        attendance=frame(result.attendance),
        devices=lambda: frame(result.devices),
        breakouts=lambda: frame(result.breakouts),
        courses=frame(result.courses),
        caller_hints=hints,
        overrides=frame(overrides) if overrides is not None else None,
    )
