"""The data-quality appendix: the flags raised, what could not be fetched or read, and
the data-quality notes."""

from __future__ import annotations

from reporting.render.context import ReportInput, flag_explanations
from reporting.render.pdf.cells import FLAG_COLUMNS, NOTE_COLUMNS, PROBLEM_COLUMNS
from reporting.render.pdf.layout import Block, Planner

SECTION = "appendix"


def appendix(plan: Planner, inp: ReportInput) -> None:
    summary = inp.summary
    plan.heading("Data quality", SECTION, new_page=True)
    explanations = flag_explanations()
    if summary.flags:
        plan.table(
            "flags",
            FLAG_COLUMNS,
            [
                [f, str(n), explanations.get(f, "No explanation is recorded for this flag.")]
                for f, n in summary.flags.items()
            ],
            SECTION,
            caption="Flags raised in this report",
        )
    else:
        plan.block(Block("note", {"text": "No row of this report carries a flag."}, 20), SECTION)
    problems = [
        [p.entry_id + (f" / {p.instance_id}" if p.instance_id else ""), p.message]
        if p.kind == "fetch failure"
        else [p.entry_id, p.message]
        for p in summary.problems
    ]
    if problems:
        plan.table(
            "problems",
            PROBLEM_COLUMNS,
            problems,
            SECTION,
            caption="Meetings that could not be fetched, and unusable API pages",
        )
    else:
        plan.block(
            Block(
                "note",
                {"text": "Every meeting was fetched and every page of participants could be read."},
                20,
            ),
            SECTION,
        )
    if summary.notes:
        plan.table(
            "notes",
            NOTE_COLUMNS,
            [[note] for note in summary.notes],
            SECTION,
            caption="Data-quality notes: records with fields of the wrong type, and settings "
            "that make a result meaningless",
        )
