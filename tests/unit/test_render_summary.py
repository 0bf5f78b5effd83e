"""The report summary: computed once, read the same by the PDF, the workbook and the email."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from openpyxl import load_workbook

from reporting.delivery.content import email_context
from reporting.render.excel import render_xlsx
from reporting.render.sample import SampleResult, sample_input
from reporting.render.summary import summarize, truthy


def test_figures_of_the_sample() -> None:
    inp = sample_input(meetings=2, people=6)
    summary = inp.summary
    assert inp.summary is summary  # computed once per report
    assert (summary.statuses.rows, summary.statuses.complete) == (12, 4)
    assert (summary.statuses.partial, summary.statuses.absent) == (4, 4)
    assert [(m.people, m.complete, m.partial, m.absent) for m in summary.meetings] == [
        (6, 2, 2, 2),
        (6, 2, 2, 2),
    ]
    (course,) = summary.courses
    # Persons 0 and 3 are complete in both meetings (the sample repeats its statuses).
    assert (course.course, course.sessions, course.people, course.completed) == (
        "security-2026",
        2,
        6,
        2,
    )
    assert summary.flags == {"DURATION_MISMATCH": 2, "LATE_JOIN": 6}
    assert [p.kind for p in summary.problems] == ["fetch failure", "page problem"]
    assert (summary.meetings_planned, summary.meetings_audited, summary.meetings_failed) == (
        2,
        2,
        1,
    )


def test_completed_written_as_text_is_read_one_way() -> None:
    """`"false"` is not completed (astype(bool) read it as True; the email did not)."""
    inp = sample_input(meetings=1, people=3)
    courses = inp.result.courses.copy()
    courses["completed"] = ["true", "false", "False"]
    result = SampleResult(inp.result.attendance, inp.result.devices, inp.result.breakouts, courses)
    text_input = dataclasses.replace(inp, result=result)
    summary = summarize(text_input)
    assert (summary.course_completed, summary.courses[0].completed) == (1, 1)
    assert [truthy(v) for v in ("true", "false", " YES ", 0, 1, None, float("nan"))] == [
        True,
        False,
        True,
        False,
        True,
        False,
        False,
    ]


def test_workbook_and_email_state_the_summary(tmp_path: Path) -> None:
    inp = sample_input(meetings=2, people=6)
    summary = inp.summary
    wb = load_workbook(render_xlsx(inp, tmp_path / "r.xlsx"))
    facts = {r[0]: r[1] for r in wb["Summary"].iter_rows(values_only=True, max_col=2) if r[0]}
    assert facts["Complete"] == summary.statuses.complete
    assert facts["Meetings not fetched"] == summary.meetings_failed
    context = email_context(inp, [])
    totals = context["totals"]
    assert totals["complete"] == summary.statuses.complete
    assert totals["completed"] == summary.course_completed
    assert [c["completed"] for c in context["courses"]] == [c.completed for c in summary.courses]
    assert totals["meetings_failed"] == summary.meetings_failed
