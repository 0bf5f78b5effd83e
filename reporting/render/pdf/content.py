"""What the report says, as explicit pages: the cover (facts, criteria, courses, the audit
and the charts), a section per meeting, and the data-quality appendix."""

from __future__ import annotations

from typing import Any

from reporting.render.context import ReportInput
from reporting.render.pdf.appendix import appendix
from reporting.render.pdf.cover import cover, report_meta
from reporting.render.pdf.layout import Page, Planner
from reporting.render.pdf.meeting import meetings


def build_pages(inp: ReportInput) -> tuple[list[Page], dict[str, Any]]:
    """The report as explicit pages, plus the facts every page's template may show."""
    plan = Planner(inp.page_size)
    meta = report_meta(inp)
    cover(plan, inp, meta)
    meetings(plan, inp)
    appendix(plan, inp)
    return plan.pages, meta
