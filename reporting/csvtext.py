"""Reading the CSV files users write (rosters, overrides): encoding and delimiter.

Spreadsheets save "CSV" with `,` or, where `,` is the decimal comma, with `;`; with or
without a UTF-8 byte order mark. Both are accepted; any other encoding is an error naming
the line, since guessing one (Latin-1 reads every byte) would silently garble names.
"""

from __future__ import annotations

import csv
from pathlib import Path

from reporting.errors import ConfigError


def read_text(path: Path, what: str, key: str) -> str:
    """The file's text; a :class:`ConfigError` naming the file (and line) otherwise.
    ``what`` names the file in messages (``roster``), ``key`` the config key naming it."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: {what} file not found", hint=f"check the `{key}:` path in the config"
        ) from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read {what} ({exc.strerror})") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ConfigError(
            f"{path}:{line}: {what} is not UTF-8 text ({exc.reason} at byte {exc.start})",
            hint=f"save the {what} as CSV UTF-8",
        ) from None


def delimiter(text: str, column: str) -> str:
    """`;` when the first non-blank line names ``column`` only when split at `;`, else `,`.
    A `;` inside a `,` file's cells (aliases, phones) is data, not a delimiter."""
    header = next((line for line in text.splitlines() if line.strip()), "")
    for candidate in (",", ";"):
        cells = next(csv.reader([header], delimiter=candidate), [])
        if column in (c.strip().lower() for c in cells):
            return candidate
    return ","
