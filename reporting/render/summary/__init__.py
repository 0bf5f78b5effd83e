"""The report summary: every figure a report states, computed once per report.

`values` reads cells, `figures` holds what is stated (`ReportSummary`), `compute` works it
out (`summarize`).

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

from reporting.render.summary.compute import summarize
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
    Rate,
    ReportSummary,
    StatusCounts,
    criteria_facts,
)
from reporting.render.summary.values import (
    ABSENT,
    COMPLETE,
    COURSE_COMPLETED,
    COURSE_NOT_COMPLETED,
    EXCUSED,
    NO_ROSTER,
    PARTIAL,
    UNIDENTIFIED_CALLER,
    column,
    flag_counts,
    floor_permille,
    fmt_seconds,
    permille_text,
    records,
    share_text,
    share_value,
    split_flags,
    text,
    truthy,
)

__all__ = [
    "ABSENT",
    "COMPLETE",
    "COURSE_COMPLETED",
    "COURSE_NOT_COMPLETED",
    "EXCUSED",
    "NO_ROSTER",
    "PARTIAL",
    "UNIDENTIFIED_CALLER",
    "AppliedOverride",
    "Caller",
    "CourseFigures",
    "Criteria",
    "Decision",
    "DepartmentFigures",
    "MeetingFigures",
    "MissingSession",
    "NonCompliance",
    "Other",
    "Person",
    "Problem",
    "Rate",
    "ReportSummary",
    "StatusCounts",
    "column",
    "criteria_facts",
    "flag_counts",
    "floor_permille",
    "fmt_seconds",
    "permille_text",
    "records",
    "share_text",
    "share_value",
    "split_flags",
    "summarize",
    "text",
    "truthy",
]
