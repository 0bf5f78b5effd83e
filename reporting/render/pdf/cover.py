"""The report's opening: the facts of the run, the criteria of every rate, completion per
course, the audit (non-compliance, overrides, unidentified callers, departments) and the
completion charts."""

from __future__ import annotations

from typing import Any

from reporting.render.charts import Bar, chart_height, completion_chart
from reporting.render.context import COMPLIANCE, ReportInput, fmt_duration, fmt_local
from reporting.render.pdf.cells import (
    CALLER_COLUMNS,
    COURSE_COLUMNS,
    DEPARTMENT_COLUMNS,
    NONCOMPLIANCE_COLUMNS,
    OVERRIDE_COLUMNS,
)
from reporting.render.pdf.layout import Block, Planner, text_lines
from reporting.render.summary import criteria_facts

CONFIDENTIAL = "Confidential — contains personal data; for the named recipients only."
CHART_BARS = 20  # meetings or courses per chart


def report_meta(inp: ReportInput) -> dict[str, Any]:
    """The facts every page's template may show: title, report name, the run's facts."""
    tz = inp.tz
    run = inp.run
    summary = inp.summary
    counts = summary.statuses
    facts = [
        (
            "Period",
            f"{fmt_local(run.period_start, tz)} to {fmt_local(run.period_end, tz)}"
            f" ({run.period_label}, end exclusive)",
        ),
        ("Generated at", f"{fmt_local(run.as_of, tz)} ({run.timezone})"),
        ("Run id", run.run_id),
        ("Config hash", run.config_hash),
        ("Audience", inp.spec.audience),
        (
            # "Audited" counts the instances whose participants were fetched, as the CLI
            # does; a failure is an instance that could not be fetched, or a whole entry.
            "Meetings",
            f"{summary.meetings_audited} audited, {summary.meetings_failed} could not be fetched",
        ),
        (
            "Completion (required people)",
            f"{summary.rate.long} completed their courses",
        ),
        (
            "Required rows",
            f"{counts.rows}: {counts.complete} complete, {counts.partial} partial, "
            f"{counts.absent} absent, {counts.excused} excused; "
            f"{len(summary.others)} other participant row(s) not counted",
        ),
        ("Tool version", run.tool_version + (" (offline re-run)" if run.offline else "")),
    ]
    return {
        "report_name": inp.spec.name,
        "title": f"Training attendance — {run.period_label}",
        "facts": facts,
        "confidential": CONFIDENTIAL,
        "compliance": inp.spec.audience == COMPLIANCE,
    }


def cover(plan: Planner, inp: ReportInput, meta: dict[str, Any]) -> None:
    """Facts, criteria, the course table, the audit sections, then the charts."""
    summary = inp.summary
    facts = meta["facts"]
    plan.heading(str(meta["title"]), "cover", new_page=True)
    plan.block(Block("facts", {"facts": facts}, len(facts) * 12 + 12), "cover")
    criteria = criteria_facts(summary)
    plan.heading("Criteria of every rate in this report", "cover", level=2)
    height = sum(text_lines(v, plan.width * 0.75) for _, v in criteria) * 11 + 10
    plan.block(Block("facts", {"facts": criteria}, height), "cover")
    if summary.courses:
        plan.heading("Completion per course (required people)", "cover", level=2)
        plan.table(
            "courses",
            COURSE_COLUMNS,
            [
                [
                    c.course,
                    str(c.sessions),
                    str(c.people),
                    str(c.excused),
                    str(c.completed),
                    c.rate.text,
                    c.population or "not stated",
                ]
                for c in summary.courses
            ],
            "cover",
        )
    audit_sections(plan, inp)
    charts(plan, inp)


def charts(plan: Planner, inp: ReportInput) -> None:
    """Completion per meeting, then per course, at most `CHART_BARS` bars a chart."""
    summary, tz = inp.summary, inp.tz
    meeting_bars = [
        Bar(f"{m.title} ({fmt_local(m.start, tz)[:10]})", m.complete, m.partial, m.absent)
        for m in summary.meetings
    ]
    course_bars = [Bar(c.course, c.completed, 0, c.not_completed) for c in summary.courses]
    for bars, title in (
        (meeting_bars, "Completion per meeting"),
        (course_bars, "Completion per course"),
    ):
        for i in range(0, len(bars), CHART_BARS):
            chunk = bars[i : i + CHART_BARS]
            plan.block(
                Block(
                    "chart",
                    {"svg": completion_chart(chunk, title=title)},
                    chart_height(len(chunk)) * 0.75 + 8,
                ),
                "cover",
            )


def audit_sections(plan: Planner, inp: ReportInput) -> None:
    """Non-compliance first, then overrides, unidentified callers and departments."""
    summary, tz = inp.summary, inp.tz
    section = "audit"
    plan.heading(f"Non-compliance ({len(summary.noncompliance)})", section, new_page=True)
    if summary.noncompliance:
        plan.table(
            "noncompliance",
            NONCOMPLIANCE_COLUMNS,
            [
                [
                    n.person.label,
                    n.department,
                    f"{n.course}\n{n.sessions_complete} of {n.sessions_total} complete",
                    "\n".join(m.text(tz) for m in n.missing) or "sessions required not reached",
                    "\n".join(d.text for d in n.decisions),
                ]
                for n in summary.noncompliance
            ],
            section,
            caption="Required people who did not complete a course, and why",
        )
    else:
        text = "Every required person completed their courses (or was excused)."
        plan.block(Block("note", {"text": text}, 20), section)
    plan.heading(f"Overrides applied ({len(summary.overrides)})", section, level=2)
    if summary.overrides:
        plan.table(
            "overrides",
            OVERRIDE_COLUMNS,
            [
                [
                    o.person.label,
                    f"{fmt_local(o.start, tz)[:10]} {o.title}".strip(),
                    f"{o.decision.decision} → {o.status}",
                    o.decision.reason,
                    f"{o.decision.reviewer}, {o.decision.date}",
                ]
                for o in summary.overrides
            ],
            section,
        )
    else:
        plan.block(Block("note", {"text": "No reviewer's decision applied."}, 20), section)
    if summary.callers:
        plan.heading(f"Unidentified callers ({len(summary.callers)})", section, level=2)
        plan.table(
            "callers",
            CALLER_COLUMNS,
            [
                [
                    c.person.label,
                    f"{fmt_local(c.start, tz)[:10]} {c.title}".strip(),
                    f"{fmt_duration(c.attended_seconds)} · {c.status}",
                    "\n".join(c.hints) or "no one else used this number in this run",
                ]
                for c in summary.callers
            ],
            section,
            caption="Dial-in callers whose number is on no roster; they enter no rate",
        )
    if summary.departments:
        plan.heading("Completion per department (required people)", section, level=2)
        plan.table(
            "departments",
            DEPARTMENT_COLUMNS,
            [
                [
                    d.course,
                    d.department,
                    str(d.people),
                    str(d.excused),
                    str(d.completed),
                    d.rate.text,
                ]
                for d in summary.departments
            ],
            section,
            caption=f"Criteria: {summary.criteria_line()}",
        )
