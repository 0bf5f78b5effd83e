"""The figures a report states: rates, criteria, per-meeting, per-course and
per-department counts, the audit's records, and `ReportSummary`, which holds them all."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from fractions import Fraction
from zoneinfo import ZoneInfo

import pandas as pd

from reporting.render.summary.values import (
    NO_ROSTER,
    floor_permille,
    fmt_seconds,
    permille_text,
)


@dataclass(frozen=True)
class Rate:
    """`numerator` of `denominator`; shown rounded down to one decimal."""

    numerator: int
    denominator: int

    @property
    def permille(self) -> int | None:
        return floor_permille(self.numerator, self.denominator)

    @property
    def text(self) -> str:
        """`66.6 %`, or `n/a` when nobody is counted."""
        return permille_text(self.permille) or "n/a"

    @property
    def value(self) -> float | None:
        """The shown rate as a fraction (66.6 % -> 0.666), for a spreadsheet cell."""
        permille = self.permille
        return None if permille is None else permille / 1000

    @property
    def long(self) -> str:
        """`6 of 20 = 30.0 %`."""
        return f"{self.numerator} of {self.denominator} = {self.text}"


# --------------------------------------------------------------------------- criteria


@dataclass(frozen=True)
class Criteria:
    """What a rate means (rule 11): the rules and which roster chose the people counted."""

    min_percent: Fraction | None = None
    min_seconds: int | None = None
    late_grace_seconds: int = 300
    early_leave_grace_seconds: int = 300
    sessions_required: int | None = None  # None: all sessions not excused
    # The roster (or Webex source) of each config entry, by `Instance.entry_index`;
    # an entry missing here has no roster.
    rosters: Mapping[int, str] = field(default_factory=dict)

    @property
    def pass_mark(self) -> str:
        if self.min_seconds is not None:
            return f"at least {fmt_seconds(self.min_seconds)} attended"
        percent = self.min_percent if self.min_percent is not None else Fraction(80)
        shown = f"{float(percent):g}"
        return f"{shown} % of the meeting attended"

    def needed_seconds(self, meeting_seconds: int) -> int:
        """The least attended time that is `complete` for a meeting this long."""
        if self.min_seconds is not None:
            return self.min_seconds
        percent = self.min_percent if self.min_percent is not None else Fraction(80)
        need = percent * meeting_seconds / 100
        return int(-(-need.numerator // need.denominator))

    @property
    def sessions(self) -> str:
        if self.sessions_required is None:
            return "all sessions not excused"
        return f"{self.sessions_required} (fewer when sessions are excused)"

    def population(self, entry_indexes: Sequence[int]) -> str:
        """Which roster defined the required population of these config entries."""
        names = list(dict.fromkeys(self.rosters.get(i) or NO_ROSTER for i in entry_indexes))
        return "; ".join(names) if names else NO_ROSTER

    def line(self, population: str, overrides: int) -> str:
        """The criteria in one line, shown beside a rate."""
        return (
            f"pass mark {self.pass_mark}; late grace {fmt_seconds(self.late_grace_seconds)},"
            f" early-leave grace {fmt_seconds(self.early_leave_grace_seconds)};"
            f" sessions required: {self.sessions}; required population: {population};"
            f" overrides applied: {overrides}"
        )


# --------------------------------------------------------------------------- figures


@dataclass(frozen=True)
class StatusCounts:
    rows: int
    complete: int
    partial: int
    absent: int
    excused: int = 0


@dataclass(frozen=True)
class MeetingFigures:
    """One meeting instance: the required rows' statuses and the others apart."""

    meeting_id: str
    title: str
    course: str
    start: datetime | None
    end: datetime | None
    meeting_seconds: int | None
    host: str | None
    people: int  # required rows
    complete: int
    partial: int
    absent: int
    excused: int
    others: int  # rows not required ("other participants")
    population: str

    @property
    def rate(self) -> Rate:
        return Rate(self.complete, self.people - self.excused)

    @property
    def completion(self) -> float | None:
        return self.rate.value


@dataclass(frozen=True)
class CourseFigures:
    """One course: how many of its required people completed it."""

    course: str
    title: str  # the titles of the course's instances, ` / `-joined, else the label
    sessions: int
    people: int  # required people
    completed: int
    excused: int  # excused from every session
    others: int  # course rows of people not required
    population: str

    @property
    def not_completed(self) -> int:
        return self.people - self.excused - self.completed

    @property
    def rate(self) -> Rate:
        return Rate(self.completed, self.people - self.excused)

    @property
    def completion(self) -> float | None:
        return self.rate.value


@dataclass(frozen=True)
class DepartmentFigures:
    course: str
    department: str
    people: int
    completed: int
    excused: int

    @property
    def rate(self) -> Rate:
        return Rate(self.completed, self.people - self.excused)


@dataclass(frozen=True)
class Decision:
    """A reviewer's decision as applied to one row (rule 13)."""

    decision: str
    reason: str
    reviewer: str
    date: str

    @property
    def text(self) -> str:
        return f"{self.decision}: {self.reason} ({self.reviewer}, {self.date})"


@dataclass(frozen=True)
class Person:
    """How a report names a person: the roster's name, and what was seen when merged."""

    name: str
    email: str
    seen_as: str  # the emails/numbers merged into this person, `; `-joined
    key: str

    @property
    def label(self) -> str:
        """`Clara Weiß (clara.weiss@example.com; seen as +49 89 5550002)`."""
        details = [d for d in (self.email if self.email != self.name else "",) if d]
        if self.seen_as:
            details.append(f"seen as {self.seen_as}")
        return self.name + (f" ({'; '.join(details)})" if details else "")


@dataclass(frozen=True)
class MissingSession:
    meeting_id: str
    title: str
    start: datetime | None
    why: str  # "absent", "absent (no record)", "partial: ... short"

    def text(self, tz: ZoneInfo) -> str:
        when = self.start.astimezone(tz).date().isoformat() if self.start else "date unknown"
        return f"{when} {self.title}: {self.why}"


@dataclass(frozen=True)
class NonCompliance:
    """A required person who did not complete a course, and why."""

    person: Person
    department: str
    course: str
    course_title: str
    sessions_complete: int
    sessions_total: int
    missing: tuple[MissingSession, ...]
    decisions: tuple[Decision, ...]


@dataclass(frozen=True)
class AppliedOverride:
    person: Person
    meeting_id: str
    title: str
    start: datetime | None
    decision: Decision
    status: str  # the row's status after the decision


@dataclass(frozen=True)
class Caller:
    """An unidentified dial-in caller (rule 12) and the reviewer's hints."""

    person: Person
    meeting_id: str
    title: str
    start: datetime | None
    attended_seconds: int
    status: str
    hints: tuple[str, ...]


@dataclass(frozen=True)
class Other:
    """A row that enters no rate (rule 11), with why."""

    person: Person
    meeting_id: str
    role: str
    why: str
    attended_seconds: int
    status: str


@dataclass(frozen=True)
class Problem:
    """A meeting that could not be fetched, an API page that could not be used, or an
    override that matched no row."""

    kind: str  # "fetch failure" | "page problem" | "override"
    entry_id: str
    instance_id: str | None
    message: str


@dataclass(frozen=True)
class ReportSummary:
    statuses: StatusCounts  # required rows
    meetings: tuple[MeetingFigures, ...]  # in the order of the planned instances
    courses: tuple[CourseFigures, ...]  # in the order of the courses table
    departments: tuple[DepartmentFigures, ...]  # empty when no roster has departments
    people: int  # distinct person keys over the attendance rows
    required_people: int  # distinct required person keys
    course_people: int  # required course rows
    course_completed: int
    course_excused: int
    meetings_planned: int
    meetings_audited: int  # instances whose participants were fetched
    unfetched: Mapping[str, str]  # instance id -> why it could not be fetched
    flags: Mapping[str, int]  # flag -> rows carrying it, by flag name
    problems: tuple[Problem, ...]
    criteria: Criteria | None
    overrides_applied: int  # override decisions that applied to at least one row
    noncompliance: tuple[NonCompliance, ...]
    overrides: tuple[AppliedOverride, ...]
    callers: tuple[Caller, ...]
    others: tuple[Other, ...]
    population: str  # every course's population, for the report as a whole
    # Data-quality notes: records with fields of the wrong type, settings that make a
    # figure meaningless.
    notes: tuple[str, ...] = ()

    @property
    def meetings_failed(self) -> int:
        """Failures: instances that could not be fetched, or whole config entries."""
        return sum(1 for p in self.problems if p.kind == "fetch failure")

    @property
    def course_not_completed(self) -> int:
        return self.course_people - self.course_excused - self.course_completed

    @property
    def rate(self) -> Rate:
        """Required people who completed their course, over all courses."""
        return Rate(self.course_completed, self.course_people - self.course_excused)

    def criteria_line(self, population: str | None = None) -> str:
        """The criteria beside a rate; `population` defaults to the whole report's."""
        if self.criteria is None:
            return "criteria not stated"
        return self.criteria.line(population or self.population, self.overrides_applied)

    def meeting_table(self) -> pd.DataFrame:
        """The meeting figures as a table (the workbook's Summary sheet)."""
        return pd.DataFrame(
            [
                {
                    "meeting_id": m.meeting_id,
                    "title": m.title,
                    "course": m.course,
                    "start": m.start,
                    "end": m.end,
                    "meeting_seconds": m.meeting_seconds,
                    "host": m.host,
                    "people": m.people,
                    "complete": m.complete,
                    "partial": m.partial,
                    "absent": m.absent,
                    "excused": m.excused,
                    "others": m.others,
                    "completion": m.rate.value,
                    "rate": m.rate.long,
                    "criteria": self.criteria_line(m.population),
                }
                for m in self.meetings
            ]
        )


def criteria_facts(summary: ReportSummary) -> list[tuple[str, str]]:
    """The criteria of rule 11 as labelled facts (the cover; the workbook's Summary)."""
    c = summary.criteria
    if c is None:
        return [("Criteria", "not stated")]
    return [
        ("Pass mark", c.pass_mark),
        ("Late-join grace", fmt_seconds(c.late_grace_seconds)),
        ("Early-leave grace", fmt_seconds(c.early_leave_grace_seconds)),
        ("Sessions required", c.sessions),
        ("Required population", summary.population or NO_ROSTER),
        ("Overrides applied", str(summary.overrides_applied)),
        (
            "Rates",
            "required people only, excused ones left out; rounded down to one decimal",
        ),
    ]
