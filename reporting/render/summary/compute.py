"""Working the summary out of a report's (masked) result, once per report."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd

from reporting.protocols import SummaryInput
from reporting.render.summary.figures import (
    AppliedOverride,
    Caller,
    CourseFigures,
    Criteria,
    Decision,
    DepartmentFigures,
    MeetingFigures,
    MissingSession,
    NonCompliance,
    Other,
    Person,
    Problem,
    ReportSummary,
    StatusCounts,
)
from reporting.render.summary.values import (
    ABSENT,
    COMPLETE,
    COURSE_COMPLETED,
    COURSE_NOT_COMPLETED,
    EXCUSED,
    PARTIAL,
    UNIDENTIFIED_CALLER,
    column,
    flag_counts,
    fmt_seconds,
    records,
    split_flags,
    text,
    truthy,
)


def summarize(inp: SummaryInput) -> ReportSummary:
    """The summary of one report (its result is already masked for its audience)."""
    return _Summarizer(inp).summary()


# The attendance columns the non-compliance section and its "why" read, row by row.
_PEOPLE_COLUMNS = (
    "meeting_id",
    "person_key",
    "course",
    "status",
    "attended_seconds",
    "meeting_seconds",
    "seen_as",
    "roster_name",
    "department",
    "override",
    "override_reason",
    "override_reviewer",
    "override_date",
)


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
        # Only the columns the people's sections read: a dict per row of every column
        # (times above all) cost most of a big workbook's time.
        columns = [c for c in _PEOPLE_COLUMNS if c in self.att.columns]
        return {
            (text(r.get("meeting_id")), text(r.get("person_key"))): r
            for r in records(self.att[columns])
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
        # Each person's attendance rows of each course, in row order: looked up per open
        # course row instead of scanning every row for each (quadratic in the people).
        by_person: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for (_, k), r in self.rows_of().items():
            by_person.setdefault((k, text(r.get("course"))), []).append(r)
        out = []
        for row in records(open_rows):
            key = text(row.get("person_key"))
            course = text(row.get("course"))
            mine = by_person.get((key, course), [])
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
