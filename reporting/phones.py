"""Phone numbers in E.164 form (rule 12 of ATTENDANCE_RULES.md), through ``phonenumbers``.

Google's libphonenumber knows every country's trunk prefixes, international prefixes and
number lengths (``+49 (0)89 …``, ``0049 89 …`` and ``089 …`` in Germany are one number);
a regex would not. Parsing costs about 0.1 ms a number, so results are cached per written
form: a month's records repeat the same few callers' numbers many times.
"""

from __future__ import annotations

from functools import lru_cache

import phonenumbers

__all__ = ["NationalFormError", "PhoneIndex", "device_e164s", "is_region", "roster_e164"]

_DIGITS = frozenset("0123456789")


class NationalFormError(ValueError):
    """A number in national form and no region to read it in."""


def is_region(code: str) -> bool:
    """An ISO 3166 region code phonenumbers knows (``DE``, ``US``; upper case)."""
    return code in phonenumbers.SUPPORTED_REGIONS


def _digits(text: str) -> str:
    return "".join(c for c in text if c in _DIGITS)


@lru_cache(maxsize=65536)
def _parse(text: str, region: str | None) -> str | None:
    """E.164 of ``text`` read in ``region`` (None: international form only), or None
    when it does not parse or cannot be a phone number."""
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def roster_e164(text: str, region: str | None) -> str | None:
    """A roster's number in E.164; None when it is not a phone number.

    Raises :class:`NationalFormError` for a number not written with ``+`` when
    ``region`` is None."""
    text = text.strip()
    if region is None and not text.startswith("+"):
        # `0049 89 …` and `089 …` both need a region to be read (its trunk and
        # international prefixes).
        raise NationalFormError(text)
    return _parse(text, region)


@lru_cache(maxsize=65536)
def device_e164s(text: str, region: str | None) -> tuple[str, ...]:
    """The E.164 forms a device's ``phoneNumber`` may stand for, most likely first.

    Webex sends the caller's number as the carrier gave it, with or without ``+`` (the
    API's own example is ``745273328``). It is read as written in ``region`` (the
    roster's), and, when it has no ``+``, also as digits that start with a country code
    (``14085550199`` → ``+14085550199``). Matching takes the first form on the roster."""
    found: list[str] = []
    first = _parse(text, region)
    if first is not None:
        found.append(first)
    if not text.lstrip().startswith("+"):
        digits = _digits(text)
        if digits:
            second = _parse("+" + digits, None)
            if second is not None and second not in found:
                found.append(second)
    return tuple(found)


def _national_tail(e164: str) -> str:
    """The last six digits of the national number (all of it when shorter)."""
    try:
        national = str(phonenumbers.parse(e164, None).national_number)
    except phonenumbers.NumberParseException:
        national = _digits(e164)
    return national[-_TAIL:]


_TAIL = 6


class PhoneIndex:
    """E.164 numbers → values, looked up by a device's number as Webex wrote it.

    A written number can only stand for an indexed one if its digits end with that
    number's national digits (an extension aside), so numbers whose tail matches none are
    never parsed: a month's records hold many callers, a roster few phones."""

    def __init__(self, numbers: dict[str, str], region: str | None) -> None:
        self._numbers = numbers
        self._region = region
        self._tails: dict[int, set[str]] = {}
        for e164 in numbers:
            tail = _national_tail(e164)
            self._tails.setdefault(len(tail), set()).add(tail)

    def __bool__(self) -> bool:
        return bool(self._numbers)

    def lookup(self, written: str) -> tuple[str, str] | None:
        """(the E.164 form that matched, its value), or None."""
        digits = _digits(written)
        if not any(digits[-n:] in tails for n, tails in self._tails.items()):
            return None
        for e164 in device_e164s(written, self._region):
            value = self._numbers.get(e164)
            if value is not None:
                return e164, value
        return None
