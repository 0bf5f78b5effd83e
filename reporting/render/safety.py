"""Keeping untrusted data (names, titles, e-mails from the Webex API) inert in every format.

- PDF: WeasyPrint gets a URL fetcher that only reads files inside the template folders;
  no network, no `file://` elsewhere, no `data:` (`reporting.render.pdf.fetcher`).
- XLSX: C0 control characters are stripped (openpyxl rejects them with
  IllegalCharacterError) and formula-like strings are stored as text cells.
- CSV: formula-like strings get a leading `'`, the OWASP CSV-injection advice
  (https://owasp.org/www-community/attacks/CSV_Injection), so spreadsheet programs show
  them as text instead of evaluating them.
- File names derived from titles are reduced to a safe subset.
"""

from __future__ import annotations

import re
import unicodedata

# C0 controls except tab and newline, plus DEL; XML 1.0 (and so XLSX) forbids most of them.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
# First characters that make Excel, LibreOffice or Google Sheets read a cell as a formula.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def strip_controls(text: str) -> str:
    """`text` without C0 control characters other than tab and newline."""
    return _CONTROL.sub("", text)


def looks_like_formula(text: str) -> bool:
    return text.startswith(FORMULA_PREFIXES)


def neutralise_csv(text: str) -> str:
    """A CSV field value that spreadsheet programs will not evaluate (OWASP advice)."""
    return "'" + text if looks_like_formula(text) else text


_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def safe_filename(title: str, *, default: str = "report", max_length: int = 80) -> str:
    """A file-name stem derived from an untrusted title.

    ASCII letters, digits, `.`, `_` and `-` only (accents folded, everything else becomes
    `-`), no leading dot or dash (hidden files, command-line options), never empty, never
    a Windows device name, at most `max_length` characters.
    """
    folded = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode("ascii")
    stem = _UNSAFE_NAME.sub("-", folded).strip(".-_")[:max_length].strip(".-_")
    if not stem or stem.upper().split(".")[0] in _WINDOWS_DEVICES:
        return default
    return stem


_WINDOWS_DEVICES = frozenset(
    {"CON", "PRN", "AUX", "NUL"} | {f"{p}{n}" for p in ("COM", "LPT") for n in range(1, 10)}
)
