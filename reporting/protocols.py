"""The shapes one stage reads of another's objects, declared once for every stage.

Stages type what they take by shape (these Protocols), not by the classes of
`reporting.config`, `reporting.attendance` or `reporting.render`: a test can hand a stage
a small stand-in, and no stage has to import another it does not run (the engine never
loads pydantic, the renderers never load the config). `reporting.config.Config` and its
parts, `reporting.attendance.AttendanceResult` and `reporting.render.context.ReportInput`
fit the shapes below; mypy checks that wherever the pipeline hands one to a stage.

A shape lists only what some stage reads. A stage that reads more of an object extends
the shape here (``ReportInputLike`` extends ``SummaryInput`` by ``summary``), so that two
stages never declare the same object twice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from datetime import datetime
    from fractions import Fraction
    from pathlib import Path

    import pandas as pd

    from reporting.model import FetchFailure, Instance, RunInfo
    from reporting.render.summary import ReportSummary

__all__ = [
    "EmailConfigLike",
    "EntryLike",
    "FetchConfig",
    "MatchLike",
    "PageLike",
    "PeriodLike",
    "ReportInputLike",
    "ReportSpecLike",
    "ResultLike",
    "RosterConfig",
    "RosterEntryLike",
    "RulesLike",
    "SmtpConfigLike",
    "SpecLike",
    "SummaryInput",
    "TablesLike",
    "ThresholdLike",
    "WebexLike",
]


# -- the config, as the stages read it ---------------------------------------------------


class ThresholdLike(Protocol):
    """``rules.min_attendance``: exactly one of a share in percent or a duration."""

    @property
    def percent(self) -> Fraction | None: ...
    @property
    def seconds(self) -> int | None: ...


class RulesLike(Protocol):
    """``rules``: what the engine, the course figures and the content key read."""

    @property
    def min_attendance(self) -> ThresholdLike: ...
    @property
    def late_grace_seconds(self) -> int: ...
    @property
    def early_leave_grace_seconds(self) -> int: ...
    @property
    def sessions_required(self) -> int | None: ...


class MatchLike(Protocol):
    """A ``match:`` of a meetings entry (rule 16)."""

    @property
    def title(self) -> str | None: ...
    @property
    def hosts(self) -> Sequence[str]: ...
    @property
    def type(self) -> str | None: ...


class EntryLike(Protocol):
    """A ``meetings:`` entry as fetch plans it (``ref``, ``match`` and the roster sources
    are read by name: stand-in configs may leave them out)."""

    @property
    def id(self) -> str | None: ...
    @property
    def title(self) -> str | None: ...
    @property
    def course(self) -> str | None: ...


class RosterEntryLike(Protocol):
    """A ``meetings:`` entry as the rosters of rule 14 read it."""

    @property
    def roster(self) -> object: ...
    @property
    def roster_files(self) -> tuple[Path, ...] | None: ...
    @property
    def roster_sources(self) -> frozenset[str]: ...


class PeriodLike(Protocol):
    @property
    def start(self) -> datetime: ...
    @property
    def end(self) -> datetime: ...
    @property
    def label(self) -> str: ...


class WebexLike(Protocol):
    @property
    def host_email(self) -> str | None: ...


class FetchConfig(Protocol):
    """What fetch reads of the config."""

    @property
    def period(self) -> PeriodLike: ...
    @property
    def webex(self) -> WebexLike: ...
    @property
    def meetings(self) -> Sequence[EntryLike]: ...


class RosterConfig(Protocol):
    """What the per-instance rosters read of the config."""

    @property
    def meetings(self) -> Sequence[RosterEntryLike]: ...
    @property
    def roster(self) -> Path | None: ...


class SmtpConfigLike(Protocol):
    """``email.smtp`` as the SMTP transport reads it (the login comes separately, read
    from the environment by `reporting.config.secrets`)."""

    @property
    def host(self) -> str: ...
    @property
    def port(self) -> int: ...
    @property
    def starttls(self) -> bool: ...
    @property
    def ssl(self) -> bool: ...
    @property
    def timeout_seconds(self) -> float: ...


class EmailConfigLike(Protocol):
    """``email`` as delivery reads it."""

    @property
    def from_addr(self) -> str: ...
    @property
    def smtp(self) -> SmtpConfigLike | None: ...
    @property
    def outbox(self) -> Path | None: ...
    @property
    def max_message_bytes(self) -> int | None: ...
    @property
    def corrections(self) -> str: ...


# -- a report, as the renderers, the summary, the content key and the email read it -----


class SpecLike(Protocol):
    """A ``reports:`` entry: its name and audience."""

    @property
    def name(self) -> str: ...
    @property
    def audience(self) -> str: ...


class ReportSpecLike(SpecLike, Protocol):
    """A ``reports:`` entry as the renderers read it."""

    @property
    def show_devices(self) -> bool: ...


class TablesLike(Protocol):
    """The attendance and course tables of a result."""

    @property
    def attendance(self) -> pd.DataFrame: ...
    @property
    def courses(self) -> pd.DataFrame: ...


class ResultLike(TablesLike, Protocol):
    """Every table of an `AttendanceResult`."""

    @property
    def devices(self) -> pd.DataFrame: ...
    @property
    def breakouts(self) -> pd.DataFrame: ...


class SummaryInput(Protocol):
    """What a report's summary (and content key) is worked out from."""

    @property
    def spec(self) -> SpecLike: ...
    @property
    def run(self) -> RunInfo: ...
    @property
    def instances(self) -> Sequence[Instance]: ...
    @property
    def result(self) -> TablesLike: ...
    @property
    def failures(self) -> Sequence[FetchFailure]: ...
    @property
    def page_problems(self) -> Mapping[str, Sequence[str]]: ...


class ReportInputLike(SummaryInput, Protocol):
    """A report to render or email: its input with every table and its summary."""

    @property
    def spec(self) -> ReportSpecLike: ...
    @property
    def result(self) -> ResultLike: ...
    @property
    def summary(self) -> ReportSummary: ...


# -- what the store keeps of a response ---------------------------------------------------


class PageLike(Protocol):
    """A response as the store keeps it (`reporting.webex.client.Page` fits)."""

    @property
    def method(self) -> str: ...
    @property
    def url(self) -> str: ...
    @property
    def status(self) -> int: ...
    @property
    def headers(self) -> dict[str, str]: ...
    @property
    def body(self) -> bytes: ...
    @property
    def fetched_at(self) -> datetime: ...
    @property
    def problem(self) -> str | None: ...
    @property
    def superseded(self) -> bool: ...
