"""The Part-two report content (rules 10-13) in the PDF, the workbook and the email,
built from small synthetic results with the engine's Part-two columns.

Seven people in two one-hour meetings of one course: p0 hosts (not required), p2 never
left the lobby and p4 is a guest (both not required), p5 is excused from both sessions,
p1 is partial then absent, p3 and p6 complete both. So each meeting and the course have
2 of 3 required people complete: 66.6 % (66.67 rounded down), never 66.7 %.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from reporting.delivery.content import EmailTemplates, email_context
from reporting.render.context import ReportInput
from reporting.render.excel import render_xlsx
from reporting.render.pdf import render_pdf
from reporting.render.sample import SampleResult, sample_input
from reporting.render.summary import Rate

REASON = "Parental leave in October"
REVIEWER = "lead@example.com"
CALLER = "tel:493055501990"


@dataclasses.dataclass(frozen=True)
class AuditResult(SampleResult):
    caller_hints: pd.DataFrame = dataclasses.field(default_factory=pd.DataFrame)


def audit_input(audience: str = "compliance") -> ReportInput:
    base = sample_input(meetings=2, people=7, audience=audience, failures=[], page_problems={})
    att = base.result.attendance.copy()
    idx = att["person_key"].str.extract(r"p(\d+)@")[0].astype(int)
    att["role"] = ["host" if i == 0 else "attendee" for i in idx]
    att["required"] = ~idx.isin([0, 2, 4])
    att["flags"] = [
        "LOBBY;NOT_ON_ROSTER" if i == 2 else "NOT_ON_ROSTER" if i == 4 else f
        for i, f in zip(idx, att["flags"], strict=True)
    ]
    excused = idx == 5
    att.loc[excused, "status"] = "excused"
    att.loc[excused, "flags"] = "OVERRIDDEN"
    for col in ("override", "override_reason", "override_reviewer", "override_date", "seen_as"):
        att[col] = ""
    att.loc[excused, "override"] = "excused"
    att.loc[excused, "override_reason"] = REASON
    att.loc[excused, "override_reviewer"] = REVIEWER
    att.loc[excused, "override_date"] = "2026-11-03"
    att.loc[idx == 3, "seen_as"] = "+49 89 5550002"
    # p1: partial in the first meeting, absent in the second.
    second = att["meeting_id"] == base.instances[1].id
    att.loc[(idx == 1) & second, ["status", "attended_seconds"]] = ["absent", 0]
    first = att[att["meeting_id"] == base.instances[0].id].iloc[0].to_dict()
    caller: dict[str, Any] = {
        **first,
        "person_key": CALLER,
        "display_name": "+49 30 5550199",
        "email": "",
        "roster_name": "",
        "department": "",
        "is_host": False,
        "role": "attendee",
        "required": False,
        "status": "complete",
        "attended_seconds": 3300,
        "flags": "NOT_ON_ROSTER;UNIDENTIFIED_CALLER",
    }
    att = pd.concat([att, pd.DataFrame([caller])], ignore_index=True)
    people = [f"p{i:05d}@example.com" for i in range(7)]
    courses = pd.DataFrame(
        {
            "course": "security-2026",
            "person_key": people,
            "display_name": [f"Person {i:05d}" for i in range(7)],
            "email": people,
            "sessions_total": [2, 2, 2, 2, 2, 0, 2],
            "sessions_complete": [2, 0, 0, 2, 0, 0, 2],
            "completed": [True, False, False, True, False, False, True],
            "department": [f"Dept {i % 4}" for i in range(7)],
            "required": [False, True, False, True, False, True, True],
            "sessions_excused": [0, 0, 0, 0, 0, 2, 0],
            "status": [
                "completed",
                "not_completed",
                "not_completed",
                "completed",
                "not_completed",
                "excused",
                "completed",
            ],
            "missing": ["", ";".join(i.id for i in base.instances), "", "", "", "", ""],
        }
    )
    hints = pd.DataFrame(
        {
            "meeting_id": [base.instances[0].id],
            "person_key": [CALLER],
            "phone": ["+49 30 5550199"],
            "hint_name": ["Person 00001"],
            "hint_email": ["p00001@example.com"],
            "hint_meeting_id": [base.instances[1].id],
            "used_on": pd.to_datetime([base.instances[1].start], utc=True),
        }
    )
    result = AuditResult(
        att, base.result.devices, base.result.breakouts, courses, caller_hints=hints
    )
    return dataclasses.replace(base, result=result)


def _pdf_text(path: Path) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(path).pages)


def _sheet(wb: Any, name: str) -> list[dict[str, Any]]:
    rows = list(wb[name].iter_rows(values_only=True))
    return [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]


def test_rates_count_the_required_population_only_rounded_down() -> None:
    summary = audit_input().summary
    (course,) = summary.courses
    assert (course.people, course.excused, course.completed, course.others) == (4, 1, 2, 3)
    assert course.rate.long == "2 of 3 = 66.6 %"
    assert [m.rate.text for m in summary.meetings] == ["66.6 %", "66.6 %"]
    assert [(m.people, m.excused, m.others) for m in summary.meetings] == [(4, 1, 4), (4, 1, 3)]
    assert Rate(7996, 10000).text == "79.9 %" and Rate(0, 0).text == "n/a"


def test_pdf_workbook_and_email_show_the_same_rates_and_criteria(tmp_path: Path) -> None:
    inp = audit_input()
    text = _pdf_text(render_pdf(inp, tmp_path / "r.pdf"))
    wb = load_workbook(render_xlsx(inp, tmp_path / "r.xlsx"))
    (course,) = _sheet(wb, "Course rates")
    assert course["Rate (rounded down)"] == "2 of 3 = 66.6 %"
    assert course["Completion"] == pytest.approx(0.666)  # stored rounded down
    assert "2 of 3 = 66.6 %" in text and "66.7" not in text
    cell = wb["Course rates"].cell(row=2, column=9)
    assert cell.number_format == "0.0%" and f"{cell.value:.1%}" == "66.6%"
    meetings = [
        r for r in wb["Summary"].iter_rows(values_only=True) if r[-1] and "pass mark" in str(r[-1])
    ]
    assert [r[-2] for r in meetings] == ["2 of 3 = 66.6 %"] * 2
    # The criteria beside every rate: pass mark, graces, sessions, population, overrides.
    for needle in (
        "pass mark 80 % of the meeting attended",
        "late grace 0:05:00",
        "roster sample.csv",
    ):
        assert needle in course["Criteria"]
    for needle in (
        "Pass mark",
        "80 % of the meeting attended",
        "Early-leave grace",
        "Overrides applied",
        "roster sample.csv",
    ):
        assert needle in text
    context = email_context(inp, [])
    _, body, html = EmailTemplates().render(context)
    assert "2 of 3 = 66.6 %" in body and "2 of 3 = 66.6 %" in html
    assert "roster sample.csv" in body


def test_non_compliance_first_with_each_missing_session_and_why(tmp_path: Path) -> None:
    inp = audit_input()
    (person,) = inp.summary.noncompliance
    assert person.person.key == "p00001@example.com"
    whys = [m.why for m in person.missing]
    # 50 % attended against an 80 % pass mark of one hour: 48 minutes needed.
    assert whys == ["partial: attended 0:30:00 of 0:48:00 needed, 0:18:00 short", "absent"]
    text = _pdf_text(render_pdf(inp, tmp_path / "r.pdf"))
    assert text.index("Non-compliance (1)") < text.index("Security awareness 1\n")
    assert "0:18:00 short" in text
    wb = load_workbook(render_xlsx(inp, tmp_path / "r.xlsx"))
    assert wb.sheetnames[:2] == ["Summary", "Non-compliance"]
    rows = _sheet(wb, "Non-compliance")
    assert [r["Why"] for r in rows] == whys
    body = EmailTemplates().render(email_context(inp, []))[1]
    assert "0:18:00 short" in body


def test_each_override_appears_with_its_reviewer(tmp_path: Path) -> None:
    inp = audit_input()
    summary = inp.summary
    assert len(summary.overrides) == 2 and summary.overrides_applied == 1
    text = _pdf_text(render_pdf(inp, tmp_path / "r.pdf"))
    assert REASON in text and REVIEWER in text
    wb = load_workbook(render_xlsx(inp, tmp_path / "r.xlsx"))
    rows = _sheet(wb, "Overrides")
    assert {(r["Decision"], r["Reason"], r["Reviewer"], r["Status now"]) for r in rows} == {
        ("excused", REASON, REVIEWER, "excused")
    }
    att = _sheet(wb, "Attendance")
    assert sum(r["Override reviewer"] == REVIEWER for r in att) == 2
    body = EmailTemplates().render(email_context(inp, []))[1]
    assert f'"{REASON}", by {REVIEWER} on 2026-11-03' in body


def test_callers_hints_others_apart_and_seen_as(tmp_path: Path) -> None:
    inp = audit_input()
    (caller,) = inp.summary.callers
    assert caller.hints == (
        "possibly Person 00001 (p00001@example.com), who used this number on "
        f"{(inp.instances[1].start + timedelta(hours=2)).date().isoformat()}",
    )
    whys = {o.why for o in inp.summary.others}
    assert whys == {
        "host, not on the roster",
        "never admitted (lobby only)",
        "not on the roster",
        "caller matching no one",
    }
    text = _pdf_text(render_pdf(inp, tmp_path / "r.pdf"))
    assert "possibly Person 00001" in text
    assert "Other participants (4)" in text
    assert "seen as +49 89 5550002" in text
    wb = load_workbook(render_xlsx(inp, tmp_path / "r.xlsx"))
    assert len(_sheet(wb, "Other participants")) == 7
    assert "possibly Person 00001" in _sheet(wb, "Unidentified callers")[0]["Hints (never merged)"]
    body = EmailTemplates().render(email_context(inp, []))[1]
    assert "possibly Person 00001" in body


def test_departments_broken_down_when_the_roster_has_them(tmp_path: Path) -> None:
    summary = audit_input().summary
    by_dept = {d.department: (d.people, d.excused, d.completed) for d in summary.departments}
    assert by_dept == {"Dept 1": (2, 1, 0), "Dept 3": (1, 0, 1), "Dept 2": (1, 0, 1)}
    wb = load_workbook(render_xlsx(audit_input(), tmp_path / "r.xlsx"))
    assert {r["Department"]: r["Rate (rounded down)"] for r in _sheet(wb, "Departments")} == {
        "Dept 1": "0 of 1 = 0.0 %",
        "Dept 2": "1 of 1 = 100.0 %",
        "Dept 3": "1 of 1 = 100.0 %",
    }
