"""The report summary: every figure a report states, computed once per report.

The PDF, the workbook and the email body all read their counts, rates, criteria, the
non-compliance list, overrides, callers and problems from `ReportSummary`, so the three
can never disagree (they used to work the figures out three times, with two different
readings of `completed`). It imports neither WeasyPrint nor openpyxl: building a PDF
does not load the workbook renderer, nor the other way round.

Rates (rule 11) count the **required** population only: a meeting's rate is required
rows `complete` over required rows not `excused`; a course's is required people who
completed it over required people not excused for the whole course. They are shown
rounded down to one decimal (`Rate.text`), computed in whole numbers so 2/3 is 66.6 %
and never 66.7 %.

A result without the Part-two columns (`required`, course `status`) is read as before
them: every row is required, a course row is completed when `completed` is true.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from fractions import Fraction
from functools import cached_property
from typing import Any, cast
from zoneinfo import ZoneInfo

import pandas as pd

from reporting.protocols import SummaryInput

COMPLETE, PARTIAL, ABSENT, EXCUSED = "complete", "partial", "absent", "excused"
COURSE_COMPLETED, COURSE_NOT_COMPLETED = "completed", "not_completed"
NO_ROSTER = "no roster: attendees with an email"
UNIDENTIFIED_CALLER = "UNIDENTIFIED_CALLER"


# --------------------------------------------------------------------------- cells


def truthy(value: Any) -> bool:
    """A boolean cell as the CSVs and the engine write it: bools, `true`/`1`/`yes` text."""
    if isinstance(value, str):
        return value.strip().lower() in {"true", "1", "yes"}
    if value is None:
        return False
    try:
        if pd.isna(value):
            return False
    except (TypeError, ValueError):
        pass
    return bool(value)


def text(value: Any) -> str:
    """A cell as text; missing values (None, NaN, NaT) are empty."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    return str(value)


def column(frame: pd.DataFrame, name: str) -> pd.Series:
    """`frame[name]`, or a column of missing values when the frame lacks it."""
    if name in frame.columns:
        return frame[name]
    return pd.Series([None] * len(frame), index=frame.index, dtype=object)


def split_flags(flags: Any) -> list[str]:
    return [f for f in text(flags).split(";") if f]


def fmt_seconds(seconds: Any) -> str:
    """Whole seconds as `h:mm:ss`; empty for missing values."""
    if seconds is None or pd.isna(seconds):
        return ""
    total = int(seconds)
    sign = "-" if total < 0 else ""
    hours, rest = divmod(abs(total), 3600)
    return f"{sign}{hours}:{rest // 60:02d}:{rest % 60:02d}"


def floor_permille(numerator: int, denominator: int) -> int | None:
    """numerator / denominator in tenths of a percent, rounded down, in whole numbers."""
    if denominator <= 0:
        return None
    return numerator * 1000 // denominator


def permille_text(permille: int | None) -> str:
    if permille is None:
        return ""
    return f"{permille // 10}.{permille % 10} %"


def share_text(attended: Any, meeting: Any) -> str:
    """Attended share of the meeting, rounded down to one decimal ("66.6 %")."""
    if attended is None or meeting is None or pd.isna(attended) or pd.isna(meeting):
        return ""
    return permille_text(floor_permille(int(attended), int(meeting)))


def share_value(attended: Any, meeting: Any) -> float | None:
    """The same share as a fraction already rounded down to 0.1 % (for a `0.0%` cell,
    which would otherwise round it up)."""
    if attended is None or meeting is None or pd.isna(attended) or pd.isna(meeting):
        return None
    permille = floor_permille(int(attended), int(meeting))
    return None if permille is None else permille / 1000


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


# --------------------------------------------------------------------------- computing


def summarize(inp: SummaryInput) -> ReportSummary:
    """The summary of one report (its result is already masked for its audience)."""
    return _Summarizer(inp).summary()


class _Summarizer:
    def __init__(self, inp: SummaryInput) -> None:
        self.inp = inp
        self.tz = ZoneInfo(inp.run.timezone)
        self.criteria: Criteria | None = getattr(inp, "criteria", None)
        att = inp.result.attendance
        self.att = att
        self.required = (
            column(att, "required").map(truthy).astype(bool)
            if "required" in att.columns
            else pd.Series(True, index=att.index, dtype=bool)
        )
        self.status = column(att, "status").map(text)
        self.instances = {i.id: i for i in inp.instances}
        entries: dict[str, list[int]] = {}
        for inst in inp.instances:
            entries.setdefault(inst.course, []).append(inst.entry_index)
        self.course_entries = entries

    def population(self, course: str) -> str:
        if self.criteria is None:
            return ""
        return self.criteria.population(self.course_entries.get(course, []))

    def person(self, row: Mapping[str, Any]) -> Person:
        email = text(row.get("email"))
        key = text(row.get("person_key"))
        name = text(row.get("roster_name")) or text(row.get("display_name")) or email or key
        return Person(name, email, text(row.get("seen_as")).replace(";", "; "), key)

    def summary(self) -> ReportSummary:
        inp, att, required, status = self.inp, self.att, self.required, self.status
        unfetched = {f.instance_id: f.message for f in inp.failures if f.instance_id}
        problems = [
            Problem("fetch failure", f.entry_id, f.instance_id, f.message) for f in inp.failures
        ]
        problems += [
            Problem("page problem", iid, iid, p)
            for iid, ps in sorted(inp.page_problems.items())
            for p in ps
        ]
        problems += [Problem("override", "overrides", None, m) for m in self.unmatched()]
        courses = self.course_figures()
        req_courses = self.required_courses()
        course_status = self.course_status(req_courses)
        populations = list(dict.fromkeys(c.population for c in courses if c.population))
        req_status = status[required]
        return ReportSummary(
            statuses=StatusCounts(
                rows=int(required.sum()),
                complete=int((req_status == COMPLETE).sum()),
                partial=int((req_status == PARTIAL).sum()),
                absent=int((req_status == ABSENT).sum()),
                excused=int((req_status == EXCUSED).sum()),
            ),
            meetings=tuple(self.meeting_figures()),
            courses=tuple(courses),
            departments=tuple(self.department_figures(req_courses, course_status)),
            people=int(column(att, "person_key").nunique()),
            required_people=int(column(att, "person_key")[required].nunique()),
            course_people=len(req_courses),
            course_completed=int((course_status == COURSE_COMPLETED).sum()),
            course_excused=int((course_status == EXCUSED).sum()),
            meetings_planned=len(inp.instances),
            meetings_audited=len({i.id for i in inp.instances} - set(unfetched)),
            unfetched=unfetched,
            flags=flag_counts(att),
            problems=tuple(problems),
            criteria=self.criteria,
            overrides_applied=self.overrides_applied(),
            noncompliance=tuple(self.noncompliance(req_courses, course_status)),
            overrides=tuple(self.applied_overrides()),
            callers=tuple(self.callers()),
            others=tuple(self.other_rows()),
            population="; ".join(populations) if populations else "",
            notes=tuple(getattr(inp, "notes", ())),
        )

    # -- meetings

    def meeting_figures(self) -> list[MeetingFigures]:
        att = self.att
        groups = (
            att.groupby(column(att, "meeting_id").map(text), sort=False).indices if len(att) else {}
        )
        out = []
        for inst in self.inp.instances:
            rows = groups.get(inst.id, [])
            part = att.iloc[rows] if len(rows) else att[:0]
            req = self.required.iloc[rows] if len(rows) else self.required[:0]
            counts: dict[str, int] = (
                {
                    str(k): int(v)
                    for k, v in self.status.iloc[rows][req.to_numpy()].value_counts().items()
                }
                if len(rows)
                else {}
            )
            seconds = column(part, "meeting_seconds").iloc[0] if len(part) else None
            out.append(
                MeetingFigures(
                    meeting_id=inst.id,
                    title=inst.title,
                    course=inst.course,
                    start=inst.start,
                    end=inst.end,
                    meeting_seconds=None if seconds is None or pd.isna(seconds) else int(seconds),
                    host=inst.host_email,
                    people=int(req.sum()),
                    complete=int(counts.get(COMPLETE, 0)),
                    partial=int(counts.get(PARTIAL, 0)),
                    absent=int(counts.get(ABSENT, 0)),
                    excused=int(counts.get(EXCUSED, 0)),
                    others=int((~req).sum()),
                    population=self.population(inst.course),
                )
            )
        return out

    # -- courses

    def required_courses(self) -> pd.DataFrame:
        courses = self.inp.result.courses
        if "required" not in courses.columns:
            return courses
        return courses[column(courses, "required").map(truthy).astype(bool)]

    @staticmethod
    def course_status(courses: pd.DataFrame) -> pd.Series:
        """completed / not_completed / excused per course row."""
        if "status" in courses.columns:
            return column(courses, "status").map(text)
        done = column(courses, "completed").map(truthy).astype(bool)
        return done.map({True: COURSE_COMPLETED, False: COURSE_NOT_COMPLETED})

    def course_figures(self) -> list[CourseFigures]:
        all_rows = self.inp.result.courses
        if not len(all_rows):
            return []
        req = self.required_courses()
        status = self.course_status(req)
        titles: dict[str, list[str]] = {}
        for instance in self.inp.instances:
            names = titles.setdefault(instance.course, [])
            if instance.title and instance.title not in names:
                names.append(instance.title)
        sessions = pd.to_numeric(column(all_rows, "sessions_total"), errors="coerce")
        labels = column(all_rows, "course").map(text)
        req_labels = labels[req.index]
        out = []
        for label, group in all_rows.groupby(labels, sort=False):
            course = str(label)
            mine = status[req_labels == course]
            most = sessions[group.index].max()
            if "sessions_excused" in all_rows.columns:
                # sessions_total excludes a person's excused sessions: the course's
                # sessions are the most anyone has, excused ones included.
                excused = pd.to_numeric(column(all_rows, "sessions_excused"), errors="coerce")
                most = (sessions[group.index] + excused[group.index].fillna(0)).max()
            out.append(
                CourseFigures(
                    course=course,
                    title=" / ".join(titles.get(course, [])) or course,
                    sessions=0 if pd.isna(most) else int(most),
                    people=len(mine),
                    completed=int((mine == COURSE_COMPLETED).sum()),
                    excused=int((mine == EXCUSED).sum()),
                    others=len(group) - len(mine),
                    population=self.population(course),
                )
            )
        return out

    def department_figures(
        self, courses: pd.DataFrame, status: pd.Series
    ) -> list[DepartmentFigures]:
        departments = column(courses, "department").map(text)
        if "department" not in courses.columns:
            departments = self._departments_from_rows(courses)
        if not (departments != "").any():
            return []
        frame = pd.DataFrame(
            {
                "course": column(courses, "course").map(text),
                "department": departments.replace("", "(none)"),
                "status": status,
            }
        )
        out = []
        for (course, department), group in frame.groupby(["course", "department"], sort=False):
            out.append(
                DepartmentFigures(
                    course=str(course),
                    department=str(department),
                    people=len(group),
                    completed=int((group["status"] == COURSE_COMPLETED).sum()),
                    excused=int((group["status"] == EXCUSED).sum()),
                )
            )
        order = {c.course: i for i, c in enumerate(self.course_figures())}
        return sorted(out, key=lambda d: (order.get(d.course, 0), d.department.casefold()))

    def _departments_from_rows(self, courses: pd.DataFrame) -> pd.Series:
        att = self.att
        if "department" not in att.columns or not len(courses):
            return pd.Series("", index=courses.index, dtype=object)
        known = {
            (text(c), text(k)): text(d)
            for c, k, d in zip(
                column(att, "course"), column(att, "person_key"), att["department"], strict=True
            )
            if text(d)
        }
        return pd.Series(
            [
                known.get((text(c), text(k)), "")
                for c, k in zip(
                    column(courses, "course"), column(courses, "person_key"), strict=True
                )
            ],
            index=courses.index,
            dtype=object,
        )

    # -- the people behind the figures

    @cached_property
    def _rows(self) -> dict[tuple[str, str], dict[str, Any]]:
        return {
            (text(r.get("meeting_id")), text(r.get("person_key"))): r for r in records(self.att)
        }

    def rows_of(self) -> dict[tuple[str, str], dict[str, Any]]:
        """Every attendance row by (meeting id, person key)."""
        return self._rows

    def decisions(self, row: Mapping[str, Any]) -> list[Decision]:
        kinds = [d for d in text(row.get("override")).split(";") if d]
        if not kinds:
            return []
        parts = [
            text(row.get(c)).split(";")
            for c in ("override_reason", "override_reviewer", "override_date")
        ]
        if any(len(p) != len(kinds) for p in parts):  # a `;` inside a reason
            joined = [text(row.get(c)) for c in ("override_reason", "override_reviewer")]
            return [
                Decision("; ".join(kinds), joined[0], joined[1], text(row.get("override_date")))
            ]
        return [Decision(k, r, v, d) for k, r, v, d in zip(kinds, *parts, strict=True)]

    def why_missing(self, meeting_id: str, key: str) -> str:
        row = self.rows_of().get((meeting_id, key))
        if row is None:
            return "absent (no record)"
        status = text(row.get("status"))
        if status != PARTIAL:
            return status or "absent"
        attended = int(row.get("attended_seconds") or 0)
        seconds = row.get("meeting_seconds")
        if self.criteria is None or seconds is None or pd.isna(seconds):
            return f"partial: attended {fmt_seconds(attended)}"
        needed = self.criteria.needed_seconds(int(seconds))
        return (
            f"partial: attended {fmt_seconds(attended)} of {fmt_seconds(needed)} needed,"
            f" {fmt_seconds(max(needed - attended, 0))} short"
        )

    def missing_ids(self, row: Mapping[str, Any]) -> list[str]:
        if "missing" in self.inp.result.courses.columns:
            return [m for m in text(row.get("missing")).split(";") if m]
        key = text(row.get("person_key"))
        course = text(row.get("course"))
        rows = self.rows_of()
        return [
            inst.id
            for inst in self.inp.instances
            if inst.course == course
            and text((rows.get((inst.id, key)) or {}).get("status")) not in (COMPLETE, EXCUSED)
        ]

    def noncompliance(self, courses: pd.DataFrame, status: pd.Series) -> list[NonCompliance]:
        open_rows = courses[status == COURSE_NOT_COMPLETED]
        titles = {c.course: c.title for c in self.course_figures()}
        rows = self.rows_of()
        out = []
        for row in records(open_rows):
            key = text(row.get("person_key"))
            course = text(row.get("course"))
            mine = [r for (m, k), r in rows.items() if k == key and text(r.get("course")) == course]
            seen = list(
                dict.fromkeys(s for r in mine for s in text(r.get("seen_as")).split(";") if s)
            )
            first = mine[0] if mine else {}
            person = Person(
                text(first.get("roster_name")) or text(row.get("display_name")) or key,
                text(row.get("email")),
                "; ".join(seen),
                key,
            )
            missing = []
            for mid in self.missing_ids(row):
                inst = self.instances.get(mid)
                missing.append(
                    MissingSession(
                        mid,
                        inst.title if inst else mid,
                        inst.start if inst else None,
                        self.why_missing(mid, key),
                    )
                )
            decisions = [d for r in mine for d in self.decisions(r)]
            out.append(
                NonCompliance(
                    person=person,
                    department=text(row.get("department")) or text(first.get("department")),
                    course=course,
                    course_title=titles.get(course, course),
                    sessions_complete=int(row.get("sessions_complete") or 0),
                    sessions_total=int(row.get("sessions_total") or 0),
                    missing=tuple(missing),
                    decisions=tuple(dict.fromkeys(decisions)),
                )
            )
        return sorted(out, key=lambda n: (n.course, n.person.name.casefold(), n.person.key))

    def applied_overrides(self) -> list[AppliedOverride]:
        att = self.att
        if "override" not in att.columns:
            return []
        out = []
        for row in records(att[column(att, "override").map(text) != ""]):
            mid = text(row.get("meeting_id"))
            inst = self.instances.get(mid)
            for decision in self.decisions(row):
                out.append(
                    AppliedOverride(
                        self.person(row),
                        mid,
                        inst.title if inst else text(row.get("meeting_title")),
                        inst.start if inst else None,
                        decision,
                        text(row.get("status")),
                    )
                )
        return out

    def overrides_applied(self) -> int:
        lines = getattr(self.inp.result, "overrides", None)
        if isinstance(lines, pd.DataFrame) and "rows" in lines.columns:
            return int((pd.to_numeric(lines["rows"], errors="coerce").fillna(0) > 0).sum())
        return len({(o.person.key, o.decision) for o in self.applied_overrides()})

    def unmatched(self) -> list[str]:
        result = self.inp.result
        lines = getattr(result, "overrides", None)
        if not isinstance(lines, pd.DataFrame) or "rows" not in lines.columns:
            return []
        messages = getattr(result, "unmatched_overrides", None)
        if isinstance(messages, list):
            return [str(m) for m in messages]
        return []

    def callers(self) -> list[Caller]:
        att = self.att
        flagged = column(att, "flags").map(lambda f: UNIDENTIFIED_CALLER in split_flags(f))
        if not flagged.any():
            return []
        hints: dict[tuple[str, str], list[str]] = {}
        frame = getattr(self.inp.result, "caller_hints", None)
        if isinstance(frame, pd.DataFrame) and len(frame):
            for h in records(frame):
                used = h.get("used_on")
                when = (
                    f" on {pd.Timestamp(used).tz_convert(self.tz).date().isoformat()}"
                    if used is not None and not pd.isna(used)
                    else ""
                )
                name, email = text(h.get("hint_name")), text(h.get("hint_email"))
                who = f"{name} ({email})" if name else email
                hints.setdefault((text(h.get("meeting_id")), text(h.get("person_key"))), []).append(
                    f"possibly {who}, who used this number{when}"
                )
        out = []
        for row in records(att[flagged.to_numpy()]):
            mid = text(row.get("meeting_id"))
            inst = self.instances.get(mid)
            out.append(
                Caller(
                    self.person(row),
                    mid,
                    inst.title if inst else text(row.get("meeting_title")),
                    inst.start if inst else None,
                    int(row.get("attended_seconds") or 0),
                    text(row.get("status")),
                    tuple(hints.get((mid, text(row.get("person_key"))), [])),
                )
            )
        return out

    def other_rows(self) -> list[Other]:
        att = self.att
        out = []
        for row in records(att[~self.required.to_numpy()]):
            out.append(
                Other(
                    self.person(row),
                    text(row.get("meeting_id")),
                    text(row.get("role")) or "attendee",
                    _why_not_required(row),
                    int(row.get("attended_seconds") or 0),
                    text(row.get("status")),
                )
            )
        return out


def _why_not_required(row: Mapping[str, Any]) -> str:
    role = text(row.get("role"))
    flags = split_flags(row.get("flags"))
    if role in ("host", "cohost", "panelist"):
        return {"cohost": "co-host"}.get(role, role) + ", not on the roster"
    if UNIDENTIFIED_CALLER in flags:
        return "caller matching no one"
    if "LOBBY" in flags and not int(row.get("attended_seconds") or 0):
        return "never admitted (lobby only)"
    if "NOT_ON_ROSTER" in flags:
        return "not on the roster"
    if "@" not in text(row.get("person_key")):
        return "no email"
    return "not required"


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


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows of `frame` as dicts keyed by column name."""
    return cast(list[dict[str, Any]], frame.to_dict("records"))


def flag_counts(att: pd.DataFrame) -> dict[str, int]:
    """Rows carrying each flag, by flag name."""
    counts: dict[str, int] = {}
    if "flags" not in att.columns:
        return counts
    for value, n in att["flags"].value_counts().items():
        for flag in split_flags(value):
            counts[flag] = counts.get(flag, 0) + int(n)
    return dict(sorted(counts.items()))
