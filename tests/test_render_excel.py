"""XLSX report: cells, types and number formats read back with openpyxl."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from openpyxl import load_workbook

from reporting.render import render_xlsx
from reporting.render.sample import sample_input

HOSTILE = ["=1+2", "+SUM(A1)", "-3", "@x", "\tTab", "Ctrl\x01\x07char", "<b>bold</b>"]


def test_sheets_types_and_formats(tmp_path: Path) -> None:
    wb = load_workbook(render_xlsx(sample_input(), tmp_path / "r.xlsx"))
    assert wb.sheetnames == [
        "Summary",
        "Attendance",
        "Devices",
        "Breakouts",
        "Courses",
        "Data quality",
    ]
    ws = wb["Attendance"]
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref.startswith("A1:")
    assert not ws.merged_cells.ranges
    header = [c.value for c in ws[1]]
    row = dict(zip(header, ws[2], strict=True))
    # Stored as a number of days; openpyxl reads duration-formatted numbers as timedelta.
    assert row["Attended"].value == timedelta(seconds=3300)
    assert row["Attended"].number_format == "[h]:mm:ss"
    assert row["First join"].value == datetime(2026, 10, 5, 9, 0, 30)  # Berlin, naive
    assert row["First join"].number_format == "yyyy-mm-dd hh:mm:ss"
    assert row["Host"].value is True
    assert row["Share of meeting"].number_format == "0.0%"
    dq = [[c.value for c in r] for r in wb["Data quality"].iter_rows(min_row=2)]
    assert any(r[1] == "LATE_JOIN" and "first join" in r[4] for r in dq)
    assert any(r[0] == "fetch failure" for r in dq) and any(r[0] == "page problem" for r in dq)


def test_hostile_strings_stay_text(tmp_path: Path) -> None:
    wb = load_workbook(render_xlsx(sample_input(meetings=1, names=HOSTILE), tmp_path / "h.xlsx"))
    ws = wb["Attendance"]
    col = [c.value for c in ws[1]].index("Name")
    cells = [r[col] for r in ws.iter_rows(min_row=2)]
    assert [c.data_type for c in cells] == ["s"] * len(HOSTILE)
    assert [c.value for c in cells][:5] == HOSTILE[:5]
    assert cells[5].value == "Ctrlchar"


def test_non_compliance_has_no_devices_sheet(tmp_path: Path) -> None:
    inp = sample_input(audience="summary", phone="•••••••0199")
    wb = load_workbook(render_xlsx(inp, tmp_path / "s.xlsx"))
    assert "Devices" not in wb.sheetnames
    for ws in wb.worksheets:
        for row in ws.iter_rows(values_only=True):
            assert not any(isinstance(v, str) and "555" in v for v in row)
