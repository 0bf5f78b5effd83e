"""What the config's models share: the base model settings, the validation error that
carries its own wording, and the small parsers (paths, variable names, emails,
durations) every section uses."""

from __future__ import annotations

import difflib
import os
import re
import typing
from collections.abc import Mapping
from datetime import date
from email.utils import parseaddr
from pathlib import Path
from typing import Annotated, Any

from pydantic import ConfigDict, Field, Strict, ValidationInfo
from pydantic_core import PydanticCustomError

from reporting.errors import ConfigError

COMPLIANCE = "compliance"
DEFAULT_BASE_URL = "https://webexapis.com/v1"
SANDBOX = "sandbox"

Loc = tuple[str | int, ...]

MODEL_CONFIG = ConfigDict(
    frozen=True,
    extra="forbid",
    # YAML uses the short keys (aliases); code and tests may use the descriptive names.
    validate_by_alias=True,
    validate_by_name=True,
    arbitrary_types_allowed=True,
)

StrictInt = Annotated[int, Strict()]
StrictBool = Annotated[bool, Strict()]
StrictStr = Annotated[str, Strict()]
PositiveInt = Annotated[int, Strict(), Field(gt=0)]
PositiveFloat = Annotated[float, Strict(), Field(gt=0)]


# --------------------------------------------------------------------------- helpers


def invalid(message: str, hint: str | None = None) -> PydanticCustomError:
    """A validation error whose text is already user-facing (no pydantic prefix)."""
    return PydanticCustomError("config", "{message}", {"message": message, "hint": hint or ""})


class LocatedError(ConfigError):
    """Raised from validators that know a deeper key than pydantic's ``loc`` would give
    (e.g. *which* item of a list is the duplicate). Pydantic lets it through unwrapped,
    and :func:`load_config` adds file and line; built directly, it is a plain ConfigError.
    """

    def __init__(self, loc: Loc, problem: str, hint: str | None = None) -> None:
        super().__init__(f"{key_path(loc)}: {problem}", hint=hint)
        self.loc = loc
        self.problem = problem


def key_path(loc: Loc) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


def context_of(info: ValidationInfo) -> dict[str, Any]:
    return info.context if isinstance(info.context, dict) else {}


def resolve_path(value: Any, info: ValidationInfo, what: str) -> Path:
    if isinstance(value, Path):
        path = value
    elif isinstance(value, str) and value.strip():
        path = Path(value.strip())
    else:
        raise invalid(
            f"expected a path, got {show_value(value)}", f"write the {what} as a file path"
        )
    path = path.expanduser()
    base = context_of(info).get("base")
    if not path.is_absolute() and isinstance(base, Path):
        path = base / path
    # normpath rather than resolve(): keep symlinks as the user wrote them, drop the `..`.
    return Path(os.path.normpath(path)) if path.is_absolute() else path


def checks_files(info: ValidationInfo) -> bool:
    return bool(context_of(info).get("check_files", False))


def existing_file(value: Any, info: ValidationInfo, what: str, noun: str) -> Path:
    """`resolve_path`, and when the load checks files, the file must be there: `noun`
    names it in the message ("roster file not found: ...")."""
    path = resolve_path(value, info, what)
    if checks_files(info) and not path.is_file():
        raise invalid(
            f"{noun} not found: {path}",
            "the path is relative to the config file's folder",
        )
    return path


def show_value(value: Any) -> str:
    text = repr(value.isoformat() if isinstance(value, date) else value)
    return text if len(text) <= 60 else text[:57] + "...'"


_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def env_name(value: Any, *, required: bool = True) -> str | None:
    if value is None and not required:
        return None
    # Never echo the value: a user who pasted the token itself here must not see it in
    # logs or CI output.
    if not isinstance(value, str) or not _ENV_NAME.match(value.strip()):
        raise invalid(
            "expected the NAME of an environment variable (letters, digits, _)",
            "never put a secret in the config: export it, e.g. WEBEX_TOKEN=..., "
            "and write that variable's name here",
        )
    return value.strip()


_EMAIL = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$")


def email_address(value: Any, *, allow_display_name: bool = False) -> str:
    if not isinstance(value, str) or not value.strip():
        raise invalid(f"expected an email address, got {show_value(value)}")
    text = value.strip()
    address = parseaddr(text)[1] if allow_display_name else text
    if not _EMAIL.match(address):
        raise invalid(
            f"not an email address: {show_value(text)}",
            "write it like name@example.com",
        )
    return text


# --------------------------------------------------------------------------- durations


_DURATION = re.compile(r"^(?:(\d+)\s*h)?\s*(?:(\d+)\s*m)?\s*(?:(\d+)\s*s)?$")
_DURATION_HINT = "write durations like 45m, 1h30m or 90s"


def parse_duration(text: Any) -> int:
    """``45m`` / ``1h30m`` / ``90s`` / ``0m`` → seconds. Bare numbers are refused: whether
    ``5`` means seconds or minutes is exactly the ambiguity an audit must not have."""
    if isinstance(text, bool) or not isinstance(text, str):
        raise invalid(
            f"not a duration: {show_value(text)}", _DURATION_HINT + " (a number needs a unit)"
        )
    match = _DURATION.match(text.strip().lower())
    if not text.strip() or match is None or not any(match.groups()):
        raise invalid(f"not a duration: {show_value(text)}", _DURATION_HINT)
    hours, minutes, seconds = (int(g) if g else 0 for g in match.groups())
    return hours * 3600 + minutes * 60 + seconds


def format_duration(seconds: int) -> str:
    """Seconds → the config's own notation (``1h30m``, ``45m``, ``90s`` → ``1m30s``)."""
    if seconds == 0:
        return "0m"
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [
        f"{hours}h" if hours else "",
        f"{minutes}m" if minutes else "",
        f"{secs}s" if secs else "",
    ]
    return "".join(parts)


_ZONES: list[str] = []


def zone_names() -> list[str]:
    if not _ZONES:
        import zoneinfo

        _ZONES.extend(sorted(zoneinfo.available_timezones()))
    return _ZONES


def suggest(word: str, options: typing.Iterable[str]) -> str | None:
    options = list(options)
    lowered = {o.lower(): o for o in options}
    if word.lower() in lowered:
        return lowered[word.lower()]
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    return close[0] if close else None


def line_for(loc: Loc, lines: Mapping[Loc, int]) -> int | None:
    for end in range(len(loc), -1, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return None
