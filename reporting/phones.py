"""Phone numbers in E.164 form (rule 12 of ATTENDANCE_RULES.md), through ``phonenumbers``.

Google's libphonenumber knows every country's trunk prefixes, international prefixes and
number lengths (``+49 (0)89 …``, ``0049 89 …`` and ``089 …`` in Germany are one number);
a regex would not. Parsing costs about 0.1 ms a number, so results are cached per written
form: a month's records repeat the same few callers' numbers many times.
"""

from __future__ import annotations

from functools import lru_cache

import phonenumbers

__all__ = ["NationalFormError", "device_e164s", "is_region", "roster_e164"]

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
