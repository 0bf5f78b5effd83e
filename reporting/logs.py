"""Logging for a batch job: readable text on a terminal, JSON lines for log collectors.

Secrets must never reach a log line. The code never passes them to logging in the first
place (ARCHITECTURE.md, "Conventions"); this module is the second line of defence: a
filter on the handler replaces every registered secret and every ``Bearer <token>`` in the
message, its arguments and any exception or stack text with ``***``.

Verbosity:

- ``0``: ``reporting.*`` at INFO (one line per stage and per email), everything else at
  WARNING;
- ``1`` (``-v``): ``reporting.*`` at DEBUG (request-level detail);
- ``2`` (``-vv``): the HTTP libraries (httpx, httpcore) and everything else at DEBUG too.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import threading
import traceback
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, Literal, TextIO
from urllib.parse import quote

__all__ = [
    "REDACTED",
    "JsonFormatter",
    "RedactingFilter",
    "redact",
    "register_secret",
    "setup_logging",
]

REDACTED = "***"

# Shorter values would turn ordinary words and numbers into "***" all over the log, and a
# secret that short is not worth protecting this way anyway.
_MIN_SECRET_LENGTH = 4

# RFC 6750 b64token characters; the scheme name is case-insensitive.
_BEARER = re.compile(r"(?i)\b(bearer)(\s+)[A-Za-z0-9\-._~+/]+=*")

_HTTP_LOGGERS = ("httpx", "httpcore", "hpack", "h2")

_lock = threading.Lock()
_secrets: set[str] = set()
_secret_pattern: re.Pattern[str] | None = None


def register_secret(value: str | None) -> None:
    """Redact `value` from every log line from now on (also in handlers set up earlier)."""
    global _secret_pattern
    if not value or len(value) < _MIN_SECRET_LENGTH:
        return
    with _lock:
        # A token may also show up percent-encoded, e.g. inside a logged URL.
        new = {value, quote(value, safe="")} - _secrets
        if not new:
            return
        _secrets.update(new)
        # Longest first, so a secret containing another is replaced whole.
        ordered = sorted(_secrets, key=len, reverse=True)
        _secret_pattern = re.compile("|".join(re.escape(s) for s in ordered))


def _forget_secrets() -> None:
    """Test helper: start from an empty registry."""
    global _secret_pattern
    with _lock:
        _secrets.clear()
        _secret_pattern = None


def redact(text: str) -> str:
    """`text` with every registered secret and bearer token replaced by ``***``."""
    pattern = _secret_pattern
    if pattern is not None:
        text = pattern.sub(REDACTED, text)
    return _BEARER.sub(rf"\1\2{REDACTED}", text)


def redact_bytes(data: bytes) -> bytes:
    """``data`` (a response body) with every registered secret replaced by ``***``."""
    secrets = sorted(_secrets, key=len, reverse=True)
    for secret in secrets:
        raw = secret.encode("utf-8", "replace")
        if raw in data:
            data = data.replace(raw, REDACTED.encode())
    return data


class RedactingFilter(logging.Filter):
    """Rewrites a record in place so no handler after it can see a secret.

    The message is formatted here (``msg % args``) and the arguments dropped, because a
    secret can hide in an argument's ``repr`` as easily as in the format string. The
    exception text is rendered and redacted here too; ``logging.Formatter`` reuses
    ``record.exc_text`` instead of formatting the traceback again.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not lose the line
            message = f"{record.msg!r} % {record.args!r}"
        record.msg = redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = "".join(traceback.format_exception(*record.exc_info)).rstrip()
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, exc."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exc"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        return json.dumps(entry, ensure_ascii=False)


class _TaggedHandler(logging.StreamHandler[TextIO]):
    """Marks the handler as ours so a second `setup_logging` replaces it."""


def setup_logging(
    verbosity: int,
    fmt: Literal["text", "json"] | str = "text",
    secrets: Iterable[str | None] = (),
    *,
    stream: TextIO | None = None,
) -> logging.Handler:
    """Send log records to `stream` (default stderr) as text or JSON lines, redacted.

    Safe to call again (the CLI, then tests): the handler installed before is replaced.
    Returns the handler, so a caller can remove it.
    """
    if fmt not in ("text", "json"):
        raise ValueError(f"unknown log format {fmt!r}; use 'text' or 'json'")
    for secret in secrets:
        register_secret(secret)

    handler = _TaggedHandler(stream if stream is not None else sys.stderr)
    handler.addFilter(RedactingFilter())
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(
            logging.Formatter(
                "%(asctime)s %(levelname)-7s %(name)s: %(message)s", datefmt="%Y-%m-%d %H:%M:%S"
            )
        )

    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _TaggedHandler)]:
        root.removeHandler(old)
        old.close()
    root.addHandler(handler)

    root.setLevel(logging.DEBUG if verbosity >= 2 else logging.WARNING)
    logging.getLogger("reporting").setLevel(logging.DEBUG if verbosity >= 1 else logging.INFO)
    http_level = logging.DEBUG if verbosity >= 2 else logging.WARNING
    for name in _HTTP_LOGGERS:
        logging.getLogger(name).setLevel(http_level)
    # `warnings.warn` from libraries would otherwise bypass the handler and its filter.
    logging.captureWarnings(True)
    return handler
