"""The text rules of person keys (rule 2), shared by the engine and the files users write."""

from __future__ import annotations

_DIGITS = frozenset("0123456789")


def phone_digits(value: object) -> str:
    """The ASCII digits of a phone number as written (`+1 (408) 555-0199` → `14085550199`)."""
    if not isinstance(value, str):
        return ""
    return "".join(c for c in value if c in _DIGITS)


def normalise_name(name: str) -> str:
    """Case-folded, white-space runs collapsed to one space, ends trimmed."""
    return " ".join(name.split()).casefold()
