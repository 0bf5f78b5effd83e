"""The exceptions the core raises; the CLI maps each to an exit code and one clear line.

Every message names where the problem is (file and line, config key, meeting id) and,
where there is one, how to fix it. No message ever contains a secret.
"""

from __future__ import annotations


class AttendanceError(Exception):
    """Base of every error the tool reports to a user instead of a traceback."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class ConfigError(AttendanceError):
    """Bad config file, roster or command-line arguments."""

    exit_code = 2


class WebexError(AttendanceError):
    """A Webex request failed for good (after any retries)."""


class StoreError(AttendanceError):
    """The SQLite store cannot be opened, is from a newer version, or lacks data."""


class RenderError(AttendanceError):
    """A report could not be rendered."""


class DeliveryError(AttendanceError):
    """A report could not be emailed or written to the outbox."""
