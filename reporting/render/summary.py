"""The report summary: every figure a report states, computed once per report.

The PDF, the workbook and the email body all read their counts, completion figures,
flags and problems from `ReportSummary`, so the three can never disagree (they used to
work the figures out three times, with two different readings of `completed`). It
imports neither WeasyPrint nor openpyxl: building a PDF does not load the workbook
renderer, nor the other way round.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import pandas as pd

from reporting.model import FetchFailure, Instance, RunInfo

COMPLETE, PARTIAL, ABSENT = "complete", "partial", "absent"


class _SpecLike(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def audience(self) -> str: ...


class _ResultLike(Protocol):
    @property
    def attendance(self) -> pd.DataFrame: ...
    @property
    def courses(self) -> pd.DataFrame: ...


class SummaryInput(Protocol):
    """What the summary is computed from (a `ReportInput`, or a stand-in in tests)."""

    @property
    def spec(self) -> _SpecLike: ...
    @property
    def run(self) -> RunInfo: ...
    @property
    def instances(self) -> Sequence[Instance]: ...
    @property
    def result(self) -> _ResultLike: ...
    @property
    def failures(self) -> Sequence[FetchFailure]: ...
    @property
    def page_problems(self) -> Mapping[str, tuple[str, ...]]: ...


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


@dataclass(frozen=True)
class StatusCounts:
    rows: int
    complete: int
    partial: int
    absent: int


@dataclass(frozen=True)
class MeetingFigures:
    """One meeting instance: who completed, partly attended or was absent."""

    meeting_id: str
    title: str
    course: str
    start: datetime | None
    end: datetime | None
    meeting_seconds: int | None
    host: str | None
    people: int
    complete: int
    partial: int
    absent: int

    @property
    def completion(self) -> float | None:
        return self.complete / self.people if self.people else None


@dataclass(frozen=True)
class CourseFigures:
    """One course: how many of its people completed it."""

    course: str
    title: str  # the titles of the course's instances, ` / `-joined, else the label
    sessions: int
    people: int
    completed: int

    @property
    def not_completed(self) -> int:
        return self.people - self.completed

    @property
    def completion(self) -> float | None:
        return self.completed / self.people if self.people else None


@dataclass(frozen=True)
class Problem:
    """A meeting that could not be fetched, or an API page that could not be used."""

    kind: str  # "fetch failure" | "page problem"
    entry_id: str
    instance_id: str | None
    message: str


@dataclass(frozen=True)
class ReportSummary:
    statuses: StatusCounts
    meetings: tuple[MeetingFigures, ...]  # in the order of the planned instances
    courses: tuple[CourseFigures, ...]  # in the order of the courses table
    people: int  # distinct person keys over the attendance rows
    course_people: int  # course rows
    course_completed: int
    meetings_planned: int
    meetings_audited: int  # instances whose participants were fetched
    unfetched: Mapping[str, str]  # instance id -> why it could not be fetched
    flags: Mapping[str, int]  # flag -> rows carrying it, by flag name
    problems: tuple[Problem, ...]
    # Data-quality notes: records with fields of the wrong type, settings that make a
    # figure meaningless.
    notes: tuple[str, ...] = ()

    @property
    def meetings_failed(self) -> int:
        """Failures: instances that could not be fetched, or whole config entries."""
        return sum(1 for p in self.problems if p.kind == "fetch failure")

    @property
    def course_not_completed(self) -> int:
        return self.course_people - self.course_completed

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
                    "completion": m.completion,
                }
                for m in self.meetings
            ]
        )


def summarize(inp: SummaryInput) -> ReportSummary:
    """The summary of one report (its result is already masked for its audience)."""
    att = inp.result.attendance
    status = column(att, "status").astype(object)
    unfetched = {f.instance_id: f.message for f in inp.failures if f.instance_id}
    problems = [
        Problem("fetch failure", f.entry_id, f.instance_id, f.message) for f in inp.failures
    ]
    problems += [
        Problem("page problem", iid, iid, p)
        for iid, ps in sorted(inp.page_problems.items())
        for p in ps
    ]
    courses = _course_figures(inp)
    completed = column(inp.result.courses, "completed").map(truthy).astype(bool)
    return ReportSummary(
        statuses=StatusCounts(
            rows=len(att),
            complete=int((status == COMPLETE).sum()),
            partial=int((status == PARTIAL).sum()),
            absent=int((status == ABSENT).sum()),
        ),
        meetings=tuple(_meeting_figures(inp)),
        courses=tuple(courses),
        people=int(att["person_key"].nunique()) if "person_key" in att.columns else len(att),
        course_people=len(inp.result.courses),
        course_completed=int(completed.sum()),
        meetings_planned=len(inp.instances),
        meetings_audited=len({i.id for i in inp.instances} - set(unfetched)),
        unfetched=unfetched,
        flags=flag_counts(att),
        problems=tuple(problems),
        notes=tuple(getattr(inp, "notes", ())),
    )


def _meeting_figures(inp: SummaryInput) -> list[MeetingFigures]:
    att = inp.result.attendance
    by_meeting = (
        {str(k): g for k, g in att.groupby("meeting_id", sort=False)}
        if "meeting_id" in att.columns and len(att)
        else {}
    )
    out = []
    for inst in inp.instances:
        part = by_meeting.get(inst.id, att[:0])
        counts = column(part, "status").value_counts()
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
                people=len(part),
                complete=int(counts.get(COMPLETE, 0)),
                partial=int(counts.get(PARTIAL, 0)),
                absent=int(counts.get(ABSENT, 0)),
            )
        )
    return out


def _course_figures(inp: SummaryInput) -> list[CourseFigures]:
    courses = inp.result.courses
    if not len(courses):
        return []
    titles: dict[str, list[str]] = {}
    for instance in inp.instances:
        names = titles.setdefault(instance.course, [])
        if instance.title and instance.title not in names:
            names.append(instance.title)
    completed = column(courses, "completed").map(truthy).astype(bool)
    sessions = pd.to_numeric(column(courses, "sessions_total"), errors="coerce")
    out = []
    for course, group in courses.groupby(column(courses, "course").map(text), sort=False):
        label = str(course)
        most = sessions[group.index].max()
        out.append(
            CourseFigures(
                course=label,
                title=" / ".join(titles.get(label, [])) or label,
                sessions=0 if pd.isna(most) else int(most),
                people=len(group),
                completed=int(completed[group.index].sum()),
            )
        )
    return out


def flag_counts(att: pd.DataFrame) -> dict[str, int]:
    """Rows carrying each flag, by flag name."""
    counts: dict[str, int] = {}
    if "flags" not in att.columns:
        return counts
    for value, n in att["flags"].value_counts().items():
        for flag in split_flags(value):
            counts[flag] = counts.get(flag, 0) + int(n)
    return dict(sorted(counts.items()))
