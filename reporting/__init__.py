"""Audit who really attended mandatory trainings held on Webex."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("webex-attendance")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"
